/**
 * The orgchat transport contract: the `Transport` interface every transport implements, its typed
 * errors and guards, `historyPages()`, and `memoryNetwork()` / `memoryTransport()`, the in-process
 * reference with seeded fault injection (with `virtualClock()` for deterministic time). Helpers for
 * transport authors live in `@orgchat/transport/implement`; the compliance suite that proves a
 * transport lives in `@orgchat/transport/compliance`.
 *
 * @example
 * ```ts
 * import { memoryNetwork } from "@orgchat/transport";
 *
 * const network = memoryNetwork({ seed: 1 });
 * const alice = network.transport(), bob = network.transport();
 * await alice.start(); await bob.start();
 * await bob.subscribe([topic], (m) => console.log(m.payload));
 * await alice.publish(topic, new TextEncoder().encode("hi"));
 * ```
 *
 * @packageDocumentation
 */

export {
  AbortError,
  EmptyPayloadError,
  HistoryQueryFailedError,
  HistoryUnsupportedError,
  InvalidContentTopicError,
  InvalidCursorError,
  InvalidQueryError,
  isAbortError,
  isEmptyPayloadError,
  isHistoryQueryFailedError,
  isHistoryUnsupportedError,
  isInvalidContentTopicError,
  isInvalidCursorError,
  isInvalidQueryError,
  isNoPeersError,
  isNotStartedError,
  isPayloadTooLargeError,
  isTransportStartError,
  NoPeersError,
  NotStartedError,
  PayloadTooLargeError,
  TransportStartError,
} from "./errors.js";
export { historyPages } from "./history-pages.js";
export {
  type MemoryLatency,
  type MemoryNetwork,
  type MemoryNetworkComponents,
  type MemoryNetworkInit,
  type MemoryTransport,
  type MemoryTransportInit,
  memoryDefaultMaxPayloadBytes,
  memoryNetwork,
  memoryTransport,
} from "./memory.js";
export * from "./types.js";
export { type VirtualClock, type VirtualClockInit, virtualClock } from "./virtual-clock.js";
