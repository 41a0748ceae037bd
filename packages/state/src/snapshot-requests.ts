/**
 * A state snapshot's join requests, read at first use (docs/SCALE.md, "State snapshot"): an
 * organization on request holds one decided request per member, and a start reads none of them
 * but the pending ones (and the rejected ones, for the re-request cool-down). A decode checks every
 * entry as before (every byte, every range, a key twice) without making its strings and objects;
 * it reads whole only the requests the index needs, and the others when first looked up or walked.
 *
 * @module
 */
import { clockLimits } from "./clock.js";
import { SnapshotFormatError, SnapshotReader } from "./snapshot-codec.js";
import type { RecordPlaces } from "./snapshot-records.js";
import type { JoinRequest, JoinRequestStatus } from "./state.js";

const joinStatuses: readonly JoinRequestStatus[] = ["pending", "accepted", "rejected", "cancelled"];

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Reads one request's fields after its key, as `encodeSnapshot` writes them.
 * @param r - the reader, after the key
 * @param id - the key
 * @returns the request
 */
export function readRequest(r: SnapshotReader, id: string): JoinRequest {
  const request: Mutable<JoinRequest> = {
    id,
    requester: r.str(),
    chatId: r.str(),
    ensName: r.str(),
    displayName: r.str(),
    clock: readClock(r),
    sentAt: r.uint(),
    status: r.oneOfAscii(joinStatuses),
  };
  if (r.bool()) request.decidedBy = r.str();
  if (r.bool()) request.decidedAt = readClock(r);
  if (r.bool()) request.decidedSentAt = r.uint();
  if (r.bool()) request.rejectionReason = r.str();
  return request as JoinRequest;
}

function readClock(r: SnapshotReader): bigint {
  const clock = r.big();
  if (clock > clockLimits.maxClock) throw new SnapshotFormatError("clock above the limit");
  return clock;
}

/**
 * Checks one request's fields after its key, as {@link readRequest} would, making nothing.
 * @returns its status
 */
function skipRequest(r: SnapshotReader): JoinRequestStatus {
  r.skipStr();
  r.skipStr();
  r.skipStr();
  r.skipStr();
  r.skipBig(clockLimits.maxClock);
  r.uint();
  const status = r.oneOfAscii(joinStatuses);
  if (r.bool()) r.skipStr();
  if (r.bool()) r.skipBig(clockLimits.maxClock);
  if (r.bool()) r.uint();
  if (r.bool()) r.skipStr();
  return status;
}

/** ASCII codes of the hex digits, by value. */
const hexCodes = Uint8Array.from("0123456789abcdef", (c) => c.charCodeAt(0));
const latin1 = new TextDecoder("latin1");

/** The 64-hex string of the 32 bytes at `bytes[at]`. */
function hexOf(bytes: Uint8Array, at: number): string {
  const ascii = new Uint8Array(64);
  for (let i = 0; i < 32; i++) {
    const b = bytes[at + i] as number;
    ascii[2 * i] = hexCodes[b >> 4] as number;
    ascii[2 * i + 1] = hexCodes[b & 15] as number;
  }
  return latin1.decode(ascii);
}

/**
 * The first 30 bits of the 32 bytes at `bytes[at]` (a key's hash: a small integer, which a `Map`
 * hashes fastest; ids are hashes, so 10,000 of them share one in ~5 % of snapshots, then the
 * second goes by its string).
 */
function prefixOf(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] as number) << 22) |
    ((bytes[at + 1] as number) << 14) |
    ((bytes[at + 2] as number) << 6) |
    ((bytes[at + 3] as number) >> 2)
  );
}

