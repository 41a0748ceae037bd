import { errorGuard, OrgchatError } from "@orgchat/base";

/**
 * Thrown by `decodeSnapshot` when the bytes are not a snapshot this version wrote whole: an unknown
 * magic or version, a wrong checksum (a flipped byte), a truncation, trailing bytes, or a value out
 * of its range. Never a wrong state.
 */
export class SnapshotFormatError extends OrgchatError {
  static readonly errorName = "SnapshotFormatError";

  /**
   * @param detail - what was wrong, for the log (no secret: the snapshot holds no key)
   * @param options - the underlying error, if any
   */
  constructor(detail: string, options: { cause?: unknown } = {}) {
    super("SnapshotFormatError", `Not a valid state snapshot: ${detail}.`, {
      ...options,
      hint: "Drop the snapshot and rebuild the state from the events (or restore a backup).",
    });
  }
}

/**
 * True when `value` is a {@link SnapshotFormatError} (by name: holds across package copies).
 *
 * @example
 * ```ts
 * try { decodeSnapshot(bytes, orgId); } catch (e) { if (isSnapshotFormatError(e)) rebuild(); }
 * ```
 */
export const isSnapshotFormatError = errorGuard<SnapshotFormatError>(SnapshotFormatError.errorName);

/**
 * The CRC-32 tables for slicing by 8: `tables[k][n]` is the CRC of byte `n` followed by `k` zero
 * bytes. Eight bytes per step instead of one: a 10,000-member owner's 2.3 MB snapshot is checked
 * at every start (and summed at every write) in about a third of the time.
 */
const crcTables = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const first = tables[0] as Uint32Array;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    first[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = first[n] as number;
    for (let k = 1; k < 8; k++) {
      c = (first[c & 0xff] as number) ^ (c >>> 8);
      (tables[k] as Uint32Array)[n] = c >>> 0;
    }
  }
  return tables as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
})();

/**
 * CRC-32 (IEEE 802.3) of `bytes[0, end)`: detects every error burst up to 32 bits (so any flipped
 * byte), not tampering (the store is not an adversary the snapshot defends against: the events log
 * beside it is not authenticated either).
 */
