/**
 * The compliance suite every store passes: `runStoreCompliance(fixture)` defines Vitest tests that
 * pin the contract of `Store` (see `types.ts`): round trips, the missing key error, idempotent
 * appends, the `(sortKey, id)` order and its exclusive bounds, limits, atomic batches, abort, close
 * and reopen, large and binary data, and serialized concurrent batches.
 *
 * Cases a store cannot support are skipped *visibly* (the reopen case for a store that keeps nothing),
 * never left out.
 *
 * @example
 * ```ts
 * // test/compliance.test.ts of a store package
 * import { runStoreCompliance } from "@orgchat/store/compliance";
 *
 * runStoreCompliance({
 *   name: "my store",
 *   open: async () => myStore({ path: (dir = await makeTempDir()) }),
 *   reopen: async () => myStore({ path: dir }),
 *   cleanup: async () => removeDir(dir),
 * });
 * ```
 *
 * @packageDocumentation
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  isAbortError,
  isInvalidKeyError,
  isRecordNotFoundError,
  isStoreClosedError,
  isValueTooLargeError,
} from "./errors.js";
import { type LogEntry, type Store, type StoreOp, storeLimits } from "./types.js";

/** How the suite gets stores to test. */
export interface StoreFixture {
  /** Shown in the suite's title. */
  readonly name: string;
  /** Returns a new, empty store (called before every test). */
  open(): Promise<Store>;
  /**
   * Returns a store over the same data as the store most recently returned by `open()`, after the
   * test closed that one. Omit it for a store that keeps nothing once closed (the reopen cases are
   * then skipped, visibly).
   */
  reopen?(): Promise<Store>;
  /** Deletes whatever `open()` created (called after every test, once its stores are closed). */
  cleanup(): Promise<void>;
}

const encoder = new TextEncoder();
const text = (value: string): Uint8Array => encoder.encode(value);

/** Deterministic pseudo-random bytes (xorshift32): large values without a test-time RNG. */
function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/**
 * Byte equality for large values: `toEqual` walks a multi-MiB array element by element through its
 * generic comparison and takes seconds.
 */
function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (!(a instanceof Uint8Array) || a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Deterministic shuffle (mulberry32-driven Fisher–Yates). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Settles `promise` and returns what it rejected with; fails the test if it resolved. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to reject, it resolved");
}

const entry = (id: string, sortKey: bigint, value: string = id): LogEntry => ({
  id,
  sortKey,
  value: text(value),
});

/** `[sortKey, id]` pairs of a range result, compact for assertions. */
const positions = (entries: readonly LogEntry[]): [bigint, string][] =>
  entries.map((e) => [e.sortKey, e.id]);

/**
 * Ids in code point order. Plain JavaScript sorting (UTF-16 code units) would put the emoji before
 * U+E000 and U+FFFD; a store must not.
 */
const idsInCodePointOrder = ["a", "a\u0000", "a\u0000b", "b", "z", "é", "\ue000", "\ufffd", "😀"];

/**
 * Defines the compliance tests for the store `fixture` provides. Call it at the top level of a Vitest
 * test file.
 *
 * @param fixture - Opens, reopens and cleans up the store under test.
 * @example
 * ```ts
 * import { memoryStore } from "@orgchat/store";
 * import { runStoreCompliance } from "@orgchat/store/compliance";
 *
 * runStoreCompliance({ name: "memory", open: async () => memoryStore(), cleanup: async () => {} });
 * ```
 */
