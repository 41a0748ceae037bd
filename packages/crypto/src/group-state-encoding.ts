/**
 * The versioned byte layout of a group's saved state, owner side and member side (what
 * `OwnerGroup.serialize` / `MemberGroup.serialize` write and their `deserialize` read back), with the
 * epoch window both sides hold. Every failure to restore is a {@link StateCorruptedError}.
 *
 * Both states start with `magic ‖ u8 version ‖ organization_id (32) ‖ u32 len ‖ channel_id`; the
 * rest of each layout is written field by field below, in order.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */

import { wireLimits } from "@orgchat/wire";
import { constantTimeEqual } from "./constant-time.js";
import type { RosterSupplier } from "./epoch-keys-state-encoding.js";
import { EpochWindow, type RetainedEpoch } from "./epoch-window.js";
import { isStateCorruptedError, StateCorruptedError } from "./errors.js";
import { EpochKeys } from "./group-message.js";
import { deriveKeyId, type GroupId, type Roster } from "./key-schedule.js";
import type { ForkPoint } from "./member-forks.js";
import type { HistoryPolicy } from "./owner-group-types.js";
import type { CryptoProvider } from "./provider.js";
import { StateReader, StateWriter } from "./state-bytes.js";
import type { WelcomeHistoryEntry } from "./welcome.js";

/** A member as the owner tracks it: its leaf secret with the epoch it belongs to, and its prekey. */
export interface MemberRecord {
  leafSecret: Uint8Array;
  leafEpoch: bigint;
  prekey: Uint8Array;
}

/** Everything `OwnerGroup` saves. */
export interface OwnerGroupState {
  readonly group: GroupId;
  readonly historyPolicy: HistoryPolicy;
  /** The owner's own leaf index. */
  readonly leaf: number;
  /** The secret of the owner's signing key: signs the owner's group messages. */
  readonly signingSecretKey: Uint8Array;
  initSecret: Uint8Array;
  /**
   * The current epoch's secret. Only the owner keeps it (members delete theirs once derived): it is
   * what a resync Welcome carries to a member that lost or missed its keys.
   */
  epochSecret: Uint8Array;
  /** When the current epoch started (ms, injected time): drives `OwnerGroup.refreshDue`. */
  epochStartedAt: number;
  /**
   * The roster the next epoch starts from (prekey rotations land here first): the current epoch's
   * frozen roster itself until a rotation makes a copy.
   */
  roster: Roster;
  readonly members: Map<number, MemberRecord>;
  /** Earlier epoch secrets kept for "shared" Welcomes. */
  history: WelcomeHistoryEntry[];
  readonly window: EpochWindow;
}

/** One of a member's X25519 prekeys. */
export interface PrekeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** The chunks seen of a KeyUpdate that had no entry for us (yet). */
export interface PendingUpdate {
  readonly keyId: Uint8Array;
  readonly epoch: bigint;
  readonly chunkCount: number;
  readonly seen: Set<number>;
}

/** Everything `MemberGroup` saves. */
export interface MemberGroupState {
  readonly group: GroupId;
  /** Our leaf index. */
  readonly leaf: number;
  readonly signingSecretKey: Uint8Array;
  readonly identityKey: Uint8Array;
  /** Newest first; older ones are dropped once the owner has used a newer one. */
  prekeys: PrekeyPair[];
  leafSecret: Uint8Array;
  leafEpoch: bigint;
  initSecret: Uint8Array | undefined;
  epoch: bigint;
  keyId: Uint8Array;
  roster: Roster;
  removed: boolean;
  pending: PendingUpdate | undefined;
  readonly window: EpochWindow;
  /**
   * `rekey_secret` of the current epoch (docs/DELEGATION.md): salts delegate KeyUpdates from it.
   * Undefined once removed, and for a state read from a head older than format 3 or from a whole
   * state (format 1) until the next epoch.
   */
  rekeySecret: Uint8Array | undefined;
  /**
   * Epochs left recently, kept to enter a sibling commit (`member-forks.ts`): none in a whole state
   * (format 1) or a head older than format 4.
   */
  forkPoints: ForkPoint[];
}

/** How many prekeys a member keeps at most (the newest and the ones the owner may still use). */
export const maxStoredPrekeys = 3;

const encoder = new TextEncoder();
export const ownerMagic = encoder.encode("orgchat/v1/owner-group");
export const memberMagic = encoder.encode("orgchat/v1/member-group");
const stateVersion = 1;

/**
 * Runs a deserializer over all of `bytes`; anything but a StateCorruptedError becomes one (with the
 * cause).
 */
