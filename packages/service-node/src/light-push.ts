/**
 * Waku LightPush v3 (19/WAKU2-LIGHTPUSH), server side: `/vac/waku/lightpush/3.0.0`. A light node
 * sends one LightPushRequestV3 per stream; we validate it, hand the message to the node (archive,
 * filter subscribers, relay) and answer one LightPushResponseV3 with nwaku's status codes.
 */
import { type DiagnosticSink, reportDiagnostic } from "@orgchat/base";
import { pubsubTopicFor } from "@orgchat/transport-waku/relay";
import type { NetworkConfig } from "@waku/interfaces";
import { proto_lightpush } from "@waku/proto";
import { isAutoSharding } from "@waku/utils";
import {
  commonStatus,
  type ProtocolHandler,
  tooManyRequestsDescription,
} from "./protocol-server.js";
import type { RequestRateLimiter } from "./rate-limit.js";

/** Protocol id of LightPush v3. */
export const lightPushCodec = "/vac/waku/lightpush/3.0.0";

/** Status codes of LightPushResponseV3 (nwaku `waku_lightpush/common.nim`). */
export const lightPushStatus = {
  ...commonStatus,
  payloadTooLarge: 413,
  invalidMessage: 420,
  unsupportedPubsubTopic: 421,
  internalServerError: 500,
  serviceNotAvailable: 503,
  noPeersToRelay: 505,
} as const;

/** nwaku reads a light push request of up to the message limit plus 64 KiB (`DefaultMaxRpcSize`). */
export const lightPushRequestOverheadBytes = 64 * 1024;

/** 14/WAKU2-MESSAGE: `meta` "MUST NOT exceed 64 bytes". */
export const maxMetaBytes = 64;

/** A WakuMessage as decoded from the wire. */
export type WakuMessage = proto_lightpush.WakuMessage;

/** What the node did with an accepted message. */
export interface AcceptResult {
  /** Relay peers the message was sent to. */
  readonly relayPeers: number;
  /** The node had already seen this message (same hash): nothing was done again. */
  readonly duplicate: boolean;
}

/** What the light push handler needs from the node. */
export interface LightPushContext {
  /** Largest payload accepted, bytes. */
  readonly maxPayloadBytes: number;
  /** Largest encoded message accepted (payload plus the rest of the envelope), bytes. */
  readonly maxMessageBytes: number;
  /**
   * Answer 505 NO_PEERS_TO_RELAY when the message reached no relay peer (nwaku's behaviour). When
   * false, reaching only this node's store and filter subscribers counts as success.
   */
  readonly requireRelayPeers: boolean;
  /** Whether this node relays `pubsubTopic`. */
  servesPubsubTopic(pubsubTopic: string): boolean;
  /** The pubsub topic auto-sharding assigns to `contentTopic`, or undefined when it cannot. */
  pubsubTopicFor(contentTopic: string): string | undefined;
  /**
   * Stores, pushes to filter subscribers and relays the message (`bytes` is its encoding; `peer`
   * the light push client, when known, whose storage quota it counts against). May throw (answered
   * with 500).
   */
  accept(
    pubsubTopic: string,
    message: WakuMessage,
    bytes: Uint8Array,
    peer?: string,
  ): Promise<AcceptResult>;
  /** Told about requests that do not decode and messages `accept` failed on. */
  readonly onDiagnostic?: DiagnosticSink;
}

const component = "service-node/light-push";

/** Encodes a LightPushResponseV3. */
export function lightPushResponse(
  requestId: string,
  statusCode: number,
  statusDesc?: string,
  relayPeerCount?: number,
): Uint8Array {
  return proto_lightpush.LightPushResponseV3.encode({
    requestId,
    statusCode,
    ...(statusDesc === undefined ? {} : { statusDesc }),
    ...(relayPeerCount === undefined ? {} : { relayPeerCount }),
  });
}

/**
 * Handles one LightPushRequestV3 and returns the encoded response. Never throws: malformed input gets
 * 400, invalid messages 420, oversize payloads 413, unknown shards 421, failures 500.
 *
 * @param bytes - the request frame
 * @param context - what the handler needs from the node
 * @param peer - the requesting peer's id, passed on to `accept` (its storage quota)
 * @returns the encoded LightPushResponseV3
 */
