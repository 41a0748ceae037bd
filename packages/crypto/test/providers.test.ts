/**
 * The node (OpenSSL) and noble providers side by side: fast-check properties (fixed seed) that they
 * give identical bytes and identical verdicts, the argument checks of the `CryptoProvider` contract,
 * the node provider's key cache, and the pinned Ed25519 rule on mixed-order points.
 */

import { createPrivateKey, createPublicKey } from "node:crypto";
import { ED25519_TORSION_SUBGROUP, ed25519 } from "@noble/curves/ed25519.js";
import { bytesToNumberLE, concatBytes, numberToBytesLE } from "@noble/curves/utils.js";
import fc from "fast-check";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { CryptoProvider } from "../src/provider.js";
import { isStrictEd25519PublicKey } from "../src/providers/checks.js";
import { nobleProvider } from "../src/providers/noble.js";
import { maxPublicKeysByContent, nodeProvider } from "../src/providers/node.js";
import {
  mixedKeyBothHold,
  mixedKeyCofactoredOnly,
  mixedNonceCofactoredOnly,
  mixedOrderKey,
} from "./ed25519-crafted.js";
import { hex } from "./fixtures.js";

// Pass-through spies, so the key-cache tests can count imports without timing anything.
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return {
    ...actual,
    createPrivateKey: vi.fn(actual.createPrivateKey),
    createPublicKey: vi.fn(actual.createPublicKey),
  };
});
vi.mock("../src/providers/checks.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../src/providers/checks.js")>();
  return { ...actual, isStrictEd25519PublicKey: vi.fn(actual.isStrictEd25519PublicKey) };
});

const node = nodeProvider();
const noble = nobleProvider();

/** Fixed seed: every run checks the same inputs (no flaky property failures, no retries). */
const SEED = 0x0c4a7;
/** Runs for properties on pure-JS curve arithmetic (~1 ms per noble operation). */
const CURVE_RUNS = 150;
/** Runs for the cheap primitives (hashes, HMAC, HKDF, AES-GCM). */
const FAST_RUNS = 500;

const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
// size "max": fast-check's default "small" size would keep arrays to ~10 bytes, never crossing the
// 64-byte HMAC block or several AES blocks.
const anyBytes = (maxLength: number) => fc.uint8Array({ maxLength, size: "max" });
const fromHex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"));

/** Output bytes in hex or `throws <error name>`, so that two providers' outcomes compare directly. */
function outcome(run: () => Uint8Array): string {
  try {
    return hex(run());
  } catch (error) {
    return `throws ${error instanceof Error ? error.name : typeof error}`;
  }
}

/** node's outputs are plain `Uint8Array`s, never node `Buffer`s (whose `slice` aliases memory). */
function plain(data: Uint8Array): Uint8Array {
  expect(Object.getPrototypeOf(data)).toBe(Uint8Array.prototype);
  return data;
}

