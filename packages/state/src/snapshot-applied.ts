/**
 * The ids of every event applied to a state, with their clocks (`OrgState.applied`, idempotence):
 * a persistent map whose bulk — what a state snapshot held — is one sorted table of 32-byte ids and
 * one of clocks, read from the snapshot without a string or a map entry per id (docs/SCALE.md,
 * "State snapshot"). A 10,000-member organization has ~20,000 of them: a start built one immutable
 * map entry (and hashed one 64-character string) per id, ~60–110 ms; it now copies two arrays.
 * Ids applied since come on top as an immutable map.
 *
 * @module
 */
import { Map as ImmutableMap } from "immutable";

/**
 * What `OrgState.applied` offers: an immutable `Map` from event ids to clocks reduced to what the
 * reducer and the snapshot use. An `immutable` `Map<string, bigint>` is one too.
 */
export interface AppliedIdsView {
  /** Whether the event `id` was applied. */
  has(id: string): boolean;
  /** The clock of the applied event `id`. */
  get(id: string): bigint | undefined;
  /** A view with `id` applied at `clock` as well (this one is unchanged). */
  set(id: string, clock: bigint): AppliedIdsView;
  readonly size: number;
  keys(): IterableIterator<string>;
  entries(): IterableIterator<[string, bigint]>;
  [Symbol.iterator](): IterableIterator<[string, bigint]>;
}

/** The snapshot's table: ids ascending (32 bytes each), clocks in the same order. */
interface Table {
  readonly ids: Uint8Array;
  readonly clocks: BigUint64Array;
  readonly size: number;
}

const noTable: Table = { ids: new Uint8Array(0), clocks: new BigUint64Array(0), size: 0 };
/** One id parsed for a lookup (never kept across calls). */
const scratch = new Uint8Array(32);
const hexDigits = "0123456789abcdef";

/** Parses a lowercase 64-hex id into {@link scratch}; false for anything else. */
function parseId(id: string): boolean {
  if (id.length !== 64) return false;
  for (let i = 0; i < 32; i++) {
    const high = digit(id.charCodeAt(2 * i));
    const low = digit(id.charCodeAt(2 * i + 1));
    if (high < 0 || low < 0) return false;
    scratch[i] = (high << 4) | low;
  }
  return true;
}

