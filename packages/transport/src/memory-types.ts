/**
 * The public shapes of the in-process reference transport: network and transport options, injected
 * time, and the `MemoryNetwork` / `MemoryTransport` interfaces.
 */
import type { CallOptions, Transport } from "./types.js";

/**
 * Largest Waku message the public network relays (150 KiB), the memory transport's default
 * `maxPayloadBytes` so that code tested on it fits the real network.
 */
export const memoryDefaultMaxPayloadBytes = 153_600;

/** Delivery delay range, in whole milliseconds. */
export interface MemoryLatency {
  /** Shortest delay, ms (a non-negative integer). */
  readonly minMs: number;
  /** Longest delay, ms (an integer, at least `minMs`). */
  readonly maxMs: number;
}

/**
 * Options of {@link memoryNetwork}. Every fault applies per delivery, that is per (message,
 * recipient) pair, with draws from one PRNG seeded by `seed`: the same seed and the same sequence of
 * calls give the same deliveries.
 */
export interface MemoryNetworkInit {
  /** Seed of the fault-injection PRNG (an integer). @default 0 */
  readonly seed?: number;
  /**
   * Each delivery waits a delay drawn uniformly from `[minMs, maxMs]`, through the injected
   * scheduler. Without latency (and without `reorderWindowMs`), deliveries happen on a microtask
   * after `publish`, in publish order, and the network uses no timer at all.
   * @default none
   */
  readonly latency?: MemoryLatency;
  /** Probability, 0 to 1, that a delivery is lost (the message still reaches history). @default 0 */
  readonly dropRate?: number;
  /** Probability, 0 to 1, that a delivery arrives twice (same message, same id). @default 0 */
  readonly duplicateRate?: number;
  /**
   * Each delivery waits an extra delay drawn uniformly from `[0, reorderWindowMs]` (whole ms), so
   * messages published less than this far apart can arrive in any order. @default 0 (no reordering)
   */
  readonly reorderWindowMs?: number;
  /** `capabilities.maxPayloadBytes` of every transport on the network. @default 153_600 (150 KiB, the Waku network limit) */
  readonly maxPayloadBytes?: number;
}

/**
 * Time, injected so that tests are deterministic. A {@link VirtualClock} from `virtualClock()`
 * provides both.
 */
export interface MemoryNetworkComponents {
  /** Clock for message timestamps, ms since the Unix epoch (floored to whole ms). @default Date.now */
  readonly now?: () => number;
  /**
   * Runs `task` after `delayMs`; returns a function that cancels it. Used only when `latency` or
   * `reorderWindowMs` is configured.
   * @default setTimeout / clearTimeout
   */
  readonly schedule?: (task: () => void, delayMs: number) => () => void;
}

/** Options of one transport on a memory network. */
export interface MemoryTransportInit {
  /** Name shown in traces and errors. @default "memory-<n>", n counting transports from 0 */
  readonly name?: string;
  /**
   * Whether the transport can query the network's history (`capabilities.history`); false emulates a
   * relay-only node without a store. @default true
   */
  readonly history?: boolean;
  /** Whether the transport receives its own publishes (`capabilities.selfDelivery`). @default true */
  readonly selfDelivery?: boolean;
}

/** A transport on a memory network. */
export interface MemoryTransport extends Transport {
  /** Its name (`MemoryTransportInit.name`). */
  readonly name: string;
  /** The network it is on. */
  readonly network: MemoryNetwork;
}

/**
 * A shared in-process network. It keeps the history of every message published on it (unbounded;
 * queried by `queryHistory`), and decides the fate of every delivery with its seeded faults.
 */
export interface MemoryNetwork {
  /** Makes a new transport on this network (not started). */
  transport(init?: MemoryTransportInit): MemoryTransport;
  /**
   * Splits the network: messages do not cross groups, neither live nor through history. Transports
   * of this network not listed form one more group together (transports created later join it).
   * Replaces any previous partition. Deliveries already in flight are lost if they would cross a
   * group when they land. A message published during a partition is in the history of the
   * transports that were in its publisher's group when it was published, until `heal()`.
   * @param groups - groups of transports of this network, each transport in at most one group
   * @throws RangeError when a transport is not on this network or is in two groups
   */
  partition(groups: readonly (readonly Transport[])[]): void;
  /**
   * Ends the partition. Live delivery resumes for new messages (deliveries lost meanwhile are not
   * replayed, as on a real network); history shows every message to every transport again, as a
   * store that synced would: that is how a healed peer catches up.
   */
  heal(): void;
  /** Whether a partition is in place. */
  readonly partitioned: boolean;
  /** Deliveries decided and not landed yet (scheduled or on a microtask). */
  readonly deliveriesInFlight: number;
  /**
   * Resolves once no delivery is in flight. With an injected scheduler, advance it meanwhile.
   * @throws AbortError
   */
  idle(options?: CallOptions): Promise<void>;
  /** Stops every transport on the network (handy in test cleanup). */
  stop(): Promise<void>;
}