describe("node and noble give identical outputs", () => {
  it("sha256", () => {
    fc.assert(
      fc.property(anyBytes(1000), (data) => {
        expect(plain(node.sha256(data))).toEqual(noble.sha256(data));
      }),
      { seed: SEED, numRuns: FAST_RUNS },
    );
  });

  it("sha256Hex (node): the lowercase hex of sha256", () => {
    fc.assert(
      fc.property(anyBytes(1000), (data) => {
        expect(node.sha256Hex?.(data)).toBe(Buffer.from(noble.sha256(data)).toString("hex"));
      }),
      { seed: SEED, numRuns: FAST_RUNS },
    );
  });

  it("hmacSha256, keys shorter and longer than the 64-byte block", () => {
    fc.assert(
      fc.property(anyBytes(200), anyBytes(500), (key, data) => {
        expect(plain(node.hmacSha256(key, data))).toEqual(noble.hmacSha256(key, data));
      }),
      { seed: SEED, numRuns: FAST_RUNS },
    );
  });

  it("hkdfExtract and hkdfExpand, empty salt included, up to the 8160-byte limit", () => {
    const length = fc.oneof(
      fc.integer({ min: 0, max: 600 }),
      fc.constantFrom(0, 32, 33, 8159, 8160),
    );
    fc.assert(
      fc.property(anyBytes(100), anyBytes(100), anyBytes(100), length, (salt, ikm, info, size) => {
        const prk = plain(node.hkdfExtract(salt, ikm));
        expect(prk).toEqual(noble.hkdfExtract(salt, ikm));
        const okm = plain(node.hkdfExpand(prk, info, size));
        expect(okm).toHaveLength(size);
        expect(okm).toEqual(noble.hkdfExpand(prk, info, size));
      }),
      { seed: SEED, numRuns: FAST_RUNS },
    );
  });

  it("hkdfExpand with a PRK longer than 32 bytes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 100, size: "max" }),
        anyBytes(64),
        fc.integer({ min: 0, max: 300 }),
        (prk, info, size) => {
          expect(node.hkdfExpand(prk, info, size)).toEqual(noble.hkdfExpand(prk, info, size));
        },
      ),
      { seed: SEED, numRuns: FAST_RUNS },
    );
  });

  it("x25519PublicKey, for any 32 bytes (clamping included)", () => {
    fc.assert(
      fc.property(bytes(32), (secretKey) => {
        expect(plain(node.x25519PublicKey(secretKey))).toEqual(noble.x25519PublicKey(secretKey));
      }),
      { seed: SEED, numRuns: CURVE_RUNS },
    );
  });

  it("x25519 between key pairs of either provider, both directions", () => {
    fc.assert(
      fc.property(bytes(32), bytes(32), (alice, bob) => {
        const bobPublic = noble.x25519PublicKey(bob);
        const shared = plain(node.x25519(alice, bobPublic));
        expect(shared).toEqual(noble.x25519(alice, bobPublic));
        expect(node.x25519(bob, node.x25519PublicKey(alice))).toEqual(shared);
      }),
      { seed: SEED, numRuns: CURVE_RUNS },
    );
  });

  it("x25519 with any 32-byte public key: same bytes or the same error", () => {
    fc.assert(
      fc.property(bytes(32), bytes(32), (secretKey, publicKey) => {
        expect(outcome(() => node.x25519(secretKey, publicKey))).toBe(
          outcome(() => noble.x25519(secretKey, publicKey)),
        );
      }),
      { seed: SEED, numRuns: CURVE_RUNS },
    );
  });

  it("x25519 refuses every small-order u (and its bit-255 and non-canonical forms) in both", () => {
    // u = 0, 1, the two points of order 8, p - 1 and its non-canonical forms p, p + 1.
    const smallOrder = [
      "0000000000000000000000000000000000000000000000000000000000000000",
      "0100000000000000000000000000000000000000000000000000000000000000",
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
      "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ];
    fc.assert(
      fc.property(
        bytes(32),
        fc.constantFrom(...smallOrder),
        fc.boolean(),
        (secretKey, u, bit255) => {
          const publicKey = fromHex(u);
          if (bit255) publicKey[31] = (publicKey[31] ?? 0) | 0x80;
          expect(outcome(() => node.x25519(secretKey, publicKey))).toBe(
            "throws InvalidPublicKeyError",
          );
          expect(outcome(() => noble.x25519(secretKey, publicKey))).toBe(
            "throws InvalidPublicKeyError",
          );
        },
      ),
      { seed: SEED, numRuns: CURVE_RUNS },
    );
  });

  it("ed25519PublicKey and ed25519Sign (deterministic signatures)", () => {
    fc.assert(
      fc.property(bytes(32), anyBytes(300), (secretKey, message) => {
        expect(plain(node.ed25519PublicKey(secretKey))).toEqual(noble.ed25519PublicKey(secretKey));
        const signature = plain(node.ed25519Sign(secretKey, message));
        expect(signature).toEqual(noble.ed25519Sign(secretKey, message));
        expect(node.ed25519Sign(secretKey, message)).toEqual(signature);
      }),
      { seed: SEED, numRuns: CURVE_RUNS },
    );
  });

  it("key pairs of one provider are consistent with the other", () => {
    for (let i = 0; i < 10; i++) {
      for (const [maker, checker] of [
        [node, noble],
        [noble, node],
      ] as const) {
        const dh = maker.x25519KeyPair();
        expect(checker.x25519PublicKey(dh.secretKey)).toEqual(dh.publicKey);
        const signing = maker.ed25519KeyPair();
        expect(checker.ed25519PublicKey(signing.secretKey)).toEqual(signing.publicKey);
        const signature = checker.ed25519Sign(signing.secretKey, Uint8Array.of(i));
        expect(maker.ed25519Verify(signing.publicKey, Uint8Array.of(i), signature)).toBe(true);
      }
    }
    const pair = node.x25519KeyPair();
    plain(pair.secretKey);
    plain(pair.publicKey);
  });

  it("aesGcmSeal, and each opens what the other sealed", () => {
    fc.assert(
      fc.property(
        bytes(32),
        bytes(12),
        anyBytes(300),
        anyBytes(64),
        (key, nonce, plaintext, aad) => {
          const sealed = plain(node.aesGcmSeal(key, nonce, plaintext, aad));
          expect(sealed).toHaveLength(plaintext.length + 16);
          expect(sealed).toEqual(noble.aesGcmSeal(key, nonce, plaintext, aad));
          expect(plain(node.aesGcmOpen(key, nonce, sealed, aad))).toEqual(plaintext);
          expect(noble.aesGcmOpen(key, nonce, sealed, aad)).toEqual(plaintext);
        },
      ),
      { seed: SEED, numRuns: FAST_RUNS },
    );
  });
});

