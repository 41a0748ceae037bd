import { errorGuard, OrgchatError } from "@orgchat/base";
import { crc32, littleEndian } from "./snapshot-crc.js";

export { crc32 };

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

/** ASCII codes of the hex digits, by value. */
const hexCodes = Uint8Array.from("0123456789abcdef", (c) => c.charCodeAt(0));
/**
 * Hex strings are made from ASCII bytes by a Latin-1 decoder: a flat string in one native call
 * (concatenating pairs builds a rope that every hash of the key then flattens: 10× slower).
 */
const latin1 = new TextDecoder("latin1");
const textEncoder = new TextEncoder();
/** `ignoreBOM`: a string that starts with U+FEFF keeps it (by default the decoder drops it). */
const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The value of each UTF-16 code unit as a lowercase hex digit, 255 for any other: one lookup per
 * character checks and packs hex in the same pass (no separate check, no call per character).
 */
const hexValues = (() => {
  const values = new Uint8Array(0x10000).fill(255);
  for (let v = 0; v < 16; v++) values[hexCodes[v] as number] = v;
  return values;
})();

/** Even-length lowercase hex, at most 255 bytes: written as bytes (half the size). */
function isPackableHex(value: string): boolean {
  const length = value.length;
  if (length === 0 || length % 2 !== 0 || length > 510) return false;
  for (let i = 0; i < length; i++) {
    if ((hexValues[value.charCodeAt(i)] as number) > 15) return false;
  }
  return true;
}

/** The bytes of `value`'s LEB128 varint (a non-negative safe integer). */
function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

/** Strings up to this many UTF-16 units are written by a loop while ASCII (no native call). */
const shortString = 32;
/** A first buffer without a size hint, and the least room any writer starts with. */
const firstSize = 1 << 16;

/** A growable byte buffer with the snapshot's primitives (LEB128 varints, tagged strings). */
export class SnapshotWriter {
  #bytes: Uint8Array;
  #length = 0;

  /**
   * @param sizeHint - the bytes this writer will likely write (a previous snapshot's size): the
   *   buffer starts at that plus an eighth, so that a snapshot a little larger than the last one
   *   is written without growing (no copy of what was written)
   */
  constructor(sizeHint = 0) {
    this.#bytes = new Uint8Array(Math.max(firstSize, sizeHint + Math.ceil(sizeHint / 8)));
  }

  /** How many bytes were written so far. */
  get position(): number {
    return this.#length;
  }

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
    if (value >= 0 && value < 0x80) {
      // A one-byte varint (most counts, string headers, clocks): `value` is an integer below 128.
      if (value % 1 === 0) {
        this.byte(value);
        return;
      }
    }
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

  /**
   * `source[start, end)` as they are: bytes an earlier write of the same values produced (a
   * record's, `snapshot-records.ts`).
   */
  copy(source: Uint8Array, start: number, end: number): void {
    const length = end - start;
    this.#room(length);
    this.#bytes.set(source.subarray(start, end), this.#length);
    this.#length += length;
  }

  /**
   * The string of `source[start, end)` spelled in lowercase hex, from the bytes: what {@link str}
   * writes for that string (an applied id of `AppliedIds`' table, without making it).
   * @throws {RangeError} unless 1 to 255 bytes (what {@link str} packs)
   */
  hexBytes(source: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (!(n >= 1 && n <= 255)) throw new RangeError(`snapshot: hex of 1 to 255 bytes, got ${n}`);
    this.uint(2 * n + 1);
    this.copy(source, start, end);
  }

