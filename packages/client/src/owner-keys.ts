/**
 * The owner's pairwise state at scale (docs/SCALE.md, "Owner keys at scale"): the pairwise session
 * and the keys of each member live in the store (`pairwise/<member>`, `memberkeys/<member>`) and are
 * read when needed; memory holds the most recently used ones only (`OwnerSide.sessions` and
 * `.memberKeys` are that cache). The X3DH replay defence (every ephemeral key accepted with a held
 * signed prekey) is a log per signed prekey (`x3dh/<org>/<prekey id>`), appended in the commit of
 * the session it opened; the `prekeys` record holds the keys only. Nothing per member is read at
 * start, and an admission writes its own records only.
 *
 * @module
 */
import { fromHex, toHex } from "@orgchat/base";
import {
  type CryptoProvider,
  DuplicateMessageError,
  type OwnerPrekeys,
  PairwiseSession,
} from "@orgchat/crypto";
import type { Store, StoreOp } from "@orgchat/store";
import { decodeJson, encodeJson } from "./encoding.js";
import type { OwnerOrg, Txn } from "./org.js";
import type { Vault } from "./vault.js";

/** Limits of the owner's key material (docs/SCALE.md, "Owner keys at scale"). */
export const ownerKeyLimits = {
  /**
   * Pairwise sessions, and member keys, kept in memory after a commit: the most recently used.
   * A session is about 370 bytes serialized (a few KB as objects), so 512 hold ~2 MB whatever N;
   * a unit of work may load more (an add step welcomes its joiners), trimmed at its commit.
   */
  maxCachedPeers: 512,
  /**
   * X3DH ephemeral keys accepted with one signed prekey before the owner rotates it (and deletes
   * the log of the prekey before it): at most twice this many are stored (~100 B each), however
   * many handshakes anyone completes. 16,384 admissions per prekey; a newcomer holding a bundle
   * two rotations old reads the description again (`DecryptionFailedError` until then).
   */
  maxAcceptedPerPrekey: 16_384,
  /**
   * Acceptances the `prekeys` record reserves beyond the count it was written at: it is written
   * again only when they are used up (or the keys change), not at every admission (~146 B each).
   * Read back, the count is the reservation, so each restart can bring a rotation forward by at
   * most this many of `maxAcceptedPerPrekey` (0.4%), never delay it: the log stays bounded.
   */
  prekeysRecordHeadroom: 64,
} as const;

/** The log of the ephemeral keys accepted with one signed prekey (the replay defence). */
export const x3dhLog = (org: string, signedPrekeyId: number) => `x3dh/${org}/${signedPrekeyId}`;

/** What reading the owner's keys needs: the client's store, vault and provider. */
export interface OwnerKeysDeps {
  readonly store: Store;
  readonly vault: Vault;
  readonly provider: CryptoProvider;
}

/** A member's keys as the owner keeps them (from its MemberKeys message). */
export interface StoredMemberKeys {
  readonly signingKey: Uint8Array;
  readonly prekey: Uint8Array;
}

const space = (org: OwnerOrg) => `org/${org.hex}`;

/**
 * The parts of AD a stored session leaves out (`PairwiseSession.serialize({ omitKnownKeys })`,
 * 96 bytes fewer per write): `IK_M` is the member's id, `IK_O ‖ IKdh_O` the owner's own keys.
 */
function knownKeys(
  org: OwnerOrg,
  member: string,
): { initiatorIdentityKey: Uint8Array; ownerKeys: Uint8Array } {
  const ownerKeys = new Uint8Array(64);
  ownerKeys.set(org.owner.prekeys.identityKey, 0);
  ownerKeys.set(org.owner.prekeys.identityDhKey, 32);
  return { initiatorIdentityKey: fromHex(member), ownerKeys };
}

/** Moves `key` to the most recently used end of a cache (Map insertion order). */
function touch<V>(cache: Map<string, V>, key: string, value: V): V {
  cache.delete(key);
  cache.set(key, value);
  return value;
}

/**
 * A cached record: from memory (made most recently used), else `read` from the store and kept.
 * Memory wins over a read that raced with a write (it may be ahead of the store).
 */
async function cached<V>(
  cache: Map<string, V>,
  member: string,
  read: () => Promise<V | undefined>,
): Promise<V | undefined> {
  const hit = cache.get(member);
  if (hit !== undefined) return touch(cache, member, hit);
  const value = await read();
  if (value === undefined) return undefined;
  const raced = cache.get(member);
  if (raced !== undefined) return raced;
  cache.set(member, value);
  return value;
}

