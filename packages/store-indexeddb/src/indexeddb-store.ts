import { utf8Length } from "@orgchat/base";
import {
  type CallOptions,
  type LogEntry,
  type Store,
  StoreCorruptError,
  StoreLockedError,
  type StoreOp,
} from "@orgchat/store";
import {
  BaseStore,
  type NormalizedKeysQuery,
  type NormalizedRangeQuery,
  throwIfAborted,
  type WriteOptions,
} from "@orgchat/store/implement";
import {
  deleteDatabase,
  objectStores,
  openDatabase,
  orderIndex,
  requestResult,
  type StoredEntry,
  schemaVersion,
  transactionDone,
  translate,
} from "./database.js";
import { BrowserStorageUnavailableError } from "./errors.js";
import {
  entryBounds,
  keyRange,
  keyText,
  recordBounds,
  sortKeyBytes,
  sortKeyOf,
  utf8Key,
} from "./keys.js";
import { type HeldLock, takeLock } from "./lock.js";

/** Options of {@link openIndexedDbStore} and {@link deleteIndexedDbStore}. */
export interface IndexedDbStoreInit {
  /**
   * Name of the store within the page's origin, e.g. a profile name (`"default"`): a non-empty,
   * well-formed string of at most 200 UTF-8 bytes. The database is `orgchat-store:<name>`, and its
   * Web Lock has the same name.
   */
  readonly name: string;
  /**
   * How long opening waits for another holder of the store's lock to let go before failing with
   * `StoreLockedError`, in milliseconds: a reloaded page's previous document releases its lock a
   * moment after it is gone. 0 fails at once when the lock is held.
   * @default 1000
   */
  readonly lockTimeoutMs?: number | undefined;
}

/** A store on an IndexedDB database. */
export interface IndexedDbStore extends Store {
  /** Name of the IndexedDB database (`orgchat-store:<name>`), as the browser's tools show it. */
  readonly databaseName: string;
  /** Layout version of the database (always this build's version once open). */
  readonly schemaVersion: number;
  /** Reads the records a keys query selects in one transaction (see `Store.entries`). */
  entries: NonNullable<Store["entries"]>;
}

/**
 * `IDBIndex.getAllRecords` (Chromium 141+; not yet in TypeScript's DOM types): `getAll` with a
 * direction.
 */
interface IndexWithRecords {
  getAllRecords(options: {
    query: IDBKeyRange;
    count?: number;
    direction: "prev";
  }): IDBRequest<ReadonlyArray<{ readonly value: unknown }>>;
}

const maxNameBytes = 200;
/** IndexedDB's `count` is an unsigned long: a larger limit (up to 2^53 − 1) means "all" anyway. */
const maxCount = 2 ** 32 - 1;
const countOf = (limit: number | undefined) =>
  limit === undefined ? undefined : Math.min(limit, maxCount);
const databasePrefix = "orgchat-store:";
const { records, entries } = objectStores;

function lockTimeoutOf(init: IndexedDbStoreInit): number {
  const timeout = init.lockTimeoutMs ?? 1000;
  if (!Number.isSafeInteger(timeout) || timeout < 0) {
    throw new RangeError(`lockTimeoutMs must be a non-negative integer, got ${String(timeout)}`);
  }
  return timeout;
}

function databaseNameOf(init: IndexedDbStoreInit): string {
  const name = (init as IndexedDbStoreInit | undefined)?.name;
  if (typeof name !== "string" || name === "") {
    throw new TypeError("init.name must be a non-empty string (e.g. a profile name)");
  }
  const bytes = utf8Length(name);
  if (bytes < 0 || bytes > maxNameBytes) {
    throw new TypeError(`init.name must be well-formed UTF-16 of at most ${maxNameBytes} bytes`);
  }
  return `${databasePrefix}${name}`;
}

/** The page's IndexedDB and Web Locks, or the typed error saying which is missing. */
function browserStorage(): { indexedDb: IDBFactory; locks: LockManager } {
  const indexedDb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (indexedDb === undefined) throw new BrowserStorageUnavailableError("indexedDB");
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (locks === undefined) throw new BrowserStorageUnavailableError("navigator.locks");
  return { indexedDb, locks };
}

/** What opening or deleting a store holds once its lock is taken. */
interface LockedStore {
  readonly databaseName: string;
  readonly indexedDb: IDBFactory;
  readonly lock: HeldLock;
}

