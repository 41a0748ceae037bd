/**
 * Input checks and orderings every store shares, so that all of them refuse the same inputs with the
 * same typed errors and sort the same way (the compliance suite checks it).
 */
import { utf8Length } from "@orgchat/base";
import { AbortError, InvalidKeyError, type KeyArgument, ValueTooLargeError } from "./errors.js";
import {
  type KeysQuery,
  type LogEntry,
  type LogPosition,
  type RangeQuery,
  type SortKey,
  type StoreOp,
  storeLimits,
} from "./types.js";

function assertString(argument: KeyArgument, value: unknown, maxBytes: number): void {
  if (typeof value !== "string") {
    throw new InvalidKeyError(argument, `expected a string, got ${typeof value}`);
  }
  if (value.length === 0) throw new InvalidKeyError(argument, "empty");
  // At most 3 UTF-8 bytes per UTF-16 unit: a short well-formed string needs no count (the common
  // case, and every key the client writes). `isWellFormed` is ES2024; without it, count.
  const wellFormed = (value as { isWellFormed?: () => boolean }).isWellFormed;
  if (value.length * 3 <= maxBytes && wellFormed !== undefined && wellFormed.call(value)) return;
  // -1 for a lone surrogate: such a string has no UTF-8 form, so it could not round-trip through a
  // store that keeps UTF-8. No `max`: the error reports the full length.
  const bytes = utf8Length(value);
  if (bytes < 0) throw new InvalidKeyError(argument, "contains a lone UTF-16 surrogate");
  if (bytes > maxBytes) {
    throw new InvalidKeyError(argument, `${bytes} UTF-8 bytes, more than ${maxBytes}`);
  }
}

/**
 * Checks a space or log name: a non-empty, well-formed string of at most
 * `storeLimits.maxNameBytes` UTF-8 bytes.
 * @param argument - `"space"` or `"log"`, named in the error.
 * @param name - The name to check.
 * @throws InvalidKeyError
 */
export function assertName(argument: "space" | "log", name: string): void {
  assertString(argument, name, storeLimits.maxNameBytes);
}

/**
 * Checks a record key or entry id: a non-empty, well-formed string of at most
 * `storeLimits.maxKeyBytes` UTF-8 bytes (any code point, NUL included).
 * @param argument - `"key"` or `"id"`, named in the error.
 * @param key - The key to check.
 * @throws InvalidKeyError
 */
export function assertKey(argument: "key" | "id", key: string): void {
  assertString(argument, key, storeLimits.maxKeyBytes);
}

/**
 * Checks a value: a `Uint8Array` (empty allowed) of at most `storeLimits.maxValueBytes`.
 * @param value - The value to check.
 * @throws TypeError (not bytes), ValueTooLargeError
 */
export function assertValue(value: Uint8Array): void {
  if (!(value instanceof Uint8Array)) throw new TypeError("value must be a Uint8Array");
  if (value.byteLength > storeLimits.maxValueBytes) {
    throw new ValueTooLargeError(value.byteLength, storeLimits.maxValueBytes);
  }
}

/**
 * Checks a sort key: a bigint from `0n` to `storeLimits.maxSortKey`.
 * @param sortKey - The sort key to check.
 * @param argument - What to call it in the error.
 * @throws TypeError (not a bigint), RangeError (out of range)
 */
export function assertSortKey(sortKey: SortKey, argument = "sortKey"): void {
  if (typeof sortKey !== "bigint") {
    throw new TypeError(`${argument} must be a bigint, got ${typeof sortKey}`);
  }
  if (sortKey < 0n || sortKey > storeLimits.maxSortKey) {
    throw new RangeError(`${argument} must be from 0n to 2n ** 63n - 1n, got ${sortKey}`);
  }
}

/**
 * Checks a log entry (id, sort key, value).
 * @param entry - The entry to check.
 * @throws InvalidKeyError, TypeError, RangeError, ValueTooLargeError
 */
export function assertLogEntry(entry: LogEntry): void {
  if (typeof entry !== "object" || entry === null) throw new TypeError("entry must be an object");
  assertKey("id", entry.id);
  assertSortKey(entry.sortKey, "entry.sortKey");
  assertValue(entry.value);
}

function assertArray(value: unknown, argument: string): void {
  if (!Array.isArray(value)) throw new TypeError(`${argument} must be an array`);
}

/**
 * Checks every op of a batch before anything is applied, so that an invalid op anywhere rejects the
 * whole batch.
 * @param ops - The batch.
 * @throws InvalidKeyError, ValueTooLargeError, TypeError (unknown op type, wrong types), RangeError
 */
