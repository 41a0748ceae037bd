import { type Map as ImmutableMap, is, isMap, isOrderedMap } from "immutable";
import { type MapView, TableMap } from "./table-map.js";

// -------------------------------------------------------------------------------------------------
// Structural diff of two Immutable maps. A map derived from another (set, delete, update) shares
// every trie node the change did not touch: the same node object holds the same entries, so a walk
// of both tries that skips identical nodes costs O(difference × depth), not O(size). The walk reads
// Immutable's (5.x) internal node kinds by their shape; anything it does not recognise — another
// version, an `OrderedMap`, a map being mutated — makes it compare the two maps in full through the
// public API instead, so the answer is the same either way.

/** Receives the keys that differ between two maps (see {@link diffMap}). */
export interface MapDiffVisitor<K, V> {
  /** `key` is in the second map only. */
  readonly added?: (key: K, value: V) => void;
  /** `key` is in the first map only. */
  readonly removed?: (key: K, value: V) => void;
  /** `key` is in both, with values that are not the same object (`Object.is`). */
  readonly changed?: (key: K, before: V, after: V) => void;
}

/** How {@link diffMap} found the difference. */
export interface MapDiffStats {
  /** The maps were compared entry by entry (not the structural walk): O(size of both). */
  readonly fullComparison: boolean;
  /** Trie nodes the structural walk entered (0 after a full comparison). */
  readonly nodes: number;
}

/** Bits of the key hash per trie level (Immutable's `SHIFT`). */
const shiftStep = 5;
/** Slots per indexed node (Immutable's `SIZE`). */
const slots = 32;
/** Deepest level an indexed node may sit at (a 32-bit hash has 7 five-bit fragments). */
const maxShift = 30;

type Entry = readonly [unknown, unknown];

/**
 * A trie node as the walk sees it. An indexed node keeps its slots as `present` (bit `i`: slot `i`
 * holds a child) and `nodes` — packed in slot order when `packed`, else 32 slots — with no closure,
 * so reading a node allocates one small object.
 */
type Node =
  | {
      readonly kind: "indexed";
      readonly present: number;
      readonly packed: boolean;
      readonly nodes: readonly unknown[];
    }
  | { readonly kind: "leaf"; readonly keyHash: number; readonly entries: readonly Entry[] }
  | { readonly kind: "array"; readonly entries: readonly Entry[] };

/** Thrown inside the walk when a node is not of a known kind; the caller compares in full. */
class UnknownNode extends Error {
  override readonly name = "UnknownNode";
}

function isEntry(value: unknown): value is Entry {
  return Array.isArray(value) && value.length === 2;
}

function isEntryList(value: unknown): value is readonly Entry[] {
  return Array.isArray(value) && value.every(isEntry);
}

/**
 * Reads one of Immutable 5's trie node kinds: `BitmapIndexedNode` (`bitmap`, packed `nodes`),
 * `HashArrayMapNode` (`count`, 32 `nodes`), `ValueNode` (`keyHash`, `entry`), `HashCollisionNode`
 * (`keyHash`, `entries`), `ArrayMapNode` (`entries` only: a small map's root).
 * @throws {UnknownNode} for anything else
 */
function readNode(node: unknown): Node {
  if (typeof node !== "object" || node === null) throw new UnknownNode();
  const n = node as Record<string, unknown>;
  const nodes = n.nodes;
  if (Array.isArray(nodes)) {
    if (typeof n.bitmap === "number" && nodes.length <= slots) {
      const bitmap = n.bitmap;
      if (popCount(bitmap) !== nodes.length) throw new UnknownNode();
      return { kind: "indexed", present: bitmap, packed: true, nodes };
    }
    if (typeof n.count === "number" && nodes.length === slots) {
      let present = 0;
      for (let child = 0; child < slots; child++) if (nodes[child]) present |= 1 << child;
      return { kind: "indexed", present, packed: false, nodes };
    }
    throw new UnknownNode();
  }
  if (typeof n.keyHash === "number") {
    if (isEntry(n.entry)) return { kind: "leaf", keyHash: n.keyHash, entries: [n.entry] };
    if (isEntryList(n.entries)) return { kind: "leaf", keyHash: n.keyHash, entries: n.entries };
    throw new UnknownNode();
  }
  if (isEntryList(n.entries)) return { kind: "array", entries: n.entries };
  throw new UnknownNode();
}

function popCount(bits: number): number {
  let x = bits - ((bits >> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >> 2) & 0x33333333);
  x = (x + (x >> 4)) & 0x0f0f0f0f;
  x = x + (x >> 8);
  x = x + (x >> 16);
  return x & 0x7f;
}

/** The difference found so far (visited only once the walk succeeds). */
interface Found {
  readonly added: Entry[];
  readonly removed: Entry[];
  readonly changed: [unknown, unknown, unknown][];
  nodes: number;
}

