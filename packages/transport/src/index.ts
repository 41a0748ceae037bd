/**
 * The orgchat transport contract: the `Transport` interface every transport implements, its typed
 * errors, shared input checks, and `memoryTransport()`, the in-process reference with seeded fault
 * injection. The compliance suite that proves a transport lives in `@orgchat/transport/compliance`.
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
  assertContentTopic,
  assertPublishable,
  historyPages,
  type NormalizedHistoryQuery,
  normalizeHistoryQuery,
  raceAbort,
  TransportEventEmitter,
  throwIfAborted,
} from "./checks.js";
export * from "./errors.js";
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
