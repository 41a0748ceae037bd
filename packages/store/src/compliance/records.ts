/**
 * Records (`get`, `put`, `delete`, `keys`) and binary and large data: round trips, copies, key
 * order, NUL and non-ASCII names, every byte value, 8 MiB values.
 */
import { describe, expect, it } from "vitest";
import { isRecordNotFoundError } from "../errors.js";
import { readEntries, storeLimits } from "../types.js";
import {
  type ComplianceSuite,
  entry,
  idsInCodePointOrder,
  pseudoRandomBytes,
  rejection,
  sameBytes,
  shuffled,
  text,
} from "./support.js";

/** Defines the records cases of the compliance suite. */
export function describeRecords(suite: ComplianceSuite): void {
  describe("records", () => {
    it("round trips a value, overwrites it, and returns undefined for a missing key", async () => {
      expect(await suite.store.get("settings", "theme")).toBeUndefined();
      await suite.store.put("settings", "theme", text("dark"));
      expect(await suite.store.get("settings", "theme")).toEqual(text("dark"));
      await suite.store.put("settings", "theme", text("light"));
      expect(await suite.store.get("settings", "theme")).toEqual(text("light"));
      expect(await suite.store.getOrThrow("settings", "theme")).toEqual(text("light"));
    });

    it("getOrThrow rejects a missing key with RecordNotFoundError naming it", async () => {
      const error = await rejection(suite.store.getOrThrow("identity", "signing-key"));
      expect(isRecordNotFoundError(error)).toBe(true);
      expect(error).toMatchObject({ space: "identity", key: "signing-key" });
    });

    it("entries reads what keys then get read: prefix, after, limit, copies", async () => {
      for (const key of ["rr/b", "rr/a", "rr/c", "rs/a", "r"]) {
        await suite.store.put("org", key, text(`v:${key}`));
      }
      await suite.store.put("other", "rr/z", text("elsewhere"));
      const read = async (query?: Parameters<typeof suite.store.keys>[1]) => {
        const entries = (await suite.store.entries?.("org", query)) ?? [];
        const fallback = await readEntries(
          {
            keys: suite.store.keys.bind(suite.store),
            get: suite.store.get.bind(suite.store),
          } as never,
          "org",
          query,
        );
        expect(fallback).toEqual(entries);
        return entries.map(([key, value]) => [key, new TextDecoder().decode(value)]);
      };
      expect(typeof suite.store.entries).toBe("function");
      expect(await read({ prefix: "rr/" })).toEqual([
        ["rr/a", "v:rr/a"],
        ["rr/b", "v:rr/b"],
        ["rr/c", "v:rr/c"],
      ]);
      expect(await read({ prefix: "rr/", after: "rr/a", limit: 1 })).toEqual([["rr/b", "v:rr/b"]]);
      expect((await read()).map(([key]) => key)).toEqual(["r", "rr/a", "rr/b", "rr/c", "rs/a"]);
      expect(await read({ prefix: "none/" })).toEqual([]);
      expect(await suite.store.entries?.("empty-space")).toEqual([]);
      // Each value is a copy: changing it changes nothing stored.
      const [first] = (await suite.store.entries?.("org", { prefix: "rr/a" })) ?? [];
      first?.[1].fill(0);
      expect(await suite.store.get("org", "rr/a")).toEqual(text("v:rr/a"));
    });

    it("delete reports whether there was a value, and deletes it", async () => {
      await suite.store.put("s", "k", text("v"));
      expect(await suite.store.delete("s", "k")).toBe(true);
      expect(await suite.store.get("s", "k")).toBeUndefined();
      expect(await suite.store.delete("s", "k")).toBe(false);
      expect(await suite.store.delete("never", "written")).toBe(false);
    });

    it("keeps spaces apart, and records apart from logs", async () => {
      await suite.store.put("a", "k", text("in a"));
      await suite.store.put("b", "k", text("in b"));
      await suite.store.append("a", [entry("k", 1n, "entry")]);
      expect(await suite.store.get("a", "k")).toEqual(text("in a"));
      expect(await suite.store.get("b", "k")).toEqual(text("in b"));
      await suite.store.delete("a", "k");
      expect(await suite.store.get("b", "k")).toEqual(text("in b"));
      expect(await suite.store.getEntry("a", "k")).toEqual(entry("k", 1n, "entry"));
    });

    it("stores an empty value as an empty value, not as absent", async () => {
      await suite.store.put("s", "empty", new Uint8Array(0));
      const value = await suite.store.get("s", "empty");
      expect(value).toBeInstanceOf(Uint8Array);
      expect(value?.byteLength).toBe(0);
    });

    it("copies values in and out", async () => {
      const value = text("original");
      await suite.store.put("s", "k", value);
      value.fill(0);
      const read = await suite.store.getOrThrow("s", "k");
      expect(read).toEqual(text("original"));
      read.fill(0);
      expect(await suite.store.get("s", "k")).toEqual(text("original"));
    });

    it("lists keys in code point order, by prefix, after a key, with a limit", async () => {
      for (const key of shuffled(idsInCodePointOrder, 7))
        await suite.store.put("s", key, text(key));
      await suite.store.put("other", "a", text("x"));
      expect(await suite.store.keys("s")).toEqual(idsInCodePointOrder);
      expect(await suite.store.keys("s", { prefix: "a" })).toEqual(["a", "a\u0000", "a\u0000b"]);
      expect(await suite.store.keys("s", { prefix: "a\u0000" })).toEqual(["a\u0000", "a\u0000b"]);
      expect(await suite.store.keys("s", { prefix: "é" })).toEqual(["é"]);
      expect(await suite.store.keys("s", { after: "z", limit: 2 })).toEqual(["é", "\ue000"]);
      expect(await suite.store.keys("s", { prefix: "a", after: "a", limit: 1 })).toEqual([
        "a\u0000",
      ]);
      expect(await suite.store.keys("s", { limit: 0 })).toEqual([]);
      expect(await suite.store.keys("empty")).toEqual([]);
    });
  });

  describe("binary and large data", () => {
    it("round trips keys, names and ids with NUL and non-ASCII characters, and every byte value", async () => {
      const allBytes = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
      const zeros = new Uint8Array(64);
      const keys = ["\u0000", "a\u0000", "\u0000a\u0000", "ключ", "鍵", "🔑"];
      for (const [i, key] of keys.entries()) {
        await suite.store.put("bin\u0000space", key, i % 2 === 0 ? allBytes : zeros);
      }
      for (const [i, key] of keys.entries()) {
        expect(await suite.store.get("bin\u0000space", key)).toEqual(
          i % 2 === 0 ? allBytes : zeros,
        );
      }
      expect(await suite.store.get("bin\u0000space", "a")).toBeUndefined();
      expect(await suite.store.get("bin", "\u0000")).toBeUndefined();
      await suite.store.append("log\u0000", [
        { id: "\u0000", sortKey: 0n, value: allBytes },
        { id: "id\u0000🔑", sortKey: storeLimits.maxSortKey, value: zeros },
      ]);
      expect(await suite.store.range("log\u0000")).toEqual([
        { id: "\u0000", sortKey: 0n, value: allBytes },
        { id: "id\u0000🔑", sortKey: storeLimits.maxSortKey, value: zeros },
      ]);
    });

    it("round trips an 8 MiB value as a record and as a log entry", async () => {
      const big = pseudoRandomBytes(8 * 1024 * 1024, 1);
      await suite.store.put("ratchet", "owner-group", big);
      expect(sameBytes(await suite.store.get("ratchet", "owner-group"), big)).toBe(true);
      await suite.store.append("big", [{ id: "x", sortKey: 1n, value: big }]);
      expect(sameBytes((await suite.store.getEntry("big", "x"))?.value, big)).toBe(true);
      expect(sameBytes((await suite.store.range("big"))[0]?.value, big)).toBe(true);
      big[0] = (big[0] as number) ^ 1;
      expect(sameBytes(await suite.store.get("ratchet", "owner-group"), big)).toBe(false);
    });
  });
}
