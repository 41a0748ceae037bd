import {
  chmodSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  rmSync,
  statSync,
} from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import {
  type CallOptions,
  type LogEntry,
  type Store,
  StoreCorruptError,
  StoreIOError,
  StoreLockedError,
  type StoreOp,
} from "@orgchat/store";
import {
  BaseStore,
  type NormalizedKeysQuery,
  type NormalizedPosition,
  type NormalizedRangeQuery,
  throwIfAborted,
} from "@orgchat/store/implement";
import { migrate, rollback, schemaVersion } from "./migrations.js";

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreInit {
  /**
   * Path of the database file, e.g. `~/.orgchat/store.db`. Missing directories are created with
   * mode 0700; the file and its `-wal` companion get mode 0600.
   */
  readonly path: string;
  /**
   * How hard an ordinary commit pushes to the disk (SQLite `synchronous` in WAL mode):
   * - `"normal"`: every resolved write survives a process crash (the commit is in the operating
   *   system's hands before the call resolves); after a power cut or a kernel panic the database is
   *   intact but the last writes since the last sync may be lost, whole batches only. A batch with
   *   `durable: true` is synced before it resolves (`synchronous = FULL` for that commit), and with
   *   it every batch before it. The client marks durable the commits that reserve sender
   *   generations, so that a power cut can roll a sender back only inside a stretch already
   *   reserved durably, never below it: a generation is never used twice (README, "Durability").
   * - `"full"`: every commit is synced (an fsync per write: a few ms on a disk), `durable` or not.
   * @default "normal"
   */
  readonly synchronous?: "full" | "normal" | undefined;
  /**
   * How long opening waits for another process to release the file before failing with
   * `StoreLockedError`, in milliseconds (a previous orgchat process may still be shutting down).
   * @default 1000
   */
  readonly busyTimeoutMs?: number | undefined;
}

/** A store on a SQLite file. */
export interface SqliteStore extends Store {
  /** Absolute path of the database file. */
  readonly path: string;
  /** Schema version of the file (always this build's version once open). */
  readonly schemaVersion: number;
  /**
   * Writes a consistent copy of the store, as committed when the call starts, to a new file
   * (SQLite `VACUUM INTO`): safe while the store is open and written, since the copy is made in one
   * step on this store's own connection (batches called meanwhile are committed before or after it,
   * never half). The copy holds no free pages (no superseded values) and no write-ahead log; it is
   * an ordinary store file that {@link openSqliteStore} opens.
   * @param path - the new file; created with mode 0600, refused when it exists
   * @param options - an optional `signal` (checked before anything is touched)
   * @returns the copy's absolute path and size in bytes
   * @throws StoreIOError (the file exists: `cause.code` is `EEXIST`; cannot be written; the disk is
   *   full: nothing is left at `path` then), StoreClosedError, AbortError, TypeError (the store's own path)
   */
  backupTo(path: string, options?: CallOptions): Promise<SqliteBackup>;
}

