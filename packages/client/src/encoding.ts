import { sha256 } from "@noble/hashes/sha2.js";
import { fromHex, toHex } from "@orgchat/base";

export { fromHex, toHex };

/** Hex SHA-256: the id of everything the client publishes or receives (docs/CLIENT.md). */
export const hashId = (bytes: Uint8Array): string => toHex(sha256(bytes));

/**
 * The same id as {@link hashId}, by the provider's SHA-256 (node:crypto under Node: one native call
 * when the provider has `sha256Hex`, no digest buffer nor hex conversion in JavaScript).
 * @param provider - the client's crypto provider
 * @param bytes - a payload published or received
 * @returns its id, 64 lowercase hex characters
 */
export function payloadId(
  provider: { sha256(data: Uint8Array): Uint8Array; sha256Hex?(data: Uint8Array): string },
  bytes: Uint8Array,
): string {
  return provider.sha256Hex === undefined
    ? toHex(provider.sha256(bytes))
    : provider.sha256Hex(bytes);
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

export const encodeText = (text: string): Uint8Array => utf8.encode(text);
export const decodeText = (bytes: Uint8Array): string => utf8Decoder.decode(bytes);

/** JSON with bigints (`{"$n":"…"}`) and byte arrays (`{"$b":"hex"}`), for records and log entries. */
export function encodeJson(value: unknown): Uint8Array {
  return utf8.encode(
    // A function (not arrow) replacer: `this[key]` is the raw value. JSON.stringify calls a
    // Buffer's toJSON() before the replacer sees it, so `v` would be {type:"Buffer",data:[…]} and
    // reload as an object instead of bytes (libp2p hands out Buffers).
    JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
      const raw = key === "" ? v : this[key];
      if (typeof raw === "bigint") return { $n: raw.toString() };
      if (raw instanceof Uint8Array) return { $b: toHex(raw) };
      return v;
    }),
  );
}

/** The inverse of {@link encodeJson}. @throws SyntaxError on bytes that are not such JSON */
export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(decodeText(bytes), (_key, v: unknown) => {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      const record = v as Record<string, unknown>;
      const keys = Object.keys(record);
      if (keys.length === 1 && typeof record.$n === "string") return BigInt(record.$n);
      if (keys.length === 1 && typeof record.$b === "string") return fromHex(record.$b);
    }
    return v;
  }) as T;
}

/**
 * The stored form of an epoch roster (`roster/<key id>` records, written with {@link encodeJson};
 * read them with `decodeStoredRoster`).
 */
export type { EpochRoster } from "./epoch-roster.js";

/**
 * First byte of a record in the compact binary form ({@link encodeStored}); JSON records start
 * with `{`, `[` or `"`, so a reader tells the two apart by it and keeps reading old stores.
 */
export const binaryRecordMark = 0xb1;
/** First byte of a binary record that carries the `flag` bit (see {@link encodeStored}). */
export const flaggedBinaryRecordMark = 0xb2;

/** Value tags of the binary form. */
const tag = {
  undefined: 0,
  null: 1,
  false: 2,
  true: 3,
  float: 4,
  bigint: 5,
  string: 6,
  bytes: 7,
  array: 8,
  object: 9,
  uint: 10,
} as const;

/**
 * Nesting the binary decoder follows at most: a stored record is the client's own, but a damaged
 * one must fail with an error, not exhaust the stack.
 */
const maxBinaryDepth = 64;

/**
 * The scratch buffer {@link encodeStored} writes into (one record at a time, synchronously), kept
 * between calls while it is at most this size: a record then costs one allocation (its copy).
 */
const maxScratchBytes = 64 * 1024;
let scratch: Uint8Array = new Uint8Array(1024);
/** Whether {@link encodeStored} is writing into `scratch` (a nested call then takes its own buffer). */
let scratchInUse = false;

/**
 * Records of this size or less are copied out of the scratch buffer into a shared slab
 * ({@link takeRecord}); a smaller one (≤ 64 B) is an on-heap array anyway, a larger one gets its own.
 */
const slabRecordMax = 2048;
/** The slab's size: ~14 sends' event and outbox records. */
const slabBytes = 32 * 1024;
/** Records at most this size are small enough for V8 to keep on its heap (no array buffer). */
const onHeapMax = 64;
let slab = new Uint8Array(0);
let slabAt = 0;

