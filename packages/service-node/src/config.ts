/**
 * The node's options ({@link ServiceNodeInit}), their defaults, and their validation into the one
 * resolved {@link ServiceNodeConfig} every other component reads. Everything that can be refused
 * for a bad option is refused here, before a file or a socket is opened.
 */
import type { PrivateKey } from "@libp2p/interface";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { type DiagnosticSink, ignoreDiagnostic } from "@orgchat/base";
import {
  defaultMaxMessageBytes,
  defaultMaxPayloadBytes,
  defaultNetworkConfig,
  shardPubsubTopics,
} from "@orgchat/transport-waku/relay";
import { type RedialBackoff, redialBackoff } from "@orgchat/transport-waku/upkeep";
import type { NetworkConfig } from "@waku/interfaces";
import type { ArchiveRetention } from "./archive.js";
import { type PeerQuota, resolveAdmissionLimits } from "./archive-limits.js";
import { InvalidAddressError } from "./errors.js";
import { defaultFilterLimits, type FilterLimits } from "./filter.js";
import { type RateLimit, RequestRateLimiter } from "./rate-limit.js";
import { resolveLimits, type StoreLimits } from "./store-protocol.js";

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

/** Redial backoff of the configured peers when `redial` leaves a delay out. */
export const defaultServiceNodeRedial: RedialBackoff = Object.freeze({
  initialDelayMs: 250,
  maxDelayMs: 30_000,
});

/** Default per-peer budget: 100 requests per second sustained, bursts of 1000. */
export const defaultRateLimit: RateLimit = Object.freeze({ requests: 1000, periodMs: 10_000 });

/** Options of `createServiceNode`. */
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
  /**
   * The archive refuses a message whose Waku timestamp is further than this from the node's clock
   * when it arrives, either way (ms; it is still relayed and pushed live). `Number.POSITIVE_INFINITY`
   * disables the check. @default 20_000 (nwaku's rule)
   */
  readonly maxTimestampSkewMs?: number;
  /**
   * How much of the archive one delivering peer (a light push client, or the relay neighbour a
   * message came from) may hold; beyond it its messages are not archived (still relayed and pushed
   * live). The configured `peers` are exempt. @default 100,000 messages and 1 GiB per peer
   */
  readonly peerQuota?: PeerQuota;
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
  /**
   * Store service limits (page size, request and response size), checked when the node is created
   * (positive integers, `defaultPageSize` ≤ `maxPageSize`: a `RangeError` otherwise).
   * @default defaultStoreLimits
   */
  readonly store?: Partial<StoreLimits>;
  /** Per-peer request budgets; `null` disables one. @default defaultRateLimit for each */
  readonly rateLimits?: ServiceRateLimits;
  /**
   * How long a request stream may take to deliver its request, and a reply to be written, and how
   * long a filter push stream may take to end once its subscriber is gone, ms (then it is aborted;
   * `stop()` aborts every stream at once). @default 10_000
   */
  readonly streamTimeoutMs?: number;
  /** Gossipsub heartbeat, ms (use 100 in tests). @default 1000 */
  readonly heartbeatIntervalMs?: number;
  /**
   * Initial and maximal delay of peer redials, ms (`0 < initialDelayMs <= maxDelayMs`).
   * @default { initialDelayMs: 250, maxDelayMs: 30_000 }
   */
  readonly redial?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  /** The libp2p identity; overrides the key of `dataDir`. */
  readonly privateKey?: PrivateKey;
  /** Wall clock, ms since the epoch (archive timestamps, retention, subscription expiry). @default Date.now */
  readonly now?: () => number;
  /**
   * Receives a {@link Diagnostic} for every input the node drops and every background step that
   * fails (a malformed request, an undecodable frame, a filter push that could not be delivered, a
   * failed prune). The node keeps serving either way; this is how an operator sees what it dropped.
   * It must not throw (a throwing sink is ignored). @default ignore
   */
  readonly onDiagnostic?: DiagnosticSink;
}

