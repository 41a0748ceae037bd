import { describe, expect, it } from "vitest";
import * as archive from "../src/entries/archive.ts";
import * as protocols from "../src/entries/protocols.ts";
import * as api from "../src/index.ts";

const entries = {
  "@orgchat/service-node": api,
  "@orgchat/service-node/archive": archive,
  "@orgchat/service-node/protocols": protocols,
} as const;

describe("public surface", () => {
  it("the entry point exports exactly this (a change here needs a changeset)", () => {
    expect(Object.keys(api).sort()).toMatchSnapshot();
  });

  it("the archive subpath exports exactly this (a change here needs a changeset)", () => {
    expect(Object.keys(archive).sort()).toMatchSnapshot();
  });

  it("the protocols subpath exports exactly this (a change here needs a changeset)", () => {
    expect(Object.keys(protocols).sort()).toMatchSnapshot();
  });

  it("the main entry is for operators: no archive or protocol handler leaks into it", () => {
    for (const name of [
      "MessageArchive",
      "handleStoreQuery",
      "FilterSubscriptions",
      "ProtocolServer",
    ]) {
      expect(Object.keys(api)).not.toContain(name);
    }
  });

  for (const [entry, module] of Object.entries(entries)) {
    it(`${entry}: every error class has a matching guard and a static errorName equal to its name`, () => {
      for (const [key, value] of Object.entries(module)) {
        if (typeof value !== "function" || !/^[A-Z]\w*Error$/.test(key)) continue;
        const errorClass = value as unknown as { errorName?: unknown };
        expect(errorClass.errorName, key).toBe(key);
        expect(typeof (module as Record<string, unknown>)[`is${key}`], `is${key}`).toBe("function");
      }
    });
  }
});
