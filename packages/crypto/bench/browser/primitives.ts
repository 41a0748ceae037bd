/**
 * Per-primitive figures inside the browser: noble (synchronous, as `CryptoProvider` calls it) against
 * Web Crypto awaited one call at a time (what an async contract would pay per call) and with
 * {@link inFlight} calls in flight (its best throughput), on the inputs a group message uses.
 * Runs in the page that `run.ts` opens; `page.ts` calls {@link benchPrimitives}.
 */
import { labelInfo } from "../../src/kdf.js";
import type { CryptoProvider } from "../../src/provider.js";
import { webCryptoProvider } from "../../src/providers/web.js";
import { type Measurement, measure, measureAsync, progress, round } from "../harness.js";

/** Web Crypto calls started together for the throughput column. */
export const inFlight = 16;

/** One primitive: its three timings in µs per operation and which one the provider uses. */
export interface PrimitiveFigure {
  readonly primitive: string;
  readonly nobleMicroseconds: number;
  readonly webCryptoAwaitedMicroseconds: number;
  readonly webCryptoInFlightMicroseconds: number;
  /** `"noble"` or `"webcrypto"` (awaited, per call: what a caller waiting for the result sees). */
  readonly faster: string;
  /** What `webCryptoProvider()` uses for it, and why when that is not the faster one. */
  readonly webCryptoProviderUses: string;
}

type Subtle = typeof crypto.subtle;
type Key = Awaited<ReturnType<Subtle["importKey"]>>;

interface Primitive {
  readonly name: string;
  readonly noble: (i: number) => unknown;
  readonly webCrypto: (i: number) => Promise<unknown>;
  readonly uses: string;
  /** Curve operations are ~100x slower in pure JS: fewer iterations. */
  readonly slow: boolean;
}

/** `count` calls of `operation` in flight at once, in batches; µs per call (median batch). */
async function measureInFlight(
  operation: (i: number) => Promise<unknown>,
  iterations: number,
): Promise<Measurement> {
  const batches = Math.max(1, Math.round(iterations / inFlight));
  return measureAsync(
    async (i) => {
      const calls: Promise<unknown>[] = [];
      for (let k = 0; k < inFlight; k++) calls.push(operation(i * inFlight + k));
      return Promise.all(calls);
    },
    { iterations: batches, rounds: 5 },
  ).then((m) => ({ ...m, microseconds: m.microseconds / inFlight }));
}

/**
 * Measures every primitive a message or a key change uses, noble against Web Crypto.
 *
 * @param noble - the pure-JS provider
 * @param scale - iteration scale (1 = full, 0.05 = quick)
 * @returns one figure per primitive
 */
