/**
 * The orgchat persistence contract: the `Store` interface the client writes through (records by
 * `(space, key)`, append-only logs read in `(sortKey, id)` order, atomic batches), its typed errors
 * and their `isX()` guards, and `memoryStore()`, the in-memory reference. This entry is for users of
 * a store; what a store implementer needs (`BaseStore`, the shared input checks and orderings) is in
 * `@orgchat/store/implement`, and the compliance suite every store passes in
 * `@orgchat/store/compliance`. The embedded default store is `@orgchat/store-sqlite`.
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

export * from "./errors.js";
export { copyMemoryStore, memoryStore } from "./memory.js";
export * from "./types.js";