export function crc32(bytes: Uint8Array, end = bytes.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = crcTables;
  let c = 0xffffffff;
  let i = 0;
  for (const stop = end - 8; i <= stop; i += 8) {
    const a =
      (c ^
        ((bytes[i] as number) |
          ((bytes[i + 1] as number) << 8) |
          ((bytes[i + 2] as number) << 16) |
          ((bytes[i + 3] as number) << 24))) >>>
      0;
    c =
      (t7[a & 0xff] as number) ^
      (t6[(a >>> 8) & 0xff] as number) ^
      (t5[(a >>> 16) & 0xff] as number) ^
      (t4[a >>> 24] as number) ^
      (t3[bytes[i + 4] as number] as number) ^
      (t2[bytes[i + 5] as number] as number) ^
      (t1[bytes[i + 6] as number] as number) ^
      (t0[bytes[i + 7] as number] as number);
  }
  for (; i < end; i++) c = (t0[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** ASCII codes of the hex digits, by value. */
const hexCodes = Uint8Array.from("0123456789abcdef", (c) => c.charCodeAt(0));
/**
 * Hex strings are made from ASCII bytes by a Latin-1 decoder: a flat string in one native call
 * (concatenating pairs builds a rope that every hash of the key then flattens: 10× slower).
 */
const latin1 = new TextDecoder("latin1");
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

/** The value of a lowercase hex digit's code (callers checked it is one). */
function nibble(code: number): number {
  return code <= 57 ? code - 48 : code - 87;
}

/** Even-length lowercase hex, at most 255 bytes: written as bytes (half the size). */
function isPackableHex(value: string): boolean {
  const length = value.length;
  if (length === 0 || length % 2 !== 0 || length > 510) return false;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (!((code >= 48 && code <= 57) || (code >= 97 && code <= 102))) return false;
  }
  return true;
}

/** A growable byte buffer with the snapshot's primitives (LEB128 varints, tagged strings). */
export class SnapshotWriter {
  #bytes = new Uint8Array(1 << 16);
  #length = 0;

  #room(extra: number): void {
    if (this.#length + extra <= this.#bytes.length) return;
    let size = this.#bytes.length * 2;
    while (size < this.#length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
  }

  byte(value: number): void {
    this.#room(1);
    this.#bytes[this.#length++] = value;
  }

  bool(value: boolean): void {
    this.byte(value ? 1 : 0);
  }

  /** A non-negative safe integer, LEB128. */
  uint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`snapshot: expected a non-negative safe integer, got ${value}`);
    }
    this.#room(8);
    let rest = value;
    while (rest >= 0x80) {
      this.#bytes[this.#length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.#bytes[this.#length++] = rest;
  }

  /** A non-negative bigint below 2^64 (a clock), LEB128. */
  big(value: bigint): void {
    if (value <= 0xffffffffn) {
      this.uint(Number(value));
      return;
    }
    if (value < 0n || value >= 1n << 64n) {
      throw new RangeError(`snapshot: expected a clock from 0n to 2n ** 64n - 1n, got ${value}`);
    }
    this.#room(10);
    let rest = value;
    while (rest >= 0x80n) {
      this.#bytes[this.#length++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.#bytes[this.#length++] = Number(rest);
  }

  /** Raw bytes with their length. */
  bytes(value: Uint8Array): void {
    this.uint(value.length);
    this.#room(value.length);
    this.#bytes.set(value, this.#length);
    this.#length += value.length;
  }

  /** A string: `2·n + 1` then n bytes for packable hex, `2·n` then n UTF-8 bytes otherwise. */
  str(value: string): void {
    if (isPackableHex(value)) {
      const n = value.length / 2;
      this.uint(2 * n + 1);
      this.#room(n);
      for (let i = 0; i < n; i++) {
        this.#bytes[this.#length++] =
          (nibble(value.charCodeAt(2 * i)) << 4) | nibble(value.charCodeAt(2 * i + 1));
      }
      return;
    }
    const utf8 = textEncoder.encode(value);
    this.uint(2 * utf8.length);
    this.#room(utf8.length);
    this.#bytes.set(utf8, this.#length);
    this.#length += utf8.length;
  }

  /** The bytes written, followed by their CRC-32 (big-endian). */
  finish(): Uint8Array {
    this.#room(4);
    const crc = crc32(this.#bytes, this.#length);
    new DataView(this.#bytes.buffer).setUint32(this.#length, crc);
    return this.#bytes.slice(0, this.#length + 4);
  }
}

/** Reads what {@link SnapshotWriter} wrote; any inconsistency is a {@link SnapshotFormatError}. */
export class SnapshotReader {
  readonly #bytes: Uint8Array;
  readonly #end: number;
  #at: number;
  /** Where hex strings are spelled out in ASCII before decoding. */
  readonly #ascii = new Uint8Array(510);

  /**
   * @param bytes - a whole snapshot (checksum last)
   * @param start - where the body starts (after the header)
   * @throws {SnapshotFormatError} when the checksum does not match
   */
  constructor(bytes: Uint8Array, start: number) {
    if (bytes.length < start + 4) throw new SnapshotFormatError("truncated");
    this.#bytes = bytes;
    this.#end = bytes.length - 4;
    this.#at = start;
    const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(this.#end);
    if (crc32(bytes, this.#end) !== stored) throw new SnapshotFormatError("checksum mismatch");
  }

  /** Where the next read starts (for {@link rewind}). */
  get position(): number {
    return this.#at;
  }

  /** Reads again from `position`, one this reader gave (an abandoned fast path). */
  rewind(position: number): void {
    this.#at = position;
  }

  /** How many bytes of the body are left. */
  left(): number {
    return this.#end - this.#at;
  }

  /** Throws unless every byte of the body was read. */
  done(): void {
    if (this.#at !== this.#end) throw new SnapshotFormatError("trailing bytes");
  }

  byte(): number {
    if (this.#at >= this.#end) throw new SnapshotFormatError("truncated");
    return this.#bytes[this.#at++] as number;
  }

  bool(): boolean {
    const value = this.byte();
    if (value > 1) throw new SnapshotFormatError(`boolean ${value}`);
    return value === 1;
  }

  uint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) break;
      scale *= 0x80;
      if (scale > 2 ** 49) throw new SnapshotFormatError("integer too long");
    }
    if (!Number.isSafeInteger(value)) throw new SnapshotFormatError("integer out of range");
    return value;
  }

  /** A count of items each at least `min` bytes long: bounded by the bytes left. */
  count(min = 1): number {
    const value = this.uint();
    if (value * min > this.#end - this.#at) throw new SnapshotFormatError("count beyond the end");
    return value;
  }

  big(): bigint {
    // Up to 7 bytes (49 bits) in a number: no BigInt arithmetic for the clocks a state holds.
    const bytes = this.#bytes;
    let at = this.#at;
    let small = 0;
    let scale = 1;
    for (let i = 0; i < 7 && at < this.#end; i++) {
      const b = bytes[at++] as number;
      small += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        this.#at = at;
        return BigInt(small);
      }
      scale *= 0x80;
    }
    return this.#bigSlow();
  }

  #bigSlow(): bigint {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new SnapshotFormatError("clock too long");
    }
    if (value >= 1n << 64n) throw new SnapshotFormatError("clock out of range");
    return value;
  }

  bytes(): Uint8Array {
    const length = this.count();
    const value = this.#bytes.slice(this.#at, this.#at + length);
    this.#at += length;
    return value;
  }

  str(): string {
    const header = this.uint();
    // Empty texts (ENS names, chat ids, descriptions) are most of a request's: no decoder call.
    if (header === 0) return "";
    const n = Math.floor(header / 2);
    if (n > this.#end - this.#at) throw new SnapshotFormatError("string beyond the end");
    const at = this.#at;
    this.#at += n;
    if (header % 2 === 1) {
      if (n > 255) throw new SnapshotFormatError("hex string too long");
      const ascii = this.#ascii;
      const bytes = this.#bytes;
      for (let i = 0; i < n; i++) {
        const b = bytes[at + i] as number;
        ascii[2 * i] = hexCodes[b >> 4] as number;
        ascii[2 * i + 1] = hexCodes[b & 15] as number;
      }
      return latin1.decode(ascii.subarray(0, 2 * n));
    }
    try {
      return textDecoder.decode(this.#bytes.subarray(at, at + n));
    } catch (cause) {
      throw new SnapshotFormatError("invalid UTF-8", { cause });
    }
  }

  /**
   * The entries of a map from 64-hex ids to clocks ({@link SnapshotWriter.str} then
   * {@link SnapshotWriter.big} each), when every key is one, as two tables: the ids' 32 bytes each,
   * and the clocks — no string and no object per entry.
   *
   * @param count - the entries ({@link count} checked them against the bytes left)
   * @returns the ids, the clocks, and whether the ids are strictly ascending; `undefined` (nothing
   *   read) when a key is not 64-hex
   * @throws {SnapshotFormatError} for a clock that does not decode
   */
  hexIdTable(
    count: number,
  ): { ids: Uint8Array; clocks: BigUint64Array; ascending: boolean } | undefined {
    const start = this.#at;
    const bytes = this.#bytes;
    const ids = new Uint8Array(32 * count);
    const clocks = new BigUint64Array(count);
    let ascending = true;
    for (let i = 0; i < count; i++) {
      // 65 = 2 · 32 + 1: 32 bytes of packed hex (a one-byte varint).
      if (this.#at + 33 > this.#end || bytes[this.#at] !== 65) {
        this.#at = start;
        return undefined;
      }
      const at = this.#at + 1;
      ids.set(bytes.subarray(at, at + 32), 32 * i);
      if (ascending && i > 0) {
        const previous = 32 * (i - 1);
        let order = 0;
        for (let j = 0; j < 32 && order === 0; j++) {
          order = (ids[previous + 32 + j] as number) - (ids[previous + j] as number);
        }
        ascending = order > 0;
      }
      this.#at = at + 32;
      clocks[i] = this.big();
    }
    return { ids, clocks, ascending };
  }

  /** One of `values`, written as a string. */
  oneOf<T extends string>(values: readonly T[]): T {
    const value = this.str();
    if (!(values as readonly string[]).includes(value)) {
      throw new SnapshotFormatError(`unexpected value ${JSON.stringify(value.slice(0, 32))}`);
    }
    return value as T;
  }
}
