/**
 * The archive's SQLite schema and its migrations. `user_version` holds the schema version; files in
 * the field are at every version, so migrations are appended, never edited.
 *
 * Version 2 records which libp2p peer delivered each message (`peer`, NULL for messages stored
 * before it or through the trusted `insert` path without one) and keeps each peer's usage in
 * `peer_usage` (messages and bytes it has in the archive now), maintained by triggers in the same
 * transaction as every insert and delete, so that the per-peer quota is one primary-key lookup and
 * retention frees a peer's quota as it removes its messages.
 *
 * Version 3 keeps the archive's totals (messages and encoded bytes) in the one row of
 * `archive_usage`, maintained by triggers likewise, so that the byte retention reads the total in
 * one lookup instead of summing every row on each prune.
 */
import type { DatabaseSync } from "node:sqlite";
import { type DiagnosticSink, reportDiagnostic } from "@orgchat/base";
import { ArchiveOpenError, ArchiveSchemaVersionError } from "./errors.js";

/** The newest schema version this code writes; `user_version` of an up-to-date file. */
export const archiveSchemaVersion = 3;

/** Length of a Waku message hash, bytes. */
export const hashLength = 32;

/**
 * Migration `i` takes a file from schema version `i` to `i + 1`. Append, never edit: files in the
 * field are at every version.
 */
const migrations: readonly ((db: DatabaseSync) => void)[] = [
  (db) => {
    // `timestamp` is the message's own timestamp in ns, or its receive time when it had none (see
    // `insert`). The indexes serve the query shapes of Store v3: topic-filtered pages in
    // (timestamp, hash) order, pubsub-only pages, unfiltered pages and age-based pruning.
    db.exec(`
      CREATE TABLE message (
        hash          BLOB    NOT NULL UNIQUE CHECK (length(hash) = ${hashLength}),
        pubsub_topic  TEXT    NOT NULL,
        content_topic TEXT    NOT NULL,
        timestamp     INTEGER NOT NULL,
        message       BLOB    NOT NULL
      );
      CREATE INDEX message_by_topics ON message (pubsub_topic, content_topic, timestamp, hash);
      CREATE INDEX message_by_pubsub_topic ON message (pubsub_topic, timestamp, hash);
      CREATE INDEX message_by_time ON message (timestamp, hash);
    `);
  },
  (db) => {
    // The delivering peer and its usage (per-peer quota). Rows of version 1 have no peer: they
    // count against nobody's quota and leave with retention like any other.
    db.exec(`
      ALTER TABLE message ADD COLUMN peer TEXT;
      CREATE TABLE peer_usage (
        peer     TEXT    PRIMARY KEY,
        messages INTEGER NOT NULL,
        bytes    INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TRIGGER message_peer_added AFTER INSERT ON message WHEN NEW.peer IS NOT NULL BEGIN
        INSERT INTO peer_usage (peer, messages, bytes) VALUES (NEW.peer, 1, length(NEW.message))
          ON CONFLICT (peer) DO UPDATE SET messages = messages + 1, bytes = bytes + excluded.bytes;
      END;
      CREATE TRIGGER message_peer_removed AFTER DELETE ON message WHEN OLD.peer IS NOT NULL BEGIN
        UPDATE peer_usage SET messages = messages - 1, bytes = bytes - length(OLD.message)
          WHERE peer = OLD.peer;
        DELETE FROM peer_usage WHERE peer = OLD.peer AND messages <= 0;
      END;
    `);
  },
  (db) => {
    // The archive's totals (byte retention), counted once here from the rows already stored.
    db.exec(`
      CREATE TABLE archive_usage (
        id       INTEGER PRIMARY KEY CHECK (id = 0),
        messages INTEGER NOT NULL,
        bytes    INTEGER NOT NULL
      );
      INSERT INTO archive_usage (id, messages, bytes)
        SELECT 0, count(*), coalesce(sum(length(message)), 0) FROM message;
      CREATE TRIGGER message_usage_added AFTER INSERT ON message BEGIN
        UPDATE archive_usage SET messages = messages + 1, bytes = bytes + length(NEW.message)
          WHERE id = 0;
      END;
      CREATE TRIGGER message_usage_removed AFTER DELETE ON message BEGIN
        UPDATE archive_usage SET messages = messages - 1, bytes = bytes - length(OLD.message)
          WHERE id = 0;
      END;
    `);
  },
];

/**
 * Brings the file's schema to {@link archiveSchemaVersion}, one transaction per step.
 * @throws {ArchiveSchemaVersionError} the file is newer than this code (left untouched, closed).
 * @throws {ArchiveOpenError} the version cannot be read or a step fails (rolled back, closed).
 */
export function migrate(
  db: DatabaseSync,
  path: string,
  onDiagnostic: DiagnosticSink | undefined,
): void {
  let version: number;
  try {
    version = Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
  } catch (cause) {
    closeQuietly(db, onDiagnostic);
    throw new ArchiveOpenError(path, { cause });
  }
  if (version > archiveSchemaVersion) {
    closeQuietly(db, onDiagnostic);
    throw new ArchiveSchemaVersionError(path, version, archiveSchemaVersion);
  }
  for (let from = version; from < archiveSchemaVersion; from++) {
    try {
      const step = migrations[from];
      if (step === undefined) throw new Error(`no migration from schema version ${from}`);
      db.exec("BEGIN IMMEDIATE");
      step(db);
      // user_version lives in the file header and is written by this transaction: a crash leaves
      // the file at the old version with the old schema, never half migrated.
      db.exec(`PRAGMA user_version = ${from + 1}`);
      db.exec("COMMIT");
    } catch (cause) {
      if (db.isOpen && db.isTransaction) db.exec("ROLLBACK");
      closeQuietly(db, onDiagnostic);
      throw new ArchiveOpenError(path, { cause });
    }
  }
}

/** Closes `db` when already failing: a second failure is reported, never thrown. */
export function closeQuietly(
  db: DatabaseSync | undefined,
  onDiagnostic: DiagnosticSink | undefined,
): void {
  try {
    if (db?.isOpen) db.close();
  } catch (error) {
    // Already failing: the original error is the one thrown; this one is only reported.
    reportDiagnostic(onDiagnostic, {
      component: "service-node/archive",
      reason: "close-failed",
      error,
    });
  }
}
