/**
 * The saved group state in pieces (docs/PROTOCOL.md, "Saved group state"; format version 2 of the
 * owner and member states): a head whose size does not grow with the roster, and — owner only —
 * one record per member. Rosters are not saved here: each epoch refers to its roster by key id,
 * length and hash, and `restore` checks the rosters it is given against them. Every failure to
 * restore is a {@link StateCorruptedError} saying what does not hang together.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */

import { toHex } from "@orgchat/base";
import { wireLimits } from "@orgchat/wire";
import { constantTimeEqual } from "./constant-time.js";
import {
  buildDeferredRoster,
  isDeferredRoster,
  type RosterSupplier,
} from "./epoch-keys-state-encoding.js";
import { EpochWindow, type RetainedEpoch } from "./epoch-window.js";
import { StateCorruptedError } from "./errors.js";
import { EpochKeys } from "./group-message.js";
import {
  checkOwnerEpoch,
  type MemberGroupState,
  type MemberRecord,
  memberMagic,
  type OwnerGroupState,
  ownerMagic,
  readHead,
  readHistory,
  readMemberSecrets,
  readOwnerSecrets,
  readPending,
  restoring,
  savedVersion,
  writeHead,
  writeHistory,
  writeMemberSecrets,
  writeOwnerSecrets,
  writePending,
} from "./group-state-encoding.js";
import type { RosterLeaf } from "./key-schedule.js";
import { readForkPoints, writeForkPoints } from "./member-forks.js";
import type { CryptoProvider } from "./provider.js";
import { checkBytes } from "./providers/checks.js";
import { rosterHashOf, type UncheckedRosters } from "./roster-hashes.js";
import { type StateReader, StateWriter } from "./state-bytes.js";

/** The saved records of a group's retained epochs, by key id (lower-case hex). */
export type EpochRecords = ReadonlyMap<string, Uint8Array>;

/**
 * The epochs of a head: `u8 has current ‖ [u32 len ‖ EpochKeys (format 2)]`, `u32 retained`, per
 * retained epoch (oldest first) `key_id (8) ‖ f64 retiredAt`. Each retained epoch's keys are a
 * record of their own (`EpochKeys` format 2, {@link epochRecord}): an epoch is written when it
 * retires and when a late message changes it, not at every commit.
 */
function writeWindowHead(writer: StateWriter, window: EpochWindow): void {
  writer.u8(window.current === undefined ? 0 : 1);
  if (window.current !== undefined) writer.bytes(window.current.serialize({ withRoster: false }));
  writer.u32(window.retained.length);
  for (const entry of window.retained) {
    writer.fixed(entry.keys.keyId);
    writer.f64(entry.retiredAt);
  }
}

/**
 * The record of a retained epoch.
 *
 * @param keys - the epoch's keys
 * @returns `EpochKeys` format 2 (secrets: store them encrypted)
 */
export function epochRecord(keys: EpochKeys): Uint8Array {
  return keys.serialize({ withRoster: false });
}

/**
 * Rosters of retained epochs handed out by a deferring supplier (`rosterSupplier` with its
 * `unchecked` map), whose checks the window defers to each epoch's first use.
 */
export interface DeferredRetainedRosters {
  readonly supplier: RosterSupplier;
  readonly unchecked: UncheckedRosters;
}

/**
 * Reads what {@link writeWindowHead} wrote; every retained epoch's record must be in `records`, and
 * no other. With `retained`, the retained epochs' rosters come from its deferring supplier and are
 * checked at first use (`EpochWindow.deferRosterCheck`); the current epoch's always at once.
 */