/**
 * A copy of `bytes[0, length)`, a record's own bytes: a view of a shared slab for a mid-sized record
 * (events and outbox entries, written with every send), else its own array. Each view covers only
 * its record, and a slab is only written at positions no view covers yet, so a record never changes
 * once returned; a slab lives as long as a view of it does. One array buffer per ~14 sends instead of
 * two per send: V8 sweeps and frees each array buffer apart (helper threads, `malloc`/`free`).
 */
function takeRecord(bytes: Uint8Array, length: number): Uint8Array {
  if (length <= onHeapMax || length > slabRecordMax) return bytes.slice(0, length);
  if (slabAt + length > slab.length) {
    slab = new Uint8Array(slabBytes);
    slabAt = 0;
  }
  const at = slabAt;
  slab.set(bytes.subarray(0, length), at);
  // Views start 8-aligned (a reader may want aligned access).
  slabAt = (at + length + 7) & ~7;
  return slab.subarray(at, at + length);
}

/** How many bytes the unsigned LEB128 of `value` takes. */
function varintBytes(value: number): number {
  let bytes = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes++;
  return bytes;
}

/** A growable byte buffer for {@link encodeStored}. */
class Writer {
  bytes: Uint8Array;
  length = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let size = Math.max(256, this.bytes.length * 2);
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes.fill(0, 0, this.length);
    this.bytes = next;
  }

  byte(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value;
  }

  /** Unsigned LEB128 of a non-negative safe integer. */
  varint(value: number): void {
    this.reserve(8);
    let rest = value;
    while (rest >= 0x80) {
      this.bytes[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.bytes[this.length++] = rest;
  }

  raw(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  text(value: string): void {
    const length = value.length;
    if (length < 0x80) {
      // Short ASCII (ids, keys, most texts' prefix): written byte by byte, no view allocated.
      this.reserve(1 + length);
      const bytes = this.bytes;
      const at = this.length;
      let i = 0;
      for (; i < length; i++) {
        const unit = value.charCodeAt(i);
        if (unit >= 0x80) break;
        bytes[at + 1 + i] = unit;
      }
      if (i === length) {
        bytes[at] = length;
        this.length = at + 1 + length;
        return;
      }
    }
    // UTF-8 takes at most 3 bytes per UTF-16 unit: encoded in place after room for the longest
    // length prefix, moved down when the actual prefix is shorter (same bytes as `raw(encode())`).
    const most = value.length * 3;
    const room = varintBytes(most);
    this.reserve(room + most);
    const at = this.length;
    const { written } = utf8.encodeInto(value, this.bytes.subarray(at + room));
    const prefix = varintBytes(written);
    if (prefix < room) this.bytes.copyWithin(at + prefix, at + room, at + room + written);
    // The prefix, written into the room reserved above (no `reserve`: it could move the buffer).
    let rest = written;
    let to = at;
    while (rest >= 0x80) {
      this.bytes[to++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.bytes[to] = rest;
    this.length = at + prefix + written;
  }

  value(value: unknown): void {
    switch (typeof value) {
      case "undefined":
        this.byte(tag.undefined);
        return;
      case "boolean":
        this.byte(value ? tag.true : tag.false);
        return;
      case "number":
        if (Number.isSafeInteger(value) && value >= 0) {
          this.byte(tag.uint);
          this.varint(value);
        } else {
          this.byte(tag.float);
          this.reserve(8);
          new DataView(this.bytes.buffer).setFloat64(this.length, value);
          this.length += 8;
        }
        return;
      case "bigint":
        this.byte(tag.bigint);
        this.text(value.toString());
        return;
      case "string":
        this.byte(tag.string);
        this.text(value);
        return;
      case "object":
        break;
      default:
        throw new TypeError(`encodeStored: cannot store a ${typeof value}`);
    }
    if (value === null) {
      this.byte(tag.null);
    } else if (value instanceof Uint8Array) {
      this.byte(tag.bytes);
      this.raw(value);
    } else if (Array.isArray(value)) {
      this.byte(tag.array);
      this.varint(value.length);
      for (const item of value) this.value(item);
    } else {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      let count = 0;
      for (const key of keys) if (record[key] !== undefined) count++;
      this.byte(tag.object);
      this.varint(count);
      for (const key of keys) {
        const item = record[key];
        if (item === undefined) continue;
        this.text(key);
        this.value(item);
      }
    }
  }
}

/** Reads what {@link Writer} wrote. */
class Reader {
  at = 1;
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  byte(): number {
    if (this.at >= this.bytes.length) throw new RangeError("decodeStored: truncated record");
    return this.bytes[this.at++] as number;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 53) throw new RangeError("decodeStored: varint too long");
    }
    return value;
  }

  raw(): Uint8Array {
    const length = this.varint();
    if (this.at + length > this.bytes.length) {
      throw new RangeError("decodeStored: truncated record");
    }
    const out = this.bytes.slice(this.at, this.at + length);
    this.at += length;
    return out;
  }

  text(): string {
    const length = this.varint();
    if (this.at + length > this.bytes.length) {
      throw new RangeError("decodeStored: truncated record");
    }
    const out = utf8Decoder.decode(this.bytes.subarray(this.at, this.at + length));
    this.at += length;
    return out;
  }

  value(depth: number): unknown {
    if (depth > maxBinaryDepth) throw new RangeError("decodeStored: nested too deep");
    switch (this.byte()) {
      case tag.undefined:
        return undefined;
      case tag.null:
        return null;
      case tag.false:
        return false;
      case tag.true:
        return true;
      case tag.uint:
        return this.varint();
      case tag.float: {
        if (this.at + 8 > this.bytes.length) throw new RangeError("decodeStored: truncated record");
        const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
        const out = view.getFloat64(this.at);
        this.at += 8;
        return out;
      }
      case tag.bigint:
        return BigInt(this.text());
      case tag.string:
        return this.text();
      case tag.bytes:
        return this.raw();
      case tag.array: {
        const count = this.varint();
        const out: unknown[] = [];
        for (let i = 0; i < count; i++) out.push(this.value(depth + 1));
        return out;
      }
      case tag.object: {
        const count = this.varint();
        const out: Record<string, unknown> = {};
        for (let i = 0; i < count; i++) {
          const key = this.text();
          const item = this.value(depth + 1);
          if (key === "__proto__") continue;
          out[key] = item;
        }
        return out;
      }
      default:
        throw new RangeError("decodeStored: unknown value tag");
    }
  }
}

/**
 * The compact binary form of a stored record (events, messages, outbox, description): a mark byte,
 * then the value tagged (numbers as varints when they are non-negative integers, byte arrays raw,
 * strings as UTF-8, bigints exactly). About half the bytes of {@link encodeJson} for a post, and no
 * hex. `flag` sets a one-bit fact about the record in its mark (the events log: a post proven by its
 * epoch, docs/CLIENT.md "Persistence").
 * @param value - plain data: objects, arrays, strings, numbers, bigints, booleans, null, bytes
 * @param flag - the record's flag bit @default false
 * @returns the record's bytes
 * @throws {TypeError} on a function or symbol
 */
export function encodeStored(value: unknown, flag = false): Uint8Array {
  // Taken while in use: a nested call (a getter calling back) gets a buffer of its own.
  const nested = scratchInUse;
  const writer = new Writer(nested ? new Uint8Array(256) : scratch);
  scratchInUse = true;
  try {
    writer.byte(flag ? flaggedBinaryRecordMark : binaryRecordMark);
    writer.value(value);
    return nested ? writer.bytes.slice(0, writer.length) : takeRecord(writer.bytes, writer.length);
  } finally {
    // Records hold message text: none is left behind in the kept buffer.
    writer.bytes.fill(0, 0, writer.length);
    if (!nested) {
      scratchInUse = false;
      scratch = writer.bytes.length <= maxScratchBytes ? writer.bytes : new Uint8Array(1024);
    }
  }
}

/**
 * Reads a record written by {@link encodeStored} or, for stores written before it, by
 * {@link encodeJson}.
 * @param bytes - the stored value
 * @returns the value, and its flag bit (always false for JSON)
 * @throws {RangeError} / {SyntaxError} on a damaged record
 */
export function decodeStored<T>(bytes: Uint8Array): { value: T; flag: boolean } {
  const mark = bytes[0];
  if (mark !== binaryRecordMark && mark !== flaggedBinaryRecordMark) {
    return { value: decodeJson<T>(bytes), flag: false };
  }
  const reader = new Reader(bytes);
  const value = reader.value(0) as T;
  if (reader.at !== bytes.length) throw new RangeError("decodeStored: trailing bytes");
  return { value, flag: mark === flaggedBinaryRecordMark };
}
