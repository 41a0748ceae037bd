/**
 * The versioned byte layout of a `PairwiseSession` (documented on `PairwiseSession.serialize`),
 * sealed with its SHA-256 (`body ‖ SHA-256(body)`): every failure to restore is a
 * {@link StateCorruptedError}.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */

import { constantTimeEqual } from "./constant-time.js";
import type { KnownSessionKeys, PairwiseRole } from "./double-ratchet.js";
import { StateCorruptedError } from "./errors.js";
import type { CryptoProvider } from "./provider.js";
import {
  type PreviousChain,
  pairwiseLimits,
  type RatchetState,
  type SkippedKey,
  skippedId,
} from "./ratchet-state.js";
import {
  appendDigest,
  checkDigest,
  getU32,
  putU32,
  StateReader,
  StateWriter,
} from "./state-bytes.js";

const stateVersion = 1;
/**
 * Version 1 with AD reduced to `IKdh_M`: the reader supplies `IK_M` and `IK_O ‖ IKdh_O`
 * ({@link KnownSessionKeys}).
 */
const stateVersionKnownKeysOmitted = 2;
/**
 * A chain record: one chain's key and count over a stored version 1 or 2 base
 * ({@link writePairwiseChain}). Never a whole state: {@link readPairwiseState} refuses it.
 */
const chainVersion = 3;

const roles = ["initiator", "responder"] as const;

/** Everything a `PairwiseSession` saves. */
export interface PairwiseSessionState {
  readonly role: PairwiseRole;
  /** `AD = IK_M ‖ IKdh_M ‖ IK_O ‖ IKdh_O` (public). */
  readonly associatedData: Uint8Array;
  /** The initiator's X3DH ephemeral key `EK` (public). */
  readonly initialEphemeralKey: Uint8Array;
  readonly ratchet: RatchetState;
}

/**
 * The session's state as sealed, versioned bytes.
 *
 * @param provider - the primitives (SHA-256 of the seal)
 * @param session - the session's state
 * @param omitKnownKeys - write version 2 (AD reduced to `IKdh_M`)
 * @returns the bytes (they contain secrets)
 */
export function writePairwiseState(
  provider: CryptoProvider,
  session: PairwiseSessionState,
  omitKnownKeys = false,
): Uint8Array {
  return appendDigest(provider, writeBody(session, omitKnownKeys, true));
}

/**
 * SHA-256 of the state with its moving fields (`CKs`, `CKr`, `Ns`, `Nr`) zeroed: equal for two
 * states exactly when chain records (version 3) can carry the step from one to the other.
 *
 * @param provider - the primitives
 * @param session - the session's state
 * @param omitKnownKeys - as the base it is compared with was written
 * @returns 32 bytes
 */
export function pairwiseStaticDigest(
  provider: CryptoProvider,
  session: PairwiseSessionState,
  omitKnownKeys: boolean,
): Uint8Array {
  const body = writeBody(session, omitKnownKeys, false);
  const digest = provider.sha256(body);
  body.fill(0);
  return digest;
}

function writeBody(
  session: PairwiseSessionState,
  omitKnownKeys: boolean,
  withChains: boolean,
): Uint8Array {
  const state = session.ratchet;
  const flags = stateFlags(state);
  const writer = new StateWriter();
  writer.u8(omitKnownKeys ? stateVersionKnownKeysOmitted : stateVersion);
  writer.u8(roles.indexOf(session.role));
  writer.u8(flags);
  writer.fixed(omitKnownKeys ? session.associatedData.subarray(32, 64) : session.associatedData);
  writer.fixed(session.initialEphemeralKey);
  writer.fixed(state.rootKey);
  writer.fixed(state.sendingKeyPair.secretKey);
  if (state.receivingKey) writer.fixed(state.receivingKey);
  const zero = new Uint8Array(32);
  if (state.sendingChainKey) writer.fixed(withChains ? state.sendingChainKey : zero);
  if (state.receivingChainKey) writer.fixed(withChains ? state.receivingChainKey : zero);
  writer.u32(withChains ? state.sendCount : 0);
  writer.u32(withChains ? state.receiveCount : 0);
  writer.u32(state.previousSendCount);
  if (state.pendingSignedPrekeyId !== undefined) {
    writer.u32(state.pendingSignedPrekeyId);
    writer.fixed(state.pendingInitiatorSignature ?? new Uint8Array(64));
  }
  writer.u16(state.previousChains.length);
  for (const chain of state.previousChains) {
    writer.fixed(chain.ratchetKey);
    writer.u32(chain.length);
  }
  writer.u16(state.skipped.size);
  for (const skipped of state.skipped.values()) {
    writer.fixed(skipped.ratchetKey);
    writer.u32(skipped.messageNumber);
    writer.fixed(skipped.messageKey);
  }
  return writer.finish();
}

