/**
 * `webCryptoProvider()` inside Chromium: the start-up probe, the pooled key pairs (valid, really from
 * Web Crypto, never handed out twice, noble when the pool is empty or the browser lacks a kind), the
 * async Ed25519 of envelopes against noble's bytes and verdicts, and the browser build's default.
 */
import { ED25519_TORSION_SUBGROUP, ed25519 } from "@noble/curves/ed25519.js";
import { bytesToNumberLE, numberToBytesLE } from "@noble/curves/utils.js";
import { fromHex } from "@orgchat/base";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import {
  defaultProvider,
  ed25519EnvelopeSigner,
  ed25519EnvelopeVerifier,
} from "../../src/index.browser.js";
import { nobleProvider } from "../../src/providers/noble.js";
import { type WebCryptoSubtle, webCryptoProvider } from "../../src/providers/web.js";
import {
  mixedKeyBothHold,
  mixedKeyCofactoredOnly,
  mixedNonceCofactoredOnly,
} from "../ed25519-crafted.js";

const noble = nobleProvider();
const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** `signature` with S replaced by S + L: the same point equation, a non-canonical S. */
function withSPlusL(signature: Uint8Array): Uint8Array {
  const S = bytesToNumberLE(signature.subarray(32));
  const out = signature.slice();
  out.set(numberToBytesLE(S + ed25519.Point.Fn.ORDER, 32), 32);
  return out;
}

/** The real `crypto.subtle`, recording the public keys it exported and counting key generations. */
function recordingSubtle(overrides: Partial<WebCryptoSubtle> = {}) {
  const real = crypto.subtle;
  const exported = new Set<string>();
  const calls = { generateKey: 0, sign: 0, verify: 0 };
  const subtle: WebCryptoSubtle = {
    generateKey: (algorithm, extractable, usages) => {
      calls.generateKey++;
      return real.generateKey(algorithm as never, extractable, usages as never) as Promise<unknown>;
    },
    exportKey: async (format, key) => {
      const bytes = await real.exportKey(format, key as never);
      if (format === "raw") exported.add(hex(new Uint8Array(bytes)));
      return bytes;
    },
    importKey: (format, data, algorithm, extractable, usages) =>
      real.importKey(format as never, data, algorithm as never, extractable, usages as never),
    sign: (algorithm, key, data) => {
      calls.sign++;
      return real.sign(algorithm as never, key as never, data);
    },
    verify: (algorithm, key, signature, data) => {
      calls.verify++;
      return real.verify(algorithm as never, key as never, signature, data);
    },
    ...overrides,
  };
  return { subtle, exported, calls };
}

/** Waits (event wait, generous safety timeout) until `count` pairs were exported by Web Crypto. */
async function exportedAtLeast(exported: Set<string>, count: number): Promise<void> {
  await vi.waitFor(() => expect(exported.size).toBeGreaterThanOrEqual(count), {
    timeout: 20_000,
    interval: 5,
  });
}

