/**
 * The persistence contract of the orgchat client (issue #7, "Persistence"). The client keeps two kinds
 * of data and needs one guarantee:
 *
 * - **records**: small values by `(space, key)` — identity keys, org private keys (encrypted by the
 *   client before they get here), ratchet and group state (tens of KiB, a few MiB for a large owner),
 *   Lamport clocks, generation counters, settings;
 * - **logs**: append-only sequences of entries by `(log, id)`, read in `(sortKey, id)` order — org
 *   events, received messages per channel, the outbox, the pending-decrypt buffer;
 * - **atomic batches**: record puts/deletes and log appends/deletes committed all together or not at
 *   all, so that ratchet state, generation counters, clocks and membership are committed with the
 *   decision to send or accept (a sender persists, then sends; a receiver acknowledges what is
 *   committed).
 *
 * Names, keys and entry ids are strings compared by Unicode code point (the same as UTF-8 byte
 * order), so every implementation sorts them identically. Values are opaque bytes.
 */

import { maxLamportClock } from "@orgchat/base";

/** Options every asynchronous call accepts. */
export interface CallOptions {
  /**
   * Cancels the call. A signal that is already aborted when the call starts makes it reject with
   * `AbortError` and apply nothing. Once a write has started committing it completes: aborting then
   * has no effect (a commit is never half undone).
   */
  readonly signal?: AbortSignal | undefined;
}

/** Options of {@link Store.batch}. */
export interface BatchOptions extends CallOptions {
  /**
   * Once the batch is committed, erase what it superseded from the store's files: set it on the
   * commit that replaces key material (a re-key: the previous epoch's group state), so that the old
   * keys do not linger on disk after a crash. A SQLite store checkpoints its write-ahead log into
   * the database file and truncates it to zero bytes (`PRAGMA wal_checkpoint(TRUNCATE)`); its
   * `secure_delete` already zeroes deleted cells and freed pages. A store without files does
   * nothing. It costs a copy of the log and a few fsyncs, so leave it off for ordinary writes.
   *
   * The batch's guarantees are unchanged: should the checkpoint itself fail after the commit (an
   * I/O error), the call still resolves (the batch is committed) and the store checkpoints again
   * after its next write and when it closes. What the store cannot reach: copies the file system
   * or the disk keep of released blocks.
   * @default false
   */
  readonly checkpoint?: boolean | undefined;
  /**
   * Once the call resolves, the batch — and every batch committed before it — survives a power cut
   * or a kernel panic, not only a crash of the process. A store that already makes every commit
   * that durable (or one without files) needs do nothing. A SQLite store opened with
   * `synchronous: "normal"` (its default) syncs its write-ahead log to the disk for this commit
   * (`synchronous = FULL` for it); its ordinary commits survive a crash of the process, and a power
   * cut may lose the last of them (never half of one).
   *
   * Set it on the commit that must not be lost with the machine: the client sets it when a group
   * reserves a new stretch of its own sender chain's generations (a generation below a durable
   * reservation is never used twice, whatever is lost after it). It costs an fsync (a few ms on a
   * disk), so leave it off for ordinary writes.
   * @default false
   */
  readonly durable?: boolean | undefined;
}

/**
 * Position of an entry in its log: a non-negative integer below 2^63 (`0n` to
 * `storeLimits.maxSortKey`), typically a Lamport clock or a timestamp in milliseconds. Entries are
 * ordered by `sortKey`, ties broken by `id`. A bigint so that clocks never lose precision.
 */
export type SortKey = bigint;

/** One entry of an append-only log. */
export interface LogEntry {
  /**
   * Stable identifier, unique within its log (a message id, an event id). Appending an id that is
   * already in the log changes nothing: the first write wins.
   */
  readonly id: string;
  /** Where the entry sorts (see {@link SortKey}). */
  readonly sortKey: SortKey;
  /** The entry's bytes (may be empty). */
  readonly value: Uint8Array;
}

/**
 * A point in a log's `(sortKey, id)` order, used as an exclusive bound of a range. Without `id` it
 * stands for the sort key as a whole (every entry with that sort key is on the same side). A
 * {@link LogEntry} is a valid position: pass the last entry of a page to get the next one.
 */
export interface LogPosition {
  readonly sortKey: SortKey;
  readonly id?: string | undefined;
}

