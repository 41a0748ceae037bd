/**
 * The sender data of a group message (docs/PROTOCOL.md, "Group messages", step 5): `u32 leaf ‖
 * u32 generation ‖ 4-byte reuse guard`, sealed with AES-GCM under a key and nonce expanded from the
 * epoch's sender-data secret and a 16-byte sample of the content ciphertext. It tells a receiver
 * which chain and generation to use without revealing the sender to outsiders.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */
import { labelInfo } from "./kdf.js";
import type { CryptoProvider } from "./provider.js";
import { wipe } from "./secret.js";
import { getU32, putU32 } from "./state-bytes.js";

/** Bytes of the ciphertext sampled into the sender-data key and nonce. */
const sampleBytes = 16;
/** `u32 leaf ‖ u32 generation ‖ guard (4)`. */
const senderDataPlainBytes = 12;
/** Sealed sender data: the 12 plain bytes and a 16-byte tag. */
export const senderDataBytes = senderDataPlainBytes + 16;

// Sender-data key and nonce: ExpandWithLabel(sender_data_secret, "key"/"nonce", sample, L). Only the
// 16-byte sample at the end changes: templates built once by kdf.labelInfo and patched per message
// (every provider call is synchronous and keeps no reference to `info`).
const senderKeyInfo = labelInfo("key", new Uint8Array(sampleBytes), 32);
const senderNonceInfo = labelInfo("nonce", new Uint8Array(sampleBytes), 12);

function withSample(info: Uint8Array, sample: Uint8Array): Uint8Array {
  info.set(sample, info.length - sampleBytes);
  return info;
}

/** What the sender data says. */
export interface SenderData {
  readonly leaf: number;
  readonly generation: number;
  /** The 4-byte reuse guard XORed into the content nonce. */
  readonly guard: Uint8Array;
}

/**
 * XORs the reuse guard into the first four bytes of a content nonce, in place.
 *
 * @param nonce - the chain's 12-byte nonce (changed)
 * @param guard - the 4-byte reuse guard
 */
export function applyReuseGuard(nonce: Uint8Array, guard: Uint8Array): void {
  nonce[0] = (nonce[0] as number) ^ (guard[0] as number);
  nonce[1] = (nonce[1] as number) ^ (guard[1] as number);
  nonce[2] = (nonce[2] as number) ^ (guard[2] as number);
  nonce[3] = (nonce[3] as number) ^ (guard[3] as number);
}

/**
 * Derives the sender-data key and nonce for a ciphertext and runs `use` with them; both are wiped
 * afterwards, whatever happens.
 */
function withSenderKeys<T>(
  provider: CryptoProvider,
  secret: Uint8Array,
  ciphertext: Uint8Array,
  use: (key: Uint8Array, nonce: Uint8Array) => T,
): T {
  const sample = ciphertext.subarray(0, sampleBytes);
  let key: Uint8Array | undefined;
  let nonce: Uint8Array | undefined;
  try {
    key = provider.hkdfExpand(secret, withSample(senderKeyInfo, sample), 32);
    nonce = provider.hkdfExpand(secret, withSample(senderNonceInfo, sample), 12);
    return use(key, nonce);
  } finally {
    wipe(key, nonce);
  }
}

/**
 * Seals the sender data of a message.
 *
 * @param provider - the primitives
 * @param secret - the epoch's sender-data secret
 * @param ciphertext - the message's content ciphertext (its first 16 bytes are sampled)
 * @param data - the sender's leaf, generation and reuse guard
 * @param aad - `key_id ‖ u32 content_type`
 * @returns the sealed sender data ({@link senderDataBytes} bytes)
 */
export function sealSenderData(
  provider: CryptoProvider,
  secret: Uint8Array,
  ciphertext: Uint8Array,
  data: SenderData,
  aad: Uint8Array,
): Uint8Array {
  return withSenderKeys(provider, secret, ciphertext, (key, nonce) => {
    const plain = new Uint8Array(senderDataPlainBytes);
    putU32(plain, 0, data.leaf);
    putU32(plain, 4, data.generation);
    plain.set(data.guard, 8);
    return provider.aesGcmSeal(key, nonce, plain, aad);
  });
}

/**
 * Opens the sender data of a received message.
 *
 * @param provider - the primitives
 * @param secret - the epoch's sender-data secret
 * @param ciphertext - the message's content ciphertext (its first 16 bytes are sampled)
 * @param sealed - the message's sender data ({@link senderDataBytes} bytes: the caller checked)
 * @param aad - `key_id ‖ u32 content_type`
 * @returns the sender's leaf, generation and reuse guard (not yet authenticated as the sender's)
 * @throws {@link DecryptionFailedError} when the sender data does not authenticate
 */
export function openSenderData(
  provider: CryptoProvider,
  secret: Uint8Array,
  ciphertext: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): SenderData {
  const plain = withSenderKeys(provider, secret, ciphertext, (key, nonce) =>
    provider.aesGcmOpen(key, nonce, sealed, aad),
  );
  return { leaf: getU32(plain, 0), generation: getU32(plain, 4), guard: plain.subarray(8, 12) };
}
