/**
 * The embedded default store of orgchat: the `Store` contract of `@orgchat/store` on a SQLite file
 * through Node's built-in `node:sqlite` (no native build). WAL journal with `synchronous = NORMAL` (a batch marked `durable` is synced),
 * every batch one `BEGIN IMMEDIATE … COMMIT` transaction, versioned schema migrations, an exclusive
 * lock on the file (one orgchat process per data directory), file mode 0600.
 *
 * @example
 * ```ts
 * import { openSqliteStore } from "@orgchat/store-sqlite";
 *
 * const store = await openSqliteStore({ path: `${dataDir}/store.db` });
 * await store.put("settings", "display-name", new TextEncoder().encode("alice"));
 * await store.close();
 * ```
 *
 * @packageDocumentation
 */

export { schemaVersion } from "./migrations.js";
export {
  openSqliteStore,
  type SqliteBackup,
  type SqliteStore,
  type SqliteStoreInit,
} from "./sqlite-store.js";
