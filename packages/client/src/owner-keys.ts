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
  verifyMemberKeys,
} from "@orgchat/crypto";
import type { Store, StoreOp } from "@orgchat/store";
import type { MemberKeys } from "@orgchat/wire";
import { memberChanges } from "./departures.js";
import { decodeJson } from "./encoding.js";
import { StoreCorruptedError } from "./errors.js";
import { keepsWelcomeOf } from "./kept-welcomes.js";
import { type DeskKeys, type DeskOrg, deskKeys, type Txn } from "./org.js";
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

/** The log of the strangers the owner stores a session or keys for (found again after a start). */
export const strangersLog = (org: string) => `strangers/${org}`;

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
  /**
   * The member's signature over its keys for the organization's group, and the prekey version it
   * covers (docs/DELEGATION.md): kept when it came (checked on arrival), so that a delegate can
   * write the keys into a roster.
   */
  readonly signed?: { readonly prekeyVersion: bigint; readonly keysSignature: Uint8Array };
}

const space = (org: DeskOrg) => `org/${org.hex}`;

/** The base of the owner's session with `member` (a whole session state, version 1 or 2). */
export const sessionKey = (member: string) => `pairwise/${member}`;
/**
 * The chain records over it (state version 3, 46 B each, `PairwiseSession.serializeParts`): the
 * owner's sending chain and its receiving chain, written instead of the base while only they move;
 * both deleted with every base written.
 */
export const sessionSendingKey = (member: string) => `pairwise-send/${member}`;
/** See {@link sessionSendingKey}. */
export const sessionReceivingKey = (member: string) => `pairwise-recv/${member}`;
/** The keys `member` sent (`StoredMemberKeys`, binary: {@link encodeMemberKeys}). */
export const memberKeysKey = (member: string) => `memberkeys/${member}`;

/** Version byte of the binary `memberkeys/` record (older records are JSON, starting with `{`). */
const memberKeysVersion = 1;
/** Version byte of the record with the keys' signature: `… ‖ u64 prekey version ‖ signature (64)`. */
const signedMemberKeysVersion = 2;

/**
 * The `memberkeys/<member>` record: `u8 1 ‖ signing key (32) ‖ prekey (32)`, 65 bytes (the JSON
 * form written before took 171); with the keys' signature (session 12, docs/DELEGATION.md)
 * `u8 2 ‖ signing key ‖ prekey ‖ u64 prekey version ‖ signature (64)`, 137 bytes.
 *
 * @param keys - 32-byte keys (checked by the caller: `usableKeys` in owner-requests.ts)
 * @returns the record's bytes
 * @throws {RangeError} when a key is not 32 bytes
 */
export function encodeMemberKeys(keys: StoredMemberKeys): Uint8Array {
  if (keys.signingKey.length !== 32 || keys.prekey.length !== 32) {
    throw new RangeError("member keys: expected 32-byte keys");
  }
  const signed = keys.signed;
  if (signed !== undefined && signed.keysSignature.length !== 64) {
    throw new RangeError("member keys: expected a 64-byte signature");
  }
  const out = new Uint8Array(signed === undefined ? 65 : 137);
  out[0] = signed === undefined ? memberKeysVersion : signedMemberKeysVersion;
  out.set(keys.signingKey, 1);
  out.set(keys.prekey, 33);
  if (signed !== undefined) {
    new DataView(out.buffer).setBigUint64(65, signed.prekeyVersion);
    out.set(signed.keysSignature, 73);
  }
  return out;
}

/**
 * Reads a `memberkeys/<member>` record: binary ({@link encodeMemberKeys}) or the JSON of older
 * stores.
 *
 * @param bytes - the stored record
 * @param record - its name, for the error
 * @returns the keys
 * @throws {StoreCorruptedError} when it is neither
 */
