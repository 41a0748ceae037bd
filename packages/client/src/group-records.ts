/**
 * The store records of the groups' state, in pieces (docs/CLIENT.md, "Persistence"; the crypto's
 * `takeParts`): the head at `group/<channelId>` (as the whole state was before: a store written by
 * an older client is read, and rewritten in pieces at the group's next commit), one record per
 * retained epoch (kept for late messages) at `ge/<channelId>/<key id hex>` and, owner only, one
 * record per member at `gm/<channelId>/<leaf as 8 hex digits>`. A commit writes the head when it
 * changed and the records that changed: an admission writes one head, the epoch it retired and the
 * joiners' records, whatever the size of the group. Every record is sealed by the vault.
 *
 * Rosters are not stored here: the groups refer to them by key id (`heldEpochs()`), and loading asks
 * the roster book for them.
 *
 * @module
 */
import { hasErrorName } from "@orgchat/base";
import { type CryptoProvider, MemberGroup, OwnerGroup, type Roster } from "@orgchat/crypto";
import { readEntries, type Store, type StoreOp } from "@orgchat/store";
import { StoreCorruptedError } from "./errors.js";
import type { Vault } from "./vault.js";

/** Key of a group's head. */
export const groupHeadKey = (channelId: string): string => `group/${channelId}`;
/** Prefix of the member records of the owner's group `channelId`. */
export const groupMemberPrefix = (channelId: string): string => `gm/${channelId}/`;
/** Key of the owner's record of the member at `leaf` in group `channelId`. */
export const groupMemberKey = (channelId: string, leaf: number): string =>
  `${groupMemberPrefix(channelId)}${leaf.toString(16).padStart(8, "0")}`;

/** Prefix of the retained epochs' records of group `channelId`. */
export const groupEpochPrefix = (channelId: string): string => `ge/${channelId}/`;
/** Key of the record of the retained epoch `keyIdHex` of group `channelId`. */
export const groupEpochKey = (channelId: string, keyIdHex: string): string =>
  `${groupEpochPrefix(channelId)}${keyIdHex}`;

const leafPattern = /^[0-9a-f]{8}$/;
const keyIdPattern = /^[0-9a-f]{16}$/;

/** What the store holds for one group. */
interface StoredGroup {
  readonly group: OwnerGroup | MemberGroup;
  readonly leaves: Set<number>;
  readonly epochs: Set<string>;
  rewrite: boolean;
}

/**
 * Which member records the store holds for each group of one organization, and for which group
 * object: a group replaced by another (a resync, a channel restricted again) or deleted takes its
 * records with it. Filled by {@link loadGroupRecords}, kept up to date by {@link groupRecordOps};
 * one per organization, beside its groups.
 */
export class StoredGroupRecords {
  readonly #byChannel = new Map<string, StoredGroup>();

  /** Records what {@link loadGroupRecords} found. */
  loaded(
    channelId: string,
    group: OwnerGroup | MemberGroup,
    leaves: Iterable<number>,
    epochs: Iterable<string>,
  ): void {
    this.#byChannel.set(channelId, {
      group,
      leaves: new Set(leaves),
      epochs: new Set(epochs),
      rewrite: false,
    });
  }

  /**
   * After a commit that failed: the ops made for it were not applied, so the next ops of these
   * groups (all when `channelIds` is undefined) rewrite them whole.
   *
   * @param channelIds - the groups of the failed commit
   */
  forget(channelIds?: Iterable<string>): void {
    for (const channelId of channelIds ?? this.#byChannel.keys()) {
      const entry = this.#byChannel.get(channelId);
      if (entry !== undefined) entry.rewrite = true;
    }
  }

  /** The groups whose next ops must rewrite them whole (after a failed commit): save them at the next commit. */
  rewriting(): string[] {
    const out: string[] = [];
    for (const [channelId, entry] of this.#byChannel) if (entry.rewrite) out.push(channelId);
    return out;
  }

  /** The entry of `channelId` (internal to this module). */
  entry(channelId: string): StoredGroup | undefined {
    return this.#byChannel.get(channelId);
  }

  /** Sets or drops the entry of `channelId` (internal to this module). */
  set(channelId: string, entry: StoredGroup | undefined): void {
    if (entry === undefined) this.#byChannel.delete(channelId);
    else this.#byChannel.set(channelId, entry);
  }
}

