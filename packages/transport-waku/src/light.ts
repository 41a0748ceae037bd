/**
 * Light mode: the orgchat `Transport` over a `@waku/sdk` light node (`createLightNode()`) and one or
 * more service nodes — LightPush v3 to publish, Filter v2 to receive, Store v3 for history. The node
 * listens on nothing by default (a browser cannot) and relays nothing.
 *
 * The seams (`../shared/research/js-waku-transport.md` §3.3 for the why of each):
 * - `light-session.ts`: startup and readiness (our own `peer:identify` tracking, the connection
 *   upkeep);
 * - `light-push.ts`: publishing (light push with `autoRetry: false`, our own retries until the
 *   publish deadline);
 * - `light-filter.ts`: subscriptions (Filter v2; the SDK's filter calls one at a time per pubsub
 *   topic, as overlapping first subscribes orphaned all but one; every decoder removed before
 *   `stop()`, so the SDK's per-topic intervals are cleared and the process can exit);
 * - history (here) speaks Store v3 directly on the light node's connection (`store-query.ts`, shared with
 *   relay mode): the SDK's store client splits ranges longer than 24 h into sequential sub-queries
 *   (the first page of a backward query would be the oldest day) and hides the server's pagination
 *   cursor (so it cannot tell a last page).
 */

import type { PrivateKey } from "@libp2p/interface";
import {
  type CallOptions,
  type HistoryPage,
  type HistoryQuery,
  HistoryQueryFailedError,
  type MessageHandler,
  type PublishResult,
  type Subscription,
} from "@orgchat/transport";
import { throwIfAborted } from "@orgchat/transport/implement";
import { LightSubscriptions } from "./light-filter.js";
import { LightPublisher } from "./light-push.js";
import {
  closeLightSession,
  type LightSession,
  openLightSession,
  storeConnection,
} from "./light-session.js";
import type { WakuTransport, WakuTransportInit } from "./node-options.js";
import { planStoreQuery, runStoreQuery } from "./store-query.js";
import { resolveWakuOptions, WakuTransportBase } from "./transport-base.js";

/** Options of light mode: {@link WakuTransportInit} with `mode: "light"`. */
export interface WakuLightTransportInit extends WakuTransportInit {
  readonly mode: "light";
  /**
   * Deadline of one history query (open a stream, send, read the page), ms.
   * @default 10_000
   */
  readonly historyTimeoutMs?: number;
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

class WakuLightTransport extends WakuTransportBase<LightSession> {
  readonly #publisher: LightPublisher;
  readonly #subscriptions: LightSubscriptions;

  constructor(init: WakuLightTransportInit | Omit<WakuLightTransportInit, "mode">) {
    if ("mode" in init && init.mode !== "light") {
      throw new TypeError(`wakuLightTransport: mode must be "light", got ${String(init.mode)}`);
    }
    super(
      resolveWakuOptions(init, []),
      { history: true, selfDelivery: true, ordered: false },
      init.privateKey,
    );
    this.#publisher = new LightPublisher({
      capabilities: this.capabilities,
      publishTimeoutMs: this.options.publishTimeoutMs,
      staticShard: this.options.staticShard,
      timestamps: this.timestamps,
    });
    this.#subscriptions = new LightSubscriptions({
      events: this.events,
      publishTimeoutMs: this.options.publishTimeoutMs,
      staticShard: this.options.staticShard,
      currentSession: () => this.session,
    });
  }

  protected override async publishOn(
    session: LightSession,
    contentTopic: string,
    payload: Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<PublishResult> {
    return this.#publisher.publish(session, contentTopic, payload, signal);
  }

  async subscribe(
    contentTopics: readonly string[],
    handler: MessageHandler,
    options: CallOptions = {},
  ): Promise<Subscription> {
    const { signal } = options;
    throwIfAborted(signal, "subscribe");
    const session = this.requireSession("subscribe");
    const byPubsub = new Map<string, string[]>();
    for (const [topic, pubsubTopic] of this.checkSubscription(contentTopics, handler)) {
      const list = byPubsub.get(pubsubTopic) ?? [];
      list.push(topic);
      byPubsub.set(pubsubTopic, list);
    }
    return this.#subscriptions.subscribe(session, byPubsub, contentTopics, handler, signal);
  }

  async queryHistory(query: HistoryQuery, options: CallOptions = {}): Promise<HistoryPage> {
    const { signal } = options;
    throwIfAborted(signal, "queryHistory");
    const session = this.requireSession("queryHistory");
    const plan = planStoreQuery(query, (topic) => this.pubsubTopicFor(topic));
    const { historyTimeoutMs, storePeers } = this.options;
    const deadline = performance.now() + historyTimeoutMs;
    const connection = await session.wakeups.until(
      () => storeConnection(session, storePeers.length === 0),
      deadline,
      signal,
      () => !session.closed,
      "wait for a service node",
    );
    if (connection === undefined) {
      throw new HistoryQueryFailedError(`no store node connected within ${historyTimeoutMs} ms`);
    }
    return runStoreQuery(connection, plan, deadline - performance.now(), signal);
  }

  protected override async open(signal: AbortSignal | undefined): Promise<LightSession> {
    const session = await openLightSession(
      {
        options: this.options,
        privateKey: this.privateKey,
        events: this.events,
        onReadinessChanged: (changed) => this.#refreshStatus(changed),
      },
      signal,
    );
    this.privateKey ??= session.privateKey as PrivateKey | undefined;
    return session;
  }

  protected override opened(session: LightSession): void {
    session.upkeep.start();
  }

  protected override async close(session: LightSession): Promise<void> {
    closeLightSession(session);
    await this.#subscriptions.endAll(session);
    this.#publisher.clear();
    await session.node.stop();
  }

  #refreshStatus(session: LightSession): void {
    if (!this.isCurrent(session)) return;
    const carriers = session.carriers.size;
    this.setStatus(carriers > 0 ? "online" : "connecting", carriers);
    session.wakeups.wake();
  }
}
