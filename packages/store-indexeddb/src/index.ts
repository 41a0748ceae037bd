/**
 * The orgchat store for browsers: the `Store` contract of `@orgchat/store` on IndexedDB. Every batch
 * is one read-write transaction (all or nothing, in call order); names, keys and ids are stored as
 * UTF-8 binary keys so that they sort by code point like every store; an exclusive Web Lock per
 * store keeps a second tab from writing the same profile (it gets `StoreLockedError`).
 *
 * @example
 * ```ts
 * import { openIndexedDbStore } from "@orgchat/store-indexeddb";
 *
 * const store = await openIndexedDbStore({ name: "default" });
 * await store.put("settings", "display-name", new TextEncoder().encode("alice"));
 * await store.close();
 * ```
 *
 * @packageDocumentation
 */

export { schemaVersion } from "./database.js";
export {
  BrowserStorageUnavailableError,
  isBrowserStorageUnavailableError,
  type MissingBrowserFeature,
} from "./errors.js";
export {
  deleteIndexedDbStore,
  type IndexedDbStore,
  type IndexedDbStoreInit,
  openIndexedDbStore,
} from "./indexeddb-store.js";
