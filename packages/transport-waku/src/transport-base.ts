/**
 * What relay and light mode share as transports: their options once checked, and the part of the
 * `Transport` contract that does not depend on the mode (status, events, serialised start/stop, the
 * node's addresses, content topic → pubsub topic, message timestamps). Each mode adds its session
 * (what `start()` builds and `stop()` tears down) and its publish, subscribe and history.
 */
import type { PrivateKey } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";
import {
  type CallOptions,
  type HistoryPage,
  type HistoryQuery,
  type MessageHandler,
  NotStartedError,
  type PublishResult,
  type Subscription,
  type TransportCapabilities,
  type TransportEvents,
  type TransportListener,
  type TransportStatus,
} from "@orgchat/transport";
import {
  assertContentTopic,
  assertPublishable,
  TransportEventEmitter,
  throwIfAborted,
} from "@orgchat/transport/implement";
import type { NetworkConfig } from "@waku/interfaces";
import { isAutoSharding } from "@waku/utils";
import { type ConnectionUpkeep, type RedialBackoff, redialBackoff } from "./connection-upkeep.js";
import {
  parseAddresses,
  transportLimits,
  type WakuTransport,
  type WakuTransportInit,
} from "./node-options.js";
import { defaultHistoryTimeoutMs } from "./store-query.js";
import { LifecycleQueue, StatusTracker, UniqueTimestamps } from "./transport-common.js";
import { pubsubTopicFor, shardPubsubTopics } from "./waku-message.js";

/**
 * Content topics whose pubsub topic a transport remembers (auto-sharding hashes the topic's
 * application and version on every call). A content topic comes from the app, never from the
 * network; past the bound the map starts over, so memory stays bounded whatever the app does.
 */
export const pubsubTopicCacheLimit = 4_096;

/** The options of either mode, checked and with their defaults. */
export interface WakuTransportOptions {
  readonly networkConfig: NetworkConfig;
  /** Pubsub topics of the shards the node joins. */
  readonly pubsubTopics: readonly string[];
  /** Static sharding: the shard messages are published on; undefined with auto-sharding. */
  readonly staticShard: number | undefined;
  readonly listen: readonly string[];
  readonly peers: readonly string[];
  readonly storePeers: readonly string[];
  readonly maxPayloadBytes: number;
  readonly publishTimeoutMs: number;
  readonly historyTimeoutMs: number;
  readonly reconnect: RedialBackoff;
  readonly now: () => number;
}

/**
 * Checks the options both modes take (`mode` excepted).
 * @param init - what the app gave, with `historyTimeoutMs` of either mode
 * @param defaultListen - listen addresses when `listen` is not given
 * @throws TypeError for `storePeers` that is not an array; RangeError for a bad number or shard
 */
export function resolveWakuOptions(
  init: WakuTransportInit & { readonly historyTimeoutMs?: number },
  defaultListen: readonly string[],
): WakuTransportOptions {
  if (init.storePeers !== undefined && !Array.isArray(init.storePeers)) {
    throw new TypeError("storePeers must be an array of multiaddr strings");
  }
  const historyTimeoutMs = init.historyTimeoutMs ?? defaultHistoryTimeoutMs;
  if (!(historyTimeoutMs > 0)) {
    throw new RangeError(`historyTimeoutMs must be positive, got ${init.historyTimeoutMs}`);
  }
  const limits = transportLimits(init);
  // Validates the shard list against the network (throws RangeError).
  const pubsubTopics = shardPubsubTopics(limits.networkConfig, init.shards);
  return {
    networkConfig: limits.networkConfig,
    pubsubTopics,
    staticShard: isAutoSharding(limits.networkConfig) ? undefined : (init.shards?.[0] ?? 0),
    listen: [...(init.listen ?? defaultListen)],
    peers: [...(init.peers ?? [])],
    storePeers: [...(init.storePeers ?? [])],
    maxPayloadBytes: limits.maxPayloadBytes,
    publishTimeoutMs: limits.publishTimeoutMs,
    historyTimeoutMs,
    reconnect: redialBackoff(init.reconnect),
    now: init.now ?? Date.now,
  };
}

