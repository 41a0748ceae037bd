/**
 * The in-memory reference store: the contract with nothing in the way, for tests, ephemeral clients
 * and as the floor of the store benchmarks. Nothing survives the process.
 */
import { BaseStore } from "./base-store.js";
import {
  compareCodePoints,
  compareLogPositions,
  type NormalizedKeysQuery,
  type NormalizedPosition,
  type NormalizedRangeQuery,
} from "./checks.js";
import type { LogEntry, Store, StoreOp } from "./types.js";

interface MemoryLog {
  readonly byId: Map<string, LogEntry>;
  /** Entries in `(sortKey, id)` order. */
  readonly ordered: LogEntry[];
}

/** First index in `entries` whose entry satisfies `isPast` (which must be false…false true…true). */
function firstIndex(entries: readonly LogEntry[], isPast: (entry: LogEntry) => boolean): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (isPast(entries[middle] as LogEntry)) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** True when `entry` is after the exclusive bound `position`. */
function isAfter(entry: LogEntry, position: NormalizedPosition): boolean {
  if (position.id === undefined) return entry.sortKey > position.sortKey;
  return compareLogPositions(entry, { sortKey: position.sortKey, id: position.id }) > 0;
}

/** True when `entry` is at or past the exclusive upper bound `position`. */
function isAtOrPastEnd(entry: LogEntry, position: NormalizedPosition): boolean {
  if (position.id === undefined) return entry.sortKey >= position.sortKey;
  return compareLogPositions(entry, { sortKey: position.sortKey, id: position.id }) >= 0;
}

/**
 * The one empty value the store keeps for every empty one (seen marks are empty): it has no element
 * to change, so sharing it copies nothing a caller could alter. Reads still return copies.
 */
const emptyValue = new Uint8Array(0);

function copyValue(value: Uint8Array): Uint8Array {
  return value.length === 0 ? emptyValue : value.slice();
}

function copyEntry(entry: LogEntry): LogEntry {
  return { id: entry.id, sortKey: entry.sortKey, value: entry.value.slice() };
}

/** An entry the store keeps: its own copy of the value (the shared empty one when empty). */
function keptEntry(entry: LogEntry): LogEntry {
  return { id: entry.id, sortKey: entry.sortKey, value: copyValue(entry.value) };
}

/** An entry handed over (`AppendOp.handOver`): its value kept as given. */
function handedEntry(entry: LogEntry): LogEntry {
  return { id: entry.id, sortKey: entry.sortKey, value: entry.value };
}

/**
 * Staged changes by name (a space's keys, a log's ids, or the spaces and logs of a batch), in first
 * insertion order: a list searched in place while it is short (a commit's usual shape: a handful of
 * logs with one entry each; no hash table per log and batch), indexed by a map past
 * {@link Changes.listLimit} names (a batch of thousands of deletes stays linear).
 */
class Changes<V> {
  /** Names searched in place up to this many; beyond, a map indexes them. */
  static readonly listLimit = 8;
  /**
   * Name and value pairs, one after the other (one array per log or space a batch touches, not
   * two: most hold one pair).
   */
  readonly #items: Array<string | V> = [];
  #index: Map<string, number> | undefined;

  /** How many names are staged. */
  get size(): number {
    return this.#items.length >> 1;
  }

  /** The `i`th name staged (0 ≤ i < size), in first insertion order. */
  nameAt(i: number): string {
    return this.#items[2 * i] as string;
  }

  /** The value of the `i`th name. */
  valueAt(i: number): V {
    return this.#items[2 * i + 1] as V;
  }

  #at(name: string): number {
    if (this.#index !== undefined) return this.#index.get(name) ?? -1;
    const items = this.#items;
    for (let i = 0; i < items.length; i += 2) if (items[i] === name) return i >> 1;
    return -1;
  }