export function decodeMemberKeys(bytes: Uint8Array, record = "memberkeys"): StoredMemberKeys {
  if (bytes.length === 65 && bytes[0] === memberKeysVersion) {
    return { signingKey: bytes.slice(1, 33), prekey: bytes.slice(33, 65) };
  }
  if (bytes.length === 137 && bytes[0] === signedMemberKeysVersion) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return {
      signingKey: bytes.slice(1, 33),
      prekey: bytes.slice(33, 65),
      signed: { prekeyVersion: view.getBigUint64(65), keysSignature: bytes.slice(73, 137) },
    };
  }
  if (bytes[0] === 0x7b) {
    let keys: StoredMemberKeys | undefined;
    try {
      keys = decodeJson<StoredMemberKeys>(bytes);
    } catch {
      keys = undefined;
    }
    if (keys?.signingKey instanceof Uint8Array && keys.prekey instanceof Uint8Array) {
      return { signingKey: keys.signingKey, prekey: keys.prekey };
    }
  }
  throw new StoreCorruptedError(record);
}

/**
 * The parts of AD a stored session leaves out (`PairwiseSession.serialize({ omitKnownKeys })`,
 * 96 bytes fewer per write): `IK_M` is the member's id, `IK_O ‖ IKdh_O` the owner's own keys.
 */
