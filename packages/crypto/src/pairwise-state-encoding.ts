/**
 * The versioned byte layout of a `PairwiseSession` (documented on `PairwiseSession.serialize`),
 * sealed with its SHA-256 (`body ‖ SHA-256(body)`): every failure to restore is a
 * {@link StateCorruptedError}.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */
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
import { appendDigest, checkDigest, StateReader, StateWriter } from "./state-bytes.js";

const stateVersion = 1;
/**
 * Version 1 with AD reduced to `IKdh_M`: the reader supplies `IK_M` and `IK_O ‖ IKdh_O`
 * ({@link KnownSessionKeys}).
 */
const stateVersionKnownKeysOmitted = 2;

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
 * @returns the bytes (they contain secrets)
 */
export function writePairwiseState(
  provider: CryptoProvider,
  session: PairwiseSessionState,
  omitKnownKeys = false,
): Uint8Array {
  const state = session.ratchet;
  const flags =
    (state.receivingKey ? 1 : 0) |
    (state.sendingChainKey ? 2 : 0) |
    (state.receivingChainKey ? 4 : 0) |
    (state.pendingSignedPrekeyId === undefined ? 0 : 8);
  const writer = new StateWriter();
  writer.u8(omitKnownKeys ? stateVersionKnownKeysOmitted : stateVersion);
  writer.u8(roles.indexOf(session.role));
  writer.u8(flags);
  writer.fixed(omitKnownKeys ? session.associatedData.subarray(32, 64) : session.associatedData);
  writer.fixed(session.initialEphemeralKey);
  writer.fixed(state.rootKey);
  writer.fixed(state.sendingKeyPair.secretKey);
  if (state.receivingKey) writer.fixed(state.receivingKey);
  if (state.sendingChainKey) writer.fixed(state.sendingChainKey);
  if (state.receivingChainKey) writer.fixed(state.receivingChainKey);
  writer.u32(state.sendCount);
  writer.u32(state.receiveCount);
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
  return appendDigest(provider, writer.finish());
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
