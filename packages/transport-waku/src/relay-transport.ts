/**
 * Relay mode: the orgchat `Transport` over Waku Relay (gossipsub as `/vac/waku/relay/2.0.0`). Every
 * node is a full relay peer: it listens, dials its bootstrap peers, forwards the traffic of its shards.
 */

import type { Connection, PeerId, PrivateKey } from "@libp2p/interface";
import {
  AbortError,
  assertContentTopic,
  assertPublishable,
  type CallOptions,
  type HistoryPage,
  type HistoryQuery,
  HistoryQueryFailedError,
  HistoryUnsupportedError,
  isNoPeersError,
  type MessageHandler,
  NoPeersError,
  NotStartedError,
  type PublishResult,
  type Subscription,
  type TransportCapabilities,
  TransportEventEmitter,
  type TransportEvents,
  type TransportListener,
  type TransportMessage,
  TransportStartError,
  type TransportStatus,
  throwIfAborted,
} from "@orgchat/transport";
import type { Libp2p, NetworkConfig } from "@waku/interfaces";
import { createLibp2pAndUpdateOptions } from "@waku/sdk";
import { isAutoSharding } from "@waku/utils";
import {
  type ConnectionUpkeep,
  connectionUpkeep,
  type RedialBackoff,
  redialBackoff,
} from "./connection-upkeep.js";
import {
  defaultListenAddresses,
  libp2pTransportsFor,
  offlineNodeOptions,
  parseAddresses,
  plainBytes,
  transportLimits,
  type WakuTransport,
  type WakuTransportInit,
} from "./node-options.js";
import {
  encodeWakuMessage,
  envelopeAllowanceBytes,
  messageHashHex,
  pubsubTopicFor,
  shardPubsubTopics,
  type WakuMessage,
  WakuRelay,
  wakuMessageTimestampMs,
  wakuRelayService,
} from "./relay.js";
import { defaultHistoryTimeoutMs, planStoreQuery, runStoreQuery } from "./store-query.js";
import {
  invokeHandler,
  LifecycleQueue,
  StatusTracker,
  UniqueTimestamps,
} from "./transport-common.js";

/** Options of relay mode: {@link WakuTransportInit} with `mode: "relay"`. */
export interface WakuRelayTransportInit extends WakuTransportInit {
  readonly mode: "relay";
  /**
   * Deadline of one history query (wait for a store peer's connection, open a stream, send, read the
   * page), ms. Only used with `storePeers`.
   * @default 10_000
   */
  readonly historyTimeoutMs?: number;
}

/** Pause before retrying a publish that found its only topic peer gone (ms). */
const publishRetryDelayMs = 20;
/**
 * How long a newly connected relay peer may stay without telling us its subscriptions before we hang
 * up (ms). Gossipsub sends them as soon as its stream opens; a peer that does not has stale state: it
 * still holds the half-closed connection of our previous session (a WebSocket takes ~0.5 s to finish
 * closing) and will never open a new stream on this one. Hanging up lets both sides start clean, and
 * a bootstrap peer is then redialed.
 */
const silentPeerGraceMs = 2_000;

interface RelayNode {
  readonly libp2p: Libp2p;
  readonly relay: WakuRelay;
  /**
   * Dials the bootstrap peers, redials them with backoff (restarted only after a connection that
   * carried our shards), hangs up silent relay peers.
   */
  readonly upkeep: ConnectionUpkeep;
  /** The `storePeers` addresses: history queries go to them. */
  readonly storeAddresses: ReadonlySet<string>;
  /** Wake-ups of history queries waiting for a store peer's connection. */
  readonly waiters: Set<() => void>;
  readonly detach: () => void;
}

interface SubscriptionEntry {
  readonly handler: MessageHandler;
  active: boolean;
}

