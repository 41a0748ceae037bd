/**
 * The Wycheproof cases (C2SP/wycheproof, vectors/wycheproof/ORGCHAT.md) of our suite and the outcome
 * each must have, built from the parsed files so that the Node test (which reads them with node:fs)
 * and the Chromium test (which reads them through Vitest's browser commands) run the same cases.
 */
import { fromHex, toHex } from "@orgchat/base";
import type { CryptoProvider } from "../src/provider.js";

export type WycheproofResult = "valid" | "invalid" | "acceptable";

interface WycheproofTest {
  readonly tcId: number;
  readonly comment: string;
  readonly flags: readonly string[];
  readonly result: WycheproofResult;
}

interface WycheproofFile<Group> {
  readonly algorithm: string;
  readonly numberOfTests: number;
  readonly testGroups: readonly Group[];
}

interface XdhTest extends WycheproofTest {
  readonly public: string;
  readonly private: string;
  readonly shared: string;
}
interface EddsaTest extends WycheproofTest {
  readonly msg: string;
  readonly sig: string;
}
interface AeadTest extends WycheproofTest {
  readonly key: string;
  readonly iv: string;
  readonly aad: string;
  readonly msg: string;
  readonly ct: string;
  readonly tag: string;
}
interface HkdfTest extends WycheproofTest {
  readonly ikm: string;
  readonly salt: string;
  readonly info: string;
  readonly size: number;
  readonly okm: string;
}
interface MacTest extends WycheproofTest {
  readonly key: string;
  readonly msg: string;
  readonly tag: string;
}

export type XdhFile = WycheproofFile<{
  readonly curve: string;
  readonly tests: readonly XdhTest[];
}>;
export type EddsaFile = WycheproofFile<{
  readonly publicKey: { readonly pk: string };
  readonly tests: readonly EddsaTest[];
}>;
export type AeadFile = WycheproofFile<{
  readonly keySize: number;
  readonly ivSize: number;
  readonly tagSize: number;
  readonly tests: readonly AeadTest[];
}>;
export type HkdfFile = WycheproofFile<{ readonly tests: readonly HkdfTest[] }>;
export type MacFile = WycheproofFile<{
  readonly tagSize: number;
  readonly tests: readonly MacTest[];
}>;

const bytes = (hex: string): Uint8Array => fromHex(hex);

/**
 * What a provider did with one case, as a string so that cases compare with `toEqual` and print
 * readably: output bytes in hex, `"verified"` / `"rejected"`, or `throws <error name>`.
 */
type Outcome = string;

function attempt(run: () => Uint8Array | string): Outcome {
  try {
    const output = run();
    return typeof output === "string" ? output : toHex(output);
  } catch (error) {
    return `throws ${error instanceof Error ? error.name : typeof error}`;
  }
}

interface Case {
  /** `file#tcId` for failure messages. */
  readonly id: string;
  readonly result: WycheproofResult;
  readonly flags: readonly string[];
  /** What this provider does with the case. */
  run(provider: CryptoProvider): Outcome;
  /** The outcome our rules require: for `acceptable` cases, the verdict we chose (see each suite). */
  readonly expected: Outcome;
}

/** The five Wycheproof files, parsed. */
export interface WycheproofFiles {
  readonly x25519: XdhFile;
  readonly ed25519: EddsaFile;
  readonly aesGcm: AeadFile;
  readonly hkdf: HkdfFile;
  readonly hmac: MacFile;
}

/** The files' names in vectors/wycheproof/, by the key {@link wycheproofCases} reads them under. */
export const wycheproofFileNames = {
  x25519: "x25519_test.json",
  ed25519: "ed25519_test.json",
  aesGcm: "aes_gcm_test.json",
  hkdf: "hkdf_sha256_test.json",
  hmac: "hmac_sha256_test.json",
} as const;

/**
 * Every case of our suite, per file, with the outcome our rules require, and how many cases of other
 * parameters (AES key or IV sizes, truncated HMAC tags) were left out.
 */