describe("webCryptoProvider() in Chromium", () => {
  it("finds X25519 and Ed25519 in Chromium's Web Crypto", async () => {
    expect(await webCryptoProvider().ready).toEqual({ x25519: true, ed25519: true });
  });

  it("hands out pooled pairs made by Web Crypto, each valid and never twice", async () => {
    const { subtle, exported } = recordingSubtle();
    const provider = webCryptoProvider({ subtle, poolSize: 4 });
    await provider.ready;
    // 2 probes + 4 pooled pairs of each kind.
    await exportedAtLeast(exported, 10);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const x = provider.x25519KeyPair();
      const ed = provider.ed25519KeyPair();
      expect(exported.has(hex(x.publicKey)), "X25519 pair from Web Crypto").toBe(true);
      expect(exported.has(hex(ed.publicKey)), "Ed25519 pair from Web Crypto").toBe(true);
      expect(noble.x25519PublicKey(x.secretKey)).toEqual(x.publicKey);
      expect(noble.ed25519PublicKey(ed.secretKey)).toEqual(ed.publicKey);
      for (const key of [x.secretKey, ed.secretKey]) {
        expect(seen.has(hex(key))).toBe(false);
        seen.add(hex(key));
      }
    }
    // Usable with every other provider: an agreement both ways, a signature noble verifies.
    const mine = provider.x25519KeyPair();
    const theirs = noble.x25519KeyPair();
    expect(provider.x25519(mine.secretKey, theirs.publicKey)).toEqual(
      noble.x25519(theirs.secretKey, mine.publicKey),
    );
    const signer = provider.ed25519KeyPair();
    const message = noble.randomBytes(100);
    expect(
      noble.ed25519Verify(
        signer.publicKey,
        message,
        provider.ed25519Sign(signer.secretKey, message),
      ),
    ).toBe(true);
  });

  it("serves noble pairs when the pool is empty, then refills it", async () => {
    const { subtle, exported } = recordingSubtle();
    const provider = webCryptoProvider({ subtle, poolSize: 2 });
    await provider.ready;
    await exportedAtLeast(exported, 6);
    // A burst of five synchronous calls: two from the pool, three from noble.
    const burst = Array.from({ length: 5 }, () => provider.x25519KeyPair());
    expect(burst.map((pair) => exported.has(hex(pair.publicKey)))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
    for (const pair of burst) expect(noble.x25519PublicKey(pair.secretKey)).toEqual(pair.publicKey);
    await exportedAtLeast(exported, 8);
    expect(exported.has(hex(provider.x25519KeyPair().publicKey))).toBe(true);
  });

  it("keeps noble for a kind the browser lacks, probing once", async () => {
    const { subtle, exported, calls } = recordingSubtle({
      generateKey: () => Promise.reject(new DOMException("Unrecognized name", "NotSupportedError")),
    });
    const provider = webCryptoProvider({ subtle });
    expect(await provider.ready).toEqual({ x25519: false, ed25519: false });
    for (let i = 0; i < 3; i++) {
      const pair = provider.ed25519KeyPair();
      expect(noble.ed25519PublicKey(pair.secretKey)).toEqual(pair.publicKey);
    }
    expect(exported.size).toBe(0);
    expect(calls.sign).toBe(0);
    // Envelope signing and verification fall back to noble too.
    const signer = noble.ed25519KeyPair();
    const message = noble.randomBytes(64);
    const signature = await provider.ed25519SignAsync?.(signer.secretKey, message);
    expect(signature).toEqual(noble.ed25519Sign(signer.secretKey, message));
    expect(calls.sign).toBe(0);
  });

  it("refuses Web Crypto keys that noble would derive differently", async () => {
    const real = crypto.subtle;
    const { subtle } = recordingSubtle({
      // A browser whose raw export is not the key noble derives (another encoding, a bug).
      exportKey: async (format, key) => {
        const bytes = new Uint8Array(await real.exportKey(format, key as never));
        if (format === "raw") bytes[0] = (bytes[0] ?? 0) ^ 1;
        return bytes.buffer;
      },
    });
    const provider = webCryptoProvider({ subtle });
    expect(await provider.ready).toEqual({ x25519: false, ed25519: false });
  });

  it("checks poolSize", () => {
    expect(() => webCryptoProvider({ poolSize: -1 })).toThrow(RangeError);
    expect(() => webCryptoProvider({ poolSize: 1.5 })).toThrow(RangeError);
  });
});