/**
 * Checks `init`, then takes the store's lock for `operation`, waiting up to `init.lockTimeoutMs`.
 * @throws TypeError, RangeError (bad init), AbortError (the caller's signal, before or during the
 *   wait), BrowserStorageUnavailableError, StoreLockedError (still held after the timeout)
 */
async function lockStore(
  init: IndexedDbStoreInit,
  options: CallOptions | undefined,
  operation: string,
): Promise<LockedStore> {
  const databaseName = databaseNameOf(init);
  const timeoutMs = lockTimeoutOf(init);
  const signal = options?.signal;
  throwIfAborted(signal, operation);
  const { indexedDb, locks } = browserStorage();
  const lock = await takeLock(locks, databaseName, timeoutMs, signal);
  if (lock === "aborted") throwIfAborted(signal, operation);
  if (typeof lock === "string") throw new StoreLockedError(databaseName);
  return { databaseName, indexedDb, lock };
}

/**
 * Bytes to hand to IndexedDB: a view over part of a buffer is cut out (a structured clone copies the
 * whole buffer), and so is one over a SharedArrayBuffer (which IndexedDB cannot store).
 */
function ownBytes(value: Uint8Array): Uint8Array {
  return value.buffer instanceof ArrayBuffer &&
    value.byteOffset === 0 &&
    value.byteLength === value.buffer.byteLength
    ? value
    : value.slice();
}

function storedBytes(value: unknown, what: string, databaseName: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new StoreCorruptError(
    `IndexedDB database ${JSON.stringify(databaseName)} holds a ${what} that is not bytes`,
  );
}

class IndexedDbStoreImpl extends BaseStore implements IndexedDbStore {
  readonly databaseName: string;
  readonly schemaVersion = schemaVersion;
  readonly #db: IDBDatabase;
  readonly #lock: HeldLock;
  /** Calls in progress: close() lets them finish before it closes the database. */
  readonly #pending = new Set<Promise<unknown>>();

  constructor(databaseName: string, db: IDBDatabase, lock: HeldLock) {
    super();
    this.databaseName = databaseName;
    this.#db = db;
    this.#lock = lock;
    // Another page deletes or upgrades the database (only possible without our lock: the browser's
    // "clear site data", or a newer build that ignores it): let it, and fail our later calls.
    db.onversionchange = () => db.close();
  }

  /** Runs `body` as a tracked call and translates IndexedDB's errors. */
  #call<T>(operation: string, body: () => Promise<T>): Promise<T> {
    let promise: Promise<T>;
    try {
      promise = body();
    } catch (error) {
      promise = Promise.reject(error);
    }
    const tracked = promise.catch((error: unknown) => {
      throw translate(error, this.databaseName, operation);
    });
    const settled = tracked.then(
      () => undefined,
      () => undefined,
    );
    this.#pending.add(settled);
    void settled.then(() => this.#pending.delete(settled));
    return tracked;
  }