/**
 * Creates a relay-mode Waku transport (not started). See {@link WakuTransportInit} for the options.
 *
 * - `capabilities`: `history` true only with `storePeers` (relay itself keeps nothing; history is
 *   asked of those Store v3 nodes, e.g. `@orgchat/service-node` or nwaku), `selfDelivery` **true** (gossipsub never hands a node its own message, so the transport echoes
 *   it to local subscribers), `ordered` false, `maxPayloadBytes` 153,600 by default.
 * - `publish` waits up to `publishTimeoutMs` for a connected peer subscribed to the message's shard,
 *   then throws `NoPeersError`. Timestamps are unique per transport at nanosecond resolution, so two
 *   identical publishes in the same millisecond are two messages, never a gossipsub `Duplicate`.
 * - `peers` and `storePeers` are dialed at start and redialed with exponential backoff whenever
 *   they drop. `queryHistory` pages Store v3 on a store peer's connection (cursor = message hash,
 *   hex; at most 10 content topics of one shard per query), and without `storePeers` throws
 *   `HistoryUnsupportedError`.
 * - `status` is `online` while at least one connected peer is subscribed to one of the node's shards.
 *
 * @example
 * ```ts
 * import { wakuRelayTransport } from "@orgchat/transport-waku";
 *
 * const hub = wakuRelayTransport({ mode: "relay" });
 * await hub.start();
 * const member = wakuRelayTransport({ mode: "relay", listen: [], peers: [...hub.multiaddrs] });
 * await member.start();
 * await hub.subscribe(["/org-chat/1/general/proto"], (m) => console.log(m.payload));
 * await member.publish("/org-chat/1/general/proto", new TextEncoder().encode("hi"));
 * ```
 * @throws RangeError / TypeError for invalid options (bad multiaddrs are reported by `start()`)
 */
export function wakuRelayTransport(
  init: WakuRelayTransportInit | Omit<WakuRelayTransportInit, "mode"> = {},
): WakuTransport {
  return new WakuRelayTransport(init);
}

class WakuRelayTransport implements WakuTransport {
  readonly capabilities: TransportCapabilities;

  readonly #networkConfig: NetworkConfig;
  readonly #pubsubTopics: readonly string[];
  readonly #staticShard: number | undefined;
  readonly #listen: readonly string[];
  readonly #peers: readonly string[];
  readonly #storePeers: readonly string[];
  readonly #publishTimeoutMs: number;
  readonly #historyTimeoutMs: number;
  readonly #heartbeatIntervalMs: number | undefined;
  readonly #reconnect: RedialBackoff;
  readonly #now: () => number;
  readonly #events = new TransportEventEmitter();
  readonly #statusTracker = new StatusTracker(this.#events);
  readonly #timestamps: UniqueTimestamps;
  readonly #subscriptions = new Map<string, Set<SubscriptionEntry>>();
  #privateKey: PrivateKey | undefined;
  #node: RelayNode | undefined;
  readonly #lifecycle = new LifecycleQueue();

  constructor(init: WakuRelayTransportInit | Omit<WakuRelayTransportInit, "mode">) {
    if ("mode" in init && init.mode !== "relay") {
      throw new TypeError(`wakuRelayTransport: mode must be "relay", got ${String(init.mode)}`);
    }
    if (init.storePeers !== undefined && !Array.isArray(init.storePeers)) {
      throw new TypeError("storePeers must be an array of multiaddr strings");
    }
    const historyTimeoutMs = init.historyTimeoutMs ?? defaultHistoryTimeoutMs;
    if (!(historyTimeoutMs > 0)) {
      throw new RangeError(`historyTimeoutMs must be positive, got ${init.historyTimeoutMs}`);
    }
    this.#historyTimeoutMs = historyTimeoutMs;
    const limits = transportLimits(init);
    this.#networkConfig = limits.networkConfig;
    this.#publishTimeoutMs = limits.publishTimeoutMs;
    this.#pubsubTopics = shardPubsubTopics(this.#networkConfig, init.shards);
    this.#staticShard = isAutoSharding(this.#networkConfig) ? undefined : (init.shards?.[0] ?? 0);
    this.#listen = [...(init.listen ?? defaultListenAddresses)];
    this.#peers = [...(init.peers ?? [])];
    this.#storePeers = [...(init.storePeers ?? [])];
    this.#heartbeatIntervalMs = init.heartbeatIntervalMs;
    this.#reconnect = redialBackoff(init.reconnect);
    this.#privateKey = init.privateKey;
    this.#now = init.now ?? Date.now;
    this.#timestamps = new UniqueTimestamps(this.#now);
    this.capabilities = Object.freeze({
      history: this.#storePeers.length > 0,
      selfDelivery: true,
      ordered: false,
      maxPayloadBytes: limits.maxPayloadBytes,
    });
  }

