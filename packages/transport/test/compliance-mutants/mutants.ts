/**
 * Broken transports for `compliance-suite.test.ts`: each wraps a memory transport with one bug, and
 * the suite must fail the cases named in `expectedFailures` (and pass the others). One transport
 * with only allowed faults (duplicates, fixed latency) must pass everything.
 */
import type { TransportFixture } from "../../src/compliance.ts";
import {
  AbortError,
  type CallOptions,
  type HistoryQuery,
  type MemoryNetwork,
  type MemoryNetworkInit,
  type MemoryTransportInit,
  type MessageHandler,
  memoryNetwork,
  type Transport,
} from "../../src/index.ts";

type Mutation = (inner: Transport) => Partial<Transport>;

export interface Mutant {
  readonly name: string;
  /** @default 2000: generous, so that a case expected to pass never fails on a slow machine */
  readonly deliveryTimeoutMs?: number;
  readonly network?: MemoryNetworkInit;
  readonly transport?: MemoryTransportInit;
  readonly mutate?: Mutation;
}

/** Delegates to `inner`, except for what `mutate` overrides. */
function mutated(inner: Transport, mutate: Mutation | undefined): Transport {
  const overrides = mutate?.(inner) ?? {};
  return {
    get capabilities() {
      return overrides.capabilities ?? inner.capabilities;
    },
    get status() {
      return inner.status;
    },
    start: overrides.start ?? ((options) => inner.start(options)),
    stop: overrides.stop ?? ((options) => inner.stop(options)),
    publish:
      overrides.publish ?? ((topic, payload, options) => inner.publish(topic, payload, options)),
    subscribe:
      overrides.subscribe ??
      ((topics, handler, options) => inner.subscribe(topics, handler, options)),
    queryHistory:
      overrides.queryHistory ?? ((query, options) => inner.queryHistory(query, options)),
    on: (event, listener) => inner.on(event, listener),
  };
}

/** Drops the signal: the call cannot be aborted. */
const withoutSignal = (_options?: CallOptions): CallOptions => ({});

/** A mutant and the cases the suite must fail on it (exactly those, unless `othersMayFail`). */
export interface MutantExpectation extends Mutant {
  readonly expectedFailures: readonly string[];
  /** Cases skipped by capability. @default none */
  readonly expectedSkips?: readonly string[];
  readonly othersMayFail?: boolean;
}