export function assertStoreOps(ops: readonly StoreOp[]): void {
  assertArray(ops, "ops");
  for (const op of ops) {
    if (typeof op !== "object" || op === null) throw new TypeError("each op must be an object");
    switch (op.type) {
      case "put":
        assertName("space", op.space);
        assertKey("key", op.key);
        assertValue(op.value);
        break;
      case "delete":
        assertName("space", op.space);
        assertKey("key", op.key);
        break;
      case "append":
        assertName("log", op.log);
        assertArray(op.entries, "append op entries");
        for (const entry of op.entries) assertLogEntry(entry);
        if (op.handOver !== undefined && typeof op.handOver !== "boolean") {
          throw new TypeError(`append op handOver must be a boolean, got ${typeof op.handOver}`);
        }
        break;
      case "deleteEntries":
        assertName("log", op.log);
        assertArray(op.ids, "deleteEntries op ids");
        for (const id of op.ids) assertKey("id", id);
        break;
      default:
        throw new TypeError(
          `unknown op type ${JSON.stringify((op as { type: unknown }).type)}: expected "put", "delete", "append" or "deleteEntries"`,
        );
    }
  }
}

/** An exclusive range bound with its defaults filled in: without `id` it covers the whole sort key. */
export interface NormalizedPosition {
  readonly sortKey: SortKey;
  readonly id: string | undefined;
}

/** A range query with its defaults filled in. */
export interface NormalizedRangeQuery {
  readonly after: NormalizedPosition | undefined;
  readonly before: NormalizedPosition | undefined;
  readonly limit: number | undefined;
  readonly reverse: boolean;
}

function normalizePosition(
  position: SortKey | LogPosition | undefined,
  argument: string,
): NormalizedPosition | undefined {
  if (position === undefined) return undefined;
  if (typeof position === "bigint") {
    assertSortKey(position, argument);
    return { sortKey: position, id: undefined };
  }
  if (typeof position !== "object" || position === null) {
    throw new TypeError(`${argument} must be a bigint or { sortKey, id? }`);
  }
  assertSortKey(position.sortKey, `${argument}.sortKey`);
  if (position.id !== undefined) assertKey("id", position.id);
  return { sortKey: position.sortKey, id: position.id };
}

function normalizeLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`limit must be a non-negative safe integer, got ${limit}`);
  }
  return limit;
}

/**
 * Validates a range query and fills in its defaults.
 * @param query - The query (absent: the whole log).
 * @returns The normalized query.
 * @throws TypeError, RangeError, InvalidKeyError (a bound's id)
 */
export function normalizeRangeQuery(query: RangeQuery | undefined): NormalizedRangeQuery {
  const q = query ?? {};
  if (typeof q !== "object" || q === null) throw new TypeError("query must be an object");
  return {
    after: normalizePosition(q.after, "after"),
    before: normalizePosition(q.before, "before"),
    limit: normalizeLimit(q.limit),
    reverse: q.reverse === true,
  };
}

/** A keys query with its defaults filled in. */
export interface NormalizedKeysQuery {
  readonly prefix: string;
  readonly after: string | undefined;
  readonly limit: number | undefined;
}

/**
 * Validates a keys query and fills in its defaults.
 * @param query - The query (absent: every key).
 * @returns The normalized query.
 * @throws TypeError, RangeError, InvalidKeyError (`prefix` or `after` malformed)
 */
export function normalizeKeysQuery(query: KeysQuery | undefined): NormalizedKeysQuery {
  const q = query ?? {};
  if (typeof q !== "object" || q === null) throw new TypeError("query must be an object");
  // An empty prefix is allowed (it matches everything); anything else must be a valid key prefix.
  if (q.prefix !== undefined && q.prefix !== "") assertKey("key", q.prefix);
  if (q.after !== undefined) assertKey("key", q.after);
  return { prefix: q.prefix ?? "", after: q.after, limit: normalizeLimit(q.limit) };
}

/**
 * Orders strings by Unicode code point, which is also the byte order of their UTF-8 forms (what a
 * database comparing UTF-8 bytes does). JavaScript's `<` compares UTF-16 code units instead, which
 * puts U+E000..U+FFFF after the astral planes; this fixes that case only.
 * @returns A negative number, zero or a positive number, as `Array.prototype.sort` expects.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) return rankHighUnit(x) - rankHighUnit(y);
      return x - y;
    }
  }
  return a.length - b.length;
}

/** Maps code units ≥ U+D800 so that surrogates (astral code points) sort after U+E000..U+FFFF. */
function rankHighUnit(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/**
 * Orders log entries (or positions with an id) by `(sortKey, id)`: the order `range` returns.
 * @returns A negative number, zero or a positive number.
 */
export function compareLogPositions(
  a: { readonly sortKey: SortKey; readonly id: string },
  b: { readonly sortKey: SortKey; readonly id: string },
): number {
  if (a.sortKey !== b.sortKey) return a.sortKey < b.sortKey ? -1 : 1;
  return compareCodePoints(a.id, b.id);
}

/**
 * Rejects a call whose signal is already aborted.
 * @param signal - The call's signal, if any.
 * @param operation - Named in the error.
 * @throws AbortError (with the signal's reason as `cause`)
 */
export function throwIfAborted(signal: AbortSignal | undefined, operation: string): void {
  if (signal?.aborted) throw new AbortError(operation, { cause: signal.reason });
}