/**
 * The store ops that save group `channelId` as it is now: its head when it changed, its changed
 * member records, and — for a group deleted or replaced by another object — the removal of what
 * the store held for it.
 *
 * @param space - the organization's record space
 * @param channelId - the group ("" for the organization's)
 * @param group - the group now, or undefined when it was deleted
 * @param vault - seals the records
 * @param stored - what the store holds (updated as if the ops were applied; call
 *   `stored.forget` when the commit fails)
 * @returns the ops, and whether the batch must be durable (`BatchOptions.durable`)
 */
export function groupRecordOps(
  space: string,
  channelId: string,
  group: OwnerGroup | MemberGroup | undefined,
  vault: Vault,
  stored: StoredGroupRecords,
): { ops: StoreOp[]; durable: boolean } {
  const ops: StoreOp[] = [];
  const entry = stored.entry(channelId);
  const headKey = groupHeadKey(channelId);
  const memberKey = (leaf: number) => groupMemberKey(channelId, leaf);
  const epochKey = (keyIdHex: string) => groupEpochKey(channelId, keyIdHex);
  if (group === undefined) {
    ops.push({ type: "delete", space, key: headKey });
    recordOps(ops, space, vault, memberKey, entry?.leaves, []);
    recordOps(ops, space, vault, epochKey, entry?.epochs, []);
    stored.set(channelId, undefined);
    return { ops, durable: false };
  }
  // A group object the store does not hold yet (new, replaced, or after a failed commit): whole.
  const whole = entry === undefined || entry.group !== group || entry.rewrite;
  const parts = group.takeParts(whole ? { all: true } : undefined);
  if (parts.headChanged) {
    ops.push({ type: "put", space, key: headKey, value: vault.seal(space, headKey, parts.head) });
  }
  const leaves = recordOps(
    ops,
    space,
    vault,
    memberKey,
    whole ? entry?.leaves : undefined,
    parts.members,
  );
  const epochs = recordOps(
    ops,
    space,
    vault,
    epochKey,
    whole ? entry?.epochs : undefined,
    parts.epochs,
  );
  if (!whole) {
    for (const leaf of leaves.added) entry?.leaves.add(leaf);
    for (const leaf of leaves.deleted) entry?.leaves.delete(leaf);
    for (const keyIdHex of epochs.added) entry?.epochs.add(keyIdHex);
    for (const keyIdHex of epochs.deleted) entry?.epochs.delete(keyIdHex);
  }
  stored.set(channelId, {
    group,
    leaves: whole ? new Set(leaves.added) : (entry?.leaves as Set<number>),
    epochs: whole ? new Set(epochs.added) : (entry?.epochs as Set<string>),
    rewrite: false,
  });
  // A rewrite after a failed commit may carry what that commit had to make durable (a moved send
  // reservation, which the failed `takeParts` already reported): durable too.
  return { ops, durable: parts.durable || entry?.rewrite === true };
}

/**
 * Puts or deletes the records of `changes` (`undefined` = deleted), and deletes those of `stale`
 * that `changes` does not put (what a replaced group object, or a failed commit, left behind).
 *
 * @returns the ids put and deleted
 */
function recordOps<Id extends number | string>(
  ops: StoreOp[],
  space: string,
  vault: Vault,
  keyOf: (id: Id) => string,
  stale: Iterable<Id> | undefined,
  changes: ReadonlyArray<readonly [Id, Uint8Array | undefined]>,
): { added: Id[]; deleted: Id[] } {
  const added: Id[] = [];
  const deleted: Id[] = [];
  for (const [id, record] of changes) {
    const key = keyOf(id);
    if (record === undefined) {
      deleted.push(id);
      ops.push({ type: "delete", space, key });
    } else {
      added.push(id);
      ops.push({ type: "put", space, key, value: vault.seal(space, key, record) });
    }
  }
  const kept = new Set<Id>(added);
  for (const id of stale ?? []) {
    if (!kept.has(id)) ops.push({ type: "delete", space, key: keyOf(id) });
  }
  return { added, deleted };
}

