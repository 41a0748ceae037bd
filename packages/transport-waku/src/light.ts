/**
 * Light mode: the orgchat `Transport` over a `@waku/sdk` light node (`createLightNode()`) and one or
 * more service nodes — LightPush v3 to publish, Filter v2 to receive, Store v3 for history. The node
 * listens on nothing by default (a browser cannot) and relays nothing.
 *
 * What this module does around the SDK, and why (`../shared/research/js-waku-transport.md` §3.3):
 * - readiness comes from our own `peer:identify` tracking, not `waitForPeers()` (which can resolve
 *   before the peer's protocols are known and leaves its timeout timer armed);
 * - light push runs with `autoRetry: false` (the SDK's retry queue re-sends even after a success) and
 *   this transport retries transient failures itself until the publish deadline;
 * - every filter subscription is removed decoder by decoder before `stop()`, so the SDK's per-topic
 *   intervals (1 s, 5 s, 60 s) are cleared and the process can exit;
 * - history speaks Store v3 directly on the light node's connection (`store-query.ts`, shared with
 *   relay mode): the SDK's store client splits ranges longer than 24 h into sequential sub-queries
 *   (the first page of a backward query would be the oldest day) and hides the server's pagination
 *   cursor (so it cannot tell a last page).
 */

import type { Connection, IdentifyResult, PeerId, PrivateKey } from "@libp2p/interface";
import {
  AbortError,
  assertContentTopic,
  assertPublishable,
  type CallOptions,
  EmptyPayloadError,
  type HistoryPage,
  type HistoryQuery,
  HistoryQueryFailedError,
  type MessageHandler,
  NoPeersError,
  NotStartedError,
  PayloadTooLargeError,
  type PublishResult,
  raceAbort,
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
import { FilterCodecs, LightPushCodec, StoreCodec } from "@waku/core";
import {
  type IDecodedMessage,
  type IDecoder,
  type IEncoder,
  type IMessage,
  type IProtoMessage,
  type LightNode,
  LightPushError,
  type NetworkConfig,
} from "@waku/interfaces";
import { proto_message } from "@waku/proto";
import { createLightNode } from "@waku/sdk";
import { isAutoSharding } from "@waku/utils";
import {
  type ConnectionUpkeep,
  connectionUpkeep,
  type RedialBackoff,
  redialBackoff,
} from "./connection-upkeep.js";
import {
  libp2pTransportsFor,
  offlineNodeOptions,
  parseAddresses,
  plainBytes,
  transportLimits,
  type WakuTransport,
  type WakuTransportInit,
} from "./node-options.js";
import { messageHashHex, pubsubTopicFor, shardPubsubTopics } from "./relay.js";
import { defaultHistoryTimeoutMs, planStoreQuery, runStoreQuery } from "./store-query.js";
import {
  invokeHandler,
  LifecycleQueue,
  StatusTracker,
  UniqueTimestamps,
} from "./transport-common.js";

/** Options of light mode: {@link WakuTransportInit} with `mode: "light"`. */
export interface WakuLightTransportInit extends WakuTransportInit {
  readonly mode: "light";
  /**
   * Deadline of one history query (open a stream, send, read the page), ms.
   * @default 10_000
   */
  readonly historyTimeoutMs?: number;
}

/** Pause between two attempts of a publish or subscribe that failed for a transient reason (ms). */
const retryDelayMs = 50;
/**
 * Light pushes in flight per transport. libp2p allows 64 outbound streams per protocol and connection
 * by default; more parallel `lightPush.send` calls would fail with "No stream available".
 */
const maxConcurrentPushes = 32;

interface LightSession {
  readonly node: LightNode;
  /** Dials the service and store nodes, redials them with backoff. */
  readonly upkeep: ConnectionUpkeep;
  /** History goes to these addresses (`storePeers`; any connected store node when empty). */
  readonly storeAddresses: ReadonlySet<string>;
  /** Identified peers that serve light push and filter (the ones that carry our traffic). */
  readonly carriers: Set<string>;
  /** Identified peers that serve Store v3. */
  readonly stores: Set<string>;
  readonly waiters: Set<() => void>;
  readonly detach: () => void;
}

interface SubscriptionEntry {
  readonly handler: MessageHandler;
  /** pubsub topic → the decoders registered with the SDK filter for this subscription */
  readonly decoders: Map<string, IDecoder<IDecodedMessage>[]>;
  active: boolean;
}

/**
 * Creates a light-mode Waku transport (not started). `peers` are the service nodes (LightPush v3,
 * Filter v2, Store v3), e.g. `orgchat-node` or nwaku; `storePeers`, when given, are the nodes history
 * queries go to (they are dialed too).
 *
 * - `capabilities`: `history` true (Store v3 on the service nodes), `selfDelivery` true (the service
 *   node pushes a message to every filter subscriber of its content topic, the publisher included),
 *   `ordered` false, `maxPayloadBytes` 153,600 by default.
 * - `listen` defaults to `[]`: a light node only dials.
 * - `publish` waits up to `publishTimeoutMs` for a service node and retries transient light push
 *   failures until then; it throws `NoPeersError` when none accepted the message.
 * - `subscribe` resolves once a service node confirmed the filter subscription (`NoPeersError` after
 *   `publishTimeoutMs` otherwise). After a service node restarts, the SDK subscribes again when the
 *   transport has reconnected (redials use exponential backoff).
 * - `queryHistory` pages Store v3 (cursor = message hash, hex); content topics of one query must share
 *   a shard and number at most 10 (the server's limit).
 *
 * @example
 * ```ts
 * import { wakuLightTransport } from "@orgchat/transport-waku";
 *
 * const transport = wakuLightTransport({ mode: "light", peers: ["/ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooW…"] });
 * await transport.start();
 * await transport.subscribe(["/org-chat/1/general/proto"], (m) => console.log(m.payload));
 * await transport.publish("/org-chat/1/general/proto", new TextEncoder().encode("hi"));
 * const page = await transport.queryHistory({ contentTopics: ["/org-chat/1/general/proto"] });
 * await transport.stop();
 * ```
 * @throws RangeError / TypeError for invalid options (bad multiaddrs are reported by `start()`)
 */
export function wakuLightTransport(
  init: WakuLightTransportInit | Omit<WakuLightTransportInit, "mode">,
): WakuTransport {
  return new WakuLightTransport(init);
}

class WakuLightTransport implements WakuTransport {
  readonly capabilities: TransportCapabilities;

  readonly #networkConfig: NetworkConfig;
  readonly #staticShard: number | undefined;
  readonly #listen: readonly string[];
  readonly #peers: readonly string[];
  readonly #storePeers: readonly string[];
  readonly #publishTimeoutMs: number;
  readonly #historyTimeoutMs: number;
  readonly #reconnect: RedialBackoff;
  readonly #now: () => number;
  readonly #events = new TransportEventEmitter();
  readonly #statusTracker = new StatusTracker(this.#events);
  readonly #timestamps: UniqueTimestamps;
  readonly #subscriptions = new Set<SubscriptionEntry>();
  readonly #encoders = new Map<string, IEncoder>();
  #privateKey: PrivateKey | undefined;
  #session: LightSession | undefined;
  #pushesInFlight = 0;
  readonly #pushQueue: (() => void)[] = [];
  readonly #lifecycle = new LifecycleQueue();

  constructor(init: WakuLightTransportInit | Omit<WakuLightTransportInit, "mode">) {
    if ("mode" in init && init.mode !== "light") {
      throw new TypeError(`wakuLightTransport: mode must be "light", got ${String(init.mode)}`);
    }
    const limits = transportLimits(init);
    this.#networkConfig = limits.networkConfig;
    this.#publishTimeoutMs = limits.publishTimeoutMs;
    // Validates the shard list against the network (throws RangeError like relay mode).
    shardPubsubTopics(this.#networkConfig, init.shards);
    this.#staticShard = isAutoSharding(this.#networkConfig) ? undefined : (init.shards?.[0] ?? 0);
    this.#listen = [...(init.listen ?? [])];
    this.#peers = [...(init.peers ?? [])];
    this.#storePeers = [...(init.storePeers ?? [])];
    const historyTimeoutMs = init.historyTimeoutMs ?? defaultHistoryTimeoutMs;
    if (!(historyTimeoutMs > 0)) {
      throw new RangeError(`historyTimeoutMs must be positive, got ${init.historyTimeoutMs}`);
    }
    this.#historyTimeoutMs = historyTimeoutMs;
    this.#reconnect = redialBackoff(init.reconnect);
    this.#privateKey = init.privateKey;
    this.#now = init.now ?? Date.now;
    this.#timestamps = new UniqueTimestamps(this.#now);
    this.capabilities = Object.freeze({
      history: true,
      selfDelivery: true,
      ordered: false,
      maxPayloadBytes: limits.maxPayloadBytes,
    });
  }

  get status(): TransportStatus {
    return this.#statusTracker.status;
  }

  get multiaddrs(): readonly string[] {
    return this.#session ? this.#session.node.libp2p.getMultiaddrs().map((a) => a.toString()) : [];
  }

  get peerId(): string | undefined {
    return this.#session?.node.libp2p.peerId.toString();
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

  // --- publish -----------------------------------------------------------------------------------

  async publish(
    contentTopic: string,
    payload: Uint8Array,
    options: CallOptions = {},
  ): Promise<PublishResult> {
    const { signal } = options;
    throwIfAborted(signal, "publish");
    const session = this.#requireSession("publish");
    assertPublishable(contentTopic, payload, this.capabilities);
    const base = this.#encoderFor(contentTopic, session);
    const timestampNs = this.#nextTimestampNs();
    const encoder = withTimestamp(base, timestampNs);
    const bytes = payload.slice();
    const id = messageHashHex(base.pubsubTopic, {
      payload: bytes,
      contentTopic,
      version: 0,
      timestamp: timestampNs,
    });
    const deadline = performance.now() + this.#publishTimeoutMs;
    let lastFailure = "no service node connected";
    await this.#acquirePush(signal);
    try {
      for (;;) {
        if (!(await this.#waitFor(session, () => session.carriers.size > 0, deadline, signal))) {
          if (this.#session !== session) throw new NotStartedError("publish");
          throw new NoPeersError(
            `no service node accepted the message within ${this.#publishTimeoutMs} ms (${lastFailure})`,
          );
        }
        if (this.#session !== session) throw new NotStartedError("publish");
        const result = await raceAbort(
          session.node.lightPush.send(encoder, { payload: bytes }, { autoRetry: false }),
          signal,
          "publish",
        );
        if (result.successes.length > 0) {
          return {
            id,
            timestamp: Number(timestampNs / 1_000_000n),
            recipients: result.successes.length,
          };
        }
        const failure = result.failures[0]?.error ?? LightPushError.GENERIC_FAIL;
        if (failure === LightPushError.SIZE_TOO_BIG) {
          throw new PayloadTooLargeError(payload.length, this.capabilities.maxPayloadBytes);
        }
        if (failure === LightPushError.EMPTY_PAYLOAD) throw new EmptyPayloadError();
        // Everything else (no peer or stream yet, stream aborted, the service node answered an error
        // status such as 429 or 503) may pass: try again until the deadline.
        lastFailure = `last attempt: ${failure}`;
        if (performance.now() >= deadline) {
          throw new NoPeersError(
            `no service node accepted the message within ${this.#publishTimeoutMs} ms (${lastFailure})`,
          );
        }
        await sleep(retryDelayMs, signal, "publish");
        if (this.#session !== session) throw new NotStartedError("publish");
      }
    } finally {
      this.#releasePush();
    }
  }

  // --- subscribe ---------------------------------------------------------------------------------

  async subscribe(
    contentTopics: readonly string[],
    handler: MessageHandler,
    options: CallOptions = {},
  ): Promise<Subscription> {
    const { signal } = options;
    throwIfAborted(signal, "subscribe");
    const session = this.#requireSession("subscribe");
    if (!Array.isArray(contentTopics) || contentTopics.length === 0) {
      throw new RangeError("subscribe: contentTopics must list at least one content topic");
    }
    if (typeof handler !== "function") throw new TypeError("subscribe: handler must be a function");
    const byPubsub = new Map<string, string[]>();
    for (const topic of new Set(contentTopics)) {
      assertContentTopic(topic);
      const pubsubTopic = this.#pubsubTopicFor(topic);
      const list = byPubsub.get(pubsubTopic) ?? [];
      list.push(topic);
      byPubsub.set(pubsubTopic, list);
    }
    const entry: SubscriptionEntry = { handler, decoders: new Map(), active: true };
    this.#subscriptions.add(entry);
    const deadline = performance.now() + this.#publishTimeoutMs;
    try {
      for (const [pubsubTopic, topics] of byPubsub) {
        await this.#subscribeGroup(session, entry, pubsubTopic, topics, deadline, signal);
      }
    } catch (error) {
      entry.active = false;
      this.#subscriptions.delete(entry);
      await this.#unsubscribeEntry(session, entry);
      throw error;
    }
    return {
      contentTopics: Object.freeze([...contentTopics]),
      unsubscribe: async (unsubscribeOptions: CallOptions = {}) => {
        throwIfAborted(unsubscribeOptions.signal, "unsubscribe");
        if (!entry.active) return;
        entry.active = false;
        this.#subscriptions.delete(entry);
        const current = this.#session;
        if (current) await this.#unsubscribeEntry(current, entry);
      },
    };
  }

  async #subscribeGroup(
    session: LightSession,
    entry: SubscriptionEntry,
    pubsubTopic: string,
    topics: readonly string[],
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    for (;;) {
      if (!(await this.#waitFor(session, () => session.carriers.size > 0, deadline, signal))) {
        if (this.#session !== session) throw new NotStartedError("subscribe");
        throw new NoPeersError(
          `no filter service node confirmed the subscription within ${this.#publishTimeoutMs} ms`,
        );
      }
      if (this.#session !== session) throw new NotStartedError("subscribe");
      // Fresh decoder objects each attempt: the SDK keys callbacks by decoder and treats a decoder
      // it already holds as subscribed, without asking the service node again.
      const decoders = topics.map((contentTopic) =>
        session.node.createDecoder(
          this.#staticShard === undefined
            ? { contentTopic }
            : { contentTopic, shardId: this.#staticShard },
        ),
      );
      entry.decoders.set(pubsubTopic, decoders);
      const callback = (message: IDecodedMessage) => this.#deliver(entry, message);
      let ok = false;
      try {
        ok = await raceAbort(
          session.node.filter.subscribe(decoders, callback),
          signal,
          "subscribe",
        );
      } catch (error) {
        if ((error as { name?: unknown }).name === "AbortError") throw error;
        ok = false;
      }
      if (ok) return;
      entry.decoders.delete(pubsubTopic);
      await session.node.filter.unsubscribe(decoders).catch(() => false);
      if (performance.now() >= deadline) {
        throw new NoPeersError(
          `no filter service node confirmed the subscription within ${this.#publishTimeoutMs} ms`,
        );
      }
      await sleep(retryDelayMs, signal, "subscribe");
    }
  }

  async #unsubscribeEntry(session: LightSession, entry: SubscriptionEntry): Promise<void> {
    for (const decoders of entry.decoders.values()) {
      // Sends UNSUBSCRIBE without waiting for a reply (js-waku's client does not read one), and
      // stops the SDK's per-topic timers once no decoder is left on the topic.
      await withTimeout(session.node.filter.unsubscribe(decoders), 2_000).catch(() => false);
    }
    entry.decoders.clear();
  }

  #deliver(entry: SubscriptionEntry, decoded: IDecodedMessage): void {
    if (!entry.active) return;
    const proto = (decoded as { proto?: IProtoMessage }).proto;
    const message: TransportMessage = {
      contentTopic: decoded.contentTopic,
      payload: plainBytes(decoded.payload),
      timestamp:
        proto?.timestamp === undefined
          ? (decoded.timestamp?.getTime() ?? 0)
          : Number(proto.timestamp / 1_000_000n),
      id: decoded.hashStr,
    };
    invokeHandler(this.#events, entry.handler, message);
  }

  // --- history -----------------------------------------------------------------------------------

  async queryHistory(query: HistoryQuery, options: CallOptions = {}): Promise<HistoryPage> {
    const { signal } = options;
    throwIfAborted(signal, "queryHistory");
    const session = this.#requireSession("queryHistory");
    const plan = planStoreQuery(query, (topic) => this.#pubsubTopicFor(topic));
    const deadline = performance.now() + this.#historyTimeoutMs;
    const hasStore = () => this.#storePeerFor(session) !== undefined;
    if (!(await this.#waitFor(session, hasStore, deadline, signal))) {
      throw new HistoryQueryFailedError(
        `no store node connected within ${this.#historyTimeoutMs} ms`,
      );
    }
    const connection = this.#storePeerFor(session) as Connection;
    return runStoreQuery(connection, plan, deadline - performance.now(), signal);
  }

  #storePeerFor(session: LightSession): Connection | undefined {
    const wanted = new Set(
      session.upkeep.peers
        .filter(
          (peer) =>
            peer.peerId !== undefined &&
            (session.storeAddresses.size === 0 ||
              session.storeAddresses.has(peer.address.toString())),
        )
        .map((peer) => peer.peerId as string),
    );
    const connections = session.node.libp2p
      .getConnections()
      .filter((c) => c.status === "open" && session.stores.has(c.remotePeer.toString()));
    return (
      connections.find((c) => wanted.has(c.remotePeer.toString())) ??
      (this.#storePeers.length === 0 ? connections[0] : undefined)
    );
  }

  // --- lifecycle ---------------------------------------------------------------------------------

  async #start(signal: AbortSignal | undefined): Promise<void> {
    if (this.#session) return;
    throwIfAborted(signal, "start");
    const listen = parseAddresses(this.#listen, "listen");
    const servicePeers = parseAddresses(this.#peers, "peer");
    const storePeers = parseAddresses(this.#storePeers, "peer");
    const known = new Set(servicePeers.map((a) => a.toString()));
    const allPeers = [...servicePeers, ...storePeers.filter((a) => !known.has(a.toString()))];
    const transports = await libp2pTransportsFor([...listen, ...allPeers]);
    let node: LightNode;
    try {
      node = await createLightNode({
        ...offlineNodeOptions({
          networkConfig: this.#networkConfig,
          listen,
          transports,
          privateKey: this.#privateKey,
        }),
        autoStart: false,
        // We redial our own peers with backoff; the SDK's recovery would add a 5 s polling timer
        // and dial cooldowns of up to 60 s.
        connectionManager: { enableAutoRecovery: false },
        lightPush: { autoRetry: false, numPeersToUse: Math.max(1, servicePeers.length) },
        numPeersToUse: Math.max(1, servicePeers.length),
        filter: { numPeersToUse: Math.max(1, servicePeers.length) },
      });
    } catch (error) {
      throw new TransportStartError(`cannot create the light node (${describe(error)})`, {
        cause: error,
      });
    }
    try {
      await node.start();
    } catch (error) {
      await stopQuietly(node);
      throw new TransportStartError(
        `cannot start the light node on ${this.#listen.join(", ") || "(no listen address)"} (${describe(error)})`,
        { cause: error },
      );
    }
    this.#privateKey ??= (
      node.libp2p as unknown as { components?: { privateKey?: PrivateKey } }
    ).components?.privateKey;
    if (signal?.aborted) {
      await stopQuietly(node);
      throw new AbortError("start", { cause: signal.reason });
    }
    const upkeep = connectionUpkeep(
      { peers: allPeers, ...this.#reconnect },
      { libp2p: node.libp2p },
    );
    const onIdentify = (event: CustomEvent<IdentifyResult>) => {
      if (this.#session !== session) return;
      const { peerId, protocols } = event.detail;
      const id = peerId.toString();
      const carries =
        protocols.includes(LightPushCodec) && protocols.includes(FilterCodecs.SUBSCRIBE);
      const stores = protocols.includes(StoreCodec);
      if (!carries && !stores) return;
      // Record the shards the service node serves before using it (the SDK then only picks it for
      // those shards); a failed handshake leaves the shards unknown, which the SDK accepts.
      const metadata = (
        node.libp2p.services as {
          metadata?: { confirmOrAttemptHandshake(peer: PeerId): Promise<unknown> };
        }
      ).metadata;
      void (
        metadata ? metadata.confirmOrAttemptHandshake(peerId).catch(() => {}) : Promise.resolve()
      ).then(() => {
        if (this.#session !== session) return;
        if (node.libp2p.getConnections(peerId).length === 0) return;
        if (carries) session.carriers.add(id);
        if (stores) session.stores.add(id);
        this.#refreshStatus(session);
      });
    };
    const onDisconnect = (event: CustomEvent<PeerId>) => {
      if (this.#session !== session) return;
      const id = event.detail.toString();
      session.carriers.delete(id);
      session.stores.delete(id);
      this.#refreshStatus(session);
    };
    node.libp2p.addEventListener("peer:identify", onIdentify);
    node.libp2p.addEventListener("peer:disconnect", onDisconnect);
    const session: LightSession = {
      node,
      upkeep,
      storeAddresses: new Set(storePeers.map((a) => a.toString())),
      carriers: new Set(),
      stores: new Set(),
      waiters: new Set(),
      detach: () => {
        node.libp2p.removeEventListener("peer:identify", onIdentify);
        node.libp2p.removeEventListener("peer:disconnect", onDisconnect);
      },
    };
    this.#session = session;
    this.#setStatus("connecting", 0);
    upkeep.start();
  }

  async #stop(): Promise<void> {
    const session = this.#session;
    if (!session) return;
    this.#session = undefined;
    session.upkeep.stop();
    session.detach();
    for (const wake of [...session.waiters]) wake();
    const entries = [...this.#subscriptions];
    this.#subscriptions.clear();
    for (const entry of entries) entry.active = false;
    // Remove every decoder first: the SDK's unsubscribeAll() would fire UNSUBSCRIBE_ALL requests
    // it does not await, which reject unhandled once libp2p is stopped under them.
    for (const entry of entries) await this.#unsubscribeEntry(session, entry);
    session.node.filter.unsubscribeAll();
    this.#encoders.clear();
    try {
      await session.node.stop();
    } finally {
      this.#setStatus("stopped", 0);
    }
  }

  // --- peers and status --------------------------------------------------------------------------

  #refreshStatus(session: LightSession): void {
    const carriers = session.carriers.size;
    this.#setStatus(carriers > 0 ? "online" : "connecting", carriers);
    for (const wake of [...session.waiters]) wake();
  }

  #setStatus(status: TransportStatus, peers: number): void {
    this.#statusTracker.set(status, peers);
  }

  /**
   * Waits until `ready()` holds, the deadline passes, or the session ends. Leaves no timer or
   * listener behind. @returns whether `ready()` holds
   * @throws AbortError
   */
  async #waitFor(
    session: LightSession,
    ready: () => boolean,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    while (!ready()) {
      throwIfAborted(signal, "wait for a service node");
      const remaining = deadline - performance.now();
      if (remaining <= 0 || this.#session !== session) return false;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          session.waiters.delete(done);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, remaining);
        session.waiters.add(done);
        signal?.addEventListener("abort", done, { once: true });
      });
    }
    return true;
  }

  // --- helpers -----------------------------------------------------------------------------------

  async #acquirePush(signal: AbortSignal | undefined): Promise<void> {
    if (this.#pushesInFlight < maxConcurrentPushes) {
      this.#pushesInFlight += 1;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = this.#pushQueue.indexOf(grant);
        if (index >= 0) this.#pushQueue.splice(index, 1);
        reject(new AbortError("publish", { cause: signal?.reason }));
      };
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        this.#pushesInFlight += 1;
        resolve();
      };
      this.#pushQueue.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #releasePush(): void {
    this.#pushesInFlight -= 1;
    this.#pushQueue.shift()?.();
  }

  #encoderFor(contentTopic: string, session: LightSession): IEncoder {
    let encoder = this.#encoders.get(contentTopic);
    if (!encoder) {
      encoder = session.node.createEncoder(
        this.#staticShard === undefined
          ? { contentTopic }
          : { contentTopic, shardId: this.#staticShard },
      );
      this.#encoders.set(contentTopic, encoder);
    }
    return encoder;
  }

  #pubsubTopicFor(contentTopic: string): string {
    return pubsubTopicFor(contentTopic, this.#networkConfig, this.#staticShard);
  }

  #nextTimestampNs(): bigint {
    return this.#timestamps.nextNs();
  }

  #requireSession(operation: string): LightSession {
    if (!this.#session) throw new NotStartedError(operation);
    return this.#session;
  }
}

/**
 * The SDK's encoders stamp messages with a millisecond `Date`; two publishes of the same payload in
 * the same millisecond would then be one message (same hash). This wrapper sets a timestamp unique
 * per transport at nanosecond resolution.
 */
function withTimestamp(base: IEncoder, timestampNs: bigint): IEncoder {
  const toProtoObj = async (message: IMessage): Promise<IProtoMessage | undefined> => {
    const proto = await base.toProtoObj(message);
    return proto === undefined ? undefined : { ...proto, timestamp: timestampNs };
  };
  return {
    contentTopic: base.contentTopic,
    ephemeral: base.ephemeral,
    routingInfo: base.routingInfo,
    pubsubTopic: base.pubsubTopic,
    toProtoObj,
    toWire: async (message) => {
      const proto = await toProtoObj(message);
      if (proto === undefined) return undefined;
      const fields: Partial<proto_message.WakuMessage> = {
        payload: proto.payload,
        contentTopic: proto.contentTopic,
        timestamp: timestampNs,
      };
      if (proto.version !== undefined) fields.version = proto.version;
      if (proto.meta !== undefined) fields.meta = proto.meta;
      if (proto.ephemeral !== undefined) fields.ephemeral = proto.ephemeral;
      return proto_message.WakuMessage.encode(fields);
    },
  };
}

async function stopQuietly(node: LightNode): Promise<void> {
  try {
    await node.stop();
  } catch {
    // Already failing: the original error is the one to report.
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Resolves after `ms`, or rejects with `AbortError`; leaves no timer or listener behind. */
function sleep(ms: number, signal: AbortSignal | undefined, operation: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortError(operation, { cause: signal.reason }));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError(operation, { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
