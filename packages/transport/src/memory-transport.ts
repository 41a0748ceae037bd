/**
 * One transport on a memory network: lifecycle, input checks, subscriptions and handler isolation.
 * What crosses the network (routing, faults, history) is the network's job (`memory.ts`), reached
 * through {@link MemoryNetworkHooks}.
 */

import type { NormalizedHistoryQuery } from "./checks.js";
import {
  assertContentTopic,
  assertPublishable,
  normalizeHistoryQuery,
  throwIfAborted,
} from "./checks.js";
import { HistoryUnsupportedError, NotStartedError } from "./errors.js";
import { invokeHandler, TransportEventEmitter } from "./event-emitter.js";
import { copyMessage, type PreparedPublish, preparePublish } from "./memory-history.js";
import type { MemoryNetwork, MemoryTransport } from "./memory-types.js";
import type {
  CallOptions,
  HistoryPage,
  HistoryQuery,
  MessageHandler,
  PublishResult,
  Subscription,
  TransportCapabilities,
  TransportEvents,
  TransportListener,
  TransportMessage,
  TransportStatus,
} from "./types.js";

/** What a transport asks of its network. */
export interface MemoryNetworkHooks extends MemoryNetwork {
  /** A transport started or stopped: recount everyone's peers. */
  membershipChanged(): void;
  /** Stores and routes one message from `publisher` (its payload already copied, see `preparePublish`). */
  publishFrom(
    publisher: MemoryTransportImpl,
    contentTopic: string,
    prepared: PreparedPublish,
  ): PublishResult;
  /** One history page as `viewer` sees it. */
  queryHistory(viewer: MemoryTransportImpl, query: NormalizedHistoryQuery): HistoryPage;
}

/** A timed delivery that `stop()` cancels. */
export interface PendingDelivery {
  cancel: () => void;
}

/** Calls are asynchronous as on a real network: an abort during the call can still land. */
export const nextMicrotask = (): Promise<void> => Promise.resolve();

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

export class MemoryTransportImpl implements MemoryTransport {
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
  readonly #core: MemoryNetworkHooks;
  readonly #emitter = new TransportEventEmitter();
  readonly #subscriptions = new Set<MemorySubscription>();

  constructor(
    core: MemoryNetworkHooks,
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
    // Copied now (after room for the id's header): the caller may reuse its buffer as soon as
    // publish returns.
    const prepared = preparePublish(contentTopic, payload);
    await nextMicrotask();
    throwIfAborted(signal, "publish");
    this.#assertStarted("publish");
    return this.#core.publishFrom(this, contentTopic, prepared);
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
    // The set itself, not a copy: a handler may end subscriptions (a Set's iteration skips the
    // ones deleted), and none is added meanwhile (subscribe adds after an await).
    for (const subscription of this.#subscriptions) {
      if (!subscription.active || !subscription.topics.has(message.contentTopic)) continue;
      // Each handler gets its own copy: one handler mutating its bytes must not change another's.
      invokeHandler(this.#emitter, subscription.handler, copyMessage(message));
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
