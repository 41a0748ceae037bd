/**
 * `@orgchat/service-node/archive`: the SQLite message archive behind the node's Store v3, for people
 * building their own node or tooling around an archive file: {@link MessageArchive} (open, insert,
 * query pages ordered by `(timestamp, hash)`, prune by retention) and the errors it throws.
 *
 * @example
 * ```ts
 * import { MessageArchive } from "@orgchat/service-node/archive";
 *
 * const archive = MessageArchive.open({ path: "./node-data/messages.sqlite" });
 * console.log(archive.count(), "messages");
 * archive.close();
 * ```
 *
 * @packageDocumentation
 */
export * from "../archive.js";
export {
  ArchiveClosedError,
  ArchiveOpenError,
  ArchiveSchemaVersionError,
  CursorNotFoundError,
  isArchiveClosedError,
  isArchiveOpenError,
  isArchiveSchemaVersionError,
  isCursorNotFoundError,
} from "../errors.js";