/**
 * Which entries of a log to read. Bounds are **exclusive**:
 * - `after: 5n` returns entries with `sortKey > 5n`; `after: { sortKey: 5n, id: "b" }` returns
 *   entries after `(5n, "b")` in `(sortKey, id)` order, so `(5n, "c")` but not `(5n, "b")`;
 * - `before` is the mirror image.
 *
 * To page forward pass the last entry returned as `after`; to page backward (`reverse: true`) pass it
 * as `before`.
 */
export interface RangeQuery {
  /** Exclusive lower bound. @default the start of the log */
  readonly after?: SortKey | LogPosition | undefined;
  /** Exclusive upper bound. @default the end of the log */
  readonly before?: SortKey | LogPosition | undefined;
  /** Largest number of entries to return, a non-negative safe integer. @default no limit */
  readonly limit?: number | undefined;
  /**
   * Newest first (descending `(sortKey, id)`); `limit` then keeps the newest entries.
   * @default false
   */
  readonly reverse?: boolean | undefined;
}

/** Which keys of a space to list, in code point order. */
export interface KeysQuery {
  /** Only keys that start with this string. @default every key */
  readonly prefix?: string | undefined;
  /** Only keys strictly after this one (to page). @default the first key */
  readonly after?: string | undefined;
  /** Largest number of keys to return, a non-negative safe integer. @default no limit */
  readonly limit?: number | undefined;
}

/** Puts `value` under `(space, key)`, replacing what was there. */
export interface PutOp {
  readonly type: "put";
  readonly space: string;
  readonly key: string;
  readonly value: Uint8Array;
}

/** Deletes `(space, key)`; deleting a missing key is not an error. */
export interface DeleteOp {
  readonly type: "delete";
  readonly space: string;
  readonly key: string;
}

/** Appends entries to `log`; entries whose id is already there are skipped (idempotent). */
export interface AppendOp {
  readonly type: "append";
  readonly log: string;
  readonly entries: readonly LogEntry[];
  /**
   * The caller hands the entries over: neither the entry objects nor their value buffers are changed
   * (or written into) by anyone once the call is made, so a store may keep them as given instead of
   * a copy (the memory store does: one allocation and copy less per entry; a store that writes
   * values elsewhere ignores it). Without it (the default) values are copied in, as everywhere.
   * Reads still return copies. Use it only for buffers made for this call (an encoding's output).
   */
  readonly handOver?: boolean | undefined;
}

/** Deletes the entries with these ids from `log`; missing ids are skipped. */
export interface DeleteEntriesOp {
  readonly type: "deleteEntries";
  readonly log: string;
  readonly ids: readonly string[];
}

/** One operation of an atomic {@link Store.batch}. */
export type StoreOp = PutOp | DeleteOp | AppendOp | DeleteEntriesOp;

/**
 * Size limits every store enforces identically (the compliance suite checks them). Names and keys
 * are measured in UTF-8 bytes.
 */
export const storeLimits = {
  /** Longest space or log name. */
  maxNameBytes: 256,
  /** Longest record key or log entry id. */
  maxKeyBytes: 1024,
  /**
   * Largest value. The biggest thing the client stores is a large owner's group state (a few MiB for
   * 10,000 members); 64 MiB leaves room without letting one value exhaust memory.
   */
  maxValueBytes: 64 * 1024 * 1024,
  /**
   * Largest sort key: SQLite's INTEGER is a signed 64-bit integer. It is also the protocol's
   * largest Lamport clock (`clockLimits.maxClock` of `@orgchat/state`, docs/PROTOCOL.md "Clocks"):
   * the client files events by clock, so the state refuses any clock a store could not file.
   * Both are `maxLamportClock` of `@orgchat/base`.
   */
  maxSortKey: maxLamportClock,
} as const;

/**
 * A store: records by `(space, key)` and append-only logs, with atomic batches.
 *
 * Guarantees every implementation gives (checked by `@orgchat/store/compliance`):
 * - a call that resolved is committed: a read issued after it sees it, and a durable store keeps it
 *   across `close()` and a crash of the process;
 * - reads see committed data only, and a batch is seen entirely or not at all;
 * - batches (and single writes) apply one after another in call order;
 * - a call that rejects applied nothing;
 * - values are copied in and out: mutating a buffer after `put` or after `get` changes nothing stored.
 *
 * Every call rejects with `StoreClosedError` after `close()`, with `AbortError` when its signal is
 * already aborted, with `InvalidKeyError` for an empty, too long or malformed name, key or id, with
 * `ValueTooLargeError` beyond `storeLimits.maxValueBytes`, and with `TypeError` / `RangeError` for
 * arguments of the wrong type or range. Durable stores may also reject with `StoreIOError`.
 */