/** What {@link SqliteStore.backupTo} wrote. */
export interface SqliteBackup {
  /** Absolute path of the copy. */
  readonly path: string;
  /** Its size in bytes. */
  readonly bytes: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const utf8 = (text: string): Uint8Array => encoder.encode(text);

/** SQLite primary result codes this store maps to typed errors. */
const sqlite = {
  PERM: 3,
  BUSY: 5,
  LOCKED: 6,
  NOMEM: 7,
  READONLY: 8,
  IOERR: 10,
  CORRUPT: 11,
  FULL: 13,
  CANTOPEN: 14,
  NOTADB: 26,
} as const;

/** The primary SQLite result code of a node:sqlite error, if it is one. */
function sqliteCode(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { code, errcode } = error as { code?: unknown; errcode?: unknown };
  if (code !== "ERR_SQLITE_ERROR" || typeof errcode !== "number") return undefined;
  // Extended result codes carry the primary code in their low byte.
  return errcode & 0xff;
}

/** Turns SQLite's errors into the store contract's typed errors (others pass through). */
function translate(error: unknown, path: string, operation: string): unknown {
  switch (sqliteCode(error)) {
    case sqlite.BUSY:
    case sqlite.LOCKED:
      return new StoreLockedError(path, { cause: error });
    case sqlite.CORRUPT:
    case sqlite.NOTADB:
      return new StoreCorruptError(`${path} is not a readable SQLite database`, { cause: error });
    case sqlite.FULL:
      return new StoreIOError(`${operation} on ${path}: the disk is full`, { cause: error });
    case sqlite.PERM:
    case sqlite.READONLY:
    case sqlite.CANTOPEN:
      return new StoreIOError(`${operation} on ${path}: the file cannot be written or opened`, {
        cause: error,
      });
    case sqlite.IOERR:
    case sqlite.NOMEM:
      return new StoreIOError(`${operation} on ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    default:
      // File system errors while preparing the directory or the file (EACCES, EROFS, ENOSPC, …).
      if (error instanceof Error && typeof (error as { syscall?: unknown }).syscall === "string") {
        return new StoreIOError(`${operation} on ${path}: ${error.message}`, { cause: error });
      }
      return error;
  }
}

/** Smallest byte string greater than every string starting with `prefix` (UTF-8 never has 0xff). */
function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = prefix.slice();
  end[end.length - 1] = (end[end.length - 1] as number) + 1;
  return end;
}

type Row = Record<string, unknown>;

/**
 * Creates missing directories of `directory` with mode 0700 (exactly, whatever the umask); existing
 * ones are left as they are (they may be the user's home).
 */
function ensureDirectory(directory: string): void {
  const first = mkdirSync(directory, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  const created = [first];
  const rest = relative(first, directory);
  if (rest !== "") {
    let current = first;
    for (const part of rest.split(sep)) {
      current = join(current, part);
      created.push(current);
    }
  }
  for (const dir of created) chmodSync(dir, 0o700);
}

/**
 * Creates the database file with mode 0600 before SQLite does (SQLite would use 0644 less the
 * umask, and gives its -wal file the database file's mode), and tightens an existing file.
 */
function ensurePrivateFile(path: string): void {
  const fd = openSync(path, "a", 0o600);
  try {
    if ((fstatSync(fd).mode & 0o077) !== 0) chmodSync(path, 0o600);
  } finally {
    closeSync(fd);
  }
}

class SqliteStoreImpl extends BaseStore implements SqliteStore {
  readonly path: string;
  readonly schemaVersion = schemaVersion;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  /** A checkpoint asked for did not complete (an I/O error): retried after the next write. */
  #checkpointOwed = false;
  /** Ordinary commits are not synced (`synchronous = NORMAL`): durable ones are made so. */
  readonly #syncsDurableOnly: boolean;
  /** How many commits were synced on request (`durable`), for tests. */
  durableCommits = 0;

  constructor(path: string, db: DatabaseSync, synchronous: "full" | "normal") {
    super();
    this.path = path;
    this.#db = db;
    this.#syncsDurableOnly = synchronous === "normal";
  }

  /** Prepares `sql` once and reuses it (range and keys queries have a few shapes). */
  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      statement.setReadBigInts(true);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `body` and translates SQLite errors. */
  #run<T>(operation: string, body: () => T): T {
    try {
      return body();
    } catch (error) {
      throw translate(error, this.path, operation);
    }
  }

  async backupTo(target: string, options?: CallOptions): Promise<SqliteBackup> {
    this.enter("backupTo", options);
    if (typeof target !== "string" || target === "") {
      throw new TypeError("backupTo needs the path of a new file");
    }
    const file = resolve(target);
    if (file === this.path) throw new TypeError("backupTo cannot write over the store itself");
    return this.#run("backupTo", () => {
      // O_EXCL: an existing file (another backup, a live store) is never overwritten; the mode is set
      // before SQLite writes a byte, and VACUUM INTO accepts an empty file and keeps its mode.
      closeSync(openSync(file, "wx", 0o600));
      try {
        this.#db.prepare("VACUUM INTO ?").run(file);
      } catch (error) {
        rmSync(file, { force: true });
        throw error;
      }
      return { path: file, bytes: statSync(file).size };
    });
  }

  protected readRecord(space: string, key: string): Uint8Array | undefined {
    return this.#run("get", () => {
      const row = this.#statement("SELECT value FROM records WHERE space = ? AND key = ?").get(
        utf8(space),
        utf8(key),
      ) as Row | undefined;
      return row ? (row.value as Uint8Array) : undefined;
    });
  }

  /** The SELECT of `columns` from the records of `space` that `query` selects, in key order. */
  #recordsSelect(
    columns: string,
    space: string,
    { prefix, after, limit }: NormalizedKeysQuery,
  ): { sql: string; params: SQLInputValue[] } {
    const conditions = ["space = ?"];
    const params: SQLInputValue[] = [utf8(space)];
    if (prefix !== "") {
      const bytes = utf8(prefix);
      conditions.push("key >= ?", "key < ?");
      params.push(bytes, prefixEnd(bytes));
    }
    if (after !== undefined) {
      conditions.push("key > ?");
      params.push(utf8(after));
    }
    params.push(limit ?? -1);
    const sql = `SELECT ${columns} FROM records WHERE ${conditions.join(" AND ")} ORDER BY key LIMIT ?`;
    return { sql, params };
  }

  protected readKeys(space: string, query: NormalizedKeysQuery): string[] {
    const { sql, params } = this.#recordsSelect("key", space, query);
    return this.#run("keys", () =>
      (this.#statement(sql).all(...params) as Row[]).map((row) =>
        decoder.decode(row.key as Uint8Array),
      ),
    );
  }

  /** One query for the keys and values (`BaseStore` would read each key on its own). */
  protected override async readEntries(
    space: string,
    query: NormalizedKeysQuery,
  ): Promise<ReadonlyArray<readonly [string, Uint8Array]>> {
    const { sql, params } = this.#recordsSelect("key, value", space, query);
    return this.#run("entries", () =>
      (this.#statement(sql).all(...params) as Row[]).map(
        (row) => [decoder.decode(row.key as Uint8Array), row.value as Uint8Array] as const,
      ),
    );
  }

  protected readEntry(log: string, id: string): LogEntry | undefined {
    return this.#run("getEntry", () => {
      const row = this.#statement(
        "SELECT sort_key, value FROM log_entries WHERE log = ? AND id = ?",
      ).get(utf8(log), utf8(id)) as Row | undefined;
      return row
        ? { id, sortKey: row.sort_key as bigint, value: row.value as Uint8Array }
        : undefined;
    });
  }

  protected readRange(
    log: string,
    { after, before, limit, reverse }: NormalizedRangeQuery,
  ): LogEntry[] {
    const conditions = ["log = ?"];
    const params: SQLInputValue[] = [utf8(log)];
    const bound = (position: NormalizedPosition, operator: ">" | "<") => {
      // Row values compare (sort_key, id) lexicographically and still use the index.
      if (position.id === undefined) {
        conditions.push(`sort_key ${operator} ?`);
        params.push(position.sortKey);
      } else {
        conditions.push(`(sort_key, id) ${operator} (?, ?)`);
        params.push(position.sortKey, utf8(position.id));
      }
    };
    if (after) bound(after, ">");
    if (before) bound(before, "<");
    params.push(limit ?? -1);
    const direction = reverse ? "DESC" : "ASC";
    const sql = `SELECT id, sort_key, value FROM log_entries WHERE ${conditions.join(" AND ")} ORDER BY sort_key ${direction}, id ${direction} LIMIT ?`;
    return this.#run("range", () =>
      (this.#statement(sql).all(...params) as Row[]).map((row) => ({
        id: decoder.decode(row.id as Uint8Array),
        sortKey: row.sort_key as bigint,
        value: row.value as Uint8Array,
      })),
    );
  }

  /**
   * Copies the write-ahead log into the database file and truncates it to zero bytes
   * (`wal_checkpoint(TRUNCATE)`). With `secure_delete` on, the pages and cells that held superseded
   * values were zeroed by the commits that freed them, so once the log is copied and truncated their
   * bytes are in none of the store's files (there is no `-shm` file: the WAL index lives in this
   * process's memory, `locking_mode = EXCLUSIVE`). Exclusive locking means no reader can hold the
   * checkpoint back; an I/O error leaves it owed, retried after the next write (and close
   * checkpoints too).
   */
  protected eraseSuperseded(): void {
    try {
      const row = this.#db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get() as Row | undefined;
      this.#checkpointOwed = Number(row?.busy ?? 1) !== 0;
    } catch {
      // Not network input: the batch is committed and the checkpoint is retried (see above).
      this.#checkpointOwed = true;
    }
  }

  protected release(): void {
    this.#statements.clear();
    // Closing checkpoints the WAL into the database file and releases the file lock.
    this.#run("close", () => this.#db.close());
  }

  /**
   * Applies (checked) `ops` in one `BEGIN IMMEDIATE … COMMIT` transaction: all or nothing, and
   * durable (per `synchronous`) once it returns. A `durable` write under `synchronous = NORMAL`
   * commits with `synchronous = FULL`: its commit syncs the write-ahead log, and with it every
   * frame before it.
   */
  protected writeOps(
    operation: string,
    ops: readonly StoreOp[],
    options?: { readonly durable: boolean },
  ): number {
    return this.#run(operation, () => {
      const db = this.#db;
      const sync = this.#syncsDurableOnly && options?.durable === true;
      if (sync) db.exec("PRAGMA synchronous = FULL");
      let changed = 0;
      try {
        db.exec("BEGIN IMMEDIATE");
        try {
          for (const op of ops) changed += this.#apply(op);
          db.exec("COMMIT");
        } catch (error) {
          rollback(db);
          throw error;
        }
      } finally {
        if (sync) db.exec("PRAGMA synchronous = NORMAL");
      }
      if (sync) this.durableCommits++;
      if (this.#checkpointOwed) this.eraseSuperseded();
      return changed;
    });
  }

  #apply(op: StoreOp): number {
    switch (op.type) {
      case "put":
        this.#statement(
          "INSERT INTO records (space, key, value) VALUES (?, ?, ?) ON CONFLICT (space, key) DO UPDATE SET value = excluded.value",
        ).run(utf8(op.space), utf8(op.key), op.value);
        return 1;
      case "delete":
        return Number(
          this.#statement("DELETE FROM records WHERE space = ? AND key = ?").run(
            utf8(op.space),
            utf8(op.key),
          ).changes,
        );
      case "append": {
        const insert = this.#statement(
          "INSERT INTO log_entries (log, id, sort_key, value) VALUES (?, ?, ?, ?) ON CONFLICT (log, id) DO NOTHING",
        );
        const log = utf8(op.log);
        let added = 0;
        for (const entry of op.entries) {
          added += Number(insert.run(log, utf8(entry.id), entry.sortKey, entry.value).changes);
        }
        return added;
      }
      case "deleteEntries": {
        const remove = this.#statement("DELETE FROM log_entries WHERE log = ? AND id = ?");
        const log = utf8(op.log);
        let deleted = 0;
        for (const id of op.ids) deleted += Number(remove.run(log, utf8(id)).changes);
        return deleted;
      }
    }
  }
}

/**
 * Opens (creating it if needed) an orgchat store on a SQLite file through Node's built-in
 * `node:sqlite`: WAL journal, `synchronous = NORMAL` by default (`durable` batches synced), schema migrated to this version,
 * exclusive lock on the file for as long as the store is open, file mode 0600.
 *
 * Every call runs synchronously on the calling thread and resolves once committed; writes are
 * serialized in call order, each in one transaction.
 *
 * @param init - Where the file is and how durable commits are.
 * @param options - An optional `signal` (checked before anything is touched).
 * @returns The open store. Close it to release the file.
 * @throws StoreLockedError (another process or another open store uses the file),
 *   SchemaVersionError (written by a newer orgchat), StoreCorruptError (not an orgchat store, or
 *   damaged), StoreIOError (cannot create or open the file), AbortError, TypeError (bad options)
 * @example
 * ```ts
 * import { openSqliteStore } from "@orgchat/store-sqlite";
 *
 * const store = await openSqliteStore({ path: `${dataDir}/store.db` });
 * await store.batch([
 *   { type: "put", space: "ratchet", key: chainId, value: nextChainState },
 *   { type: "append", log: "outbox", entries: [{ id: messageId, sortKey: clock, value: ciphertext }] },
 * ]);
 * await store.close();
 * ```
 */
export async function openSqliteStore(
  init: SqliteStoreInit,
  options?: CallOptions,
): Promise<SqliteStore> {
  if (typeof init?.path !== "string" || init.path === "" || init.path === ":memory:") {
    throw new TypeError(
      "path must be the path of a database file (use memoryStore() from @orgchat/store for a store in memory)",
    );
  }
  const synchronous = init.synchronous ?? "normal";
  if (synchronous !== "full" && synchronous !== "normal") {
    throw new TypeError(`synchronous must be "full" or "normal", got ${String(synchronous)}`);
  }
  const busyTimeoutMs = init.busyTimeoutMs ?? 1000;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new RangeError(`busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`);
  }
  throwIfAborted(options?.signal, "openSqliteStore");
  const path = resolve(init.path);

  let db: DatabaseSync | undefined;
  try {
    ensureDirectory(dirname(path));
    ensurePrivateFile(path);
    db = new DatabaseSync(path);
    // A PRAGMA rather than the constructor's `timeout` option, which only exists from Node 22.16.
    db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    // EXCLUSIVE before WAL: the WAL index then lives in this process's memory (no -shm file) and
    // the first read takes an exclusive lock on the file that only close() or the death of the
    // process releases. The kernel drops it on SIGKILL, so there is no stale lock to clean up, and
    // a second process (or a second store in this one) gets SQLITE_BUSY → StoreLockedError.
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    const mode = db.prepare("PRAGMA journal_mode = WAL").get() as Row | undefined;
    if (mode?.journal_mode !== "wal") {
      throw new StoreIOError(
        `${path}: SQLite refused WAL mode (got ${String(mode?.journal_mode)})`,
      );
    }
    db.exec(`PRAGMA synchronous = ${synchronous === "full" ? "FULL" : "NORMAL"}`);
    // Overwrite deleted content (old ratchet states) instead of leaving it in free pages.
    db.exec("PRAGMA secure_delete = ON");
    // Truncate the WAL back to 16 MiB after checkpoints: an 8 MiB value must not leave a big file.
    db.exec("PRAGMA journal_size_limit = 16777216");
    migrate(db);
    // A WAL left by a crash (e.g. between a re-key's commit and its checkpoint) may hold superseded
    // values: copy it into the database file and truncate it before anything else happens.
    db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get();
    for (const companion of [`${path}-wal`, `${path}-shm`, `${path}-journal`]) {
      if (existsSync(companion)) chmodSync(companion, 0o600);
    }
    return new SqliteStoreImpl(path, db, synchronous);
  } catch (error) {
    try {
      db?.close();
    } catch {
      // Not network input, and nothing is lost: the open failed already and that error (rethrown
      // below) is the one to report. node:sqlite's close() throws only for a handle that is not
      // open (ERR_INVALID_STATE); it closes even with statements still prepared, so no lock
      // outlives a failed open.
    }
    throw translate(error, path, "open");
  }
}
