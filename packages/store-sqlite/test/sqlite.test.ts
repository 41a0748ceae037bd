import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { DatabaseSync } from "node:sqlite";
import {
  isAbortError,
  isSchemaVersionError,
  isStoreCorruptError,
  isStoreIOError,
  isStoreLockedError,
  type Store,
} from "@orgchat/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSqliteStore, schemaVersion } from "../src/index.ts";
import { applicationId, type Migration, migrate, rollback } from "../src/migrations.ts";
import { spawnFixture } from "./fixtures/spawn.ts";

const text = (value: string) => new TextEncoder().encode(value);
const mode = (path: string) => statSync(path).mode & 0o777;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

let directory: string;
let path: string;
const open: Store[] = [];
const databases: DatabaseSync[] = [];

async function openStore(init: Partial<Parameters<typeof openSqliteStore>[0]> = {}) {
  const store = await openSqliteStore({ path, ...init });
  open.push(store);
  return store;
}

function rawDatabase(file = path): DatabaseSync {
  const db = new DatabaseSync(file);
  databases.push(db);
  return db;
}

function pragma(db: DatabaseSync, name: string): unknown {
  return (db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown>)[name];
}

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "orgchat-sqlite-"));
  path = join(directory, "data", "nested", "store.db");
});

afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
  for (const db of databases.splice(0)) if (db.isOpen) db.close();
  await rm(directory, { recursive: true, force: true });
});

describe("files at rest", () => {
  it("creates missing directories with mode 0700 and the database and its WAL with mode 0600", async () => {
    const store = await openStore();
    await store.put("identity", "key", text("encrypted by the client"));
    expect(mode(join(directory, "data"))).toBe(0o700);
    expect(mode(join(directory, "data", "nested"))).toBe(0o700);
    expect(mode(path)).toBe(0o600);
    expect(existsSync(`${path}-wal`)).toBe(true);
    expect(mode(`${path}-wal`)).toBe(0o600);
    // Exclusive locking keeps the WAL index in memory: no shared-memory file to protect.
    expect(existsSync(`${path}-shm`)).toBe(false);
    expect(store.path).toBe(path);
    expect(store.schemaVersion).toBe(schemaVersion);
  });

  it("tightens an existing database file to 0600 and leaves an existing directory alone", async () => {
    await mkdir(join(directory, "data", "nested"), { recursive: true, mode: 0o755 });
    await chmod(join(directory, "data", "nested"), 0o755);
    await (await openStore()).close();
    await chmod(path, 0o644);
    await openStore();
    expect(mode(path)).toBe(0o600);
    expect(mode(join(directory, "data", "nested"))).toBe(0o755);
  });

  it("checkpoints into the database file on close and leaves no WAL behind", async () => {
    const store = await openStore();
    await store.put("s", "k", text("v"));
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(await (await openStore()).get("s", "k")).toEqual(text("v"));
  });

  it("overwrites deleted and replaced values in the file (secure_delete)", async () => {
    const marker = (name: string) => text(`MARKER-${name}-`.repeat(300));
    const store = await openStore();
    await store.put("ratchet", "chain", marker("old-chain"));
    await store.put("identity", "gone", marker("deleted-key"));
    await store.append("pending", [{ id: "p", sortKey: 1n, value: marker("pending") }]);
    await store.close();
    const again = await openStore();
    await again.put("ratchet", "chain", text("new chain"));
    await again.delete("identity", "gone");
    await again.deleteEntries("pending", ["p"]);
    await again.close();
    const file = readFileSync(path);
    for (const name of ["old-chain", "deleted-key", "pending"]) {
      expect(file.includes(Buffer.from(`MARKER-${name}-`))).toBe(false);
    }
  });
});