/** The same of a 64-hex string (lowercase), or -1 when it is not one. */
function prefixOfHex(key: string): number {
  if (key.length !== 64) return -1;
  let value = 0;
  for (let i = 0; i < 8; i++) {
    const c = key.charCodeAt(i);
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value >>> 2;
}

/** Whether the 32 bytes at `bytes[at]` spell `key` in lowercase hex. */
function spells(bytes: Uint8Array, at: number, key: string): boolean {
  for (let i = 0; i < 32; i++) {
    const b = bytes[at + i] as number;
    if (
      key.charCodeAt(2 * i) !== hexCodes[b >> 4] ||
      key.charCodeAt(2 * i + 1) !== hexCodes[b & 15]
    )
      return false;
  }
  return true;
}

/**
 * The requests of a snapshot as a read-only map whose entries are read at first use: a look-up
 * reads one, a walk reads all (in the snapshot's order). Each is read once (the same object at
 * every look-up: records are values compared by identity, `snapshot-records.ts`). Never mutated
 * from outside: `TableMap`'s table.
 */
export class LazyRequests implements ReadonlyMap<string, JoinRequest> {
  /** Where each entry starts (its key) in `#bytes`, in the snapshot's order. */
  readonly #starts: Int32Array;
  readonly #ends: Int32Array;
  /** Entries whose key is a 64-hex id: by its first 6 bytes → entry (the first of that prefix). */
  readonly #byPrefix: Map<number, number>;
  /** Other keys (and the second of a prefix): by key → entry. */
  readonly #byKey: Map<string, number>;
  /** The entries read so far, by entry. */
  readonly #read: Array<JoinRequest | undefined>;
  /** The records' bytes (the snapshot's records sections); dropped once every entry is read. */
  #bytes: Uint8Array | undefined;
  #offset: number;
  #unread: number;
  /** Where read entries note their bytes (a later snapshot copies them). */
  readonly #commit: (record: object, start: number, end: number) => void;

  private constructor(init: {
    starts: Int32Array;
    ends: Int32Array;
    byPrefix: Map<number, number>;
    byKey: Map<string, number>;
    read: Array<JoinRequest | undefined>;
    bytes: Uint8Array;
    offset: number;
    commit: (record: object, start: number, end: number) => void;
  }) {
    this.#starts = init.starts;
    this.#ends = init.ends;
    this.#byPrefix = init.byPrefix;
    this.#byKey = init.byKey;
    this.#read = init.read;
    this.#bytes = init.bytes;
    this.#offset = init.offset;
    this.#commit = init.commit;
    let unread = 0;
    for (let i = 0; i < init.read.length; i++) if (init.read[i] === undefined) unread++;
    this.#unread = unread;
    if (this.#unread === 0) this.#bytes = undefined;
  }

  /**
   * Checks the requests map at `r` (a count, then each entry) and reads whole the requests
   * `readNow` asks for by status; the others are read from `section()` at first use.
   * @param r - the snapshot's reader, at the map
   * @param readNow - whether a request of this status is read now (the index needs it)
   * @param places - the decode's record places (entries read now are noted there)
   * @returns the map, and a function to call once the snapshot is whole: the records' bytes
   *   (`section`, starting at snapshot offset `offset`) and where their places commit
   * @throws {SnapshotFormatError} as the eager read would
   */
  static read(
    r: SnapshotReader,
    readNow: (status: JoinRequestStatus) => boolean,
    places: RecordPlaces,
  ): {
    now: JoinRequest[];
    finish: (
      section: Uint8Array,
      offset: number,
      commit: (record: object, start: number, end: number) => void,
    ) => LazyRequests;
  } {
    const count = r.count(13);
    const starts = new Int32Array(count);
    const ends = new Int32Array(count);
    const byPrefix = new Map<number, number>();
    const byKey = new Map<string, number>();
    const read: Array<JoinRequest | undefined> = new Array(count);
    const now: JoinRequest[] = [];
    const bytes = r.source;
    for (let i = 0; i < count; i++) {
      const at = r.position;
      starts[i] = at;
      r.canonical = true;
      if (bytes[at] === 65 && r.left() >= 33) {
        // A 64-hex key: its 32 bytes, in place.
        r.rewind(at + 33);
        const prefix = prefixOf(bytes, at + 1);
        const first = byPrefix.get(prefix);
        if (first === undefined) byPrefix.set(prefix, i);
        else {
          if (equal32(bytes, (starts[first] as number) + 1, at + 1)) throw twice();
          const key = hexOf(bytes, at + 1);
          if (byKey.has(key)) throw twice();
          byKey.set(key, i);
        }
      } else {
        const key = r.str();
        if (byKey.has(key)) throw twice();
        const prefix = prefixOfHex(key);
        const first = prefix < 0 ? undefined : byPrefix.get(prefix);
        // 64-hex written another way (not canonical): still one key.
        if (first !== undefined && spells(bytes, (starts[first] as number) + 1, key)) throw twice();
        byKey.set(key, i);
      }
      const status = skipRequest(r);
      ends[i] = r.position;
      if (!readNow(status)) continue;
      // The read, not the skip, says whether the bytes are the encoder's (the skip does not
      // check a string's form: an empty one written as hex, a 64-hex text not packed).
      r.rewind(at);
      r.canonical = true;
      const request = readRequest(r, r.str());
      read[i] = request;
      now.push(request);
      if (r.canonical) places.note(request, at, ends[i] as number);
    }
    return {
      now,
      finish: (section, offset, commit) =>
        new LazyRequests({ starts, ends, byPrefix, byKey, read, bytes: section, offset, commit }),
    };
  }

  get size(): number {
    return this.#starts.length;
  }

  get(key: string): JoinRequest | undefined {
    const entry = this.#entryOf(key);
    return entry === undefined ? undefined : this.#at(entry);
  }

  has(key: string): boolean {
    return this.#entryOf(key) !== undefined;
  }

  *entries(): MapIterator<[string, JoinRequest]> {
    for (let i = 0; i < this.#starts.length; i++) {
      const request = this.#at(i);
      yield [request.id, request];
    }
  }

  *keys(): MapIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<JoinRequest> {
    for (const [, value] of this.entries()) yield value;
  }

  forEach(
    callback: (value: JoinRequest, key: string, map: ReadonlyMap<string, JoinRequest>) => void,
  ): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }

  [Symbol.iterator](): MapIterator<[string, JoinRequest]> {
    return this.entries();
  }

  #entryOf(key: string): number | undefined {
    const prefix = prefixOfHex(key);
    if (prefix >= 0) {
      const entry = this.#byPrefix.get(prefix);
      if (entry !== undefined && this.#keyIs(entry, key)) return entry;
    }
    return this.#byKey.get(key);
  }

  /** Whether entry `entry` (a 64-hex key) is `key`. */
  #keyIs(entry: number, key: string): boolean {
    const read = this.#read[entry];
    if (read !== undefined) return read.id === key;
    const bytes = this.#bytes as Uint8Array;
    return spells(bytes, (this.#starts[entry] as number) - this.#offset + 1, key);
  }

  #at(entry: number): JoinRequest {
    const known = this.#read[entry];
    if (known !== undefined) return known;
    const bytes = this.#bytes as Uint8Array;
    const start = (this.#starts[entry] as number) - this.#offset;
    const end = (this.#ends[entry] as number) - this.#offset;
    const r = SnapshotReader.checked(bytes, start, end);
    r.canonical = true;
    const request = readRequest(r, r.str());
    this.#read[entry] = request;
    if (r.canonical) this.#commit(request, start + this.#offset, end + this.#offset);
    if (--this.#unread === 0) this.#bytes = undefined;
    return request;
  }

  /** Compared by content (`toEqual`) like a `Map`. */
  get [Symbol.toStringTag](): string {
    return "Map";
  }
}

function equal32(bytes: Uint8Array, a: number, b: number): boolean {
  for (let i = 0; i < 32; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

function twice(): SnapshotFormatError {
  return new SnapshotFormatError("a key twice in a map");
}