  get(name: string): V | undefined {
    const at = this.#at(name);
    return at < 0 ? undefined : (this.#items[2 * at + 1] as V);
  }

  set(name: string, value: V): void {
    const at = this.#at(name);
    if (at >= 0) {
      this.#items[2 * at + 1] = value;
      return;
    }
    this.#items.push(name, value);
    const count = this.size;
    if (this.#index !== undefined) this.#index.set(name, count - 1);
    else if (count > Changes.listLimit) {
      this.#index = new Map();
      for (let i = 0; i < count; i++) this.#index.set(this.nameAt(i), i);
    }
  }
}

/**
 * Changes staged by one batch over the committed data (copy-on-write): the committed maps are only
 * touched by `commit()`, which cannot fail, so a batch that throws while staging leaves nothing.
 */
class StagedBatch {
  /** space → key → new value, or `null` for deleted (made by the first put or delete). */
  records: Changes<Changes<Uint8Array | null>> | undefined;
  /** log → id → new entry, or `null` for deleted (made by the first append or delete). */
  logs: Changes<Changes<LogEntry | null>> | undefined;

  readonly #committedRecords: ReadonlyMap<string, ReadonlyMap<string, Uint8Array>>;
  readonly #committedLogs: ReadonlyMap<string, MemoryLog>;

  constructor(
    committedRecords: ReadonlyMap<string, ReadonlyMap<string, Uint8Array>>,
    committedLogs: ReadonlyMap<string, MemoryLog>,
  ) {
    this.#committedRecords = committedRecords;
    this.#committedLogs = committedLogs;
  }

  /**
   * Stages one op.
   * @returns what it changed, for the single-op calls that report it: `delete`, whether there was
   *   a value; `append` / `deleteEntries`, how many entries changed
   */
  apply(op: StoreOp): number {
    switch (op.type) {
      case "put":
        this.#recordChanges(op.space).set(op.key, copyValue(op.value));
        return 1;
      case "delete": {
        const existed = this.#hasRecord(op.space, op.key);
        this.#recordChanges(op.space).set(op.key, null);
        return existed ? 1 : 0;
      }
      case "append": {
        let added = 0;
        const changes = this.#logChanges(op.log);
        const committed = this.#committedLogs.get(op.log)?.byId;
        const keep = op.handOver === true ? handedEntry : keptEntry;
        for (const entry of op.entries) {
          const staged = changes.get(entry.id);
          if (staged === undefined ? committed?.has(entry.id) === true : staged !== null) continue;
          changes.set(entry.id, keep(entry));
          added++;
        }
        return added;
      }
      case "deleteEntries": {
        let deleted = 0;
        for (const id of op.ids) {
          if (!this.#hasEntry(op.log, id)) continue;
          this.#logChanges(op.log).set(id, null);
          deleted++;
        }
        return deleted;
      }
    }
  }

  #recordChanges(space: string): Changes<Uint8Array | null> {
    if (this.records === undefined) this.records = new Changes();
    let changes = this.records.get(space);
    if (!changes) {
      changes = new Changes();
      this.records.set(space, changes);
    }
    return changes;
  }

  #logChanges(log: string): Changes<LogEntry | null> {
    if (this.logs === undefined) this.logs = new Changes();
    let changes = this.logs.get(log);
    if (!changes) {
      changes = new Changes();
      this.logs.set(log, changes);
    }
    return changes;
  }

  #hasRecord(space: string, key: string): boolean {
    const staged = this.records?.get(space)?.get(key);
    if (staged !== undefined) return staged !== null;
    return this.#committedRecords.get(space)?.has(key) ?? false;
  }

  #hasEntry(log: string, id: string): boolean {
    const staged = this.logs?.get(log)?.get(id);
    if (staged !== undefined) return staged !== null;
    return this.#committedLogs.get(log)?.byId.has(id) ?? false;
  }
}

class MemoryStore extends BaseStore {
  readonly #records = new Map<string, Map<string, Uint8Array>>();
  /**
   * The keys of each space by first segment (up to and including the first `/`; keys without one
   * are not indexed): a listing whose prefix has a `/` reads one segment, not the whole space (a
   * 10,000-member owner's space holds ~50,000 keys; its start lists ~8 prefixes).
   */
  readonly #segments = new Map<string, Map<string, Set<string>>>();
  readonly #logs = new Map<string, MemoryLog>();

