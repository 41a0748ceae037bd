// What the compliance suite does not cover: opening (names, schema versions, foreign databases),
// stored data that is not ours, a database deleted under the store, durability, missing browser
// features. Runs in headless Chromium on its real IndexedDB.
import {
  isSchemaVersionError,
  isStoreCorruptError,
  isStoreIOError,
  isStoreLockedError,
} from "@orgchat/store";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  deleteIndexedDbStore,
  type IndexedDbStore,
  isBrowserStorageUnavailableError,
  openIndexedDbStore,
  schemaVersion,
} from "../src/index.ts";

const text = (value: string) => new TextEncoder().encode(value);
const opened: IndexedDbStore[] = [];
const names: string[] = [];

async function open(name: string): Promise<IndexedDbStore> {
  names.push(name);
  const store = await openIndexedDbStore({ name, lockTimeoutMs: 0 });
  opened.push(store);
  return store;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Opens a database directly (no store, no lock), upgrading it with `upgrade`. */
async function rawDatabase(
  databaseName: string,
  version: number,
  upgrade: (db: IDBDatabase) => void = () => {},
): Promise<IDBDatabase> {
  const req = indexedDB.open(databaseName, version);
  req.onupgradeneeded = () => upgrade(req.result);
  return request(req);
}

async function rawPut(databaseName: string, store: string, key: IDBValidKey, value: unknown) {
  const db = await rawDatabase(databaseName, schemaVersion);
  const transaction = db.transaction(store, "readwrite");
  transaction.objectStore(store).put(value, key);
  await new Promise((resolve) => {
    transaction.oncomplete = resolve;
  });
  db.close();
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable("expected a rejection"),
    (error: unknown) => error,
  );
}

afterEach(async () => {
  vi.restoreAllMocks();
  for (const store of opened.splice(0)) await store.close();
  for (const name of names.splice(0)) await deleteIndexedDbStore({ name, lockTimeoutMs: 0 });
});