const tamper = fc.oneof(
  fc.record({
    kind: fc.constant("sealed" as const),
    index: fc.nat(),
    xor: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant("aad" as const),
    index: fc.nat(),
    xor: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant("nonce" as const),
    index: fc.nat(),
    xor: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant("key" as const),
    index: fc.nat(),
    xor: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), index: fc.nat(), xor: fc.constant(0) }),
);

/** `data` with the byte at `index` (mod length) XORed with `xor`, or one byte appended when empty. */
function flip(data: Uint8Array, index: number, xor: number): Uint8Array {
  if (data.length === 0) return Uint8Array.of(xor);
  const copy = data.slice();
  const at = index % data.length;
  copy[at] = (copy[at] ?? 0) ^ xor;
  return copy;
}

it("AES-GCM: both providers refuse the same tampered input with DecryptionFailedError", () => {
  fc.assert(
    fc.property(
      bytes(32),
      bytes(12),
      anyBytes(100),
      anyBytes(32),
      tamper,
      (key, nonce, plaintext, aad, change) => {
        const sealed = node.aesGcmSeal(key, nonce, plaintext, aad);
        let args: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
        switch (change.kind) {
          case "sealed":
            args = [key, nonce, flip(sealed, change.index, change.xor), aad];
            break;
          case "aad":
            args = [key, nonce, sealed, flip(aad, change.index, change.xor)];
            break;
          case "nonce":
            args = [key, flip(nonce, change.index, change.xor), sealed, aad];
            break;
          case "key":
            args = [flip(key, change.index, change.xor), nonce, sealed, aad];
            break;
          case "truncate":
            args = [key, nonce, sealed.subarray(0, change.index % sealed.length), aad];
            break;
        }
        expect(outcome(() => node.aesGcmOpen(...args))).toBe("throws DecryptionFailedError");
        expect(outcome(() => noble.aesGcmOpen(...args))).toBe("throws DecryptionFailedError");
      },
    ),
    { seed: SEED, numRuns: FAST_RUNS },
  );
});