function readWindowHead(
  provider: CryptoProvider,
  reader: StateReader,
  rosterFor: RosterSupplier,
  records: EpochRecords,
  retained?: DeferredRetainedRosters,
): EpochWindow {
  const current = reader.flag()
    ? EpochKeys.restoreState(provider, reader.bytes(), rosterFor)
    : undefined;
  const count = reader.count();
  if (count !== records.size) {
    throw new StateCorruptedError(`${records.size} epoch records, the head names ${count}`);
  }
  const kept: RetainedEpoch[] = [];
  const named = new Set<string>();
  for (let i = 0; i < count; i++) {
    const keyId = reader.fixed(wireLimits.keyIdBytes);
    const retiredAt = reader.f64();
    const keyIdHex = toHex(keyId);
    if (named.has(keyIdHex)) throw new StateCorruptedError(`epoch ${keyIdHex} is named twice`);
    named.add(keyIdHex);
    const bytes = records.get(keyIdHex);
    if (bytes === undefined) {
      throw new StateCorruptedError(`the record of retained epoch ${toHex(keyId)} is missing`);
    }
    const keys = EpochKeys.restoreState(provider, bytes, retained?.supplier ?? rosterFor);
    if (!constantTimeEqual(keys.keyId, keyId)) {
      throw new StateCorruptedError(
        `the record stored for epoch ${toHex(keyId)} is another epoch's`,
      );
    }
    kept.push({ keys, retiredAt });
  }
  const window = new EpochWindow(current, kept);
  if (retained !== undefined) {
    for (const { keys } of kept) {
      const hash = retained.unchecked.get(keys.rosterSource);
      if (hash !== undefined) window.deferRosterCheck(keys, provider, hash);
    }
  }
  return window;
}

/** Format version of a head (version 1 is the whole state of `serialize`). */
export const headVersion = 2;
/**
 * Format version of a member head since delegated management (docs/DELEGATION.md): version 2 with
 * `u8 has rekey secret ‖ [rekey_secret (32)]` at the end. Version 2 is still read (no rekey
 * secret: the member can neither build nor open a delegate KeyUpdate of that epoch, and has one
 * again from its next epoch on). Format 4 adds the fork points (`member-forks.ts`) after it;
 * format 3 is still read (no fork points: a sibling of an epoch left before is not entered).
 */
export const memberHeadVersion = 4;
/** Format 3: format 2 with the rekey secret; still read (no fork points). */
const rekeyHeadVersion = 3;
/** Format version of a member record. */
const recordVersion = 1;
/** `u8 version ‖ u32 leaf ‖ u64 leaf epoch ‖ leaf secret (32) ‖ prekey (32)`. */
export const memberRecordBytes = 1 + 4 + 8 + 32 + 32;

/**
 * The owner's head: `magic ‖ u8 2 ‖ organization_id ‖ channel_id ‖ owner secrets ‖ u32 members ‖
 * history ‖ epochs` (group-state-encoding.ts for the shared fields). The roster of the next epoch
 * is not saved: it is the current epoch's with the members' recorded prekeys.
 *
 * @param state - the owner's state
 * @returns the head bytes (secrets: store them encrypted)
 */
export function writeOwnerHead(state: OwnerGroupState): Uint8Array {
  const writer = new StateWriter();
  writeHead(writer, ownerMagic, state.group, headVersion);
  writeOwnerSecrets(writer, state);
  writer.u32(state.members.size);
  writeHistory(writer, state.history);
  writeWindowHead(writer, state.window);
  return writer.finish();
}

/**
 * One member record of the owner.
 *
 * @param leaf - the member's leaf
 * @param record - its leaf secret, leaf epoch and prekey
 * @returns {@link memberRecordBytes} bytes (a secret: store them encrypted)
 */
export function writeMemberRecord(leaf: number, record: MemberRecord): Uint8Array {
  // Fixed-size, written in place: a removal writes one per remaining member (10,000 at a time), so
  // no growable writer (a 1 KiB buffer and its wipe per record) and no DataView.
  checkBytes(record.leafSecret, 32, "record.leafSecret");
  checkBytes(record.prekey, 32, "record.prekey");
  if (!Number.isInteger(leaf) || leaf < 0 || leaf > 0xffffffff) {
    throw new RangeError(`leaf: must be a uint32, got ${leaf}`);
  }
  const epoch = record.leafEpoch;
  if (typeof epoch !== "bigint" || epoch < 0n || epoch > 0xffffffffffffffffn) {
    throw new RangeError(`record.leafEpoch: must be a u64, got ${String(epoch)}`);
  }
  const bytes = new Uint8Array(memberRecordBytes);
  bytes[0] = recordVersion;
  bytes[1] = leaf >>> 24;
  bytes[2] = (leaf >>> 16) & 0xff;
  bytes[3] = (leaf >>> 8) & 0xff;
  bytes[4] = leaf & 0xff;
  const high = Number(epoch >> 32n);
  const low = Number(epoch & 0xffffffffn);
  for (let i = 0; i < 4; i++) {
    bytes[5 + i] = (high >>> (24 - 8 * i)) & 0xff;
    bytes[9 + i] = (low >>> (24 - 8 * i)) & 0xff;
  }
  bytes.set(record.leafSecret, 13);
  bytes.set(record.prekey, 45);
  return bytes;
}

