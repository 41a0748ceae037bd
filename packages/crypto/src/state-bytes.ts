/**
 * The byte layer under every versioned state format of this package (`OwnerGroup`, `MemberGroup`,
 * `EpochKeys`, `OwnerPrekeys`, `PairwiseSession`): one big-endian writer, one bounds-checked reader
 * whose every failure is a {@link StateCorruptedError}, the `body ‖ SHA-256(body)` seal, and the
 * u32 helpers those modules share (constant-time equality lives in `constant-time.ts`, hex in
 * `@orgchat/base`). Each layout stays documented on its own `serialize()`; this
 * module only writes and reads the fields.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */
import { constantTimeEqual } from "./constant-time.js";
import { StateCorruptedError } from "./errors.js";
import type { RosterLeaf } from "./key-schedule.js";
import type { CryptoProvider } from "./provider.js";
import { wipe } from "./secret.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Writes `value` as a big-endian u32 at `at` (patching a prepared buffer in place). */
export function putU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}

/** Reads the big-endian u32 at `at`; the caller checked that four bytes are there. */
export function getU32(bytes: Uint8Array, at: number): number {
  return (
    (((bytes[at] as number) << 24) |
      ((bytes[at + 1] as number) << 16) |
      ((bytes[at + 2] as number) << 8) |
      (bytes[at + 3] as number)) >>>
    0
  );
}

/**
 * Growable big-endian writer of serialized state. Its buffers are wiped when they grow and on
 * {@link StateWriter.finish}: only the returned bytes hold the secrets written.
 */
export class StateWriter {
  #buffer = new Uint8Array(1024);
  #view = new DataView(this.#buffer.buffer);
  #length = 0;

  #reserve(n: number): number {
    const at = this.#length;
    if (at + n > this.#buffer.length) {
      let size = this.#buffer.length * 2;
      while (size < at + n) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.#buffer.subarray(0, at));
      wipe(this.#buffer);
      this.#buffer = grown;
      this.#view = new DataView(grown.buffer);
    }
    this.#length = at + n;
    return at;
  }

  // Reserve before touching #buffer / #view: reserving may replace them.
  u8(value: number): void {
    const at = this.#reserve(1);
    this.#buffer[at] = value;
  }

  u16(value: number): void {
    const at = this.#reserve(2);
    this.#view.setUint16(at, value);
  }

  u32(value: number): void {
    const at = this.#reserve(4);
    this.#view.setUint32(at, value);
  }

  u64(value: bigint): void {
    const at = this.#reserve(8);
    this.#view.setBigUint64(at, value);
  }

  f64(value: number): void {
    const at = this.#reserve(8);
    this.#view.setFloat64(at, value);
  }

  /** `value` as is: its length is fixed by the layout. */
  fixed(value: Uint8Array): void {
    const at = this.#reserve(value.length);
    this.#buffer.set(value, at);
  }

  /** `u32 len(value) ‖ value`. */
  bytes(value: Uint8Array): void {
    this.u32(value.length);
    this.fixed(value);
  }

  /** `u32 len ‖ UTF-8`. */
  string(value: string): void {
    this.bytes(encoder.encode(value));
  }

  /** `u32 leaves`, then per leaf `u8 0` (empty) or `u8 1 ‖ identity_key ‖ signing_key ‖ prekey`. */
  roster(roster: ReadonlyArray<RosterLeaf | undefined>): void {
    this.u32(roster.length);
    for (const leaf of roster) {
      if (leaf === undefined) {
        this.u8(0);
      } else {
        this.u8(1);
        this.fixed(leaf.identityKey);
        this.fixed(leaf.signingKey);
        this.fixed(leaf.prekey);
      }
    }
  }

