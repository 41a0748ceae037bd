/**
 * What every store does the same way around its own storage: refuse calls after `close()` and calls
 * whose signal is already aborted, check every argument before touching anything, and express the
 * single-op writes as one-op batches. An implementation only reads and writes (see {@link BaseStore}).
 */
import {
  assertKey,
  assertName,
  assertStoreOps,
  type NormalizedKeysQuery,
  type NormalizedRangeQuery,
  normalizeKeysQuery,
  normalizeRangeQuery,
  throwIfAborted,
} from "./checks.js";
import { RecordNotFoundError, StoreClosedError } from "./errors.js";
import type {
  BatchOptions,
  CallOptions,
  KeysQuery,
  LogEntry,
  RangeQuery,
  Store,
  StoreOp,
} from "./types.js";

/**
 * Base class of a {@link Store}: the call semantics of the contract (closed and aborted calls, input
 * checks, `getOrThrow`, single-op writes as batches), so that every store refuses the same inputs in
 * the same order. A subclass implements the seven `protected` methods over its storage; they receive
 * checked, normalized arguments and may be synchronous or return a promise.
 *
 * @example
 * ```ts
 * import { BaseStore } from "@orgchat/store/implement";
 *
 * class MyStore extends BaseStore {
 *   protected readRecord(space: string, key: string) { ... }
 *   protected readKeys(space: string, query: NormalizedKeysQuery) { ... }
 *   protected readEntry(log: string, id: string) { ... }
 *   protected readRange(log: string, query: NormalizedRangeQuery) { ... }
 *   protected writeOps(operation: string, ops: readonly StoreOp[], options?: WriteOptions) { ... } // all or nothing
 *   protected eraseSuperseded() { ... } // nothing to do without files
 *   protected release() { ... }
 * }
 * ```
 */
/** What {@link BaseStore.writeOps} is told about a write besides its ops. */
export interface WriteOptions {
  /** The commit must survive a power cut, with every commit before it (`BatchOptions.durable`). */
  readonly durable: boolean;
}

/** The write options of a durable batch (one object, not one per batch). */
const durableWrite: WriteOptions = Object.freeze({ durable: true });
/** What a batch written synchronously returns: one settled promise, shared. */
const settled: Promise<void> = Promise.resolve();

export abstract class BaseStore implements Store {
  #closed = false;

  /**
   * The value under `(space, key)`, or `undefined`. The store keeps its own copy: return one the
   * caller may change.
   */
  protected abstract readRecord(
    space: string,
    key: string,
  ): Uint8Array | undefined | Promise<Uint8Array | undefined>;

  /** The keys of `space` that `query` selects, in code-point order. */
  protected abstract readKeys(
    space: string,
    query: NormalizedKeysQuery,
  ): readonly string[] | Promise<readonly string[]>;

  /**
   * The records of `space` that `query` selects, in code-point order of their keys, each value a
   * copy the caller may change. By default `readKeys` then `readRecord` on each; a store that can
   * read them in one pass overrides it.
   */
  protected async readEntries(
    space: string,
    query: NormalizedKeysQuery,
  ): Promise<ReadonlyArray<readonly [string, Uint8Array]>> {
    const out: Array<readonly [string, Uint8Array]> = [];
    for (const key of await this.readKeys(space, query)) {
      const value = await this.readRecord(space, key);
      if (value !== undefined) out.push([key, value]);
    }
    return out;
  }

  /** The entry `id` of `log`, or `undefined` (a copy the caller may change). */
  protected abstract readEntry(
    log: string,
    id: string,
  ): LogEntry | undefined | Promise<LogEntry | undefined>;

  /** The entries of `log` that `query` selects, in `(sortKey, id)` order (reversed on `reverse`). */
  protected abstract readRange(
    log: string,
    query: NormalizedRangeQuery,
  ): readonly LogEntry[] | Promise<readonly LogEntry[]>;

  /**
   * Applies checked `ops` in order, atomically (all or nothing) and durably once it returns.
   *
   * @param operation - the public call (`"put"`, `"batch"`, …), for error messages
   * @param options - `durable`: this commit (and those before it) must survive a power cut
   *   (`BatchOptions.durable`); a store whose every commit does, or one without files, ignores it
   * @returns how many records or entries changed: a `delete` that found a value, appended entries
   *   that were new, deleted entries that existed (what the single-op calls report)
   */
  protected abstract writeOps(
    operation: string,
    ops: readonly StoreOp[],
    options?: WriteOptions,
  ): number | Promise<number>;

