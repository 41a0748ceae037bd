import * as nodeCrypto from "node:crypto";
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  randomFillSync,
  sign,
  timingSafeEqual,
  verify,
} from "node:crypto";
import { fromHex } from "@orgchat/base";
import {
  DecryptionFailedError,
  InvalidPublicKeyError,
  isInvalidPublicKeyError,
} from "../errors.js";
import type { CryptoProvider, KeyPair } from "../provider.js";
import {
  checkBytes,
  isBytesOfLength,
  isCanonicalScalar,
  isStrictEd25519PublicKey,
  pinnedX25519,
} from "./checks.js";

/** Node's one-shot `crypto.hash` (Node ≥ 20.12 / 21.7), undefined on an older runtime. */
const oneShotHash = (
  nodeCrypto as { hash?: (algorithm: string, data: Uint8Array, encoding: "hex") => string }
).hash;

/** A digest buffer in lowercase hex (where {@link oneShotHash} is missing). */
function toHexString(digest: Buffer): string {
  return digest.toString("hex");
}

/**
 * The provider on node:crypto (OpenSSL): X25519 and Ed25519 are ~10-30x faster than the pure-JS
 * {@link nobleProvider}, with byte-identical outputs and the same accept/reject verdict (checked by
 * the Wycheproof vectors and a cross-provider property test). The default under Node. Both verify
 * Ed25519 with the pinned cofactorless equation: OpenSSL does so itself, and `nobleProvider()` checks
 * `[S]B = R + [k]A` itself instead of calling noble's cofactored `verify()`, so both reject crafted
 * signatures whose `R` or `A` carries a small-order component (test/providers.test.ts, "the pinned
 * cofactorless Ed25519 rule", runs those signatures through both providers).
 *
 * **Key cache.** OpenSSL works on `KeyObject`s, and importing a raw key costs about as much as the
 * operation itself (X25519: ~38 µs import, ~35 µs derivation; the strict Ed25519 key check ~95 µs,
 * verification ~105 µs). Each provider therefore keeps one `WeakMap` per key kind (X25519 secret,
 * X25519 public, Ed25519 secret, Ed25519 public), keyed by the caller's `Uint8Array`: a long-lived key
 * (identity, signing key, prekey, a roster member's key) is imported once and reused for every
 * message, and the entry goes away with the array. Key buffers are treated as immutable: do not
 * overwrite a key array in place to hold another key. As a safety net each entry keeps a private copy
 * of the bytes it was built from and is rebuilt if they no longer match (a 32-byte comparison), so an
 * in-place change costs a re-import, never a wrong result. The Ed25519 public-key cache also
 * remembers the strict-key verdict, so the pure-JS point check runs once per key, and behind it the
 * last {@link maxPublicKeysByContent} Ed25519 public keys are remembered by content: a signer's key
 * decoded anew from every envelope is checked and imported once.
 *
 * **Pinned rules** (see `CryptoProvider`): Ed25519 verification is OpenSSL's RFC 8032 cofactorless
 * check (`[S]B - [k]A` re-encoded and compared with `R`, which also rejects a non-canonical `R`),
 * preceded by the shared strict public-key check and an explicit `S < L` check, so the verdict does
 * not rest on what one OpenSSL version checks; it never throws. X25519 refuses an all-zero shared
 * secret with `InvalidPublicKeyError` (OpenSSL already fails such a derivation; we check again).
 *
 * **Security.** Secret-dependent work (X25519, Ed25519 signing, AES-GCM, HMAC) runs in OpenSSL; the
 * strict Ed25519 key check and the `S < L` check run in JS on public data only. Buffers node:crypto
 * hands back are copied into plain `Uint8Array`s (a node `Buffer` may share a pooled `ArrayBuffer`,
 * and `Buffer#slice` aliases) and the node copies holding secrets are zeroed, as is plaintext that
 * `aesGcmOpen` released before the tag check failed. Zeroing limits: a cached secret key lives on as
 * an OpenSSL `KeyObject` and as the cache's JS copy until the caller's key array is garbage-collected;
 * zeroing that array does not erase them.
 *
 * @returns a {@link CryptoProvider} named `"node"`
 * @throws {TypeError} / {RangeError} from its methods, naming the argument, on inputs of the wrong
 *   type or length; {@link InvalidPublicKeyError} from `x25519`; {@link DecryptionFailedError} from
 *   `aesGcmOpen`
 *
 * @example
 * ```ts
 * import { nodeProvider } from "@orgchat/crypto";
 * const provider = nodeProvider();
 * const alice = provider.x25519KeyPair();
 * const bob = provider.x25519KeyPair();
 * const shared = provider.x25519(alice.secretKey, bob.publicKey);
 * // shared equals provider.x25519(bob.secretKey, alice.publicKey)
 * ```
 */