  get status(): TransportStatus {
    return this.#statusTracker.status;
  }

  get multiaddrs(): readonly string[] {
    return this.#node ? this.#node.libp2p.getMultiaddrs().map((a) => a.toString()) : [];
  }

  get peerId(): string | undefined {
    return this.#node?.libp2p.peerId.toString();
  }

  /** The relay under this transport while started (for the service node, tests and benchmarks). */
  get relay(): WakuRelay | undefined {
    return this.#node?.relay;
  }

  on<K extends keyof TransportEvents>(event: K, listener: TransportListener<K>): () => void {
    return this.#events.on(event, listener);
  }

  start(options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    return this.#lifecycle.run("start", signal, () => this.#start(signal));
  }

  stop(options: CallOptions = {}): Promise<void> {
    return this.#lifecycle.run("stop", options.signal, () => this.#stop());
  }

  async publish(
    contentTopic: string,
    payload: Uint8Array,
    options: CallOptions = {},
  ): Promise<PublishResult> {
    const { signal } = options;
    throwIfAborted(signal, "publish");
    const node = this.#requireNode("publish");
    assertPublishable(contentTopic, payload, this.capabilities);
    const pubsubTopic = this.#pubsubTopicFor(contentTopic);
    const timestampNs = this.#nextTimestampNs();
    const bytes = encodeWakuMessage({ contentTopic, payload, timestampNs });
    const deadline = performance.now() + this.#publishTimeoutMs;
    for (;;) {
      const remaining = Math.max(0, deadline - performance.now());
      try {
        await node.relay.waitForPeers({
          pubsubTopics: [pubsubTopic],
          kind: "topic",
          timeoutMs: remaining,
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        if (this.#node !== node) throw new NotStartedError("publish");
        if (isNoPeersError(error)) {
          throw new NoPeersError(
            `no relay peer subscribed to ${pubsubTopic} (the shard of ${contentTopic}) within ${this.#publishTimeoutMs} ms`,
            { cause: error },
          );
        }
        throw error;
      }
      throwIfAborted(signal, "publish");
      if (this.#node !== node) throw new NotStartedError("publish");
      const result = await node.relay.publishRaw(pubsubTopic, bytes, { allowZeroPeers: false });
      if (result.recipients.length > 0 || result.duplicate) {
        return {
          id: result.messageHash,
          timestamp: Number(timestampNs / 1_000_000n),
          recipients: result.recipients.length,
        };
      }
      // The topic peer left between the wait and the publish: wait again until the deadline.
      if (performance.now() >= deadline) {
        throw new NoPeersError(
          `no relay peer accepted the message on ${pubsubTopic} within ${this.#publishTimeoutMs} ms`,
        );
      }
      await sleep(publishRetryDelayMs, signal);
    }
  }

  async subscribe(
    contentTopics: readonly string[],
    handler: MessageHandler,
    options: CallOptions = {},
  ): Promise<Subscription> {
    throwIfAborted(options.signal, "subscribe");
    this.#requireNode("subscribe");
    if (!Array.isArray(contentTopics) || contentTopics.length === 0) {
      throw new RangeError("subscribe: contentTopics must list at least one content topic");
    }
    if (typeof handler !== "function") throw new TypeError("subscribe: handler must be a function");
    for (const topic of contentTopics) {
      assertContentTopic(topic);
      this.#pubsubTopicFor(topic);
    }
    throwIfAborted(options.signal, "subscribe");
    const topics = [...new Set(contentTopics)];
    const entry: SubscriptionEntry = { handler, active: true };
    for (const topic of topics) {
      let set = this.#subscriptions.get(topic);
      if (!set) {
        set = new Set();
        this.#subscriptions.set(topic, set);
      }
      set.add(entry);
    }
    // The relay joined every shard at start, so delivery is live now: nothing to wait for.
    return {
      contentTopics: Object.freeze([...contentTopics]),
      unsubscribe: async (unsubscribeOptions: CallOptions = {}) => {
        throwIfAborted(unsubscribeOptions.signal, "unsubscribe");
        entry.active = false;
        for (const topic of topics) {
          const set = this.#subscriptions.get(topic);
          set?.delete(entry);
          if (set?.size === 0) this.#subscriptions.delete(topic);
        }
      },
    };
  }

  async queryHistory(query: HistoryQuery, options: CallOptions = {}): Promise<HistoryPage> {
    const { signal } = options;
    throwIfAborted(signal, "queryHistory");
    const node = this.#requireNode("queryHistory");
    if (!this.capabilities.history) {
      throw new HistoryUnsupportedError('wakuTransport({ mode: "relay" }) without storePeers');
    }
    const plan = planStoreQuery(query, (topic) => this.#pubsubTopicFor(topic));
    const deadline = performance.now() + this.#historyTimeoutMs;
    const connection = await this.#storeConnection(node, deadline, signal);
    if (connection === undefined) {
      if (this.#node !== node) throw new NotStartedError("queryHistory");
      throw new HistoryQueryFailedError(
        `no store peer connected within ${this.#historyTimeoutMs} ms (storePeers: ${this.#storePeers.join(", ")})`,
      );
    }
    return runStoreQuery(connection, plan, deadline - performance.now(), signal);
  }

  /**
   * An open connection to one of the store peers, waiting for one until `deadline` (they are dialed
   * at start and redialed after a drop). Leaves no timer or listener behind.
   * @throws AbortError
   */
  async #storeConnection(
    node: RelayNode,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<Connection | undefined> {
    for (;;) {
      throwIfAborted(signal, "queryHistory");
      if (this.#node !== node) return undefined;
      const stores = new Set(
        node.upkeep.peers
          .filter((p) => p.peerId !== undefined && node.storeAddresses.has(p.address.toString()))
          .map((p) => p.peerId),
      );
      const open = node.libp2p
        .getConnections()
        .find((c) => c.status === "open" && stores.has(c.remotePeer.toString()));
      if (open !== undefined) return open;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          node.waiters.delete(done);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, remaining);
        node.waiters.add(done);
        signal?.addEventListener("abort", done, { once: true });
      });
    }
  }

  #wake(node: RelayNode): void {
    for (const wake of [...node.waiters]) wake();
  }

  // --- lifecycle ---------------------------------------------------------------------------------

  async #start(signal: AbortSignal | undefined): Promise<void> {
    if (this.#node) return;
    throwIfAborted(signal, "start");
    const listen = parseAddresses(this.#listen, "listen");
    const relayPeers = parseAddresses(this.#peers, "peer");
    const storePeers = parseAddresses(this.#storePeers, "peer");
    const known = new Set(relayPeers.map((a) => a.toString()));
    const storeAddresses = new Set(storePeers.map((a) => a.toString()));
    const peers = [...relayPeers, ...storePeers.filter((a) => !known.has(a.toString()))];
    const transports = await libp2pTransportsFor([...listen, ...peers]);
    let libp2p: Libp2p;
    try {
      libp2p = await createLibp2pAndUpdateOptions(
        offlineNodeOptions({
          networkConfig: this.#networkConfig,
          listen,
          transports,
          privateKey: this.#privateKey,
          services: {
            pubsub: wakuRelayService(
              this.#heartbeatIntervalMs === undefined
                ? {}
                : { heartbeatIntervalMs: this.#heartbeatIntervalMs },
            ),
          },
        }),
      );
    } catch (error) {
      throw new TransportStartError(`cannot create the libp2p node (${describe(error)})`, {
        cause: error,
      });
    }
    try {
      await libp2p.start();
    } catch (error) {
      await stopQuietly(libp2p);
      throw new TransportStartError(
        `cannot listen on ${this.#listen.join(", ") || "(nothing)"} (${describe(error)})`,
        { cause: error },
      );
    }
    // Keep the generated identity: a restarted transport keeps its peer id and `/p2p/…` addresses.
    this.#privateKey ??= libp2p.components?.privateKey as PrivateKey | undefined;
    if (signal?.aborted) {
      await stopQuietly(libp2p);
      throw new AbortError("start", { cause: signal.reason });
    }
    const relay = new WakuRelay(libp2p, this.#pubsubTopics, {
      maxMessageBytes: this.capabilities.maxPayloadBytes + envelopeAllowanceBytes,
    });
    const upkeep = connectionUpkeep(
      {
        peers,
        ...this.#reconnect,
        resetBackoffOn: "confirmed",
        silentPeers: {
          graceMs: silentPeerGraceMs,
          isSilent: (peer) => this.#isSilent(relay, peer),
        },
      },
      { libp2p },
    );
    const refresh = () => {
      if (this.#node !== node) return;
      this.#refreshStatus(node);
      this.#wake(node);
    };
    const refreshSoon = () => queueMicrotask(refresh);
    const stopWaking = upkeep.on("peer:dialed", () => {
      if (this.#node === node) this.#wake(node);
    });
    const stopObserving = relay.observe(this.#onMessage);
    libp2p.addEventListener("peer:connect", refreshSoon);
    libp2p.addEventListener("peer:disconnect", refreshSoon);
    relay.gossipSub.addEventListener("subscription-change", refreshSoon);
    const node: RelayNode = {
      libp2p,
      relay,
      upkeep,
      storeAddresses,
      waiters: new Set(),
      detach: () => {
        stopObserving();
        stopWaking();
        libp2p.removeEventListener("peer:connect", refreshSoon);
        libp2p.removeEventListener("peer:disconnect", refreshSoon);
        relay.gossipSub.removeEventListener("subscription-change", refreshSoon);
      },
    };
    this.#node = node;
    this.#setStatus("connecting", 0);
    upkeep.start();
  }

  async #stop(): Promise<void> {
    const node = this.#node;
    if (!node) return;
    this.#node = undefined;
    node.upkeep.stop();
    this.#wake(node);
    node.detach();
    node.relay.stop();
    for (const set of this.#subscriptions.values()) for (const entry of set) entry.active = false;
    this.#subscriptions.clear();
    try {
      await node.libp2p.stop();
    } finally {
      this.#setStatus("stopped", 0);
    }
  }

  // --- peers and status --------------------------------------------------------------------------

  #refreshStatus(node: RelayNode): void {
    const connected = new Set(node.libp2p.getPeers().map((id) => id.toString()));
    const carriers = new Set<string>();
    for (const topic of this.#pubsubTopics) {
      for (const id of node.relay.getTopicPeers(topic)) {
        const key = id.toString();
        if (connected.has(key)) carriers.add(key);
      }
    }
    for (const id of carriers) node.upkeep.confirm(id);
    this.#setStatus(carriers.size > 0 ? "online" : "connecting", carriers.size);
  }

  /** Whether a relay peer never told us its subscriptions (see {@link silentPeerGraceMs}). */
  #isSilent(relay: WakuRelay, peerId: PeerId): boolean {
    const speaksRelay = relay.gossipSub.getPeers().some((p) => p.equals(peerId));
    if (!speaksRelay) return false;
    return !this.#pubsubTopics.some((topic) =>
      relay.getTopicPeers(topic).some((p) => p.equals(peerId)),
    );
  }

  #setStatus(status: TransportStatus, peers: number): void {
    this.#statusTracker.set(status, peers);
  }

  // --- messages ----------------------------------------------------------------------------------

  readonly #onMessage = (pubsubTopic: string, message: WakuMessage): void => {
    const entries = this.#subscriptions.get(message.contentTopic);
    if (!entries || entries.size === 0) return;
    const contentTopic = message.contentTopic;
    const timestamp = wakuMessageTimestampMs(message);
    const id = messageHashHex(pubsubTopic, message);
    for (const entry of [...entries]) {
      // Each handler gets its own copy: the decoded payload is a view into the wire bytes gossipsub
      // caches and forwards, and one handler mutating its bytes must not change another's.
      this.#invoke(entry, { contentTopic, payload: plainBytes(message.payload), timestamp, id });
    }
  };

  #invoke(entry: SubscriptionEntry, message: TransportMessage): void {
    if (!entry.active) return;
    invokeHandler(this.#events, entry.handler, message);
  }

  #pubsubTopicFor(contentTopic: string): string {
    return pubsubTopicFor(contentTopic, this.#networkConfig, this.#staticShard);
  }

  #nextTimestampNs(): bigint {
    return this.#timestamps.nextNs();
  }

  #requireNode(operation: string): RelayNode {
    if (!this.#node) throw new NotStartedError(operation);
    return this.#node;
  }
}

async function stopQuietly(libp2p: Libp2p): Promise<void> {
  try {
    await libp2p.stop();
  } catch {
    // Already failing: the original error is the one to report.
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Resolves after `ms`, or rejects with `AbortError`; leaves no timer or listener behind. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError("publish", { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
