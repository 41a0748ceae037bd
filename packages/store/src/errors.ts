/**
 * Typed errors of the store contract. Every store throws these (never its database's own errors) so
 * that the client can branch on `err.name` or the `isX()` guards whatever store it runs on. Each
 * message says what to do next.
 */

function hasName(value: unknown, name: string): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    "name" in value &&
    (value as { name: unknown }).name === name
  );
}

/** Thrown by `getOrThrow` when there is no value under `(space, key)`. */
export class RecordNotFoundError extends Error {
  static readonly errorName = "RecordNotFoundError";
  override readonly name = "RecordNotFoundError";
  readonly space: string;
  readonly key: string;
  constructor(space: string, key: string) {
    super(
      `No record ${JSON.stringify(key)} in space ${JSON.stringify(space)}. Use get() when the record may be absent, or write it first.`,
    );
    this.space = space;
    this.key = key;
  }
}

/** Thrown by every call made after `close()`: open the store again. */
export class StoreClosedError extends Error {
  static readonly errorName = "StoreClosedError";
  override readonly name = "StoreClosedError";
  constructor(operation: string) {
    super(`Store closed: ${operation} was called after close(). Open the store again.`);
  }
}

/**
 * Thrown when a call was cancelled through its `AbortSignal`; nothing was applied. `cause` holds the
 * signal's reason. Same `name` as the DOM's AbortError so `err.name === "AbortError"` checks work.
 */
export class AbortError extends Error {
  static readonly errorName = "AbortError";
  override readonly name = "AbortError";
  constructor(operation: string, options?: { cause?: unknown }) {
    super(`${operation} was aborted by its AbortSignal; nothing was applied.`, options);
  }
}

/** What an {@link InvalidKeyError} is about. */
export type KeyArgument = "space" | "key" | "log" | "id";

/**
 * Thrown for a space name, key, log name or entry id that is not a non-empty, well-formed string
 * within `storeLimits` (names up to 256 UTF-8 bytes, keys and ids up to 1024). Nothing was applied.
 */
export class InvalidKeyError extends Error {
  static readonly errorName = "InvalidKeyError";
  override readonly name = "InvalidKeyError";
  readonly argument: KeyArgument;
  constructor(argument: KeyArgument, detail: string) {
    super(
      `Invalid ${argument}: ${detail}. Use a non-empty, well-formed string within storeLimits (hash long identifiers).`,
    );
    this.argument = argument;
  }
}

/** Thrown for a value larger than `storeLimits.maxValueBytes`: split it. Nothing was applied. */
export class ValueTooLargeError extends Error {
  static readonly errorName = "ValueTooLargeError";
  override readonly name = "ValueTooLargeError";
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number) {
    super(
      `Value of ${size} bytes exceeds the store limit of ${limit} bytes (storeLimits.maxValueBytes). Split it into several records.`,
    );
    this.size = size;
    this.limit = limit;
  }
}

/**
 * Thrown when the data cannot be read: the file is not an orgchat store, or it is damaged. Nothing
 * was changed. Move the file aside and restore a backup (or start again and resync from the network).
 */
export class StoreCorruptError extends Error {
  static readonly errorName = "StoreCorruptError";
  override readonly name = "StoreCorruptError";
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `Store unreadable: ${detail}. Move the file aside and restore a backup, or start with an empty store and resync.`,
      options,
    );
  }
}

/**
 * Thrown when the data was written by a newer version of orgchat (its schema version is above the
 * one this version knows). Nothing was changed. Upgrade orgchat; never open it with an older one.
 */
export class SchemaVersionError extends Error {
  static readonly errorName = "SchemaVersionError";
  override readonly name = "SchemaVersionError";
  readonly found: number;
  readonly supported: number;
  constructor(found: number, supported: number) {
    super(
      `Store schema version ${found} is newer than the newest this version of orgchat supports (${supported}). Upgrade orgchat to open it; nothing was changed.`,
    );
    this.found = found;
    this.supported = supported;
  }
}

/**
 * Thrown when another process (or another store in this process) holds the data: two writers would
 * corrupt each other's ratchet state. Stop the other orgchat process using it, or pick another data
 * directory.
 */
export class StoreLockedError extends Error {
  static readonly errorName = "StoreLockedError";
  override readonly name = "StoreLockedError";
  readonly path: string;
  constructor(path: string, options?: { cause?: unknown }) {
    super(
      `Store locked: another orgchat process (or another open store) is using ${path}. Stop it or use a different data directory, then retry.`,
      options,
    );
    this.path = path;
  }
}

/**
 * Thrown when the storage refused a read or write: disk full, read-only file system, permissions, an
 * I/O error. A write that rejects with it applied nothing. Free space or fix permissions, then retry.
 */
export class StoreIOError extends Error {
  static readonly errorName = "StoreIOError";
  override readonly name = "StoreIOError";
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `Storage error: ${detail}. Nothing was applied; free disk space or fix the permissions of the data directory, then retry.`,
      options,
    );
  }
}

/** True when `error` is a {@link RecordNotFoundError} (checked by `name`). */
export const isRecordNotFoundError = (error: unknown): error is RecordNotFoundError =>
  hasName(error, RecordNotFoundError.errorName);
/** True when `error` is a {@link StoreClosedError}. */
export const isStoreClosedError = (error: unknown): error is StoreClosedError =>
  hasName(error, StoreClosedError.errorName);
/** True when `error` is an {@link AbortError} (ours or the DOM's). */
export const isAbortError = (error: unknown): error is AbortError =>
  hasName(error, AbortError.errorName);
/** True when `error` is an {@link InvalidKeyError}. */
export const isInvalidKeyError = (error: unknown): error is InvalidKeyError =>
  hasName(error, InvalidKeyError.errorName);
/** True when `error` is a {@link ValueTooLargeError}. */
export const isValueTooLargeError = (error: unknown): error is ValueTooLargeError =>
  hasName(error, ValueTooLargeError.errorName);
/** True when `error` is a {@link StoreCorruptError}. */
export const isStoreCorruptError = (error: unknown): error is StoreCorruptError =>
  hasName(error, StoreCorruptError.errorName);
/** True when `error` is a {@link SchemaVersionError}. */
export const isSchemaVersionError = (error: unknown): error is SchemaVersionError =>
  hasName(error, SchemaVersionError.errorName);
/** True when `error` is a {@link StoreLockedError}. */
export const isStoreLockedError = (error: unknown): error is StoreLockedError =>
  hasName(error, StoreLockedError.errorName);
/** True when `error` is a {@link StoreIOError}. */
export const isStoreIOError = (error: unknown): error is StoreIOError =>
  hasName(error, StoreIOError.errorName);