export function nodeProvider(): CryptoProvider {
  const random = new RandomPool();
  const x25519Publics = keyCache((bytes) => importPublicKey(X25519_SPKI_PREFIX, bytes));
  // null caches a key that fails the pinned strict-encoding rule, so it is judged only once.
  // Judged and imported once per key's content too: a signer's key arrives in a fresh array with
  // every envelope (decoded anew), where the per-array cache alone would check it every time.
  const ed25519Publics = keyCache(
    byContent((bytes) =>
      isStrictEd25519PublicKey(bytes) ? importPublicKey(ED25519_SPKI_PREFIX, bytes) : null,
    ),
  );
  const x25519Keys = keyKind("x25519", X25519_PKCS8_PREFIX, X25519_SPKI_PREFIX, x25519Publics);
  const ed25519Keys = keyKind("ed25519", ED25519_PKCS8_PREFIX, ED25519_SPKI_PREFIX, ed25519Publics);

  return {
    name: "node",

    randomBytes(length) {
      checkLength(length, RANDOM_BYTES_MAX, "length");
      return length <= POOLED_RANDOM_MAX
        ? random.take(length)
        : randomFillSync(new Uint8Array(length));
    },

    sha256(data) {
      checkUint8Array(data, "data");
      return takeBytes(createHash("sha256").update(data).digest());
    },

    // One call into OpenSSL: no `Hash` object (a weak handle for the GC to process), no digest
    // buffer, no hex conversion in JavaScript (a message's id: once per message sent or received).
    sha256Hex(data) {
      checkUint8Array(data, "data");
      return oneShotHash === undefined
        ? toHexString(createHash("sha256").update(data).digest())
        : oneShotHash("sha256", data, "hex");
    },

    hmacSha256(key, data) {
      checkUint8Array(key, "key");
      checkUint8Array(data, "data");
      return hmacSha256(key, data);
    },

    hkdfExtract(salt, ikm) {
      checkUint8Array(salt, "salt");
      checkUint8Array(ikm, "ikm");
      // RFC 5869 §2.2: a missing salt is HashLen zero bytes (HMAC would pad an empty key the same way).
      return hmacSha256(salt.length === 0 ? new Uint8Array(HASH_LENGTH) : salt, ikm);
    },

    hkdfExpand(prk, info, length) {
      checkUint8Array(prk, "prk");
      checkUint8Array(info, "info");
      // RFC 5869 §2.3: PRK is at least HashLen octets (noble enforces it too).
      if (prk.length < HASH_LENGTH) {
        throw new RangeError(`prk: expected at least ${HASH_LENGTH} bytes, got ${prk.length}`);
      }
      checkLength(length, HKDF_MAX_LENGTH, "length");
      return hkdfExpand(prk, info, length);
    },

    x25519KeyPair: () => generateKeyPair(x25519Keys),

    x25519PublicKey: (secretKey) => publicKeyOf(x25519Keys, secretKey),

    x25519(secretKey, publicKey) {
      checkBytes(secretKey, 32, "secretKey");
      checkBytes(publicKey, 32, "publicKey");
      const privateKey = x25519Keys.secrets.get(secretKey);
      // OpenSSL reduces a non-canonical u and masks bit 255 as RFC 7748 §5 says, and fails the
      // derivation itself when the result is all zero; the shared rule checks the result again.
      return pinnedX25519(() =>
        takeBytes(diffieHellman({ privateKey, publicKey: x25519Publics.get(publicKey) })),
      );
    },

    ed25519KeyPair: () => generateKeyPair(ed25519Keys),

    ed25519PublicKey: (secretKey) => publicKeyOf(ed25519Keys, secretKey),

    ed25519Sign(secretKey, message) {
      checkBytes(secretKey, 32, "secretKey");
      checkUint8Array(message, "message");
      return takeBytes(sign(null, message, ed25519Keys.secrets.get(secretKey)));
    },

    ed25519Verify(publicKey, message, signature) {
      // The interface promises a verdict, never a throw, for anything a peer can send.
      if (!isBytesOfLength(publicKey, 32) || !isBytesOfLength(signature, 64)) return false;
      if (!(message instanceof Uint8Array)) return false;
      if (!isCanonicalScalar(signature.subarray(32))) return false;
      let key: KeyObject | null;
      try {
        key = ed25519Publics.get(publicKey);
      } catch (error) {
        // OpenSSL refused to import a peer's raw key: a "false" verdict. Anything else is a bug.
        if (isInvalidPublicKeyError(error)) return false;
        throw error;
      }
      return key !== null && verify(null, message, key, signature);
    },

    aesGcmSeal(key, nonce, plaintext, aad) {
      checkBytes(key, 32, "key");
      checkBytes(nonce, 12, "nonce");
      checkUint8Array(plaintext, "plaintext");
      checkUint8Array(aad, "aad");
      const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: GCM_TAG_LENGTH });
      cipher.setAAD(aad);
      const head = cipher.update(plaintext);
      const tail = cipher.final();
      const tag = cipher.getAuthTag();
      const sealed = new Uint8Array(head.length + tail.length + tag.length);
      sealed.set(head, 0);
      sealed.set(tail, head.length);
      sealed.set(tag, head.length + tail.length);
      return sealed;
    },

    aesGcmOpen(key, nonce, sealed, aad) {
      checkBytes(key, 32, "key");
      checkBytes(nonce, 12, "nonce");
      checkUint8Array(sealed, "sealed");
      checkUint8Array(aad, "aad");
      if (sealed.length < GCM_TAG_LENGTH) throw new DecryptionFailedError();
      const split = sealed.length - GCM_TAG_LENGTH;
      const decipher = createDecipheriv("aes-256-gcm", key, nonce, {
        authTagLength: GCM_TAG_LENGTH,
      });
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(split));
      // update() hands out plaintext before the tag is checked; wipe it if final() refuses the tag.
      const head = decipher.update(sealed.subarray(0, split));
      let tail: Buffer;
      try {
        tail = decipher.final();
      } catch (cause) {
        head.fill(0);
        throw new DecryptionFailedError({ cause });
      }
      const plaintext = new Uint8Array(head.length + tail.length);
      plaintext.set(head, 0);
      plaintext.set(tail, head.length);
      head.fill(0);
      tail.fill(0);
      return plaintext;
    },
  };
}

