import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runStoreCompliance } from "../src/compliance.ts";
import { copyMemoryStore, memoryStore, type StoreOp } from "../src/index.ts";

// The memory store keeps nothing once closed: the reopen cases are skipped, visibly.
runStoreCompliance({
  name: "memoryStore()",
  open: async () => memoryStore(),
  cleanup: async () => {},
});

describe("memoryStore()", () => {
  it("copyMemoryStore: a point-in-time copy that shares nothing with the original", async () => {
    const a = memoryStore();
    await a.batch([
      { type: "put", space: "s", key: "k", value: new Uint8Array([1]) },
      {
        type: "append",
        log: "l",
        entries: [{ id: "e1", sortKey: 1n, value: new Uint8Array([7]) }],
      },
    ]);
    const b = copyMemoryStore(a);
    await a.batch([
      { type: "put", space: "s", key: "k", value: new Uint8Array([2]) },
      {
        type: "append",
        log: "l",
        entries: [{ id: "e2", sortKey: 2n, value: new Uint8Array([8]) }],
      },
    ]);
    await b.put("s", "other", new Uint8Array([3]));
    expect(await b.get("s", "k")).toEqual(new Uint8Array([1]));
    expect((await b.range("l")).map((e) => e.id)).toEqual(["e1"]);
    expect(await a.get("s", "other")).toBeUndefined();
    expect((await a.range("l")).map((e) => e.id)).toEqual(["e1", "e2"]);
    expect(() => copyMemoryStore({} as never)).toThrow(TypeError);
    await a.close();
    await b.close();
  });

  it("gives every call its own store: two stores share nothing", async () => {
    const a = memoryStore();
    const b = memoryStore();
    await a.put("s", "k", new Uint8Array([1]));
    expect(await b.get("s", "k")).toBeUndefined();
    await a.close();
    await b.close();
  });

  it("lists keys in code point order on both sort paths, and the first one alone (limit 1)", async () => {
    const store = memoryStore();
    // Inserted in reverse code point order: the listing sorts them.
    const narrow = Array.from({ length: 300 }, (_, i) => `k/${String(1000 - i).padStart(4, "0")}`);
    for (const key of narrow) await store.put("narrow", key, new Uint8Array());
    expect(await store.keys("narrow")).toEqual([...narrow].reverse());
    expect(await store.keys("narrow", { limit: 1 })).toEqual(["k/0701"]);
    expect(await store.keys("narrow", { prefix: "k/09", limit: 1 })).toEqual(["k/0900"]);
    // UTF-16 order would put the emoji (a surrogate pair) before U+E000 and U+FFFD.
    for (const key of ["😀", "\ufffd", "\ue000", "z"])
      await store.put("wide", key, new Uint8Array());
    expect(await store.keys("wide")).toEqual(["z", "\ue000", "\ufffd", "😀"]);
    expect(await store.keys("wide", { after: "z", limit: 1 })).toEqual(["\ue000"]);
    await store.delete("wide", "z");
    await store.delete("wide", "\ue000");
    expect(await store.keys("wide", { limit: 1 })).toEqual(["\ufffd"]);
    await store.close();
  });

  it("lists a prefix like a scan of the whole space, through puts, deletes and copies (property)", async () => {
    // Keys from a small alphabet with `/` in it: prefixes with and without a `/`, keys with none,
    // several, or one at the end, so that the segment index is crossed every way.
    const part = fc.constantFrom(
      "",
      "a",
      "b",
      "ab",
      "a/",
      "b/",
      "/",
      "a/b",
      "gm/",
      "gm//",
      "\ue000/",
    );
    const key = fc
      .array(part, { minLength: 1, maxLength: 3 })
      .map((parts) => parts.join(""))
      .filter((k) => k.length > 0);
    const op = fc.oneof(
      fc.record({ type: fc.constant("put" as const), key }),
      fc.record({ type: fc.constant("delete" as const), key }),
      fc.record({ type: fc.constant("copy" as const) }),
    );
    const batches = fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { maxLength: 12 });
    const queries = fc.array(
      fc.record({ prefix: part, after: fc.option(key, { nil: undefined }) }),
      {
        minLength: 1,
        maxLength: 6,
      },
    );
    const codePointOrder = (a: string, b: string) => {
      const x = [...a].map((c) => c.codePointAt(0) as number);
      const y = [...b].map((c) => c.codePointAt(0) as number);
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
      }
      return x.length - y.length;
    };
    await fc.assert(
      fc.asyncProperty(batches, queries, async (batches, queries) => {
        let store = memoryStore();
        const model = new Set<string>();
        for (const batch of batches) {
          const ops: StoreOp[] = [];
          for (const step of batch) {
            if (step.type === "copy") continue;
            if (step.type === "put") {
              ops.push({ type: "put", space: "s", key: step.key, value: new Uint8Array([1]) });
              model.add(step.key);
            } else {
              ops.push({ type: "delete", space: "s", key: step.key });
              model.delete(step.key);
            }
          }
          if (ops.length > 0) await store.batch(ops);
          if (batch.some((step) => step.type === "copy")) store = copyMemoryStore(store);
        }
        for (const { prefix, after } of queries) {
          const expected = [...model]
            .filter(
              (k) => k.startsWith(prefix) && (after === undefined || codePointOrder(k, after) > 0),
            )
            .sort(codePointOrder);
          const query = after === undefined ? { prefix } : { prefix, after };
          expect(await store.keys("s", query)).toEqual(expected);
          expect((await store.entries?.("s", query))?.map(([k]) => k)).toEqual(expected);
        }
      }),
      { seed: 1415, numRuns: 300 },
    );
  });

  it("keeps a long append-mostly log (ascending clocks) in order", async () => {
    const store = memoryStore();
    for (let i = 0; i < 2000; i += 100) {
      await store.append(
        "events",
        Array.from({ length: 100 }, (_, j) => ({
          id: `e${i + j}`,
          sortKey: BigInt(i + j),
          value: new Uint8Array(),
        })),
      );
    }
    const all = await store.range("events");
    expect(all.map((e) => e.sortKey)).toEqual(Array.from({ length: 2000 }, (_, i) => BigInt(i)));
    await store.close();
  });
});