/** What {@link loadGroupRecords} needs. */
export interface LoadGroupRecordsInit {
  readonly store: Store;
  readonly provider: CryptoProvider;
  readonly vault: Vault;
  /** The organization's record space. */
  readonly space: string;
  /** The rosters the groups refer to, by key id (lower-case hex): the roster book's. */
  readonly roster: (keyIdHex: string) => Roster | undefined;
  /** Filled with what the store holds. */
  readonly stored: StoredGroupRecords;
  /**
   * Awaited after every {@link restoreSliceRecords} records opened and before each group's
   * restore, when given (a restore in slices: `owner-groups-later.ts`).
   */
  readonly pause?: () => Promise<void>;
}

/** Records opened between two pauses of a restore in slices (~3 ms at 10,000 members, cold). */
export const restoreSliceRecords = 2048;

/**
 * Restores every group of one organization from its records (or from the whole state an older
 * client stored at `group/<channelId>`).
 *
 * @param init - the store, provider, vault, space, rosters and the index to fill
 * @returns the groups by channel id (`OwnerGroup`s for `role` "owner", else `MemberGroup`s)
 * @throws {StoreCorruptedError} naming the record that cannot be read or does not hang together
 *   (a roster missing from the book, a member record missing or out of place)
 */
export async function loadGroupRecords(
  init: LoadGroupRecordsInit & { readonly role: "owner" },
): Promise<Map<string, OwnerGroup>>;
export async function loadGroupRecords(
  init: LoadGroupRecordsInit & { readonly role: "member" },
): Promise<Map<string, MemberGroup>>;
export async function loadGroupRecords(
  init: LoadGroupRecordsInit & { readonly role: "owner" | "member" },
): Promise<Map<string, OwnerGroup | MemberGroup>> {
  const { store, provider, vault, space, roster, stored, pause } = init;
  const groups = new Map<string, OwnerGroup | MemberGroup>();
  let opened = 0;
  // `vault.read`: every record read here is decoded and let go (what a group keeps, it copies).
  const open = (key: string, bytes: Uint8Array): Uint8Array => {
    try {
      return vault.read(space, key, bytes);
    } catch (cause) {
      throw new StoreCorruptedError(`${space}/${key}`, { cause });
    }
  };
  for (const [key, sealed] of await readEntries(store, space, { prefix: "group/" })) {
    const channelId = key.slice("group/".length);
    const head = open(key, sealed);
    const members: Array<readonly [number, Uint8Array]> = [];
    const epochs: Array<readonly [string, Uint8Array]> = [];
    const epochPrefix = groupEpochPrefix(channelId);
    for (const [epochKey, bytes] of await readEntries(store, space, { prefix: epochPrefix })) {
      const suffix = epochKey.slice(epochPrefix.length);
      if (!keyIdPattern.test(suffix)) throw new StoreCorruptedError(`${space}/${epochKey}`);
      epochs.push([suffix, open(epochKey, bytes)]);
    }
    if (init.role === "owner") {
      const prefix = groupMemberPrefix(channelId);
      for (const [memberKey, bytes] of await readEntries(store, space, { prefix })) {
        const suffix = memberKey.slice(prefix.length);
        if (!leafPattern.test(suffix)) throw new StoreCorruptedError(`${space}/${memberKey}`);
        members.push([Number.parseInt(suffix, 16), open(memberKey, bytes)]);
        if (pause !== undefined && ++opened % restoreSliceRecords === 0) await pause();
      }
    }
    if (pause !== undefined) await pause();
    try {
      const group =
        init.role === "owner"
          ? // Retained epochs' rosters are checked at first use (a late message), not here: up to
            // 64 of them at ~1.7 ms each for 10,000 members (docs/CLIENT.md, "Epoch rosters").
            OwnerGroup.restore(provider, {
              head,
              members,
              epochs,
              roster,
              retainedRosterChecks: "first-use",
            })
          : MemberGroup.restore(provider, { head, epochs, roster });
      groups.set(channelId, group);
      stored.loaded(
        channelId,
        group,
        members.map(([leaf]) => leaf),
        epochs.map(([keyIdHex]) => keyIdHex),
      );
    } catch (cause) {
      if (hasErrorName(cause, StoreCorruptedError.errorName)) throw cause;
      throw new StoreCorruptedError(`${space}/${key}`, { cause });
    }
  }
  return groups;
}
