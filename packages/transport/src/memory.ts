/**
 * The in-process reference transport: every `Transport` made by one `memoryNetwork()` exchanges
 * messages with the others in the same process, through seeded, per-delivery fault injection
 * (latency, drops, duplicates, reordering, partitions that heal). It passes the compliance suite
 * with no skips, and later layers test convergence on it.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import {
  assertContentTopic,
  assertPublishable,
  type NormalizedHistoryQuery,
  normalizeHistoryQuery,
  TransportEventEmitter,
  throwIfAborted,
} from "./checks.js";
import {
  AbortError,
  HistoryUnsupportedError,
  InvalidCursorError,
  NotStartedError,
} from "./errors.js";
import type {
  CallOptions,
  HistoryPage,
  HistoryQuery,
  MessageHandler,
  PublishResult,
  Subscription,
  Transport,
  TransportCapabilities,
  TransportEvents,
  TransportListener,
  TransportMessage,
  TransportStatus,
} from "./types.js";

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

interface StoredMessage {
  readonly message: TransportMessage;
  /** Indexes of the transports whose history shows it; undefined: every transport. */
  visibleTo: ReadonlySet<number> | undefined;
}

interface PendingDelivery {
  cancel: () => void;
}

const encoder = new TextEncoder();
const idDomain = encoder.encode("orgchat/memory-transport/message/v1");
const cursorShape = /^[0-9a-f]{64}$/;

/**
 * sha256(domain ‖ 0 ‖ u32 topic length ‖ topic ‖ f64 timestamp ‖ u32 publisher ‖ u32 sequence ‖
 * payload): deterministic, and distinct for two identical publishes (the sequence differs).
 */
function messageId(
  contentTopic: string,
  payload: Uint8Array,
  timestamp: number,
  publisher: number,
  sequence: number,
): string {
  const topic = encoder.encode(contentTopic);
  const header = new Uint8Array(idDomain.length + 1 + 4 + topic.length + 8 + 4 + 4);
  header.set(idDomain, 0);
  const view = new DataView(header.buffer);
  let offset = idDomain.length + 1;
  view.setUint32(offset, topic.length);
  offset += 4;
  header.set(topic, offset);
  offset += topic.length;
  view.setFloat64(offset, timestamp);
  offset += 8;
  view.setUint32(offset, publisher);
  offset += 4;
  view.setUint32(offset, sequence);
  return bytesToHex(sha256.create().update(header).update(payload).digest());
}

/** mulberry32: small, fast, and good enough for fault decisions (not for anything secret). */
function seededRandom(seed: number): () => number {
  let state = (seed ^ Math.floor(seed / 2 ** 32)) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function compareMessages(a: TransportMessage, b: TransportMessage): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function copyMessage(message: TransportMessage): TransportMessage {
  return {
    contentTopic: message.contentTopic,
    payload: message.payload.slice(),
    timestamp: message.timestamp,
    id: message.id,
  };
}

function checkRate(name: string, value: number | undefined): number {
  const rate = value ?? 0;
  if (typeof rate !== "number" || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new RangeError(`${name} must be a number from 0 to 1, got ${String(value)}`);
  }
  return rate;
}

function checkWholeMs(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `${name} must be a non-negative integer number of ms, got ${String(value)}`,
    );
  }
  return value;
}

/** Calls are asynchronous as on a real network: an abort during the call can still land. */
const nextMicrotask = () => Promise.resolve();

const defaultSchedule = (task: () => void, delayMs: number): (() => void) => {
  const timer = setTimeout(task, delayMs);
  return () => clearTimeout(timer);
};

class MemorySubscription implements Subscription {
  readonly contentTopics: readonly string[];
  readonly topics: ReadonlySet<string>;
  readonly handler: MessageHandler;
  active = true;
  readonly #owner: Set<MemorySubscription>;

  constructor(
    contentTopics: readonly string[],
    handler: MessageHandler,
    owner: Set<MemorySubscription>,
  ) {
    this.topics = new Set(contentTopics);
    this.contentTopics = Object.freeze([...this.topics]);
    this.handler = handler;
    this.#owner = owner;
  }

  async unsubscribe(options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal, "unsubscribe");
    this.end();
  }

  end(): void {
    this.active = false;
    this.#owner.delete(this);
  }
}