  #read(store: string): IDBObjectStore {
    return this.#db.transaction(store, "readonly").objectStore(store);
  }

  protected readRecord(space: string, key: string): Promise<Uint8Array | undefined> {
    return this.#call("get", async () => {
      const request = this.#read(records).get([utf8Key(space), utf8Key(key)]);
      const value: unknown = await requestResult(request);
      return value === undefined ? undefined : storedBytes(value, "record", this.databaseName);
    });
  }

  protected readKeys(space: string, query: NormalizedKeysQuery): Promise<readonly string[]> {
    return this.#call("keys", async () => {
      const range = keyRange(recordBounds(utf8Key(space), query));
      if (range === undefined || query.limit === 0) return [];
      const keys = await requestResult(this.#read(records).getAllKeys(range, countOf(query.limit)));
      return keys.map((key) => keyText((key as ArrayBuffer[])[1] as ArrayBuffer));
    });
  }

  /** Keys and values in one read-only transaction (one snapshot), two requests. */
  protected override readEntries(
    space: string,
    query: NormalizedKeysQuery,
  ): Promise<ReadonlyArray<readonly [string, Uint8Array]>> {
    return this.#call("entries", async () => {
      const range = keyRange(recordBounds(utf8Key(space), query));
      if (range === undefined || query.limit === 0) return [];
      const store = this.#read(records);
      const [keys, values] = await Promise.all([
        requestResult(store.getAllKeys(range, countOf(query.limit))),
        requestResult(store.getAll(range, countOf(query.limit))),
      ]);
      return keys.map(
        (key, i) =>
          [
            keyText((key as ArrayBuffer[])[1] as ArrayBuffer),
            storedBytes(values[i], "record", this.databaseName),
          ] as const,
      );
    });
  }

  #entryOf(stored: unknown, id?: string): LogEntry {
    const { s, i, v } = (stored ?? {}) as Partial<StoredEntry>;
    try {
      return {
        id: id ?? keyText(storedBytes(i, "entry id", this.databaseName)),
        sortKey: sortKeyOf(storedBytes(s, "sort key", this.databaseName)),
        value: storedBytes(v, "entry value", this.databaseName),
      };
    } catch (error) {
      if (error instanceof RangeError) {
        throw new StoreCorruptError(`${this.databaseName}: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }

  protected readEntry(log: string, id: string): Promise<LogEntry | undefined> {
    return this.#call("getEntry", async () => {
      const request = this.#read(entries).get([utf8Key(log), utf8Key(id)]);
      const stored: unknown = await requestResult(request);
      return stored === undefined ? undefined : this.#entryOf(stored, id);
    });
  }

  protected readRange(log: string, query: NormalizedRangeQuery): Promise<readonly LogEntry[]> {
    return this.#call("range", async () => {
      const range = keyRange(entryBounds(utf8Key(log), query));
      if (range === undefined || query.limit === 0) return [];
      const index = this.#read(entries).index(orderIndex);
      if (!query.reverse) {
        const stored = await requestResult(index.getAll(range, countOf(query.limit)));
        return stored.map((entry) => this.#entryOf(entry));
      }
      // getAll has no direction; getAllRecords (Chromium 141+) has: one request instead of a
      // cursor step per entry. Elsewhere, walk a cursor backward.
      const getAllRecords = (index as Partial<IndexWithRecords>).getAllRecords;
      if (typeof getAllRecords === "function") {
        const options = { query: range, direction: "prev" as const };
        const stored = await requestResult(
          getAllRecords.call(
            index,
            query.limit === undefined
              ? options
              : { ...options, count: Math.min(query.limit, maxCount) },
          ),
        );
        return stored.map((record) => this.#entryOf(record.value));
      }
      const out: LogEntry[] = [];
      const limit = query.limit ?? Number.POSITIVE_INFINITY;
      await new Promise<void>((resolve, reject) => {
        const request = index.openCursor(range, "prev");
        request.onsuccess = () => {
          const cursor = request.result;
          if (cursor === null) return resolve();
          try {
            out.push(this.#entryOf(cursor.value));
          } catch (error) {
            return reject(error);
          }
          if (out.length >= limit) resolve();
          else cursor.continue();
        };
        request.onerror = (event) => {
          event.preventDefault();
          reject(request.error);
        };
      });
      return out;
    });
  }

  /**
   * Applies checked `ops` in one read-write transaction over both object stores: IndexedDB commits
   * it whole or not at all, and runs read-write transactions of overlapping scope in the order they
   * were created — which is call order, since this runs synchronously within the public call.
   * Requests are queued without waiting for each other (IndexedDB runs them in order within the
   * transaction); a `durable` batch asks for `durability: "strict"` (the browser flushes it to the
   * disk before it reports the commit).
   */
  protected writeOps(
    operation: string,
    ops: readonly StoreOp[],
    options?: WriteOptions,
  ): Promise<number> {
    return this.#call(operation, async () => {
      const transaction = this.#db.transaction([records, entries], "readwrite", {
        durability: options?.durable === true ? "strict" : "default",
      });
      const done = transactionDone(transaction);
      let changed = 0;
      const count = (request: IDBRequest<number>) => {
        request.onsuccess = () => {
          changed += request.result;
        };
      };
      try {
        const recordStore = transaction.objectStore(records);
        const entryStore = transaction.objectStore(entries);
        for (const op of ops) {
          switch (op.type) {
            case "put":
              recordStore.put(ownBytes(op.value), [utf8Key(op.space), utf8Key(op.key)]);
              changed++;
              break;
            case "delete": {
              const key = [utf8Key(op.space), utf8Key(op.key)];
              count(recordStore.count(key));
              recordStore.delete(key);
              break;
            }
            case "append": {
              const log = utf8Key(op.log);
              for (const entry of op.entries) {
                const id = utf8Key(entry.id);
                const stored: StoredEntry = {
                  l: log,
                  s: sortKeyBytes(entry.sortKey),
                  i: id,
                  v: ownBytes(entry.value),
                };
                const request = entryStore.add(stored, [log, id]);
                request.onsuccess = () => {
                  changed++;
                };
                // An id already in the log (or earlier in this batch): skipped, the first write
                // wins. preventDefault keeps the transaction from aborting.
                request.onerror = (event) => {
                  if (request.error?.name === "ConstraintError") event.preventDefault();
                };
              }
              break;
            }
            case "deleteEntries": {
              const log = utf8Key(op.log);
              for (const id of op.ids) {
                const key = [log, utf8Key(id)];
                count(entryStore.count(key));
                entryStore.delete(key);
              }
              break;
            }
          }
        }
      } catch (error) {
        // A request refused synchronously (e.g. a value that cannot be cloned): undo the rest.
        transaction.abort();
        await done.catch(() => undefined);
        throw error;
      }
      await done;
      return changed;
    });
  }

  /**
   * Nothing to do: IndexedDB's files are the browser's (its storage engine compacts them on its own
   * schedule), out of this page's reach.
   */
  protected eraseSuperseded(): void {}

  protected async release(): Promise<void> {
    await Promise.all([...this.#pending]);
    this.#db.close();
    await this.#lock.release();
  }
}

/**
 * Opens (creating it if needed) the orgchat store `init.name` of this page's origin on IndexedDB,
 * holding its Web Lock for as long as it is open: a second open of the same name — in this page,
 * another tab or a worker of the origin — waits `init.lockTimeoutMs` (1 s) and fails with
 * `StoreLockedError` until this one is closed or its page goes away (the browser then drops the
 * lock; nothing stale is left).
 *
 * Every batch (and single write) is one IndexedDB read-write transaction: all or nothing, in call
 * order; a `durable` batch is committed with `durability: "strict"`.
 *
 * @param init - The store's name within the origin, and how long to wait for its lock.
 * @param options - An optional `signal` (checked first; it also stops the wait for the lock).
 * @returns The open store. Close it to release the lock.
 * @throws StoreLockedError (another tab, worker or open store holds it), SchemaVersionError (written
 *   by a newer orgchat), StoreCorruptError (another application's database under this name),
 *   StoreIOError (the browser's storage failed), BrowserStorageUnavailableError (no IndexedDB, or no
 *   Web Locks outside a secure context), AbortError, TypeError (bad name), RangeError (bad lockTimeoutMs)
 * @example
 * ```ts
 * import { isStoreLockedError } from "@orgchat/store";
 * import { openIndexedDbStore } from "@orgchat/store-indexeddb";
 *
 * try {
 *   const store = await openIndexedDbStore({ name: "default" });
 *   await store.put("settings", "display-name", new TextEncoder().encode("alice"));
 *   await store.close();
 * } catch (error) {
 *   if (isStoreLockedError(error)) alert("orgchat is already open in another tab");
 *   else throw error;
 * }
 * ```
 */
export async function openIndexedDbStore(
  init: IndexedDbStoreInit,
  options?: CallOptions,
): Promise<IndexedDbStore> {
  const { databaseName, indexedDb, lock } = await lockStore(init, options, "openIndexedDbStore");
  try {
    const db = await openDatabase(indexedDb, databaseName);
    return new IndexedDbStoreImpl(databaseName, db, lock);
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/**
 * Deletes the store `init.name` of this page's origin and everything in it (e.g. "forget this
 * profile"). The store must be closed everywhere: this takes its lock first.
 *
 * @param init - The store's name within the origin, and how long to wait for its lock.
 * @param options - An optional `signal` (checked first; it also stops the wait for the lock).
 * @returns once the database is gone (deleting a missing store is not an error).
 * @throws StoreLockedError (a tab, worker or store of this page has it open),
 *   BrowserStorageUnavailableError, StoreIOError, AbortError, TypeError (bad name), RangeError (bad
 *   lockTimeoutMs)
 * @example
 * ```ts
 * import { deleteIndexedDbStore } from "@orgchat/store-indexeddb";
 *
 * await deleteIndexedDbStore({ name: "default" });
 * ```
 */
export async function deleteIndexedDbStore(
  init: IndexedDbStoreInit,
  options?: CallOptions,
): Promise<void> {
  const { databaseName, indexedDb, lock } = await lockStore(init, options, "deleteIndexedDbStore");
  try {
    await deleteDatabase(indexedDb, databaseName);
  } finally {
    await lock.release();
  }
}