describe("single writer", () => {
  it("refuses a second store on the same file in this process with StoreLockedError", async () => {
    const first = await openStore();
    const error = await rejection(openSqliteStore({ path, busyTimeoutMs: 0 }));
    expect(isStoreLockedError(error)).toBe(true);
    expect((error as Error).message).toContain("another orgchat process");
    expect(error).toMatchObject({ path });
    await first.close();
    const second = await openStore({ busyTimeoutMs: 0 });
    expect(await second.get("s", "k")).toBeUndefined();
  });

  it("refuses while another process holds the file, and opens as soon as it is killed (no stale lock)", async () => {
    const child = spawnFixture("./hold-lock.ts", [path]);
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => resolve(signal)),
    );
    const lines = createInterface({ input: child.stdout });
    const ready = await new Promise<boolean>((resolve) => {
      lines.on("line", (line) => line === "ready" && resolve(true));
      void exited.then(() => resolve(false));
    });
    expect(ready, stderr).toBe(true);
    try {
      const error = await rejection(openSqliteStore({ path, busyTimeoutMs: 0 }));
      expect(isStoreLockedError(error)).toBe(true);
    } finally {
      child.kill("SIGKILL");
    }
    expect(await exited).toBe("SIGKILL");
    const store = await openStore({ busyTimeoutMs: 0 });
    expect(await store.get("s", "holder")).toEqual(text(String(child.pid)));
  });
});

describe("schema migrations", () => {
  it("creates the schema from version 0 (an empty file) and records it", async () => {
    await (await openStore()).close();
    const db = rawDatabase();
    expect(pragma(db, "user_version")).toBe(schemaVersion);
    expect(pragma(db, "application_id")).toBe(applicationId);
    const tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .all()
      .map((row) => row.name);
    expect(tables).toEqual(["log_entries", "records"]);
  });

  it("runs the pending steps in order, all in one transaction", () => {
    const ran: number[] = [];
    const steps: Migration[] = [1, 2, 3].map((version) => ({
      version,
      description: `step ${version}`,
      up(db) {
        ran.push(version);
        db.exec(`CREATE TABLE t${version} (x INTEGER) STRICT`);
      },
    }));
    const db = rawDatabase(join(directory, "m.db"));
    expect(migrate(db, steps.slice(0, 1))).toEqual({ from: 0, to: 1 });
    expect(migrate(db, steps)).toEqual({ from: 1, to: 3 });
    expect(ran).toEqual([1, 2, 3]);
    expect(migrate(db, steps)).toEqual({ from: 3, to: 3 });
    expect(ran).toEqual([1, 2, 3]);
    expect(pragma(db, "user_version")).toBe(3);
  });

  it("rolls a failed upgrade back entirely: the version and the schema stay as they were", () => {
    const db = rawDatabase(join(directory, "m.db"));
    const steps: Migration[] = [
      { version: 1, description: "ok", up: (d) => d.exec("CREATE TABLE a (x INTEGER) STRICT") },
      {
        version: 2,
        description: "fails",
        up: (d) => {
          d.exec("CREATE TABLE b (x INTEGER) STRICT");
          throw new Error("step 2 failed");
        },
      },
    ];
    expect(() => migrate(db, steps)).toThrow("step 2 failed");
    expect(pragma(db, "user_version")).toBe(0);
    expect(pragma(db, "application_id")).toBe(0);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_schema").get()?.n).toBe(0);
    expect(db.isTransaction).toBe(false);
  });

  it("keeps the step's error when there is nothing left to roll back", () => {
    const db = rawDatabase(join(directory, "m.db"));
    const steps: Migration[] = [
      {
        version: 1,
        description: "ends the transaction itself, then fails",
        up: (d) => {
          d.exec("ROLLBACK");
          throw new Error("step 1 failed");
        },
      },
    ];
    expect(() => migrate(db, steps)).toThrow("step 1 failed");
    expect(db.isTransaction).toBe(false);
  });

  it("surfaces a ROLLBACK that fails while a transaction is still open", () => {
    const failing = new Error("disk I/O error");
    const stuck = {
      isTransaction: true,
      exec() {
        throw failing;
      },
    } as unknown as DatabaseSync;
    expect(() => rollback(stuck)).toThrow(failing);
    const done = { isTransaction: false, exec: stuck.exec } as unknown as DatabaseSync;
    expect(() => rollback(done)).not.toThrow();
  });

  it("refuses steps that are not numbered 1, 2, 3…", () => {
    const db = rawDatabase(join(directory, "m.db"));
    expect(() => migrate(db, [{ version: 2, description: "gap", up() {} }])).toThrow(RangeError);
  });

  it("refuses a database from a newer version with SchemaVersionError and leaves it untouched", async () => {
    await (await openStore()).close();
    const db = rawDatabase();
    db.exec(`PRAGMA user_version = ${schemaVersion + 1}`);
    db.close();
    const error = await rejection(openSqliteStore({ path }));
    expect(isSchemaVersionError(error)).toBe(true);
    expect(error).toMatchObject({ found: schemaVersion + 1, supported: schemaVersion });
    expect(pragma(rawDatabase(), "user_version")).toBe(schemaVersion + 1);
  });

  it("refuses a file that is not an orgchat store with StoreCorruptError", async () => {
    await mkdir(join(directory, "data", "nested"), { recursive: true });
    writeFileSync(path, Buffer.alloc(8192, 0x41));
    expect(isStoreCorruptError(await rejection(openSqliteStore({ path })))).toBe(true);

    const other = join(directory, "other.db");
    const foreign = rawDatabase(other);
    foreign.exec("CREATE TABLE t (x INTEGER)");
    foreign.close();
    expect(isStoreCorruptError(await rejection(openSqliteStore({ path: other })))).toBe(true);

    const app = join(directory, "app.db");
    const otherApp = rawDatabase(app);
    otherApp.exec("PRAGMA application_id = 1234; PRAGMA user_version = 1");
    otherApp.close();
    expect(isStoreCorruptError(await rejection(openSqliteStore({ path: app })))).toBe(true);
  });
});