function stateFlags(state: RatchetState): number {
  return (
    (state.receivingKey ? 1 : 0) |
    (state.sendingChainKey ? 2 : 0) |
    (state.receivingChainKey ? 4 : 0) |
    (state.pendingSignedPrekeyId === undefined ? 0 : 8)
  );
}

/** Which chain a chain record carries: 0 the sending chain (`CKs`, `Ns`), 1 the receiving one. */
export type PairwiseChain = "sending" | "receiving";
const chains: readonly PairwiseChain[] = ["sending", "receiving"];

/** The bytes of a chain record's tag (a truncated SHA-256, see {@link writePairwiseChain}). */
const chainTagLength = 8;
/** The length of a chain record: version, chain, chain key, count, tag. */
export const pairwiseChainRecordBytes = 1 + 1 + 32 + 4 + chainTagLength;

/**
 * A chain record (state version 3): one chain's key and count, over a stored version 1 or 2 base
 * whose other fields are the session's, bound to that base by its digest.
 *
 * @param provider - the primitives
 * @param state - the session's ratchet
 * @param chain - which chain
 * @param baseDigest - the last 32 bytes of the stored base (its SHA-256)
 * @returns the bytes (they contain a secret)
 * @throws {@link StateCorruptedError} when the session has no such chain
 */
export function writePairwiseChain(
  provider: CryptoProvider,
  state: RatchetState,
  chain: PairwiseChain,
  baseDigest: Uint8Array,
): Uint8Array {
  const key = chain === "sending" ? state.sendingChainKey : state.receivingChainKey;
  if (key === undefined) throw new StateCorruptedError(`no ${chain} chain`);
  const out = new Uint8Array(pairwiseChainRecordBytes);
  out[0] = chainVersion;
  out[1] = chains.indexOf(chain);
  out.set(key, 2);
  putU32(out, 34, chain === "sending" ? state.sendCount : state.receiveCount);
  out.set(chainTag(provider, out.subarray(0, 38), baseDigest), 38);
  return out;
}

function chainTag(provider: CryptoProvider, body: Uint8Array, baseDigest: Uint8Array) {
  const input = new Uint8Array(body.length + baseDigest.length);
  input.set(body);
  input.set(baseDigest, body.length);
  const tag = provider.sha256(input).subarray(0, chainTagLength);
  input.fill(0);
  return tag;
}

/**
 * Lays a chain record over the state read from its base (in place).
 *
 * @param provider - the primitives
 * @param state - read from `base` by {@link readPairwiseState}
 * @param base - the stored base's bytes
 * @param chain - which chain the record is expected to carry
 * @param record - the chain record
 * @throws {@link StateCorruptedError} when the record is truncated, altered, of another version,
 *   of another base, of the other chain, or of a chain its base does not have
 * @throws {TypeError} when `record` is not a Uint8Array
 */
export function applyPairwiseChain(
  provider: CryptoProvider,
  state: RatchetState,
  base: Uint8Array,
  chain: PairwiseChain,
  record: Uint8Array,
): void {
  if (!(record instanceof Uint8Array)) throw new TypeError(`${chain}: expected a Uint8Array`);
  if (record.length !== pairwiseChainRecordBytes) {
    throw new StateCorruptedError(`${chain} chain record of ${record.length} bytes`);
  }
  const tag = chainTag(provider, record.subarray(0, 38), base.subarray(base.length - 32));
  if (!constantTimeEqual(tag, record.subarray(38))) {
    throw new StateCorruptedError(
      `${chain} chain record does not match its base (altered or stale)`,
    );
  }
  if (record[0] !== chainVersion) {
    throw new StateCorruptedError("unknown PairwiseSession chain record version");
  }
  if (chains[record[1] as number] !== chain) {
    throw new StateCorruptedError(`a chain record read as the ${chain} one is not`);
  }
  const key = record.slice(2, 34);
  const count = getU32(record, 34);
  if (chain === "sending") {
    state.sendingChainKey?.fill(0);
    state.sendingChainKey = key;
    state.sendCount = count;
  } else {
    if (state.receivingChainKey === undefined) {
      throw new StateCorruptedError("a receiving chain record over a base without one");
    }
    state.receivingChainKey.fill(0);
    state.receivingChainKey = key;
    state.receiveCount = count;
  }
}

