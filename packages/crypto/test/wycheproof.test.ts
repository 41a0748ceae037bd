/**
 * Wycheproof (C2SP/wycheproof, vectors/wycheproof/ORGCHAT.md) through both providers: every `valid`
 * case must pass, every `invalid` case must be rejected, and on `acceptable` cases the providers must
 * give the same verdict, the one recorded per flag below. The last block compares the two providers'
 * outcomes case by case, bytes and error names included.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { nobleProvider } from "../src/providers/noble.js";
import { nodeProvider } from "../src/providers/node.js";
import {
  type AeadFile,
  countBy,
  type EddsaFile,
  type HkdfFile,
  type MacFile,
  mismatches,
  type WycheproofFiles,
  wycheproofCases,
  wycheproofFileNames,
  type XdhFile,
} from "./wycheproof-cases.js";

const VECTORS = new URL("../../../vectors/wycheproof/", import.meta.url);

function load<File>(name: string): File {
  return JSON.parse(readFileSync(new URL(name, VECTORS), "utf8")) as File;
}

const files: WycheproofFiles = {
  x25519: load<XdhFile>(wycheproofFileNames.x25519),
  ed25519: load<EddsaFile>(wycheproofFileNames.ed25519),
  aesGcm: load<AeadFile>(wycheproofFileNames.aesGcm),
  hkdf: load<HkdfFile>(wycheproofFileNames.hkdf),
  hmac: load<MacFile>(wycheproofFileNames.hmac),
};
const wycheproof = wycheproofCases(files);
const { suites } = wycheproof;

describe("Wycheproof files", () => {
  it("hold the cases we expect, so a filter or parsing bug cannot skip them silently", () => {
    expect(files.x25519.numberOfTests).toBe(518);
    expect(
      countBy(
        wycheproof.x25519Cases,
        (c) => `${c.result} ${c.expected.startsWith("throws") ? "reject" : "accept"}`,
      ),
    ).toEqual({
      "valid accept": 264,
      "acceptable accept": 223,
      "acceptable reject": 31,
    });
    expect(files.ed25519.numberOfTests).toBe(151);
    expect(countBy(wycheproof.ed25519Cases, (c) => c.result)).toEqual({ valid: 88, invalid: 63 });
    // 316 AES-GCM cases: 66 are AES-256 / 96-bit IV / 128-bit tag, 250 use other key or IV sizes.
    expect(files.aesGcm.numberOfTests).toBe(316);
    expect(wycheproof.aesGcmSkipped).toBe(250);
    expect(countBy(wycheproof.aesGcmCases, (c) => c.result)).toEqual({ valid: 39, invalid: 27 });
    expect(files.hkdf.numberOfTests).toBe(86);
    expect(countBy(wycheproof.hkdfCases, (c) => c.result)).toEqual({ valid: 83, invalid: 3 });
    // 174 HMAC cases: 87 with 256-bit tags, 87 with truncated 128-bit tags.
    expect(files.hmac.numberOfTests).toBe(174);
    expect(wycheproof.hmacSkipped).toBe(87);
    expect(countBy(wycheproof.hmacCases, (c) => c.result)).toEqual({ valid: 33, invalid: 54 });
  });
});

describe.each([nodeProvider(), nobleProvider()])(
  "Wycheproof through the $name provider",
  (provider) => {
    it.each(suites)(
      "$name: valid cases pass, invalid are rejected, acceptable get our verdict",
      ({ cases }) => {
        expect(mismatches(provider, cases)).toEqual([]);
      },
    );
  },
);

describe("node and noble agree on every Wycheproof case", () => {
  const node = nodeProvider();
  const noble = nobleProvider();
  it.each(suites)("$name", ({ cases }) => {
    const disagreements = cases.flatMap((testCase) => {
      const fromNode = testCase.run(node);
      const fromNoble = testCase.run(noble);
      return fromNode === fromNoble ? [] : [`${testCase.id}: node ${fromNode}, noble ${fromNoble}`];
    });
    expect(disagreements).toEqual([]);
  });
});