describe("openSqliteStore options", () => {
  it("rejects an already-aborted signal before touching the disk", async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(openSqliteStore({ path }, { signal: controller.signal }));
    expect(isAbortError(error)).toBe(true);
    expect(existsSync(path)).toBe(false);
  });

  it("refuses an in-memory path and bad options with TypeError / RangeError", async () => {
    expect(await rejection(openSqliteStore({ path: ":memory:" }))).toBeInstanceOf(TypeError);
    expect(await rejection(openSqliteStore({ path: "" }))).toBeInstanceOf(TypeError);
    expect(
      await rejection(openSqliteStore({ path, synchronous: "off" as unknown as "full" })),
    ).toBeInstanceOf(TypeError);
    expect(await rejection(openSqliteStore({ path, busyTimeoutMs: -1 }))).toBeInstanceOf(
      RangeError,
    );
  });

  it("reports a path it cannot create as StoreIOError", async () => {
    const file = join(directory, "a-file");
    writeFileSync(file, "not a directory");
    expect(isStoreIOError(await rejection(openSqliteStore({ path: join(file, "store.db") })))).toBe(
      true,
    );
    await mkdir(join(directory, "a-directory.db"));
    expect(
      isStoreIOError(await rejection(openSqliteStore({ path: join(directory, "a-directory.db") }))),
    ).toBe(true);
  });

  it("works with synchronous: normal (crash-safe, not power-cut-safe)", async () => {
    const store = await openStore({ synchronous: "normal" });
    await store.batch([{ type: "put", space: "s", key: "k", value: text("v") }]);
    await store.close();
    expect(await (await openStore()).get("s", "k")).toEqual(text("v"));
  });

  it("syncs a durable batch under synchronous: normal (the default), and only that one", async () => {
    const synced = (store: unknown) => (store as { durableCommits: number }).durableCommits;
    const store = await openStore();
    const op = (value: string) => [
      { type: "put" as const, space: "s", key: "k", value: text(value) },
    ];
    await store.batch(op("ordinary"));
    expect(synced(store)).toBe(0);
    await store.batch(op("reserved"), { durable: true });
    expect(synced(store)).toBe(1);
    // A refused durable batch syncs nothing, and the next ordinary commit stays ordinary.
    await rejection(
      store.batch([...op("x"), { type: "put", space: "", key: "k", value: text("") }], {
        durable: true,
      }),
    );
    await store.batch(op("after"));
    expect(synced(store)).toBe(1);
    await store.close();
    // Under "full" every commit is synced already: nothing extra to do.
    const full = await openStore({ synchronous: "full" });
    await full.batch(op("full"), { durable: true });
    expect(synced(full)).toBe(0);
    expect(await full.get("s", "k")).toEqual(text("full"));
  });
});