/**
 * A member record read at a restart: its leaf secret and prekey are 64 bytes of a buffer that every
 * record of that restart shares (a copy the group owns: the caller's bytes are not kept), each
 * viewed at its first use. One object per member instead of three (10,000 at a restart); a new
 * value assigned replaces the view, as on a plain record.
 */
class PooledMemberRecord implements MemberRecord {
  leafEpoch: bigint;
  readonly #pool: Uint8Array;
  readonly #at: number;
  #leafSecret: Uint8Array | undefined;
  #prekey: Uint8Array | undefined;

  /** `at`: where the leaf secret starts in `pool` (the prekey follows it). */
  constructor(leafEpoch: bigint, pool: Uint8Array, at: number) {
    this.leafEpoch = leafEpoch;
    this.#pool = pool;
    this.#at = at;
  }

  get leafSecret(): Uint8Array {
    this.#leafSecret ??= this.#pool.subarray(this.#at, this.#at + 32);
    return this.#leafSecret;
  }

  set leafSecret(value: Uint8Array) {
    this.#leafSecret = value;
  }

  get prekey(): Uint8Array {
    this.#prekey ??= this.#pool.subarray(this.#at + 32, this.#at + 64);
    return this.#prekey;
  }

  set prekey(value: Uint8Array) {
    this.#prekey = value;
  }
}

/**
 * Checks a member record's type, version and size ({@link writeMemberRecord}): it is fixed-size, so
 * the caller reads it in place.
 *
 * @throws {@link StateCorruptedError} for another version or size
 */
function checkMemberRecord(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes: expected a Uint8Array");
  const version = bytes[0];
  if (bytes.length > 0 && version !== recordVersion) {
    throw new StateCorruptedError(`member record version ${version}; this library reads 1`);
  }
  if (bytes.length < memberRecordBytes) throw new StateCorruptedError("state is truncated");
  if (bytes.length > memberRecordBytes) {
    throw new StateCorruptedError(`${bytes.length - memberRecordBytes} unexpected trailing bytes`);
  }
}

/** The big-endian u32 at `at` of `bytes` (in range: the caller checked the size). */
function u32At(bytes: Uint8Array, at: number): number {
  return (
    (((bytes[at] as number) << 24) |
      ((bytes[at + 1] as number) << 16) |
      ((bytes[at + 2] as number) << 8) |
      (bytes[at + 3] as number)) >>>
    0
  );
}

/** Whether the 32 bytes of `pool` at `at` are `key` (public keys: no need for constant time). */
function poolHolds(pool: Uint8Array, at: number, key: Uint8Array): boolean {
  if (key.length !== 32) return false;
  for (let i = 0; i < 32; i++) if (pool[at + i] !== key[i]) return false;
  return true;
}

/** Leaf epochs below 2^32 already made, by value (bounded: {@link maxSmallEpochs}). */
const smallEpochs = new Map<number, bigint>();
/** At most this many epochs are remembered by {@link smallEpoch} (~40 bytes each). */
const maxSmallEpochs = 4096;

function smallEpoch(value: number): bigint {
  let epoch = smallEpochs.get(value);
  if (epoch === undefined) {
    epoch = BigInt(value);
    if (smallEpochs.size >= maxSmallEpochs) smallEpochs.clear();
    smallEpochs.set(value, epoch);
  }
  return epoch;
}

