/**
 * The node's lifecycle: its peer identity, the libp2p node (transports, encryption, muxer, relay
 * service), listening, the maintenance timer, deferred tasks, and stopping everything once in order.
 * Process signals are the command's business (`cli.ts` stops the node on SIGINT/SIGTERM).
 */
import type { GossipSub } from "@chainsafe/libp2p-gossipsub";
import { noise } from "@chainsafe/libp2p-noise";
import { identify } from "@libp2p/identify";
import type { PrivateKey } from "@libp2p/interface";
import { memory } from "@libp2p/memory";
import { mplex } from "@libp2p/mplex";
import { ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { webSockets } from "@libp2p/websockets";
import { all as allMultiaddrs } from "@libp2p/websockets/filters";
import { type DiagnosticSink, reportDiagnostic } from "@orgchat/base";
import { wakuRelayService } from "@orgchat/transport-waku/relay";
import { connectionMonitorInit } from "@orgchat/transport-waku/upkeep";
import { createLibp2p, type Libp2p } from "libp2p";
import type { ServiceNodeConfig } from "./config.js";
import { InvalidAddressError } from "./errors.js";
import { loadOrCreatePeerKey } from "./identity.js";

/** The libp2p node of a service node: gossipsub (as Waku Relay) under `pubsub`. */
export type ServiceLibp2p = Libp2p<{ pubsub: GossipSub }>;

const component = "service-node/lifecycle";

/**
 * The node's identity: the given key, else the one persisted in the data directory (created on
 * first start), else none (libp2p makes a fresh one).
 * @throws DataDirectoryError when the data directory or its key file is unusable
 */
export async function peerKeyFor(config: ServiceNodeConfig): Promise<PrivateKey | undefined> {
  if (config.privateKey !== undefined) return config.privateKey;
  return config.dataDir === undefined ? undefined : await loadOrCreatePeerKey(config.dataDir);
}

/** Creates (does not start) the node's libp2p: ws, tcp and memory transports, noise, mplex, relay. */
export function createNodeLibp2p(
  config: ServiceNodeConfig,
  privateKey: PrivateKey | undefined,
): Promise<ServiceLibp2p> {
  return createLibp2p({
    ...(privateKey === undefined ? {} : { privateKey }),
    start: false,
    addresses: { listen: config.listen.map((address) => address.toString()) },
    transports: [webSockets({ filter: allMultiaddrs }), tcp(), memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [mplex()],
    // A slow ping (a relay burst queued ahead of it, a busy peer) must not abort the connection and
    // drop what is queued on it.
    connectionMonitor: connectionMonitorInit,
    connectionManager: {
      maxConnections: 1000,
      // Many light nodes behind one address (tests, a NAT) connect at once.
      inboundConnectionThreshold: 100,
      maxIncomingPendingConnections: 100,
    },
    services: {
      identify: identify({ agentVersion: "orgchat-service-node" }),
      ping: ping(),
      pubsub: wakuRelayService({
        allowPublishToZeroTopicPeers: true,
        ...(config.heartbeatIntervalMs === undefined
          ? {}
          : { heartbeatIntervalMs: config.heartbeatIntervalMs }),
      }),
    },
  });
}

/**
 * Starts libp2p (it begins listening). On failure libp2p is stopped again and the error says which
 * address could not be used.
 * @throws InvalidAddressError (port in use, no transport for an address), or libp2p's error
 */
export async function startListening(
  libp2p: ServiceLibp2p,
  config: ServiceNodeConfig,
): Promise<void> {
  try {
    await libp2p.start();
  } catch (cause) {
    try {
      await libp2p.stop();
    } catch (error) {
      // Already failing: the listen error below is the one to throw; this one is reported.
      reportDiagnostic(config.onDiagnostic, { component, reason: "stop-failed", error });
    }
    throw listenError(config.listenText, cause);
  }
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

/** Timers the node runs besides libp2p's: the maintenance tick and one-off deferred tasks. */
export class NodeTimers {
  readonly #pending = new Set<ReturnType<typeof setTimeout>>();
  readonly #onDiagnostic: DiagnosticSink;
  #maintenance: ReturnType<typeof setInterval> | undefined;

  constructor(onDiagnostic: DiagnosticSink) {
    this.#onDiagnostic = onDiagnostic;
  }

  /** Runs `task` after `ms`, unless {@link clear} comes first. */
  later(ms: number, task: () => void): void {
    const timer = setTimeout(() => {
      this.#pending.delete(timer);
      task();
    }, ms);
    this.#pending.add(timer);
  }

  /**
   * Runs each of `tasks` every `intervalMs`. A failing task is reported and runs again at the next
   * tick: a failing prune must not kill the node, nor keep the other tasks from running.
   */
  every(intervalMs: number, tasks: Readonly<Record<string, () => void>>): void {
    this.#maintenance = setInterval(() => {
      for (const [name, task] of Object.entries(tasks)) {
        try {
          task();
        } catch (error) {
          reportDiagnostic(this.#onDiagnostic, { component, reason: `${name}-failed`, error });
        }
      }
    }, intervalMs);
  }

  /** Cancels the maintenance tick and every deferred task. */
  clear(): void {
    clearInterval(this.#maintenance);
    for (const timer of this.#pending) clearTimeout(timer);
    this.#pending.clear();
  }
}

/** Runs `steps` in order, once: later calls get the same promise. */
export function once(steps: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= steps();
    return running;
  };
}
