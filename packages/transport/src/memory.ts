/**
 * The in-process reference transport: every `Transport` made by one `memoryNetwork()` exchanges
 * messages with the others in the same process, through seeded, per-delivery fault injection
 * (latency, drops, duplicates, reordering, partitions that heal). It passes the compliance suite
 * with no skips, and later layers test convergence on it.
 *
 * This module is the network (members, partitions, routing, idleness); the pieces are
 * `memory-transport.ts` (one transport), `memory-faults.ts` (the seeded faults) and
 * `memory-history.ts` (the shared history).
 */
import type { NormalizedHistoryQuery } from "./checks.js";
import { AbortError } from "./errors.js";
import { DeliveryFaults } from "./memory-faults.js";
import { MemoryHistory, type PreparedPublish, sealMessageId } from "./memory-history.js";
import {
  type MemoryNetworkHooks,
  MemoryTransportImpl,
  nextMicrotask,
  type PendingDelivery,
} from "./memory-transport.js";
import {
  type MemoryNetwork,
  type MemoryNetworkComponents,
  type MemoryNetworkInit,
  type MemoryTransport,
  type MemoryTransportInit,
  memoryDefaultMaxPayloadBytes,
} from "./memory-types.js";
import type {
  CallOptions,
  HistoryPage,
  PublishResult,
  Transport,
  TransportCapabilities,
  TransportMessage,
} from "./types.js";

export type {
  MemoryLatency,
  MemoryNetwork,
  MemoryNetworkComponents,
  MemoryNetworkInit,
  MemoryTransport,
  MemoryTransportInit,
} from "./memory-types.js";
export { memoryDefaultMaxPayloadBytes } from "./memory-types.js";

const defaultSchedule = (task: () => void, delayMs: number): (() => void) => {
  const timer = setTimeout(task, delayMs);
  return () => clearTimeout(timer);
};

class MemoryNetworkCore implements MemoryNetworkHooks {
  readonly #members: MemoryTransportImpl[] = [];
  readonly #history = new MemoryHistory();
  /** Group of each listed transport index; unlisted ones share group -1. Undefined: no partition. */
  #groups: Map<number, number> | undefined;
  /** `#visibleTo`'s sets for the current partition and transports (emptied when either changes). */
  readonly #visibility = new Map<number, ReadonlySet<number>>();
  #inFlight = 0;
  readonly #idleWaiters = new Set<() => void>();
  readonly #faults: DeliveryFaults;
  readonly #now: () => number;
  readonly #schedule: (task: () => void, delayMs: number) => () => void;
  readonly #maxPayloadBytes: number;

  constructor(init: MemoryNetworkInit, components: MemoryNetworkComponents) {
    this.#faults = new DeliveryFaults(init);
    const maxPayloadBytes = init.maxPayloadBytes ?? memoryDefaultMaxPayloadBytes;
    if (!Number.isSafeInteger(maxPayloadBytes) || maxPayloadBytes < 1) {
      throw new RangeError(
        `maxPayloadBytes must be a positive integer, got ${String(init.maxPayloadBytes)}`,
      );
    }
    this.#maxPayloadBytes = maxPayloadBytes;
    this.#now = components.now ?? Date.now;
    this.#schedule = components.schedule ?? defaultSchedule;
  }

  get partitioned(): boolean {
    return this.#groups !== undefined;
  }

  get deliveriesInFlight(): number {
    return this.#inFlight;
  }

  transport(init: MemoryTransportInit = {}): MemoryTransport {
    const index = this.#members.length;
    const capabilities: TransportCapabilities = Object.freeze({
      history: init.history ?? true,
      selfDelivery: init.selfDelivery ?? true,
      ordered: this.#faults.ordered,
      maxPayloadBytes: this.#maxPayloadBytes,
    });
    const transport = new MemoryTransportImpl(
      this,
      index,
      capabilities,
      init.name ?? `memory-${index}`,
    );
    this.#members.push(transport);
    this.#visibility.clear();
    return transport;
  }

