/**
 * The state of one Double Ratchet session (the spec's state variables, §3.2, named in words), how a
 * session starts, and the skipped-message-key store with its limits.
 *
 * Internal except {@link pairwiseLimits} (public, re-exported by `common.ts`).
 *
 * @module
 */
import { toHex } from "@orgchat/base";
import type { KeyPair } from "./provider.js";
import { wipe } from "./secret.js";

/**
 * Limits of a pairwise session (docs/PROTOCOL.md).
 */
export const pairwiseLimits = {
  /** Messages one received message may skip in one chain (the spec's MAX_SKIP). */
  maxSkip: 1000,
  /** Skipped message keys kept per session; the oldest is evicted (and wiped) beyond it. */
  maxSkippedKeys: 2000,
  /**
   * Earlier receiving chains remembered (ratchet key and length) so that a late duplicate from one
   * is reported as `DuplicateMessageError`; older ones are forgotten and such a message then fails
   * as `DecryptionFailedError`. Skipped keys of a forgotten chain stay usable.
   */
  maxPreviousChains: 64,
} as const;

export interface SkippedKey {
  readonly ratchetKey: Uint8Array;
  readonly messageNumber: number;
  readonly messageKey: Uint8Array;
}

export interface PreviousChain {
  readonly ratchetKey: Uint8Array;
  readonly length: number;
}

/** The spec's state variables (§3.2), named in words. */
export interface RatchetState {
  /** RK */
  rootKey: Uint8Array;
  /** DHs */
  sendingKeyPair: KeyPair;
  /** DHr */
  receivingKey: Uint8Array | undefined;
  /** CKs (absent only for a responder before its first message, which never escapes `respond`) */
  sendingChainKey: Uint8Array | undefined;
  /** CKr */
  receivingChainKey: Uint8Array | undefined;
  /** Ns */
  sendCount: number;
  /** Nr */
  receiveCount: number;
  /** PN */
  previousSendCount: number;
  /** MKSKIPPED, insertion-ordered (oldest first), keyed by `hex(ratchet key):n`. */
  skipped: Map<string, SkippedKey>;
  previousChains: PreviousChain[];
  /** Initiator only: the X3DH signed prekey id while `PairwiseMessage.x3dh` is still attached. */
  pendingSignedPrekeyId: number | undefined;
  /** Initiator only: the X3DH header's initiator signature, attached with it. */
  pendingInitiatorSignature: Uint8Array | undefined;
}

/**
 * A session's state before its first message (§3.3 `RatchetInitAlice` / `RatchetInitBob`): the
 * given keys, no receiving chain, every counter at zero, nothing skipped.
 */
export function initialState(
  keys: Pick<
    RatchetState,
    | "rootKey"
    | "sendingKeyPair"
    | "receivingKey"
    | "sendingChainKey"
    | "pendingSignedPrekeyId"
    | "pendingInitiatorSignature"
  >,
): RatchetState {
  return {
    ...keys,
    receivingChainKey: undefined,
    sendCount: 0,
    receiveCount: 0,
    previousSendCount: 0,
    skipped: new Map(),
    previousChains: [],
  };
}

/** Adds skipped keys (oldest first) and evicts the oldest beyond the session limit. */
export function storeSkipped(state: RatchetState, keys: SkippedKey[]): void {
  for (const key of keys) state.skipped.set(skippedId(key.ratchetKey, key.messageNumber), key);
  for (const [id, key] of state.skipped) {
    if (state.skipped.size <= pairwiseLimits.maxSkippedKeys) break;
    wipe(key.messageKey);
    state.skipped.delete(id);
  }
}

/** The key of a skipped message key in `RatchetState.skipped`. */
export function skippedId(ratchetKey: Uint8Array, messageNumber: number): string {
  return `${toHex(ratchetKey)}:${messageNumber}`;
}