/**
 * Reads an owner head and its member records, and checks that they hang together: every record
 * names its own leaf, a non-empty leaf of the current roster that is not the owner's, once; every
 * such leaf has one; no leaf secret is newer than the current epoch.
 *
 * @param provider - the crypto provider
 * @param head - the head bytes
 * @param members - the member records, by leaf
 * @param rosterFor - supplies (and checks) each epoch's roster
 * @param epochs - the retained epochs' records
 * @param retained - when given, supplies the retained epochs' rosters, checked at first use
 * @returns the owner's state
 * @throws {@link StateCorruptedError} naming what does not hang together
 */
export function readOwnerHead(
  provider: CryptoProvider,
  head: Uint8Array,
  members: Iterable<readonly [number, Uint8Array]>,
  rosterFor: RosterSupplier,
  epochs: EpochRecords,
  retained?: DeferredRetainedRosters,
): OwnerGroupState {
  const state = restoring("owner group", head, (reader) => {
    const group = readHead(reader, ownerMagic, "owner group", headVersion);
    const secrets = readOwnerSecrets(reader);
    const memberCount = reader.u32();
    const history = readHistory(reader);
    const window = readWindowHead(provider, reader, rosterFor, epochs, retained);
    const roster = window.current?.roster ?? [];
    checkOwnerEpoch(provider, group, secrets, window, roster);
    const members = new Map<number, MemberRecord>();
    return { memberCount, state: { group, ...secrets, roster, members, history, window } };
  });
  return withMembers(state.state, state.memberCount, members);
}

/**
 * Fills the member map from the records and rebuilds the next epoch's roster from their prekeys.
 * One pass: each record is copied whole into one buffer for every record (the group keeps copies:
 * the caller's bytes are not kept) and read there, in place — a restart reads one per member
 * (10,000), and a `StateReader` (a `DataView` each), a view or a result object per record cost
 * more than the reading.
 */
function withMembers(
  state: OwnerGroupState,
  count: number,
  members: Iterable<readonly [number, Uint8Array]>,
): OwnerGroupState {
  const current = state.roster;
  const epoch = state.window.current?.epoch ?? 0n;
  const kept = state.members;
  let next: Array<RosterLeaf | undefined> | undefined;
  const records: ReadonlyArray<readonly [number, Uint8Array]> = Array.isArray(members)
    ? members
    : [...members];
  // `u8 version ‖ u32 leaf ‖ u64 leaf epoch ‖ leaf secret (32) ‖ prekey (32)` per record.
  const pool = new Uint8Array(memberRecordBytes * records.length);
  let at = 0;
  for (const [key, bytes] of records) {
    checkMemberRecord(bytes);
    pool.set(bytes, at);
    const leaf = u32At(pool, at + 1);
    if (leaf !== key) {
      throw new StateCorruptedError(`the member record stored for leaf ${key} names leaf ${leaf}`);
    }
    const entry = leaf < current.length ? current[leaf] : undefined;
    if (entry === undefined || leaf === state.leaf) {
      throw new StateCorruptedError(
        `a member record for leaf ${leaf}, ${entry === undefined ? "an empty leaf" : "the owner's"}`,
      );
    }
    const high = u32At(pool, at + 5);
    const low = u32At(pool, at + 9);
    // Leaf epochs are few distinct values (the epochs members joined or re-keyed in): one BigInt each.
    const leafEpoch = high === 0 ? smallEpoch(low) : (BigInt(high) << 32n) | BigInt(low);
    const size = kept.size;
    const record = new PooledMemberRecord(leafEpoch, pool, at + 13);
    kept.set(leaf, record);
    if (kept.size === size) throw new StateCorruptedError(`two member records for leaf ${leaf}`);
    if (leafEpoch > epoch) {
      throw new StateCorruptedError(`the leaf secret of leaf ${leaf} is from a later epoch`);
    }
    // The prekey compared in the pool: its view is made only when the roster needs it.
    if (!poolHolds(pool, at + 45, entry.prekey)) {
      next ??= [...current];
      next[leaf] = { ...entry, prekey: record.prekey };
    }
    at += memberRecordBytes;
  }
  let occupied = 0;
  for (const entry of current) if (entry !== undefined) occupied++;
  if (kept.size !== count || count !== occupied - 1) {
    throw new StateCorruptedError(
      `${kept.size} member records, the head counts ${count} and the roster ${occupied - 1} members`,
    );
  }
  if (next !== undefined) state.roster = next;
  return state;
}

