/**
 * What relay and light mode share: the init shape, address parsing, and the libp2p transports and
 * options that keep a node on the addresses it was given (nothing reaches out to the internet).
 */

import type { PrivateKey } from "@libp2p/interface";
import { memory } from "@libp2p/memory";
import { webSockets } from "@libp2p/websockets";
import { all as allMultiaddrs } from "@libp2p/websockets/filters";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { type Transport, TransportStartError } from "@orgchat/transport";
import type { CreateNodeOptions, NetworkConfig } from "@waku/interfaces";
import type { Libp2pOptions } from "libp2p";
import { connectionMonitorInit } from "./connection-upkeep.js";
import { defaultMaxPayloadBytes, defaultNetworkConfig } from "./waku-message.js";

/** Listen addresses when `listen` is not given: WebSocket on an ephemeral loopback port. */
export const defaultListenAddresses: readonly string[] = Object.freeze(["/ip4/127.0.0.1/tcp/0/ws"]);

/** How long `publish` waits for a peer that can carry the message before `NoPeersError`. */
export const defaultPublishTimeoutMs = 10_000;

/** Reconnection backoff after a bootstrap peer drops or cannot be dialed. */
export interface ReconnectInit {
  /** First retry delay; doubles after every failure. @default 250 */
  readonly initialDelayMs?: number;
  /** Longest delay between two attempts (retries never stop while started). @default 10_000 */
  readonly maxDelayMs?: number;
}

/**
 * Options both modes of `wakuTransport()` take.
 * @example
 * ```ts
 * const init: WakuTransportInit = { peers: ["/ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooW…"] };
 * ```
 */
export interface WakuTransportInit {
  /**
   * Cluster and sharding. Auto-sharding (`numShardsInCluster`) routes a content topic to the shard of
   * its application and version; static sharding (`{ clusterId }` only) uses `shards`.
   * @default defaultNetworkConfig (private cluster 55, 8 auto-sharded shards)
   */
  readonly networkConfig?: NetworkConfig;
  /**
   * Shards to join. Auto-sharding: every shard of the cluster by default (any content topic works).
   * Static sharding: messages are published on the first one. @default all (auto) / [0] (static)
   */
  readonly shards?: readonly number[];
  /**
   * Multiaddrs to listen on: `/ip4/…/tcp/<port>/ws`, `/ip4/…/tcp/<port>` or `/memory/<name>`. `[]` for
   * a dial-only node. @default ["/ip4/127.0.0.1/tcp/0/ws"]
   */
  readonly listen?: readonly string[];
  /**
   * Peers to dial at start and to redial with backoff whenever they drop (relay: any relay peer;
   * light: service nodes). Multiaddr strings, ideally ending in `/p2p/<peer id>`. @default []
   */
  readonly peers?: readonly string[];
  /**
   * Largest payload `publish` accepts. @default 153_600 (150 KiB, the limit of The Waku Network and
   * nwaku's default `--max-msg-size`)
   */
  readonly maxPayloadBytes?: number;
  /** How long `publish` waits for a peer before `NoPeersError`. @default 10_000 */
  readonly publishTimeoutMs?: number;
  /** Gossipsub heartbeat (relay mode); the mesh forms on heartbeats. Use 100 in tests. @default 1000 */
  readonly heartbeatIntervalMs?: number;
  /**
   * Store v3 nodes that answer `queryHistory`, dialed at start and redialed like `peers`. Relay mode
   * has history only with them; light mode asks any connected service node without them.
   * @default []
   */
  readonly storePeers?: readonly string[];
  /** Backoff of bootstrap-peer redials. */
  readonly reconnect?: ReconnectInit;
  /**
   * The node's libp2p identity. Without it, one is generated at the first `start()` and kept for the
   * life of the transport object, so a restarted node keeps its peer id and its `/p2p/…` address.
   */
  readonly privateKey?: PrivateKey;
  /** Wall clock in ms, for message timestamps. @default Date.now */
  readonly now?: () => number;
}

/** A Waku transport: the contract plus the node's own addresses, for peers to dial it. */
export interface WakuTransport extends Transport {
  /** The node's listen multiaddrs including `/p2p/<peer id>` (empty while stopped or dial-only). */
  readonly multiaddrs: readonly string[];
  /** The node's libp2p peer id, once started. */
  readonly peerId: string | undefined;
}

/**
 * Parses multiaddr strings and checks that this package can listen on / dial them.
 * @throws TransportStartError naming the first bad address
 */