class MemoryTransportImpl implements MemoryTransport {
  readonly name: string;
  readonly capabilities: TransportCapabilities;
  readonly network: MemoryNetwork;
  /** Position on the network, in creation order (network-internal). */
  readonly index: number;
  /** Incremented by every start and stop, so deliveries decided in an earlier session are dropped. */
  session = 0;
  /** Timed deliveries to this transport, cancelled by `stop()` (network-internal). */
  readonly pendingDeliveries = new Set<PendingDelivery>();
  #started = false;
  #sequence = 0;
  #lastPeers = -1;
  readonly #core: MemoryNetworkCore;
  readonly #emitter = new TransportEventEmitter();
  readonly #subscriptions = new Set<MemorySubscription>();

  constructor(
    core: MemoryNetworkCore,
    index: number,
    capabilities: TransportCapabilities,
    name: string,
  ) {
    this.#core = core;
    this.network = core;
    this.index = index;
    this.capabilities = capabilities;
    this.name = name;
  }

  get started(): boolean {
    return this.#started;
  }

  get status(): TransportStatus {
    return this.#started ? "online" : "stopped";
  }

  async start(options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal, "start");
    if (this.#started) return;
    await nextMicrotask();
    throwIfAborted(options?.signal, "start");
    if (this.#started) return;
    this.#started = true;
    this.session++;
    this.#core.membershipChanged();
  }

  async stop(options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal, "stop");
    if (!this.#started) return;
    this.#started = false;
    this.session++;
    for (const subscription of [...this.#subscriptions]) subscription.end();
    for (const delivery of [...this.pendingDeliveries]) delivery.cancel();
    this.pendingDeliveries.clear();
    this.#lastPeers = -1;
    this.#emitter.emit("status:changed", { status: "stopped", peers: 0 });
    this.#core.membershipChanged();
  }

  async publish(
    contentTopic: string,
    payload: Uint8Array,
    options?: CallOptions,
  ): Promise<PublishResult> {
    const signal = options?.signal;
    throwIfAborted(signal, "publish");
    this.#assertStarted("publish");
    assertPublishable(contentTopic, payload, this.capabilities);
    // Copied now: the caller may reuse its buffer as soon as publish returns.
    const bytes = payload.slice();
    await nextMicrotask();
    throwIfAborted(signal, "publish");
    this.#assertStarted("publish");
    return this.#core.publishFrom(this, contentTopic, bytes);
  }

  async subscribe(
    contentTopics: readonly string[],
    handler: MessageHandler,
    options?: CallOptions,
  ): Promise<Subscription> {
    const signal = options?.signal;
    throwIfAborted(signal, "subscribe");
    this.#assertStarted("subscribe");
    if (!Array.isArray(contentTopics) || contentTopics.length === 0) {
      throw new RangeError("subscribe: contentTopics must list at least one content topic");
    }
    for (const topic of contentTopics) assertContentTopic(topic);
    if (typeof handler !== "function") throw new TypeError("subscribe: handler must be a function");
    await nextMicrotask();
    throwIfAborted(signal, "subscribe");
    this.#assertStarted("subscribe");
    const subscription = new MemorySubscription(contentTopics, handler, this.#subscriptions);
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async queryHistory(query: HistoryQuery, options?: CallOptions): Promise<HistoryPage> {
    const signal = options?.signal;
    throwIfAborted(signal, "queryHistory");
    this.#assertStarted("queryHistory");
    if (!this.capabilities.history)
      throw new HistoryUnsupportedError(`Memory transport ${this.name}`);
    const normalized = normalizeHistoryQuery(query);
    await nextMicrotask();
    throwIfAborted(signal, "queryHistory");
    this.#assertStarted("queryHistory");
    return this.#core.queryHistory(this, normalized);
  }

  on<K extends keyof TransportEvents>(event: K, listener: TransportListener<K>): () => void {
    return this.#emitter.on(event, listener);
  }

  /** Next publish sequence number; it survives restarts so that ids never repeat (network-internal). */
  nextSequence(): number {
    return this.#sequence++;
  }

  /** Hands a landed delivery to every live subscription on its topic (network-internal). */
  receive(message: TransportMessage): void {
    for (const subscription of [...this.#subscriptions]) {
      if (!subscription.active || !subscription.topics.has(message.contentTopic)) continue;
      const report = (error: unknown) =>
        this.#emitter.emit("handler:failed", {
          contentTopic: message.contentTopic,
          messageId: message.id,
          error,
        });
      try {
        // Each handler gets its own copy: one handler mutating its bytes must not change another's.
        const result = subscription.handler(copyMessage(message));
        if (typeof result === "object" && result !== null && typeof result.then === "function") {
          result.then(undefined, report);
        }
      } catch (error) {
        report(error);
      }
    }
  }

  /** Reports a new peer count, if it changed (network-internal). */
  peersChanged(peers: number): void {
    if (!this.#started || peers === this.#lastPeers) return;
    this.#lastPeers = peers;
    this.#emitter.emit("status:changed", { status: "online", peers });
  }

  #assertStarted(operation: string): void {
    if (!this.#started) throw new NotStartedError(operation);
  }
}

class MemoryNetworkCore implements MemoryNetwork {
  readonly #members: MemoryTransportImpl[] = [];
  readonly #history: StoredMessage[] = [];
  readonly #byId = new Map<string, StoredMessage>();
  /** Messages published during a partition, still hidden from some histories. */
  #restricted: StoredMessage[] = [];
  /** Group of each listed transport index; unlisted ones share group -1. Undefined: no partition. */
  #groups: Map<number, number> | undefined;
  #inFlight = 0;
  readonly #idleWaiters = new Set<() => void>();
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #schedule: (task: () => void, delayMs: number) => () => void;
  readonly #latency: MemoryLatency | undefined;
  readonly #dropRate: number;
  readonly #duplicateRate: number;
  readonly #reorderWindowMs: number;
  readonly #timed: boolean;
  readonly #ordered: boolean;
  readonly #maxPayloadBytes: number;

  constructor(init: MemoryNetworkInit, components: MemoryNetworkComponents) {
    const seed = init.seed ?? 0;
    if (!Number.isSafeInteger(seed))
      throw new RangeError(`seed must be an integer, got ${String(init.seed)}`);
    this.#random = seededRandom(seed);
    if (init.latency !== undefined) {
      const minMs = checkWholeMs("latency.minMs", init.latency.minMs);
      const maxMs = checkWholeMs("latency.maxMs", init.latency.maxMs);
      if (maxMs < minMs)
        throw new RangeError(`latency.maxMs (${maxMs}) is below latency.minMs (${minMs})`);
      this.#latency = { minMs, maxMs };
    }
    this.#dropRate = checkRate("dropRate", init.dropRate);
    this.#duplicateRate = checkRate("duplicateRate", init.duplicateRate);
    this.#reorderWindowMs = checkWholeMs("reorderWindowMs", init.reorderWindowMs ?? 0);
    const maxPayloadBytes = init.maxPayloadBytes ?? memoryDefaultMaxPayloadBytes;
    if (!Number.isSafeInteger(maxPayloadBytes) || maxPayloadBytes < 1) {
      throw new RangeError(
        `maxPayloadBytes must be a positive integer, got ${String(init.maxPayloadBytes)}`,
      );
    }
    this.#maxPayloadBytes = maxPayloadBytes;
    this.#timed = this.#latency !== undefined || this.#reorderWindowMs > 0;
    // A fixed latency keeps order: equal delays land in scheduling order.
    this.#ordered =
      (this.#latency === undefined || this.#latency.maxMs === this.#latency.minMs) &&
      this.#reorderWindowMs === 0;
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
      ordered: this.#ordered,
      maxPayloadBytes: this.#maxPayloadBytes,
    });
    const transport = new MemoryTransportImpl(
      this,
      index,
      capabilities,
      init.name ?? `memory-${index}`,
    );
    this.#members.push(transport);
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
    this.membershipChanged();
  }

  heal(): void {
    if (this.#groups === undefined) return;
    this.#groups = undefined;
    for (const stored of this.#restricted) stored.visibleTo = undefined;
    this.#restricted = [];
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
    payload: Uint8Array,
  ): PublishResult {
    const now = this.#now();
    if (!Number.isFinite(now) || now < 0) {
      throw new RangeError(`now() must return a non-negative number of ms, got ${String(now)}`);
    }
    const timestamp = Math.floor(now);
    const id = messageId(
      contentTopic,
      payload,
      timestamp,
      publisher.index,
      publisher.nextSequence(),
    );
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
    const topics = new Set(query.contentTopics);
    const from = query.from ?? Number.NEGATIVE_INFINITY;
    const to = query.to ?? Number.POSITIVE_INFINITY;
    const matching = this.#history.filter(
      (stored) =>
        topics.has(stored.message.contentTopic) &&
        stored.message.timestamp >= from &&
        stored.message.timestamp <= to &&
        this.#visible(stored, viewer),
    );
    if (query.direction === "backward") matching.reverse();
    let start = 0;
    if (query.cursor !== undefined) {
      const anchor = this.#cursorAnchor(query.cursor, viewer, topics, from, to);
      const sign = query.direction === "forward" ? 1 : -1;
      while (
        start < matching.length &&
        sign * compareMessages((matching[start] as StoredMessage).message, anchor) <= 0
      ) {
        start++;
      }
    }
    const page = matching
      .slice(start, start + query.pageSize)
      .map((stored) => copyMessage(stored.message));
    const last = page[page.length - 1];
    return start + query.pageSize < matching.length && last !== undefined
      ? { messages: page, cursor: last.id }
      : { messages: page };
  }

  #cursorAnchor(
    cursor: string,
    viewer: MemoryTransportImpl,
    topics: ReadonlySet<string>,
    from: number,
    to: number,
  ): TransportMessage {
    // The cursor is the id of the last message of the previous page, as in Waku Store v3.
    if (!cursorShape.test(cursor))
      throw new InvalidCursorError("it is not a cursor this transport made");
    const stored = this.#byId.get(cursor);
    if (stored === undefined || !this.#visible(stored, viewer)) {
      throw new InvalidCursorError("it names no message in this history");
    }
    const { contentTopic, timestamp } = stored.message;
    if (!topics.has(contentTopic) || timestamp < from || timestamp > to) {
      throw new InvalidCursorError(
        "it comes from a query with other content topics or another time range",
      );
    }
    return stored.message;
  }

  #store(message: TransportMessage, publisher: MemoryTransportImpl): void {
    let visibleTo: Set<number> | undefined;
    if (this.#groups !== undefined) {
      visibleTo = new Set();
      for (const member of this.#members) {
        if (this.#reachable(publisher, member)) visibleTo.add(member.index);
      }
    }
    const stored: StoredMessage = { message, visibleTo };
    if (visibleTo !== undefined) this.#restricted.push(stored);
    // Binary insertion keeps history sorted by (timestamp, id) even if the injected clock goes back.
    let low = 0;
    let high = this.#history.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareMessages((this.#history[mid] as StoredMessage).message, message) < 0)
        low = mid + 1;
      else high = mid;
    }
    this.#history.splice(low, 0, stored);
    this.#byId.set(message.id, stored);
  }

  #visible(stored: StoredMessage, viewer: MemoryTransportImpl): boolean {
    return stored.visibleTo === undefined || stored.visibleTo.has(viewer.index);
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
    // Always six draws per delivery, whatever is configured, so that changing one fault's rate does
    // not reshuffle every other decision of a seeded run.
    const drop = this.#random();
    const duplicate = this.#random();
    const firstDelay = this.#delay(this.#random(), this.#random());
    const secondDelay = this.#delay(this.#random(), this.#random());
    if (drop < this.#dropRate) return;
    this.#send(message, publisher, recipient, firstDelay);
    if (duplicate < this.#duplicateRate) this.#send(message, publisher, recipient, secondDelay);
  }

  #delay(latencyDraw: number, reorderDraw: number): number {
    let delay = 0;
    if (this.#latency !== undefined) {
      const { minMs, maxMs } = this.#latency;
      delay += minMs + Math.floor(latencyDraw * (maxMs - minMs + 1));
    }
    return delay + Math.floor(reorderDraw * (this.#reorderWindowMs + 1));
  }

  #send(
    message: TransportMessage,
    publisher: MemoryTransportImpl,
    recipient: MemoryTransportImpl,
    delayMs: number,
  ): void {
    const session = recipient.session;
    this.#inFlight++;
    const land = () => {
      this.#inFlight--;
      // Lost if the recipient stopped (or restarted) meanwhile, or a partition now separates them.
      if (
        recipient.session === session &&
        recipient.started &&
        this.#reachable(publisher, recipient)
      ) {
        recipient.receive(message);
      }
      this.#settle();
    };
    if (!this.#timed) {
      void nextMicrotask().then(land);
      return;
    }
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
