import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { fromHex } from "@orgchat/base";
import { constantTimeEqual } from "../constant-time.js";
import type { CryptoProvider, KeyPair } from "../provider.js";
import { nobleProvider } from "./noble.js";
import { asyncEd25519, ED25519_PKCS8_PREFIX, type Ed25519Subtle } from "./web-ed25519.js";

/** What a browser's Web Crypto offers this provider, found by a probe when the provider is made. */
export interface WebCryptoSupport {
  /** Ed25519 key generation works and agrees with noble's key derivation. */
  readonly ed25519: boolean;
  /** X25519 key generation works and agrees with noble's key derivation. */
  readonly x25519: boolean;
}

/**
 * The part of Web Crypto's `SubtleCrypto` this provider calls (typed here so that the package needs
 * no DOM library). A browser's `crypto.subtle` is one.
 */
export interface WebCryptoSubtle extends Ed25519Subtle {
  /** Makes a key pair (`CryptoKeyPair`) of the named algorithm. */
  generateKey(
    algorithm: { readonly name: string },
    extractable: boolean,
    usages: readonly string[],
  ): Promise<unknown>;
  /** Exports a key in `format`. */
  exportKey(format: "pkcs8" | "raw", key: unknown): Promise<ArrayBuffer>;
}

/** Options of {@link webCryptoProvider}. */
export interface WebCryptoProviderInit {
  /**
   * The `SubtleCrypto` to use (tests pass a stand-in to simulate a browser without a primitive).
   * @default globalThis.crypto.subtle
   */
  readonly subtle?: WebCryptoSubtle | undefined;
  /**
   * Key pairs of each kind generated ahead by Web Crypto and kept ready for the synchronous
   * `x25519KeyPair()` / `ed25519KeyPair()` (0 turns the pools off: every key pair comes from noble).
   * @default 8
   */
  readonly poolSize?: number;
}

/** A {@link CryptoProvider} on Web Crypto where it helps, with what the browser was found to offer. */
export interface WebCryptoProvider extends CryptoProvider {
  /** `"webcrypto"`. */
  readonly name: string;
  /**
   * Settles once the start-up probe has run: which key kinds come from Web Crypto from then on.
   * Never rejects (a failing probe means "not supported").
   */
  readonly ready: Promise<WebCryptoSupport>;
}

const DEFAULT_POOL_SIZE = 8;

/**
 * The browser provider: `nobleProvider()` for every synchronous operation, with X25519 and Ed25519
 * key pairs generated ahead by the browser's native Web Crypto and handed out synchronously, and
 * Ed25519 for envelopes (`ed25519SignAsync` / `ed25519VerifyAsync`) on Web Crypto.
 *
 * **Why this split** (measured in headless Chromium by `bench/browser/run.ts`; figures in the
 * package README, "In browsers"): awaited one call at a time, Web Crypto beats noble on Ed25519 sign
 * (~35 vs ~290 µs) and verify (~48 vs ~415 µs), X25519 agreement (~50 vs ~325 µs), key pairs (~60 vs
 * ~120-180 µs), AES-GCM at 256 B (~9 vs ~35 µs) and SHA-256 (~3 vs ~6 µs); HMAC is about even and
 * noble wins a one-block HKDF-Expand (~7 vs ~11-14 µs). But `CryptoProvider` is synchronous (a
 * message is sealed and opened in one synchronous step, so that single calls are atomic, see
 * `EpochKeys`) and a synchronous method cannot wait for a promise, so every operation stays on noble
 * except:
 * - key generation, whose inputs are known in advance (none): a pool refilled in the background, so
 *   `x25519KeyPair()` (one per Double Ratchet step, X3DH and key update) takes a ready pair (~3-4 µs)
 *   instead of a ~150 µs scalar multiplication inside the caller's step. A refill is not free:
 *   issuing Web Crypto's calls costs the page's thread ~60-130 µs per pair, after the step. An empty
 *   pool (a burst, or before the probe settles) hands out a noble pair: slower, never wrong;
 * - envelope signatures, whose contract in `@orgchat/wire` is already async.
 *
 * **Detection**: the probe generates one pair of each kind with Web Crypto and checks that noble
 * derives the same public key from the secret key; a browser without the algorithm (or with one that
 * disagrees) keeps noble for that kind. `ready` says what was found.
 *
 * Pooled secret keys are held only until handed out (at most `poolSize` per kind), like any key the
 * caller keeps; they never leave the page.
 *
 * @param init - options: the `SubtleCrypto` to use and the pool size
 * @returns a provider with the same results and verdicts as `nobleProvider()` on every input
 * @throws {RangeError} when `poolSize` is not an integer from 0 to 64
 * @example
 * ```ts
 * import { webCryptoProvider } from "@orgchat/crypto"; // the browser build
 * const provider = webCryptoProvider();
 * console.log(await provider.ready); // { ed25519: true, x25519: true } in Chromium
 * const { secretKey, publicKey } = provider.x25519KeyPair();
 * ```
 */
