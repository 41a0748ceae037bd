/**
 * The libp2p service of Waku Relay: gossipsub 14.1.x mounted as `/vac/waku/relay/2.0.0` with the
 * settings nwaku and js-waku use ({@link wakuRelayService}). Re-exported by `relay.ts`.
 *
 * @packageDocumentation
 */

import {
  GossipSub,
  type GossipSubComponents,
  type GossipsubOpts,
} from "@chainsafe/libp2p-gossipsub";
import type { Message } from "@libp2p/interface";
import { batchOutboundStreams } from "./outbound-batching.js";
import { messageIdKey, sha256 } from "./relay-hashes.js";
import { relayScoreParams } from "./relay-score.js";
import { type BrokenRelayStream, watchRelayStreams } from "./relay-streams.js";

/** The libp2p protocol id of Waku Relay (11/WAKU2-RELAY). */
export const relayCodec = "/vac/waku/relay/2.0.0";

/** Options of {@link wakuRelayService}. */
export interface WakuRelayServiceInit {
  /** Gossipsub heartbeat; the mesh forms on heartbeats (use 100 in tests). @default 1000 */
  readonly heartbeatIntervalMs?: number;
  /**
   * Publish even when no peer is subscribed to the topic (the message then reaches nobody). A service
   * node sets it so that light push still stores a message with no relay peer. @default false
   */
  readonly allowPublishToZeroTopicPeers?: boolean;
  /**
   * Further gossipsub options (mesh degrees, scoring, …). `maxOutboundBufferSize` defaults to
   * {@link relayOutboundBufferBytes} (gossipsub's own default is unbounded), `msgIdToStrFn` to
   * {@link messageIdKey}, `batchPublish` to true (one RPC encoding per publish). The Waku settings (`globalSignaturePolicy`, `msgIdFn`,
   * `fallbackToFloodsub`, `emitSelf`) always win.
   */
  readonly gossipsub?: Partial<GossipsubOpts>;
  /**
   * Told when a peer is hung up because one of its relay streams broke while the connection stayed
   * open (`relay-streams.ts`): the connection is closed so that both sides start clean.
   * @default none
   */
  readonly onBrokenStream?: (peerId: string, reason: BrokenRelayStream) => void;
}

/**
 * At most this many bytes wait in the outbound stream to one peer (gossipsub's
 * `maxOutboundBufferSize`, unbounded by default). A peer that stops reading would otherwise make
 * this node hold every message meant for it; beyond the cap gossipsub drops what it sends that peer
 * (it logs "Cannot send rpc") and the peer's score and the connection upkeep deal with it. 8 MiB is
 * about 30,000 messages of 256 B, far more than a healthy peer lags.
 */
export const relayOutboundBufferBytes = 8 * 1024 * 1024;

/**
 * The libp2p service factory for Waku Relay: mount as `services.pubsub`. Gossipsub with
 * `multicodecs = ["/vac/waku/relay/2.0.0"]` (set here, before libp2p starts it), `StrictNoSign`,
 * message id = sha256(data), no floodsub fallback and no self-delivery: wire-compatible with nwaku.
 * Locally, message ids are keyed by {@link messageIdKey} (overridable through `gossipsub`).
 * @example
 * ```ts
 * createLibp2pAndUpdateOptions({ libp2p: { services: { pubsub: wakuRelayService({ heartbeatIntervalMs: 100 }) } } });
 * ```
 */
export function wakuRelayService(
  init: WakuRelayServiceInit = {},
): (components: GossipSubComponents) => GossipSub {
  return (components) => {
    const options: Partial<GossipsubOpts> = {
      // IDONTWANT is gossipsub 1.2 (`/meshsub/1.2.0`): a relay speaks only `/vac/waku/relay/2.0.0`,
      // so gossipsub would build one for every message and send it to nobody. Never build it.
      idontwantMinDataSize: Number.MAX_SAFE_INTEGER,
      maxOutboundBufferSize: relayOutboundBufferBytes,
      msgIdToStrFn: messageIdKey,
      // A publish encodes its RPC once for all the peers it goes to, not once per peer (pending
      // control messages then leave with the next heartbeat instead of riding along).
      batchPublish: true,
      ...init.gossipsub,
      scoreParams: relayScoreParams(init.gossipsub?.scoreParams),
      allowPublishToZeroTopicPeers: init.allowPublishToZeroTopicPeers ?? false,
      emitSelf: false,
      globalSignaturePolicy: "StrictNoSign",
      msgIdFn: (message: Message) => sha256(message.data),
      fallbackToFloodsub: false,
    };
    if (init.heartbeatIntervalMs !== undefined)
      options.heartbeatInterval = init.heartbeatIntervalMs;
    const pubsub = new GossipSub(components, options);
    pubsub.multicodecs = [relayCodec];
    // A stream that breaks on a live connection hangs the peer up: gossipsub would keep a dead
    // stream (or a forgotten peer) for as long as the connection lives.
    const onClosed = watchRelayStreams(
      pubsub,
      components.connectionManager,
      init.onBrokenStream && ((peerId, reason) => init.onBrokenStream?.(peerId.toString(), reason)),
    );
    // A burst of publishes or forwards to a peer leaves as one write per turn, not one per message.
    batchOutboundStreams(pubsub, undefined, onClosed);
    return pubsub;
  };
}