  partition(groups: readonly (readonly Transport[])[]): void {
    if (!Array.isArray(groups))
      throw new TypeError("partition: groups must be an array of arrays of transports");
    const next = new Map<number, number>();
    groups.forEach((group, groupIndex) => {
      if (!Array.isArray(group))
        throw new TypeError(`partition: groups[${groupIndex}] must be an array of transports`);
      for (const transport of group as readonly Transport[]) {
        const member = this.#members.find((m) => m === transport);
        if (member === undefined) {
          throw new RangeError(
            `partition: groups[${groupIndex}] holds a transport that is not on this network`,
          );
        }
        if (next.has(member.index)) {
          throw new RangeError(`partition: transport ${member.name} is in two groups`);
        }
        next.set(member.index, groupIndex);
      }
    });
    this.#groups = next;
    this.#visibility.clear();
    this.membershipChanged();
  }

  heal(): void {
    if (this.#groups === undefined) return;
    this.#groups = undefined;
    this.#visibility.clear();
    this.#history.heal();
    this.membershipChanged();
  }

  idle(options?: CallOptions): Promise<void> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AbortError("idle", { cause: signal.reason }));
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#idleWaiters.delete(done);
        reject(new AbortError("idle", { cause: signal?.reason }));
      };
      const done = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      this.#idleWaiters.add(done);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.#members.map((member) => member.stop()));
  }

  /** A transport started or stopped, or the partition changed: tell everyone their peer count. */
  membershipChanged(): void {
    for (const member of this.#members) {
      if (!member.started) continue;
      let peers = 0;
      for (const other of this.#members) {
        if (other !== member && other.started && this.#reachable(member, other)) peers++;
      }
      member.peersChanged(peers);
    }
    this.#settle();
  }

  publishFrom(
    publisher: MemoryTransportImpl,
    contentTopic: string,
    prepared: PreparedPublish,
  ): PublishResult {
    const now = this.#now();
    if (!Number.isFinite(now) || now < 0) {
      throw new RangeError(`now() must return a non-negative number of ms, got ${String(now)}`);
    }
    const timestamp = Math.floor(now);
    const id = sealMessageId(prepared, timestamp, publisher.index, publisher.nextSequence());
    const payload = prepared.payload;
    const message: TransportMessage = Object.freeze({ contentTopic, payload, timestamp, id });
    this.#store(message, publisher);
    let recipients = 0;
    // Creation order, so the PRNG draws follow the same sequence on every run.
    for (const member of this.#members) {
      if (!member.started || !this.#reachable(publisher, member)) continue;
      if (member === publisher && !member.capabilities.selfDelivery) continue;
      if (member !== publisher) recipients++;
      this.#route(message, publisher, member);
    }
    return { id, timestamp, recipients };
  }

  queryHistory(viewer: MemoryTransportImpl, query: NormalizedHistoryQuery): HistoryPage {
    return this.#history.query(viewer.index, query);
  }

  #store(message: TransportMessage, publisher: MemoryTransportImpl): void {
    this.#history.store(message, this.#visibleTo(publisher));
  }

  /**
   * Who sees what `publisher` publishes now: undefined without a partition, else one set per
   * publisher, shared by its messages until the partition or the network's transports change.
   */
  #visibleTo(publisher: MemoryTransportImpl): ReadonlySet<number> | undefined {
    if (this.#groups === undefined) return undefined;
    let visibleTo = this.#visibility.get(publisher.index);
    if (visibleTo === undefined) {
      const set = new Set<number>();
      for (const member of this.#members) {
        if (this.#reachable(publisher, member)) set.add(member.index);
      }
      visibleTo = set;
      this.#visibility.set(publisher.index, visibleTo);
    }
    return visibleTo;
  }

  #reachable(a: MemoryTransportImpl, b: MemoryTransportImpl): boolean {
    if (this.#groups === undefined || a === b) return true;
    return (this.#groups.get(a.index) ?? -1) === (this.#groups.get(b.index) ?? -1);
  }

  #route(
    message: TransportMessage,
    publisher: MemoryTransportImpl,
    recipient: MemoryTransportImpl,
  ): void {
    const fate = this.#faults.decide();
    if (fate.dropped) return;
    this.#send(message, publisher, recipient, fate.firstDelayMs);
    if (fate.duplicated) this.#send(message, publisher, recipient, fate.secondDelayMs);
  }

  #send(
    message: TransportMessage,
    publisher: MemoryTransportImpl,
    recipient: MemoryTransportImpl,
    delayMs: number,
  ): void {
    const session = recipient.session;
    this.#inFlight++;
    if (!this.#faults.timed) {
      // An unnamed callback: no name given to a closure made per delivery.
      void nextMicrotask().then(() => this.#land(message, publisher, recipient, session));
      return;
    }
    const land = () => this.#land(message, publisher, recipient, session);
    let cancelTimer: (() => void) | undefined;
    let landed = false;
    const delivery: PendingDelivery = {
      cancel: () => {
        if (landed) return;
        landed = true;
        cancelTimer?.();
        this.#inFlight--;
      },
    };
    recipient.pendingDeliveries.add(delivery);
    cancelTimer = this.#schedule(() => {
      if (landed) return;
      landed = true;
      recipient.pendingDeliveries.delete(delivery);
      land();
    }, delayMs);
    if (landed) cancelTimer();
  }

  /** A delivery arrives: lost if the recipient stopped (or restarted) meanwhile, or a partition now separates them. */
  #land(
    message: TransportMessage,
    publisher: MemoryTransportImpl,
    recipient: MemoryTransportImpl,
    session: number,
  ): void {
    this.#inFlight--;
    if (
      recipient.session === session &&
      recipient.started &&
      this.#reachable(publisher, recipient)
    ) {
      recipient.receive(message);
    }
    this.#settle();
  }

  #settle(): void {
    if (this.#inFlight !== 0) return;
    const waiters = [...this.#idleWaiters];
    this.#idleWaiters.clear();
    for (const waiter of waiters) waiter();
  }
}