export function restoring<T>(what: string, bytes: Uint8Array, read: (reader: StateReader) => T): T {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes: expected a Uint8Array");
  try {
    const reader = new StateReader(bytes);
    const value = read(reader);
    reader.end();
    return value;
  } catch (cause) {
    if (isStateCorruptedError(cause)) throw cause;
    throw new StateCorruptedError(`invalid ${what} state`, { cause });
  }
}

/** `magic ‖ u8 version ‖ organization_id ‖ u32 len ‖ channel_id`. */
export function writeHead(
  writer: StateWriter,
  magic: Uint8Array,
  group: GroupId,
  version = stateVersion,
): void {
  writer.fixed(magic);
  writer.u8(version);
  writer.fixed(group.organizationId);
  writer.string(group.channelId);
}

/** @throws {@link StateCorruptedError} naming `what` for another magic or an unknown version */
export function readHead(
  reader: StateReader,
  magic: Uint8Array,
  what: string,
  version = stateVersion,
): GroupId {
  reader.magic(magic, version, what);
  const organizationId = reader.fixed(32);
  const channelId = reader.string();
  return { organizationId, channelId };
}

/**
 * `u8 has current ‖ [u32 len ‖ EpochKeys]`, `u32 retained`, per retained `f64 retiredAt ‖ u32 len ‖
 * EpochKeys`; each EpochKeys in format 1 (roster inline) or 2 (`withRoster` false).
 */
export function writeWindow(writer: StateWriter, window: EpochWindow, withRoster = true): void {
  writer.u8(window.current === undefined ? 0 : 1);
  if (window.current !== undefined) writer.bytes(window.current.serialize({ withRoster }));
  writer.u32(window.retained.length);
  for (const entry of window.retained) {
    writer.f64(entry.retiredAt);
    writer.bytes(entry.keys.serialize({ withRoster }));
  }
}

/** Reads what {@link writeWindow} wrote; `rosterFor` supplies the rosters of format-2 epochs. */
export function readWindow(
  provider: CryptoProvider,
  reader: StateReader,
  rosterFor?: RosterSupplier,
): EpochWindow {
  const current = reader.flag()
    ? EpochKeys.restoreState(provider, reader.bytes(), rosterFor)
    : undefined;
  const count = reader.count();
  const retained: RetainedEpoch[] = [];
  for (let i = 0; i < count; i++) {
    const retiredAt = reader.f64();
    retained.push({ retiredAt, keys: EpochKeys.restoreState(provider, reader.bytes(), rosterFor) });
  }
  return new EpochWindow(current, retained);
}

/**
 * The format version of saved bytes that start with `magic`, or undefined when they do not.
 *
 * @param bytes - saved state
 * @param magic - the magic the state must start with
 * @returns the version byte that follows the magic
 */
export function savedVersion(bytes: Uint8Array, magic: Uint8Array): number | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length <= magic.length) return undefined;
  if (!constantTimeEqual(bytes.subarray(0, magic.length), magic)) return undefined;
  return bytes[magic.length];
}

/** The owner's fields both formats start with (after the head). */
type OwnerSecrets = Pick<
  OwnerGroupState,
  "historyPolicy" | "leaf" | "signingSecretKey" | "initSecret" | "epochSecret" | "epochStartedAt"
>;

/** `u8 shared ‖ u32 leaf ‖ signing secret ‖ init_secret ‖ epoch secret ‖ u64 started`. */
export function writeOwnerSecrets(writer: StateWriter, state: OwnerSecrets): void {
  writer.u8(state.historyPolicy === "shared" ? 1 : 0);
  writer.u32(state.leaf);
  writer.fixed(state.signingSecretKey);
  writer.fixed(state.initSecret);
  writer.fixed(state.epochSecret);
  // Two's complement in a u64: injected clocks may start anywhere, even below 0 in tests.
  writer.u64(BigInt.asUintN(64, BigInt(Math.trunc(state.epochStartedAt))));
}

/** Reads what {@link writeOwnerSecrets} wrote. */
export function readOwnerSecrets(reader: StateReader): OwnerSecrets {
  const policy = reader.u8();
  if (policy > 1) throw new StateCorruptedError(`history policy ${policy}`);
  return {
    historyPolicy: policy === 1 ? "shared" : "joined",
    leaf: reader.u32(),
    signingSecretKey: reader.fixed(32),
    initSecret: reader.fixed(32),
    epochSecret: reader.fixed(32),
    epochStartedAt: Number(BigInt.asIntN(64, reader.u64())),
  };
}

