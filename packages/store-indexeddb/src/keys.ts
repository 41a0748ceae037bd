/**
 * How names, keys, ids and sort keys become IndexedDB keys. IndexedDB orders strings by UTF-16 code
 * unit, not by code point as the store contract requires (it would put U+E000..U+FFFF after the
 * astral planes), so every string is stored as its UTF-8 bytes: binary keys compare byte by byte,
 * and UTF-8 byte order is code point order. Sort keys are 8-byte big-endian integers: a number key
 * is a double and would lose precision above 2^53.
 */
import type { NormalizedKeysQuery, NormalizedRangeQuery } from "@orgchat/store/implement";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The UTF-8 bytes of a (checked, well-formed) string as a binary key. */
export function utf8Key(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/** The string a binary key holds (IndexedDB returns binary keys as `ArrayBuffer`s). */
export function keyText(key: ArrayBuffer | ArrayBufferView): string {
  return decoder.decode(key);
}

/** A sort key (checked: 0 ≤ n < 2^63) as 8 big-endian bytes, so that byte order is numeric order. */
export function sortKeyBytes(sortKey: bigint): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, sortKey);
  return bytes;
}

/**
 * The sort key 8 stored bytes hold.
 * @throws RangeError when the bytes are not 8 long (the caller reports it as corruption)
 */
export function sortKeyOf(bytes: ArrayBuffer | ArrayBufferView): bigint {
  const view = ArrayBuffer.isView(bytes)
    ? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    : new DataView(bytes);
  if (view.byteLength !== 8)
    throw new RangeError(`a sort key has 8 bytes, found ${view.byteLength}`);
  return view.getBigUint64(0);
}

/** Smallest byte string greater than every string starting with `prefix` (UTF-8 never has 0xff). */
function prefixEnd(prefix: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const end = prefix.slice();
  end[end.length - 1] = (end[end.length - 1] as number) + 1;
  return end;
}

/** Orders two byte strings as IndexedDB orders binary keys. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  }
  return a.length - b.length;
}

/**
 * An array key greater than every `[x, <binary>, …]` key with the same leading parts: IndexedDB
 * orders arrays after binary keys, so `[]` in the place of a binary part sorts after all of them.
 */
const afterAllBinary: IDBValidKey = [];

/** A key range, or `undefined` when it is empty (IDBKeyRange.bound throws for an empty range). */
export interface KeyBounds {
  readonly lower: IDBValidKey;
  readonly upper: IDBValidKey;
  readonly lowerOpen: boolean;
  readonly upperOpen: boolean;
}

/** Makes the IDBKeyRange of `bounds`, or `undefined` for an empty range. */
export function keyRange(bounds: KeyBounds): IDBKeyRange | undefined {
  const order = indexedDB.cmp(bounds.lower, bounds.upper);
  if (order > 0 || (order === 0 && (bounds.lowerOpen || bounds.upperOpen))) return undefined;
  return IDBKeyRange.bound(bounds.lower, bounds.upper, bounds.lowerOpen, bounds.upperOpen);
}

/** The `[space, key]` keys of the records a keys query selects. */
export function recordBounds(
  space: Uint8Array<ArrayBuffer>,
  query: NormalizedKeysQuery,
): KeyBounds {
  const prefix = utf8Key(query.prefix);
  let lower: IDBValidKey = [space, prefix];
  let lowerOpen = false;
  if (query.after !== undefined) {
    const after = utf8Key(query.after);
    // Keys after `after` that also start with the prefix: whichever bound is higher wins.
    if (compareBytes(after, prefix) >= 0) {
      lower = [space, after];
      lowerOpen = true;
    }
  }
  const upper: IDBValidKey =
    prefix.length > 0 ? [space, prefixEnd(prefix)] : [space, afterAllBinary];
  return { lower, upper, lowerOpen, upperOpen: true };
}

/**
 * The `[log, sortKey, id]` keys of the "order" index a range query selects. A bound without an id
 * stands for the whole sort key: `after` it means past `[log, sortKey, <any id>]`, `before` it means
 * below `[log, sortKey]` (a shorter array sorts before every longer one it starts).
 */
export function entryBounds(log: Uint8Array<ArrayBuffer>, query: NormalizedRangeQuery): KeyBounds {
  let lower: IDBValidKey = [log];
  let lowerOpen = false;
  if (query.after !== undefined) {
    const sortKey = sortKeyBytes(query.after.sortKey);
    const id = query.after.id === undefined ? afterAllBinary : utf8Key(query.after.id);
    lower = [log, sortKey, id];
    lowerOpen = true;
  }
  let upper: IDBValidKey = [log, afterAllBinary];
  if (query.before !== undefined) {
    const sortKey = sortKeyBytes(query.before.sortKey);
    upper =
      query.before.id === undefined ? [log, sortKey] : [log, sortKey, utf8Key(query.before.id)];
  }
  return { lower, upper, lowerOpen, upperOpen: true };
}
