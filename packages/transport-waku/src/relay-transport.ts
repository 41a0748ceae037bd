/**
 * Relay mode: the orgchat `Transport` over Waku Relay (gossipsub as `/vac/waku/relay/2.0.0`). Every
 * node is a full relay peer: it listens, dials its bootstrap peers, forwards the traffic of its shards.
 */

import type { Connection, PeerId } from "@libp2p/interface";
import { describeError, sleep } from "@orgchat/base";
import {
  AbortError,
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
  type TransportMessage,
  TransportStartError,
} from "@orgchat/transport";
import { abortErrorFor, invokeHandler, throwIfAborted } from "@orgchat/transport/implement";
import type { Libp2p } from "@waku/interfaces";
import { createLibp2pAndUpdateOptions } from "@waku/sdk";
import { type ConnectionUpkeep, connectionUpkeep } from "./connection-upkeep.js";
import {
  defaultListenAddresses,
  libp2pTransportsFor,
  offlineNodeOptions,
  plainBytes,
  type WakuTransport,
  type WakuTransportInit,
} from "./node-options.js";
import {
  envelopeAllowanceBytes,
  type RelayMessageListener,
  WakuRelay,
  wakuMessageTimestampMs,
  wakuRelayService,
} from "./relay.js";
import { planStoreQuery, runStoreQuery } from "./store-query.js";
import {
  bootstrapAddresses,
  reportDialFailures,
  resolveWakuOptions,
  WakuTransportBase,
} from "./transport-base.js";
import { stopQuietly, Wakeups } from "./transport-common.js";

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
  readonly wakeups: Wakeups;
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

class WakuRelayTransport extends WakuTransportBase<RelayNode> {
  readonly #heartbeatIntervalMs: number | undefined;
  readonly #subscriptions = new Map<string, Set<SubscriptionEntry>>();

  constructor(init: WakuRelayTransportInit | Omit<WakuRelayTransportInit, "mode">) {
    if ("mode" in init && init.mode !== "relay") {
      throw new TypeError(`wakuRelayTransport: mode must be "relay", got ${String(init.mode)}`);
    }
    const options = resolveWakuOptions(init, defaultListenAddresses);
    super(
      options,
      { history: options.storePeers.length > 0, selfDelivery: true, ordered: false },
      init.privateKey,
    );
    this.#heartbeatIntervalMs = init.heartbeatIntervalMs;
  }

  /** The relay under this transport while started (for the service node, tests and benchmarks). */
  get relay(): WakuRelay | undefined {
    return this.session?.relay;
  }

