import { statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isStoreClosedError, isStoreIOError, type StoreOp } from "@orgchat/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSqliteStore, type SqliteStore } from "../src/index.ts";

const text = (value: string) => new TextEncoder().encode(value);
const decode = (value: Uint8Array | undefined) => new TextDecoder().decode(value);

let directory: string;
const open: SqliteStore[] = [];

async function openAt(path: string): Promise<SqliteStore> {
  const store = await openSqliteStore({ path });
  open.push(store);
  return store;
}

/** Batch `i`: a record `n` = i and a log entry i, together (a copy holds both or neither). */
const step = (i: number): StoreOp[] => [
  { type: "put", space: "counter", key: "n", value: text(String(i)) },
  {
    type: "append",
    log: "steps",
    entries: [{ id: `s${i}`, sortKey: BigInt(i), value: text("x") }],
  },
];

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "orgchat-sqlite-backup-"));
});

afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
  await rm(directory, { recursive: true, force: true });
});

describe("backupTo", () => {
  it("copies the committed records into a new 0600 file that opens as a store", async () => {
    const store = await openAt(join(directory, "store.db"));
    await store.put("identity", "me", text("keys"));
    await store.append("log", [{ id: "a", sortKey: 1n, value: text("first") }]);
    const copy = await store.backupTo(join(directory, "copy.db"));
    expect(copy.path).toBe(join(directory, "copy.db"));
    expect(copy.bytes).toBe(statSync(copy.path).size);
    expect(statSync(copy.path).mode & 0o777).toBe(0o600);
    // The original stays open and writable.
    await store.put("identity", "later", text("not in the copy"));
    const restored = await openAt(copy.path);
    expect(decode(await restored.get("identity", "me"))).toBe("keys");
    expect(await restored.get("identity", "later")).toBeUndefined();
    expect((await restored.range("log")).map((entry) => entry.id)).toEqual(["a"]);
  });

  it("holds a consistent prefix of batches committed while it runs", async () => {
    const store = await openAt(join(directory, "store.db"));
    await store.batch(step(0));
    // Batches called before, beside and after the copy, none awaited before the copy is asked for.
    const writes: Promise<void>[] = [];
    for (let i = 1; i <= 50; i++) writes.push(store.batch(step(i)));
    const copying = store.backupTo(join(directory, "copy.db"));
    for (let i = 51; i <= 100; i++) writes.push(store.batch(step(i)));
    const [copy] = await Promise.all([copying, ...writes]);
    const restored = await openAt((copy as { path: string }).path);
    const n = Number(decode(await restored.get("counter", "n")));
    const ids = (await restored.range("steps")).map((entry) => entry.id);
    // Every batch up to n, none after it: a prefix, whole batches only.
    expect(ids).toEqual(Array.from({ length: n + 1 }, (_, i) => `s${i}`));
    expect(n).toBeGreaterThanOrEqual(0);
    expect(Number(decode(await store.get("counter", "n")))).toBe(100);
  });

  it("refuses an existing file and leaves it as it was", async () => {
    const store = await openAt(join(directory, "store.db"));
    const target = join(directory, "taken.db");
    writeFileSync(target, "mine");
    const error = await store.backupTo(target).catch((caught: unknown) => caught);
    expect(isStoreIOError(error)).toBe(true);
    expect((error as { cause?: { code?: string } }).cause?.code).toBe("EEXIST");
    expect(statSync(target).size).toBe(4);
    await expect(store.backupTo(store.path)).rejects.toThrow(TypeError);
  });

  it("leaves no file behind when the copy fails, and refuses after close", async () => {
    const store = await openAt(join(directory, "store.db"));
    const error = await store
      .backupTo(join(directory, "missing", "copy.db"))
      .catch((caught: unknown) => caught);
    expect(isStoreIOError(error)).toBe(true);
    await store.close();
    const closed = await store
      .backupTo(join(directory, "late.db"))
      .catch((caught: unknown) => caught);
    expect(isStoreClosedError(closed)).toBe(true);
  });
});
