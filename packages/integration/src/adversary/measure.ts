/**
 * Measurement helpers of the adversary harness: what a victim persists (bytes in its store), what it
 * does on the network (publishes per topic, history queries, subscriptions) and what it computes
 * (calls into its crypto provider, and process CPU time around a step).
 *
 * Every figure here is a count or a size, so a test's outcome never depends on how fast the
 * machine is; CPU time ({@link cpuMicros}) is for the benchmark's printout only.
 */
import type { CryptoProvider } from "@orgchat/crypto";
import type { Store, StoreOp } from "@orgchat/store";
import type { Transport } from "@orgchat/transport";

/**
 * A store that remembers every space and log name written to it, so that everything it holds can
 * be measured ({@link MeasuredStore.persistedBytes}). Every call goes to the inner store unchanged.
 */
export interface MeasuredStore extends Store {
  /**
   * Bytes the store holds now: every record's key and value and every log entry's id and value, in
   * every space and log written through this wrapper (keys and ids counted as UTF-16 code units:
   * they are ASCII here).
   * @param prefix - only spaces and logs whose name starts with it (e.g. `"pending/"`)
   */
  persistedBytes(prefix?: string): Promise<number>;
  /** Entries in the logs whose name starts with `prefix`, and records in such spaces. */
  persistedItems(prefix?: string): Promise<number>;
}

/** Wraps `inner` (e.g. `memoryStore()`) to measure what it holds. */
export function measuredStore(inner: Store): MeasuredStore {
  const spaces = new Set<string>();
  const logs = new Set<string>();
  const note = (ops: readonly StoreOp[]) => {
    for (const op of ops) {
      if (op.type === "put") spaces.add(op.space);
      if (op.type === "append") logs.add(op.log);
    }
  };
  const measure = async (prefix: string, what: "bytes" | "items") => {
    let total = 0;
    for (const space of spaces) {
      if (!space.startsWith(prefix)) continue;
      for (const key of await inner.keys(space)) {
        const value = await inner.get(space, key);
        total += what === "items" ? 1 : key.length + (value?.length ?? 0);
      }
    }
    for (const log of logs) {
      if (!log.startsWith(prefix)) continue;
      for (const entry of await inner.range(log)) {
        total += what === "items" ? 1 : entry.id.length + 8 + entry.value.length;
      }
    }
    return total;
  };
  return {
    get: (space, key, options) => inner.get(space, key, options),
    getOrThrow: (space, key, options) => inner.getOrThrow(space, key, options),
    put: (space, key, value, options) => {
      spaces.add(space);
      return inner.put(space, key, value, options);
    },
    delete: (space, key, options) => inner.delete(space, key, options),
    keys: (space, query, options) => inner.keys(space, query, options),
    append: (log, entries, options) => {
      logs.add(log);
      return inner.append(log, entries, options);
    },
    getEntry: (log, id, options) => inner.getEntry(log, id, options),
    range: (log, query, options) => inner.range(log, query, options),
    deleteEntries: (log, ids, options) => inner.deleteEntries(log, ids, options),
    batch: (ops, options) => {
      note(ops);
      return inner.batch(ops, options);
    },
    close: () => inner.close(),
    persistedBytes: (prefix = "") => measure(prefix, "bytes"),
    persistedItems: (prefix = "") => measure(prefix, "items"),
  };
}

/** What a {@link CountingTransport} saw its client do. */
export interface TransportCounts {
  /** Payloads published, by content topic. */
  readonly published: Map<string, number>;
  /** Bytes published, by content topic. */
  readonly publishedBytes: Map<string, number>;
  /** `queryHistory` calls, by content topic (a query naming several topics counts for each). */
  readonly historyQueries: Map<string, number>;
  /** Topics subscribed to (each `subscribe` call adds its topics; never removed). */
  readonly subscribed: Set<string>;
}

/** A transport that counts what its client publishes, queries and subscribes to. */
export interface CountingTransport extends Transport {
  readonly counts: TransportCounts;
}

/** Sum of a count map, optionally over the keys `accept` keeps. */
export function total(
  counts: ReadonlyMap<string, number>,
  accept: (key: string) => boolean = () => true,
): number {
  let sum = 0;
  for (const [key, value] of counts) if (accept(key)) sum += value;
  return sum;
}

/** Wraps `transport` to count publishes, history queries and subscriptions. */
export function countingTransport(transport: Transport): CountingTransport {
  const counts: TransportCounts = {
    published: new Map(),
    publishedBytes: new Map(),
    historyQueries: new Map(),
    subscribed: new Set(),
  };
  const add = (map: Map<string, number>, key: string, by: number) =>
    map.set(key, (map.get(key) ?? 0) + by);
  return new Proxy(transport, {
    get(target, property) {
      if (property === "counts") return counts;
      if (property === "publish") {
        return (
          topic: string,
          payload: Uint8Array,
          options?: Parameters<Transport["publish"]>[2],
        ) => {
          add(counts.published, topic, 1);
          add(counts.publishedBytes, topic, payload.length);
          return target.publish(topic, payload, options);
        };
      }
      if (property === "queryHistory") {
        return (
          query: Parameters<Transport["queryHistory"]>[0],
          options?: Parameters<Transport["queryHistory"]>[1],
        ) => {
          for (const topic of query.contentTopics) add(counts.historyQueries, topic, 1);
          return target.queryHistory(query, options);
        };
      }
      if (property === "subscribe") {
        return (
          topics: readonly string[],
          handler: Parameters<Transport["subscribe"]>[1],
          options?: Parameters<Transport["subscribe"]>[2],
        ) => {
          for (const topic of topics) counts.subscribed.add(topic);
          return target.subscribe(topics, handler, options);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as CountingTransport;
}

/** Calls into a crypto provider, by method name. */
export type ProviderCounts = Map<keyof CryptoProvider, number>;

/** A crypto provider that counts the calls made into it (deterministic work, not time). */
export interface CountingProvider extends CryptoProvider {
  readonly calls: ProviderCounts;
  /** Every call so far, all methods together. */
  totalCalls(): number;
}

/** Wraps `provider` to count calls of each method. */
export function countingProvider(provider: CryptoProvider): CountingProvider {
  const calls: ProviderCounts = new Map();
  return new Proxy(provider, {
    get(target, property) {
      if (property === "calls") return calls;
      if (property === "totalCalls") return () => total(calls as Map<string, number>);
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const name = property as keyof CryptoProvider;
        calls.set(name, (calls.get(name) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as CountingProvider;
}

/** Process CPU time (user + system) spent by `step`, µs. For benchmarks only, never for a test's verdict. */
export async function cpuMicros(step: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  await step();
  const spent = process.cpuUsage(before);
  return spent.user + spent.system;
}
