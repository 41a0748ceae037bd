/**
 * What every area of the compliance suite shares: the store under test and the reopen hook, and
 * deterministic data and assertions (no test-time RNG, no clock).
 */
import type { LogEntry, Store } from "../types.js";

/** The store under test and how to reopen it, as the areas of the suite see them. */
export interface ComplianceSuite {
  /** The store opened for the current test. */
  readonly store: Store;
  /** Whether the fixture can reopen a closed store (the reopen cases are skipped otherwise). */
  readonly canReopen: boolean;
  /** Appended to the title of a reopen case when it is skipped, so that the skip is visible. */
  readonly noReopen: string;
  /** Closes the current store and returns a new one over the same data. */
  reopened(): Promise<Store>;
}

const encoder = new TextEncoder();
export const text = (value: string): Uint8Array => encoder.encode(value);

/** Deterministic pseudo-random bytes (xorshift32): large values without a test-time RNG. */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/**
 * Byte equality for large values: `toEqual` walks a multi-MiB array element by element through its
 * generic comparison and takes seconds.
 */
export function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (!(a instanceof Uint8Array) || a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Deterministic shuffle (mulberry32-driven Fisher–Yates). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Settles `promise` and returns what it rejected with; fails the test if it resolved. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to reject, it resolved");
}

export const entry = (id: string, sortKey: bigint, value: string = id): LogEntry => ({
  id,
  sortKey,
  value: text(value),
});

/** `[sortKey, id]` pairs of a range result, compact for assertions. */
export const positions = (entries: readonly LogEntry[]): [bigint, string][] =>
  entries.map((e) => [e.sortKey, e.id]);

/**
 * Ids in code point order. Plain JavaScript sorting (UTF-16 code units) would put the emoji before
 * U+E000 and U+FFFD; a store must not.
 */
export const idsInCodePointOrder = [
  "a",
  "a\u0000",
  "a\u0000b",
  "b",
  "z",
  "é",
  "\ue000",
  "\ufffd",
  "😀",
];
