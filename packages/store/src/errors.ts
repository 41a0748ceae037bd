/**
 * Typed errors of the store contract. Every store throws these (never its database's own errors) so
 * that the client can branch on `err.name` or the `isX()` guards whatever store it runs on. Each
 * message says what to do next.
 */
import { errorGuard, OrgchatError } from "@orgchat/base";

/** Options of the errors that may wrap an underlying error. */
export interface StoreErrorOptions {
  /** The underlying error (the database's own, or the signal's reason). */
  readonly cause?: unknown;
}

/** Thrown by `getOrThrow` when there is no value under `(space, key)`. */
export class RecordNotFoundError extends OrgchatError {
  static readonly errorName = "RecordNotFoundError";
  declare readonly name: "RecordNotFoundError";
  readonly space: string;
  readonly key: string;
  constructor(space: string, key: string) {
    super(
      RecordNotFoundError.errorName,
      `No record ${JSON.stringify(key)} in space ${JSON.stringify(space)}.`,
      { hint: "Use get() when the record may be absent, or write it first." },
    );
    this.space = space;
    this.key = key;
  }
}

/** Thrown by every call made after `close()`: open the store again. */
export class StoreClosedError extends OrgchatError {
  static readonly errorName = "StoreClosedError";
  declare readonly name: "StoreClosedError";
  constructor(operation: string) {
    super(StoreClosedError.errorName, `Store closed: ${operation} was called after close().`, {
      hint: "Open the store again.",
    });
  }
}

/**
 * Thrown when a call was cancelled through its `AbortSignal`; nothing was applied. `cause` holds the
 * signal's reason. Same `name` as the DOM's AbortError so `err.name === "AbortError"` checks work.
 */
export class AbortError extends OrgchatError {
  static readonly errorName = "AbortError";
  declare readonly name: "AbortError";
  constructor(operation: string, options?: StoreErrorOptions) {
    super(
      AbortError.errorName,
      `${operation} was aborted by its AbortSignal; nothing was applied.`,
      options,
    );
  }
}

/** What an {@link InvalidKeyError} is about. */
export type KeyArgument = "space" | "key" | "log" | "id";

/**
 * Thrown for a space name, key, log name or entry id that is not a non-empty, well-formed string
 * within `storeLimits` (names up to 256 UTF-8 bytes, keys and ids up to 1024). Nothing was applied.
 */
export class InvalidKeyError extends OrgchatError {
  static readonly errorName = "InvalidKeyError";
  declare readonly name: "InvalidKeyError";
  readonly argument: KeyArgument;
  constructor(argument: KeyArgument, detail: string) {
    super(InvalidKeyError.errorName, `Invalid ${argument}: ${detail}.`, {
      hint: "Use a non-empty, well-formed string within storeLimits (hash long identifiers).",
    });
    this.argument = argument;
  }
}

/** Thrown for a value larger than `storeLimits.maxValueBytes`: split it. Nothing was applied. */
export class ValueTooLargeError extends OrgchatError {
  static readonly errorName = "ValueTooLargeError";
  declare readonly name: "ValueTooLargeError";
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number) {
    super(
      ValueTooLargeError.errorName,
      `Value of ${size} bytes exceeds the store limit of ${limit} bytes (storeLimits.maxValueBytes).`,
      { hint: "Split it into several records." },
    );
    this.size = size;
    this.limit = limit;
  }
}

/**
 * Thrown when the data cannot be read: the file is not an orgchat store, or it is damaged. Nothing
 * was changed. Move the file aside and restore a backup (or start again and resync from the network).
 */
export class StoreCorruptError extends OrgchatError {
  static readonly errorName = "StoreCorruptError";
  declare readonly name: "StoreCorruptError";
  constructor(detail: string, options?: StoreErrorOptions) {
    super(StoreCorruptError.errorName, `Store unreadable: ${detail}.`, {
      ...options,
      hint: "Move the file aside and restore a backup, or start with an empty store and resync.",
    });
  }
}

/**
 * Thrown when the data was written by a newer version of orgchat (its schema version is above the
 * one this version knows). Nothing was changed. Upgrade orgchat; never open it with an older one.
 */
export class SchemaVersionError extends OrgchatError {
  static readonly errorName = "SchemaVersionError";
  declare readonly name: "SchemaVersionError";
  readonly found: number;
  readonly supported: number;
  constructor(found: number, supported: number) {
    super(
      SchemaVersionError.errorName,
      `Store schema version ${found} is newer than the newest this version of orgchat supports (${supported}).`,
      { hint: "Upgrade orgchat to open it; nothing was changed." },
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
export class StoreLockedError extends OrgchatError {
  static readonly errorName = "StoreLockedError";
  declare readonly name: "StoreLockedError";
  readonly path: string;
  constructor(path: string, options?: StoreErrorOptions) {
    super(
      StoreLockedError.errorName,
      `Store locked: another orgchat process (or another open store) is using ${path}.`,
      { ...options, hint: "Stop it or use a different data directory, then retry." },
    );
    this.path = path;
  }
}

/**
 * Thrown when the storage refused a read or write: disk full, read-only file system, permissions, an
 * I/O error. A write that rejects with it applied nothing. Free space or fix permissions, then retry.
 */
export class StoreIOError extends OrgchatError {
  static readonly errorName = "StoreIOError";
  declare readonly name: "StoreIOError";
  constructor(detail: string, options?: StoreErrorOptions) {
    super(StoreIOError.errorName, `Storage error: ${detail}.`, {
      ...options,
      hint: "Nothing was applied; free disk space or fix the permissions of the data directory, then retry.",
    });
  }
}

/** True when `error` is a {@link RecordNotFoundError} (checked by `name`). */
export const isRecordNotFoundError = errorGuard<RecordNotFoundError>(RecordNotFoundError.errorName);
/** True when `error` is a {@link StoreClosedError}. */
export const isStoreClosedError = errorGuard<StoreClosedError>(StoreClosedError.errorName);
/** True when `error` is an {@link AbortError} (ours or the DOM's). */
export const isAbortError = errorGuard<AbortError>(AbortError.errorName);
/** True when `error` is an {@link InvalidKeyError}. */
export const isInvalidKeyError = errorGuard<InvalidKeyError>(InvalidKeyError.errorName);
/** True when `error` is a {@link ValueTooLargeError}. */
export const isValueTooLargeError = errorGuard<ValueTooLargeError>(ValueTooLargeError.errorName);
/** True when `error` is a {@link StoreCorruptError}. */
export const isStoreCorruptError = errorGuard<StoreCorruptError>(StoreCorruptError.errorName);
/** True when `error` is a {@link SchemaVersionError}. */
export const isSchemaVersionError = errorGuard<SchemaVersionError>(SchemaVersionError.errorName);
/** True when `error` is a {@link StoreLockedError}. */
export const isStoreLockedError = errorGuard<StoreLockedError>(StoreLockedError.errorName);
/** True when `error` is a {@link StoreIOError}. */
export const isStoreIOError = errorGuard<StoreIOError>(StoreIOError.errorName);
