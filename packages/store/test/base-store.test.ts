import { describe, expect, it } from "vitest";
import {
  BaseStore,
  type NormalizedKeysQuery,
  type NormalizedRangeQuery,
} from "../src/implement.ts";
import { isAbortError, isInvalidKeyError, isStoreClosedError, type StoreOp } from "../src/index.ts";

/** A store that records what reaches its storage methods, and stores nothing. */
class SpyStore extends BaseStore {
  readonly calls: unknown[][] = [];
  protected readRecord(space: string, key: string) {
    this.calls.push(["readRecord", space, key]);
    return undefined;
  }
  protected readKeys(space: string, query: NormalizedKeysQuery) {
    this.calls.push(["readKeys", space, query]);
    return [];
  }
  protected readEntry(log: string, id: string) {
    this.calls.push(["readEntry", log, id]);
    return undefined;
  }
  protected readRange(log: string, query: NormalizedRangeQuery) {
    this.calls.push(["readRange", log, query]);
    return [];
  }
  protected async writeOps(
    operation: string,
    ops: readonly StoreOp[],
    options?: { readonly durable: boolean },
  ) {
    this.calls.push(
      options === undefined
        ? ["writeOps", operation, ops.length]
        : ["writeOps", operation, ops.length, options],
    );
    return ops.length;
  }
  protected eraseSuperseded() {
    this.calls.push(["eraseSuperseded"]);
  }
  protected release() {
    this.calls.push(["release"]);
  }
}

describe("BaseStore", () => {
  it("hands its subclass only checked, normalized arguments", async () => {
    const store = new SpyStore();
    await store.keys("s", { prefix: "a" });
    await store.range("l", { after: 3n, limit: 2 });
    expect(store.calls).toEqual([
      ["readKeys", "s", { prefix: "a", after: undefined, limit: undefined }],
      [
        "readRange",
        "l",
        { after: { sortKey: 3n, id: undefined }, before: undefined, limit: 2, reverse: false },
      ],
    ]);
  });

  it("refuses an invalid batch before the subclass sees any of it", async () => {
    const store = new SpyStore();
    const ops: StoreOp[] = [
      { type: "put", space: "s", key: "k", value: new Uint8Array(1) },
      { type: "put", space: "s", key: "", value: new Uint8Array(1) },
    ];
    await expect(store.batch(ops)).rejects.toSatisfy(isInvalidKeyError);
    await expect(store.get("", "k")).rejects.toSatisfy(isInvalidKeyError);
    expect(store.calls).toEqual([]);
  });

  it("expresses single writes as one-op batches and reports what changed", async () => {
    const store = new SpyStore();
    expect(await store.delete("s", "k")).toBe(true);
    expect(await store.append("l", [{ id: "a", sortKey: 1n, value: new Uint8Array(0) }])).toBe(1);
    expect(store.calls).toEqual([
      ["writeOps", "delete", 1],
      ["writeOps", "append", 1],
    ]);
  });

  it("erases what a batch superseded only when asked, after the commit; a bad option applies nothing", async () => {
    const store = new SpyStore();
    const ops: StoreOp[] = [{ type: "put", space: "s", key: "k", value: new Uint8Array(1) }];
    await store.batch(ops);
    await store.batch(ops, { checkpoint: false });
    await store.batch(ops, { checkpoint: true });
    await expect(
      store.batch(ops, { checkpoint: "yes" as unknown as boolean }),
    ).rejects.toThrowError(TypeError);
    expect(store.calls).toEqual([
      ["writeOps", "batch", 1],
      ["writeOps", "batch", 1],
      ["writeOps", "batch", 1],
      ["eraseSuperseded"],
    ]);
  });

  it("tells the store a batch is durable only when asked; a bad option applies nothing", async () => {
    const store = new SpyStore();
    const ops: StoreOp[] = [{ type: "put", space: "s", key: "k", value: new Uint8Array(1) }];
    await store.batch(ops, { durable: false });
    await store.batch(ops, { durable: true, checkpoint: true });
    await expect(store.batch(ops, { durable: 1 as unknown as boolean })).rejects.toThrowError(
      TypeError,
    );
    expect(store.calls).toEqual([
      ["writeOps", "batch", 1],
      ["writeOps", "batch", 1, { durable: true }],
      ["eraseSuperseded"],
    ]);
  });

  it("refuses aborted calls and calls after close, and releases once", async () => {
    const store = new SpyStore();
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(store.get("s", "k", { signal: controller.signal })).rejects.toSatisfy(
      isAbortError,
    );
    await store.close();
    await store.close();
    await expect(store.put("s", "k", new Uint8Array(0))).rejects.toSatisfy(isStoreClosedError);
    expect(store.calls).toEqual([["release"]]);
  });
});