/**
 * Reads what {@link writePairwiseState} wrote.
 *
 * @param provider - the primitives (the seal; the sending public key is recomputed)
 * @param bytes - the saved session
 * @param known - the parts of AD a version 2 state leaves out (ignored for version 1)
 * @returns the session's state
 * @throws {TypeError} when `bytes` is not a `Uint8Array`, or `known` holds keys of the wrong size
 * @throws {@link StateCorruptedError} when the bytes are truncated, altered, inconsistent or of an
 *   unknown version, or of version 2 without `known`
 */
export function readPairwiseState(
  provider: CryptoProvider,
  bytes: Uint8Array,
  known?: KnownSessionKeys,
): PairwiseSessionState {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes: expected a Uint8Array");
  if (known !== undefined) {
    checkKey(known.initiatorIdentityKey, 32, "initiatorIdentityKey");
    checkKey(known.ownerKeys, 64, "ownerKeys");
  }
  const version = bytes[0];
  if (bytes.length > 0 && version !== stateVersion && version !== stateVersionKnownKeysOmitted) {
    throw new StateCorruptedError(`unknown PairwiseSession state version ${version}`);
  }
  const reader = new StateReader(checkDigest(provider, bytes, "PairwiseSession"));
  reader.u8();
  const role = roles[reader.u8()];
  if (role === undefined) throw new StateCorruptedError("unknown session role");
  const flags = reader.u8();
  if ((flags & ~0x0f) !== 0) throw new StateCorruptedError("unknown state flags");
  let associatedData: Uint8Array;
  if (version === stateVersionKnownKeysOmitted) {
    if (known === undefined) {
      throw new StateCorruptedError("a state without its known keys, and none supplied");
    }
    associatedData = new Uint8Array(128);
    associatedData.set(known.initiatorIdentityKey, 0);
    associatedData.set(reader.fixed(32), 32);
    associatedData.set(known.ownerKeys, 64);
  } else {
    associatedData = reader.fixed(128);
  }
  const initialEphemeralKey = reader.fixed(32);
  const rootKey = reader.fixed(32);
  const sendingSecretKey = reader.fixed(32);
  const receivingKey = flags & 1 ? reader.fixed(32) : undefined;
  const sendingChainKey = flags & 2 ? reader.fixed(32) : undefined;
  const receivingChainKey = flags & 4 ? reader.fixed(32) : undefined;
  const sendCount = reader.u32();
  const receiveCount = reader.u32();
  const previousSendCount = reader.u32();
  const pendingSignedPrekeyId = flags & 8 ? reader.u32() : undefined;
  const pendingInitiatorSignature = flags & 8 ? reader.fixed(64) : undefined;
  if (sendingChainKey === undefined) throw new StateCorruptedError("no sending chain");
  if (receivingChainKey !== undefined && receivingKey === undefined) {
    throw new StateCorruptedError("a receiving chain without its ratchet key");
  }
  if (pendingSignedPrekeyId !== undefined && role !== "initiator") {
    throw new StateCorruptedError("a responder with a pending X3DH header");
  }
  const previousCount = reader.u16();
  if (previousCount > pairwiseLimits.maxPreviousChains) {
    throw new StateCorruptedError(`${previousCount} previous chains`);
  }
  const previousChains: PreviousChain[] = [];
  for (let i = 0; i < previousCount; i++) {
    previousChains.push({ ratchetKey: reader.fixed(32), length: reader.u32() });
  }
  const skippedCount = reader.u16();
  if (skippedCount > pairwiseLimits.maxSkippedKeys) {
    throw new StateCorruptedError(`${skippedCount} skipped keys`);
  }
  const skipped = new Map<string, SkippedKey>();
  for (let i = 0; i < skippedCount; i++) {
    const entry = {
      ratchetKey: reader.fixed(32),
      messageNumber: reader.u32(),
      messageKey: reader.fixed(32),
    };
    const id = skippedId(entry.ratchetKey, entry.messageNumber);
    if (skipped.has(id)) throw new StateCorruptedError("a skipped key is listed twice");
    skipped.set(id, entry);
  }
  reader.end();
  const ratchet: RatchetState = {
    rootKey,
    sendingKeyPair: {
      secretKey: sendingSecretKey,
      publicKey: provider.x25519PublicKey(sendingSecretKey),
    },
    receivingKey,
    sendingChainKey,
    receivingChainKey,
    sendCount,
    receiveCount,
    previousSendCount,
    skipped,
    previousChains,
    pendingSignedPrekeyId,
    pendingInitiatorSignature,
  };
  return { role, associatedData, initialEphemeralKey, ratchet };
}

function checkKey(key: Uint8Array, length: number, name: string): void {
  if (!(key instanceof Uint8Array) || key.length !== length) {
    throw new TypeError(`${name}: expected ${length} bytes`);
  }
}
