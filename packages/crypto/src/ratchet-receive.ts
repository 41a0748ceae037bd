/**
 * The receive side of the Double Ratchet (the spec's `RatchetDecrypt`, with `TrySkippedMessageKeys`,
 * `SkipMessageKeys` and `DHRatchet`), computed aside from the session's state: nothing changes until
 * the message authenticated and the plan is committed, so a forged or altered message leaves the
 * session exactly as it was.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */
import { concatBytes } from "@orgchat/base";
import type { PairwiseMessage } from "@orgchat/wire";
import { constantTimeEqual } from "./constant-time.js";
import { DecryptionFailedError, DuplicateMessageError, GenerationTooFarError } from "./errors.js";
import { headerBytes } from "./pairwise-header.js";
import type { CryptoProvider } from "./provider.js";
import { chainMessageKey, kdfRk, messageKeys, nextChainKey, ratchetDh } from "./ratchet-keys.js";
import {
  pairwiseLimits,
  type RatchetState,
  type SkippedKey,
  skippedId,
  storeSkipped,
} from "./ratchet-state.js";
import { wipe } from "./secret.js";

/** A received message's parsed header. */
interface ReceivedHeader {
  readonly ratchetKey: Uint8Array;
  readonly messageNumber: number;
  readonly previousChainLength: number;
}

/** Keys derived for a received message, applied by `commit` only after authentication. */
export interface DecryptPlan {
  readonly plaintext: Uint8Array;
  commit(): void;
}

/**
 * The receive side of the spec's `RatchetDecrypt` (with `TrySkippedMessageKeys`, `SkipMessageKeys`
 * and `DHRatchet`) computed aside from `state`: nothing in `state` changes until `commit()`.
 */
export function planDecrypt(
  provider: CryptoProvider,
  state: RatchetState,
  associatedData: Uint8Array,
  message: PairwiseMessage,
): DecryptPlan {
  const header: ReceivedHeader = message;
  const aad = concatBytes(associatedData, headerBytes(message));
  const n = header.messageNumber;

  // TrySkippedMessageKeys
  const id = skippedId(header.ratchetKey, n);
  const stored = state.skipped.get(id);
  if (stored !== undefined) {
    const plaintext = open(provider, stored.messageKey, message.ciphertext, aad);
    return {
      plaintext,
      commit() {
        state.skipped.delete(id);
        wipe(stored.messageKey);
      },
    };
  }

  // Current receiving chain
  if (
    state.receivingKey !== undefined &&
    constantTimeEqual(header.ratchetKey, state.receivingKey)
  ) {
    if (n < state.receiveCount) {
      throw new DuplicateMessageError(`pairwise message ${n} of the current chain`);
    }
    const chainKey = state.receivingChainKey;
    // A receiving key with no chain is the initiator's placeholder (the owner's signed prekey):
    // the owner never sends under it.
    if (chainKey === undefined) throw new DecryptionFailedError();
    const walk = walkChain(provider, chainKey, state.receiveCount, n, header.ratchetKey);
    const plaintext = openOrWipe(provider, walk, message.ciphertext, aad);
    return {
      plaintext,
      commit() {
        wipe(chainKey);
        state.receivingChainKey = walk.chainKey;
        state.receiveCount = n + 1;
        storeSkipped(state, walk.skipped);
      },
    };
  }

  // An earlier receiving chain: its keys were used or are held as skipped keys.
  const previous = state.previousChains.find((chain) =>
    constantTimeEqual(chain.ratchetKey, header.ratchetKey),
  );
  if (previous !== undefined) {
    if (n < previous.length) {
      throw new DuplicateMessageError(`pairwise message ${n} of an earlier chain`);
    }
    throw new DecryptionFailedError();
  }

  // A new ratchet key: DHRatchet, after skipping the rest of the current receiving chain.
  const oldChainKey = state.receivingChainKey;
  const oldEnd = Math.max(state.receiveCount, header.previousChainLength);
  if (oldChainKey !== undefined && oldEnd - state.receiveCount > pairwiseLimits.maxSkip) {
    throw new GenerationTooFarError(
      `previous chain length ${header.previousChainLength}, ${state.receiveCount} received`,
    );
  }
  if (n > pairwiseLimits.maxSkip) {
    throw new GenerationTooFarError(`message ${n} opens a new chain`);
  }
  const secrets: Uint8Array[] = [];
  let oldSkipped: SkippedKey[] = [];
  let oldChainEndKey: Uint8Array | undefined;
  try {
    if (oldChainKey !== undefined && state.receivingKey !== undefined) {
      const old = skipOnly(provider, oldChainKey, state.receiveCount, oldEnd, state.receivingKey);
      oldSkipped = old.skipped;
      oldChainEndKey = old.chainKey;
      secrets.push(old.chainKey, ...old.skipped.map((key) => key.messageKey));
    }
    const receiveDh = ratchetDh(provider, state.sendingKeyPair.secretKey, header.ratchetKey);
    secrets.push(receiveDh);
    const [rootKey1, receivingChainKey] = kdfRk(provider, state.rootKey, receiveDh);
    secrets.push(rootKey1, receivingChainKey);
    const nextKeyPair = provider.x25519KeyPair();
    secrets.push(nextKeyPair.secretKey);
    const sendDh = ratchetDh(provider, nextKeyPair.secretKey, header.ratchetKey);
    secrets.push(sendDh);
    const [rootKey2, sendingChainKey] = kdfRk(provider, rootKey1, sendDh);
    secrets.push(rootKey2, sendingChainKey);
    const walk = walkChain(provider, receivingChainKey, 0, n, header.ratchetKey);
    secrets.push(walk.chainKey, walk.messageKey, ...walk.skipped.map((key) => key.messageKey));
    const plaintext = open(provider, walk.messageKey, message.ciphertext, aad);
    wipe(walk.messageKey, receiveDh, sendDh, rootKey1, receivingChainKey, oldChainEndKey);
    return {
      plaintext,
      commit() {
        if (state.receivingKey !== undefined && oldChainKey !== undefined) {
          state.previousChains.push({ ratchetKey: state.receivingKey, length: oldEnd });
          if (state.previousChains.length > pairwiseLimits.maxPreviousChains) {
            state.previousChains.shift();
          }
        }
        wipe(state.rootKey, state.sendingKeyPair.secretKey, state.sendingChainKey, oldChainKey);
        state.previousSendCount = state.sendCount;
        state.sendCount = 0;
        state.receiveCount = n + 1;
        state.receivingKey = header.ratchetKey.slice();
        state.receivingChainKey = walk.chainKey;
        state.rootKey = rootKey2;
        state.sendingKeyPair = nextKeyPair;
        state.sendingChainKey = sendingChainKey;
        storeSkipped(state, [...oldSkipped, ...walk.skipped]);
      },
    };
  } catch (error) {
    wipe(...secrets);
    throw error;
  }
}

