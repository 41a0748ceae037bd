/**
 * Typed errors of the service node, on the one orgchat error base (`OrgchatError`: `name`, `cause`,
 * and a `hint` of what to do, which ends the message). Callers branch on `err.name` or the `isX()`
 * guards, never on `instanceof` across packages or on message strings.
 */
import { errorGuard, OrgchatError } from "@orgchat/base";

/** `{ cause }` only when the caller passed one, so that `"cause" in error` stays as given. */
function causeOf(options: { cause?: unknown } | undefined): { cause?: unknown } {
  return options !== undefined && "cause" in options ? { cause: options.cause } : {};
}

/**
 * Thrown by `MessageArchive.open()` when the database file was written by a newer version of the
 * service node (its `user_version` is above the newest schema this code knows). The file is left
 * untouched. Upgrade the service node, or point it at another data directory.
 */
export class ArchiveSchemaVersionError extends OrgchatError {
  static readonly errorName = "ArchiveSchemaVersionError";
  /** The schema version found in the file. */
  readonly found: number;
  /** The newest schema version this code can read. */
  readonly supported: number;
  constructor(path: string, found: number, supported: number) {
    super(
      ArchiveSchemaVersionError.errorName,
      `Message archive ${JSON.stringify(path)} has schema version ${found}, newer than the ${supported} this service node supports.`,
      {
        hint: "Upgrade the service node or use another data directory; the file was not modified.",
      },
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
export class ArchiveOpenError extends OrgchatError {
  static readonly errorName = "ArchiveOpenError";
  constructor(path: string, options?: { cause?: unknown }) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(
      ArchiveOpenError.errorName,
      `Cannot open the message archive ${JSON.stringify(path)}${detail}.`,
      {
        ...causeOf(options),
        hint: "Create its directory (the archive does not), check permissions, or move a file that is not an SQLite database away.",
      },
    );
  }
}

/** Thrown when a `MessageArchive` is used after `close()`. Open it again with `MessageArchive.open()`. */
export class ArchiveClosedError extends OrgchatError {
  static readonly errorName = "ArchiveClosedError";
  constructor(operation: string) {
    super(
      ArchiveClosedError.errorName,
      `Message archive is closed: ${operation} needs an open archive.`,
      { hint: "Open it again with MessageArchive.open()." },
    );
  }
}

/**
 * Thrown by `MessageArchive.query()` when the pagination cursor is not the hash of a stored message:
 * it was never stored here (a cursor from another node), or retention removed it since the previous
 * page. Start the query again without a cursor. The Store protocol answers it with status 400.
 */
export class CursorNotFoundError extends OrgchatError {
  static readonly errorName = "CursorNotFoundError";
  constructor() {
    super(
      CursorNotFoundError.errorName,
      "Pagination cursor not found: no stored message has this hash (never stored here, or pruned since).",
      { hint: "Restart the query without a cursor." },
    );
  }
}

/** Whether `value` is an {@link ArchiveSchemaVersionError}. */
export const isArchiveSchemaVersionError = errorGuard<ArchiveSchemaVersionError>(
  ArchiveSchemaVersionError.errorName,
);

/** Whether `value` is an {@link ArchiveOpenError}. */
export const isArchiveOpenError = errorGuard<ArchiveOpenError>(ArchiveOpenError.errorName);

/** Whether `value` is an {@link ArchiveClosedError}. */
export const isArchiveClosedError = errorGuard<ArchiveClosedError>(ArchiveClosedError.errorName);

/** Whether `value` is a {@link CursorNotFoundError}. */
export const isCursorNotFoundError = errorGuard<CursorNotFoundError>(CursorNotFoundError.errorName);

// --- Errors of starting and running the node (config.ts, lifecycle.ts, identity.ts, cli.ts) ---

/**
 * Thrown when the data directory cannot be created, read or written, or holds a corrupt key file.
 * Pass a writable directory (`--data DIR`).
 */
export class DataDirectoryError extends OrgchatError {
  static readonly errorName = "DataDirectoryError";
  readonly path: string;
  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(DataDirectoryError.errorName, `Data directory ${path} ${detail}.`, {
      ...causeOf(options),
      hint: "Pass a writable directory with --data DIR.",
    });
    this.path = path;
  }
}

/**
 * Thrown when a multiaddr given to the node is malformed or cannot be used: a listen address that no
 * transport can listen on, a port already in use, a peer address without `/p2p/<peer id>`.
 */
export class InvalidAddressError extends OrgchatError {
  static readonly errorName = "InvalidAddressError";
  readonly address: string;
  constructor(address: string, detail: string, options?: { cause?: unknown }) {
    super(InvalidAddressError.errorName, `Cannot use ${JSON.stringify(address)}: ${detail}.`, {
      ...causeOf(options),
    });
    this.address = address;
  }
}

/** @returns whether `value` is a {@link DataDirectoryError}. */
export const isDataDirectoryError = errorGuard<DataDirectoryError>(DataDirectoryError.errorName);
/** @returns whether `value` is an {@link InvalidAddressError}. */
export const isInvalidAddressError = errorGuard<InvalidAddressError>(InvalidAddressError.errorName);
