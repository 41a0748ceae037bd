/**
 * Versioned schema migrations. The schema version lives in SQLite's `user_version` header field;
 * `migrations` is the ordered list of steps from version 0 (an empty file). Never edit a released
 * step: append a new one. All pending steps run in one transaction, so an upgrade is all or nothing
 * and a failed upgrade leaves a database the previous version of orgchat still opens.
 */
import type { DatabaseSync } from "node:sqlite";
import { SchemaVersionError, StoreCorruptError } from "@orgchat/store";

/** One schema step: `up` turns a version `version - 1` database into a version `version` one. */
export interface Migration {
  readonly version: number;
  /** What the step does, for people reading the list. */
  readonly description: string;
  /** Runs inside the upgrade transaction; throwing aborts the whole upgrade. */
  up(db: DatabaseSync): void;
}

/**
 * SQLite `application_id` of orgchat stores ("ORGC"), so that opening some other SQLite file is
 * refused instead of migrated.
 */
export const applicationId = 0x4f524743;

/** The schema, step by step. Keys, names and ids are UTF-8 BLOBs: see the first step. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: "records by (space, key); log entries by (log, id), ordered by (sort_key, id)",
    up(db) {
      // Names, keys and ids are stored as their UTF-8 bytes, not TEXT: node:sqlite reads TEXT up to
      // the first NUL, and keys may contain NUL. BLOBs compare with memcmp, i.e. in code point order,
      // the order the memory store uses. Rowid tables (not WITHOUT ROWID) because values can be MiBs.
      db.exec(`
        CREATE TABLE records (
          space BLOB NOT NULL,
          key BLOB NOT NULL,
          value BLOB NOT NULL,
          PRIMARY KEY (space, key)
        ) STRICT;
        CREATE TABLE log_entries (
          log BLOB NOT NULL,
          id BLOB NOT NULL,
          sort_key INTEGER NOT NULL,
          value BLOB NOT NULL,
          PRIMARY KEY (log, id)
        ) STRICT;
        CREATE INDEX log_entries_by_position ON log_entries (log, sort_key, id);
      `);
    },
  },
];

/** The schema version this build writes (the last step of `migrations`). */
export const schemaVersion: number = migrations[migrations.length - 1]?.version ?? 0;

function readPragma(db: DatabaseSync, pragma: "user_version" | "application_id"): number {
  const row = db.prepare(`PRAGMA ${pragma}`).get() as Record<string, unknown> | undefined;
  return Number(row?.[pragma] ?? 0);
}

/**
 * Brings `db` to the last version of `steps`, or refuses it.
 * @param db - An open database holding the write lock of its file.
 * @param steps - Ordered steps numbered 1, 2, 3…
 * @returns The version before and after.
 * @throws SchemaVersionError (written by a newer orgchat), StoreCorruptError (not an orgchat store),
 *   RangeError (steps not numbered 1, 2, 3…), whatever a step throws (the upgrade is rolled back)
 */
export function migrate(
  db: DatabaseSync,
  steps: readonly Migration[] = migrations,
): { readonly from: number; readonly to: number } {
  for (const [index, step] of steps.entries()) {
    if (step.version !== index + 1) {
      throw new RangeError(`migration ${index} has version ${step.version}, expected ${index + 1}`);
    }
  }
  const latest = steps.length;
  const from = readPragma(db, "user_version");
  const appId = readPragma(db, "application_id");
  if (appId !== 0 && appId !== applicationId) {
    throw new StoreCorruptError(
      `the file belongs to another application (SQLite application_id ${appId})`,
    );
  }
  if (from === 0) {
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as { n: number };
    if (Number(tables.n) > 0) {
      throw new StoreCorruptError("the file is a SQLite database but not an orgchat store");
    }
  } else if (appId !== applicationId) {
    throw new StoreCorruptError("the file is a SQLite database but not an orgchat store");
  }
  if (from > latest) throw new SchemaVersionError(from, latest);
  if (from === latest) return { from, to: latest };
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const step of steps.slice(from)) step.up(db);
    db.exec(`PRAGMA application_id = ${applicationId}`);
    db.exec(`PRAGMA user_version = ${latest}`);
    db.exec("COMMIT");
  } catch (error) {
    rollback(db);
    throw error;
  }
  return { from, to: latest };
}

/**
 * Rolls back the open transaction, if any. A failed COMMIT (disk full, I/O error) may already have
 * rolled back, and then ROLLBACK fails with "no transaction is active": nothing left to undo, and the
 * caller rethrows the error that made it roll back, the one to report.
 *
 * @throws what ROLLBACK threw when the connection says a transaction is still open
 *   (`DatabaseSync.isTransaction`, Node 22.16+): the connection would otherwise stay inside a
 *   half-applied transaction, and the next write would fail with a less telling error
 */
export function rollback(db: DatabaseSync): void {
  try {
    db.exec("ROLLBACK");
  } catch (error) {
    // Before Node 22.16 `isTransaction` is undefined and we cannot tell: keep the caller's error.
    if ((db as { isTransaction?: boolean }).isTransaction === true) throw error;
  }
}