describe("Ed25519 verification verdicts", () => {
  const L = ed25519.Point.Fn.ORDER;

  const mutation = fc.oneof(
    fc.constant({ kind: "none" as const, index: 0, xor: 0 }),
    fc.record({
      kind: fc.constant("signature" as const),
      index: fc.nat(),
      xor: fc.integer({ min: 1, max: 255 }),
    }),
    fc.record({
      kind: fc.constant("publicKey" as const),
      index: fc.nat(),
      xor: fc.integer({ min: 1, max: 255 }),
    }),
    fc.record({
      kind: fc.constant("message" as const),
      index: fc.nat(),
      xor: fc.integer({ min: 1, max: 255 }),
    }),
    // S + L: the same signature with a non-canonical S (RFC 8032 malleability).
    fc.constant({ kind: "s-plus-l" as const, index: 0, xor: 0 }),
    fc.record({
      kind: fc.constant("length" as const),
      index: fc.integer({ min: 0, max: 96 }),
      xor: fc.constant(0),
    }),
  );

  it("agree on honest and mutated signatures, keys and messages", () => {
    fc.assert(
      fc.property(bytes(32), anyBytes(200), mutation, (secretKey, message, change) => {
        let publicKey: Uint8Array = noble.ed25519PublicKey(secretKey);
        let signed: Uint8Array = message;
        let signature: Uint8Array = noble.ed25519Sign(secretKey, message);
        switch (change.kind) {
          case "none":
            break;
          case "signature":
            signature = flip(signature, change.index, change.xor);
            break;
          case "publicKey":
            publicKey = flip(publicKey, change.index, change.xor);
            break;
          case "message":
            signed = flip(message, change.index, change.xor);
            break;
          case "s-plus-l":
            signature = concatBytes(
              signature.subarray(0, 32),
              numberToBytesLE(bytesToNumberLE(signature.subarray(32)) + L, 32),
            );
            break;
          case "length":
            // 0..96 bytes, never 64: truncated or padded signatures.
            signature = new Uint8Array(change.index === 64 ? 65 : change.index).fill(7);
            signature.set(noble.ed25519Sign(secretKey, message).subarray(0, signature.length));
            break;
        }
        const verdict = node.ed25519Verify(publicKey, signed, signature);
        expect(verdict).toBe(noble.ed25519Verify(publicKey, signed, signature));
        expect(verdict).toBe(change.kind === "none");
      }),
      { seed: SEED, numRuns: CURVE_RUNS },
    );
  });

  it("agree on arbitrary keys and signatures, small-order and non-canonical keys included", () => {
    const publicKey = fc.oneof(
      bytes(32),
      fc.constantFrom(...ED25519_TORSION_SUBGROUP).map(fromHex),
      // y ≥ p: non-canonical encodings.
      fc.integer({ min: 0, max: 18 }).map((k) => numberToBytesLE(2n ** 255n - 19n + BigInt(k), 32)),
    );
    fc.assert(
      fc.property(publicKey, bytes(64), anyBytes(64), (key, signature, message) => {
        expect(node.ed25519Verify(key, message, signature)).toBe(
          noble.ed25519Verify(key, message, signature),
        );
      }),
      { seed: SEED, numRuns: CURVE_RUNS },
    );
  });

  it("never throw, whatever the arguments", () => {
    const secretKey = new Uint8Array(32).fill(1);
    const publicKey = node.ed25519PublicKey(secretKey);
    const signature = node.ed25519Sign(secretKey, Uint8Array.of(1));
    const odd = ["text", 42, [1, 2, 3], new Uint8Array(0), new Uint8Array(31), new Uint8Array(65)];
    // noble.ts reads `.length` first and throws a TypeError on null / undefined; node answers false.
    const nullish = [undefined, null];
    for (const provider of [node, noble]) {
      for (const value of provider === node ? [...odd, ...nullish] : odd) {
        const bad = value as unknown as Uint8Array;
        expect(provider.ed25519Verify(publicKey, Uint8Array.of(1), bad)).toBe(false);
        expect(provider.ed25519Verify(bad, Uint8Array.of(1), signature)).toBe(false);
        expect(provider.ed25519Verify(publicKey, bad, signature)).toBe(false);
      }
      expect(provider.ed25519Verify(publicKey, Uint8Array.of(1), signature)).toBe(true);
    }
  });
});

