/**
 * The IndexedDB side of the store: the schema, opening and deleting a database, promises over
 * requests and transactions, and the translation of IndexedDB's DOMExceptions into the store
 * contract's typed errors (a DOMException never reaches a caller: its "AbortError" would even pass
 * for a cancelled call).
 */
import {
  SchemaVersionError,
  StoreCorruptError,
  StoreIOError,
  StoreLockedError,
} from "@orgchat/store";

/**
 * Version of the database layout, IndexedDB's own database version. Version 1: object stores
 * `records` (key `[space, key]`, value the bytes), `entries` (key `[log, id]`, value
 * `{ l: log, s: sortKey, i: id, v: value }` with index `order` on `[l, s, i]`) and `meta`
 * (`format: "orgchat-store"`), every string as UTF-8 bytes and every sort key as 8 big-endian bytes.
 */
export const schemaVersion = 1;

/** Names of the object stores and the index. */
export const objectStores = { records: "records", entries: "entries", meta: "meta" } as const;
export const orderIndex = "order";
const formatKey = "format";
const formatValue = "orgchat-store";

/** A log entry as stored in the `entries` object store. */
export interface StoredEntry {
  /** The log's UTF-8 bytes. */
  readonly l: Uint8Array;
  /** The sort key as 8 big-endian bytes. */
  readonly s: Uint8Array;
  /** The id's UTF-8 bytes. */
  readonly i: Uint8Array;
  /** The value. */
  readonly v: Uint8Array;
}

/** Turns what IndexedDB threw into the store contract's errors (ours pass through unchanged). */
export function translate(error: unknown, databaseName: string, operation: string): unknown {
  if (typeof DOMException === "undefined" || !(error instanceof DOMException)) return error;
  const where = `${operation} on IndexedDB database ${JSON.stringify(databaseName)}`;
  switch (error.name) {
    case "QuotaExceededError":
      return new StoreIOError(`${where}: the origin's storage quota is used up`, { cause: error });
    case "InvalidStateError":
      return new StoreIOError(
        `${where}: the browser closed the database (site data cleared, or another page deleted it)`,
        { cause: error },
      );
    case "DataCloneError":
    case "DataError":
      return new StoreCorruptError(`${where}: ${error.message}`, { cause: error });
    default:
      // UnknownError (the browser's storage failed), AbortError (the browser aborted the
      // transaction), NotReadableError, …: nothing was applied.
      return new StoreIOError(`${where}: ${error.name}: ${error.message}`, { cause: error });
  }
}

/** Resolves with a request's result, rejects with its error. */
export function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = (event) => {
      // The caller rejects; the transaction's own fate is decided by its owner.
      event.preventDefault();
      reject(request.error);
    };
  });
}

/**
 * Resolves once `transaction` committed, rejects with why it aborted (its error, or an
 * "AbortError" DOMException when it was aborted without one).
 */
export function transactionDone(transaction: IDBTransaction): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onabort = () =>
      reject(transaction.error ?? new DOMException("The transaction was aborted.", "AbortError"));
  });
}

function createSchema(db: IDBDatabase): void {
  db.createObjectStore(objectStores.records);
  const entries = db.createObjectStore(objectStores.entries);
  entries.createIndex(orderIndex, ["l", "s", "i"]);
  db.createObjectStore(objectStores.meta).put(formatValue, formatKey);
}

/** The version of an existing database, read by opening it without asking for a version. */
async function currentVersion(indexedDb: IDBFactory, databaseName: string): Promise<number> {
  const db = await requestResult(indexedDb.open(databaseName));
  const { version } = db;
  db.close();
  return version;
}

/**
 * Opens (creating or migrating it) the store's database and checks it is an orgchat store. The
 * caller holds the store's lock.
 * @throws SchemaVersionError (written by a newer orgchat), StoreCorruptError (another
 *   application's database under this name), StoreLockedError (a page of an older version keeps
 *   it open and blocks the upgrade), StoreIOError
 */
export async function openDatabase(
  indexedDb: IDBFactory,
  databaseName: string,
): Promise<IDBDatabase> {
  const request = indexedDb.open(databaseName, schemaVersion);
  let blocked = false;
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    request.onupgradeneeded = (event) => {
      // Version 1 is the first: an upgrade always starts from an empty database. Later versions
      // add steps here, never edit this one.
      if (event.oldVersion === 0) createSchema(request.result);
    };
    request.onblocked = () => {
      blocked = true;
      reject(new StoreLockedError(databaseName));
    };
    request.onsuccess = () => {
      if (blocked) request.result.close();
      else resolve(request.result);
    };
    request.onerror = (event) => {
      event.preventDefault();
      reject(request.error);
    };
  }).catch(async (error: unknown) => {
    if (error instanceof DOMException && error.name === "VersionError") {
      throw new SchemaVersionError(await currentVersion(indexedDb, databaseName), schemaVersion);
    }
    throw translate(error, databaseName, "open");
  });
  try {
    await checkFormat(db, databaseName);
  } catch (error) {
    db.close();
    throw translate(error, databaseName, "open");
  }
  return db;
}

async function checkFormat(db: IDBDatabase, databaseName: string): Promise<void> {
  const names = [...db.objectStoreNames];
  const expected = Object.values(objectStores);
  if (!expected.every((name) => names.includes(name))) {
    throw new StoreCorruptError(
      `IndexedDB database ${JSON.stringify(databaseName)} is not an orgchat store (object stores: ${names.join(", ") || "none"})`,
    );
  }
  const transaction = db.transaction([objectStores.meta, objectStores.entries], "readonly");
  const format = await requestResult(transaction.objectStore(objectStores.meta).get(formatKey));
  if (format !== formatValue) {
    throw new StoreCorruptError(
      `IndexedDB database ${JSON.stringify(databaseName)} is not an orgchat store (no format mark)`,
    );
  }
  const order = transaction.objectStore(objectStores.entries);
  if (!order.indexNames.contains(orderIndex)) {
    throw new StoreCorruptError(
      `IndexedDB database ${JSON.stringify(databaseName)} lacks its entry index`,
    );
  }
}

/**
 * Deletes a database (the caller holds its lock).
 * @throws StoreLockedError when a connection that is not an orgchat store's keeps it open
 */
export async function deleteDatabase(indexedDb: IDBFactory, databaseName: string): Promise<void> {
  const request = indexedDb.deleteDatabase(databaseName);
  await new Promise<void>((resolve, reject) => {
    request.onsuccess = () => resolve();
    request.onblocked = () => reject(new StoreLockedError(databaseName));
    request.onerror = (event) => {
      event.preventDefault();
      reject(translate(request.error, databaseName, "delete"));
    };
  });
}