export function webCryptoProvider(init: WebCryptoProviderInit = {}): WebCryptoProvider {
  const poolSize = init.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isInteger(poolSize) || poolSize < 0 || poolSize > 64) {
    throw new RangeError(`poolSize: expected an integer from 0 to 64, got ${poolSize}`);
  }
  const noble = nobleProvider();
  const subtle =
    init.subtle ?? (globalThis as { crypto?: { subtle?: WebCryptoSubtle } }).crypto?.subtle;
  const x25519Pool = new KeyPairPool(subtle, "X25519", (secretKey) =>
    x25519.getPublicKey(secretKey),
  );
  const ed25519Pool = new KeyPairPool(subtle, "Ed25519", (secretKey) =>
    ed25519.getPublicKey(secretKey),
  );
  const ed = subtle === undefined ? undefined : asyncEd25519(subtle, noble);
  const ready = Promise.all([x25519Pool.start(poolSize), ed25519Pool.start(poolSize)]).then(
    ([x, ed]) => ({ x25519: x, ed25519: ed }),
  );
  return {
    ...noble,
    name: "webcrypto",
    ready,
    x25519KeyPair: () => x25519Pool.take() ?? noble.x25519KeyPair(),
    ed25519KeyPair: () => ed25519Pool.take() ?? noble.ed25519KeyPair(),
    async ed25519SignAsync(secretKey, message) {
      return ed !== undefined && (await ready).ed25519
        ? ed.sign(secretKey, message)
        : noble.ed25519Sign(secretKey, message);
    },
    async ed25519VerifyAsync(publicKey, message, signature) {
      return ed !== undefined && (await ready).ed25519
        ? ed.verify(publicKey, message, signature)
        : noble.ed25519Verify(publicKey, message, signature);
    },
  };
}

/**
 * Key pairs of one kind generated by Web Crypto ahead of use. Refills in the background whenever a
 * pair is taken; a generation that fails (or disagrees with noble at the probe) turns the pool off
 * for good, so a broken browser costs one failed probe, not one per key.
 */
class KeyPairPool {
  readonly #subtle: WebCryptoSubtle | undefined;
  readonly #algorithm: "X25519" | "Ed25519";
  readonly #publicKeyOf: (secretKey: Uint8Array) => Uint8Array;
  readonly #pairs: KeyPair[] = [];
  #size = 0;
  #pending = 0;
  #enabled = false;
  #refillScheduled = false;

  constructor(
    subtle: WebCryptoSubtle | undefined,
    algorithm: "X25519" | "Ed25519",
    publicKeyOf: (secretKey: Uint8Array) => Uint8Array,
  ) {
    this.#subtle = subtle;
    this.#algorithm = algorithm;
    this.#publicKeyOf = publicKeyOf;
  }

  /** Runs the probe, then fills the pool; resolves to whether Web Crypto is used for this kind. */
  async start(size: number): Promise<boolean> {
    let probe: KeyPair;
    try {
      probe = await this.#generate();
    } catch {
      // No such algorithm (or no Web Crypto at all): noble for this kind.
      return false;
    }
    // The browser's key encoding must be the one noble (and every other member) derives keys with.
    if (!constantTimeEqual(this.#publicKeyOf(probe.secretKey), probe.publicKey)) return false;
    probe.secretKey.fill(0);
    this.#enabled = true;
    this.#size = size;
    this.#refill();
    return true;
  }

  /** A pooled pair (removed from the pool), or undefined when none is ready. */
  take(): KeyPair | undefined {
    const pair = this.#pairs.shift();
    if (this.#enabled && !this.#refillScheduled) {
      // Issuing generateKey and the exports costs the page's thread ~60-130 µs per pair: after the
      // caller's synchronous step (a ratchet step, a send), not inside it.
      this.#refillScheduled = true;
      void Promise.resolve().then(() => {
        this.#refillScheduled = false;
        this.#refill();
      });
    }
    return pair;
  }

  #refill(): void {
    while (this.#enabled && this.#pairs.length + this.#pending < this.#size) {
      this.#pending++;
      this.#generate().then(
        (pair) => {
          this.#pending--;
          if (this.#enabled) this.#pairs.push(pair);
        },
        () => {
          this.#pending--;
          // Worked at the probe, fails now: stop asking; noble serves every later pair.
          this.#enabled = false;
        },
      );
    }
  }

  /**
   * One pair from Web Crypto: the secret key from its PKCS#8 export (the last 32 bytes, zeroed in
   * the export afterwards; a JWK export would leave the secret in an immutable string), the public
   * key from its raw export.
   */
  async #generate(): Promise<KeyPair> {
    const subtle = this.#subtle;
    if (subtle === undefined) throw new TypeError("Web Crypto is not available");
    const usages = this.#algorithm === "X25519" ? ["deriveBits"] : ["sign"];
    const pair = (await subtle.generateKey({ name: this.#algorithm }, true, usages)) as {
      readonly privateKey: unknown;
      readonly publicKey: unknown;
    };
    const [pkcs8, raw] = await Promise.all([
      subtle.exportKey("pkcs8", pair.privateKey),
      subtle.exportKey("raw", pair.publicKey),
    ]);
    const der = new Uint8Array(pkcs8);
    const prefix = this.#algorithm === "X25519" ? X25519_PKCS8_PREFIX : ED25519_PKCS8_PREFIX;
    try {
      // RFC 8410: a fixed 16-byte header, then the 32-byte key; anything else is not what we expect.
      if (
        der.length !== 48 ||
        !constantTimeEqual(der.subarray(0, 16), prefix) ||
        raw.byteLength !== 32
      ) {
        throw new RangeError(`Web Crypto exported a ${this.#algorithm} key in an unexpected form`);
      }
      return { secretKey: der.slice(16), publicKey: new Uint8Array(raw) };
    } finally {
      der.fill(0);
    }
  }
}

/** RFC 8410 PKCS#8 header in front of a raw 32-byte X25519 secret key. */
const X25519_PKCS8_PREFIX = fromHex("302e020100300506032b656e04220420");