describe("async Ed25519 (envelopes) on Web Crypto", () => {
  it("signs the same bytes as noble and reaches noble's verdicts, on Web Crypto", async () => {
    const { subtle, calls } = recordingSubtle();
    const provider = webCryptoProvider({ subtle, poolSize: 0 });
    await provider.ready;
    for (let i = 0; i < 20; i++) {
      const signer = noble.ed25519KeyPair();
      const message = noble.randomBytes(i * 7);
      const signature = await provider.ed25519SignAsync?.(signer.secretKey, message);
      expect(signature).toEqual(noble.ed25519Sign(signer.secretKey, message));
      const good = noble.ed25519Sign(signer.secretKey, message);
      const bad = good.slice();
      bad[i % 64] = (bad[i % 64] ?? 0) ^ 0x40;
      for (const sig of [good, bad]) {
        expect(await provider.ed25519VerifyAsync?.(signer.publicKey, message, sig)).toBe(
          noble.ed25519Verify(signer.publicKey, message, sig),
        );
      }
    }
    expect(calls.sign).toBe(20);
    expect(calls.verify).toBeGreaterThan(20);
  });

  it("refuses, without rejecting, what the pinned rules refuse", async () => {
    const provider = webCryptoProvider();
    const signer = noble.ed25519KeyPair();
    const message = noble.randomBytes(32);
    const signature = noble.ed25519Sign(signer.secretKey, message);
    const verify = (publicKey: unknown, sig: unknown, msg: unknown = message) =>
      provider.ed25519VerifyAsync?.(publicKey as Uint8Array, msg as Uint8Array, sig as Uint8Array);
    expect(await verify(signer.publicKey, signature)).toBe(true);
    expect(await verify(signer.publicKey.subarray(1), signature)).toBe(false);
    expect(await verify(signer.publicKey, signature.subarray(1))).toBe(false);
    expect(await verify("key", signature)).toBe(false);
    expect(await verify(signer.publicKey, signature, "message")).toBe(false);
    // S + L: the same point equation, a non-canonical S.
    const sPlusL = withSPlusL(signature);
    expect(await verify(signer.publicKey, sPlusL)).toBe(false);
    // The identity point as a key (small order).
    const identity = new Uint8Array(32);
    identity[0] = 1;
    expect(await verify(identity, signature)).toBe(false);
  });

  it("keeps the pinned cofactorless rule on signatures crafted with small-order components", async () => {
    const provider = webCryptoProvider();
    expect(await provider.ready).toMatchObject({ ed25519: true });
    for (const crafted of [
      mixedKeyBothHold(),
      mixedKeyCofactoredOnly(),
      mixedNonceCofactoredOnly(),
    ]) {
      const { publicKey, message, signature, valid } = crafted;
      expect(await provider.ed25519VerifyAsync?.(publicKey, message, signature)).toBe(valid);
    }
  });

  it("agrees with noble on arbitrary keys and signatures, small-order and non-canonical keys included", async () => {
    const provider = webCryptoProvider();
    await provider.ready;
    const publicKey = fc.oneof(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.constantFrom(...ED25519_TORSION_SUBGROUP).map((text) => fromHex(text)),
      // y ≥ p: non-canonical encodings.
      fc.integer({ min: 0, max: 18 }).map((k) => numberToBytesLE(2n ** 255n - 19n + BigInt(k), 32)),
    );
    await fc.assert(
      fc.asyncProperty(
        publicKey,
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.uint8Array({ maxLength: 64 }),
        async (key, signature, message) => {
          expect(await provider.ed25519VerifyAsync?.(key, message, signature)).toBe(
            noble.ed25519Verify(key, message, signature),
          );
        },
      ),
      { seed: 0x0c4a7, numRuns: 150 },
    );
  });

  it("refuses a small-order key even with a signature that satisfies the equation", async () => {
    const provider = webCryptoProvider();
    await provider.ready;
    // A = identity: [S]B = R + [k]A holds for R = [S]B, whatever the message.
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const S = 5n;
    const signature = new Uint8Array(64);
    signature.set(ed25519.Point.BASE.multiply(S).toBytes(), 0);
    signature.set(numberToBytesLE(S, 32), 32);
    expect(await provider.ed25519VerifyAsync?.(identity, Uint8Array.of(7), signature)).toBe(false);
  });

  it("checks the pinned rules itself, not trusting Web Crypto's verdict for them", async () => {
    // A Web Crypto that says yes to everything: only our own checks can refuse.
    const { subtle } = recordingSubtle({ verify: () => Promise.resolve(true) });
    const provider = webCryptoProvider({ subtle, poolSize: 0 });
    expect(await provider.ready).toMatchObject({ ed25519: true });
    const signer = noble.ed25519KeyPair();
    const message = noble.randomBytes(32);
    const signature = noble.ed25519Sign(signer.secretKey, message);
    const sPlusL = withSPlusL(signature);
    const identity = new Uint8Array(32);
    identity[0] = 1;
    expect(await provider.ed25519VerifyAsync?.(signer.publicKey, message, signature)).toBe(true);
    expect(await provider.ed25519VerifyAsync?.(signer.publicKey, message, sPlusL)).toBe(false);
    expect(await provider.ed25519VerifyAsync?.(identity, message, signature)).toBe(false);
  });

  it("is what the envelope verifier of the browser build uses", async () => {
    const provider = defaultProvider();
    expect(provider.name).toBe("webcrypto");
    const signer = noble.ed25519KeyPair();
    const message = noble.randomBytes(80);
    const verdict = ed25519EnvelopeVerifier(provider)({
      scheme: "ed25519",
      publicKey: signer.publicKey,
      message,
      signature: noble.ed25519Sign(signer.secretKey, message),
    });
    expect(verdict).toBeInstanceOf(Promise);
    expect(await verdict).toBe(true);
  });

  it("is what the envelope signer uses, with noble's bytes", async () => {
    const { subtle, calls } = recordingSubtle();
    const provider = webCryptoProvider({ subtle, poolSize: 0 });
    await provider.ready;
    const secretKey = noble.ed25519KeyPair().secretKey;
    const message = noble.randomBytes(80);
    const signature = ed25519EnvelopeSigner(provider, secretKey).sign(message);
    expect(signature).toBeInstanceOf(Promise);
    expect(await signature).toEqual(noble.ed25519Sign(secretKey, message));
    expect(calls.sign).toBe(1);
  });
});