function digit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** Compares the table's id `index` with {@link scratch}. */
function compareAt(ids: Uint8Array, index: number): number {
  const at = 32 * index;
  for (let i = 0; i < 32; i++) {
    const difference = (ids[at + i] as number) - (scratch[i] as number);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** The index of the parsed id ({@link scratch}) in `table`, or -1. */
/**
 * The last lookup {@link find} made (a table is never changed once made): an event's id is looked up
 * in the same table several times in a row (the log's duplicate check, the reducer's, `set`).
 */
let lastTable: Table = noTable;
let lastId = "";
let lastIndex = -1;

function find(table: Table, id: string): number {
  if (table.size === 0) return -1;
  if (table === lastTable && id === lastId) return lastIndex;
  const index = search(table, id);
  lastTable = table;
  lastId = id;
  lastIndex = index;
  return index;
}

function search(table: Table, id: string): number {
  if (!parseId(id)) return -1;
  let low = 0;
  let high = table.size - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const order = compareAt(table.ids, middle);
    if (order === 0) return middle;
    if (order < 0) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

const latin1 = new TextDecoder("latin1");
const ascii = new Uint8Array(64);
const hexCodes = Uint8Array.from(hexDigits, (c) => c.charCodeAt(0));
function hexAt(ids: Uint8Array, index: number): string {
  for (let i = 0; i < 32; i++) {
    const b = ids[32 * index + i] as number;
    ascii[2 * i] = hexCodes[b >> 4] as number;
    ascii[2 * i + 1] = hexCodes[b & 15] as number;
  }
  return latin1.decode(ascii);
}

/**
 * The order of `id` against the table's id `row` as a 64-hex string (code units, as `entries`
 * orders them), without the string: negative, zero or positive.
 */
function compareRow(id: string, ids: Uint8Array, row: number): number {
  const at = 32 * row;
  const length = Math.min(id.length, 64);
  for (let j = 0; j < length; j++) {
    const b = ids[at + (j >> 1)] as number;
    const code = hexCodes[j & 1 ? b & 15 : b >> 4] as number;
    const order = id.charCodeAt(j) - code;
    if (order !== 0) return order;
  }
  return id.length - 64;
}

/**
 * An id as a key of `#added`. Immutable hashes a string of 16 characters or more through a cache of
 * 255 strings that starts over when full: past 255 ids, every lookup hashed the whole 64-character
 * id again (a receive does two or three: seen in the relay bench, RL-asks, session 16). An event id
 * is a hash, so a few of its characters hash it well enough; equal ids are equal keys.
 */
class IdKey {
  readonly id: string;
  constructor(id: string) {
    this.id = id;
  }
  hashCode(): number {
    const id = this.id;
    const n = id.length;
    let h = n;
    for (let i = 0; i < 6 && i < n; i++) h = (Math.imul(h, 31) + id.charCodeAt(i)) | 0;
    for (let i = Math.max(6, n - 6); i < n; i++) h = (Math.imul(h, 31) + id.charCodeAt(i)) | 0;
    return h;
  }
  equals(other: unknown): boolean {
    return other instanceof IdKey && other.id === this.id;
  }
}

function byId(a: readonly [IdKey, bigint], b: readonly [IdKey, bigint]): number {
  return a[0].id < b[0].id ? -1 : a[0].id > b[0].id ? 1 : 0;
}

/**
 * The applied event ids of a state (`OrgState.applied`): a snapshot's sorted table under an
 * immutable map of the ids applied since. Persistent like the rest of the state: `set` returns a
 * new value that shares both. Iterates in ascending id order (code units), whatever the order of
 * application, so equal sets of ids iterate and encode alike.
 */
export class AppliedIds implements AppliedIdsView {
  readonly #table: Table;
  /** Ids applied on top of the table (an id of the table set again with another clock too). */
  readonly #added: ImmutableMap<IdKey, bigint>;
  /** How many ids of `#added` are in the table as well. */
  readonly #shadowed: number;

  private constructor(table: Table, added: ImmutableMap<IdKey, bigint>, shadowed: number) {
    this.#table = table;
    this.#added = added;
    this.#shadowed = shadowed;
  }

  /** No id applied. */
  static empty(): AppliedIds {
    return new AppliedIds(noTable, ImmutableMap<IdKey, bigint>(), 0);
  }

  /**
   * The ids of `entries` (a later entry of the same id wins).
   * @param entries - `[id, clock]` pairs
   * @returns the applied ids
   */
  static of(entries: Iterable<readonly [string, bigint]>): AppliedIds {
    const added = ImmutableMap<IdKey, bigint>().withMutations((map) => {
      for (const [id, clock] of entries) map.set(new IdKey(id), clock);
    });
    return new AppliedIds(noTable, added, 0);
  }

  /**
   * The ids of `map`.
   * @param map - ids to clocks
   * @returns the applied ids
   */
  static fromMap(map: ImmutableMap<string, bigint>): AppliedIds {
    return AppliedIds.of(map.entries());
  }

  /**
   * A snapshot's table, taken as it is (not copied: the caller hands it over).
   * @param ids - `32 · size` bytes, ids strictly ascending (the caller checked it)
   * @param clocks - one clock per id
   * @returns the applied ids
   * @throws {RangeError} when the two lengths do not agree
   */
  static fromTable(ids: Uint8Array, clocks: BigUint64Array): AppliedIds {
    if (ids.length !== 32 * clocks.length) throw new RangeError("applied ids: lengths differ");
    return new AppliedIds({ ids, clocks, size: clocks.length }, ImmutableMap<IdKey, bigint>(), 0);
  }

  get size(): number {
    return this.#table.size + this.#added.size - this.#shadowed;
  }

  has(id: string): boolean {
    return this.#added.has(new IdKey(id)) || find(this.#table, id) >= 0;
  }

  get(id: string): bigint | undefined {
    const added = this.#added.get(new IdKey(id));
    if (added !== undefined) return added;
    const index = find(this.#table, id);
    return index < 0 ? undefined : this.#table.clocks[index];
  }

  set(id: string, clock: bigint): AppliedIds {
    const key = new IdKey(id);
    const before = this.#added.get(key);
    if (before === clock) return this;
    const index = before !== undefined ? -1 : find(this.#table, id);
    if (index >= 0 && this.#table.clocks[index] === clock) return this;
    const shadowed = this.#shadowed + (index >= 0 ? 1 : 0);
    return new AppliedIds(this.#table, this.#added.set(key, clock), shadowed);
  }

  *entries(): IterableIterator<[string, bigint]> {
    const added = [...this.#added.entries()].sort(byId).map(([key, clock]) => [key.id, clock]);
    const { ids, clocks, size } = this.#table;
    let next = 0;
    for (let i = 0; i < size; i++) {
      const id = hexAt(ids, i);
      while (next < added.length && (added[next] as [string, bigint])[0] < id) {
        yield added[next++] as [string, bigint];
      }
      if (next < added.length && (added[next] as [string, bigint])[0] === id) {
        yield added[next++] as [string, bigint];
        continue;
      }
      yield [id, clocks[i] as bigint];
    }
    while (next < added.length) yield added[next++] as [string, bigint];
  }

  /**
   * @internal For `encodeSnapshot`: the entries in the order of {@link entries}, those of the
   * snapshot's table as their 32 bytes (no string made), those applied since as strings.
   * @param row - called with the table's ids and the row of one (not applied again since)
   * @param added - called with an id applied since the table
   */
  visitSorted(
    row: (ids: Uint8Array, row: number, clock: bigint) => void,
    added: (id: string, clock: bigint) => void,
  ): void {
    const sorted = [...this.#added.entries()].sort(byId).map(([key, clock]) => [key.id, clock]);
    const { ids, clocks, size } = this.#table;
    let next = 0;
    for (let i = 0; i < size; i++) {
      let shadowed = false;
      while (next < sorted.length) {
        const [id, clock] = sorted[next] as [string, bigint];
        const order = compareRow(id, ids, i);
        if (order > 0) break;
        next++;
        added(id, clock);
        if (order === 0) {
          shadowed = true;
          break;
        }
      }
      if (!shadowed) row(ids, i, clocks[i] as bigint);
    }
    for (; next < sorted.length; next++) {
      const [id, clock] = sorted[next] as [string, bigint];
      added(id, clock);
    }
  }

  *keys(): IterableIterator<string> {
    for (const [id] of this.entries()) yield id;
  }

  *values(): IterableIterator<bigint> {
    for (const [, clock] of this.entries()) yield clock;
  }

  [Symbol.iterator](): IterableIterator<[string, bigint]> {
    return this.entries();
  }

  /** Compared by content (`toEqual`, `Object.prototype.toString`) like a `Map`. */
  get [Symbol.toStringTag](): string {
    return "Map";
  }
}