/** {@link ServiceNodeInit} with every default applied and every value checked. */
export interface ServiceNodeConfig {
  readonly now: () => number;
  readonly networkConfig: NetworkConfig;
  readonly pubsubTopics: readonly string[];
  readonly shards: readonly number[];
  /** The listen addresses as given (for error messages). */
  readonly listenText: readonly string[];
  readonly listen: readonly Multiaddr[];
  readonly peers: readonly Multiaddr[];
  readonly maxPayloadBytes: number;
  /** Largest encoded message: the payload limit plus js-waku's envelope allowance. */
  readonly maxMessageBytes: number;
  readonly requireRelayPeers: boolean;
  readonly streamTimeoutMs: number;
  readonly maintenanceIntervalMs: number;
  readonly filterLimits: FilterLimits;
  /** Checked here, before anything opens (a bad value used to answer every query with 500). */
  readonly storeLimits: StoreLimits;
  readonly rateLimiters: {
    readonly lightPush: RequestRateLimiter;
    readonly filter: RequestRateLimiter;
    readonly store: RequestRateLimiter;
  };
  readonly heartbeatIntervalMs: number | undefined;
  readonly redial: RedialBackoff;
  readonly dataDir: string | undefined;
  readonly retention: ArchiveRetention | undefined;
  readonly maxTimestampSkewMs: number;
  readonly peerQuota: Required<PeerQuota>;
  /** Peer ids of the configured `peers`: exempt from the per-peer quota. */
  readonly quotaExemptPeers: ReadonlySet<string>;
  readonly privateKey: PrivateKey | undefined;
  readonly onDiagnostic: DiagnosticSink;
}

/**
 * Applies the defaults of `init` and checks it.
 *
 * @param init - the options given to `createServiceNode`
 * @returns the resolved configuration
 * @throws InvalidAddressError (a listen or peer address is malformed, or a peer address has no
 *   `/p2p/<peer id>`), RangeError (a number out of range, redial delays not
 *   `0 < initialDelayMs <= maxDelayMs`)
 */
export function resolveConfig(init: ServiceNodeInit): ServiceNodeConfig {
  const now = init.now ?? Date.now;
  const networkConfig = init.networkConfig ?? defaultNetworkConfig;
  const pubsubTopics = shardPubsubTopics(networkConfig, init.shards);
  const shards = pubsubTopics.map((topic) => Number(topic.slice(topic.lastIndexOf("/") + 1)));
  const listenText = init.listen ?? defaultServiceNodeListen;
  const listen = parseAddresses(listenText, "listen address");
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
  const { maxTimestampSkewMs, peerQuota } = resolveAdmissionLimits(init);
  const limits = init.rateLimits ?? {};
  const limiter = (value: RateLimit | null | undefined) =>
    new RequestRateLimiter(value === null ? undefined : (value ?? defaultRateLimit), now);
  return {
    now,
    networkConfig,
    pubsubTopics,
    shards,
    listenText,
    listen,
    peers,
    maxPayloadBytes,
    maxMessageBytes: maxPayloadBytes + (defaultMaxMessageBytes - defaultMaxPayloadBytes),
    requireRelayPeers: init.requireRelayPeers ?? false,
    streamTimeoutMs,
    maintenanceIntervalMs,
    filterLimits,
    storeLimits: resolveLimits(init.store),
    rateLimiters: {
      lightPush: limiter(limits.lightPush),
      filter: limiter(limits.filter),
      store: limiter(limits.store),
    },
    heartbeatIntervalMs: init.heartbeatIntervalMs,
    redial: redialBackoff(init.redial, defaultServiceNodeRedial),
    dataDir: init.dataDir,
    retention: init.retention,
    maxTimestampSkewMs,
    peerQuota,
    quotaExemptPeers: new Set(peers.map((address) => address.getPeerId() as string)),
    privateKey: init.privateKey,
    onDiagnostic: init.onDiagnostic ?? ignoreDiagnostic,
  };
}

/**
 * Parses multiaddrs given as text.
 * @throws InvalidAddressError naming the first one that does not parse
 */
export function parseAddresses(list: readonly string[], role: string): Multiaddr[] {
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