export async function benchPrimitives(
  noble: CryptoProvider,
  scale: number,
): Promise<PrimitiveFigure[]> {
  const subtle = crypto.subtle;
  const signer = noble.ed25519KeyPair();
  const peer = noble.x25519KeyPair();
  const own = noble.x25519KeyPair();
  const message = noble.randomBytes(130 + 256); // what a group message signs
  const signature = noble.ed25519Sign(signer.secretKey, message);
  const aesKey = noble.randomBytes(32);
  const nonce = noble.randomBytes(12);
  const plaintext = noble.randomBytes(256);
  const aad = noble.randomBytes(100);
  const sealed = noble.aesGcmSeal(aesKey, nonce, plaintext, aad);
  const prk = noble.randomBytes(32);
  const info = labelInfo("key", new Uint8Array(4), 32);

  // Long-lived keys imported once (a provider would cache them); per-message keys (AES, HMAC, HKDF
  // inputs change with every message) are imported on every call, as a provider would have to.
  const pkcs8 = (prefix: number[], secret: Uint8Array) => Uint8Array.from([...prefix, ...secret]);
  const edPrefix = [48, 46, 2, 1, 0, 48, 5, 6, 3, 43, 101, 112, 4, 34, 4, 32];
  const xPrefix = [48, 46, 2, 1, 0, 48, 5, 6, 3, 43, 101, 110, 4, 34, 4, 32];
  const edSecret: Key = await subtle.importKey(
    "pkcs8",
    pkcs8(edPrefix, signer.secretKey),
    { name: "Ed25519" },
    false,
    ["sign"],
  );
  const edPublic: Key = await subtle.importKey(
    "raw",
    signer.publicKey,
    { name: "Ed25519" },
    false,
    ["verify"],
  );
  const xSecret: Key = await subtle.importKey(
    "pkcs8",
    pkcs8(xPrefix, own.secretKey),
    { name: "X25519" },
    false,
    ["deriveBits"],
  );
  const generate = async (name: "X25519" | "Ed25519") => {
    const pair = (await subtle.generateKey({ name }, true, [
      name === "X25519" ? "deriveBits" : "sign",
    ])) as { privateKey: Key; publicKey: Key };
    return Promise.all([
      subtle.exportKey("pkcs8", pair.privateKey),
      subtle.exportKey("raw", pair.publicKey),
    ]);
  };
  // The provider's pools, drained one pair per call: the synchronous cost a caller sees.
  const pooled = webCryptoProvider({ poolSize: 64 });
  await pooled.ready;

  const primitives: Primitive[] = [
    {
      name: "Ed25519 sign (386 B)",
      noble: () => noble.ed25519Sign(signer.secretKey, message),
      webCrypto: () => subtle.sign({ name: "Ed25519" }, edSecret, message),
      uses: "noble (sync); webcrypto for envelopes",
      slow: true,
    },
    {
      name: "Ed25519 verify (386 B)",
      noble: () => noble.ed25519Verify(signer.publicKey, message, signature),
      webCrypto: () => subtle.verify({ name: "Ed25519" }, edPublic, signature, message),
      uses: "noble (sync); webcrypto for envelopes",
      slow: true,
    },
    {
      name: "X25519 agreement (peer key imported)",
      noble: () => noble.x25519(own.secretKey, peer.publicKey),
      webCrypto: async () => {
        const peerKey = await subtle.importKey(
          "raw",
          peer.publicKey,
          { name: "X25519" },
          false,
          [],
        );
        return subtle.deriveBits({ name: "X25519", public: peerKey }, xSecret, 256);
      },
      uses: "noble (sync contract)",
      slow: true,
    },
    {
      name: "X25519 key pair",
      noble: () => noble.x25519KeyPair(),
      webCrypto: () => generate("X25519"),
      uses: "webcrypto, pooled ahead",
      slow: true,
    },
    {
      name: "Ed25519 key pair",
      noble: () => noble.ed25519KeyPair(),
      webCrypto: () => generate("Ed25519"),
      uses: "webcrypto, pooled ahead",
      slow: true,
    },
    {
      name: "AES-256-GCM seal 256 B (key imported)",
      noble: () => noble.aesGcmSeal(aesKey, nonce, plaintext, aad),
      webCrypto: async () => {
        const key = await subtle.importKey("raw", aesKey, { name: "AES-GCM" }, false, ["encrypt"]);
        return subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: aad }, key, plaintext);
      },
      uses: "noble",
      slow: false,
    },
    {
      name: "AES-256-GCM open 256 B (key imported)",
      noble: () => noble.aesGcmOpen(aesKey, nonce, sealed, aad),
      webCrypto: async () => {
        const key = await subtle.importKey("raw", aesKey, { name: "AES-GCM" }, false, ["decrypt"]);
        return subtle.decrypt({ name: "AES-GCM", iv: nonce, additionalData: aad }, key, sealed);
      },
      uses: "noble",
      slow: false,
    },
    {
      name: "HMAC-SHA256 (32 B key, 40 B)",
      noble: () => noble.hmacSha256(prk, info),
      webCrypto: async () => {
        const key = await subtle.importKey("raw", prk, { name: "HMAC", hash: "SHA-256" }, false, [
          "sign",
        ]);
        return subtle.sign({ name: "HMAC" }, key, info);
      },
      uses: "noble",
      slow: false,
    },
    {
      name: "HKDF-Expand one block (expandWithLabel)",
      noble: () => noble.hkdfExpand(prk, info, 32),
      webCrypto: async () => {
        const key = await subtle.importKey("raw", prk, { name: "HKDF" }, false, ["deriveBits"]);
        return subtle.deriveBits(
          { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info },
          key,
          256,
        );
      },
      uses: "noble",
      slow: false,
    },
    {
      name: "SHA-256 (256 B)",
      noble: () => noble.sha256(plaintext),
      webCrypto: () => subtle.digest("SHA-256", plaintext),
      uses: "noble",
      slow: false,
    },
  ];

  const figures: PrimitiveFigure[] = [];
  for (const primitive of primitives) {
    const iterations = Math.max(10, Math.round((primitive.slow ? 200 : 2_000) * scale));
    progress(`chromium: ${primitive.name}`);
    const nobleTime = measure(primitive.noble, { iterations, rounds: 5 });
    const awaited = await measureAsync(primitive.webCrypto, { iterations, rounds: 5 });
    const parallel = await measureInFlight(primitive.webCrypto, iterations);
    figures.push({
      primitive: primitive.name,
      nobleMicroseconds: round(nobleTime.microseconds),
      webCryptoAwaitedMicroseconds: round(awaited.microseconds),
      webCryptoInFlightMicroseconds: round(parallel.microseconds),
      faster: awaited.microseconds < nobleTime.microseconds ? "webcrypto" : "noble",
      webCryptoProviderUses: primitive.uses,
    });
  }

  // What webCryptoProvider() itself costs where it uses Web Crypto. Key pairs: taken synchronously
  // from full pools (64 each; a take schedules its refill after the synchronous loop), and the
  // main-thread time of issuing one generateKey (the part of a refill a page's thread pays).
  await new Promise((settle) => setTimeout(settle, 300)); // the pools fill in the background
  for (const kind of ["x25519KeyPair", "ed25519KeyPair"] as const) {
    const algorithm = kind === "x25519KeyPair" ? "X25519" : "Ed25519";
    const take = measure(() => pooled[kind](), { iterations: 64, rounds: 1, warmup: 0 });
    const issued: Promise<unknown>[] = [];
    const issue = measure(
      () =>
        issued.push(
          subtle.generateKey(
            { name: algorithm },
            true,
            algorithm === "X25519" ? ["deriveBits"] : ["sign"],
          ),
        ),
      { iterations: 32, rounds: 1, warmup: 0 },
    );
    const pairs = (await Promise.all(issued)) as { privateKey: Key; publicKey: Key }[];
    const exports: Promise<unknown>[] = [];
    const issueExports = measure(
      (i) => {
        const pair = pairs[i % pairs.length] as { privateKey: Key; publicKey: Key };
        exports.push(
          subtle.exportKey("pkcs8", pair.privateKey),
          subtle.exportKey("raw", pair.publicKey),
        );
      },
      { iterations: 32, rounds: 1, warmup: 0 },
    );
    await Promise.all(exports);
    const refill = issue.microseconds + issueExports.microseconds;
    figures.push({
      primitive: `webCryptoProvider().${kind}() from the pool (sync)`,
      nobleMicroseconds: Number.NaN,
      webCryptoAwaitedMicroseconds: round(take.microseconds),
      webCryptoInFlightMicroseconds: Number.NaN,
      faster: "",
      webCryptoProviderUses: `take; a refill's calls cost the page's thread ${round(refill)} µs, after the step`,
    });
    await new Promise((settle) => setTimeout(settle, 300));
  }
  // Envelope signatures through the provider's async Ed25519 (strict checks and key caches included).
  const iterations = Math.max(10, Math.round(200 * scale));
  for (const [name, run] of [
    ["sign", () => pooled.ed25519SignAsync?.(signer.secretKey, message)],
    ["verify", () => pooled.ed25519VerifyAsync?.(signer.publicKey, message, signature)],
  ] as const) {
    const awaited = await measureAsync(async () => run(), { iterations, rounds: 5 });
    const parallel = await measureInFlight(async () => run(), iterations);
    figures.push({
      primitive: `webCryptoProvider().ed25519${name === "sign" ? "Sign" : "Verify"}Async (envelopes)`,
      nobleMicroseconds: Number.NaN,
      webCryptoAwaitedMicroseconds: round(awaited.microseconds),
      webCryptoInFlightMicroseconds: round(parallel.microseconds),
      faster: "",
      webCryptoProviderUses: "webcrypto (envelope contract is async)",
    });
  }
  return figures;
}
