/**
 * Typed errors of the service node. Callers branch on `err.name` or the `isX()` guards, never on
 * `instanceof` across packages or on message strings. Each message says what to do next.
 */

function hasName(value: unknown, name: string): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    "name" in value &&
    (value as { name: unknown }).name === name
  );
}

/**
 * Thrown by `MessageArchive.open()` when the database file was written by a newer version of the
 * service node (its `user_version` is above the newest schema this code knows). The file is left
 * untouched. Upgrade the service node, or point it at another data directory.
 */
export class ArchiveSchemaVersionError extends Error {
  static readonly errorName = "ArchiveSchemaVersionError";
  override readonly name = "ArchiveSchemaVersionError";
  /** The schema version found in the file. */
  readonly found: number;
  /** The newest schema version this code can read. */
  readonly supported: number;
  constructor(path: string, found: number, supported: number) {
    super(
      `Message archive ${JSON.stringify(path)} has schema version ${found}, newer than the ${supported} this service node supports. Upgrade the service node or use another data directory; the file was not modified.`,
    );
    this.found = found;
    this.supported = supported;
  }
}

/**
 * Thrown by `MessageArchive.open()` when the file cannot be opened as an SQLite database: its
 * directory does not exist, it is not readable or writable, or it is not a database. `cause` holds
 * SQLite's error. Create the data directory, fix its permissions, or move the foreign file away.
 */
export class ArchiveOpenError extends Error {
  static readonly errorName = "ArchiveOpenError";
  override readonly name = "ArchiveOpenError";
  constructor(path: string, options?: { cause?: unknown }) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(
      `Cannot open the message archive ${JSON.stringify(path)}${detail}. Create its directory (the archive does not), check permissions, or move a file that is not an SQLite database away.`,
      options,
    );
  }
}

/** Thrown when a `MessageArchive` is used after `close()`. Open it again with `MessageArchive.open()`. */
export class ArchiveClosedError extends Error {
  static readonly errorName = "ArchiveClosedError";
  override readonly name = "ArchiveClosedError";
  constructor(operation: string) {
    super(
      `Message archive is closed: ${operation} needs an open archive. Open it again with MessageArchive.open().`,
    );
  }
}

/**
 * Thrown by `MessageArchive.query()` when the pagination cursor is not the hash of a stored message:
 * it was never stored here (a cursor from another node), or retention removed it since the previous
 * page. Start the query again without a cursor. The Store protocol answers it with status 400.
 */
export class CursorNotFoundError extends Error {
  static readonly errorName = "CursorNotFoundError";
  override readonly name = "CursorNotFoundError";
  constructor() {
    super(
      "Pagination cursor not found: no stored message has this hash (never stored here, or pruned since). Restart the query without a cursor.",
    );
  }
}

/** Whether `value` is an {@link ArchiveSchemaVersionError}. */
export const isArchiveSchemaVersionError = (value: unknown): value is ArchiveSchemaVersionError =>
  hasName(value, ArchiveSchemaVersionError.errorName);

/** Whether `value` is an {@link ArchiveOpenError}. */
export const isArchiveOpenError = (value: unknown): value is ArchiveOpenError =>
  hasName(value, ArchiveOpenError.errorName);

/** Whether `value` is an {@link ArchiveClosedError}. */
export const isArchiveClosedError = (value: unknown): value is ArchiveClosedError =>
  hasName(value, ArchiveClosedError.errorName);

/** Whether `value` is a {@link CursorNotFoundError}. */
export const isCursorNotFoundError = (value: unknown): value is CursorNotFoundError =>
  hasName(value, CursorNotFoundError.errorName);

// --- Errors of starting and running the node (node.ts, identity.ts, cli.ts) ---

/**
 * Thrown when the data directory cannot be created, read or written, or holds a corrupt key file.
 * Pass a writable directory (`--data DIR`).
 */
export class DataDirectoryError extends Error {
  static readonly errorName = "DataDirectoryError";
  override readonly name = "DataDirectoryError";
  readonly path: string;
  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(`Data directory ${path} ${detail}. Pass a writable directory with --data DIR.`, options);
    this.path = path;
  }
}

/**
 * Thrown when a multiaddr given to the node is malformed or cannot be used: a listen address that no
 * transport can listen on, a port already in use, a peer address without `/p2p/<peer id>`.
 */
export class InvalidAddressError extends Error {
  static readonly errorName = "InvalidAddressError";
  override readonly name = "InvalidAddressError";
  readonly address: string;
  constructor(address: string, detail: string, options?: { cause?: unknown }) {
    super(`Cannot use ${JSON.stringify(address)}: ${detail}.`, options);
    this.address = address;
  }
}

/** @returns whether `value` is a {@link DataDirectoryError}. */
export const isDataDirectoryError = (value: unknown): value is DataDirectoryError =>
  hasName(value, DataDirectoryError.errorName);
/** @returns whether `value` is an {@link InvalidAddressError}. */
export const isInvalidAddressError = (value: unknown): value is InvalidAddressError =>
  hasName(value, InvalidAddressError.errorName);