describe("openIndexedDbStore", () => {
  it("names the database after the store, and reports its schema version", async () => {
    const store = await open("naming");
    expect(store.databaseName).toBe("orgchat-store:naming");
    expect(store.schemaVersion).toBe(schemaVersion);
    expect((await indexedDB.databases()).map((db) => db.name)).toContain("orgchat-store:naming");
  });

  it("refuses bad options with TypeError or RangeError, and an aborted signal with AbortError", async () => {
    for (const name of ["", 42, "\ud800", "n".repeat(201), undefined]) {
      const error = await rejection(openIndexedDbStore({ name } as { name: string }));
      expect(error, String(name)).toBeInstanceOf(TypeError);
    }
    for (const lockTimeoutMs of [-1, 1.5, Number.NaN]) {
      expect(await rejection(openIndexedDbStore({ name: "x", lockTimeoutMs }))).toBeInstanceOf(
        RangeError,
      );
    }
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    const error = await rejection(openIndexedDbStore({ name: "x" }, { signal: controller.signal }));
    expect(error).toMatchObject({ name: "AbortError" });
    expect((await indexedDB.databases()).map((db) => db.name)).not.toContain("orgchat-store:x");
  });

  it("refuses a database written by a newer version with SchemaVersionError, and leaves it", async () => {
    names.push("future");
    (await rawDatabase("orgchat-store:future", schemaVersion + 6)).close();
    const error = await rejection(openIndexedDbStore({ name: "future" }));
    expect(isSchemaVersionError(error), String(error)).toBe(true);
    expect(error).toMatchObject({ found: schemaVersion + 6, supported: schemaVersion });
    const db = await rawDatabase("orgchat-store:future", schemaVersion + 6);
    expect(db.version).toBe(schemaVersion + 6);
    db.close();
    // The failed open released the lock.
    await deleteIndexedDbStore({ name: "future", lockTimeoutMs: 0 });
  });

  it("refuses another application's database under its name with StoreCorruptError", async () => {
    names.push("foreign", "unmarked");
    (
      await rawDatabase("orgchat-store:foreign", schemaVersion, (db) =>
        db.createObjectStore("todos"),
      )
    ).close();
    expect(isStoreCorruptError(await rejection(openIndexedDbStore({ name: "foreign" })))).toBe(
      true,
    );
    (
      await rawDatabase("orgchat-store:unmarked", schemaVersion, (db) => {
        for (const name of ["records", "entries", "meta"]) db.createObjectStore(name);
      })
    ).close();
    const error = await rejection(openIndexedDbStore({ name: "unmarked" }));
    expect(isStoreCorruptError(error), String(error)).toBe(true);
  });

  it("refuses to open without Web Locks or IndexedDB (BrowserStorageUnavailableError)", async () => {
    vi.spyOn(navigator, "locks", "get").mockReturnValue(undefined as unknown as LockManager);
    const noLocks = await rejection(openIndexedDbStore({ name: "nolocks" }));
    expect(isBrowserStorageUnavailableError(noLocks)).toBe(true);
    expect(noLocks).toMatchObject({ missing: "navigator.locks" });
    vi.restoreAllMocks();
    vi.stubGlobal("indexedDB", undefined);
    try {
      const noIdb = await rejection(openIndexedDbStore({ name: "noidb" }));
      expect(noIdb).toMatchObject({
        name: "BrowserStorageUnavailableError",
        missing: "indexedDB",
      });
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe("stored data", () => {
  it("stores the bytes of a view, not the rest of its buffer", async () => {
    const store = await open("views");
    const buffer = text("0123456789");
    await store.put("s", "k", buffer.subarray(2, 5));
    await store.append("l", [{ id: "a", sortKey: 1n, value: buffer.subarray(7) }]);
    buffer.fill(0);
    const value = await store.get("s", "k");
    const entry = await store.getEntry("l", "a");
    expect(value).toEqual(text("234"));
    expect(entry?.value).toEqual(text("789"));
    // A structured clone of a view keeps its whole buffer: 3 bytes must not store 10 (or 64 MiB).
    expect([value?.buffer.byteLength, entry?.value.buffer.byteLength]).toEqual([3, 3]);
  });

  it("stores a value over a SharedArrayBuffer (which IndexedDB cannot clone) as a copy", async () => {
    expect(crossOriginIsolated, "the test page is cross-origin isolated").toBe(true);
    const store = await open("shared");
    const shared = new Uint8Array(new SharedArrayBuffer(3));
    shared.set([1, 2, 3]);
    await store.batch([
      { type: "put", space: "s", key: "k", value: shared },
      { type: "append", log: "l", entries: [{ id: "a", sortKey: 1n, value: shared }] },
    ]);
    shared.fill(0);
    expect(await store.get("s", "k")).toEqual(new Uint8Array([1, 2, 3]));
    expect((await store.getEntry("l", "a"))?.value).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("reports records and entries that are not what it wrote with StoreCorruptError", async () => {
    const store = await open("tampered");
    await store.put("s", "k", text("v"));
    await store.append("l", [{ id: "a", sortKey: 1n, value: text("v") }]);
    await store.close();
    const utf8 = (value: string) => new TextEncoder().encode(value);
    await rawPut(store.databaseName, "records", [utf8("s"), utf8("k")], "not bytes");
    await rawPut(store.databaseName, "entries", [utf8("l"), utf8("a")], {
      l: utf8("l"),
      s: new Uint8Array(3),
      i: utf8("a"),
      v: utf8("v"),
    });
    const again = await open("tampered");
    for (const call of [
      again.get("s", "k"),
      again.entries("s"),
      again.range("l"),
      again.range("l", { reverse: true }),
      again.getEntry("l", "a"),
    ]) {
      const error = await rejection(call);
      expect(isStoreCorruptError(error), String(error)).toBe(true);
    }
  });

  it("takes any safe-integer limit, beyond what IndexedDB counts (2^32 - 1)", async () => {
    const store = await open("limits");
    await store.put("s", "a", text("1"));
    await store.put("s", "b", text("2"));
    await store.append("l", [{ id: "x", sortKey: 1n, value: text("x") }]);
    const limit = Number.MAX_SAFE_INTEGER;
    expect(await store.keys("s", { limit })).toEqual(["a", "b"]);
    expect((await store.entries("s", { limit })).map(([key]) => key)).toEqual(["a", "b"]);
    expect(await store.range("l", { limit })).toHaveLength(1);
    expect(await store.range("l", { limit, reverse: true })).toHaveLength(1);
  });

  it("reads backward the same with getAllRecords and with the cursor other browsers need", async () => {
    const store = await open("backward");
    const ids = ["a", "b", "c", "d", "e", "f"];
    await store.append(
      "l",
      ids.map((id, i) => ({ id, sortKey: BigInt(i >> 1), value: text(id) })),
    );
    const queries = [
      { reverse: true },
      { reverse: true, limit: 2 },
      { reverse: true, limit: 0 },
      { reverse: true, after: 0n, before: { sortKey: 2n, id: "f" } },
      { reverse: true, after: { sortKey: 0n, id: "a" }, limit: 3 },
    ];
    const read = async () =>
      Promise.all(
        queries.map(async (query) => (await store.range("l", query)).map((entry) => entry.id)),
      );
    const withRecords = await read();
    expect(withRecords).toEqual([
      ["f", "e", "d", "c", "b", "a"],
      ["f", "e"],
      [],
      ["e", "d", "c"],
      ["f", "e", "d"],
    ]);
    const prototype = IDBIndex.prototype as { getAllRecords?: unknown };
    const getAllRecords = Object.getOwnPropertyDescriptor(prototype, "getAllRecords");
    expect(getAllRecords, "this Chromium has getAllRecords").toBeDefined();
    Object.defineProperty(prototype, "getAllRecords", { value: undefined, configurable: true });
    try {
      expect(await read()).toEqual(withRecords);
    } finally {
      Object.defineProperty(prototype, "getAllRecords", getAllRecords as PropertyDescriptor);
    }
  });

  it("commits a durable batch with strict durability, other writes with the default", async () => {
    const store = await open("durability");
    const transaction = vi.spyOn(IDBDatabase.prototype, "transaction");
    await store.batch([{ type: "put", space: "s", key: "k", value: text("v") }], { durable: true });
    await store.put("s", "k", text("w"));
    const writes = transaction.mock.calls.filter(([, mode]) => mode === "readwrite");
    expect(writes.map(([, , options]) => options?.durability)).toEqual(["strict", "default"]);
  });

  it("fails calls with StoreIOError once the database is deleted under it, and still closes", async () => {
    const store = await open("deleted");
    await store.put("s", "k", text("v"));
    // What "clear site data" does: delete it without the store's lock.
    await request(indexedDB.deleteDatabase(store.databaseName));
    for (const call of [store.get("s", "k"), store.put("s", "k", text("w")), store.range("l")]) {
      const error = await rejection(call);
      expect(isStoreIOError(error), String(error)).toBe(true);
    }
    await store.close();
  });
});

describe("deleteIndexedDbStore", () => {
  it("refuses with StoreLockedError while a connection that is not a store's keeps it open", async () => {
    const raw = await rawDatabase("orgchat-store:held-raw", 1);
    // This connection ignores versionchange, as a careless page would: the delete is blocked.
    const error = await rejection(deleteIndexedDbStore({ name: "held-raw", lockTimeoutMs: 0 }));
    expect(isStoreLockedError(error), String(error)).toBe(true);
    raw.close();
  });

  it("deletes a closed store, refuses an open one, and accepts a missing one", async () => {
    const store = await open("doomed");
    await store.put("s", "k", text("v"));
    const error = await rejection(deleteIndexedDbStore({ name: "doomed", lockTimeoutMs: 0 }));
    expect(isStoreLockedError(error), String(error)).toBe(true);
    await store.close();
    await deleteIndexedDbStore({ name: "doomed" });
    await deleteIndexedDbStore({ name: "never-created" });
    const fresh = await open("doomed");
    expect(await fresh.keys("s")).toEqual([]);
  });
});
