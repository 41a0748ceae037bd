/**
 * An owner's groups restored after the start (docs/CLIENT.md, "Owner groups after the first view").
 * At 10,000 members an owner group is 10,200 sealed member records: opening and decoding them was
 * a quarter of a cold start, and nothing before the first view needs them. So a start reads each
 * group's head only (its epoch, for the view: `ownerHeadEpoch`) and queues the restore as the first
 * task of the client's serial queue (`Runtime`): every operation and received message is a task
 * queued after it, so none runs before the groups are back, whatever it touches. The restore runs
 * in slices (a macrotask turn between them), so the app's view and input are not held for its
 * whole length.
 *
 * A restore that fails (a record corrupted since the last run) is `StoreCorruptedError` as an
 * `error` event for the organization, which then leaves the client's active organizations: no
 * operation acts on an organization without its groups.
 *
 * @module
 */
import { ownerHeadEpoch } from "@orgchat/crypto";
import { readEntries } from "@orgchat/store";
import type { ClientCore } from "./core.js";
import { StoreCorruptedError } from "./errors.js";
import type { LoadGroupRecordsInit } from "./group-records.js";
import { loadGroupRecords } from "./group-records.js";
import type { Org, OwnerOrg } from "./org.js";

/** A restore waiting for its task: the groups' epochs (for the view) and the restore itself. */
interface PendingRestore {
  readonly epochs: ReadonlyMap<string, bigint>;
  readonly restore: (pause: () => Promise<void>) => Promise<void>;
}

/** The restores not done yet, by organization (until the restore ends). */
const pending = new WeakMap<Org, PendingRestore>();

/**
 * The epoch of `channelId`'s group of `org` while its restore waits (`undefined` once restored:
 * read the group then, or when there is no such group).
 *
 * @param org - the organization
 * @param channelId - the group ("" = the organization's)
 * @returns the epoch its head names
 */
export function pendingGroupEpoch(org: Org, channelId: string): bigint | undefined {
  return pending.get(org)?.epochs.get(channelId);
}

/** One macrotask turn: what the app queued meanwhile (a view, input) runs before the next slice. */
const nextTurn = (): Promise<void> => new Promise((resolve) => globalThis.setTimeout(resolve, 0));

/**
 * Reads the heads of `org`'s groups; when each names its epoch, the restore waits for
 * {@link queueOwnerGroups}, else (a group stored whole by an older client) it runs now.
 *
 * @param org - the owner's organization, loaded but for its groups
 * @param init - what `loadGroupRecords` needs
 * @throws {StoreCorruptedError} naming a head that does not read
 */
export async function readOwnerGroupHeads(
  org: OwnerOrg,
  init: LoadGroupRecordsInit,
): Promise<void> {
  const { store, vault, space } = init;
  const epochs = new Map<string, bigint>();
  let whole = false;
  for (const [key, sealed] of await readEntries(store, space, { prefix: "group/" })) {
    let epoch: bigint | undefined;
    try {
      epoch = ownerHeadEpoch(vault.read(space, key, sealed));
    } catch (cause) {
      throw new StoreCorruptedError(`${space}/${key}`, { cause });
    }
    if (epoch === undefined) whole = true;
    else epochs.set(key.slice("group/".length), epoch);
  }
  const restore = async (pause?: () => Promise<void>) => {
    const groups = await loadGroupRecords({
      ...init,
      role: "owner",
      ...(pause === undefined ? {} : { pause }),
    });
    for (const [channelId, group] of groups) org.owner.groups.set(channelId, group);
  };
  if (whole || epochs.size === 0) await restore();
  else pending.set(org, { epochs, restore });
}

/**
 * Queues the restore {@link readOwnerGroupHeads} left waiting, if any, as a task of the client's
 * queue: call it once `org` is among the client's organizations, before anything else is queued
 * for it.
 *
 * @param core - the client's core
 * @param org - the organization
 */
export function queueOwnerGroups(core: ClientCore, org: Org): void {
  const waiting = pending.get(org);
  if (waiting === undefined) return;
  core.runtime.background(org.hex, async () => {
    try {
      await nextTurn();
      await waiting.restore(nextTurn);
    } catch (error) {
      if (core.orgs.get(org.hex) === org) core.orgs.delete(org.hex);
      throw error;
    } finally {
      pending.delete(org);
    }
  });
}