  /** A string: `2·n + 1` then n bytes for packable hex, `2·n` then n UTF-8 bytes otherwise. */
  str(value: string): void {
    const length = value.length;
    if (length !== 0 && length % 2 === 0 && length <= 510 && this.#hex(value)) return;
    if (length <= shortString && this.#ascii(value)) return;
    this.#utf8(value);
  }

  /**
   * Packs `value` (even length, at most 510) as hex after its header, in one pass that checks each
   * digit; false (nothing written: `#length` unchanged) at the first character that is not one.
   */
  #hex(value: string): boolean {
    const length = value.length;
    const header = length + 1; // 2 · (length / 2) + 1: at most 511, two varint bytes
    const at = this.#length;
    this.#room(2 + length / 2);
    const bytes = this.#bytes;
    let out = at + (header < 0x80 ? 1 : 2);
    for (let i = 0; i < length; i += 2) {
      const high = hexValues[value.charCodeAt(i)] as number;
      const low = hexValues[value.charCodeAt(i + 1)] as number;
      if ((high | low) > 15) return false;
      bytes[out++] = (high << 4) | low;
    }
    if (header < 0x80) {
      bytes[at] = header;
    } else {
      bytes[at] = (header & 0x7f) | 0x80;
      bytes[at + 1] = header >>> 7;
    }
    this.#length = out;
    return true;
  }

  /** Writes a short `value` when it is all ASCII; false (nothing written) otherwise. */
  #ascii(value: string): boolean {
    const length = value.length; // at most `shortString`: a one-byte header
    const at = this.#length;
    this.#room(1 + length);
    const bytes = this.#bytes;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) return false;
      bytes[at + 1 + i] = code;
    }
    bytes[at] = 2 * length;
    this.#length = at + 1 + length;
    return true;
  }

  /**
   * UTF-8 straight into the buffer (`encodeInto`, no temporary array) after room for the header
   * of an ASCII string of that length; moved up in the rare case the header takes more bytes.
   */
  #utf8(value: string): void {
    const length = value.length;
    const guess = varintSize(2 * length);
    // At most 3 UTF-8 bytes per UTF-16 unit (a surrogate pair is 4 bytes for 2 units).
    this.#room(varintSize(6 * length) + 3 * length);
    const at = this.#length;
    const { written } = textEncoder.encodeInto(value, this.#bytes.subarray(at + guess));
    const size = varintSize(2 * written);
    const bytes = this.#bytes;
    if (size !== guess) bytes.copyWithin(at + size, at + guess, at + guess + written);
    let out = at;
    let rest = 2 * written;
    for (; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes[out++] = (rest % 0x80) | 0x80;
    bytes[out] = rest;
    this.#length = at + size + written;
  }

  /** The bytes written, followed by their CRC-32 (big-endian). */
  finish(): Uint8Array {
    this.#room(4);
    const crc = crc32(this.#bytes, this.#length);
    new DataView(this.#bytes.buffer).setUint32(this.#length, crc);
    return this.#bytes.slice(0, this.#length + 4);
  }

  /**
   * The writer's own buffer after {@link finish} (the snapshot and spare room): never handed to a
   * caller of `encodeSnapshot`, so the bytes of a record in it stay as written
   * (`snapshot-records.ts`).
   */
  get buffer(): Uint8Array {
    return this.#bytes;
  }
}

/**
 * Whether `bytes[start, end)` is well-formed UTF-8, as a fatal `TextDecoder` judges it (no overlong
 * form, no surrogate, nothing above U+10FFFF), without decoding it.
 */
function wellFormedUtf8(bytes: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) low = 0xa0;
      else if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) low = 0x90;
      else if (b === 0xf4) high = 0x8f;
    } else return false;
    if (i + need >= end) return false;
    const first = bytes[i + 1] as number;
    if (first < low || first > high) return false;
    for (let k = 2; k <= need; k++) {
      const c = bytes[i + k] as number;
      if (c < 0x80 || c > 0xbf) return false;
    }
    i += need + 1;
  }
  return true;
}