/** The addresses a node dials: `peers`, then the `storePeers` not already among them. */
export interface BootstrapAddresses {
  readonly listen: readonly Multiaddr[];
  /** Every peer to keep connected. */
  readonly peers: readonly Multiaddr[];
  /** The `storePeers` entries, as strings. */
  readonly storeAddresses: ReadonlySet<string>;
}

/**
 * Parses the listen and peer addresses of `options`.
 * @throws TransportStartError naming the first bad address
 */
export function bootstrapAddresses(options: WakuTransportOptions): BootstrapAddresses {
  const listen = parseAddresses(options.listen, "listen");
  const peers = parseAddresses(options.peers, "peer");
  const storePeers = parseAddresses(options.storePeers, "peer");
  const known = new Set(peers.map((a) => a.toString()));
  return {
    listen,
    peers: [...peers, ...storePeers.filter((a) => !known.has(a.toString()))],
    storeAddresses: new Set(storePeers.map((a) => a.toString())),
  };
}

/**
 * Reports the upkeep's failed dials as `diagnostic` events of the transport (component
 * `transport-waku/upkeep`, reason `dial-failed`).
 * @returns the function that stops reporting
 */
export function reportDialFailures(
  upkeep: ConnectionUpkeep,
  events: TransportEventEmitter,
): () => void {
  return upkeep.on("dial:failed", ({ address, error }) =>
    events.diagnostic({
      component: "transport-waku/upkeep",
      reason: "dial-failed",
      topic: address.toString(),
      error,
    }),
  );
}

/** What a mode's session exposes to the shared part: its libp2p node. */
export interface SessionNode {
  readonly libp2p: {
    getMultiaddrs(): readonly { toString(): string }[];
    readonly peerId: { toString(): string };
  };
}

/**
 * The mode-independent part of a Waku transport. `Session` is what `start()` builds (`open`) and
 * `stop()` tears down (`close`); while started, `session` holds it.
 */
export abstract class WakuTransportBase<Session extends SessionNode> implements WakuTransport {
  readonly capabilities: TransportCapabilities;
  protected readonly options: WakuTransportOptions;
  protected readonly events = new TransportEventEmitter();
  protected readonly timestamps: UniqueTimestamps;
  /** The node's identity, kept across restarts (generated at the first start when not given). */
  protected privateKey: PrivateKey | undefined;
  /** The running session, while started. */
  protected session: Session | undefined;
  readonly #statusTracker = new StatusTracker(this.events);
  readonly #pubsubTopics = new Map<string, string>();
  readonly #lifecycle = new LifecycleQueue();

  constructor(
    options: WakuTransportOptions,
    capabilities: Omit<TransportCapabilities, "maxPayloadBytes">,
    privateKey: PrivateKey | undefined,
  ) {
    this.options = options;
    this.privateKey = privateKey;
    this.timestamps = new UniqueTimestamps(options.now);
    this.capabilities = Object.freeze({
      ...capabilities,
      maxPayloadBytes: options.maxPayloadBytes,
    });
  }

  get status(): TransportStatus {
    return this.#statusTracker.status;
  }

  get multiaddrs(): readonly string[] {
    return this.session ? this.session.libp2p.getMultiaddrs().map((a) => a.toString()) : [];
  }

  get peerId(): string | undefined {
    return this.session?.libp2p.peerId.toString();
  }

  on<K extends keyof TransportEvents>(event: K, listener: TransportListener<K>): () => void {
    return this.events.on(event, listener);
  }

