/**
 * The service node: one libp2p node that relays (gossipsub as `/vac/waku/relay/2.0.0`), stores
 * (Store v3 over the SQLite archive), and serves light nodes (LightPush v3, Filter v2) and the Waku
 * metadata protocol, all on the unmodified Waku wire protocols so that light nodes cannot tell it from
 * nwaku by behaviour on the paths they use.
 *
 * Message flow: every valid message that arrives on relay from a peer, and every light-pushed message,
 * is stored (idempotent by hash; ephemeral messages are not stored) and pushed to the filter
 * subscribers of its (pubsub topic, content topic), once per hash; light-pushed messages are then
 * published on relay.
 */

import { join } from "node:path";
import type { GossipSub, GossipSubComponents } from "@chainsafe/libp2p-gossipsub";
import { noise } from "@chainsafe/libp2p-noise";
import { identify } from "@libp2p/identify";
import type { Connection, IncomingStreamData, PeerId, PrivateKey } from "@libp2p/interface";
import { memory } from "@libp2p/memory";
import { mplex } from "@libp2p/mplex";
import { ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { webSockets } from "@libp2p/websockets";
import { all as allMultiaddrs } from "@libp2p/websockets/filters";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import {
  defaultMaxMessageBytes,
  defaultMaxPayloadBytes,
  defaultNetworkConfig,
  pubsubTopicFor,
  shardPubsubTopics,
  WakuRelay,
  wakuRelayService,
} from "@orgchat/transport-waku/relay";
import { messageHash } from "@waku/core";
import type { NetworkConfig } from "@waku/interfaces";
import { proto_filter_v2, proto_store } from "@waku/proto";
import { isAutoSharding } from "@waku/utils";
import { bytesToHex } from "@waku/utils/bytes";
import { createLibp2p, type Libp2p } from "libp2p";
import { type ArchiveRetention, MessageArchive } from "./archive.js";
import { InvalidAddressError } from "./errors.js";
import {
  defaultFilterLimits,
  type FilterLimits,
  FilterSubscriptions,
  filterPushCodec,
  filterResponse,
  filterStatus,
  filterSubscribeCodec,
  handleFilterSubscribeRequest,
} from "./filter.js";
import { FilterPusher } from "./filter-push.js";
import { loadOrCreatePeerKey } from "./identity.js";
import {
  handleLightPushRequest,
  lightPushCodec,
  lightPushResponse,
  lightPushStatus,
  type WakuMessage,
} from "./light-push.js";
import {
  maxMetadataRequestBytes,
  metadataCodec,
  metadataResponse,
  requestedClusterId,
} from "./metadata.js";
import { type RateLimit, RequestRateLimiter } from "./rate-limit.js";
import {
  defaultStoreLimits,
  handleStoreQuery,
  type StoreLimits,
  storeQueryCodec,
  storeStatusCode,
} from "./store-protocol.js";
import { type FrameResult, readRequest } from "./stream-io.js";

/** Listen addresses when none are given: WebSocket and TCP on ephemeral loopback ports. */
export const defaultServiceNodeListen: readonly string[] = Object.freeze([
  "/ip4/127.0.0.1/tcp/0/ws",
  "/ip4/127.0.0.1/tcp/0",
]);

/** File name of the message archive inside the data directory. */
export const archiveFileName = "messages.sqlite";

/** Per-peer request budgets of the request/response protocols (429 when exceeded). */
export interface ServiceRateLimits {
  /** @default { requests: 1000, periodMs: 10_000 } */
  readonly lightPush?: RateLimit | null;
  /** @default { requests: 1000, periodMs: 10_000 } */
  readonly filter?: RateLimit | null;
  /** @default { requests: 1000, periodMs: 10_000 } */
  readonly store?: RateLimit | null;
}

/** Default per-peer budget: 100 requests per second sustained, bursts of 1000. */
export const defaultRateLimit: RateLimit = Object.freeze({ requests: 1000, periodMs: 10_000 });

/** Options of {@link createServiceNode}. */
export interface ServiceNodeInit {
  /**
   * Directory for the peer identity (`peer-key`, mode 0600) and the archive (`messages.sqlite`);
   * created if missing. Without it the node keeps messages in memory and gets a fresh identity.
   */
  readonly dataDir?: string;
  /**
   * Multiaddrs to listen on (`/ip4/…/tcp/<port>/ws`, `/ip4/…/tcp/<port>`, `/memory/<name>`).
   * @default defaultServiceNodeListen (ws and tcp on 127.0.0.1, ephemeral ports)
   */
  readonly listen?: readonly string[];
  /**
   * Relay or service nodes to connect to (multiaddrs with `/p2p/<peer id>`); redialed with backoff
   * whenever they drop. @default []
   */
  readonly peers?: readonly string[];
  /** Cluster and sharding. @default defaultNetworkConfig (private cluster 55, 8 auto-sharded shards) */
  readonly networkConfig?: NetworkConfig;
  /** Shards to serve (relay, store, filter, light push). @default every shard of the cluster */
  readonly shards?: readonly number[];
  /** How long and how many messages the archive keeps. @default 30 days, 1,000,000 messages */
  readonly retention?: ArchiveRetention;
  /** How often retention and subscription expiry run, ms. @default 60_000 */
  readonly maintenanceIntervalMs?: number;
  /** Largest payload accepted by light push (and relayed). @default 153_600 (150 KiB) */
  readonly maxPayloadBytes?: number;
  /**
   * Answer light push with 505 NO_PEERS_TO_RELAY when no relay peer took the message, like nwaku.
   * Off by default: a lone service node stores the message and pushes it to its filter subscribers,
   * which is a delivery. @default false
   */
  readonly requireRelayPeers?: boolean;
  /** Filter service limits. @default defaultFilterLimits (nwaku's) */
  readonly filter?: Partial<FilterLimits>;
  /** Store service limits (page size, request and response size). @default defaultStoreLimits */
  readonly store?: Partial<StoreLimits>;
  /** Per-peer request budgets; `null` disables one. @default defaultRateLimit for each */
  readonly rateLimits?: ServiceRateLimits;
  /** How long a request stream may take to deliver its request, and a reply to be written, ms. @default 10_000 */
  readonly streamTimeoutMs?: number;
  /** Gossipsub heartbeat, ms (use 100 in tests). @default 1000 */
  readonly heartbeatIntervalMs?: number;
  /** Initial and maximal delay of peer redials, ms. @default { initialDelayMs: 250, maxDelayMs: 30_000 } */
  readonly redial?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  /** The libp2p identity; overrides the key of `dataDir`. */
  readonly privateKey?: PrivateKey;
  /** Wall clock, ms since the epoch (archive timestamps, retention, subscription expiry). @default Date.now */
  readonly now?: () => number;
}

/** Counters of a running node. */
export interface ServiceNodeStats {
  /** Messages stored in the archive. */
  readonly storedMessages: number;
  /** Peers with a live filter subscription. */
  readonly filterSubscribers: number;
  /** Filter pushes written, dropped (subscriber queue full) and failed. */
  readonly filterPushes: {
    readonly delivered: number;
    readonly dropped: number;
    readonly failed: number;
  };
  /** Messages received through light push that were new to this node. */
  readonly lightPushed: number;
  /** Messages received on relay from peers that were new to this node. */
  readonly relayed: number;
  /** Connected peers. */
  readonly connections: number;
}

/** A running service node (see {@link createServiceNode}). */
export interface ServiceNode {
  /** The node's libp2p peer id. */
  readonly peerId: string;
  /** The cluster id reported by metadata. */
  readonly clusterId: number;
  /** The shards served (reported by metadata). */
  readonly shards: readonly number[];
  /** The pubsub topics of those shards. */
  readonly pubsubTopics: readonly string[];
  /** The underlying libp2p node (for tests and tooling; do not stop it directly). */
  readonly libp2p: Libp2p<{ pubsub: GossipSub }>;
  /** The relay (gossipsub as Waku Relay). */
  readonly relay: WakuRelay;
  /** Addresses peers dial: every listen address with `/p2p/<peer id>`. */
  multiaddrs(): string[];
  /** Current counters. */
  stats(): ServiceNodeStats;
  /** Dials a relay or service node once (no redial). @throws InvalidAddressError, or libp2p's dial error */
  dial(address: string, options?: { readonly signal?: AbortSignal }): Promise<void>;
  /** Stops everything: handlers, timers, connections, the archive. Idempotent. */
  stop(): Promise<void>;
}

const maxFilterRequestBytes = 128 * 1024;
/** nwaku reads a light push request of up to the message limit plus 64 KiB (`DefaultMaxRpcSize`). */
const lightPushRequestOverheadBytes = 64 * 1024;
const recentHashLimit = 100_000;

/**
 * Starts a service node.
 *
 * @example
 * ```ts
 * import { createServiceNode } from "@orgchat/service-node";
 *
 * const node = await createServiceNode({ dataDir: "/var/lib/orgchat-node" });
 * console.log(node.multiaddrs()); // give one of these to light nodes as a peer
 * process.on("SIGTERM", () => void node.stop());
 * ```
 * @throws DataDirectoryError (data directory unusable), InvalidAddressError (bad listen or peer
 *   address, port in use), ArchiveOpenError / ArchiveSchemaVersionError (archive file unusable),
 *   RangeError (an option out of range)
 */
export async function createServiceNode(init: ServiceNodeInit = {}): Promise<ServiceNode> {
  const now = init.now ?? Date.now;
  const networkConfig = init.networkConfig ?? defaultNetworkConfig;
  const pubsubTopics = shardPubsubTopics(networkConfig, init.shards);
  const shards = pubsubTopics.map((topic) => Number(topic.slice(topic.lastIndexOf("/") + 1)));
  const listen = parseAddresses(init.listen ?? defaultServiceNodeListen, "listen address");
  const peers = parseAddresses(init.peers ?? [], "peer address");
  for (const [index, address] of peers.entries()) {
    if (address.getPeerId() === null) {
      throw new InvalidAddressError(
        init.peers?.[index] ?? address.toString(),
        "a peer address must end in /p2p/<peer id>",
      );
    }
  }
  const maxPayloadBytes = positiveInteger(
    init.maxPayloadBytes ?? defaultMaxPayloadBytes,
    "maxPayloadBytes",
  );
  const streamTimeoutMs = positiveInteger(init.streamTimeoutMs ?? 10_000, "streamTimeoutMs");
  const maintenanceIntervalMs = positiveInteger(
    init.maintenanceIntervalMs ?? 60_000,
    "maintenanceIntervalMs",
  );
  const filterLimits: FilterLimits = { ...defaultFilterLimits, ...init.filter };
  for (const key of ["maxPeers", "maxCriteriaPerPeer", "maxContentTopicsPerRequest"] as const) {
    positiveInteger(filterLimits[key], `filter.${key}`);
  }

  const privateKey =
    init.privateKey ??
    (init.dataDir === undefined ? undefined : await loadOrCreatePeerKey(init.dataDir));
  const archive = MessageArchive.open({
    path: init.dataDir === undefined ? ":memory:" : join(init.dataDir, archiveFileName),
    ...(init.retention === undefined ? {} : { retention: init.retention }),
    now,
  });

  let libp2p: Libp2p<{ pubsub: GossipSub }>;
  try {
    libp2p = await createLibp2p({
      ...(privateKey === undefined ? {} : { privateKey }),
      start: false,
      addresses: { listen: listen.map((address) => address.toString()) },
      transports: [webSockets({ filter: allMultiaddrs }), tcp(), memory()],
      connectionEncrypters: [noise()],
      streamMuxers: [mplex()],
      connectionManager: {
        maxConnections: 1000,
        // Many light nodes behind one address (tests, a NAT) connect at once.
        inboundConnectionThreshold: 100,
        maxIncomingPendingConnections: 100,
      },
      services: {
        identify: identify({ agentVersion: "orgchat-service-node" }),
        ping: ping(),
        pubsub: relayServiceFactory(init.heartbeatIntervalMs),
      },
    });
  } catch (cause) {
    archive.close();
    throw cause;
  }

  const relayed = { light: 0, relay: 0 };
  const subscriptions = new FilterSubscriptions(filterLimits, now);
  const pusher = new FilterPusher({
    open: async (peer, signal) => {
      const connection = openConnectionTo(libp2p, peer);
      if (connection === undefined) throw new Error(`no connection to ${peer}`);
      return connection.newStream(filterPushCodec, { signal });
    },
    timeoutMs: streamTimeoutMs,
  });
  const recent = new Map<string, true>();
  const limits = init.rateLimits ?? {};
  const limiter = (value: RateLimit | null | undefined) =>
    new RequestRateLimiter(value === null ? undefined : (value ?? defaultRateLimit), now);
  const lightPushLimiter = limiter(limits.lightPush);
  const filterLimiter = limiter(limits.filter);
  const storeLimiter = limiter(limits.store);
  const servedTopics = new Set(pubsubTopics);
  const servesPubsubTopic = (topic: string) => servedTopics.has(topic);

  /** Stores a message and pushes it to filter subscribers, once per hash. @returns whether it was new */
  const ingest = (pubsubTopic: string, message: WakuMessage): boolean => {
    const hash = messageHash(pubsubTopic, {
      payload: message.payload,
      contentTopic: message.contentTopic,
      timestamp: message.timestamp,
      meta: message.meta,
      version: message.version,
      rateLimitProof: undefined,
      ephemeral: message.ephemeral,
    });
    const key = bytesToHex(hash);
    if (recent.has(key)) return false;
    recent.set(key, true);
    if (recent.size > recentHashLimit) {
      const oldest = recent.keys().next().value;
      if (oldest !== undefined) recent.delete(oldest);
    }
    let stored = true;
    try {
      stored = archive.insert({ hash, pubsubTopic, message });
    } catch {
      // A full disk or a closed archive must not stop live delivery; Store simply misses it.
    }
    // Ephemeral messages are not stored, but they are delivered live.
    if (!stored && message.ephemeral !== true) return false;
    const subscribers = subscriptions.subscribers(pubsubTopic, message.contentTopic);
    if (subscribers.length > 0) {
      pusher.push(
        subscribers,
        proto_filter_v2.MessagePush.encode({ wakuMessage: message, pubsubTopic }),
      );
    }
    return true;
  };

  let relay: WakuRelay | undefined;
  const pendingTimers = new Set<ReturnType<typeof setTimeout>>();
  const serve = (
    codec: string,
    options: {
      readonly maxBytes: number;
      readonly maxInboundStreams: number;
      readonly limiter?: RequestRateLimiter;
      readonly rateLimited?: () => Uint8Array;
      readonly respond: (
        frame: FrameResult,
        connection: Connection,
      ) => Promise<Uint8Array | undefined>;
    },
  ) =>
    libp2p.handle(
      codec,
      (data: IncomingStreamData) => {
        void serveStream(data, options).catch(() => {});
      },
      { maxInboundStreams: options.maxInboundStreams },
    );

  const serveStream = async (
    { stream, connection }: IncomingStreamData,
    options: Parameters<typeof serve>[1],
  ): Promise<void> => {
    const peer = connection.remotePeer.toString();
    const limited =
      options.limiter !== undefined &&
      options.rateLimited !== undefined &&
      !options.limiter.allow(peer);
    const exchange = await readRequest(stream, {
      maxBytes: options.maxBytes,
      timeoutMs: streamTimeoutMs,
    });
    if (exchange.frame.kind === "timeout") return;
    if (limited) {
      // Like nwaku, a rate-limited request is answered without being processed.
      await exchange.finish((options.rateLimited as () => Uint8Array)());
      return;
    }
    let reply: Uint8Array | undefined;
    try {
      reply = await options.respond(exchange.frame, connection);
    } catch {
      reply = undefined;
    }
    await exchange.finish(reply);
  };

  await serve(metadataCodec, {
    maxBytes: maxMetadataRequestBytes,
    maxInboundStreams: 8,
    respond: async (frame, connection) => {
      if (frame.kind !== "frame") return undefined;
      const remoteCluster = requestedClusterId(frame.bytes);
      if (remoteCluster === undefined) return undefined;
      if (remoteCluster !== null && remoteCluster !== networkConfig.clusterId) {
        // nwaku drops peers of another cluster; they learn our cluster id from the reply first.
        const timer = setTimeout(() => {
          pendingTimers.delete(timer);
          void connection.close().catch(() => {});
        }, 100);
        pendingTimers.add(timer);
      }
      return metadataResponse(networkConfig.clusterId, shards);
    },
  });

  const lightPushContext = {
    maxPayloadBytes,
    maxMessageBytes: maxPayloadBytes + (defaultMaxMessageBytes - defaultMaxPayloadBytes),
    requireRelayPeers: init.requireRelayPeers ?? false,
    servesPubsubTopic,
    pubsubTopicFor: (contentTopic: string) => {
      if (!isAutoSharding(networkConfig)) return undefined;
      try {
        return pubsubTopicFor(contentTopic, networkConfig);
      } catch {
        return undefined;
      }
    },
    accept: async (pubsubTopic: string, message: WakuMessage, bytes: Uint8Array) => {
      if (relay === undefined) throw new Error("the relay is not running yet");
      if (!ingest(pubsubTopic, message)) return { relayPeers: 0, duplicate: true };
      relayed.light += 1;
      const result = await relay.publishRaw(pubsubTopic, bytes, {
        allowZeroPeers: true,
      });
      return { relayPeers: result.recipients.length, duplicate: false };
    },
  };
  await serve(lightPushCodec, {
    maxBytes: lightPushContext.maxMessageBytes + lightPushRequestOverheadBytes,
    maxInboundStreams: 256,
    limiter: lightPushLimiter,
    rateLimited: () =>
      lightPushResponse(
        "N/A",
        lightPushStatus.tooManyRequests,
        "Request rejected due to too many requests",
      ),
    respond: async (frame) => {
      if (frame.kind === "too-large") {
        return lightPushResponse(
          "N/A",
          lightPushStatus.payloadTooLarge,
          `request exceeds ${lightPushContext.maxMessageBytes + lightPushRequestOverheadBytes} bytes`,
        );
      }
      if (frame.kind !== "frame") {
        return lightPushResponse("N/A", lightPushStatus.badRequest, "malformed request frame");
      }
      return handleLightPushRequest(frame.bytes, lightPushContext);
    },
  });

  const filterContext = { subscriptions, limits: filterLimits, servesPubsubTopic };
  await serve(filterSubscribeCodec, {
    maxBytes: maxFilterRequestBytes,
    maxInboundStreams: 64,
    limiter: filterLimiter,
    rateLimited: () =>
      filterResponse("N/A", {
        statusCode: filterStatus.tooManyRequests,
        statusDesc: "Request rejected due to too many requests",
      }),
    respond: async (frame, connection) => {
      if (frame.kind === "too-large") {
        return filterResponse("N/A", {
          statusCode: filterStatus.badRequest,
          statusDesc: `request exceeds ${maxFilterRequestBytes} bytes`,
        });
      }
      if (frame.kind !== "frame") {
        return filterResponse("N/A", {
          statusCode: filterStatus.badRequest,
          statusDesc: "malformed request frame",
        });
      }
      const peer = connection.remotePeer.toString();
      const response = handleFilterSubscribeRequest(frame.bytes, peer, filterContext);
      if (!subscriptions.isSubscribed(peer)) pusher.forget(peer);
      return response;
    },
  });

  const storeLimits: StoreLimits = { ...defaultStoreLimits, ...init.store };
  await serve(storeQueryCodec, {
    maxBytes: storeLimits.maxRequestBytes,
    maxInboundStreams: 32,
    limiter: storeLimiter,
    rateLimited: () =>
      storeError(429, "TOO_MANY_REQUESTS: request rejected due to too many requests"),
    respond: async (frame) => {
      if (frame.kind === "too-large") {
        return storeError(
          storeStatusCode.requestTooLarge,
          `PAYLOAD_TOO_LARGE: request exceeds ${storeLimits.maxRequestBytes} bytes`,
        );
      }
      if (frame.kind !== "frame") {
        return storeError(storeStatusCode.badRequest, "BAD_REQUEST: malformed request frame");
      }
      return handleStoreQuery(frame.bytes, archive, storeLimits);
    },
  });

  const redialer = new Redialer(libp2p, peers, {
    initialDelayMs: init.redial?.initialDelayMs ?? 250,
    maxDelayMs: init.redial?.maxDelayMs ?? 30_000,
  });

  const onDisconnect = (event: CustomEvent<PeerId>) => {
    const peer = event.detail.toString();
    subscriptions.removePeer(peer);
    pusher.forget(peer);
    redialer.disconnected(peer);
  };
  libp2p.addEventListener("peer:disconnect", onDisconnect);

  try {
    await libp2p.start();
  } catch (cause) {
    libp2p.removeEventListener("peer:disconnect", onDisconnect);
    try {
      await libp2p.stop();
    } catch {
      // Already failing: the listen error below is the one to report.
    }
    archive.close();
    throw listenError(init.listen ?? defaultServiceNodeListen, cause);
  }
  relay = new WakuRelay(libp2p, pubsubTopics, {
    maxMessageBytes: lightPushContext.maxMessageBytes,
  });
  const unobserve = relay.observe((pubsubTopic, message, _bytes, local) => {
    // Our own publishes (light push) were ingested before they were published.
    if (!local && ingest(pubsubTopic, message)) relayed.relay += 1;
  });

  const maintenance = setInterval(() => {
    try {
      archive.prune();
    } catch {
      // Retention runs again at the next tick; a failing prune must not kill the node.
    }
    for (const peer of subscriptions.prune()) pusher.forget(peer);
    lightPushLimiter.prune();
    filterLimiter.prune();
    storeLimiter.prune();
  }, maintenanceIntervalMs);
  redialer.start();

  const peerId = libp2p.peerId.toString();
  let stopping: Promise<void> | undefined;
  const startedRelay = relay;
  return {
    peerId,
    clusterId: networkConfig.clusterId,
    shards,
    pubsubTopics,
    libp2p,
    relay: startedRelay,
    multiaddrs: () => libp2p.getMultiaddrs().map((address) => address.toString()),
    stats: () => ({
      storedMessages: stopping === undefined ? archive.count() : 0,
      filterSubscribers: subscriptions.peerCount,
      filterPushes: pusher.stats,
      lightPushed: relayed.light,
      relayed: relayed.relay,
      connections: libp2p.getConnections().length,
    }),
    dial: async (address, options) => {
      const [parsed] = parseAddresses([address], "peer address");
      await libp2p.dial(parsed as Multiaddr, options?.signal ? { signal: options.signal } : {});
    },
    stop: () => {
      stopping ??= (async () => {
        clearInterval(maintenance);
        for (const timer of pendingTimers) clearTimeout(timer);
        pendingTimers.clear();
        redialer.stop();
        unobserve();
        startedRelay.stop();
        libp2p.removeEventListener("peer:disconnect", onDisconnect);
        await pusher.stop();
        await libp2p.stop();
        archive.close();
      })();
      return stopping;
    },
  };
}

function relayServiceFactory(
  heartbeatIntervalMs: number | undefined,
): (components: GossipSubComponents) => GossipSub {
  return wakuRelayService({
    allowPublishToZeroTopicPeers: true,
    ...(heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs }),
  });
}

