/**
 * For store implementers only: what a new store needs to behave exactly like every other one.
 *
 * - {@link BaseStore}: the call semantics of the contract (closed and aborted calls, input checks,
 *   `getOrThrow`, single-op writes as batches); a store implements six methods over its storage.
 * - The shared input checks (`assertName`, `assertKey`, `assertValue`, `assertSortKey`,
 *   `assertLogEntry`, `assertStoreOps`, `normalizeRangeQuery`, `normalizeKeysQuery`,
 *   `throwIfAborted`), so that every store refuses the same inputs with the same typed errors.
 * - The orderings (`compareCodePoints`, `compareLogPositions`): how keys and log entries sort.
 *
 * Users of a store need none of this: `@orgchat/store` has the contract, the errors and
 * `memoryStore()`. Check a new store with `runStoreCompliance` from `@orgchat/store/compliance`.
 *
 * @example
 * ```ts
 * import { BaseStore, compareCodePoints } from "@orgchat/store/implement";
 * import { runStoreCompliance } from "@orgchat/store/compliance";
 *
 * class MapStore extends BaseStore { … }
 * runStoreCompliance({ name: "map store", open: async () => new MapStore() });
 * ```
 *
 * @packageDocumentation
 */

export { BaseStore, type WriteOptions } from "./base-store.js";
export {
  assertKey,
  assertLogEntry,
  assertName,
  assertSortKey,
  assertStoreOps,
  assertValue,
  compareCodePoints,
  compareLogPositions,
  type NormalizedKeysQuery,
  type NormalizedPosition,
  type NormalizedRangeQuery,
  normalizeKeysQuery,
  normalizeRangeQuery,
  throwIfAborted,
} from "./checks.js";
