/**
 * A persistent map from string keys whose bulk — what a state snapshot held — is one plain JS `Map`
 * built once at decode and never mutated, with every later change (sets and deletions) in an
 * immutable overlay (docs/SCALE.md, "State snapshot"). A 10,000-member organization's start built
 * one immutable map entry per request (hashing each fresh 64-character id through immutable's
 * string-hash cache, then inserting it in a trie); a plain `Map` costs a fraction of that.
 * `OrgState.requests` is one; the pattern is `AppliedIds`'.
 *
 * @module
 */
import { Map as ImmutableMap } from "immutable";

/**
 * What a map-valued part of `OrgState` offers: an immutable `Map` reduced to what the reducer, the
 * snapshot and the client use. An `immutable` `Map<string, V>` is one too.
 */
export interface MapView<V> {
  /** The value at `key`. */
  get(key: string): V | undefined;
  /** Whether `key` has a value. */
  has(key: string): boolean;
  /** A map with `value` at `key` as well (this one is unchanged). */
  set(key: string, value: V): MapView<V>;
  /** A map without `key` (this one is unchanged). */
  delete(key: string): MapView<V>;
  /** A map of the entries for which `keep` holds (this one is unchanged). */
  filter(keep: (value: V, key: string) => unknown): MapView<V>;
  readonly size: number;
  keys(): IterableIterator<string>;
  values(): IterableIterator<V>;
  entries(): IterableIterator<[string, V]>;
  [Symbol.iterator](): IterableIterator<[string, V]>;
}

/** An overlay's mark of a key of the table deleted since. */
const removed: unique symbol = Symbol("removed");
type Slot<V> = V | typeof removed;

const noTable: ReadonlyMap<string, never> = new Map<string, never>();

/**
 * A table taken from a snapshot under an immutable overlay of the changes since. Persistent like the
 * rest of the state: `set`, `delete` and `filter` return a new value that shares the table (never
 * mutated) and the overlay's unchanged part. Values are never `undefined`. Iterates the table's
 * entries in its order (changed values in place, deleted ones skipped), then the keys added since.
 * @typeParam V - the values
 */
export class TableMap<V> implements MapView<V> {
  readonly #table: ReadonlyMap<string, V>;
  readonly #overlay: ImmutableMap<string, Slot<V>>;
  readonly #size: number;

  private constructor(
    table: ReadonlyMap<string, V>,
    overlay: ImmutableMap<string, Slot<V>>,
    size: number,
  ) {
    this.#table = table;
    this.#overlay = overlay;
    this.#size = size;
  }

  /**
   * An empty map.
   * @returns the map
   */
  static empty<V>(): TableMap<V> {
    return new TableMap<V>(noTable, ImmutableMap(), 0);
  }

  /**
   * The map of `entries` (a later entry of the same key wins), in one new table.
   * @param entries - `[key, value]` pairs; no value `undefined`
   * @returns the map
   */
  static of<V>(entries: Iterable<readonly [string, V]>): TableMap<V> {
    const table = new Map<string, V>(entries as Iterable<[string, V]>);
    return new TableMap<V>(table, ImmutableMap(), table.size);
  }

  /**
   * `table` taken as it is: not copied, so the caller hands it over and never mutates it again.
   * @param table - keys to values (no value `undefined`)
   * @returns the map
   */
  static fromTable<V>(table: ReadonlyMap<string, V>): TableMap<V> {
    return new TableMap<V>(table, ImmutableMap(), table.size);
  }

  /**
   * The overlays of two maps when they share one table (their difference is their overlays'),
   * else `undefined`. For `diffMap` (diff.ts).
   * @param before - one map
   * @param after - the other
   * @returns both overlays, or `undefined`
   */
  static sharedOverlays<V>(
    before: TableMap<V>,
    after: TableMap<V>,
  ): readonly [ImmutableMap<string, unknown>, ImmutableMap<string, unknown>] | undefined {
    if (before.#table !== after.#table) return undefined;
    return [before.#overlay, after.#overlay];
  }

  get size(): number {
    return this.#size;
  }

  get(key: string): V | undefined {
    if (this.#overlay.size === 0) return this.#table.get(key);
    const slot = this.#overlay.get(key);
    if (slot !== undefined) return slot === removed ? undefined : slot;
    return this.#table.get(key);
  }

  has(key: string): boolean {
    if (this.#overlay.size === 0) return this.#table.has(key);
    const slot = this.#overlay.get(key);
    if (slot !== undefined) return slot !== removed;
    return this.#table.has(key);
  }

  set(key: string, value: V): TableMap<V> {
    const before = this.get(key);
    if (before === value) return this;
    const size = this.#size + (before === undefined ? 1 : 0);
    return new TableMap(this.#table, this.#overlay.set(key, value), size);
  }

  delete(key: string): TableMap<V> {
    if (!this.has(key)) return this;
    const overlay = this.#table.has(key)
      ? this.#overlay.set(key, removed)
      : this.#overlay.delete(key);
    return new TableMap(this.#table, overlay, this.#size - 1);
  }

  /** Builds one new table of the kept entries (the overlay folded in). */
  filter(keep: (value: V, key: string) => unknown): TableMap<V> {
    const table = new Map<string, V>();
    for (const [key, value] of this.entries()) if (keep(value, key)) table.set(key, value);
    if (table.size === this.#size) return this;
    return new TableMap<V>(table, ImmutableMap(), table.size);
  }

  *entries(): IterableIterator<[string, V]> {
    if (this.#overlay.size === 0) {
      yield* this.#table;
      return;
    }
    // The overlay's entries in a plain map first: one immutable lookup per table key (hashing each
    // key through immutable's cache) would cost what the table saved at the start.
    const changed = new Map<string, Slot<V>>(this.#overlay);
    for (const [key, value] of this.#table) {
      const slot = changed.get(key);
      if (slot === undefined) yield [key, value];
      else {
        changed.delete(key);
        if (slot !== removed) yield [key, slot];
      }
    }
    for (const [key, slot] of changed) if (slot !== removed) yield [key, slot];
  }

  *keys(): IterableIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): IterableIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  /** Compared by content (`toEqual`, `Object.prototype.toString`) like a `Map`. */
  get [Symbol.toStringTag](): string {
    return "Map";
  }
}
