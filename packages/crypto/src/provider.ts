/**
 * The primitives orgchat's cryptography is built from, behind one interface with three
 * implementations that must give identical results on every input (checked by the Wycheproof
 * vectors, in Node and in Chromium, and a cross-provider property test):
 *
 * - `nodeProvider()`: node:crypto (OpenSSL), the default under Node: X25519 and Ed25519 are ~10-30x
 *   faster than pure JS. Long-lived keys are imported into `KeyObject`s once and cached, never per
 *   message.
 * - `nobleProvider()`: `@noble/curves`, `@noble/ciphers`, `@noble/hashes` (pinned exactly).
 * - `webCryptoProvider()` (browser build only, its default): noble for every synchronous call, with
 *   key pairs pooled ahead from Web Crypto and the optional async Ed25519 on Web Crypto.
 *
 * Suite: X25519 (RFC 7748), Ed25519 (RFC 8032), HKDF-SHA256 (RFC 5869), HMAC-SHA256,
 * AES-256-GCM with 12-byte nonces and 16-byte tags.
 *
 * Rules both implementations follow:
 * - **Ed25519 verification** is RFC 8032 §5.1.7 cofactorless verification with strict encodings:
 *   a non-canonical `S` (≥ L), a non-canonical point encoding of `R` or `A`, or a small-order `A`
 *   fails. One rule for all members, or they would disagree on which messages are authentic.
 * - **X25519** refuses an all-zero shared secret (a small-order public key) with
 *   `InvalidPublicKeyError`: a contributory exchange, as RFC 7748 §6.1 recommends.
 * - **AES-GCM** authentication failures throw `DecryptionFailedError`, whatever failed.
 * - Inputs of the wrong type or length throw `TypeError` / `RangeError` naming the argument.
 */
export interface CryptoProvider {
  /** `"node"` or `"noble"`. */
  readonly name: string;

  /** Cryptographically secure random bytes. */
  randomBytes(length: number): Uint8Array;

  sha256(data: Uint8Array): Uint8Array;
  /**
   * SHA-256 of `data` as 64 lowercase hex characters: `toHex(sha256(data))` in one call (a message's
   * id). Optional: a provider without it is used through `sha256` (the same string).
   * @param data - the bytes to hash
   * @returns the digest in lowercase hex
   * @throws {TypeError} when `data` is not a `Uint8Array`
   */
  sha256Hex?(data: Uint8Array): string;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** HKDF-Extract (RFC 5869 §2.2): PRK = HMAC-SHA256(salt, ikm); an empty salt means 32 zero bytes. */
  hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Uint8Array;
  /** HKDF-Expand (RFC 5869 §2.3); `length` ≤ 255 × 32. */
  hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array;

  /** A new X25519 key pair (32-byte secret and public keys). */
  x25519KeyPair(): KeyPair;
  x25519PublicKey(secretKey: Uint8Array): Uint8Array;
  /**
   * X25519(secretKey, publicKey).
   * @throws {@link InvalidPublicKeyError} when the result is all zero (small-order public key)
   */
  x25519(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array;

  /** A new Ed25519 key pair (32-byte seed as secret key, 32-byte public key). */
  ed25519KeyPair(): KeyPair;
  ed25519PublicKey(secretKey: Uint8Array): Uint8Array;
  ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** Strict RFC 8032 verification (see above); never throws for bad keys or signatures: `false`. */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /**
   * `ed25519Sign` for callers that can wait (envelope signers): the same bytes. Optional: a provider
   * without it is used through `ed25519Sign`. The browser provider signs here on Web Crypto.
   * @param secretKey - the 32-byte secret key (seed)
   * @param message - the bytes to sign
   * @returns the 64-byte signature
   * @throws {TypeError} / {RangeError} naming the argument, as `ed25519Sign`
   */
  ed25519SignAsync?(secretKey: Uint8Array, message: Uint8Array): Promise<Uint8Array>;
  /**
   * `ed25519Verify` for callers that can wait (envelope verifiers): the same verdict, never a
   * rejection. Optional: a provider without it is used through `ed25519Verify`.
   * @param publicKey - the signer's key (any bytes: a peer's input)
   * @param message - the signed bytes
   * @param signature - the signature (any bytes)
   * @returns whether the signature is valid under the pinned rules
   */
  ed25519VerifyAsync?(
    publicKey: Uint8Array,
    message: Uint8Array,
    signature: Uint8Array,
  ): Promise<boolean>;

  /** AES-256-GCM seal: returns ciphertext ‖ 16-byte tag. */
  aesGcmSeal(
    key: Uint8Array,
    nonce: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
  ): Uint8Array;
  /**
   * AES-256-GCM open of ciphertext ‖ tag.
   * @throws {@link DecryptionFailedError} when authentication fails
   */
  aesGcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array;
}

/** A secret key and its public key, both 32 bytes. */
export interface KeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}
