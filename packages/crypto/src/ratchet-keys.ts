/**
 * The Double Ratchet's key derivations with orgchat's KDFs (docs/PROTOCOL.md, "Pairwise channel";
 * layout in double-ratchet.ts): `KDF_RK`, `KDF_CK` and the message key's AES-GCM key and nonce, and
 * the DH step on a received ratchet key.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */
import { DecryptionFailedError, isInvalidPublicKeyError } from "./errors.js";
import { expandWithLabel } from "./kdf.js";
import type { CryptoProvider } from "./provider.js";
import { wipe } from "./secret.js";

const constant01 = Uint8Array.of(0x01);
const constant02 = Uint8Array.of(0x02);
const empty = new Uint8Array(0);

/** `KDF_CK(ck)`, message half: `mk = HMAC(ck, 0x01)`. */
export function chainMessageKey(provider: CryptoProvider, chainKey: Uint8Array): Uint8Array {
  return provider.hmacSha256(chainKey, constant01);
}

/** `KDF_CK(ck)`, chain half: `ck' = HMAC(ck, 0x02)`. */
export function nextChainKey(provider: CryptoProvider, chainKey: Uint8Array): Uint8Array {
  return provider.hmacSha256(chainKey, constant02);
}

/** `KDF_RK(rk, dh) = ExpandWithLabel(HKDF-Extract(rk, dh), "ratchet root", "", 64)`. */
export function kdfRk(
  provider: CryptoProvider,
  rootKey: Uint8Array,
  dh: Uint8Array,
): [Uint8Array, Uint8Array] {
  const prk = provider.hkdfExtract(rootKey, dh);
  const out = expandWithLabel(provider, prk, "ratchet root", empty, 64);
  const result: [Uint8Array, Uint8Array] = [out.slice(0, 32), out.slice(32, 64)];
  wipe(prk, out);
  return result;
}

/** `key ‖ nonce = ExpandWithLabel(mk, "ratchet message", "", 44)`. */
export function messageKeys(
  provider: CryptoProvider,
  messageKey: Uint8Array,
): { key: Uint8Array; nonce: Uint8Array } {
  const out = expandWithLabel(provider, messageKey, "ratchet message", empty, 44);
  const result = { key: out.slice(0, 32), nonce: out.slice(32, 44) };
  wipe(out);
  return result;
}

/** X25519 on a received ratchet key; a small-order key cannot come from an honest peer. */
export function ratchetDh(provider: CryptoProvider, secretKey: Uint8Array, publicKey: Uint8Array) {
  try {
    return provider.x25519(secretKey, publicKey);
  } catch (cause) {
    if (isInvalidPublicKeyError(cause)) throw new DecryptionFailedError({ cause });
    throw cause;
  }
}