/** `u32 entries`, per entry `u64 epoch ‖ epoch secret ‖ roster_hash`: "shared" Welcome history. */
export function writeHistory(writer: StateWriter, history: readonly WelcomeHistoryEntry[]): void {
  writer.u32(history.length);
  for (const entry of history) {
    writer.u64(entry.epoch);
    writer.fixed(entry.epochSecret);
    writer.fixed(entry.rosterHash);
  }
}

/** Reads what {@link writeHistory} wrote (at most `wireLimits.maxWelcomeHistory` entries). */
export function readHistory(reader: StateReader): WelcomeHistoryEntry[] {
  const count = reader.count();
  if (count > wireLimits.maxWelcomeHistory)
    throw new StateCorruptedError(`${count} history entries`);
  const history: WelcomeHistoryEntry[] = [];
  for (let i = 0; i < count; i++) {
    history.push({
      epoch: reader.u64(),
      epochSecret: reader.fixed(32),
      rosterHash: reader.fixed(32),
    });
  }
  return history;
}

/**
 * Checks the owner's epochs: a current one whose key_id the kept epoch secret derives, and the
 * owner's own leaf in its roster.
 *
 * @returns the current epoch's keys
 */
export function checkOwnerEpoch(
  provider: CryptoProvider,
  group: GroupId,
  secrets: OwnerSecrets,
  window: EpochWindow,
  roster: Roster,
): EpochKeys {
  const current = window.current;
  if (current === undefined) throw new StateCorruptedError("no current epoch");
  if (roster[secrets.leaf] === undefined)
    throw new StateCorruptedError("the owner's leaf is empty");
  const derived = deriveKeyId(provider, group, current.epoch, secrets.epochSecret);
  if (!constantTimeEqual(derived, current.keyId)) {
    throw new StateCorruptedError("the kept epoch secret is not the current epoch's");
  }
  return current;
}

/**
 * The owner's state as versioned bytes (they contain every secret: store them encrypted).
 *
 * @param state - the owner's state
 * @returns `head ‖ owner secrets ‖ roster ‖ members ‖ history ‖ window`
 */
export function writeOwnerState(state: OwnerGroupState): Uint8Array {
  const writer = new StateWriter();
  writeHead(writer, ownerMagic, state.group);
  writeOwnerSecrets(writer, state);
  writer.roster(state.roster);
  writer.u32(state.members.size);
  for (const [leaf, record] of state.members) {
    writer.u32(leaf);
    writer.u64(record.leafEpoch);
    writer.fixed(record.leafSecret);
    writer.fixed(record.prekey);
  }
  writeHistory(writer, state.history);
  writeWindow(writer, state.window);
  return writer.finish();
}

/**
 * Reads what {@link writeOwnerState} wrote, and checks that it hangs together.
 *
 * @param provider - the crypto provider (restored epochs use it)
 * @param bytes - the saved state
 * @returns the owner's state
 * @throws {TypeError} when `bytes` is not a `Uint8Array`
 * @throws {@link StateCorruptedError} for bytes that are not a valid owner state of a known version
 */
export function readOwnerState(provider: CryptoProvider, bytes: Uint8Array): OwnerGroupState {
  return restoring("owner group", bytes, (reader) => {
    const group = readHead(reader, ownerMagic, "owner group");
    const secrets = readOwnerSecrets(reader);
    const roster: Roster = reader.roster();
    const members = new Map<number, MemberRecord>();
    const memberCount = reader.count();
    for (let i = 0; i < memberCount; i++) {
      const memberLeaf = reader.u32();
      const leafEpoch = reader.u64();
      members.set(memberLeaf, {
        leafEpoch,
        leafSecret: reader.fixed(32),
        prekey: reader.fixed(32),
      });
      if (roster[memberLeaf] === undefined || memberLeaf === secrets.leaf) {
        throw new StateCorruptedError(`member leaf ${memberLeaf} is not in the roster`);
      }
    }
    const history = readHistory(reader);
    const window = readWindow(provider, reader);
    checkOwnerEpoch(provider, group, secrets, window, roster);
    return { group, ...secrets, roster, members, history, window };
  });
}

/** The member's fields both formats start with (after the head). */
type MemberSecrets = Pick<
  MemberGroupState,
  | "leaf"
  | "removed"
  | "signingSecretKey"
  | "identityKey"
  | "prekeys"
  | "leafEpoch"
  | "leafSecret"
  | "initSecret"
  | "epoch"
  | "keyId"
>;

/**
 * `u32 leaf ‖ u8 removed ‖ signing secret ‖ identity key ‖ prekeys ‖ u64 leaf epoch ‖ leaf secret ‖
 * [init_secret] ‖ u64 epoch ‖ key_id`.
 */