// The pinned rule (provider.ts, PROTOCOL.md "Suite and providers") is RFC 8032 cofactorless
// verification: [S]B = R + [k]A exactly. The cofactored equation [8][S]B = [8]R + [8][k]A accepts more:
// any signature whose error R + [k]A - [S]B is a non-zero small-order point. A signer can produce those
// on purpose (a key A = aB + T with T of order 8, or a nonce point R = rB + T), and members whose
// providers use different equations would then disagree on which messages are authentic.
describe.each([node, noble])("$name provider: the pinned cofactorless Ed25519 rule", (provider) => {
  it("the mixed-order key passes the strict key check (canonical, not of small order)", () => {
    expect(isStrictEd25519PublicKey(mixedOrderKey)).toBe(true);
  });

  it("accepts a mixed-order key's signature when [k]T = 0 (k ≡ 0 mod 8): both equations hold", () => {
    const { publicKey, message, signature } = mixedKeyBothHold();
    expect(provider.ed25519Verify(publicKey, message, signature)).toBe(true);
  });

  // @noble/curves' own verify() is cofactored and would accept the next two signatures; noble.ts
  // checks the pinned cofactorless equation [S]B = R + [k]A itself, as OpenSSL does, so both
  // providers must reject them.
  it("rejects a mixed-order key's signature when [k]T ≠ 0 (only the cofactored equation holds)", () => {
    const { publicKey, message, signature } = mixedKeyCofactoredOnly();
    expect(provider.ed25519Verify(publicKey, message, signature)).toBe(false);
  });

  it("rejects a signature whose R has a small-order component (only the cofactored equation holds)", () => {
    const { publicKey, message, signature } = mixedNonceCofactoredOnly();
    expect(provider.ed25519Verify(publicKey, message, signature)).toBe(false);
  });
});