interface ChainWalk {
  /** Chain key after the target message. */
  readonly chainKey: Uint8Array;
  /** Message key of the target message. */
  readonly messageKey: Uint8Array;
  /** Keys of the messages skipped on the way. */
  readonly skipped: SkippedKey[];
}

/**
 * KDF_CK from generation `from` (chain key `chainKey`) to message `to`, keeping the skipped keys.
 * `chainKey` itself is left untouched (the caller wipes it on commit).
 */
function walkChain(
  provider: CryptoProvider,
  chainKey: Uint8Array,
  from: number,
  to: number,
  ratchetKey: Uint8Array,
): ChainWalk {
  if (to - from > pairwiseLimits.maxSkip) {
    throw new GenerationTooFarError(`message ${to}, ${from} received in its chain`);
  }
  const head = skipOnly(provider, chainKey, from, to, ratchetKey);
  const messageKey = chainMessageKey(provider, head.chainKey);
  const next = nextChainKey(provider, head.chainKey);
  if (head.chainKey !== chainKey) wipe(head.chainKey);
  return { chainKey: next, messageKey, skipped: head.skipped };
}

/** KDF_CK from `from` to `to` (exclusive), keeping every message key: `SkipMessageKeys`. */
function skipOnly(
  provider: CryptoProvider,
  chainKey: Uint8Array,
  from: number,
  to: number,
  ratchetKey: Uint8Array,
): { chainKey: Uint8Array; skipped: SkippedKey[] } {
  const skipped: SkippedKey[] = [];
  let current = chainKey;
  for (let i = from; i < to; i++) {
    skipped.push({
      ratchetKey: ratchetKey.slice(),
      messageNumber: i,
      messageKey: chainMessageKey(provider, current),
    });
    const next = nextChainKey(provider, current);
    if (current !== chainKey) wipe(current);
    current = next;
  }
  return { chainKey: current === chainKey ? chainKey.slice() : current, skipped };
}

function openOrWipe(
  provider: CryptoProvider,
  walk: ChainWalk,
  ciphertext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  try {
    return open(provider, walk.messageKey, ciphertext, aad);
  } catch (error) {
    wipe(walk.chainKey, ...walk.skipped.map((key) => key.messageKey));
    throw error;
  } finally {
    wipe(walk.messageKey);
  }
}

function open(
  provider: CryptoProvider,
  messageKey: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  const { key, nonce } = messageKeys(provider, messageKey);
  try {
    return provider.aesGcmOpen(key, nonce, ciphertext, aad);
  } finally {
    wipe(key, nonce);
  }
}
