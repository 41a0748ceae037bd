/**
 * The one seam between the page and its store: `@orgchat/store-indexeddb`, one database per profile,
 * so the identity, its keys, the messages and the queued sends survive a reload. A second tab of the
 * same profile is refused (`StoreLockedError`): the page says so.
 */
import type { Store } from "@orgchat/store";
import { openIndexedDbStore } from "@orgchat/store-indexeddb";

/** Whether what {@link openStore} opens outlives the tab (the README and the page say so). */
export const storeIsPersistent = true;

/**
 * Opens the page's store.
 * @param name - the profile's name (one IndexedDB database per identity)
 * @returns an open store
 * @throws StoreLockedError when another tab holds the profile; BrowserStorageUnavailableError
 *   when the page has no IndexedDB or Web Locks (not a secure context: use https or localhost)
 */
export async function openStore(name: string): Promise<Store> {
  return openIndexedDbStore({ name: `web:${name}` });
}