/**
 * Requests of at most this many bytes (a message's 4-byte reuse guard, a 12-byte nonce) are served
 * from a {@link RandomPool}: one call into OpenSSL per {@link RANDOM_POOL_BYTES} bytes instead of
 * one per request, which cost as much as the rest of a message's sender data. Keys are not: 32-byte
 * secrets come straight from OpenSSL.
 */
const POOLED_RANDOM_MAX = 16;
const RANDOM_POOL_BYTES = 4096;

/**
 * Random bytes drawn from OpenSSL in blocks of {@link RANDOM_POOL_BYTES}, handed out in order; each
 * byte handed out is zeroed in the pool (never served twice, nor kept once served).
 */
class RandomPool {
  readonly #pool = new Uint8Array(RANDOM_POOL_BYTES);
  #at = RANDOM_POOL_BYTES;

  take(length: number): Uint8Array {
    if (this.#at + length > RANDOM_POOL_BYTES) {
      randomFillSync(this.#pool);
      this.#at = 0;
    }
    const out = this.#pool.slice(this.#at, this.#at + length);
    this.#pool.fill(0, this.#at, this.#at + length);
    this.#at += length;
    return out;
  }
}

const HASH_LENGTH = 32;
/** RFC 5869 §2.3: L ≤ 255 × HashLen. */
const HKDF_MAX_LENGTH = 255 * HASH_LENGTH;
const GCM_TAG_LENGTH = 16;
/**
 * The Web Crypto `getRandomValues` quota (noble's `randomBytes` enforces it too): kept here so code
 * tested under Node does not fail in a browser.
 */
const RANDOM_BYTES_MAX = 65_536;

// RFC 8410 DER headers: a PKCS#8 OneAsymmetricKey or an SPKI wrapping a raw 32-byte key.
const X25519_PKCS8_PREFIX = fromHex("302e020100300506032b656e04220420");
const X25519_SPKI_PREFIX = fromHex("302a300506032b656e032100");
const ED25519_PKCS8_PREFIX = fromHex("302e020100300506032b657004220420");
const ED25519_SPKI_PREFIX = fromHex("302a300506032b6570032100");

interface KeyCache<T> {
  /** The cached value for `bytes`, importing (or re-importing, if the bytes changed) as needed. */
  get(bytes: Uint8Array): T;
  /** Records a value already at hand (a freshly generated key) for `bytes`. */
  put(bytes: Uint8Array, value: T): void;
}

/**
 * A per-array cache of imported keys. Each entry keeps a copy of the bytes it was built from: a key
 * array overwritten in place is re-imported instead of answering with the previous key.
 */
function keyCache<T>(importKey: (bytes: Uint8Array) => T): KeyCache<T> {
  const entries = new WeakMap<Uint8Array, { readonly bytes: Uint8Array; readonly value: T }>();
  const put = (bytes: Uint8Array, value: T): void => {
    // new Uint8Array(…) always copies; a node Buffer's slice() would alias the key it guards.
    entries.set(bytes, { bytes: new Uint8Array(bytes), value });
  };
  return {
    get(bytes) {
      const entry = entries.get(bytes);
      // timingSafeEqual: the bytes may be a secret key; its own copy is the only thing compared.
      if (entry !== undefined && timingSafeEqual(entry.bytes, bytes)) return entry.value;
      const value = importKey(bytes);
      put(bytes, value);
      return value;
    },
    put,
  };
}

/**
 * Ed25519 public keys a provider remembers by content (verdict and `KeyObject`), the least recently
 * used forgotten first: every signer of the envelopes a client opens (its organization's owner and
 * members: one import each while it stays among the last this many), bounded since the keys come from
 * the network. ~4,096 × (32 B + a `KeyObject`): well under a megabyte.
 */
export const maxPublicKeysByContent = 4_096;

/**
 * `importKey`, remembered by the bytes' content (public keys only: the map is keyed by the bytes
 * themselves as a latin1 string), at most {@link maxPublicKeysByContent}, least recently used out.
 * A key that fails to import throws and is not remembered.
 */
function byContent<T>(importKey: (bytes: Uint8Array) => T): (bytes: Uint8Array) => T {
  const known = new Map<string, T>();
  return (bytes) => {
    const name = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
    if (known.has(name)) {
      const value = known.get(name) as T;
      known.delete(name);
      known.set(name, value);
      return value;
    }
    const value = importKey(bytes);
    known.set(name, value);
    if (known.size > maxPublicKeysByContent) known.delete(known.keys().next().value as string);
    return value;
  };
}

/** One key type (X25519 or Ed25519): how to make a key pair, its DER headers and its caches. */
interface KeyKind {
  readonly generate: () => { privateKey: KeyObject; publicKey: KeyObject };
  readonly pkcs8Prefix: Uint8Array;
  readonly spkiPrefix: Uint8Array;
  readonly secrets: KeyCache<KeyObject>;
  /** Only `put` is needed here: the Ed25519 cache holds `null` for keys that fail the strict rule. */
  readonly publics: Pick<KeyCache<KeyObject>, "put">;
}

/**
 * A key type with its own secret-key cache.
 *
 * @param type - the OpenSSL key type
 * @param pkcs8Prefix - its PKCS#8 DER header
 * @param spkiPrefix - its SPKI DER header
 * @param publics - its public-key cache (kept by the caller, which also reads it)
 */
function keyKind(
  type: "x25519" | "ed25519",
  pkcs8Prefix: Uint8Array,
  spkiPrefix: Uint8Array,
  publics: KeyKind["publics"],
): KeyKind {
  return {
    generate: () =>
      type === "x25519" ? generateKeyPairSync("x25519") : generateKeyPairSync("ed25519"),
    pkcs8Prefix,
    spkiPrefix,
    secrets: keyCache((bytes) => importSecretKey(pkcs8Prefix, bytes)),
    publics,
  };
}

/** A fresh key pair as raw bytes, both halves cached as the `KeyObject`s OpenSSL made. */
function generateKeyPair(kind: KeyKind): KeyPair {
  const { privateKey, publicKey } = kind.generate();
  const pair = {
    secretKey: exportSecretKey(privateKey, kind.pkcs8Prefix),
    publicKey: exportPublicKey(publicKey, kind.spkiPrefix),
  };
  kind.secrets.put(pair.secretKey, privateKey);
  // Our own key is prime-order and canonically encoded: no strict check needed.
  kind.publics.put(pair.publicKey, publicKey);
  return pair;
}

/** @throws {TypeError} / {RangeError} naming `secretKey` when it is not 32 bytes */
function publicKeyOf(kind: KeyKind, secretKey: Uint8Array): Uint8Array {
  checkBytes(secretKey, 32, "secretKey");
  return exportPublicKey(createPublicKey(kind.secrets.get(secretKey)), kind.spkiPrefix);
}

function importSecretKey(prefix: Uint8Array, secretKey: Uint8Array): KeyObject {
  const der = new Uint8Array(prefix.length + secretKey.length);
  der.set(prefix, 0);
  der.set(secretKey, prefix.length);
  try {
    return createPrivateKey({ key: Buffer.from(der.buffer), format: "der", type: "pkcs8" });
  } finally {
    der.fill(0);
  }
}

function importPublicKey(prefix: Uint8Array, publicKey: Uint8Array): KeyObject {
  const der = new Uint8Array(prefix.length + publicKey.length);
  der.set(prefix, 0);
  der.set(publicKey, prefix.length);
  try {
    return createPublicKey({ key: Buffer.from(der.buffer), format: "der", type: "spki" });
  } catch (cause) {
    // OpenSSL takes any 32 bytes for these key types today; kept typed should that change.
    throw new InvalidPublicKeyError("OpenSSL refused the raw public key", { cause });
  }
}

function exportSecretKey(key: KeyObject, prefix: Uint8Array): Uint8Array {
  const der = key.export({ format: "der", type: "pkcs8" });
  try {
    return stripPrefix(der, prefix);
  } finally {
    der.fill(0);
  }
}

function exportPublicKey(key: KeyObject, prefix: Uint8Array): Uint8Array {
  return stripPrefix(key.export({ format: "der", type: "spki" }), prefix);
}

/** The raw 32-byte key after a known DER header, copied; anything else is an OpenSSL surprise. */
function stripPrefix(der: Buffer, prefix: Uint8Array): Uint8Array {
  if (
    der.length !== prefix.length + 32 ||
    !timingSafeEqual(der.subarray(0, prefix.length), prefix)
  ) {
    throw new Error(`node:crypto exported an unexpected ${der.length}-byte DER key encoding`);
  }
  return new Uint8Array(der.subarray(prefix.length));
}

/** A plain `Uint8Array` copy of a node `Buffer` (which may alias a shared pool); the source is zeroed. */
function takeBytes(buffer: Buffer): Uint8Array {
  const bytes = new Uint8Array(buffer);
  buffer.fill(0);
  return bytes;
}

function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return takeBytes(createHmac("sha256", key).update(data).digest());
}