  start(options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    return this.#lifecycle.run("start", signal, async () => {
      if (this.session) return;
      this.session = await this.open(signal);
      this.setStatus("connecting", 0);
      this.opened(this.session);
    });
  }

  stop(options: CallOptions = {}): Promise<void> {
    return this.#lifecycle.run("stop", options.signal, async () => {
      const session = this.session;
      if (!session) return;
      this.session = undefined;
      try {
        await this.close(session);
      } finally {
        this.setStatus("stopped", 0);
      }
    });
  }

  /**
   * Builds a session: creates and starts the node (not yet dialing).
   * @throws TransportStartError, AbortError
   */
  protected abstract open(signal: AbortSignal | undefined): Promise<Session>;
  /** Called once `session` is the current one and the status is `connecting`: start dialing. */
  protected abstract opened(session: Session): void;
  /** Tears a session down (it is no longer current). */
  protected abstract close(session: Session): Promise<void>;

  protected setStatus(status: TransportStatus, peers: number): void {
    this.#statusTracker.set(status, peers);
  }

  /** @throws NotStartedError while stopped */
  protected requireSession(operation: string): Session {
    if (!this.session) throw new NotStartedError(operation);
    return this.session;
  }

  /** Whether `session` is still the running one. */
  protected isCurrent(session: Session): boolean {
    return this.session === session;
  }

  publish(
    contentTopic: string,
    payload: Uint8Array,
    options: CallOptions = {},
  ): Promise<PublishResult> {
    try {
      const session = this.checkPublish(contentTopic, payload, options.signal);
      return this.publishOn(session, contentTopic, payload, options.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Publishes a payload `publish` has checked, on the running `session`.
   * @throws NoPeersError, NotStartedError (stopped meanwhile), AbortError, and what the mode adds
   */
  protected abstract publishOn(
    session: Session,
    contentTopic: string,
    payload: Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<PublishResult>;
  abstract subscribe(
    contentTopics: readonly string[],
    handler: MessageHandler,
    options?: CallOptions,
  ): Promise<Subscription>;
  abstract queryHistory(query: HistoryQuery, options?: CallOptions): Promise<HistoryPage>;

  /**
   * The checks `publish` makes before anything leaves the process (both modes, same errors).
   * @returns the running session
   * @throws AbortError, NotStartedError, InvalidContentTopicError, EmptyPayloadError, PayloadTooLargeError, TypeError
   */
  protected checkPublish(
    contentTopic: string,
    payload: Uint8Array,
    signal: AbortSignal | undefined,
  ): Session {
    throwIfAborted(signal, "publish");
    const session = this.requireSession("publish");
    assertPublishable(contentTopic, payload, this.capabilities);
    return session;
  }

  /**
   * The checks `subscribe` makes before anything else (both modes, same errors).
   * @returns the pubsub topic of each distinct content topic
   * @throws RangeError (no content topic), TypeError (handler not a function), InvalidContentTopicError
   */
  protected checkSubscription(
    contentTopics: readonly string[],
    handler: MessageHandler,
  ): Map<string, string> {
    if (!Array.isArray(contentTopics) || contentTopics.length === 0) {
      throw new RangeError("subscribe: contentTopics must list at least one content topic");
    }
    if (typeof handler !== "function") throw new TypeError("subscribe: handler must be a function");
    const pubsubTopics = new Map<string, string>();
    for (const topic of contentTopics) {
      assertContentTopic(topic);
      pubsubTopics.set(topic, this.pubsubTopicFor(topic));
    }
    return pubsubTopics;
  }

  /** The pubsub topic of `contentTopic`. @throws InvalidContentTopicError */
  protected pubsubTopicFor(contentTopic: string): string {
    let pubsubTopic = this.#pubsubTopics.get(contentTopic);
    if (pubsubTopic === undefined) {
      pubsubTopic = pubsubTopicFor(
        contentTopic,
        this.options.networkConfig,
        this.options.staticShard,
      );
      if (this.#pubsubTopics.size >= pubsubTopicCacheLimit) this.#pubsubTopics.clear();
      this.#pubsubTopics.set(contentTopic, pubsubTopic);
    }
    return pubsubTopic;
  }
}