export function wycheproofCases(files: WycheproofFiles) {
  const {
    x25519: x25519File,
    ed25519: ed25519File,
    aesGcm: aesGcmFile,
    hkdf: hkdfFile,
    hmac: hmacFile,
  } = files;
  // X25519. No case is `invalid`; 31 are `acceptable` with an all-zero shared secret, which our rule
  // (RFC 7748 §6.1, provider.ts) refuses with InvalidPublicKeyError. Verdicts on `acceptable` flags:
  // - Twist: accepted with the vector's output (rejected in the 5 cases whose output is all zero).
  // - NonCanonicalPublic: accepted, u read mod p with bit 255 masked as RFC 7748 §5 says (rejected in
  //   the 6 cases whose output is all zero).
  // - LowOrderPublic, ZeroSharedSecret, SmallPublicKey: rejected (their output is all zero).
  // - SpecialPublicKey, EdgeCaseMultiplication, EdgeCaseShared, Ktv: accepted when the output is
  //   non-zero, rejected when it is all zero.
  const X25519_ZERO = "00".repeat(32);
  const x25519Cases: Case[] = x25519File.testGroups.flatMap((group) =>
    group.tests.map((test) => ({
      id: `x25519#${test.tcId}`,
      result: test.result,
      flags: test.flags,
      run: (provider: CryptoProvider) =>
        attempt(() => provider.x25519(bytes(test.private), bytes(test.public))),
      expected: test.shared === X25519_ZERO ? "throws InvalidPublicKeyError" : test.shared,
    })),
  );

  // Ed25519: every case is `valid` or `invalid` (non-canonical S or R, small-order or non-canonical
  // keys, wrong signature lengths): no choice of ours is involved.
  const ed25519Cases: Case[] = ed25519File.testGroups.flatMap((group) =>
    group.tests.map((test) => ({
      id: `ed25519#${test.tcId}`,
      result: test.result,
      flags: test.flags,
      run: (provider: CryptoProvider) =>
        attempt(() =>
          provider.ed25519Verify(bytes(group.publicKey.pk), bytes(test.msg), bytes(test.sig))
            ? "verified"
            : "rejected",
        ),
      expected: test.result === "valid" ? "verified" : "rejected",
    })),
  );

  // AES-GCM: our suite is AES-256 with 96-bit nonces and 128-bit tags; other groups are skipped and
  // counted. A valid case must seal to ct ‖ tag and open back; an invalid one must fail to open.
  const isOurGcm = (group: AeadFile["testGroups"][number]) =>
    group.keySize === 256 && group.ivSize === 96 && group.tagSize === 128;
  const aesGcmCases: Case[] = aesGcmFile.testGroups.filter(isOurGcm).flatMap((group) =>
    group.tests.map((test) => {
      const sealed = test.ct + test.tag;
      return {
        id: `aes_gcm#${test.tcId}`,
        result: test.result,
        flags: test.flags,
        run: (provider: CryptoProvider) => {
          const open = attempt(() =>
            provider.aesGcmOpen(bytes(test.key), bytes(test.iv), bytes(sealed), bytes(test.aad)),
          );
          if (test.result !== "valid") return `open ${open}`;
          const seal = attempt(() =>
            provider.aesGcmSeal(bytes(test.key), bytes(test.iv), bytes(test.msg), bytes(test.aad)),
          );
          return `seal ${seal} open ${open}`;
        },
        expected:
          test.result === "valid"
            ? `seal ${sealed} open ${test.msg}`
            : "open throws DecryptionFailedError",
      };
    }),
  );
  const aesGcmSkipped = aesGcmFile.testGroups
    .filter((group) => !isOurGcm(group))
    .reduce((sum, group) => sum + group.tests.length, 0);

  // HKDF-SHA256, extract then expand. The invalid cases ask for 8161 bytes (> 255 × 32) and must throw.
  // The error class is not compared here (noble throws a plain Error, node a RangeError; see
  // providers.test.ts), only that both refuse.
  const hkdfCases: Case[] = hkdfFile.testGroups.flatMap((group) =>
    group.tests.map((test) => ({
      id: `hkdf_sha256#${test.tcId}`,
      result: test.result,
      flags: test.flags,
      run: (provider: CryptoProvider) =>
        attempt(() =>
          provider.hkdfExpand(
            provider.hkdfExtract(bytes(test.salt), bytes(test.ikm)),
            bytes(test.info),
            test.size,
          ),
        ).replace(/^throws .*/, "throws"),
      expected: test.result === "valid" ? test.okm : "throws",
    })),
  );

  // HMAC-SHA256 with full-length (256-bit) tags; truncated-tag groups are skipped and counted. The
  // invalid cases carry a modified tag: the computed tag must differ from it.
  const hmacCases: Case[] = hmacFile.testGroups
    .filter((group) => group.tagSize === 256)
    .flatMap((group) =>
      group.tests.map((test) => ({
        id: `hmac_sha256#${test.tcId}`,
        result: test.result,
        flags: test.flags,
        run: (provider: CryptoProvider) =>
          attempt(() => provider.hmacSha256(bytes(test.key), bytes(test.msg))) === test.tag
            ? "tag matches"
            : "tag differs",
        expected: test.result === "valid" ? "tag matches" : "tag differs",
      })),
    );
  const hmacSkipped = hmacFile.testGroups
    .filter((group) => group.tagSize !== 256)
    .reduce((sum, group) => sum + group.tests.length, 0);

  const suites = [
    { name: "x25519", cases: x25519Cases },
    { name: "ed25519", cases: ed25519Cases },
    { name: "aes_gcm", cases: aesGcmCases },
    { name: "hkdf_sha256", cases: hkdfCases },
    { name: "hmac_sha256", cases: hmacCases },
  ] as const;

  return {
    suites,
    x25519Cases,
    ed25519Cases,
    aesGcmCases,
    aesGcmSkipped,
    hkdfCases,
    hmacCases,
    hmacSkipped,
  };
}

/** Every case whose outcome is not the expected one, as `id (result, flags): got … expected …`. */
export function mismatches(provider: CryptoProvider, cases: readonly Case[]): string[] {
  return cases.flatMap((testCase) => {
    const outcome = testCase.run(provider);
    return outcome === testCase.expected
      ? []
      : [
          `${testCase.id} (${testCase.result}, ${testCase.flags.join(",")}): got ${outcome}, expected ${testCase.expected}`,
        ];
  });
}

export const countBy = (cases: readonly Case[], key: (testCase: Case) => string) =>
  cases.reduce<Record<string, number>>((counts, testCase) => {
    const k = key(testCase);
    counts[k] = (counts[k] ?? 0) + 1;
    return counts;
  }, {});
