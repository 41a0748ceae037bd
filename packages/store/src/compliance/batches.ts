/**
 * Atomic batches: mixed ops in order, nothing applied when any op is invalid, atomic single
 * writes, concurrent batches serialized in call order.
 */
import { describe, expect, it } from "vitest";
import { isInvalidKeyError, isValueTooLargeError } from "../errors.js";
import { type LogEntry, type StoreOp, storeLimits } from "../types.js";
import { type ComplianceSuite, entry, rejection, text } from "./support.js";

/** Defines the batches cases of the compliance suite. */
export function describeBatches(suite: ComplianceSuite): void {
  describe("atomic batches", () => {
    it("applies mixed ops together, in order", async () => {
      await suite.store.put("s", "gone", text("old"));
      await suite.store.append("outbox", [entry("sent", 1n)]);
      await suite.store.batch([
        { type: "put", space: "ratchet", key: "chain", value: text("generation 8") },
        { type: "put", space: "counters", key: "generation", value: text("8") },
        { type: "delete", space: "s", key: "gone" },
        { type: "append", log: "outbox", entries: [entry("m8", 8n)] },
        { type: "deleteEntries", log: "outbox", ids: ["sent"] },
        // Later ops see earlier ones.
        { type: "put", space: "s", key: "then-deleted", value: text("x") },
        { type: "delete", space: "s", key: "then-deleted" },
        { type: "delete", space: "s", key: "deleted-then-put" },
        { type: "put", space: "s", key: "deleted-then-put", value: text("y") },
        { type: "append", log: "l", entries: [entry("r", 1n, "first")] },
        { type: "deleteEntries", log: "l", ids: ["r"] },
        { type: "append", log: "l", entries: [entry("r", 2n, "second")] },
        { type: "append", log: "l", entries: [entry("r", 3n, "ignored: already there")] },
      ]);
      expect(await suite.store.get("ratchet", "chain")).toEqual(text("generation 8"));
      expect(await suite.store.get("counters", "generation")).toEqual(text("8"));
      expect(await suite.store.get("s", "gone")).toBeUndefined();
      expect(await suite.store.get("s", "then-deleted")).toBeUndefined();
      expect(await suite.store.get("s", "deleted-then-put")).toEqual(text("y"));
      expect(await suite.store.range("outbox")).toEqual([entry("m8", 8n)]);
      expect(await suite.store.range("l")).toEqual([entry("r", 2n, "second")]);
      await suite.store.batch([]);
    });

    it(`commits a durable batch like any batch, and keeps it across close and reopen${suite.noReopen}`, async () => {
      await suite.store.batch(
        [
          { type: "put", space: "org", key: "group/", value: text("reserved up to 64") },
          { type: "append", log: "outbox", entries: [entry("m1", 1n)] },
        ],
        { durable: true },
      );
      await suite.store.batch([{ type: "deleteEntries", log: "outbox", ids: ["m1"] }], {
        durable: false,
      });
      const error = await rejection(
        suite.store.batch([{ type: "put", space: "org", key: "bad", value: text("x") }], {
          durable: "yes" as unknown as boolean,
        }),
      );
      expect(error).toBeInstanceOf(TypeError);
      const store = suite.canReopen ? await suite.reopened() : suite.store;
      expect(await store.get("org", "group/")).toEqual(text("reserved up to 64"));
      expect(await store.get("org", "bad")).toBeUndefined();
      expect(await store.range("outbox")).toEqual([]);
    });

    it("applies nothing when any op is invalid, wherever it is in the batch", async () => {
      await suite.store.put("s", "k", text("before"));
      await suite.store.append("l", [entry("kept", 1n)]);
      const good: StoreOp[] = [
        { type: "put", space: "s", key: "k", value: text("after") },
        { type: "put", space: "s", key: "new", value: text("new") },
        { type: "delete", space: "s", key: "k" },
        { type: "append", log: "l", entries: [entry("added", 2n)] },
        { type: "deleteEntries", log: "l", ids: ["kept"] },
      ];
      const invalid: [StoreOp, (error: unknown) => boolean][] = [
        [{ type: "put", space: "s", key: "", value: text("x") }, isInvalidKeyError],
        [
          { type: "append", log: "l", entries: [entry("bad", -1n)] },
          (e) => e instanceof RangeError,
        ],
        [
          {
            type: "put",
            space: "s",
            key: "huge",
            value: new Uint8Array(storeLimits.maxValueBytes + 1),
          },
          isValueTooLargeError,
        ],
        [{ type: "deleteEntries", log: "", ids: ["x"] }, isInvalidKeyError],
        [
          { type: "rename", space: "s", key: "k" } as unknown as StoreOp,
          (e) => e instanceof TypeError,
        ],
      ];
      for (const [op, check] of invalid) {
        for (const ops of [
          [op, ...good],
          [...good, op],
          [good[0] as StoreOp, op, ...good.slice(1)],
        ]) {
          const error = await rejection(suite.store.batch(ops));
          expect(check(error), String(error)).toBe(true);
        }
      }
      expect(await suite.store.get("s", "k")).toEqual(text("before"));
      expect(await suite.store.get("s", "new")).toBeUndefined();
      expect(await suite.store.range("l")).toEqual([entry("kept", 1n)]);
      expect(await suite.store.keys("s")).toEqual(["k"]);
    });

    it("single writes are atomic too: an append with one invalid entry appends none", async () => {
      expect(await rejection(suite.store.append("l", [entry("ok", 1n), entry("", 2n)]))).toSatisfy(
        isInvalidKeyError,
      );
      expect(await rejection(suite.store.deleteEntries("l", ["ok", ""]))).toSatisfy(
        isInvalidKeyError,
      );
      expect(await suite.store.range("l")).toEqual([]);
    });

    it("serializes concurrent batches in call order; a concurrent read sees each batch whole or not at all", async () => {
      const batches = 40;
      const perBatch = 5;
      const calls: Promise<unknown>[] = [];
      const reads: Promise<readonly LogEntry[]>[] = [];
      for (let i = 0; i < batches; i++) {
        calls.push(
          suite.store.batch([
            { type: "put", space: "counters", key: "last", value: text(String(i)) },
            {
              type: "append",
              log: "log",
              entries: Array.from({ length: perBatch }, (_, j) => entry(`b${i}-${j}`, BigInt(i))),
            },
          ]),
        );
        if (i % 4 === 0) reads.push(suite.store.range("log"));
      }
      // A failing batch in the middle changes nothing and does not disturb the others. Its
      // rejection is taken at once: a store whose writes take a turn of the event loop (IndexedDB)
      // would otherwise leave it unhandled while the others commit.
      const failing = rejection(
        suite.store.batch([
          { type: "append", log: "log", entries: [entry("never", 0n)] },
          { type: "put", space: "", key: "k", value: text("x") },
        ]),
      );
      await Promise.all(calls);
      expect(await failing).toSatisfy(isInvalidKeyError);
      for (const read of await Promise.all(reads)) expect(read.length % perBatch).toBe(0);
      expect(await suite.store.get("counters", "last")).toEqual(text(String(batches - 1)));
      expect(await suite.store.range("log")).toHaveLength(batches * perBatch);
      expect(await suite.store.getEntry("log", "never")).toBeUndefined();
    });
  });
}