export async function handleLightPushRequest(
  bytes: Uint8Array,
  context: LightPushContext,
  peer?: string,
): Promise<Uint8Array> {
  let request: proto_lightpush.LightPushRequestV3;
  try {
    request = proto_lightpush.LightPushRequestV3.decode(bytes);
  } catch (error) {
    reportDiagnostic(context.onDiagnostic, { component, reason: "undecodable", error });
    return lightPushResponse(
      "N/A",
      lightPushStatus.badRequest,
      "failed to decode LightPushRequestV3",
    );
  }
  const { requestId, message } = request;
  if (message === undefined) {
    return lightPushResponse(requestId, lightPushStatus.badRequest, "message is missing");
  }
  if (message.contentTopic === "") {
    return lightPushResponse(
      requestId,
      lightPushStatus.invalidMessage,
      "content topic must not be empty",
    );
  }
  if (message.payload.length === 0) {
    return lightPushResponse(
      requestId,
      lightPushStatus.invalidMessage,
      "payload must not be empty",
    );
  }
  if (message.payload.length > context.maxPayloadBytes) {
    return lightPushResponse(
      requestId,
      lightPushStatus.payloadTooLarge,
      `payload of ${message.payload.length} bytes exceeds the limit of ${context.maxPayloadBytes} bytes`,
    );
  }
  if (message.meta !== undefined && message.meta.length > maxMetaBytes) {
    return lightPushResponse(
      requestId,
      lightPushStatus.invalidMessage,
      `meta must not exceed ${maxMetaBytes} bytes`,
    );
  }
  let pubsubTopic = request.pubsubTopic;
  if (pubsubTopic === undefined || pubsubTopic.trim() === "") {
    // nwaku derives the shard from the content topic when the request names none (auto-sharding).
    pubsubTopic = context.pubsubTopicFor(message.contentTopic);
    if (pubsubTopic === undefined) {
      return lightPushResponse(
        requestId,
        lightPushStatus.invalidMessage,
        `invalid content topic for auto-sharding: ${message.contentTopic}`,
      );
    }
  }
  if (!context.servesPubsubTopic(pubsubTopic)) {
    return lightPushResponse(
      requestId,
      lightPushStatus.unsupportedPubsubTopic,
      `pubsub topic ${pubsubTopic} is not served by this node`,
    );
  }
  const encoded = proto_lightpush.WakuMessage.encode(message);
  if (encoded.length > context.maxMessageBytes) {
    return lightPushResponse(
      requestId,
      lightPushStatus.payloadTooLarge,
      `message of ${encoded.length} bytes exceeds the limit of ${context.maxMessageBytes} bytes`,
    );
  }
  let result: AcceptResult;
  try {
    result = await context.accept(pubsubTopic, message, encoded, peer);
  } catch (error) {
    reportDiagnostic(context.onDiagnostic, {
      component,
      reason: "accept-failed",
      topic: message.contentTopic,
      error,
    });
    // Internal details (paths, SQL) stay on this node.
    return lightPushResponse(
      requestId,
      lightPushStatus.internalServerError,
      "the service node could not take the message",
    );
  }
  if (!result.duplicate && result.relayPeers === 0 && context.requireRelayPeers) {
    return lightPushResponse(
      requestId,
      lightPushStatus.noPeersToRelay,
      "No peers for topic, skipping publish",
    );
  }
  return lightPushResponse(requestId, lightPushStatus.ok, undefined, result.relayPeers);
}

/**
 * The pubsub topic auto-sharding assigns to a content topic under `networkConfig` (what
 * {@link LightPushContext.pubsubTopicFor} needs): undefined for static sharding or a content topic
 * auto-sharding cannot place (reported to `onDiagnostic`).
 */
export function autoShardPubsubTopic(
  networkConfig: NetworkConfig,
  onDiagnostic?: DiagnosticSink,
): (contentTopic: string) => string | undefined {
  return (contentTopic) => {
    if (!isAutoSharding(networkConfig)) return undefined;
    try {
      return pubsubTopicFor(contentTopic, networkConfig);
    } catch (error) {
      reportDiagnostic(onDiagnostic, {
        component,
        reason: "invalid-content-topic",
        topic: contentTopic,
        error,
      });
      return undefined;
    }
  };
}

/**
 * LightPush v3 as the protocol server mounts it: rate limited per peer, requests up to the message
 * limit plus nwaku's RPC overhead, answered by {@link handleLightPushRequest}.
 *
 * @param context - what the handler needs from the node
 * @param limiter - the per-peer request budget
 * @returns the handler to mount
 */
export function lightPushProtocol(
  context: LightPushContext,
  limiter: RequestRateLimiter,
): ProtocolHandler {
  const maxRequestBytes = context.maxMessageBytes + lightPushRequestOverheadBytes;
  return {
    codec: lightPushCodec,
    name: "light-push",
    maxRequestBytes,
    maxInboundStreams: 256,
    rateLimit: {
      limiter,
      reply: () =>
        lightPushResponse("N/A", lightPushStatus.tooManyRequests, tooManyRequestsDescription),
    },
    tooLarge: () =>
      lightPushResponse(
        "N/A",
        lightPushStatus.payloadTooLarge,
        `request exceeds ${maxRequestBytes} bytes`,
      ),
    malformed: () =>
      lightPushResponse("N/A", lightPushStatus.badRequest, "malformed request frame"),
    respond: (bytes, connection) =>
      handleLightPushRequest(bytes, context, connection.remotePeer.toString()),
  };
}