  /** A point-in-time copy: every record and log entry copied (see {@link copyMemoryStore}). */
  copy(): MemoryStore {
    const copy = new MemoryStore();
    for (const [space, records] of this.#records) {
      copy.#records.set(space, new Map([...records].map(([key, value]) => [key, value.slice()])));
    }
    for (const [space, segments] of this.#segments) {
      copy.#segments.set(
        space,
        new Map([...segments].map(([name, keys]) => [name, new Set(keys)])),
      );
    }
    for (const [name, log] of this.#logs) {
      const ordered = log.ordered.map((entry) => ({ ...entry, value: entry.value.slice() }));
      copy.#logs.set(name, { ordered, byId: new Map(ordered.map((entry) => [entry.id, entry])) });
    }
    return copy;
  }

  protected readRecord(space: string, key: string): Uint8Array | undefined {
    return this.#records.get(space)?.get(key)?.slice();
  }

  protected readKeys(space: string, { prefix, after, limit }: NormalizedKeysQuery): string[] {
    const keys: string[] = [];
    let wide = false;
    const slash = prefix.indexOf("/");
    const candidates =
      slash < 0
        ? this.#records.get(space)?.keys()
        : this.#segments.get(space)?.get(prefix.slice(0, slash + 1));
    for (const key of candidates ?? []) {
      if (!key.startsWith(prefix) || (after !== undefined && compareCodePoints(key, after) <= 0)) {
        continue;
      }
      keys.push(key);
      if (!wide && aboveSurrogates.test(key)) wide = true;
    }
    if (limit === 1 && keys.length > 1) return [firstKey(keys)];
    // Without a code unit from U+D800 up, UTF-16 order is code-point order: the native sort, unless
    // the keys came in order (a space filled in key order).
    if (wide) keys.sort(compareCodePoints);
    else if (!ascending(keys)) keys.sort();
    return limit === undefined ? keys : keys.slice(0, limit);
  }

  protected override async readEntries(
    space: string,
    query: NormalizedKeysQuery,
  ): Promise<ReadonlyArray<readonly [string, Uint8Array]>> {
    const records = this.#records.get(space);
    if (records === undefined) return [];
    const keys = this.readKeys(space, query);
    const values: Uint8Array[] = [];
    let total = 0;
    for (const key of keys) {
      const value = records.get(key) as Uint8Array;
      values.push(value);
      total += value.length;
    }
    // The copies share one new buffer (one allocation instead of one per value: a 10,000-member
    // owner's start lists its 10,000 member records, ~17 -> ~2 ms); each is its own view.
    const copies = new Uint8Array(total);
    let at = 0;
    return keys.map((key, i) => {
      const value = values[i] as Uint8Array;
      copies.set(value, at);
      const copy = copies.subarray(at, at + value.length);
      at += value.length;
      return [key, copy] as const;
    });
  }

  protected readEntry(log: string, id: string): LogEntry | undefined {
    const entry = this.#logs.get(log)?.byId.get(id);
    return entry && copyEntry(entry);
  }

  protected readRange(
    log: string,
    { after, before, limit, reverse }: NormalizedRangeQuery,
  ): LogEntry[] {
    const ordered = this.#logs.get(log)?.ordered ?? [];
    const start = after ? firstIndex(ordered, (entry) => isAfter(entry, after)) : 0;
    const end = before
      ? firstIndex(ordered, (entry) => isAtOrPastEnd(entry, before))
      : ordered.length;
    if (start >= end) return [];
    const count = Math.min(end - start, limit ?? Number.POSITIVE_INFINITY);
    const slice = reverse
      ? ordered.slice(end - count, end).reverse()
      : ordered.slice(start, start + count);
    return slice.map(copyEntry);
  }

  /** Nothing to erase: a value a batch superseded is gone from memory once the batch commits. */
  protected eraseSuperseded(): void {}

  protected release(): void {
    this.#records.clear();
    this.#segments.clear();
    this.#logs.clear();
  }

  /** Stages every (checked) op, then commits: all or nothing. */
  protected writeOps(_operation: string, ops: readonly StoreOp[]): number {
    const staged = new StagedBatch(this.#records, this.#logs);
    let changed = 0;
    for (const op of ops) changed += staged.apply(op);
    this.#commit(staged);
    return changed;
  }

  #commit(staged: StagedBatch): void {
    if (staged.records !== undefined) this.#commitRecords(staged.records);
    if (staged.logs !== undefined) this.#commitLogs(staged.logs);
  }

  #commitRecords(spaces: Changes<Changes<Uint8Array | null>>): void {
    for (let s = 0; s < spaces.size; s++) {
      const space = spaces.nameAt(s);
      const changes = spaces.valueAt(s);
      let records = this.#records.get(space);
      if (!records) {
        records = new Map();
        this.#records.set(space, records);
      }
      let segments = this.#segments.get(space);
      if (!segments) {
        segments = new Map();
        this.#segments.set(space, segments);
      }
      for (let i = 0; i < changes.size; i++) {
        const key = changes.nameAt(i);
        const value = changes.valueAt(i);
        if (value === null) {
          if (records.delete(key)) unindex(segments, key);
        } else {
          if (!records.has(key)) index(segments, key);
          records.set(key, value);
        }
      }
      if (records.size === 0) {
        this.#records.delete(space);
        this.#segments.delete(space);
      }
    }
  }

  #commitLogs(logs: Changes<Changes<LogEntry | null>>): void {
    for (let l = 0; l < logs.size; l++) {
      const name = logs.nameAt(l);
      const changes = logs.valueAt(l);
      let log = this.#logs.get(name);
      if (!log) {
        log = { byId: new Map(), ordered: [] };
        this.#logs.set(name, log);
      }
      for (let i = 0; i < changes.size; i++) {
        const id = changes.nameAt(i);
        const entry = changes.valueAt(i);
        const previous = log.byId.get(id);
        const last = log.ordered[log.ordered.length - 1];
        if (!previous && entry && (last === undefined || compareLogPositions(last, entry) < 0)) {
          // The common append (events, seen ids, messages): after every entry held.
          log.ordered.push(entry);
          log.byId.set(id, entry);
          continue;
        }
        if (previous) {
          // The oldest (an outbox entry deleted once published) leaves from the front.
          if (log.ordered[0] === previous) log.ordered.shift();
          else {
            log.ordered.splice(
              firstIndex(log.ordered, (e) => compareLogPositions(e, previous) >= 0),
              1,
            );
          }
          log.byId.delete(id);
        }
        if (entry) {
          log.ordered.splice(
            firstIndex(log.ordered, (e) => compareLogPositions(e, entry) > 0),
            0,
            entry,
          );
          log.byId.set(id, entry);
        }
      }
      if (log.byId.size === 0) this.#logs.delete(name);
    }
  }
}