  /**
   * Erases from the storage's files what committed writes superseded (`batch` with
   * `checkpoint: true`, after the commit): e.g. checkpoint a write-ahead log and truncate it. A
   * store without files does nothing. Must not throw for a failure it can retry later (the batch is
   * committed already): retry after the next write and on release.
   */
  protected abstract eraseSuperseded(): void | Promise<void>;

  /** Releases the storage; called once, by the first `close()`. */
  protected abstract release(): void | Promise<void>;

  /**
   * Refuses a call after `close()` or with an aborted signal.
   * @throws StoreClosedError, AbortError
   */
  protected enter(operation: string, options: CallOptions | undefined): void {
    if (this.#closed) throw new StoreClosedError(operation);
    throwIfAborted(options?.signal, operation);
  }

  async get(space: string, key: string, options?: CallOptions): Promise<Uint8Array | undefined> {
    this.enter("get", options);
    assertName("space", space);
    assertKey("key", key);
    return this.readRecord(space, key);
  }

  async getOrThrow(space: string, key: string, options?: CallOptions): Promise<Uint8Array> {
    const value = await this.get(space, key, options);
    if (value === undefined) throw new RecordNotFoundError(space, key);
    return value;
  }

  async put(space: string, key: string, value: Uint8Array, options?: CallOptions): Promise<void> {
    this.enter("put", options);
    await this.#write("put", [{ type: "put", space, key, value }]);
  }

  async delete(space: string, key: string, options?: CallOptions): Promise<boolean> {
    this.enter("delete", options);
    return (await this.#write("delete", [{ type: "delete", space, key }])) > 0;
  }

  async keys(space: string, query?: KeysQuery, options?: CallOptions): Promise<readonly string[]> {
    this.enter("keys", options);
    assertName("space", space);
    return this.readKeys(space, normalizeKeysQuery(query));
  }

  async entries(
    space: string,
    query?: KeysQuery,
    options?: CallOptions,
  ): Promise<ReadonlyArray<readonly [string, Uint8Array]>> {
    this.enter("entries", options);
    assertName("space", space);
    return this.readEntries(space, normalizeKeysQuery(query));
  }

  async append(log: string, entries: readonly LogEntry[], options?: CallOptions): Promise<number> {
    this.enter("append", options);
    return this.#write("append", [{ type: "append", log, entries }]);
  }

  async getEntry(log: string, id: string, options?: CallOptions): Promise<LogEntry | undefined> {
    this.enter("getEntry", options);
    assertName("log", log);
    assertKey("id", id);
    return this.readEntry(log, id);
  }

  async range(
    log: string,
    query?: RangeQuery,
    options?: CallOptions,
  ): Promise<readonly LogEntry[]> {
    this.enter("range", options);
    assertName("log", log);
    return this.readRange(log, normalizeRangeQuery(query));
  }

  async deleteEntries(log: string, ids: readonly string[], options?: CallOptions): Promise<number> {
    this.enter("deleteEntries", options);
    return this.#write("deleteEntries", [{ type: "deleteEntries", log, ids }]);
  }

  batch(ops: readonly StoreOp[], options?: BatchOptions): Promise<void> {
    let written: number | Promise<number>;
    let checkpoint: boolean | undefined;
    try {
      this.enter("batch", options);
      checkpoint = options?.checkpoint;
      if (checkpoint !== undefined && typeof checkpoint !== "boolean") {
        throw new TypeError(`options.checkpoint must be a boolean, got ${typeof checkpoint}`);
      }
      const durable = options?.durable;
      if (durable !== undefined && typeof durable !== "boolean") {
        throw new TypeError(`options.durable must be a boolean, got ${typeof durable}`);
      }
      written = this.#write("batch", ops, durable === true ? durableWrite : undefined);
    } catch (error) {
      // Refused as a rejected promise, as an async method would (callers may `.catch` it).
      return Promise.reject(error);
    }
    // A store that writes synchronously (the memory store, a commit without a checkpoint): settled
    // already, no async frame around it.
    if (checkpoint !== true && typeof written === "number") return settled;
    return this.#finishBatch(written, checkpoint === true);
  }

  async #finishBatch(written: number | Promise<number>, checkpoint: boolean): Promise<void> {
    await written;
    if (checkpoint) await this.eraseSuperseded();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.release();
  }

  /** Checks every op before any is applied, so that one invalid op rejects the whole batch. */
  #write(
    operation: string,
    ops: readonly StoreOp[],
    options?: WriteOptions,
  ): number | Promise<number> {
    assertStoreOps(ops);
    return options === undefined
      ? this.writeOps(operation, ops)
      : this.writeOps(operation, ops, options);
  }
}
