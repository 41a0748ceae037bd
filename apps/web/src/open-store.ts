/**
 * The one seam between the page and its store.
 *
 * TODO(#16 item 1): swap in `openIndexedDbStore({ name })` from `@orgchat/store-indexeddb` so that the
 * identity, keys and messages survive a reload. Until then the page keeps everything in memory: the
 * identity lives only as long as the tab.
 */
import { memoryStore, type Store } from "@orgchat/store";

/** Whether what {@link openStore} opens outlives the tab (the README and the page say so). */
export const storeIsPersistent = false;

/**
 * Opens the page's store.
 * @param name - the profile's name (one store per identity; the IndexedDB store names its database so)
 * @returns an open store
 */
export async function openStore(name: string): Promise<Store> {
  void name;
  return memoryStore();
}