/** Every entry under `node`, appended to `out`. */
function collect(node: unknown, out: Entry[], found: Found): void {
  if (node === undefined || node === null) return;
  found.nodes++;
  const read = readNode(node);
  if (read.kind !== "indexed") {
    out.push(...read.entries);
    return;
  }
  for (const child of read.nodes) collect(child, out, found);
}

/**
 * The difference of two entry lists (keys compared with Immutable's `is`, as the map does). Primitive
 * keys go through a native `Map` (same equality for primitives): linear, even for a large collision
 * bucket; other keys pairwise.
 */
function diffEntries(before: readonly Entry[], after: readonly Entry[], found: Found): void {
  const primitive = (entry: Entry) =>
    entry[0] === null || (typeof entry[0] !== "object" && typeof entry[0] !== "function");
  if (before.every(primitive) && after.every(primitive)) {
    const old = new Map<unknown, unknown>();
    for (const [key, value] of before) old.set(key, value);
    for (const [key, value] of after) {
      if (!old.has(key)) found.added.push([key, value]);
      else {
        const was = old.get(key);
        if (!Object.is(was, value)) found.changed.push([key, was, value]);
        old.delete(key);
      }
    }
    for (const entry of old) found.removed.push(entry);
    return;
  }
  const matched = new Set<number>();
  for (const [key, value] of after) {
    const at = before.findIndex((entry, i) => !matched.has(i) && is(entry[0], key));
    if (at < 0) {
      found.added.push([key, value]);
      continue;
    }
    matched.add(at);
    const was = (before[at] as Entry)[1];
    if (!Object.is(was, value)) found.changed.push([key, was, value]);
  }
  before.forEach((entry, i) => {
    if (!matched.has(i)) found.removed.push(entry);
  });
}

/** The slots of a node seen as indexed (a leaf sits in the slot of its hash fragment). */
function presentOf(read: Node, shift: number): number {
  if (read.kind === "indexed") return read.present;
  if (read.kind === "leaf") return 1 << ((read.keyHash >>> shift) & (slots - 1));
  throw new UnknownNode();
}

/** The child in slot `bit` (a single bit) of a node seen as indexed (a leaf: itself). */
function childOf(read: Node, raw: unknown, bit: number): unknown {
  if (read.kind !== "indexed") return raw;
  if (!read.packed) return read.nodes[31 - Math.clz32(bit)];
  return read.nodes[popCount(read.present & (bit - 1))];
}

/** Walks two subtrees that hold the keys of the same hash prefix (`shift` bits consumed). */
function diffNodes(before: unknown, after: unknown, shift: number, found: Found): void {
  if (before === after) return;
  const beforeEmpty = before === undefined || before === null;
  const afterEmpty = after === undefined || after === null;
  if (beforeEmpty || afterEmpty) {
    collect(beforeEmpty ? after : before, beforeEmpty ? found.added : found.removed, found);
    return;
  }
  found.nodes += 2;
  const a = readNode(before);
  const b = readNode(after);
  if (
    shift <= maxShift &&
    (a.kind === "indexed" || b.kind === "indexed") &&
    a.kind !== "array" &&
    b.kind !== "array"
  ) {
    // Aligned by hash fragment: slot `child` of both holds the keys whose fragment is `child`.
    const presentA = presentOf(a, shift);
    const presentB = presentOf(b, shift);
    let union = presentA | presentB;
    while (union !== 0) {
      const bit = union & -union;
      union ^= bit;
      const childA = (presentA & bit) === 0 ? undefined : childOf(a, before, bit);
      const childB = (presentB & bit) === 0 ? undefined : childOf(b, after, bit);
      if (childA !== childB) diffNodes(childA, childB, shift + shiftStep, found);
    }
    return;
  }
  // Leaves, a small map's array root, or one against the other: compare their entries.
  const beforeEntries: Entry[] = [];
  const afterEntries: Entry[] = [];
  collect(before, beforeEntries, found);
  collect(after, afterEntries, found);
  diffEntries(beforeEntries, afterEntries, found);
}

/**
 * Whether `value` is an Immutable `Map` and not an `OrderedMap`. A plain boolean, not a type guard:
 * narrowing through Immutable's `isOrderedMap` makes the compiler relate `OrderedMap` to `Map`
 * structurally, seconds of every typecheck whose program includes this file.
 */
const isPlainMap = (value: unknown): boolean =>
  isMap(value) && !(isOrderedMap as (v: unknown) => boolean)(value);

/** Immutable's internals of a map: its trie root and whether it is being mutated. */
function internals(map: unknown): { root: unknown } | undefined {
  if (!isPlainMap(map)) return undefined;
  const m = map as Record<string, unknown>;
  // A map inside `withMutations` may change its nodes in place: no structural reading.
  if (m.__ownerID !== undefined && m.__ownerID !== null) return undefined;
  return { root: m._root };
}

