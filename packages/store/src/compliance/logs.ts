/**
 * Logs: idempotent appends, `getEntry`, `deleteEntries`, the `(sortKey, id)` order with ties in
 * code point order, exclusive bounds and paging.
 */
import { describe, expect, it } from "vitest";
import type { LogEntry, Store } from "../types.js";
import {
  type ComplianceSuite,
  entry,
  idsInCodePointOrder,
  positions,
  shuffled,
} from "./support.js";

/** Defines the logs cases of the compliance suite. */
export function describeLogs(suite: ComplianceSuite): void {
  describe("logs", () => {
    it("append is idempotent by id: it returns how many entries were new and keeps the first write", async () => {
      expect(await suite.store.append("events", [entry("e1", 1n), entry("e2", 2n)])).toBe(2);
      expect(
        await suite.store.append("events", [entry("e2", 9n, "changed"), entry("e3", 3n)]),
      ).toBe(1);
      expect(await suite.store.append("events", [entry("e1", 1n)])).toBe(0);
      expect(await suite.store.append("events", [entry("e4", 4n), entry("e4", 5n, "second")])).toBe(
        1,
      );
      expect(await suite.store.append("events", [])).toBe(0);
      expect(await suite.store.range("events")).toEqual([
        entry("e1", 1n),
        entry("e2", 2n),
        entry("e3", 3n),
        entry("e4", 4n),
      ]);
    });

    it("a handed-over append (handOver: true) stores the same entries; reads are copies", async () => {
      await suite.store.batch([
        {
          type: "append",
          log: "handed",
          entries: [entry("h1", 1n), entry("h2", 2n)],
          handOver: true,
        },
        { type: "append", log: "handed", entries: [entry("h1", 9n, "changed")], handOver: true },
      ]);
      const read = await suite.store.range("handed");
      expect(read).toEqual([entry("h1", 1n), entry("h2", 2n)]);
      read[0]?.value.fill(0);
      expect(await suite.store.getEntry("handed", "h1")).toEqual(entry("h1", 1n));
    });

    it("getEntry returns a copy of one entry, or undefined", async () => {
      await suite.store.append("inbox", [entry("m1", 5n)]);
      const read = await suite.store.getEntry("inbox", "m1");
      expect(read).toEqual(entry("m1", 5n));
      read?.value.fill(0);
      expect(await suite.store.getEntry("inbox", "m1")).toEqual(entry("m1", 5n));
      expect(await suite.store.getEntry("inbox", "m2")).toBeUndefined();
      expect(await suite.store.getEntry("other", "m1")).toBeUndefined();
    });

    it("deleteEntries deletes by id, reports how many existed, and frees the id", async () => {
      await suite.store.append("outbox", [entry("a", 1n), entry("b", 2n), entry("c", 3n)]);
      expect(await suite.store.deleteEntries("outbox", ["a", "c", "missing", "a"])).toBe(2);
      expect(positions(await suite.store.range("outbox"))).toEqual([[2n, "b"]]);
      expect(await suite.store.deleteEntries("outbox", [])).toBe(0);
      expect(await suite.store.append("outbox", [entry("a", 7n, "again")])).toBe(1);
      expect(await suite.store.getEntry("outbox", "a")).toEqual(entry("a", 7n, "again"));
    });

    it("returns entries in (sortKey, id) order whatever the append order, ties broken by id in code point order", async () => {
      // Ids are unique per log: a common prefix per sort key keeps the tie order to test.
      const all = [3n, 1n, 2n].flatMap((sortKey) =>
        idsInCodePointOrder.map((id) => entry(`${sortKey}:${id}`, sortKey)),
      );
      for (const [i, chunk] of [all.slice(0, 10), all.slice(10)].entries()) {
        await suite.store.append("log", shuffled(chunk, i + 1));
      }
      const expected = [1n, 2n, 3n].flatMap((sortKey) =>
        idsInCodePointOrder.map((id) => [sortKey, `${sortKey}:${id}`] as [bigint, string]),
      );
      expect(positions(await suite.store.range("log"))).toEqual(expected);
      expect(positions(await suite.store.range("log", { reverse: true }))).toEqual(
        [...expected].reverse(),
      );
      expect(await suite.store.range("unknown")).toEqual([]);
    });

    it("treats after and before as exclusive bounds, by sort key or by (sortKey, id)", async () => {
      await suite.store.append("l", [
        entry("b", 2n),
        entry("a", 1n),
        entry("a", 1n, "duplicate id in the same call: skipped"),
        entry("c", 1n),
        entry("a2", 2n),
        entry("z", 3n),
      ]);
      // Positions now: (1,a) (1,c) (2,a2) (2,b) (3,z)
      const range = async (query: Parameters<Store["range"]>[1]) =>
        positions(await suite.store.range("l", query));
      expect(await range({ after: 1n })).toEqual([
        [2n, "a2"],
        [2n, "b"],
        [3n, "z"],
      ]);
      expect(await range({ after: { sortKey: 1n, id: "a" } })).toEqual([
        [1n, "c"],
        [2n, "a2"],
        [2n, "b"],
        [3n, "z"],
      ]);
      expect(await range({ after: { sortKey: 1n } })).toEqual(await range({ after: 1n }));
      expect(await range({ before: 3n })).toEqual([
        [1n, "a"],
        [1n, "c"],
        [2n, "a2"],
        [2n, "b"],
      ]);
      expect(await range({ before: { sortKey: 2n, id: "b" } })).toEqual([
        [1n, "a"],
        [1n, "c"],
        [2n, "a2"],
      ]);
      expect(await range({ after: 1n, before: 3n })).toEqual([
        [2n, "a2"],
        [2n, "b"],
      ]);
      expect(await range({ after: 0n, before: 3n, reverse: true, limit: 3 })).toEqual([
        [2n, "b"],
        [2n, "a2"],
        [1n, "c"],
      ]);
      expect(await range({ limit: 2 })).toEqual([
        [1n, "a"],
        [1n, "c"],
      ]);
      expect(await range({ reverse: true, limit: 2 })).toEqual([
        [3n, "z"],
        [2n, "b"],
      ]);
      expect(await range({ after: 3n })).toEqual([]);
      expect(await range({ after: 2n, before: 2n })).toEqual([]);
      expect(await range({ after: 3n, before: 1n })).toEqual([]);
      expect(await range({ limit: 0 })).toEqual([]);
      expect(await range({ after: { sortKey: 1n, id: "zz" } })).toEqual(await range({ after: 1n }));
    });

    it("pages through a log forward and backward with the last entry as the bound", async () => {
      const ids = Array.from({ length: 120 }, (_, i) => `m${String(i).padStart(3, "0")}`);
      // Few distinct sort keys: many ties, so pages must cut through them without loss or repeat.
      await suite.store.append(
        "channel",
        shuffled(ids, 3).map((id, i) => entry(id, BigInt(i % 7))),
      );
      const all = await suite.store.range("channel");
      expect(all).toHaveLength(120);
      const forward: LogEntry[] = [];
      let page = await suite.store.range("channel", { limit: 11 });
      while (page.length > 0) {
        forward.push(...page);
        page = await suite.store.range("channel", { after: page[page.length - 1], limit: 11 });
      }
      expect(positions(forward)).toEqual(positions(all));
      const backward: LogEntry[] = [];
      page = await suite.store.range("channel", { reverse: true, limit: 13 });
      while (page.length > 0) {
        backward.push(...page);
        page = await suite.store.range("channel", {
          before: page[page.length - 1],
          reverse: true,
          limit: 13,
        });
      }
      expect(positions(backward)).toEqual(positions(all).reverse());
    });
  });
}
