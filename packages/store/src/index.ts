/**
 * The orgchat persistence contract: the `Store` interface the client writes through (records by
 * `(space, key)`, append-only logs read in `(sortKey, id)` order, atomic batches), its typed errors,
 * shared input checks, and `memoryStore()`, the in-memory reference. The compliance suite every store
 * passes lives in `@orgchat/store/compliance`; the embedded default is `@orgchat/store-sqlite`.
 *
 * @example
 * ```ts
 * import { isRecordNotFoundError, memoryStore } from "@orgchat/store";
 *
 * const store = memoryStore();
 * // Persist before sending: the new chain state and the outgoing message commit together.
 * await store.batch([
 *   { type: "put", space: "ratchet", key: chainId, value: nextChainState },
 *   { type: "append", log: "outbox", entries: [{ id: messageId, sortKey: clock, value: ciphertext }] },
 * ]);
 * await transport.publish(topic, ciphertext);
 * await store.deleteEntries("outbox", [messageId]);
 * ```
 *
 * @packageDocumentation
 */

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
export * from "./errors.js";
export { memoryStore } from "./memory.js";
export * from "./types.js";