/**
 * Calls `visit` for exactly the keys that differ between two Immutable maps (or `MapView`s): `added` (in `after`
 * only), `removed` (in `before` only), `changed` (in both, values not the same object: Immutable
 * keeps a node only when its value is identical, so compare deeper in `changed` if equal copies
 * matter). Order of the calls is unspecified (by hash, not by key).
 *
 * When `after` was derived from `before` (set, delete, update, merge: shared structure), the walk
 * skips every trie node both maps share and costs O(difference × log size); maps built
 * independently cost O(size), like a full comparison. Maps whose internals it does not recognise
 * (an `OrderedMap`, a map inside `withMutations`, another Immutable version) are compared in full
 * through the public API: same answer, O(size). Two {@link TableMap}s that share a table (one derived
 * from the other) are diffed through their overlays: O(changes since they parted).
 *
 * Keys are compared as the map does (`is`). The visitor runs after the difference is found, so it
 * may read either map.
 *
 * @param before - the earlier map
 * @param after - the later map
 * @param visit - what to call for each differing key (each callback optional)
 * @returns how the difference was found (for tests and benchmarks)
 * @example
 * ```ts
 * diffMap(previous.members, state.members, {
 *   added: (id) => emit("member:joined", id),
 *   removed: (id) => emit("member:removed", id),
 * });
 * ```
 */
export function diffMap<K, V>(
  before: ImmutableMap<K, V> | Keyed<K, V>,
  after: ImmutableMap<K, V> | Keyed<K, V>,
  visit: MapDiffVisitor<K, V>,
): MapDiffStats {
  if (before === after) return { fullComparison: false, nodes: 0 };
  const a = internals(before);
  const b = internals(after);
  let found: Found | undefined;
  if (before instanceof TableMap && after instanceof TableMap) {
    found = overlaysDiff(before as TableMap<V>, after as TableMap<V>);
  } else if (a !== undefined && b !== undefined) {
    const walk: Found = { added: [], removed: [], changed: [], nodes: 0 };
    try {
      diffNodes(a.root, b.root, 0, walk);
      found = walk;
    } catch (error) {
      if (!(error instanceof UnknownNode)) throw error;
    }
  }
  const fullComparison = found === undefined;
  if (found === undefined) {
    found = fullDiff(before as Readable<K, V>, after as Readable<K, V>);
  }
  const { added, removed, changed } = visit;
  if (added !== undefined) for (const [key, value] of found.added) added(key as K, value as V);
  if (removed !== undefined)
    for (const [key, value] of found.removed) removed(key as K, value as V);
  if (changed !== undefined) {
    for (const [key, was, value] of found.changed) changed(key as K, was as V, value as V);
  }
  return { fullComparison, nodes: fullComparison ? 0 : found.nodes };
}

/** A map `diffMap` reads through the public API: an immutable map or a {@link MapView}. */
type Keyed<K, V> = K extends string ? MapView<V> : never;

/** The part of a map's API a full comparison reads. */
interface Readable<K, V> {
  has(key: K): boolean;
  get(key: K): V | undefined;
  [Symbol.iterator](): Iterator<[K, V]>;
}

/**
 * The difference of two {@link TableMap}s: when they share a table, the keys their overlays differ
 * on (`diffMap` on the overlays: what changed since they parted), each read from both maps; else a
 * full comparison.
 */
function overlaysDiff<V>(before: TableMap<V>, after: TableMap<V>): Found | undefined {
  const overlays = TableMap.sharedOverlays(before, after);
  if (overlays === undefined) return undefined;
  const keys: string[] = [];
  const stats = diffMap(overlays[0], overlays[1], {
    added: (key) => keys.push(key),
    removed: (key) => keys.push(key),
    changed: (key) => keys.push(key),
  });
  const found: Found = { added: [], removed: [], changed: [], nodes: stats.nodes };
  for (const key of keys) {
    const was = before.get(key);
    const value = after.get(key);
    if (was === undefined) {
      if (value !== undefined) found.added.push([key, value]);
    } else if (value === undefined) found.removed.push([key, was]);
    else if (!Object.is(was, value)) found.changed.push([key, was, value]);
  }
  return found;
}

/** The difference through the public API: O(size of both). */
function fullDiff<K, V>(before: Readable<K, V>, after: Readable<K, V>): Found {
  const found: Found = { added: [], removed: [], changed: [], nodes: 0 };
  for (const [key, value] of after) {
    if (!before.has(key)) found.added.push([key, value]);
    else {
      const was = before.get(key);
      if (!Object.is(was, value)) found.changed.push([key, was, value]);
    }
  }
  for (const [key, value] of before) if (!after.has(key)) found.removed.push([key, value]);
  return found;
}
