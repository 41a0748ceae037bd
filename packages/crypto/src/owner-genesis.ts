/**
 * A group's first epoch (docs/PROTOCOL.md, "Epochs and the key schedule"): the owner alone, at
 * epoch 0, with a fresh random epoch secret. What `OwnerGroup.create` starts from. And a restored
 * owner's new start of a group (docs/RESTORE.md, "Owner continuity"): at a given epoch above every
 * one seen, with the roster it takes over, a fresh epoch secret and a fresh leaf secret per member.
 * What `OwnerGroup.regenesis` starts from.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */

import { toHex } from "@orgchat/base";
import { wireLimits } from "@orgchat/wire";
import { constantTimeEqual } from "./constant-time.js";
import { enterEpoch } from "./epoch-entry.js";
import { EpochWindow } from "./epoch-window.js";
import { checkOwnerGroupInit, checkPrekey, checkRosterLeaf } from "./group-checks.js";
import type { MemberRecord, OwnerGroupState } from "./group-state-encoding.js";
import { type GroupId, type Roster, type RosterLeaf, rosterHash } from "./key-schedule.js";
import type { OwnerGroupInit, OwnerRegenesisInit } from "./owner-group-types.js";
import type { WelcomeHistoryEntry } from "./welcome.js";

/**
 * The owner's state at genesis (see `OwnerGroup.create` for the checks and what they throw).
 *
 * @param init - the provider, the group, the owner's leaf and signing secret, the time, options
 * @returns the state of a group whose only member is the owner (leaf 0)
 */
export function genesisState(init: OwnerGroupInit): OwnerGroupState {
  return startState(init, 0n, [init.ownLeaf], new Map());
}

/** The largest epoch number (`uint64` on the wire). */
const maxEpoch = (1n << 64n) - 1n;

/**
 * The owner's state at a re-genesis (see `OwnerGroup.regenesis` for the checks and what they throw):
 * epoch `init.epoch`, the roster taken over with leaf 0 the owner's, a fresh random epoch secret,
 * and a fresh random leaf secret for every other leaf (each member gets it in its resync Welcome).
 *
 * @param init - what {@link genesisState} takes, the first epoch and the roster
 * @returns the state of the group at `init.epoch`
 */
export function regenesisState(init: OwnerRegenesisInit): OwnerGroupState {
  const { provider, epoch, roster } = init;
  if (typeof epoch !== "bigint" || epoch < 1n || epoch > maxEpoch) {
    throw new RangeError(`epoch: must be a bigint 1..2^64-1, got ${String(epoch)}`);
  }
  if (!Array.isArray(roster) || roster.length < 1 || roster.length > wireLimits.maxRosterLeaves) {
    throw new RangeError(`roster: must hold 1..${wireLimits.maxRosterLeaves} leaves`);
  }
  checkRosterLeaf(init.ownLeaf, "ownLeaf");
  const first = roster[0];
  if (first === undefined || !constantTimeEqual(first.identityKey, init.ownLeaf.identityKey)) {
    throw new RangeError("roster[0]: must be the owner's leaf (ownLeaf.identityKey)");
  }
  const leaves: Array<RosterLeaf | undefined> = [init.ownLeaf];
  const members = new Map<number, MemberRecord>();
  const seen = new Set([toHex(init.ownLeaf.identityKey)]);
  const probe = provider.x25519KeyPair().secretKey;
  try {
    for (let leaf = 1; leaf < roster.length; leaf += 1) {
      const entry = roster[leaf];
      if (entry === undefined) {
        leaves.push(undefined);
        continue;
      }
      checkRosterLeaf(entry, `roster[${leaf}]`);
      checkPrekey(provider, entry.prekey, probe);
      const identity = toHex(entry.identityKey);
      if (seen.has(identity)) throw new RangeError(`roster[${leaf}]: identity key listed twice`);
      seen.add(identity);
      const copy: RosterLeaf = {
        identityKey: entry.identityKey.slice(),
        signingKey: entry.signingKey.slice(),
        prekey: entry.prekey.slice(),
      };
      leaves.push(copy);
      members.set(leaf, {
        leafSecret: provider.randomBytes(32),
        leafEpoch: epoch,
        prekey: copy.prekey.slice(),
      });
    }
  } finally {
    probe.fill(0);
  }
  return startState(init, epoch, leaves, members);
}

function startState(
  init: OwnerGroupInit,
  epoch: bigint,
  roster: Roster,
  members: Map<number, MemberRecord>,
): OwnerGroupState {
  const { provider, group } = init;
  const historyPolicy = checkOwnerGroupInit(init);
  const groupCopy: GroupId = {
    organizationId: group.organizationId.slice(),
    channelId: group.channelId,
  };
  const epochSecret = provider.randomBytes(32);
  const kept = epochSecret.slice();
  const hash = rosterHash(provider, roster);
  const history: WelcomeHistoryEntry[] = [];
  if (historyPolicy === "shared") {
    history.push({ epoch, epochSecret: epochSecret.slice(), rosterHash: hash.slice() });
  }
  const { keys, initSecret } = enterEpoch({
    provider,
    group: groupCopy,
    epoch,
    epochSecret,
    roster,
    rosterHash: hash,
    limits: init.limits,
  });
  return {
    group: groupCopy,
    historyPolicy,
    leaf: 0,
    signingSecretKey: init.signingSecretKey.slice(),
    initSecret,
    epochSecret: kept,
    epochStartedAt: init.now,
    roster: keys.roster,
    members,
    history,
    window: new EpochWindow(keys),
  };
}
