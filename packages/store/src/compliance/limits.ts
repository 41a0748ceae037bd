/**
 * Limits: names, keys and ids measured in UTF-8 bytes, value size, sort key range, and the typed
 * errors for each.
 */
import { describe, expect, it } from "vitest";
import { isInvalidKeyError, isValueTooLargeError } from "../errors.js";
import { storeLimits } from "../types.js";
import { type ComplianceSuite, entry, positions, rejection, text } from "./support.js";

/** Defines the limits cases of the compliance suite. */
export function describeLimits(suite: ComplianceSuite): void {
  describe("limits", () => {
    it("accepts keys and names at the limit, measured in UTF-8 bytes", async () => {
      const key = "é".repeat(storeLimits.maxKeyBytes / 2);
      const name = "n".repeat(storeLimits.maxNameBytes);
      await suite.store.put(name, key, text("v"));
      expect(await suite.store.get(name, key)).toEqual(text("v"));
      await suite.store.append(name, [entry(key, 1n)]);
      expect(await suite.store.getEntry(name, key)).toEqual(entry(key, 1n));
    });

    it("rejects empty, too long or malformed names, keys and ids with InvalidKeyError", async () => {
      const longKey = `${"é".repeat(storeLimits.maxKeyBytes / 2)}a`;
      const longName = "n".repeat(storeLimits.maxNameBytes + 1);
      const cases: [Promise<unknown>, string][] = [
        [suite.store.put("", "k", text("v")), "space"],
        [suite.store.put("s", "", text("v")), "key"],
        [suite.store.put(longName, "k", text("v")), "space"],
        [suite.store.put("s", longKey, text("v")), "key"],
        [suite.store.put("s", "\ud800", text("v")), "key"],
        [suite.store.put("s", "a\udc00b", text("v")), "key"],
        [suite.store.put("s", 42 as unknown as string, text("v")), "key"],
        [suite.store.get("s", ""), "key"],
        [suite.store.delete("", "k"), "space"],
        [suite.store.append("", [entry("a", 1n)]), "log"],
        [suite.store.append("l", [entry("", 1n)]), "id"],
        [suite.store.append("l", [entry(longKey, 1n)]), "id"],
        [suite.store.range(longName), "log"],
        [suite.store.getEntry("l", ""), "id"],
        [suite.store.deleteEntries("l", [""]), "id"],
        [suite.store.range("l", { after: { sortKey: 1n, id: "" } }), "id"],
      ];
      for (const [call, argument] of cases) {
        const error = await rejection(call);
        expect(isInvalidKeyError(error), String(error)).toBe(true);
        expect(error).toMatchObject({ argument });
      }
      expect(await suite.store.keys("s")).toEqual([]);
      expect(await suite.store.range("l")).toEqual([]);
    });

    it("rejects a value over storeLimits.maxValueBytes with ValueTooLargeError, and non-bytes with TypeError", async () => {
      const tooLarge = new Uint8Array(storeLimits.maxValueBytes + 1);
      const error = await rejection(suite.store.put("s", "k", tooLarge));
      expect(isValueTooLargeError(error)).toBe(true);
      expect(error).toMatchObject({
        size: storeLimits.maxValueBytes + 1,
        limit: storeLimits.maxValueBytes,
      });
      expect(
        isValueTooLargeError(
          await rejection(suite.store.append("l", [{ id: "a", sortKey: 1n, value: tooLarge }])),
        ),
      ).toBe(true);
      expect(
        await rejection(suite.store.put("s", "k", "text" as unknown as Uint8Array)),
      ).toBeInstanceOf(TypeError);
      expect(await suite.store.get("s", "k")).toBeUndefined();
      expect(await suite.store.range("l")).toEqual([]);
    });

    it("accepts sort keys from 0n to 2^63 - 1 and rejects others (RangeError, TypeError)", async () => {
      await suite.store.append("l", [entry("min", 0n), entry("max", storeLimits.maxSortKey)]);
      expect(positions(await suite.store.range("l"))).toEqual([
        [0n, "min"],
        [storeLimits.maxSortKey, "max"],
      ]);
      expect(await rejection(suite.store.append("l", [entry("neg", -1n)]))).toBeInstanceOf(
        RangeError,
      );
      expect(
        await rejection(suite.store.append("l", [entry("over", storeLimits.maxSortKey + 1n)])),
      ).toBeInstanceOf(RangeError);
      expect(
        await rejection(
          suite.store.append("l", [{ id: "n", sortKey: 1 as unknown as bigint, value: text("") }]),
        ),
      ).toBeInstanceOf(TypeError);
      expect(await rejection(suite.store.range("l", { after: -1n }))).toBeInstanceOf(RangeError);
      expect(await rejection(suite.store.range("l", { limit: -1 }))).toBeInstanceOf(RangeError);
      expect(await rejection(suite.store.range("l", { limit: 1.5 }))).toBeInstanceOf(RangeError);
      expect(await rejection(suite.store.keys("s", { limit: -1 }))).toBeInstanceOf(RangeError);
      expect(positions(await suite.store.range("l"))).toHaveLength(2);
    });
  });
}