export const mutants: readonly MutantExpectation[] = [
  {
    name: "allowed faults (duplicates, fixed latency)",
    network: { seed: 5, duplicateRate: 0.3, latency: { minMs: 3, maxMs: 3 } },
    expectedFailures: [],
  },
  {
    name: "a weaker transport (no history, no self delivery, jittery latency)",
    network: { seed: 8, latency: { minMs: 0, maxMs: 6 }, duplicateRate: 0.1 },
    transport: { history: false, selfDelivery: false },
    expectedFailures: [],
    expectedSkips: [
      "delivery/self",
      "delivery/ordered",
      "history/messages",
      "history/time-range",
      "history/directions",
      "history/paging",
      "history/multiple-topics",
      "history/invalid-cursor",
      "history/invalid-query",
    ],
  },
  {
    name: "a throwing handler ends its subscription",
    mutate: (inner) => ({
      async subscribe(topics, handler, options) {
        let subscription: Awaited<ReturnType<Transport["subscribe"]>> | undefined;
        const guarded: MessageHandler = async (message) => {
          try {
            await handler(message);
          } catch (error) {
            await subscription?.unsubscribe();
            throw error;
          }
        };
        subscription = await inner.subscribe(topics, guarded, options);
        return subscription;
      },
    }),
    expectedFailures: ["handler/failure-isolated"],
  },
  {
    name: "unsubscribe does nothing",
    mutate: (inner) => ({
      async subscribe(topics, handler, options) {
        const subscription = await inner.subscribe(topics, handler, options);
        return { contentTopics: subscription.contentTopics, unsubscribe: async () => {} };
      },
    }),
    expectedFailures: ["unsubscribe/stops-delivery"],
  },
  {
    name: "ignores AbortSignal",
    mutate: (inner) => ({
      start: (options) => inner.start(withoutSignal(options)),
      publish: (topic, payload, options) => inner.publish(topic, payload, withoutSignal(options)),
      subscribe: (topics, handler, options) =>
        inner.subscribe(topics, handler, withoutSignal(options)),
      queryHistory: (query, options) => inner.queryHistory(query, withoutSignal(options)),
    }),
    // A call that ignores an abort mid-flight and completes is allowed; one already aborted is not.
    expectedFailures: ["lifecycle/aborted-start", "abort/already-aborted"],
  },
  {
    name: "an aborted subscribe rejects but stays subscribed",
    mutate: (inner) => ({
      async subscribe(topics, handler, options) {
        const subscription = await inner.subscribe(topics, handler);
        if (options?.signal?.aborted) throw new AbortError("subscribe");
        return subscription;
      },
    }),
    expectedFailures: ["abort/already-aborted", "abort/during-call"],
  },
  {
    name: "claims a smaller maxPayloadBytes than it enforces",
    mutate: (inner) => ({ capabilities: { ...inner.capabilities, maxPayloadBytes: 1_000 } }),
    expectedFailures: ["payload/max-size"],
  },
  {
    name: "time ranges exclude their bounds",
    mutate: (inner) => ({
      async queryHistory(query: HistoryQuery, options) {
        const page = await inner.queryHistory(query, options);
        const inside = page.messages.filter(
          (m) => m.timestamp !== query.from && m.timestamp !== query.to,
        );
        return { ...page, messages: inside };
      },
    }),
    expectedFailures: ["history/time-range"],
  },
  {
    name: "history pages overlap",
    mutate: (inner) => {
      // The cursor names the next-to-last message of a page, so the last one comes again.
      return {
        async queryHistory(query, options) {
          const page = await inner.queryHistory(query, options);
          const previous = page.messages[page.messages.length - 2];
          return page.cursor !== undefined && previous !== undefined
            ? { messages: page.messages, cursor: previous.id }
            : page;
        },
      };
    },
    expectedFailures: ["history/paging"],
  },
  {
    name: "history answers for the first topic only",
    mutate: (inner) => ({
      queryHistory: (query, options) =>
        inner.queryHistory({ ...query, contentTopics: query.contentTopics.slice(0, 1) }, options),
    }),
    expectedFailures: ["history/multiple-topics"],
  },
  {
    name: "subscriptions leak other topics",
    mutate: (inner) => {
      // Every subscription also hears the topics of the subscriptions made before it.
      const earlier: string[] = [];
      return {
        async subscribe(topics, handler, options) {
          const subscriptions = await Promise.all(
            [...new Set([...topics, ...earlier])].map((topic) =>
              inner.subscribe([topic], handler, options),
            ),
          );
          earlier.push(...topics);
          return {
            contentTopics: topics,
            async unsubscribe(o) {
              await Promise.all(subscriptions.map((s) => s.unsubscribe(o)));
            },
          };
        },
      };
    },
    expectedFailures: ["delivery/topic-isolation"],
  },
  {
    name: "loses one delivery in five",
    network: { seed: 3, dropRate: 0.2 },
    deliveryTimeoutMs: 300,
    // Every case that waits for a delivery may fail; these publish too many messages not to.
    expectedFailures: ["delivery/at-least-once", "delivery/parallel-publishes"],
    othersMayFail: true,
  },
  {
    name: "timestamps in nanoseconds",
    mutate: (inner) => ({
      async publish(topic, payload, options) {
        const result = await inner.publish(topic, payload, options);
        return { ...result, timestamp: result.timestamp * 1_000_000 };
      },
    }),
    // Every case that publishes checks PublishResult.
    expectedFailures: ["delivery/byte-for-byte", "delivery/self"],
    othersMayFail: true,
  },
];

/** A fixture making transports of one mutant. */
export function fixtureFor(mutant: Mutant): TransportFixture {
  let network: MemoryNetwork | undefined;
  const current = () => {
    network ??= memoryNetwork(mutant.network);
    return network;
  };
  return {
    name: mutant.name,
    deliveryTimeoutMs: mutant.deliveryTimeoutMs ?? 2_000,
    async createPeers(count) {
      const net = current();
      const peers = Array.from({ length: count }, () =>
        mutated(net.transport(mutant.transport), mutant.mutate),
      );
      await Promise.all(peers.map((peer) => peer.start()));
      return peers;
    },
    async createUnstarted() {
      return mutated(current().transport(mutant.transport), mutant.mutate);
    },
    async cleanup() {
      const net = network;
      network = undefined;
      await net?.stop();
      await net?.idle();
    },
  };
}