/**
 * Makes an in-process network for memory transports, with seeded fault injection.
 *
 * @param init - faults, seed and payload limit; see {@link MemoryNetworkInit}
 * @param components - injected clock and timer scheduler; see {@link MemoryNetworkComponents}
 * @returns the network; make transports with `network.transport()`
 * @throws RangeError on an out-of-range option (rates outside 0..1, negative or fractional ms, …)
 * @example
 * ```ts
 * const network = memoryNetwork({ seed: 42, dropRate: 0.1, latency: { minMs: 5, maxMs: 40 } });
 * const alice = network.transport({ name: "alice" });
 * const bob = network.transport({ name: "bob" });
 * await Promise.all([alice.start(), bob.start()]);
 * await bob.subscribe([topic], (message) => console.log(message.id));
 * await alice.publish(topic, new TextEncoder().encode("hello"));
 * network.partition([[alice], [bob]]); // … later: network.heal()
 * ```
 */
export function memoryNetwork(
  init: MemoryNetworkInit = {},
  components: MemoryNetworkComponents = {},
): MemoryNetwork {
  return new MemoryNetworkCore(init, components);
}

/**
 * Makes a memory transport: on `network`, or alone on a new fault-free network (it then only hears
 * itself, which is enough for single-peer tests).
 *
 * @param network - the network to join. @default a new `memoryNetwork()`
 * @param init - name and capabilities; see {@link MemoryTransportInit}
 * @returns a transport, not started
 * @example
 * ```ts
 * const transport = memoryTransport();
 * await transport.start();
 * ```
 */
export function memoryTransport(
  network: MemoryNetwork = memoryNetwork(),
  init?: MemoryTransportInit,
): MemoryTransport {
  return network.transport(init);
}
