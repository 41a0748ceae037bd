/**
 * The compliance suite every store passes: `runStoreCompliance(fixture)` defines Vitest tests that
 * pin the contract of `Store` (see `types.ts`): round trips, the missing key error, idempotent
 * appends, the `(sortKey, id)` order and its exclusive bounds, limits, atomic batches, abort, close
 * and reopen, large and binary data, serialized concurrent batches, and batches that erase what they
 * superseded from the store's files (`checkpoint`).
 *
 * Cases a store cannot support are skipped *visibly* (the reopen case for a store that keeps nothing,
 * the file search for a store without files), never left out.
 *
 * @example
 * ```ts
 * // test/compliance.test.ts of a store package
 * import { runStoreCompliance } from "@orgchat/store/compliance";
 *
 * runStoreCompliance({
 *   name: "my store",
 *   open: async () => myStore({ path: (dir = await makeTempDir()) }),
 *   reopen: async () => myStore({ path: dir }),
 *   cleanup: async () => removeDir(dir),
 * });
 * ```
 *
 * @packageDocumentation
 */
import { afterEach, beforeEach, describe } from "vitest";
import { describeBatches } from "./compliance/batches.js";
import { describeErasure } from "./compliance/erasure.js";
import { describeLifecycle } from "./compliance/lifecycle.js";
import { describeLimits } from "./compliance/limits.js";
import { describeLogs } from "./compliance/logs.js";
import { describeRecords } from "./compliance/records.js";
import type { ComplianceSuite } from "./compliance/support.js";
import type { Store } from "./types.js";

/** How the suite gets stores to test. */
export interface StoreFixture {
  /** Shown in the suite's title. */
  readonly name: string;
  /** Returns a new, empty store (called before every test). */
  open(): Promise<Store>;
  /**
   * Returns a store over the same data as the store most recently returned by `open()`, after the
   * test closed that one. Omit it for a store that keeps nothing once closed (the reopen cases are
   * then skipped, visibly).
   */
  reopen?(): Promise<Store>;
  /**
   * The raw bytes of every file the store most recently returned by `open()` keeps now (a SQLite
   * store: the database, `-wal` and `-shm` files), read while it is open. The erasure case searches
   * them for values a checkpointing batch superseded. Omit it for a store without files (that case
   * is then skipped, visibly).
   */
  files?(): Promise<readonly Uint8Array[]>;
  /** Deletes whatever `open()` created (called after every test, once its stores are closed). */
  cleanup(): Promise<void>;
}

/**
 * Defines the compliance tests for the store `fixture` provides. Call it at the top level of a Vitest
 * test file.
 *
 * @param fixture - Opens, reopens and cleans up the store under test.
 * @example
 * ```ts
 * import { memoryStore } from "@orgchat/store";
 * import { runStoreCompliance } from "@orgchat/store/compliance";
 *
 * runStoreCompliance({ name: "memory", open: async () => memoryStore(), cleanup: async () => {} });
 * ```
 */
export function runStoreCompliance(fixture: StoreFixture): void {
  describe(`Store compliance: ${fixture.name}`, () => {
    let store: Store;
    const opened: Store[] = [];
    const reopen = fixture.reopen?.bind(fixture);
    const suite: ComplianceSuite = {
      get store() {
        return store;
      },
      canReopen: reopen !== undefined,
      noReopen: reopen ? "" : " [skipped: this store keeps nothing once closed (no reopen)]",
      async reopened(): Promise<Store> {
        if (!reopen) throw new Error("the fixture has no reopen()");
        await store.close();
        const again = await reopen();
        opened.push(again);
        return again;
      },
    };

    beforeEach(async () => {
      store = await fixture.open();
      opened.push(store);
    });

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await fixture.cleanup();
    });

    describeRecords(suite);
    describeLimits(suite);
    describeLogs(suite);
    describeBatches(suite);
    describeLifecycle(suite);
    describeErasure(suite, fixture.files?.bind(fixture));
  });
}