describe.each([node, noble])("$name provider: argument checks", (provider) => {
  const k31 = new Uint8Array(31);
  const k32 = new Uint8Array(32).fill(9);
  const k33 = new Uint8Array(33);
  const n12 = new Uint8Array(12);
  const empty = new Uint8Array(0);
  const text = "not bytes" as unknown as Uint8Array;

  // Wrong lengths and types of fixed-size arguments: TypeError / RangeError naming the argument.
  const cases: Array<[string, "RangeError" | "TypeError", string, (p: CryptoProvider) => unknown]> =
    [
      ["x25519PublicKey(31 bytes)", "RangeError", "secretKey", (p) => p.x25519PublicKey(k31)],
      ["x25519PublicKey(string)", "TypeError", "secretKey", (p) => p.x25519PublicKey(text)],
      ["x25519(33 bytes, ·)", "RangeError", "secretKey", (p) => p.x25519(k33, k32)],
      ["x25519(·, 31 bytes)", "RangeError", "publicKey", (p) => p.x25519(k32, k31)],
      ["x25519(·, string)", "TypeError", "publicKey", (p) => p.x25519(k32, text)],
      ["ed25519PublicKey(33 bytes)", "RangeError", "secretKey", (p) => p.ed25519PublicKey(k33)],
      ["ed25519Sign(31 bytes, ·)", "RangeError", "secretKey", (p) => p.ed25519Sign(k31, empty)],
      [
        "ed25519Sign(64-byte expanded key, ·)",
        "RangeError",
        "secretKey",
        (p) => p.ed25519Sign(new Uint8Array(64), empty),
      ],
      ["aesGcmSeal(31-byte key)", "RangeError", "key", (p) => p.aesGcmSeal(k31, n12, empty, empty)],
      [
        "aesGcmSeal(16-byte key)",
        "RangeError",
        "key",
        (p) => p.aesGcmSeal(new Uint8Array(16), n12, empty, empty),
      ],
      [
        "aesGcmSeal(11-byte nonce)",
        "RangeError",
        "nonce",
        (p) => p.aesGcmSeal(k32, new Uint8Array(11), empty, empty),
      ],
      [
        "aesGcmSeal(16-byte nonce)",
        "RangeError",
        "nonce",
        (p) => p.aesGcmSeal(k32, new Uint8Array(16), empty, empty),
      ],
      [
        "aesGcmOpen(33-byte key)",
        "RangeError",
        "key",
        (p) => p.aesGcmOpen(k33, n12, new Uint8Array(16), empty),
      ],
      [
        "aesGcmOpen(13-byte nonce)",
        "RangeError",
        "nonce",
        (p) => p.aesGcmOpen(k32, new Uint8Array(13), new Uint8Array(16), empty),
      ],
      ["hkdfExpand(length -1)", "RangeError", "length", (p) => p.hkdfExpand(k32, empty, -1)],
      ["hkdfExpand(length 1.5)", "RangeError", "length", (p) => p.hkdfExpand(k32, empty, 1.5)],
      ["randomBytes(-1)", "RangeError", "length", (p) => p.randomBytes(-1)],
      ["randomBytes(65537)", "RangeError", "length", (p) => p.randomBytes(65_537)],
    ];

  it.each(cases)("%s throws %s naming %s", (_, errorName, argument, call) => {
    expect(() => call(provider)).toThrowError(
      expect.objectContaining({
        name: errorName,
        message: expect.stringMatching(new RegExp(argument, "i")),
      }),
    );
  });

  // @noble/hashes throws a plain Error here; noble.ts checks the arguments itself first.
  const contract = it;
  contract("hkdfExpand beyond 255 × 32 bytes throws a RangeError naming length", () => {
    expect(() => provider.hkdfExpand(k32, empty, 8161)).toThrowError(
      expect.objectContaining({ name: "RangeError", message: expect.stringMatching(/length/) }),
    );
  });
  contract("hkdfExpand with a PRK under 32 bytes throws a RangeError naming prk", () => {
    expect(() => provider.hkdfExpand(k31, empty, 32)).toThrowError(
      expect.objectContaining({ name: "RangeError", message: expect.stringMatching(/prk/) }),
    );
  });

  it("aesGcmOpen of fewer than 16 bytes is an authentication failure, not misuse", () => {
    expect(outcome(() => provider.aesGcmOpen(k32, n12, new Uint8Array(15), empty))).toBe(
      "throws DecryptionFailedError",
    );
  });

  it("randomBytes gives the requested number of bytes, 0 and the 65536 quota included", () => {
    expect(provider.randomBytes(0)).toEqual(new Uint8Array(0));
    expect(provider.randomBytes(65_536)).toHaveLength(65_536);
    expect(provider.randomBytes(32)).not.toEqual(provider.randomBytes(32));
  });

  it("small randomBytes (a reuse guard, a nonce) never repeat, across many draws", () => {
    // 12-byte draws (pooled by the node provider) over several pools' worth: all distinct, own
    // buffers, and the 4-byte ones in between do not shift or zero them.
    const seen = new Set<string>();
    const draws: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) {
      const draw = provider.randomBytes(12);
      expect(draw).toHaveLength(12);
      expect(provider.randomBytes(i % 17)).toHaveLength(i % 17);
      draws.push(draw);
      seen.add(Buffer.from(draw).toString("hex"));
    }
    expect(seen.size).toBe(3000);
    expect(new Set(draws.map((d) => d.buffer)).size).toBe(3000);
    expect(draws.every((d) => d.some((byte) => byte !== 0))).toBe(true);
  });
});