/** The counter byte of HKDF's first block. */
const FIRST_BLOCK = Uint8Array.of(1);

/** RFC 5869 §2.3: T(i) = HMAC(PRK, T(i-1) ‖ info ‖ i), OKM = first L bytes of T(1) ‖ T(2) ‖ …. */
function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (length <= HASH_LENGTH) {
    // One block, T(1) = HMAC(PRK, info ‖ 0x01): every key, nonce and chain step of a message.
    const block = createHmac("sha256", prk).update(info).update(FIRST_BLOCK).digest();
    const okm = new Uint8Array(length);
    okm.set(block.subarray(0, length));
    block.fill(0);
    return okm;
  }
  const okm = new Uint8Array(length);
  const counter = new Uint8Array(1);
  let previous: Uint8Array = new Uint8Array(0);
  for (let offset = 0, block = 1; offset < length; offset += HASH_LENGTH, block++) {
    counter[0] = block;
    const next = createHmac("sha256", prk).update(previous).update(info).update(counter).digest();
    previous.fill(0);
    previous = takeBytes(next);
    okm.set(previous.subarray(0, Math.min(HASH_LENGTH, length - offset)), offset);
  }
  previous.fill(0);
  return okm;
}

/** @throws {TypeError} naming `argument` when `value` is not a `Uint8Array`. */
function checkUint8Array(value: unknown, argument: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${argument}: expected a Uint8Array, got ${typeof value}`);
  }
}

/**
 * @throws {TypeError} naming `argument` when `value` is not a number; {RangeError} when it is not an
 *   integer in 0..max
 */
function checkLength(value: unknown, max: number, argument: string): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(`${argument}: expected a number, got ${typeof value}`);
  }
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${argument}: expected an integer from 0 to ${max}, got ${value}`);
  }
}