export function runStoreCompliance(fixture: StoreFixture): void {
  describe(`Store compliance: ${fixture.name}`, () => {
    let store: Store;
    const opened: Store[] = [];
    const reopen = fixture.reopen?.bind(fixture);
    const noReopen = reopen ? "" : " [skipped: this store keeps nothing once closed (no reopen)]";

    async function reopened(): Promise<Store> {
      if (!reopen) throw new Error("the fixture has no reopen()");
      await store.close();
      const again = await reopen();
      opened.push(again);
      return again;
    }

    beforeEach(async () => {
      store = await fixture.open();
      opened.push(store);
    });

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await fixture.cleanup();
    });

    describe("records", () => {
      it("round trips a value, overwrites it, and returns undefined for a missing key", async () => {
        expect(await store.get("settings", "theme")).toBeUndefined();
        await store.put("settings", "theme", text("dark"));
        expect(await store.get("settings", "theme")).toEqual(text("dark"));
        await store.put("settings", "theme", text("light"));
        expect(await store.get("settings", "theme")).toEqual(text("light"));
        expect(await store.getOrThrow("settings", "theme")).toEqual(text("light"));
      });

      it("getOrThrow rejects a missing key with RecordNotFoundError naming it", async () => {
        const error = await rejection(store.getOrThrow("identity", "signing-key"));
        expect(isRecordNotFoundError(error)).toBe(true);
        expect(error).toMatchObject({ space: "identity", key: "signing-key" });
      });

      it("delete reports whether there was a value, and deletes it", async () => {
        await store.put("s", "k", text("v"));
        expect(await store.delete("s", "k")).toBe(true);
        expect(await store.get("s", "k")).toBeUndefined();
        expect(await store.delete("s", "k")).toBe(false);
        expect(await store.delete("never", "written")).toBe(false);
      });

      it("keeps spaces apart, and records apart from logs", async () => {
        await store.put("a", "k", text("in a"));
        await store.put("b", "k", text("in b"));
        await store.append("a", [entry("k", 1n, "entry")]);
        expect(await store.get("a", "k")).toEqual(text("in a"));
        expect(await store.get("b", "k")).toEqual(text("in b"));
        await store.delete("a", "k");
        expect(await store.get("b", "k")).toEqual(text("in b"));
        expect(await store.getEntry("a", "k")).toEqual(entry("k", 1n, "entry"));
      });

      it("stores an empty value as an empty value, not as absent", async () => {
        await store.put("s", "empty", new Uint8Array(0));
        const value = await store.get("s", "empty");
        expect(value).toBeInstanceOf(Uint8Array);
        expect(value?.byteLength).toBe(0);
      });

      it("copies values in and out", async () => {
        const value = text("original");
        await store.put("s", "k", value);
        value.fill(0);
        const read = await store.getOrThrow("s", "k");
        expect(read).toEqual(text("original"));
        read.fill(0);
        expect(await store.get("s", "k")).toEqual(text("original"));
      });

      it("lists keys in code point order, by prefix, after a key, with a limit", async () => {
        for (const key of shuffled(idsInCodePointOrder, 7)) await store.put("s", key, text(key));
        await store.put("other", "a", text("x"));
        expect(await store.keys("s")).toEqual(idsInCodePointOrder);
        expect(await store.keys("s", { prefix: "a" })).toEqual(["a", "a\u0000", "a\u0000b"]);
        expect(await store.keys("s", { prefix: "a\u0000" })).toEqual(["a\u0000", "a\u0000b"]);
        expect(await store.keys("s", { prefix: "é" })).toEqual(["é"]);
        expect(await store.keys("s", { after: "z", limit: 2 })).toEqual(["é", "\ue000"]);
        expect(await store.keys("s", { prefix: "a", after: "a", limit: 1 })).toEqual(["a\u0000"]);
        expect(await store.keys("s", { limit: 0 })).toEqual([]);
        expect(await store.keys("empty")).toEqual([]);
      });
    });

    describe("binary and large data", () => {
      it("round trips keys, names and ids with NUL and non-ASCII characters, and every byte value", async () => {
        const allBytes = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
        const zeros = new Uint8Array(64);
        const keys = ["\u0000", "a\u0000", "\u0000a\u0000", "ключ", "鍵", "🔑"];
        for (const [i, key] of keys.entries()) {
          await store.put("bin\u0000space", key, i % 2 === 0 ? allBytes : zeros);
        }
        for (const [i, key] of keys.entries()) {
          expect(await store.get("bin\u0000space", key)).toEqual(i % 2 === 0 ? allBytes : zeros);
        }
        expect(await store.get("bin\u0000space", "a")).toBeUndefined();
        expect(await store.get("bin", "\u0000")).toBeUndefined();
        await store.append("log\u0000", [
          { id: "\u0000", sortKey: 0n, value: allBytes },
          { id: "id\u0000🔑", sortKey: storeLimits.maxSortKey, value: zeros },
        ]);
        expect(await store.range("log\u0000")).toEqual([
          { id: "\u0000", sortKey: 0n, value: allBytes },
          { id: "id\u0000🔑", sortKey: storeLimits.maxSortKey, value: zeros },
        ]);
      });

      it("round trips an 8 MiB value as a record and as a log entry", async () => {
        const big = pseudoRandomBytes(8 * 1024 * 1024, 1);
        await store.put("ratchet", "owner-group", big);
        expect(sameBytes(await store.get("ratchet", "owner-group"), big)).toBe(true);
        await store.append("big", [{ id: "x", sortKey: 1n, value: big }]);
        expect(sameBytes((await store.getEntry("big", "x"))?.value, big)).toBe(true);
        expect(sameBytes((await store.range("big"))[0]?.value, big)).toBe(true);
        big[0] = (big[0] as number) ^ 1;
        expect(sameBytes(await store.get("ratchet", "owner-group"), big)).toBe(false);
      });
    });

    describe("limits", () => {
      it("accepts keys and names at the limit, measured in UTF-8 bytes", async () => {
        const key = "é".repeat(storeLimits.maxKeyBytes / 2);
        const name = "n".repeat(storeLimits.maxNameBytes);
        await store.put(name, key, text("v"));
        expect(await store.get(name, key)).toEqual(text("v"));
        await store.append(name, [entry(key, 1n)]);
        expect(await store.getEntry(name, key)).toEqual(entry(key, 1n));
      });

      it("rejects empty, too long or malformed names, keys and ids with InvalidKeyError", async () => {
        const longKey = `${"é".repeat(storeLimits.maxKeyBytes / 2)}a`;
        const longName = "n".repeat(storeLimits.maxNameBytes + 1);
        const cases: [Promise<unknown>, string][] = [
          [store.put("", "k", text("v")), "space"],
          [store.put("s", "", text("v")), "key"],
          [store.put(longName, "k", text("v")), "space"],
          [store.put("s", longKey, text("v")), "key"],
          [store.put("s", "\ud800", text("v")), "key"],
          [store.put("s", "a\udc00b", text("v")), "key"],
          [store.put("s", 42 as unknown as string, text("v")), "key"],
          [store.get("s", ""), "key"],
          [store.delete("", "k"), "space"],
          [store.append("", [entry("a", 1n)]), "log"],
          [store.append("l", [entry("", 1n)]), "id"],
          [store.append("l", [entry(longKey, 1n)]), "id"],
          [store.range(longName), "log"],
          [store.getEntry("l", ""), "id"],
          [store.deleteEntries("l", [""]), "id"],
          [store.range("l", { after: { sortKey: 1n, id: "" } }), "id"],
        ];
        for (const [call, argument] of cases) {
          const error = await rejection(call);
          expect(isInvalidKeyError(error), String(error)).toBe(true);
          expect(error).toMatchObject({ argument });
        }
        expect(await store.keys("s")).toEqual([]);
        expect(await store.range("l")).toEqual([]);
      });

      it("rejects a value over storeLimits.maxValueBytes with ValueTooLargeError, and non-bytes with TypeError", async () => {
        const tooLarge = new Uint8Array(storeLimits.maxValueBytes + 1);
        const error = await rejection(store.put("s", "k", tooLarge));
        expect(isValueTooLargeError(error)).toBe(true);
        expect(error).toMatchObject({
          size: storeLimits.maxValueBytes + 1,
          limit: storeLimits.maxValueBytes,
        });
        expect(
          isValueTooLargeError(
            await rejection(store.append("l", [{ id: "a", sortKey: 1n, value: tooLarge }])),
          ),
        ).toBe(true);
        expect(
          await rejection(store.put("s", "k", "text" as unknown as Uint8Array)),
        ).toBeInstanceOf(TypeError);
        expect(await store.get("s", "k")).toBeUndefined();
        expect(await store.range("l")).toEqual([]);
      });

      it("accepts sort keys from 0n to 2^63 - 1 and rejects others (RangeError, TypeError)", async () => {
        await store.append("l", [entry("min", 0n), entry("max", storeLimits.maxSortKey)]);
        expect(positions(await store.range("l"))).toEqual([
          [0n, "min"],
          [storeLimits.maxSortKey, "max"],
        ]);
        expect(await rejection(store.append("l", [entry("neg", -1n)]))).toBeInstanceOf(RangeError);
        expect(
          await rejection(store.append("l", [entry("over", storeLimits.maxSortKey + 1n)])),
        ).toBeInstanceOf(RangeError);
        expect(
          await rejection(
            store.append("l", [{ id: "n", sortKey: 1 as unknown as bigint, value: text("") }]),
          ),
        ).toBeInstanceOf(TypeError);
        expect(await rejection(store.range("l", { after: -1n }))).toBeInstanceOf(RangeError);
        expect(await rejection(store.range("l", { limit: -1 }))).toBeInstanceOf(RangeError);
        expect(await rejection(store.range("l", { limit: 1.5 }))).toBeInstanceOf(RangeError);
        expect(await rejection(store.keys("s", { limit: -1 }))).toBeInstanceOf(RangeError);
        expect(positions(await store.range("l"))).toHaveLength(2);
      });
    });

    describe("logs", () => {
      it("append is idempotent by id: it returns how many entries were new and keeps the first write", async () => {
        expect(await store.append("events", [entry("e1", 1n), entry("e2", 2n)])).toBe(2);
        expect(await store.append("events", [entry("e2", 9n, "changed"), entry("e3", 3n)])).toBe(1);
        expect(await store.append("events", [entry("e1", 1n)])).toBe(0);
        expect(await store.append("events", [entry("e4", 4n), entry("e4", 5n, "second")])).toBe(1);
        expect(await store.append("events", [])).toBe(0);
        expect(await store.range("events")).toEqual([
          entry("e1", 1n),
          entry("e2", 2n),
          entry("e3", 3n),
          entry("e4", 4n),
        ]);
      });

      it("getEntry returns a copy of one entry, or undefined", async () => {
        await store.append("inbox", [entry("m1", 5n)]);
        const read = await store.getEntry("inbox", "m1");
        expect(read).toEqual(entry("m1", 5n));
        read?.value.fill(0);
        expect(await store.getEntry("inbox", "m1")).toEqual(entry("m1", 5n));
        expect(await store.getEntry("inbox", "m2")).toBeUndefined();
        expect(await store.getEntry("other", "m1")).toBeUndefined();
      });

      it("deleteEntries deletes by id, reports how many existed, and frees the id", async () => {
        await store.append("outbox", [entry("a", 1n), entry("b", 2n), entry("c", 3n)]);
        expect(await store.deleteEntries("outbox", ["a", "c", "missing", "a"])).toBe(2);
        expect(positions(await store.range("outbox"))).toEqual([[2n, "b"]]);
        expect(await store.deleteEntries("outbox", [])).toBe(0);
        expect(await store.append("outbox", [entry("a", 7n, "again")])).toBe(1);
        expect(await store.getEntry("outbox", "a")).toEqual(entry("a", 7n, "again"));
      });

      it("returns entries in (sortKey, id) order whatever the append order, ties broken by id in code point order", async () => {
        // Ids are unique per log: a common prefix per sort key keeps the tie order to test.
        const all = [3n, 1n, 2n].flatMap((sortKey) =>
          idsInCodePointOrder.map((id) => entry(`${sortKey}:${id}`, sortKey)),
        );
        for (const [i, chunk] of [all.slice(0, 10), all.slice(10)].entries()) {
          await store.append("log", shuffled(chunk, i + 1));
        }
        const expected = [1n, 2n, 3n].flatMap((sortKey) =>
          idsInCodePointOrder.map((id) => [sortKey, `${sortKey}:${id}`] as [bigint, string]),
        );
        expect(positions(await store.range("log"))).toEqual(expected);
        expect(positions(await store.range("log", { reverse: true }))).toEqual(
          [...expected].reverse(),
        );
        expect(await store.range("unknown")).toEqual([]);
      });

      it("treats after and before as exclusive bounds, by sort key or by (sortKey, id)", async () => {
        await store.append("l", [
          entry("b", 2n),
          entry("a", 1n),
          entry("a", 1n, "duplicate id in the same call: skipped"),
          entry("c", 1n),
          entry("a2", 2n),
          entry("z", 3n),
        ]);
        // Positions now: (1,a) (1,c) (2,a2) (2,b) (3,z)
        const range = async (query: Parameters<Store["range"]>[1]) =>
          positions(await store.range("l", query));
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
        expect(await range({ after: { sortKey: 1n, id: "zz" } })).toEqual(
          await range({ after: 1n }),
        );
      });

      it("pages through a log forward and backward with the last entry as the bound", async () => {
        const ids = Array.from({ length: 120 }, (_, i) => `m${String(i).padStart(3, "0")}`);
        // Few distinct sort keys: many ties, so pages must cut through them without loss or repeat.
        await store.append(
          "channel",
          shuffled(ids, 3).map((id, i) => entry(id, BigInt(i % 7))),
        );
        const all = await store.range("channel");
        expect(all).toHaveLength(120);
        const forward: LogEntry[] = [];
        let page = await store.range("channel", { limit: 11 });
        while (page.length > 0) {
          forward.push(...page);
          page = await store.range("channel", { after: page[page.length - 1], limit: 11 });
        }
        expect(positions(forward)).toEqual(positions(all));
        const backward: LogEntry[] = [];
        page = await store.range("channel", { reverse: true, limit: 13 });
        while (page.length > 0) {
          backward.push(...page);
          page = await store.range("channel", {
            before: page[page.length - 1],
            reverse: true,
            limit: 13,
          });
        }
        expect(positions(backward)).toEqual(positions(all).reverse());
      });
    });

    describe("atomic batches", () => {
      it("applies mixed ops together, in order", async () => {
        await store.put("s", "gone", text("old"));
        await store.append("outbox", [entry("sent", 1n)]);
        await store.batch([
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
        expect(await store.get("ratchet", "chain")).toEqual(text("generation 8"));
        expect(await store.get("counters", "generation")).toEqual(text("8"));
        expect(await store.get("s", "gone")).toBeUndefined();
        expect(await store.get("s", "then-deleted")).toBeUndefined();
        expect(await store.get("s", "deleted-then-put")).toEqual(text("y"));
        expect(await store.range("outbox")).toEqual([entry("m8", 8n)]);
        expect(await store.range("l")).toEqual([entry("r", 2n, "second")]);
        await store.batch([]);
      });

      it("applies nothing when any op is invalid, wherever it is in the batch", async () => {
        await store.put("s", "k", text("before"));
        await store.append("l", [entry("kept", 1n)]);
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
            const error = await rejection(store.batch(ops));
            expect(check(error), String(error)).toBe(true);
          }
        }
        expect(await store.get("s", "k")).toEqual(text("before"));
        expect(await store.get("s", "new")).toBeUndefined();
        expect(await store.range("l")).toEqual([entry("kept", 1n)]);
        expect(await store.keys("s")).toEqual(["k"]);
      });

      it("single writes are atomic too: an append with one invalid entry appends none", async () => {
        expect(await rejection(store.append("l", [entry("ok", 1n), entry("", 2n)]))).toSatisfy(
          isInvalidKeyError,
        );
        expect(await rejection(store.deleteEntries("l", ["ok", ""]))).toSatisfy(isInvalidKeyError);
        expect(await store.range("l")).toEqual([]);
      });

      it("serializes concurrent batches in call order; a concurrent read sees each batch whole or not at all", async () => {
        const batches = 40;
        const perBatch = 5;
        const calls: Promise<unknown>[] = [];
        const reads: Promise<readonly LogEntry[]>[] = [];
        for (let i = 0; i < batches; i++) {
          calls.push(
            store.batch([
              { type: "put", space: "counters", key: "last", value: text(String(i)) },
              {
                type: "append",
                log: "log",
                entries: Array.from({ length: perBatch }, (_, j) => entry(`b${i}-${j}`, BigInt(i))),
              },
            ]),
          );
          if (i % 4 === 0) reads.push(store.range("log"));
        }
        // A failing batch in the middle changes nothing and does not disturb the others.
        const failing = store.batch([
          { type: "append", log: "log", entries: [entry("never", 0n)] },
          { type: "put", space: "", key: "k", value: text("x") },
        ]);
        await Promise.all(calls);
        expect(await rejection(failing)).toSatisfy(isInvalidKeyError);
        for (const read of await Promise.all(reads)) expect(read.length % perBatch).toBe(0);
        expect(await store.get("counters", "last")).toEqual(text(String(batches - 1)));
        expect(await store.range("log")).toHaveLength(batches * perBatch);
        expect(await store.getEntry("log", "never")).toBeUndefined();
      });
    });

    describe("abort", () => {
      it("rejects every call with an already-aborted signal with AbortError carrying the reason, and applies nothing", async () => {
        await store.put("s", "existing", text("v"));
        await store.append("l", [entry("existing", 1n)]);
        const controller = new AbortController();
        const reason = new Error("user cancelled");
        controller.abort(reason);
        const options = { signal: controller.signal };
        const calls: Promise<unknown>[] = [
          store.get("s", "existing", options),
          store.getOrThrow("s", "existing", options),
          store.put("s", "new", text("v"), options),
          store.delete("s", "existing", options),
          store.keys("s", {}, options),
          store.append("l", [entry("new", 2n)], options),
          store.getEntry("l", "existing", options),
          store.range("l", {}, options),
          store.deleteEntries("l", ["existing"], options),
          store.batch(
            [
              { type: "put", space: "s", key: "batched", value: text("v") },
              { type: "append", log: "l", entries: [entry("batched", 3n)] },
            ],
            options,
          ),
        ];
        for (const call of calls) {
          const error = await rejection(call);
          expect(isAbortError(error), String(error)).toBe(true);
          expect((error as Error).cause).toBe(reason);
        }
        expect(await store.keys("s")).toEqual(["existing"]);
        expect(positions(await store.range("l"))).toEqual([[1n, "existing"]]);
      });

      it("completes calls whose signal is not aborted", async () => {
        const controller = new AbortController();
        await store.put("s", "k", text("v"), { signal: controller.signal });
        expect(await store.get("s", "k", { signal: controller.signal })).toEqual(text("v"));
        await store.batch([], { signal: controller.signal });
      });
    });

    describe("close", () => {
      it("is idempotent, and every call afterwards rejects with StoreClosedError", async () => {
        await store.put("s", "k", text("v"));
        await store.close();
        await store.close();
        const calls: Promise<unknown>[] = [
          store.get("s", "k"),
          store.getOrThrow("s", "k"),
          store.put("s", "k", text("v")),
          store.delete("s", "k"),
          store.keys("s"),
          store.append("l", [entry("a", 1n)]),
          store.getEntry("l", "a"),
          store.range("l"),
          store.deleteEntries("l", ["a"]),
          store.batch([]),
        ];
        for (const call of calls) {
          const error = await rejection(call);
          expect(isStoreClosedError(error), String(error)).toBe(true);
        }
      });

      it.skipIf(!reopen)(
        `keeps every committed write across close and reopen${noReopen}`,
        async () => {
          const big = pseudoRandomBytes(1024 * 1024, 9);
          await store.put("identity", "key", text("secret (encrypted by the client)"));
          await store.put("s", "deleted", text("x"));
          await store.delete("s", "deleted");
          await store.put("ratchet", "big", big);
          await store.append("events", [entry("e2", 2n), entry("e1", 1n), entry("e1b", 1n)]);
          await store.batch([
            { type: "put", space: "counters", key: "generation", value: text("41") },
            { type: "append", log: "outbox", entries: [entry("m41", 41n), entry("m40", 40n)] },
            { type: "deleteEntries", log: "events", ids: ["e2"] },
          ]);
          const again = await reopened();
          expect(await again.get("identity", "key")).toEqual(
            text("secret (encrypted by the client)"),
          );
          expect(await again.get("s", "deleted")).toBeUndefined();
          expect(sameBytes(await again.get("ratchet", "big"), big)).toBe(true);
          expect(await again.get("counters", "generation")).toEqual(text("41"));
          expect(positions(await again.range("events"))).toEqual([
            [1n, "e1"],
            [1n, "e1b"],
          ]);
          expect(positions(await again.range("outbox"))).toEqual([
            [40n, "m40"],
            [41n, "m41"],
          ]);
          expect(await again.append("events", [entry("e1", 1n)])).toBe(0);
          expect(await again.keys("s")).toEqual([]);
        },
      );

      it.skipIf(!reopen)(
        `reopens a store that was closed right after a batch${noReopen}`,
        async () => {
          for (let i = 0; i < 20; i++) {
            await store.batch([
              { type: "put", space: "c", key: "n", value: text(String(i)) },
              { type: "append", log: "l", entries: [entry(`e${i}`, BigInt(i))] },
            ]);
          }
          const again = await reopened();
          expect(await again.get("c", "n")).toEqual(text("19"));
          expect(await again.range("l")).toHaveLength(20);
          await again.close();
          const third = await reopened();
          expect(await third.range("l", { reverse: true, limit: 1 })).toEqual([entry("e19", 19n)]);
        },
      );
    });
  });
}
