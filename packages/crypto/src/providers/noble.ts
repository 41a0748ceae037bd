import { gcm } from "@noble/ciphers/aes.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { bytesToNumberLE, concatBytes } from "@noble/curves/utils.js";
import { expand, extract } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { DecryptionFailedError } from "../errors.js";
import type { CryptoProvider, KeyPair } from "../provider.js";
import { checkBytes, isStrictEd25519PublicKey, pinnedX25519 } from "./checks.js";

/**
 * The pure-JavaScript provider on `@noble/curves`, `@noble/ciphers` and `@noble/hashes` (pinned
 * exactly). What `webCryptoProvider()` (the browser default) runs synchronously; slower than
 * {@link nodeProvider} for X25519 and Ed25519 (about 1 ms vs 35-110 µs per operation on a 2-core
 * server, under Node; about 2x faster in Chromium's V8, see the README's "In browsers").
 *
 * @example
 * ```ts
 * import { nobleProvider } from "@orgchat/crypto";
 * const provider = nobleProvider();
 * const { publicKey } = provider.ed25519KeyPair();
 * ```
 */
export function nobleProvider(): CryptoProvider {
  return {
    name: "noble",
    randomBytes: (length) => randomBytes(length),
    sha256: (data) => sha256(data),
    hmacSha256: (key, data) => hmac(sha256, key, data),
    hkdfExtract: (salt, ikm) => extract(sha256, ikm, salt.length === 0 ? new Uint8Array(32) : salt),
    hkdfExpand(prk, info, length) {
      if (!(prk instanceof Uint8Array)) throw new TypeError("prk: expected a Uint8Array");
      if (prk.length < 32)
        throw new RangeError(`prk: expected at least 32 bytes, got ${prk.length}`);
      if (!Number.isInteger(length) || length < 0 || length > 255 * 32) {
        throw new RangeError(`length: must be 0..8160, got ${length}`);
      }
      return length === 0 ? new Uint8Array(0) : expand(sha256, prk, info, length);
    },

    x25519KeyPair(): KeyPair {
      const secretKey = x25519.utils.randomSecretKey();
      return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
    },
    x25519PublicKey(secretKey) {
      checkBytes(secretKey, 32, "secretKey");
      return x25519.getPublicKey(secretKey);
    },
    x25519(secretKey, publicKey) {
      checkBytes(secretKey, 32, "secretKey");
      checkBytes(publicKey, 32, "publicKey");
      // noble refuses small-order points itself; the shared rule reports it as the node provider does.
      return pinnedX25519(() => x25519.getSharedSecret(secretKey, publicKey));
    },

    ed25519KeyPair(): KeyPair {
      const secretKey = ed25519.utils.randomSecretKey();
      return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
    },
    ed25519PublicKey(secretKey) {
      checkBytes(secretKey, 32, "secretKey");
      return ed25519.getPublicKey(secretKey);
    },
    ed25519Sign(secretKey, message) {
      checkBytes(secretKey, 32, "secretKey");
      return ed25519.sign(message, secretKey);
    },
    ed25519Verify(publicKey, message, signature) {
      if (!(publicKey instanceof Uint8Array) || !(signature instanceof Uint8Array)) return false;
      if (!(message instanceof Uint8Array)) return false;
      if (publicKey.length !== 32 || signature.length !== 64) return false;
      if (!isStrictEd25519PublicKey(publicKey)) return false;
      // The pinned rule is RFC 8032's cofactorless equation [S]B = R + [k]A, as OpenSSL checks it.
      // noble's own verify() is cofactored ([8][S]B = [8]R + [8][k]A), which accepts signatures with a
      // small-order component that OpenSSL refuses, so members on different providers would disagree.
      const encodedR = signature.subarray(0, 32);
      const s = bytesToNumberLE(signature.subarray(32));
      if (s >= ed25519.Point.Fn.ORDER) return false;
      let A: typeof ed25519.Point.BASE;
      let R: typeof ed25519.Point.BASE;
      try {
        A = ed25519.Point.fromBytes(publicKey, false);
        R = ed25519.Point.fromBytes(encodedR, false);
      } catch {
        // R (or A) is not a point on the curve: a peer's bad signature is a "false" verdict, never a throw.
        return false;
      }
      const k = ed25519.Point.Fn.create(
        bytesToNumberLE(sha512(concatBytes(encodedR, publicKey, message))),
      );
      return ed25519.Point.BASE.multiplyUnsafe(s).equals(R.add(A.multiplyUnsafe(k)));
    },

    aesGcmSeal(key, nonce, plaintext, aad) {
      checkBytes(key, 32, "key");
      checkBytes(nonce, 12, "nonce");
      return gcm(key, nonce, aad).encrypt(plaintext);
    },
    aesGcmOpen(key, nonce, sealed, aad) {
      checkBytes(key, 32, "key");
      checkBytes(nonce, 12, "nonce");
      if (sealed.length < 16) throw new DecryptionFailedError();
      try {
        return gcm(key, nonce, aad).decrypt(sealed);
      } catch (cause) {
        throw new DecryptionFailedError({ cause });
      }
    },
  };
}
