/**
 * The mark a restored store carries (docs/RESTORE.md): a store written from a backup sits behind
 * the device it was copied from, whose later sends used sender-chain generations and pairwise
 * message keys this copy would use again. A client that starts on a marked store re-keys before it
 * sends (`restore.ts`), then removes the mark.
 *
 * @module
 */
import type { Store } from "@orgchat/store";
import { decodeJson, encodeJson } from "./encoding.js";
import { StoreCorruptedError } from "./errors.js";
import { ownerDeviceIdKey } from "./owner-device.js";

/** Where the mark is kept: beside the identity record. */
export const restoreMarkerKey = { space: "identity", key: "restored" } as const;

/** What a restored store's mark says. */
export interface RestoreMarker {
  /** When the backup was made (ms since the epoch, as its header says). */
  readonly backupCreatedAt: number;
  /** When it was restored (ms since the epoch). */
  readonly restoredAt: number;
}

/**
 * Marks a store as restored from a backup, before any client opens it: the next client started on
 * it re-keys every organization before it sends anything (docs/RESTORE.md, "Proposed rule"). Write it
 * in the same step that writes the restored store, before the store is used. It also drops the
 * copy's owner device id: the restored store is another device, and draws its own.
 *
 * @param store - the restored store (not open in a client)
 * @param marker - when the backup was made and when it was restored
 * @throws {RangeError} when a time is not a finite, non-negative number of milliseconds
 * @example
 * ```ts
 * const store = await openSqliteStore({ path: join(dir, "store.db") });
 * await markRestored(store, { backupCreatedAt: header.createdAt, restoredAt: Date.now() });
 * await store.close();
 * ```
 */
export async function markRestored(store: Store, marker: RestoreMarker): Promise<void> {
  for (const [name, value] of Object.entries(marker)) {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`marker.${name}: must be a time in ms (finite, ≥ 0), got ${value}`);
    }
  }
  await store.put(
    restoreMarkerKey.space,
    restoreMarkerKey.key,
    encodeJson({ v: 1, backupCreatedAt: marker.backupCreatedAt, restoredAt: marker.restoredAt }),
  );
  // The copy is another device: it draws its own id at its first start (owner-device.ts).
  await store.delete(ownerDeviceIdKey.space, ownerDeviceIdKey.key);
}

/**
 * Reads a store's restore mark.
 * @returns the mark, or undefined when the store was not restored (or its re-keying is done)
 * @throws {StoreCorruptedError} when the mark does not decode
 */
export async function readRestoreMarker(store: Store): Promise<RestoreMarker | undefined> {
  const bytes = await store.get(restoreMarkerKey.space, restoreMarkerKey.key);
  if (bytes === undefined) return undefined;
  try {
    const value = decodeJson<{ v: number; backupCreatedAt: number; restoredAt: number }>(bytes);
    if (value.v !== 1 || typeof value.backupCreatedAt !== "number") throw new Error("format");
    return { backupCreatedAt: value.backupCreatedAt, restoredAt: value.restoredAt };
  } catch (cause) {
    throw new StoreCorruptedError("identity/restored", { cause });
  }
}
