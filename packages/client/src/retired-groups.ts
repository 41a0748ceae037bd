/**
 * Member side, groups retired by a resync Welcome (`KeySync`): the group a resync Welcome replaces
 * keeps its earlier epochs for late messages until the retention window ends. Stored sealed
 * (`retired/<key id>/<group>`), bounded per group.
 *
 * @module
 */
import { toHex } from "@orgchat/base";
import type { ClientCore } from "./core.js";
import { type MemberOrg, newTxn, type RetiredGroup, type Txn } from "./org.js";
import { orgSpace } from "./persistence.js";
import { pruneRosters } from "./roster-records.js";

/**
 * How long a group replaced by a resync Welcome is kept for late messages: the retention window of
 * earlier epochs in `@orgchat/crypto` (`epochRetention.windowMs`).
 */
const retiredGroupWindowMs = 24 * 60 * 60 * 1000;

/** Groups replaced by resync Welcomes kept per group (see `retiredGroupWindowMs`). */
const maxRetiredGroups = 4;

/** Keeps a replaced group for the late messages of its epochs (sealed, like groups), in `txn`. */
export function retireGroup(c: ClientCore, org: MemberOrg, txn: Txn, retired: RetiredGroup): void {
  const retiredGroups = org.member.retiredGroups;
  const suffix = `${toHex(retired.group.keyId)}/${retired.channelId}`;
  retiredGroups.set(suffix, retired);
  persistRetired(c, org, txn, suffix);
  // Bounded: the oldest of a group go first (each holds a few epochs at most).
  const ofGroup = [...retiredGroups].filter(([, r]) => r.channelId === retired.channelId);
  for (const [old] of ofGroup.slice(0, Math.max(0, ofGroup.length - maxRetiredGroups))) {
    retiredGroups.delete(old);
    persistRetired(c, org, txn, old);
  }
}

/** Writes the record of retired group `suffix` in `txn` (deletes it when the group is gone). */
export function persistRetired(c: ClientCore, org: MemberOrg, txn: Txn, suffix: string): void {
  const retired = org.member.retiredGroups.get(suffix);
  const space = orgSpace(org.hex);
  const key = `retired/${suffix}`;
  if (retired === undefined) {
    txn.ops.push({ type: "delete", space, key });
    return;
  }
  const value = c.p.vault.sealJson(space, key, {
    channelId: retired.channelId,
    retiredAt: retired.retiredAt,
    group: retired.group.serialize(),
  });
  txn.ops.push({ type: "put", space, key, value });
}

/** Drops replaced groups whose retention window is over, and the rosters past it. */
export function expireRetired(c: ClientCore, org: MemberOrg): void {
  const now = c.p.now();
  const expired = [...org.member.retiredGroups].filter(
    ([, retired]) => now - retired.retiredAt >= retiredGroupWindowMs,
  );
  const txn = newTxn(org);
  for (const [suffix] of expired) {
    org.member.retiredGroups.delete(suffix);
    persistRetired(c, org, txn, suffix);
  }
  // Epochs leave the retention window with time: their rosters go too.
  pruneRosters(org, txn, orgSpace(org.hex), now);
  if (txn.ops.length === 0) return;
  if (expired.length > 0) txn.erasesKeys = true;
  c.runtime.background(org.hex, () => c.persistence.commit(org, txn));
}