/** Reads what {@link SnapshotWriter} wrote; any inconsistency is a {@link SnapshotFormatError}. */
export class SnapshotReader {
  readonly #bytes: Uint8Array;
  readonly #end: number;
  #at: number;
  /** Where hex strings are spelled out in ASCII before decoding. */
  readonly #ascii = new Uint8Array(510);
  /**
   * False once a value was read that {@link SnapshotWriter} does not write that way (a varint
   * with a needless zero byte, hex written as UTF-8 or empty): it decodes, but re-encoded it gives
   * other bytes. Set to true by the caller before the values it asks about.
   */
  canonical = true;

  /**
   * @param bytes - a whole snapshot (checksum last)
   * @param start - where the body starts (after the header)
   * @throws {SnapshotFormatError} when the checksum does not match
   */
  constructor(bytes: Uint8Array, start: number, checked?: { readonly end: number }) {
    this.#bytes = bytes;
    this.#at = start;
    if (checked !== undefined) {
      this.#end = checked.end;
      return;
    }
    if (bytes.length < start + 4) throw new SnapshotFormatError("truncated");
    this.#end = bytes.length - 4;
    const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(this.#end);
    if (crc32(bytes, this.#end) !== stored) throw new SnapshotFormatError("checksum mismatch");
  }

  /**
   * A reader of bytes a reader already checked and read once (a record read again at first use,
   * `snapshot-requests.ts`): no checksum.
   * @param bytes - the bytes
   * @param start - where to read
   * @param end - where they end
   * @returns the reader
   */
  static checked(bytes: Uint8Array, start: number, end: number): SnapshotReader {
    return new SnapshotReader(bytes, start, { end });
  }

  /** The bytes read (for a record's 32-byte key, in place). */
  get source(): Uint8Array {
    return this.#bytes;
  }

  /**
   * Skips a string as {@link str} reads it, checking what {@link str} checks (its length, hex at
   * most 255 bytes, UTF-8 well formed) without making it.
   */
  skipStr(): void {
    const header = this.uint();
    if (header === 0) return;
    const at = this.#strBody(header);
    if (header % 2 === 1) return;
    if (!wellFormedUtf8(this.#bytes, at, this.#at)) throw new SnapshotFormatError("invalid UTF-8");
  }

  /**
   * Steps over the body of a string whose header (not 0) was just read, checking what both
   * {@link str} and {@link skipStr} check: it fits in the bytes left, hex is at most 255 bytes.
   * @returns where the body starts (it ends at the new position)
   */
  #strBody(header: number): number {
    const n = Math.floor(header / 2);
    if (n > this.#end - this.#at) throw new SnapshotFormatError("string beyond the end");
    if (header % 2 === 1 && n > 255) throw new SnapshotFormatError("hex string too long");
    const at = this.#at;
    this.#at += n;
    return at;
  }

  /** Skips a clock as `big` reads it, checking it is at most `max`, without making a bigint. */
  skipBig(max: bigint): void {
    const bytes = this.#bytes;
    let at = this.#at;
    for (let i = 0; i < 7 && at < this.#end; i++) {
      if (((bytes[at++] as number) & 0x80) === 0) {
        // Below 2^49: under any clock limit.
        this.#at = at;
        return;
      }
    }
    if (this.big() > max) throw new SnapshotFormatError("clock above the limit");
  }

  /**
   * One of `values` (each ASCII, at most 63 characters), written as a string: compared by its
   * bytes, no string made.
   */
  oneOfAscii<T extends string>(values: readonly T[]): T {
    const start = this.#at;
    const header = this.uint();
    const n = header / 2;
    if (header % 2 === 0 && n <= this.#end - this.#at) {
      const bytes = this.#bytes;
      const at = this.#at;
      for (const value of values) {
        if (value.length !== n) continue;
        let same = true;
        for (let i = 0; i < n && same; i++) same = bytes[at + i] === value.charCodeAt(i);
        if (same) {
          this.#at = at + n;
          return value;
        }
      }
    }
    this.#at = start;
    return this.oneOf(values);
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
      if ((b & 0x80) === 0) {
        if (b === 0 && scale > 1) this.canonical = false;
        break;
      }
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
        if (b === 0 && i > 0) this.canonical = false;
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
      if ((b & 0x80) === 0) {
        if (b === 0 && shift > 0n) this.canonical = false;
        break;
      }
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
    const at = this.#strBody(header);
    const n = this.#at - at;
    if (header % 2 === 1) {
      if (n === 0) this.canonical = false;
      const ascii = this.#ascii;
      const bytes = this.#bytes;
      for (let i = 0; i < n; i++) {
        const b = bytes[at + i] as number;
        ascii[2 * i] = hexCodes[b >> 4] as number;
        ascii[2 * i + 1] = hexCodes[b & 15] as number;
      }
      return latin1.decode(ascii.subarray(0, 2 * n));
    }
    let value: string;
    try {
      value = textDecoder.decode(this.#bytes.subarray(at, at + n));
    } catch (cause) {
      throw new SnapshotFormatError("invalid UTF-8", { cause });
    }
    if (isPackableHex(value)) this.canonical = false;
    return value;
  }

  /**
   * The entries of a map from 64-hex ids to clocks ({@link SnapshotWriter.str} then
   * {@link SnapshotWriter.big} each), when every key is one, as two tables: the ids' 32 bytes each,
   * and the clocks — no string and no object per entry. A clock below 2^49 (every clock a state
   * holds in practice) is written into the table as two 32-bit halves: no bigint per entry, and no
   * limit check when `max` is at least 2^49; a longer one is read by {@link big} and checked.
   *
   * @param count - the entries ({@link count} checked them against the bytes left)
   * @param max - the highest clock accepted
   * @returns the ids, the clocks, and whether the ids are strictly ascending; `undefined` (nothing
   *   read) when a key is not 64-hex
   * @throws {SnapshotFormatError} for a clock that does not decode or is above `max`
   */
  hexIdTable(
    count: number,
    max: bigint,
  ): { ids: Uint8Array; clocks: BigUint64Array; ascending: boolean } | undefined {
    const start = this.#at;
    const bytes = this.#bytes;
    const end = this.#end;
    const ids = new Uint8Array(32 * count);
    const clocks = new BigUint64Array(count);
    // By halves when they land where a 64-bit integer's do, and no clock below 2^49 can exceed `max`.
    const halves =
      littleEndian && max >= 0x2_0000_0000_0000n ? new Uint32Array(clocks.buffer) : undefined;
    let ascending = true;
    let at = start;
    for (let i = 0; i < count; i++) {
      // 65 = 2 · 32 + 1: 32 bytes of packed hex (a one-byte varint).
      if (at + 33 > end || bytes[at] !== 65) {
        this.#at = start;
        return undefined;
      }
      at++;
      const out = 32 * i;
      // Ascending: the first byte that differs from the previous id's is greater.
      let order = i === 0 ? 1 : 0;
      for (let j = 0; j < 32; j++) {
        const b = bytes[at + j] as number;
        if (order === 0) order = b - (ids[out - 32 + j] as number);
        ids[out + j] = b;
      }
      if (order <= 0) ascending = false;
      at += 32;
      // The clock: up to 7 varint bytes (below 2^49) in a number.
      let small = 0;
      let scale = 1;
      let length = 0;
      while (length < 7 && at + length < end) {
        const b = bytes[at + length] as number;
        length++;
        small += (b & 0x7f) * scale;
        if ((b & 0x80) === 0) {
          if (b === 0 && length > 1) this.canonical = false;
          scale = 0;
          break;
        }
        scale *= 0x80;
      }
      if (scale === 0 && halves !== undefined) {
        halves[2 * i] = small >>> 0;
        halves[2 * i + 1] = Math.floor(small / 0x1_0000_0000);
        at += length;
      } else {
        this.#at = at;
        const clock = this.big();
        if (clock > max) throw new SnapshotFormatError("clock above the limit");
        clocks[i] = clock;
        at = this.#at;
      }
    }
    this.#at = at;
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