describe("memory store: deleting entries", () => {
  it("keeps order when the oldest leaves (outbox-like), then one in the middle, then re-appended", async () => {
    const store = memoryStore();
    const value = new Uint8Array([1]);
    const ids = async () => (await store.range("outbox")).map((entry) => entry.id);
    for (let i = 0; i < 6; i++) {
      await store.batch([
        { type: "append", log: "outbox", entries: [{ id: `e${i}`, sortKey: BigInt(i), value }] },
        ...(i > 0 ? [{ type: "deleteEntries" as const, log: "outbox", ids: [`e${i - 1}`] }] : []),
      ]);
      expect(await ids()).toEqual([`e${i}`]);
    }
    await store.append("outbox", [
      { id: "a", sortKey: 10n, value },
      { id: "b", sortKey: 11n, value },
      { id: "c", sortKey: 12n, value },
    ]);
    await store.deleteEntries("outbox", ["e5"]);
    expect(await ids()).toEqual(["a", "b", "c"]);
    await store.deleteEntries("outbox", ["b"]);
    expect(await ids()).toEqual(["a", "c"]);
    await store.append("outbox", [{ id: "b", sortKey: 11n, value }]);
    expect(await ids()).toEqual(["a", "b", "c"]);
    expect((await store.range("outbox", { reverse: true })).map((entry) => entry.id)).toEqual([
      "c",
      "b",
      "a",
    ]);
    await store.close();
  });
});

describe("memory store: staging", () => {
  it("stages a batch of many logs and keys, repeats and deletes included, as one of few", async () => {
    // Past the staging list's 8 names (logs, keys, ids), where a map indexes them: the same outcome.
    const store = memoryStore();
    const value = (n: number) => new Uint8Array([n]);
    await store.append("log0", [{ id: "x", sortKey: 0n, value: value(9) }]);
    const ops: StoreOp[] = [];
    for (let l = 0; l < 12; l++) {
      const entries = Array.from({ length: 20 }, (_, i) => ({
        id: `e${i % 15}`,
        sortKey: BigInt(i),
        value: value(i),
      }));
      ops.push({ type: "append", log: `log${l}`, entries });
      ops.push({ type: "deleteEntries", log: `log${l}`, ids: ["e3", "e14", "x"] });
      ops.push({
        type: "append",
        log: `log${l}`,
        entries: [{ id: "e3", sortKey: 99n, value: value(99) }],
      });
      ops.push({ type: "put", space: "s", key: `k${l}`, value: value(l) });
    }
    for (let k = 0; k < 12; k += 3) ops.push({ type: "delete", space: "s", key: `k${k}` });
    await store.batch(ops);
    for (let l = 0; l < 12; l++) {
      const entries = await store.range(`log${l}`);
      // e0…e14 once (the first append of each id), e14 deleted, e3 deleted then appended again.
      const kept = [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map((i) => [`e${i}`, i]);
      expect(entries.map((e) => [e.id, e.value[0]])).toEqual([...kept, ["e3", 99]]);
    }
    expect(await store.keys("s")).toEqual(["k1", "k10", "k11", "k2", "k4", "k5", "k7", "k8"]);
    await store.close();
  });

  it("keeps a handed-over entry's value as given, copies the others; reads return copies", async () => {
    const store = memoryStore();
    const given = new Uint8Array([1, 2, 3]);
    const copied = new Uint8Array([4, 5, 6]);
    await store.batch([
      {
        type: "append",
        log: "a",
        entries: [{ id: "h", sortKey: 1n, value: given }],
        handOver: true,
      },
      { type: "append", log: "a", entries: [{ id: "c", sortKey: 2n, value: copied }] },
    ]);
    // What the contract forbids a caller who handed the buffer over, to show it was not copied.
    given[0] = 7;
    copied[0] = 7;
    const read = await store.range("a");
    expect(read.map((e) => [...e.value])).toEqual([
      [7, 2, 3],
      [4, 5, 6],
    ]);
    (read[0] as { value: Uint8Array }).value[1] = 0;
    expect([...((await store.getEntry("a", "h"))?.value ?? [])]).toEqual([7, 2, 3]);
    await expect(
      store.batch([
        {
          type: "append",
          log: "a",
          entries: [],
          handOver: "yes" as unknown as boolean,
        },
      ]),
    ).rejects.toThrowError(TypeError);
    await store.close();
  });
});
