/**
 * A restored owner carries its organization on (docs/RESTORE.md, "Owner continuity: built"). The
 * store came from a backup: everything after it (members accepted or removed, KeyUpdates, pairwise
 * steps, clocks used) is unknown to the copy, and every chain it holds may have been used since by
 * the device it was copied from. So nothing the copy held is sent on again, and Store decides:
 *
 * 1. Store is read (`owner-history.ts`): the newest owner-signed description and the deltas after
 *    it, at or above the backup's clock (else {@link OwnerHistoryGapError}: nothing sent, the
 *    organization stays inactive), every group's highest epoch and that epoch's roster.
 * 2. The state is rebased on that description, and the base saved as the state snapshot (an
 *    owner's log is otherwise its own events: a restart would lose the base).
 * 3. As `resumeOwner` after a fork: a new device id, every pairwise session dropped, the signed
 *    prekey retired, an event at a clock above everything seen, a full description with the bundle.
 * 4. Every group starts again (`OwnerGroup.regenesis`) one epoch above the highest seen, with the
 *    newest roster minus the members the state no longer wants (a member accepted after the
 *    backup is in it with the keys its add step listed). Its roster is announced as a re-key of
 *    that epoch; each member, seeing the new device in the owner's bundle, makes a new session and
 *    asks for a resync, answered with a Welcome of the new epoch and a fresh leaf secret.
 *
 * @module
 */
import { toHex } from "@orgchat/base";
import { OwnerGroup } from "@orgchat/crypto";
import { encodeSnapshot } from "@orgchat/state";
import type { ClientCore } from "./core.js";
import { publishDescription } from "./description-publisher.js";
import { encodeJson } from "./encoding.js";
import { NotOwnerError } from "./errors.js";
import { newTxn, type OwnerOrg } from "./org.js";
import { orgSpace } from "./org-records.js";
import { wantedGroups } from "./owner-controller.js";
import { readOwnerHistory, regenesisRoster } from "./owner-history.js";
import { eventsLog } from "./persistence.js";
import { restoreMarkerKey } from "./restore-marker.js";
import { snapshotKey } from "./state-snapshots.js";

/**
 * The record that says a restored store's owned organization was resumed on this device: a start
 * on a store still marked restored (another owned organization inactive) loads it as active.
 */
export const ownerResumedKey = "owner-resumed";

/** What {@link resumeRestoredOwner} reports as it goes (the CLI prints it). */
export type OwnerRestoreStep =
  | { readonly step: "read"; readonly clock: bigint; readonly groups: number }
  | { readonly step: "regenesis"; readonly channelId: string; readonly epoch: bigint };

/**
 * Resumes an owned organization of a restored store (see the module).
 * @param onStep - told what was read and each group's new epoch
 * @returns the new device id (hex) and the clock this device now writes above
 * @throws {@link OwnerHistoryGapError} when Store cannot show everything after the backup (nothing sent)
 * @throws {NotOwnerError} / {EventRejectedError}
 */
export async function resumeRestoredOwner(
  c: ClientCore,
  organizationId: string,
  onStep?: (step: OwnerRestoreStep) => void,
): Promise<{ org: OwnerOrg; device: string; clock: bigint }> {
  const hex = organizationId.toLowerCase();
  const loaded = await c.persistence.load(hex);
  if (loaded.role !== "owner") throw new NotOwnerError(hex);
  const org = loaded;
  const owner = org.owner;
  await c.ownerDevices.load(org);
  const history = await readOwnerHistory(c, org);
  onStep?.({ step: "read", clock: history.described.state.clock, groups: history.rosters.size });
  const txn = newTxn(org);
  const space = orgSpace(org.hex);
  // The state from Store's newest description; saved as the snapshot the next start folds from.
  const base = history.described.state;
  const rebased = org.log.rebase(base);
  txn.ops.push(
    { type: "put", space, key: snapshotKey, value: encodeSnapshot(base) },
    { type: "deleteEntries", log: eventsLog(org.hex), ids: rebased.covered },
    { type: "put", space, key: ownerResumedKey, value: encodeJson({ v: 1, at: c.now() }) },
  );
  // The removals the copy still had to commit: the re-genesis roster follows the state already.
  owner.pendingRemovals.clear();
  // Never sent on again: the original device went on with the same sessions and prekey.
  const clock = await c.ownerDevices.takeOver(org, txn, history.clock);
  c.orgs.set(org.hex, org);
  c.inactive.delete(org.hex);
  const state = org.log.state;
  const wanted = state.encrypted ? wantedGroups(state) : new Set<string>();
  for (const channelId of new Set([...owner.groups.keys(), ...wanted])) {
    const newest = history.rosters.get(channelId);
    const highest = history.highest.get(channelId);
    if (!wanted.has(channelId) || newest === undefined || highest === undefined) {
      owner.groups.delete(channelId);
      owner.pendingAdds.delete(channelId);
      txn.groups.add(channelId);
      continue;
    }
    const group = OwnerGroup.regenesis({
      provider: c.p.provider,
      group: { organizationId: org.id, channelId },
      ownLeaf: { identityKey: org.id, signingKey: org.keys.signingKey, prekey: org.keys.prekey },
      signingSecretKey: org.keys.signingSecret,
      now: c.p.now(),
      epoch: highest + 1n,
      roster: regenesisRoster(state, channelId, newest.roster, org.id),
    });
    await c.epochs.regenesis(org, txn, group, newest);
    onStep?.({ step: "regenesis", channelId, epoch: group.epoch });
  }
  await publishDescription(org, txn, {
    now: c.p.now(),
    maxFullAgeMs: c.p.config.republishIntervalMs,
    full: true,
    ownerDevice: c.ownerDevices.idOf(org),
  });
  await c.persistence.commit(org, txn);
  // The store's mark stays while another owned organization is inactive (its start needs it).
  if (c.inactive.size === 0) {
    await c.p.store.delete(restoreMarkerKey.space, restoreMarkerKey.key);
  }
  return { org, device: toHex(c.ownerDevices.idOf(org)), clock };
}