/**
 * The member's head: `magic ‖ u8 3 ‖ organization_id ‖ channel_id ‖ u32 leaf ‖ u8 removed ‖ signing
 * secret ‖ identity key ‖ prekeys ‖ u64 leaf epoch ‖ leaf secret ‖ [init_secret] ‖ u64 epoch ‖
 * key_id ‖ u32 leaves ‖ roster_hash ‖ [pending KeyUpdate] ‖ window (format-2 epochs) ‖
 * u8 has rekey secret ‖ [rekey_secret] ‖ fork points` (format 4; format 3 ends after the rekey
 * secret, format 2 after the window).
 *
 * @param provider - hashes the roster (once per roster: see roster-hashes.ts)
 * @param state - the member's state
 * @returns the head bytes (secrets: store them encrypted)
 */
export function writeMemberHead(provider: CryptoProvider, state: MemberGroupState): Uint8Array {
  const writer = new StateWriter();
  writeHead(writer, memberMagic, state.group, memberHeadVersion);
  writeMemberSecrets(writer, state);
  writer.u32(state.roster.length);
  writer.fixed(rosterHashOf(provider, state.roster));
  writePending(writer, state.pending);
  writeWindowHead(writer, state.window);
  writer.u8(state.rekeySecret === undefined ? 0 : 1);
  if (state.rekeySecret !== undefined) writer.fixed(state.rekeySecret);
  writeForkPoints(writer, state.forkPoints);
  return writer.finish();
}

/**
 * Reads a member head and checks that it hangs together (as `readMemberState` does, and the rosters
 * against their saved hashes).
 *
 * @param provider - the crypto provider
 * @param head - the head bytes
 * @param rosterFor - supplies (and checks) each epoch's roster
 * @returns the member's state
 * @throws {@link StateCorruptedError} naming what does not hang together
 */
export function readMemberHead(
  provider: CryptoProvider,
  head: Uint8Array,
  rosterFor: RosterSupplier,
  epochs: EpochRecords,
): MemberGroupState {
  const saved = savedVersion(head, memberMagic);
  const version = saved === headVersion || saved === rekeyHeadVersion ? saved : memberHeadVersion;
  return restoring("member group", head, (reader) => {
    const group = readHead(reader, memberMagic, "member group", version);
    const secrets = readMemberSecrets(reader);
    const { epoch, keyId, leaf } = secrets;
    const supplied = rosterFor(epoch, keyId, reader.u32(), reader.fixed(32));
    const roster = isDeferredRoster(supplied) ? buildDeferredRoster(supplied, epoch, []) : supplied;
    const pending = readPending(reader);
    const window = readWindowHead(provider, reader, rosterFor, epochs);
    const rekeySecret = version === headVersion || !reader.flag() ? undefined : reader.fixed(32);
    const forkPoints =
      version === memberHeadVersion ? readForkPoints(reader, wireLimits.keyIdBytes) : [];
    if (!secrets.removed) {
      const current = window.current;
      if (current === undefined || secrets.initSecret === undefined) {
        throw new StateCorruptedError("an active member without a current epoch");
      }
      if (current.epoch !== epoch || !constantTimeEqual(current.keyId, keyId)) {
        throw new StateCorruptedError("the current epoch is not the one the head names");
      }
      const own = roster[leaf];
      if (own === undefined || !constantTimeEqual(own.identityKey, secrets.identityKey)) {
        throw new StateCorruptedError(`leaf ${leaf} of the current roster is not ours`);
      }
    }
    return { group, ...secrets, roster, pending, window, rekeySecret, forkPoints };
  });
}