/** A code unit where UTF-16 order and code-point order may differ (surrogates and above). */
const aboveSurrogates = /[\ud800-\uffff]/;

/** Adds a new key to its space's segment index (`MemoryStore`'s `#segments`). */
function index(segments: Map<string, Set<string>>, key: string): void {
  const slash = key.indexOf("/");
  if (slash < 0) return;
  const name = key.slice(0, slash + 1);
  const keys = segments.get(name);
  if (keys === undefined) segments.set(name, new Set([key]));
  else keys.add(key);
}

/** Drops a deleted key from its space's segment index. */
function unindex(segments: Map<string, Set<string>>, key: string): void {
  const slash = key.indexOf("/");
  if (slash < 0) return;
  const name = key.slice(0, slash + 1);
  const keys = segments.get(name);
  if (keys?.delete(key) === true && keys.size === 0) segments.delete(name);
}

/** True when `keys` are in ascending UTF-16 order (the native sort's). */
function ascending(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) return false;
  }
  return true;
}

/** The first of `keys` in code-point order (a `limit: 1` listing: no sort). */
function firstKey(keys: readonly string[]): string {
  let first = keys[0] as string;
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    if (compareCodePoints(key, first) < 0) first = key;
  }
  return first;
}

/**
 * Creates an in-memory store: the reference implementation of the contract (it passes the
 * compliance suite), for tests and for clients that keep nothing between runs. Values are copied in
 * and out; a batch is validated and staged before anything is committed, so a batch that rejects
 * leaves nothing behind. Data lives until `close()` or the end of the process.
 *
 * @returns A new, empty store.
 * @example
 * ```ts
 * import { memoryStore } from "@orgchat/store";
 *
 * const store = memoryStore();
 * await store.batch([
 *   { type: "put", space: "clock", key: orgId, value: encodeClock(42n) },
 *   { type: "append", log: `events/${orgId}`, entries: [{ id: eventId, sortKey: 42n, value: event }] },
 * ]);
 * const events = await store.range(`events/${orgId}`, { after: 40n });
 * ```
 */
export function memoryStore(): Store {
  return new MemoryStore();
}

/**
 * A point-in-time copy of a store made by {@link memoryStore}: what a backup of it holds (tests of
 * crash and restore use it). The copy shares nothing with the original.
 *
 * @param store - a store from `memoryStore()`, open
 * @returns a new, open memory store with the same records and log entries
 * @throws {TypeError} when `store` was not made by `memoryStore()`
 * @example
 * ```ts
 * const backup = copyMemoryStore(store);
 * await store.put("s", "k", new Uint8Array([2])); // not in `backup`
 * ```
 */
export function copyMemoryStore(store: Store): Store {
  if (!(store instanceof MemoryStore)) throw new TypeError("store: not a store from memoryStore()");
  return store.copy();
}
