/**
 * The service node: one libp2p node that relays (gossipsub as `/vac/waku/relay/2.0.0`), stores
 * (Store v3 over the SQLite archive), and serves light nodes (LightPush v3, Filter v2) and the Waku
 * metadata protocol, all on the unmodified Waku wire protocols so that light nodes cannot tell it from
 * nwaku by behaviour on the paths they use.
 *
 * This module only wires the components together (see the README's component map): config
 * (options), lifecycle (identity, libp2p, timers, stop), ingest (what enters the archive and reaches
 * filter subscribers), the protocol server with one module per protocol, and connection upkeep (`@orgchat/transport-waku/upkeep`, shared with the Waku transports).
 */
import { join } from "node:path";
import type { Connection, PeerId } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";
import { reportDiagnostic } from "@orgchat/base";
import { WakuRelay } from "@orgchat/transport-waku/relay";
import { connectionUpkeep } from "@orgchat/transport-waku/upkeep";
import { MessageArchive } from "./archive.js";
import { archiveFileName, parseAddresses, resolveConfig, type ServiceNodeInit } from "./config.js";
import { filterProtocol, filterPushCodec } from "./filter.js";
import { FilterPusher } from "./filter-push.js";
import { FilterSubscriptions } from "./filter-subscriptions.js";
import { MessageIngest } from "./ingest.js";
import {
  createNodeLibp2p,
  NodeTimers,
  once,
  peerKeyFor,
  type ServiceLibp2p,
  startListening,
} from "./lifecycle.js";
import { autoShardPubsubTopic, lightPushProtocol } from "./light-push.js";
import { metadataProtocol } from "./metadata.js";
import { ProtocolServer } from "./protocol-server.js";
import { graftOnSubscribe } from "./relay-mesh.js";
import { storeProtocol } from "./store-protocol.js";

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
  /**
   * New messages the archive refused (still relayed and pushed live): timestamp further than
   * `maxTimestampSkewMs` from the node's clock, delivering peer over its `peerQuota`.
   */
  readonly archiveRefused: {
    readonly timestampOutOfRange: number;
    readonly peerOverQuota: number;
  };
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
  readonly libp2p: ServiceLibp2p;
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

/**
 * Starts a service node.
 *
 * @param init - options; every one has a default (see {@link ServiceNodeInit})
 * @returns the running node
 * @example
 * ```ts
 * import { createServiceNode } from "@orgchat/service-node";
 *
 * const node = await createServiceNode({
 *   dataDir: "/var/lib/orgchat-node",
 *   onDiagnostic: (d) => console.warn(`${d.component}: ${d.reason}`),
 * });
 * console.log(node.multiaddrs()); // give one of these to light nodes as a peer
 * process.on("SIGTERM", () => void node.stop());
 * ```
 * @throws DataDirectoryError (data directory unusable), InvalidAddressError (bad listen or peer
 *   address, port in use), ArchiveOpenError / ArchiveSchemaVersionError (archive file unusable),
 *   RangeError (an option out of range)
 */