describe("node provider: variable-length arguments are type-checked by name", () => {
  const k32 = new Uint8Array(32);
  const n12 = new Uint8Array(12);
  const empty = new Uint8Array(0);
  const text = "not bytes" as unknown as Uint8Array;
  // node:crypto would hash a string's UTF-8 bytes; the contract wants a TypeError instead.
  const cases: Array<[string, () => unknown]> = [
    ["data", () => node.sha256(text)],
    ["data", () => node.sha256Hex?.(text)],
    ["key", () => node.hmacSha256(text, empty)],
    ["data", () => node.hmacSha256(empty, text)],
    ["salt", () => node.hkdfExtract(text, empty)],
    ["ikm", () => node.hkdfExtract(empty, text)],
    ["prk", () => node.hkdfExpand(text, empty, 32)],
    ["info", () => node.hkdfExpand(k32, text, 32)],
    ["message", () => node.ed25519Sign(k32, text)],
    ["plaintext", () => node.aesGcmSeal(k32, n12, text, empty)],
    ["aad", () => node.aesGcmSeal(k32, n12, empty, text)],
    ["sealed", () => node.aesGcmOpen(k32, n12, text, empty)],
    ["aad", () => node.aesGcmOpen(k32, n12, new Uint8Array(16), text)],
    ["length", () => node.hkdfExpand(k32, empty, "32" as unknown as number)],
  ];
  it.each(cases)("TypeError naming %s", (argument, call) => {
    expect(call).toThrowError(
      expect.objectContaining({ name: "TypeError", message: expect.stringMatching(argument) }),
    );
  });
});