  protected override async publishOn(
    node: RelayNode,
    contentTopic: string,
    payload: Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<PublishResult> {
    const pubsubTopic = this.pubsubTopicFor(contentTopic);
    const timestampNs = this.timestamps.nextNs();
    const { publishTimeoutMs } = this.options;
    const deadline = performance.now() + publishTimeoutMs;
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
        if (!this.isCurrent(node)) throw new NotStartedError("publish");
        if (isNoPeersError(error)) {
          throw new NoPeersError(
            `no relay peer subscribed to ${pubsubTopic} (the shard of ${contentTopic}) within ${publishTimeoutMs} ms`,
            { cause: error },
          );
        }
        throw error;
      }
      throwIfAborted(signal, "publish");
      if (!this.isCurrent(node)) throw new NotStartedError("publish");
      const result = await node.relay.publishMessage(
        pubsubTopic,
        { contentTopic, payload, timestampNs },
        { allowZeroPeers: false },
      );
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
          `no relay peer accepted the message on ${pubsubTopic} within ${publishTimeoutMs} ms`,
        );
      }
      await sleep(publishRetryDelayMs, signal, abortErrorFor("publish"));
    }
  }

  async subscribe(
    contentTopics: readonly string[],
    handler: MessageHandler,
    options: CallOptions = {},
  ): Promise<Subscription> {
    throwIfAborted(options.signal, "subscribe");
    this.requireSession("subscribe");
    const topics = [...this.checkSubscription(contentTopics, handler).keys()];
    throwIfAborted(options.signal, "subscribe");
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
    const node = this.requireSession("queryHistory");
    if (!this.capabilities.history) {
      throw new HistoryUnsupportedError('wakuTransport({ mode: "relay" }) without storePeers');
    }
    const plan = planStoreQuery(query, (topic) => this.pubsubTopicFor(topic));
    const { historyTimeoutMs, storePeers } = this.options;
    const deadline = performance.now() + historyTimeoutMs;
    // Store peers are dialed at start and redialed after a drop: wait for an open connection.
    const connection = await node.wakeups.until(
      () => this.#storeConnection(node),
      deadline,
      signal,
      () => this.isCurrent(node),
      "queryHistory",
    );
    if (connection === undefined) {
      if (!this.isCurrent(node)) throw new NotStartedError("queryHistory");
      throw new HistoryQueryFailedError(
        `no store peer connected within ${historyTimeoutMs} ms (storePeers: ${storePeers.join(", ")})`,
      );
    }
    return runStoreQuery(connection, plan, deadline - performance.now(), signal);
  }

  /** An open connection to one of the store peers, if any. */
  #storeConnection(node: RelayNode): Connection | undefined {
    const stores = new Set(
      node.upkeep.peers
        .filter((p) => p.peerId !== undefined && node.storeAddresses.has(p.address.toString()))
        .map((p) => p.peerId),
    );
    return node.libp2p
      .getConnections()
      .find((c) => c.status === "open" && stores.has(c.remotePeer.toString()));
  }

  // --- lifecycle ---------------------------------------------------------------------------------

  protected override async open(signal: AbortSignal | undefined): Promise<RelayNode> {
    throwIfAborted(signal, "start");
    const addresses = bootstrapAddresses(this.options);
    const transports = await libp2pTransportsFor([...addresses.listen, ...addresses.peers]);
    let libp2p: Libp2p;
    try {
      libp2p = await createLibp2pAndUpdateOptions(
        offlineNodeOptions({
          networkConfig: this.options.networkConfig,
          listen: addresses.listen,
          transports,
          privateKey: this.privateKey,
          services: {
            pubsub: wakuRelayService({
              ...(this.#heartbeatIntervalMs === undefined
                ? {}
                : { heartbeatIntervalMs: this.#heartbeatIntervalMs }),
              // A peer hung up over a broken stream is redialed (a bootstrap peer) or redials us.
              onBrokenStream: (_peerId, reason) =>
                this.events.diagnostic({
                  component: "transport-waku/relay",
                  reason: `hung-up-${reason}`,
                }),
            }),
          },
        }),
      );
    } catch (error) {
      throw new TransportStartError(`cannot create the libp2p node (${describeError(error)})`, {
        cause: error,
      });
    }
    try {
      await libp2p.start();
    } catch (error) {
      await stopQuietly(libp2p);
      throw new TransportStartError(
        `cannot listen on ${this.options.listen.join(", ") || "(nothing)"} (${describeError(error)})`,
        { cause: error },
      );
    }
    // Keep the generated identity: a restarted transport keeps its peer id and `/p2p/…` addresses.
    this.privateKey ??= libp2p.components?.privateKey;
    if (signal?.aborted) {
      await stopQuietly(libp2p);
      throw new AbortError("start", { cause: signal.reason });
    }
    const relay = new WakuRelay(libp2p, this.options.pubsubTopics, {
      maxMessageBytes: this.capabilities.maxPayloadBytes + envelopeAllowanceBytes,
      onDiagnostic: (diagnostic) => this.events.diagnostic(diagnostic),
    });
    const upkeep = connectionUpkeep(
      {
        peers: addresses.peers,
        ...this.options.reconnect,
        resetBackoffOn: "confirmed",
        silentPeers: {
          graceMs: silentPeerGraceMs,
          isSilent: (peer) => this.#isSilent(relay, peer),
        },
      },
      { libp2p },
    );
    const refresh = () => {
      if (!this.isCurrent(node)) return;
      this.#refreshStatus(node);
      node.wakeups.wake();
    };
    const refreshSoon = () => queueMicrotask(refresh);
    const stopWaking = upkeep.on("peer:dialed", () => {
      if (this.isCurrent(node)) node.wakeups.wake();
    });
    const stopReporting = reportDialFailures(upkeep, this.events);
    const stopObserving = relay.observe(this.#onMessage);
    libp2p.addEventListener("peer:connect", refreshSoon);
    libp2p.addEventListener("peer:disconnect", refreshSoon);
    relay.gossipSub.addEventListener("subscription-change", refreshSoon);
    const node: RelayNode = {
      libp2p,
      relay,
      upkeep,
      storeAddresses: addresses.storeAddresses,
      wakeups: new Wakeups(),
      detach: () => {
        stopObserving();
        stopWaking();
        stopReporting();
        libp2p.removeEventListener("peer:connect", refreshSoon);
        libp2p.removeEventListener("peer:disconnect", refreshSoon);
        relay.gossipSub.removeEventListener("subscription-change", refreshSoon);
      },
    };
    return node;
  }

  protected override opened(node: RelayNode): void {
    node.upkeep.start();
  }

  protected override async close(node: RelayNode): Promise<void> {
    node.upkeep.stop();
    node.wakeups.wake();
    node.detach();
    node.relay.stop();
    for (const set of this.#subscriptions.values()) for (const entry of set) entry.active = false;
    this.#subscriptions.clear();
    await node.libp2p.stop();
  }

  // --- peers and status --------------------------------------------------------------------------

  #refreshStatus(node: RelayNode): void {
    const connected = new Set(node.libp2p.getPeers().map((id) => id.toString()));
    const carriers = new Set<string>();
    for (const topic of this.options.pubsubTopics) {
      for (const id of node.relay.getTopicPeers(topic)) {
        const key = id.toString();
        if (connected.has(key)) carriers.add(key);
      }
    }
    for (const id of carriers) node.upkeep.confirm(id);
    this.setStatus(carriers.size > 0 ? "online" : "connecting", carriers.size);
  }

  /** Whether a relay peer never told us its subscriptions (see {@link silentPeerGraceMs}). */
  #isSilent(relay: WakuRelay, peerId: PeerId): boolean {
    const speaksRelay = relay.gossipSub.getPeers().some((p) => p.equals(peerId));
    if (!speaksRelay) return false;
    return !this.options.pubsubTopics.some((topic) =>
      relay.getTopicPeers(topic).some((p) => p.equals(peerId)),
    );
  }

  // --- messages ----------------------------------------------------------------------------------

  readonly #onMessage: RelayMessageListener = (_pubsubTopic, message, _bytes, _local, context) => {
    const entries = this.#subscriptions.get(message.contentTopic);
    if (!entries || entries.size === 0) return;
    const contentTopic = message.contentTopic;
    const timestamp = wakuMessageTimestampMs(message);
    const id = context.hashHex;
    for (const entry of [...entries]) {
      if (!entry.active) continue;
      // Each handler gets its own copy: the decoded payload is a view into the wire bytes gossipsub
      // caches and forwards, and one handler mutating its bytes must not change another's.
      const copy: TransportMessage = {
        contentTopic,
        payload: plainBytes(message.payload),
        timestamp,
        id,
      };
      invokeHandler(this.events, entry.handler, copy);
    }
  };
}