export async function createServiceNode(init: ServiceNodeInit = {}): Promise<ServiceNode> {
  const config = resolveConfig(init);
  const { now, networkConfig, onDiagnostic, rateLimiters } = config;
  const privateKey = await peerKeyFor(config);
  const archive = MessageArchive.open({
    path: config.dataDir === undefined ? ":memory:" : join(config.dataDir, archiveFileName),
    ...(config.retention === undefined ? {} : { retention: config.retention }),
    now,
    onDiagnostic,
    maxTimestampSkewMs: config.maxTimestampSkewMs,
    peerQuota: config.peerQuota,
    isQuotaExempt: (peer) => config.quotaExemptPeers.has(peer),
    // A relayed burst is archived in one transaction per turn; light push commits before its ack.
    commitPerTurn: true,
  });
  let libp2p: ServiceLibp2p;
  try {
    libp2p = await createNodeLibp2p(config, privateKey);
  } catch (cause) {
    archive.close();
    throw cause;
  }

  const timers = new NodeTimers(onDiagnostic);
  const subscriptions = new FilterSubscriptions(config.filterLimits, now);
  const pusher = new FilterPusher({
    open: async (peer, signal) => {
      const connection = openConnectionTo(libp2p, peer);
      if (connection === undefined) throw new Error(`no connection to ${peer}`);
      return connection.newStream(filterPushCodec, { signal });
    },
    timeoutMs: config.streamTimeoutMs,
    onDiagnostic,
  });
  const ingest = new MessageIngest({ archive, subscriptions, pusher, onDiagnostic });
  const servedTopics = new Set(config.pubsubTopics);
  const servesPubsubTopic = (topic: string) => servedTopics.has(topic);

  const server = new ProtocolServer(libp2p, {
    streamTimeoutMs: config.streamTimeoutMs,
    onDiagnostic,
  });
  await server.mount(
    metadataProtocol({
      clusterId: networkConfig.clusterId,
      shards: config.shards,
      later: (ms, task) => timers.later(ms, task),
      onDiagnostic,
    }),
  );
  await server.mount(
    lightPushProtocol(
      {
        maxPayloadBytes: config.maxPayloadBytes,
        maxMessageBytes: config.maxMessageBytes,
        requireRelayPeers: config.requireRelayPeers,
        servesPubsubTopic,
        pubsubTopicFor: autoShardPubsubTopic(networkConfig, onDiagnostic),
        accept: (pubsubTopic, message, bytes, peer) =>
          ingest.lightPushed(pubsubTopic, message, bytes, peer),
        onDiagnostic,
      },
      rateLimiters.lightPush,
    ),
  );
  await server.mount(
    filterProtocol({
      subscriptions,
      limits: config.filterLimits,
      servesPubsubTopic,
      limiter: rateLimiters.filter,
      unsubscribed: (peer) => pusher.forget(peer),
      onDiagnostic,
    }),
  );
  await server.mount(storeProtocol(archive, config.storeLimits, rateLimiters.store, onDiagnostic));

  // Redials of the configured peers after a drop are the upkeep's (it listens to disconnects too).
  const upkeep = connectionUpkeep({ peers: config.peers, ...config.redial }, { libp2p });
  upkeep.on("dial:failed", ({ error }) =>
    reportDiagnostic(onDiagnostic, {
      component: "service-node/upkeep",
      reason: "dial-failed",
      error,
    }),
  );
  const onDisconnect = (event: CustomEvent<PeerId>) => {
    const peer = event.detail.toString();
    subscriptions.removePeer(peer);
    pusher.forget(peer);
  };
  libp2p.addEventListener("peer:disconnect", onDisconnect);
  try {
    await startListening(libp2p, config);
  } catch (error) {
    libp2p.removeEventListener("peer:disconnect", onDisconnect);
    archive.close();
    throw error;
  }
  const relay = new WakuRelay(libp2p, config.pubsubTopics, {
    maxMessageBytes: config.maxMessageBytes,
  });
  const unobserve = ingest.attach(relay);
  // Peers that subscribe join our mesh at once: we relay between them from their first message on.
  const stopGrafting = graftOnSubscribe(relay.gossipSub, config.pubsubTopics);
  timers.every(config.maintenanceIntervalMs, {
    // Retention runs again at the next tick.
    prune: () => archive.prune(),
    "expire-subscriptions": () => {
      for (const peer of subscriptions.prune()) pusher.forget(peer);
    },
    "prune-rate-limits": () => {
      rateLimiters.lightPush.prune();
      rateLimiters.filter.prune();
      rateLimiters.store.prune();
    },
  });
  upkeep.start();

  let stopped = false;
  const stop = once(async () => {
    stopped = true;
    timers.clear();
    upkeep.stop();
    unobserve();
    stopGrafting();
    relay.stop();
    libp2p.removeEventListener("peer:disconnect", onDisconnect);
    server.stop();
    await pusher.stop();
    await libp2p.stop();
    archive.close();
  });
  return {
    peerId: libp2p.peerId.toString(),
    clusterId: networkConfig.clusterId,
    shards: config.shards,
    pubsubTopics: config.pubsubTopics,
    libp2p,
    relay,
    multiaddrs: () => libp2p.getMultiaddrs().map((address) => address.toString()),
    stats: () => ({
      storedMessages: stopped ? 0 : archive.count(),
      filterSubscribers: subscriptions.peerCount,
      filterPushes: pusher.stats,
      ...ingest.counts,
      connections: libp2p.getConnections().length,
    }),
    dial: async (address, options) => {
      const [parsed] = parseAddresses([address], "peer address");
      await libp2p.dial(parsed as Multiaddr, options?.signal ? { signal: options.signal } : {});
    },
    stop,
  };
}

function openConnectionTo(libp2p: ServiceLibp2p, peer: string): Connection | undefined {
  return libp2p
    .getConnections()
    .find((c) => c.status === "open" && c.remotePeer.toString() === peer);
}
