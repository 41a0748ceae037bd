/**
 * Wycheproof inside Chromium (Vitest browser mode): the same cases and expected outcomes as
 * test/wycheproof.test.ts, through `webCryptoProvider()` (the browser build's default) and
 * `nobleProvider()` in the browser's own engine, and the two compared case by case.
 */
import { fromHex } from "@orgchat/base";
import { describe, expect, inject, it } from "vitest";
import { commands } from "vitest/browser";
import { nobleProvider } from "../../src/providers/noble.js";
import { webCryptoProvider } from "../../src/providers/web.js";
import {
  mismatches,
  type WycheproofFiles,
  wycheproofCases,
  wycheproofFileNames,
} from "../wycheproof-cases.js";

declare module "vitest" {
  interface ProvidedContext {
    /** vectors/wycheproof/ as an absolute path (vitest.config.ts provides it). */
    wycheproofDirectory: string;
  }
}

async function load<File>(name: string): Promise<File> {
  // Read by the Vitest server, parsed here.
  return JSON.parse(await commands.readFile(`${inject("wycheproofDirectory")}${name}`)) as File;
}

const files: WycheproofFiles = {
  x25519: await load(wycheproofFileNames.x25519),
  ed25519: await load(wycheproofFileNames.ed25519),
  aesGcm: await load(wycheproofFileNames.aesGcm),
  hkdf: await load(wycheproofFileNames.hkdf),
  hmac: await load(wycheproofFileNames.hmac),
};
const { suites } = wycheproofCases(files);

const web = webCryptoProvider();
const noble = nobleProvider();

describe("Wycheproof in Chromium", () => {
  it("runs in Chromium, with Web Crypto's X25519 and Ed25519 in use", async () => {
    expect(navigator.userAgent).toContain("Chrome/");
    expect(await web.ready).toEqual({ x25519: true, ed25519: true });
  });

  it("holds every case of our suite (the same counts as the Node test)", () => {
    expect(Object.fromEntries(suites.map((s) => [s.name, s.cases.length]))).toEqual({
      x25519: 518,
      ed25519: 151,
      aes_gcm: 66,
      hkdf_sha256: 86,
      hmac_sha256: 87,
    });
  });
});

describe.each([web, noble])("Wycheproof through the $name provider in Chromium", (provider) => {
  it.each(suites)(
    "$name: valid cases pass, invalid are rejected, acceptable get our verdict",
    ({ cases }) => {
      expect(mismatches(provider, cases)).toEqual([]);
    },
  );
});

describe("Wycheproof Ed25519 through the async verification of envelopes (Web Crypto)", () => {
  it("accepts every valid case and rejects every invalid one", async () => {
    expect(await web.ready).toMatchObject({ ed25519: true });
    const wrong: string[] = [];
    for (const group of files.ed25519.testGroups) {
      for (const test of group.tests) {
        const verdict = await web.ed25519VerifyAsync?.(
          fromHex(group.publicKey.pk),
          fromHex(test.msg),
          fromHex(test.sig),
        );
        if (verdict !== (test.result === "valid")) wrong.push(`ed25519#${test.tcId}: ${verdict}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe("webcrypto and noble agree on every Wycheproof case in Chromium", () => {
  it.each(suites)("$name", ({ cases }) => {
    const disagreements = cases.flatMap((testCase) => {
      const fromWeb = testCase.run(web);
      const fromNoble = testCase.run(noble);
      return fromWeb === fromNoble
        ? []
        : [`${testCase.id}: webcrypto ${fromWeb}, noble ${fromNoble}`];
    });
    expect(disagreements).toEqual([]);
  });
});