function storeError(statusCode: number, statusDesc: string): Uint8Array {
  return proto_store.StoreQueryResponse.encode({
    requestId: "N/A",
    statusCode,
    statusDesc,
    messages: [],
  });
}

function openConnectionTo(libp2p: Libp2p, peer: string): Connection | undefined {
  return libp2p
    .getConnections()
    .find((c) => c.status === "open" && c.remotePeer.toString() === peer);
}

function parseAddresses(list: readonly string[], role: string): Multiaddr[] {
  return list.map((text) => {
    try {
      return multiaddr(text);
    } catch (cause) {
      throw new InvalidAddressError(
        text,
        `not a valid ${role} multiaddr (example: /ip4/127.0.0.1/tcp/60000/ws)`,
        { cause },
      );
    }
  });
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function listenError(listen: readonly string[], cause: unknown): Error {
  const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  const code = (cause as { code?: unknown }).code;
  if (code === "EADDRINUSE" || text.includes("EADDRINUSE")) {
    return new InvalidAddressError(
      listen.join(" "),
      "a port is already in use; pick another port or stop the process using it",
      { cause },
    );
  }
  if (text.includes("UnsupportedListenAddress") || text.includes("NoValidAddresses")) {
    return new InvalidAddressError(
      listen.join(" "),
      "no transport can listen on this address; use /ip4/<ip>/tcp/<port>/ws, /ip4/<ip>/tcp/<port> or /memory/<name>",
      { cause },
    );
  }
  if (cause instanceof Error) return cause;
  return new Error(text);
}

/** Keeps configured peers connected: dials at start and again with backoff after each drop. */
class Redialer {
  readonly #libp2p: Libp2p;
  readonly #peers: Map<
    string,
    { readonly address: Multiaddr; delay: number; timer: ReturnType<typeof setTimeout> | undefined }
  >;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  #stopped = false;

  constructor(
    libp2p: Libp2p,
    addresses: readonly Multiaddr[],
    delays: { readonly initialDelayMs: number; readonly maxDelayMs: number },
  ) {
    this.#libp2p = libp2p;
    this.#initialDelayMs = delays.initialDelayMs;
    this.#maxDelayMs = delays.maxDelayMs;
    this.#peers = new Map(
      addresses.map((address) => [
        address.getPeerId() as string,
        { address, delay: delays.initialDelayMs, timer: undefined },
      ]),
    );
  }

  start(): void {
    for (const peer of this.#peers.keys()) this.#dial(peer);
  }

  disconnected(peer: string): void {
    const entry = this.#peers.get(peer);
    if (entry === undefined || this.#stopped) return;
    this.#schedule(peer);
  }

  stop(): void {
    this.#stopped = true;
    for (const entry of this.#peers.values()) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.timer = undefined;
    }
  }

  #schedule(peer: string): void {
    const entry = this.#peers.get(peer);
    if (entry === undefined || this.#stopped || entry.timer !== undefined) return;
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      this.#dial(peer);
    }, entry.delay);
    entry.delay = Math.min(entry.delay * 2, this.#maxDelayMs);
  }

  #dial(peer: string): void {
    const entry = this.#peers.get(peer);
    if (entry === undefined || this.#stopped) return;
    this.#libp2p.dial(entry.address).then(
      () => {
        entry.delay = this.#initialDelayMs;
      },
      () => this.#schedule(peer),
    );
  }
}