  /** The bytes written; the writer's buffer is wiped. */
  finish(): Uint8Array {
    const out = this.#buffer.slice(0, this.#length);
    wipe(this.#buffer);
    return out;
  }
}

/**
 * Sequential, bounds-checked big-endian reader of serialized state; copies what it returns. Every
 * failure (truncation, a bad flag, a count larger than what is left, bytes left over) is a
 * {@link StateCorruptedError}.
 */
export class StateReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** How many bytes are left to read. */
  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  #take(length: number): number {
    if (length > this.remaining) throw new StateCorruptedError("state is truncated");
    const at = this.#offset;
    this.#offset += length;
    return at;
  }

  u8(): number {
    return this.#view.getUint8(this.#take(1));
  }

  /** A `u8` that must be 0 or 1. */
  flag(): boolean {
    const value = this.u8();
    if (value > 1) throw new StateCorruptedError(`flag ${value} is not 0 or 1`);
    return value === 1;
  }

  u16(): number {
    return this.#view.getUint16(this.#take(2));
  }

  u32(): number {
    return this.#view.getUint32(this.#take(4));
  }

  /** A `u32` count of items that each take at least one byte: bounded by what is left. */
  count(): number {
    const value = this.u32();
    if (value > this.remaining) throw new StateCorruptedError("count too large");
    return value;
  }

  u64(): bigint {
    return this.#view.getBigUint64(this.#take(8));
  }

  /** An `f64` that must be finite: every one in our states is a time in milliseconds. */
  f64(): number {
    const value = this.#view.getFloat64(this.#take(8));
    if (!Number.isFinite(value)) throw new StateCorruptedError("non-finite time");
    return value;
  }

  /** A copy of the next `length` bytes. */
  fixed(length: number): Uint8Array {
    const at = this.#take(length);
    return this.#bytes.slice(at, at + length);
  }

  /** `u32 len ‖ bytes`, as written by {@link StateWriter.bytes}. */
  bytes(): Uint8Array {
    return this.fixed(this.u32());
  }

  /** `u32 len ‖ UTF-8`, as written by {@link StateWriter.string}. */
  string(): string {
    const bytes = this.bytes();
    try {
      return decoder.decode(bytes);
    } catch (cause) {
      throw new StateCorruptedError("invalid UTF-8", { cause });
    }
  }

  /** A roster as written by {@link StateWriter.roster}. */
  roster(): Array<RosterLeaf | undefined> {
    const count = this.count();
    const roster: Array<RosterLeaf | undefined> = [];
    for (let i = 0; i < count; i++) {
      roster.push(
        this.flag()
          ? { identityKey: this.fixed(32), signingKey: this.fixed(32), prekey: this.fixed(32) }
          : undefined,
      );
    }
    return roster;
  }

  /**
   * Checks a `magic ‖ u8 version` header.
   * @throws {@link StateCorruptedError} naming `what` for other bytes or another version
   */
  magic(expected: Uint8Array, version: number, what: string): void {
    const found = this.#bytes.subarray(this.#offset, this.#offset + expected.length);
    if (!constantTimeEqual(found, expected))
      throw new StateCorruptedError(`not a serialized ${what}`);
    this.#take(expected.length);
    const got = this.u8();
    if (got !== version) {
      throw new StateCorruptedError(`${what} state version ${got}; this library reads ${version}`);
    }
  }

  /** @throws {@link StateCorruptedError} when bytes are left over */
  end(): void {
    if (this.remaining !== 0) {
      throw new StateCorruptedError(`${this.remaining} unexpected trailing bytes`);
    }
  }
}

/** `body ‖ SHA-256(body)`, the sealed form of a state; `body` is wiped. */
export function appendDigest(provider: CryptoProvider, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 32);
  out.set(body);
  out.set(provider.sha256(body), body.length);
  wipe(body);
  return out;
}

/**
 * Splits `body ‖ SHA-256(body)` and checks the digest.
 * @returns `body` (a view into `bytes`)
 * @throws {@link StateCorruptedError} naming `what` when the bytes are too short or the digest does
 *   not match
 */
export function checkDigest(provider: CryptoProvider, bytes: Uint8Array, what: string): Uint8Array {
  if (bytes.length < 33) throw new StateCorruptedError(`${what} state is truncated`);
  const body = bytes.subarray(0, bytes.length - 32);
  if (!constantTimeEqual(provider.sha256(body), bytes.subarray(bytes.length - 32))) {
    throw new StateCorruptedError(`${what} state checksum does not match (altered or truncated)`);
  }
  return body;
}