export interface Store {
  /**
   * Reads a record.
   * @param space - Namespace of the key (e.g. `"identity"`, `"ratchet"`).
   * @param key - Key within the space.
   * @returns A copy of the value, or `undefined` when there is none.
   */
  get(space: string, key: string, options?: CallOptions): Promise<Uint8Array | undefined>;
  /**
   * Reads a record that must exist.
   * @returns A copy of the value.
   * @throws RecordNotFoundError when there is no value under `(space, key)`.
   */
  getOrThrow(space: string, key: string, options?: CallOptions): Promise<Uint8Array>;
  /** Writes a record, replacing any previous value (same as a one-op batch). */
  put(space: string, key: string, value: Uint8Array, options?: CallOptions): Promise<void>;
  /**
   * Deletes a record.
   * @returns `true` when there was a value, `false` when there was none.
   */
  delete(space: string, key: string, options?: CallOptions): Promise<boolean>;
  /**
   * Lists the keys of a space in code point order.
   * @returns The matching keys (possibly none).
   */
  keys(space: string, query?: KeysQuery, options?: CallOptions): Promise<readonly string[]>;
  /**
   * Reads the records of a space `query` selects, in code point order of their keys: what `keys`
   * then `get` on each key return, in one call (a start reads every record under a prefix).
   * Optional: {@link readEntries} falls back to `keys` and `get` for a store without it.
   * @returns The matching `[key, value]` pairs (possibly none), each value a copy.
   */
  entries?(
    space: string,
    query?: KeysQuery,
    options?: CallOptions,
  ): Promise<ReadonlyArray<readonly [string, Uint8Array]>>;
  /**
   * Appends entries to a log, atomically. Idempotent by id: an entry whose id is already in the log
   * (or earlier in `entries`) is skipped and the stored entry is kept as it was.
   * @returns How many entries were new.
   */
  append(log: string, entries: readonly LogEntry[], options?: CallOptions): Promise<number>;
  /**
   * Reads one entry by id.
   * @returns A copy of the entry, or `undefined` when the log has no entry with that id.
   */
  getEntry(log: string, id: string, options?: CallOptions): Promise<LogEntry | undefined>;
  /**
   * Reads entries in `(sortKey, id)` order (descending with `reverse`). An unknown log is empty.
   * @returns Copies of the matching entries.
   */
  range(log: string, query?: RangeQuery, options?: CallOptions): Promise<readonly LogEntry[]>;
  /**
   * Deletes entries by id, atomically (e.g. an outbox entry once sent).
   * @returns How many entries existed and were deleted.
   */
  deleteEntries(log: string, ids: readonly string[], options?: CallOptions): Promise<number>;
  /**
   * Applies `ops` in order as one atomic unit: after it resolves all of them are committed; when it
   * rejects none is. Later ops see earlier ones (a put then a delete of the same key leaves nothing).
   * Every op is validated before anything is applied. With `options.checkpoint`, what the batch
   * superseded is then erased from the store's files (see {@link BatchOptions.checkpoint}).
   *
   * @throws TypeError when `options.checkpoint` is neither a boolean nor undefined (nothing applied)
   */
  batch(ops: readonly StoreOp[], options?: BatchOptions): Promise<void>;
  /**
   * Releases the store (and, for a durable store, its files and lock). Operations already started
   * complete first. Idempotent; every other call afterwards rejects with `StoreClosedError`.
   */
  close(): Promise<void>;
}

/**
 * The records of `space` that `query` selects, in code point order of their keys: `store.entries`
 * when the store has it, else `keys` then `get` on each (a key deleted between the two is skipped).
 *
 * @param store - any store
 * @param space - the space to read
 * @param query - which keys (prefix, after, limit), as for `keys`
 * @param options - an abort signal
 * @returns the `[key, value]` pairs
 * @throws whatever `keys`, `get` or `entries` throw (closed store, aborted call, invalid names)
 * @example
 * ```ts
 * for (const [key, value] of await readEntries(store, "org/ab", { prefix: "rr/" })) load(key, value);
 * ```
 */
export async function readEntries(
  store: Store,
  space: string,
  query?: KeysQuery,
  options?: CallOptions,
): Promise<ReadonlyArray<readonly [string, Uint8Array]>> {
  if (typeof store.entries === "function") return store.entries(space, query, options);
  const out: Array<readonly [string, Uint8Array]> = [];
  for (const key of await store.keys(space, query, options)) {
    const value = await store.get(space, key, options);
    if (value !== undefined) out.push([key, value]);
  }
  return out;
}