/**
 * The pairwise session with `member`: from memory, else read from the store (and kept in memory
 * until a later commit evicts it).
 *
 * @param p - store, vault and provider
 * @param org - an organization this client owns
 * @param member - the member's id
 * @returns the session, or undefined when the owner holds none
 * @throws {StateCorruptedError} (from the crypto package) when the stored record is corrupt
 */
export function ownerSession(
  p: OwnerKeysDeps,
  org: OwnerOrg,
  member: string,
): Promise<PairwiseSession | undefined> {
  return cached(org.owner.sessions, member, async () => {
    const key = `pairwise/${member}`;
    const bytes = await p.store.get(space(org), key);
    if (bytes === undefined) return undefined;
    return PairwiseSession.deserialize(
      p.provider,
      p.vault.open(space(org), key, bytes),
      knownKeys(org, member),
    );
  });
}

/**
 * The keys `member` sent (MemberKeys): from memory, else read from the store.
 *
 * @param p - store, vault and provider
 * @param org - an organization this client owns
 * @param member - the member's id
 * @returns the keys, or undefined when the owner holds none
 */
export function ownerMemberKeys(
  p: OwnerKeysDeps,
  org: OwnerOrg,
  member: string,
): Promise<StoredMemberKeys | undefined> {
  return cached(org.owner.memberKeys, member, async () => {
    const bytes = await p.store.get(space(org), `memberkeys/${member}`);
    return bytes === undefined ? undefined : decodeJson<StoredMemberKeys>(bytes);
  });
}

/**
 * Keeps `member`'s keys in memory and returns the op that stores them (put it in the unit of work).
 *
 * @param org - an organization this client owns
 * @param member - the member's id
 * @param keys - the keys it sent
 * @returns the `memberkeys/<member>` put
 */
export function setOwnerMemberKeys(org: OwnerOrg, member: string, keys: StoredMemberKeys): StoreOp {
  const value = { signingKey: keys.signingKey, prekey: keys.prekey };
  touch(org.owner.memberKeys, member, value);
  return { type: "put", space: space(org), key: `memberkeys/${member}`, value: encodeJson(value) };
}

/**
 * Drops `member`'s session and keys from memory and returns the ops that delete them from the store.
 *
 * @param org - an organization this client owns
 * @param member - the member's id
 * @returns the two deletes
 */
export function forgetOwnerKeys(org: OwnerOrg, member: string): StoreOp[] {
  org.owner.sessions.delete(member);
  org.owner.memberKeys.delete(member);
  return [
    { type: "delete", space: space(org), key: `pairwise/${member}` },
    { type: "delete", space: space(org), key: `memberkeys/${member}` },
  ];
}

/**
 * Of `members`, those the owner holds what an add step needs for (keys and a session), read from
 * the store when not in memory (they stay in memory for the add step that follows).
 *
 * @param p - store, vault and provider
 * @param org - an organization this client owns
 * @param members - candidates (joiners before the readiness check)
 * @returns the ready ones
 */
export async function readyToAdd(
  p: OwnerKeysDeps,
  org: OwnerOrg,
  members: Iterable<string>,
): Promise<Set<string>> {
  const ready = new Set<string>();
  for (const member of members) {
    if (ready.has(member)) continue;
    if (
      (await ownerMemberKeys(p, org, member)) !== undefined &&
      (await ownerSession(p, org, member)) !== undefined
    ) {
      ready.add(member);
    }
  }
  return ready;
}

/**
 * Refuses an X3DH ephemeral key already accepted with its signed prekey and stored in the log (the
 * prekeys object refuses those it still holds by itself).
 *
 * @param p - store, vault and provider
 * @param org - an organization this client owns
 * @param header - the X3DH header of an initial pairwise message
 * @throws {DuplicateMessageError} when the key was accepted already
 */
export async function refuseReplayedEphemeralKey(
  p: OwnerKeysDeps,
  org: OwnerOrg,
  header: { readonly signedPrekeyId: number; readonly ephemeralKey: Uint8Array },
): Promise<void> {
  const log = x3dhLog(org.hex, header.signedPrekeyId);
  if ((await p.store.getEntry(log, toHex(header.ephemeralKey))) !== undefined) {
    throw new DuplicateMessageError(
      `X3DH ephemeral key already accepted with signed prekey ${header.signedPrekeyId}`,
    );
  }
}

/**
 * Rotates the signed prekey once `limit` ephemeral keys were accepted with it (the bound of the
 * replay log): the new bundle goes out with the description, and the log of the prekey that is no
 * longer held is deleted in the same unit of work.
 *
 * @param p - store, vault and provider
 * @param org - an organization this client owns
 * @param txn - the unit of work (gets the deletes, `prekeys` and `description`)
 * @param now - the owner's clock (ms)
 * @param limit - accepted keys per prekey before a rotation
 * @returns whether it rotated
 */