export function writeMemberSecrets(writer: StateWriter, state: MemberSecrets): void {
  writer.u32(state.leaf);
  writer.u8(state.removed ? 1 : 0);
  writer.fixed(state.signingSecretKey);
  writer.fixed(state.identityKey);
  writer.u32(state.prekeys.length);
  for (const prekey of state.prekeys) {
    writer.fixed(prekey.secretKey);
    writer.fixed(prekey.publicKey);
  }
  writer.u64(state.leafEpoch);
  writer.fixed(state.leafSecret);
  writer.u8(state.initSecret === undefined ? 0 : 1);
  if (state.initSecret !== undefined) writer.fixed(state.initSecret);
  writer.u64(state.epoch);
  writer.fixed(state.keyId);
}

/** Reads what {@link writeMemberSecrets} wrote. */
export function readMemberSecrets(reader: StateReader): MemberSecrets {
  const leaf = reader.u32();
  const removed = reader.flag();
  const signingSecretKey = reader.fixed(32);
  const identityKey = reader.fixed(32);
  const prekeyCount = reader.count();
  if (prekeyCount < 1 || prekeyCount > maxStoredPrekeys) {
    throw new StateCorruptedError(`${prekeyCount} prekeys`);
  }
  const prekeys: PrekeyPair[] = [];
  for (let i = 0; i < prekeyCount; i++) {
    prekeys.push({ secretKey: reader.fixed(32), publicKey: reader.fixed(32) });
  }
  return {
    leaf,
    removed,
    signingSecretKey,
    identityKey,
    prekeys,
    leafEpoch: reader.u64(),
    leafSecret: reader.fixed(32),
    initSecret: reader.flag() ? reader.fixed(32) : undefined,
    epoch: reader.u64(),
    keyId: reader.fixed(wireLimits.keyIdBytes),
  };
}

/** `u8 pending ‖ [key_id ‖ u64 epoch ‖ u32 chunks ‖ u32 seen ‖ u32 index…]`. */
export function writePending(writer: StateWriter, pending: PendingUpdate | undefined): void {
  writer.u8(pending === undefined ? 0 : 1);
  if (pending === undefined) return;
  writer.fixed(pending.keyId);
  writer.u64(pending.epoch);
  writer.u32(pending.chunkCount);
  writer.u32(pending.seen.size);
  for (const index of pending.seen) writer.u32(index);
}

/** Reads what {@link writePending} wrote. */
export function readPending(reader: StateReader): PendingUpdate | undefined {
  if (!reader.flag()) return undefined;
  const keyId = reader.fixed(wireLimits.keyIdBytes);
  const epoch = reader.u64();
  const chunkCount = reader.u32();
  const seenCount = reader.count();
  const seen = new Set<number>();
  for (let i = 0; i < seenCount; i++) seen.add(reader.u32());
  return { keyId, epoch, chunkCount, seen };
}

/**
 * A member's state as versioned bytes (they contain every secret: store them encrypted).
 *
 * @param state - the member's state
 * @returns `head ‖ member secrets ‖ roster ‖ [pending KeyUpdate] ‖ window`
 */
export function writeMemberState(state: MemberGroupState): Uint8Array {
  const writer = new StateWriter();
  writeHead(writer, memberMagic, state.group);
  writeMemberSecrets(writer, state);
  writer.roster(state.roster);
  writePending(writer, state.pending);
  writeWindow(writer, state.window);
  return writer.finish();
}

/**
 * Reads what {@link writeMemberState} wrote, and checks that it hangs together.
 *
 * @param provider - the crypto provider (restored epochs use it)
 * @param bytes - the saved state
 * @returns the member's state
 * @throws {TypeError} when `bytes` is not a `Uint8Array`
 * @throws {@link StateCorruptedError} for bytes that are not a valid member state of a known version
 */
export function readMemberState(provider: CryptoProvider, bytes: Uint8Array): MemberGroupState {
  return restoring("member group", bytes, (reader) => {
    const group = readHead(reader, memberMagic, "member group");
    const secrets = readMemberSecrets(reader);
    const roster = reader.roster();
    const pending = readPending(reader);
    const window = readWindow(provider, reader);
    if (!secrets.removed && (window.current === undefined || secrets.initSecret === undefined)) {
      throw new StateCorruptedError("an active member without a current epoch");
    }
    // Format 1 predates delegate KeyUpdates: no rekey secret until the next epoch.
    return { group, ...secrets, roster, pending, window, rekeySecret: undefined, forkPoints: [] };
  });
}