function knownKeys(
  org: DeskOrg,
  member: string,
): { initiatorIdentityKey: Uint8Array; ownerKeys: Uint8Array } {
  const ownerKeys = new Uint8Array(64);
  ownerKeys.set(deskKeys(org).prekeys.identityKey, 0);
  ownerKeys.set(deskKeys(org).prekeys.identityDhKey, 32);
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
 * @param org - an organization this client owns, or holds a delegate's desk in
 * @param member - the member's id
 * @returns the session, or undefined when the owner holds none
 * @throws {StateCorruptedError} (from the crypto package) when the stored record is corrupt
 */
export function ownerSession(
  p: OwnerKeysDeps,
  org: DeskOrg,
  member: string,
): Promise<PairwiseSession | undefined> {
  return cached(deskKeys(org).sessions, member, async () => {
    const where = space(org);
    const key = sessionKey(member);
    const bytes = await p.store.get(where, key);
    if (bytes === undefined) return undefined;
    const chain = async (chainKey: string) => {
      const record = await p.store.get(where, chainKey);
      return record === undefined ? undefined : p.vault.open(where, chainKey, record);
    };
    return PairwiseSession.deserializeParts(
      p.provider,
      p.vault.open(where, key, bytes),
      {
        sending: await chain(sessionSendingKey(member)),
        receiving: await chain(sessionReceivingKey(member)),
      },
      knownKeys(org, member),
    );
  });
}

/**
 * The keys `member` sent (MemberKeys): from memory, else read from the store.
 *
 * @param p - store, vault and provider
 * @param org - an organization this client owns, or holds a delegate's desk in
 * @param member - the member's id
 * @returns the keys, or undefined when the owner holds none
 */
export function ownerMemberKeys(
  p: OwnerKeysDeps,
  org: DeskOrg,
  member: string,
): Promise<StoredMemberKeys | undefined> {
  return cached(deskKeys(org).memberKeys, member, async () => {
    const key = memberKeysKey(member);
    const bytes = await p.store.get(space(org), key);
    return bytes === undefined ? undefined : decodeMemberKeys(bytes, `${space(org)}/${key}`);
  });
}

/**
 * Keeps `member`'s keys in memory and returns the op that stores them (put it in the unit of work).
 *
 * @param org - an organization this client owns, or holds a delegate's desk in
 * @param member - the member's id
 * @param keys - the keys it sent
 * @returns the `memberkeys/<member>` put
 */
export function setOwnerMemberKeys(org: DeskOrg, member: string, keys: StoredMemberKeys): StoreOp {
  const value: StoredMemberKeys = {
    signingKey: keys.signingKey,
    prekey: keys.prekey,
    ...(keys.signed === undefined ? {} : { signed: keys.signed }),
  };
  touch(deskKeys(org).memberKeys, member, value);
  return {
    type: "put",
    space: space(org),
    key: memberKeysKey(member),
    value: encodeMemberKeys(value),
  };
}

/**
 * Drops `member`'s session and keys from memory and returns the ops that delete them from the store.
 *
 * @param org - an organization this client owns, or holds a delegate's desk in
 * @param member - the member's id
 * @returns the deletes (session base, its chain records, keys)
 */
export function forgetOwnerKeys(org: DeskOrg, member: string): StoreOp[] {
  deskKeys(org).sessions.delete(member);
  deskKeys(org).memberKeys.delete(member);
  const where = space(org);
  return [
    { type: "delete", space: where, key: sessionKey(member) },
    { type: "delete", space: where, key: sessionSendingKey(member) },
    { type: "delete", space: where, key: sessionReceivingKey(member) },
    { type: "delete", space: where, key: memberKeysKey(member) },
  ];
}

/**
 * Of `members`, those the owner holds what an add step needs for (keys and a session), read from
 * the store when not in memory (they stay in memory for the add step that follows).
 *
 * @param p - store, vault and provider
 * @param org - an organization this client owns, or holds a delegate's desk in
 * @param members - candidates (joiners before the readiness check)
 * @returns the ready ones
 */
export async function readyToAdd(
  p: OwnerKeysDeps,
  org: DeskOrg,
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
 * @param org - an organization this client owns, or holds a delegate's desk in
 * @param header - the X3DH header of an initial pairwise message
 * @throws {DuplicateMessageError} when the key was accepted already
 */
export async function refuseReplayedEphemeralKey(
  p: OwnerKeysDeps,
  org: DeskOrg,
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
 * @param org - an organization this client owns, or holds a delegate's desk in
 * @param txn - the unit of work (gets the deletes, `prekeys` and `description`)
 * @param now - the owner's clock (ms)
 * @param limit - accepted keys per prekey before a rotation
 * @returns whether it rotated
 */
export async function rotatePrekeyWhenFull(
  p: OwnerKeysDeps,
  org: DeskOrg,
  txn: Txn,
  now: number,
  limit: number = ownerKeyLimits.maxAcceptedPerPrekey,
): Promise<boolean> {
  const prekeys = deskKeys(org).prekeys;
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
 * `txn.sessions` (sealed: its base and deletes of its chain records, or only the record of each
 * chain that moved when nothing else did since the stored base), and when `txn.prekeys` the `prekeys` record (keys only) with the
 * ephemeral keys accepted since the last commit appended to their logs, so that a replay after a
 * crash is refused exactly when the session it opened was stored.
 *
 * @param vault - the client's vault
 * @param org - an organization this client owns, or holds a delegate's desk in
 * @param txn - the unit of work
 * @returns the ops, and `done` to call once the batch committed (marks the keys stored, and trims
 *   the memory caches to `maxCachedPeers`, never evicting a session of this unit of work)
 */
export function ownerKeyOps(
  vault: Vault,
  org: DeskOrg,
  txn: Txn,
): { ops: StoreOp[]; done: () => void } {
  const owner = deskKeys(org);
  if (txn.sessions.size === 0 && !txn.prekeys && org.log.state.members === txn.before.members) {
    // Nothing to write (a message sent, most commits): only the caches are trimmed, by one
    // function per owner (no closure per commit).
    let trimCaches = cacheTrims.get(owner);
    if (trimCaches === undefined) {
      trimCaches = () => {
        trim(owner.sessions, noSessions);
        trim(owner.memberKeys, noSessions);
      };
      cacheTrims.set(owner, trimCaches);
    }
    return { ops: [], done: trimCaches };
  }
  const where = space(org);
  const ops: StoreOp[] = [];
  const stored: Array<() => void> = [];
  const departed = departedMembers(org, txn);
  for (const peer of txn.sessions) {
    const session = owner.sessions.get(peer);
    if (session === undefined || departed.includes(peer)) continue;
    // While only its chains moved, the record of each (46 B) rather than the whole session (275 B).
    const parts = session.serializeParts({ omitKnownKeys: true });
    const put = (key: string, bytes: Uint8Array) =>
      ops.push({ type: "put", space: where, key, value: vault.seal(where, key, bytes) });
    if (parts.base !== undefined) {
      put(sessionKey(peer), parts.base);
      ops.push({ type: "delete", space: where, key: sessionSendingKey(peer) });
      ops.push({ type: "delete", space: where, key: sessionReceivingKey(peer) });
    }
    if (parts.sending !== undefined) put(sessionSendingKey(peer), parts.sending);
    if (parts.receiving !== undefined) put(sessionReceivingKey(peer), parts.receiving);
    stored.push(parts.stored);
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
  // A member who left the state (removed, banned, its leave accepted): its session and keys go in
  // the same batch, after anything this unit of work encrypted for it (the outbox holds the bytes).
  // A rejoin opens a new session (X3DH) and sends its keys again.
  for (const member of departed) {
    // A delegate's joiner a description dropped (no removal here: listed again later, maybe).
    if (org.role !== "owner" && droppedJoiner(org, txn, member)) continue;
    ops.push(...forgetOwnerKeys(org, member));
    ops.push({ type: "deleteEntries", log: strangersLog(org.hex), ids: [member] });
  }
  const done = () => {
    for (const sessionStored of stored) sessionStored();
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
 * @param org - an organization this client owns, or holds a delegate's desk in
 * @param prekeys - its prekeys
 * @returns the put
 */
export function prekeysOp(vault: Vault, org: DeskOrg, prekeys: OwnerPrekeys): StoreOp {
  return sealedPrekeys(
    vault,
    org,
    prekeys.serializeKeysReserving(ownerKeyLimits.prekeysRecordHeadroom).bytes,
  );
}

function sealedPrekeys(vault: Vault, org: DeskOrg, bytes: Uint8Array): StoreOp {
  const where = space(org);
  return { type: "put", space: where, key: "prekeys", value: vault.seal(where, "prekeys", bytes) };
}

/** Per owner, what `ownerKeyOps` returns as `done` when nothing was written: the cache trims. */
const cacheTrims = new WeakMap<DeskKeys, () => void>();
/** No session kept from a trim (a unit of work that touched none). */
const noSessions: ReadonlySet<string> = new Set();

/**
 * The members a unit of work took out of the state (removed, banned, left), as `memberChanges`
 * finds them (what changed, not the organization's size).
 */
function departedMembers(org: DeskOrg, txn: Txn): readonly string[] {
  const after = org.log.state.members;
  if (after === txn.before.members) return [];
  return memberChanges(txn.before.members, after).departed.filter((member) => !after.has(member));
}

/**
 * Whether a delegate's desk keeps `member`'s session and keys although the unit of work took it
 * out of the state: its own add step's Welcome is kept (`keepsWelcomeOf`), it is not banned, and
 * the unit of work removed it by no event (a description's state, made before the owner read the
 * acceptance, dropped it).
 */
function droppedJoiner(org: DeskOrg, txn: Txn, member: string): boolean {
  if (org.role === "owner" || org.log.state.banned.has(member)) return false;
  if (!keepsWelcomeOf(org, member)) return false;
  return !txn.events.some(
    (event) =>
      (event.type === "member.removed" && event.body.member === member) ||
      (event.type === "leave.resolved" && event.body.accepted) ||
      (event.type === "leave.requested" && event.author === member),
  );
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

/**
 * Whether a member's keys can join a group: 32-byte keys and an X25519 prekey that is not of small
 * order (one throw-away agreement), what `OwnerGroup.add` checks for each joiner of a step. Checked
 * when the keys arrive, not in the next add step: there one would fail the whole batch.
 *
 * @param provider - crypto provider
 * @param keys - the keys a member sent
 * @returns whether a group can take them
 */
export function usableMemberKeys(
  provider: CryptoProvider,
  keys: { readonly signingKey: Uint8Array; readonly prekey: Uint8Array },
): boolean {
  if (keys.signingKey.length !== 32 || keys.prekey.length !== 32) return false;
  const probe = provider.x25519KeyPair().secretKey;
  try {
    provider.x25519(probe, keys.prekey).fill(0);
    return true;
  } catch {
    return false;
  } finally {
    probe.fill(0);
  }
}

/**
 * Whether a member's keys carry no signature (a peer before session 12) or one that holds for the
 * organization's group (docs/DELEGATION.md, "Wire additions").
 *
 * @param provider - crypto provider
 * @param organizationId - the organization (its group's context)
 * @param keys - the `MemberKeys` received
 * @returns false for a signature that does not hold
 */
export function signedMemberKeys(
  provider: CryptoProvider,
  organizationId: Uint8Array,
  keys: MemberKeys,
): boolean {
  if (keys.keysSignature.length === 0) return true;
  try {
    verifyMemberKeys(provider, { organizationId, channelId: "" }, keys);
    return true;
  } catch {
    return false;
  }
}