export async function rotatePrekeyWhenFull(
  p: OwnerKeysDeps,
  org: OwnerOrg,
  txn: Txn,
  now: number,
  limit: number = ownerKeyLimits.maxAcceptedPerPrekey,
): Promise<boolean> {
  const prekeys = org.owner.prekeys;
  if (prekeys.acceptedEphemeralKeyCount(prekeys.signedPrekeyId) < limit) return false;
  const held = prekeys.signedPrekeyIds;
  prekeys.rotate(now);
  for (const id of held) {
    if (prekeys.signedPrekeyIds.includes(id)) continue;
    const log = x3dhLog(org.hex, id);
    const ids = (await p.store.range(log)).map((entry) => entry.id);
    if (ids.length > 0) txn.ops.push({ type: "deleteEntries", log, ids });
  }
  txn.prekeys = true;
  txn.description = true;
  return true;
}

/**
 * The owner's key records a unit of work changed, for its commit batch: each session in
 * `txn.sessions` (sealed), and when `txn.prekeys` the `prekeys` record (keys only) with the
 * ephemeral keys accepted since the last commit appended to their logs, so that a replay after a
 * crash is refused exactly when the session it opened was stored.
 *
 * @param vault - the client's vault
 * @param org - an organization this client owns
 * @param txn - the unit of work
 * @returns the ops, and `done` to call once the batch committed (marks the keys stored, and trims
 *   the memory caches to `maxCachedPeers`, never evicting a session of this unit of work)
 */
export function ownerKeyOps(
  vault: Vault,
  org: OwnerOrg,
  txn: Txn,
): { ops: StoreOp[]; done: () => void } {
  const owner = org.owner;
  const where = space(org);
  const ops: StoreOp[] = [];
  for (const peer of txn.sessions) {
    const session = owner.sessions.get(peer);
    if (session === undefined) continue;
    const key = `pairwise/${peer}`;
    ops.push({
      type: "put",
      space: where,
      key,
      value: vault.seal(where, key, session.serialize({ omitKnownKeys: true })),
    });
  }
  const unstored = txn.prekeys ? owner.prekeys.unstoredEphemeralKeys() : [];
  let recordStored: (() => void) | undefined;
  if (txn.prekeys) {
    if (owner.prekeys.keysRecordDue()) {
      const record = owner.prekeys.serializeKeysReserving(ownerKeyLimits.prekeysRecordHeadroom);
      ops.push(sealedPrekeys(vault, org, record.bytes));
      recordStored = record.stored;
    }
    const byPrekey = new Map<number, Uint8Array[]>();
    for (const { signedPrekeyId, ephemeralKey } of unstored) {
      const keys = byPrekey.get(signedPrekeyId) ?? [];
      keys.push(ephemeralKey);
      byPrekey.set(signedPrekeyId, keys);
    }
    for (const [id, keys] of byPrekey) {
      ops.push({
        type: "append",
        log: x3dhLog(org.hex, id),
        entries: keys.map((key) => ({ id: toHex(key), sortKey: 0n, value: new Uint8Array(0) })),
      });
    }
  }
  const done = () => {
    recordStored?.();
    if (unstored.length > 0) owner.prekeys.markEphemeralKeysStored(unstored);
    trim(owner.sessions, txn.sessions);
    trim(owner.memberKeys, txn.sessions);
  };
  return { ops, done };
}

/**
 * The `prekeys` record: the owner's X3DH keys alone, sealed, each count raised by
 * `prekeysRecordHeadroom` (`OwnerPrekeys.serializeKeysReserving`; never below a record written
 * before, since counts only grow).
 *
 * @param vault - the client's vault
 * @param org - an organization this client owns
 * @param prekeys - its prekeys
 * @returns the put
 */
export function prekeysOp(vault: Vault, org: OwnerOrg, prekeys: OwnerPrekeys): StoreOp {
  return sealedPrekeys(
    vault,
    org,
    prekeys.serializeKeysReserving(ownerKeyLimits.prekeysRecordHeadroom).bytes,
  );
}

function sealedPrekeys(vault: Vault, org: OwnerOrg, bytes: Uint8Array): StoreOp {
  const where = space(org);
  return { type: "put", space: where, key: "prekeys", value: vault.seal(where, "prekeys", bytes) };
}

/** Evicts the least recently used entries beyond `maxCachedPeers`, never one in `keep`. */
function trim<V>(cache: Map<string, V>, keep: ReadonlySet<string>): void {
  let excess = cache.size - ownerKeyLimits.maxCachedPeers;
  if (excess <= 0) return;
  for (const key of cache.keys()) {
    if (excess <= 0) break;
    if (keep.has(key)) continue;
    cache.delete(key);
    excess--;
  }
}