export function parseAddresses(list: readonly string[], role: "listen" | "peer"): Multiaddr[] {
  if (!Array.isArray(list)) {
    throw new TransportStartError(`${role} addresses must be an array of multiaddr strings`);
  }
  return list.map((text) => {
    let address: Multiaddr;
    try {
      address = multiaddr(text);
    } catch (error) {
      throw new TransportStartError(
        `bad ${role} multiaddr ${JSON.stringify(text)} (${error instanceof Error ? error.message : String(error)})`,
        { cause: error },
      );
    }
    if (transportKind(address) === undefined) {
      throw new TransportStartError(
        `unsupported ${role} multiaddr ${JSON.stringify(text)}: use /ip4|ip6|dns…/tcp/<port>/ws, /ip4|ip6/…/tcp/<port> or /memory/<name>`,
      );
    }
    return address;
  });
}

/** Which libp2p transport carries `address`. */
export function transportKind(address: Multiaddr): "ws" | "tcp" | "memory" | undefined {
  const names = address.protoNames();
  if (names.includes("memory")) return "memory";
  if (!names.includes("tcp")) return undefined;
  if (names.includes("ws") || names.includes("wss")) return "ws";
  if (names.includes("p2p-circuit") || names.includes("webrtc") || names.includes("tls")) {
    return undefined;
  }
  return "tcp";
}

/**
 * The libp2p transports for these addresses: WebSockets always (without the SDK's wss-only filter, so
 * plain `ws://` on loopback works), `@libp2p/memory` always, TCP only when a plain TCP address is used
 * (imported on demand: it needs `node:net`, and the rest of this package also runs in browsers).
 */
export async function libp2pTransportsFor(
  addresses: readonly Multiaddr[],
): Promise<NonNullable<Libp2pOptions["transports"]>> {
  const transports: NonNullable<Libp2pOptions["transports"]> = [
    webSockets({ filter: allMultiaddrs }),
    memory(),
  ];
  if (addresses.some((address) => transportKind(address) === "tcp")) {
    const { tcp } = await import("@libp2p/tcp");
    transports.push(tcp());
  }
  return transports;
}

/**
 * The `@waku/sdk` node options both modes start from: the given network, no bootstrap or discovery of
 * any kind (DNS discovery, peer exchange and the peer cache would reach out to the public network or
 * browser storage), our own transports, no console banner. libp2p is created unstarted.
 */
export function offlineNodeOptions(parts: {
  readonly networkConfig: NetworkConfig;
  readonly listen: readonly Multiaddr[];
  readonly transports: NonNullable<Libp2pOptions["transports"]>;
  readonly privateKey: PrivateKey | undefined;
  readonly services?: Record<string, unknown>;
}): CreateNodeOptions {
  const libp2p: Record<string, unknown> = {
    start: false,
    addresses: { listen: parts.listen.map((a) => a.toString()) },
    transports: parts.transports,
    filterMultiaddrs: false,
    hideWebSocketInfo: true,
    peerDiscovery: [],
    services: parts.services ?? {},
    // A slow ping (a burst queued ahead of it, a busy peer) must not abort the connection.
    connectionMonitor: connectionMonitorInit,
  };
  if (parts.privateKey) libp2p.privateKey = parts.privateKey;
  return {
    networkConfig: parts.networkConfig,
    defaultBootstrap: false,
    discovery: { dns: false, peerExchange: false, peerCache: false },
    libp2p: libp2p as NonNullable<CreateNodeOptions["libp2p"]>,
  };
}

/** Normalized numbers of a {@link WakuTransportInit}. @throws RangeError naming the bad option */
export function transportLimits(init: WakuTransportInit): {
  readonly maxPayloadBytes: number;
  readonly publishTimeoutMs: number;
  readonly networkConfig: NetworkConfig;
} {
  const maxPayloadBytes = init.maxPayloadBytes ?? defaultMaxPayloadBytes;
  if (!Number.isInteger(maxPayloadBytes) || maxPayloadBytes < 1) {
    throw new RangeError(`maxPayloadBytes must be a positive integer, got ${init.maxPayloadBytes}`);
  }
  const publishTimeoutMs = init.publishTimeoutMs ?? defaultPublishTimeoutMs;
  if (!Number.isFinite(publishTimeoutMs) || publishTimeoutMs < 0) {
    throw new RangeError(
      `publishTimeoutMs must be a non-negative number, got ${init.publishTimeoutMs}`,
    );
  }
  return {
    maxPayloadBytes,
    publishTimeoutMs,
    networkConfig: init.networkConfig ?? defaultNetworkConfig,
  };
}

/**
 * A copy of `bytes` as a plain `Uint8Array`. libp2p hands out Node `Buffer` views of its receive
 * buffers; a subscriber must get its own bytes (not a view another handler or gossipsub's cache
 * sees), and not a `Buffer`: `Buffer.prototype.slice` does not copy, and `JSON.stringify` turns a
 * `Buffer` into `{ type: "Buffer", data: [...] }` (its `toJSON`), which breaks consumers that
 * serialize received bytes as they would any `Uint8Array`.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}