describe("node provider: key cache", () => {
  const imports = () => ({
    privateKeys: vi.mocked(createPrivateKey).mock.calls.length,
    publicKeys: vi.mocked(createPublicKey).mock.calls.length,
    strictChecks: vi.mocked(isStrictEd25519PublicKey).mock.calls.length,
  });
  beforeEach(() => {
    vi.mocked(createPrivateKey).mockClear();
    vi.mocked(createPublicKey).mockClear();
    vi.mocked(isStrictEd25519PublicKey).mockClear();
  });

  it("imports a long-lived X25519 key pair once, not per message", () => {
    const provider = nodeProvider();
    const secretKey = new Uint8Array(32).fill(3);
    const peer = noble.x25519PublicKey(new Uint8Array(32).fill(4));
    for (let i = 0; i < 10; i++) provider.x25519(secretKey, peer);
    expect(imports()).toEqual({ privateKeys: 1, publicKeys: 1, strictChecks: 0 });
  });

  it("imports an Ed25519 key once and judges a public key once, for signing and verifying", () => {
    const provider = nodeProvider();
    const secretKey = new Uint8Array(32).fill(5);
    const publicKey = noble.ed25519PublicKey(secretKey);
    for (let i = 0; i < 10; i++) {
      const signature = provider.ed25519Sign(secretKey, Uint8Array.of(i));
      expect(provider.ed25519Verify(publicKey, Uint8Array.of(i), signature)).toBe(true);
    }
    expect(imports()).toEqual({ privateKeys: 1, publicKeys: 1, strictChecks: 1 });
  });

  it("remembers a refused Ed25519 public key without importing it", () => {
    const provider = nodeProvider();
    const smallOrder = fromHex(ED25519_TORSION_SUBGROUP[1] ?? "");
    for (let i = 0; i < 5; i++) {
      expect(provider.ed25519Verify(smallOrder, Uint8Array.of(i), new Uint8Array(64))).toBe(false);
    }
    expect(imports()).toEqual({ privateKeys: 0, publicKeys: 0, strictChecks: 1 });
  });

  it("judges and imports an Ed25519 public key once, whatever array holds it (a signer decoded anew per envelope)", () => {
    const provider = nodeProvider();
    const secretKey = new Uint8Array(32).fill(15);
    const publicKey = noble.ed25519PublicKey(secretKey);
    const signature = noble.ed25519Sign(secretKey, empty());
    for (let i = 0; i < 10; i++) {
      expect(provider.ed25519Verify(publicKey.slice(), empty(), signature)).toBe(true);
      expect(provider.ed25519Verify(publicKey.slice(), Uint8Array.of(i), signature)).toBe(false);
    }
    expect(imports()).toEqual({ privateKeys: 0, publicKeys: 1, strictChecks: 1 });
  });

  it(`remembers at most ${maxPublicKeysByContent} public keys by content, the least recently used forgotten first`, () => {
    const provider = nodeProvider();
    const key = (i: number) => {
      const bytes = new Uint8Array(32).fill(7);
      new DataView(bytes.buffer).setUint32(0, i);
      return bytes;
    };
    const verify = (i: number) => provider.ed25519Verify(key(i), empty(), new Uint8Array(64));
    for (let i = 0; i < maxPublicKeysByContent; i++) verify(i);
    // Key 0 used again (a hit) is the most recent now: key 1 is the least recently used.
    verify(0);
    expect(imports().strictChecks).toBe(maxPublicKeysByContent);
    verify(maxPublicKeysByContent);
    expect(imports().strictChecks).toBe(maxPublicKeysByContent + 1);
    verify(0);
    verify(maxPublicKeysByContent);
    expect(imports().strictChecks).toBe(maxPublicKeysByContent + 1);
    // Key 1 was forgotten: judged again.
    verify(1);
    expect(imports().strictChecks).toBe(maxPublicKeysByContent + 2);
  });

  it("needs no import for the key pairs it generated", () => {
    const provider = nodeProvider();
    const dh = provider.x25519KeyPair();
    const signing = provider.ed25519KeyPair();
    const peer = provider.x25519KeyPair();
    provider.x25519(dh.secretKey, peer.publicKey);
    const signature = provider.ed25519Sign(signing.secretKey, empty());
    expect(provider.ed25519Verify(signing.publicKey, empty(), signature)).toBe(true);
    expect(imports()).toEqual({ privateKeys: 0, publicKeys: 0, strictChecks: 0 });
  });

  it("re-imports a key array overwritten in place instead of using the old key", () => {
    const provider = nodeProvider();
    const secretKey = new Uint8Array(32).fill(6);
    const publicKey = noble.x25519PublicKey(new Uint8Array(32).fill(7));
    const signingKey = new Uint8Array(32).fill(8);
    const verifyingKey = noble.ed25519PublicKey(signingKey);
    provider.x25519(secretKey, publicKey);
    provider.ed25519Verify(verifyingKey, empty(), new Uint8Array(64));
    provider.ed25519Sign(signingKey, empty());

    secretKey.fill(9);
    publicKey.set(noble.x25519PublicKey(new Uint8Array(32).fill(10)));
    signingKey.fill(11);
    verifyingKey.set(noble.ed25519PublicKey(signingKey));

    expect(provider.x25519(secretKey, publicKey)).toEqual(noble.x25519(secretKey, publicKey));
    expect(provider.x25519PublicKey(secretKey)).toEqual(noble.x25519PublicKey(secretKey));
    const signature = provider.ed25519Sign(signingKey, empty());
    expect(signature).toEqual(noble.ed25519Sign(signingKey, empty()));
    expect(provider.ed25519Verify(verifyingKey, empty(), signature)).toBe(true);
  });

  it("re-imports a node Buffer key overwritten in place too (Buffer#slice would alias)", () => {
    const provider = nodeProvider();
    const secretKey = Buffer.alloc(32, 12);
    const peer = noble.x25519PublicKey(new Uint8Array(32).fill(13));
    provider.x25519(secretKey, peer);
    secretKey.fill(14);
    expect(provider.x25519(secretKey, peer)).toEqual(noble.x25519(new Uint8Array(secretKey), peer));
  });

  function empty(): Uint8Array {
    return new Uint8Array(0);
  }
});
