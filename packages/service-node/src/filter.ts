/**
 * Waku Filter v2 (12/WAKU2-FILTER), server side: the subscription table, the request handler for
 * `/vac/waku/filter-subscribe/2.0.0-beta1` and the pushes over `/vac/waku/filter-push/2.0.0-beta1`.
 * Limits and status codes follow nwaku's `waku_filter_v2` (see README, "Limits and status codes").
 */
import type { PeerId } from "@libp2p/interface";
import { type DiagnosticSink, reportDiagnostic } from "@orgchat/base";
import { proto_filter_v2 } from "@waku/proto";
import type { FilterSubscriptions } from "./filter-subscriptions.js";
import {
  commonStatus,
  type ProtocolHandler,
  tooManyRequestsDescription,
} from "./protocol-server.js";
import type { RequestRateLimiter } from "./rate-limit.js";

/** Protocol id of filter subscribe requests (the light node dials us). */
export const filterSubscribeCodec = "/vac/waku/filter-subscribe/2.0.0-beta1";
/** Protocol id of message pushes (we dial the light node). */
export const filterPushCodec = "/vac/waku/filter-push/2.0.0-beta1";

/** Status codes of FilterSubscribeResponse, as nwaku sends them. */
export const filterStatus = {
  ...commonStatus,
  notFound: 404,
  serviceUnavailable: 503,
} as const;

/** Largest filter subscribe request read, bytes (100 content topics fit many times over). */
export const maxFilterRequestBytes = 128 * 1024;

/** Limits of the filter service. */
export interface FilterLimits {
  /**
   * Distinct subscriber peers served at once; one more gets 503. nwaku: `MaxFilterPeers` = 100.
   * @default 100
   */
  readonly maxPeers: number;
  /**
   * (pubsub topic, content topic) criteria one peer may hold; going over gets 503. nwaku:
   * `MaxFilterCriteriaPerPeer` = 1000.
   * @default 1000
   */
  readonly maxCriteriaPerPeer: number;
  /**
   * Content topics in one SUBSCRIBE / UNSUBSCRIBE request; more gets 400. nwaku:
   * `MaxContentTopicsPerRequest` = 100.
   * @default 100
   */
  readonly maxContentTopicsPerRequest: number;
  /**
   * A subscriber not heard from (subscribe, unsubscribe or ping) for this long is dropped. nwaku:
   * `DefaultSubscriptionTimeToLiveSec` = 5 minutes; js-waku pings every minute.
   * @default 300_000
   */
  readonly subscriptionTimeoutMs: number;
}

/** Defaults of {@link FilterLimits} (nwaku's values). */
export const defaultFilterLimits: FilterLimits = {
  maxPeers: 100,
  maxCriteriaPerPeer: 1000,
  maxContentTopicsPerRequest: 100,
  subscriptionTimeoutMs: 5 * 60_000,
};

/** Outcome of a filter request: the status code and, for errors, a description. */
export interface FilterOutcome {
  readonly statusCode: number;
  readonly statusDesc?: string;
}

/** What the filter request handler needs to know about the node. */
export interface FilterRequestContext {
  readonly subscriptions: FilterSubscriptions;
  readonly limits: FilterLimits;
  /** Whether this node serves (relays, stores) `pubsubTopic`. */
  servesPubsubTopic(pubsubTopic: string): boolean;
  /** Told about requests that do not decode. */
  readonly onDiagnostic?: DiagnosticSink;
}

/**
 * Handles one FilterSubscribeRequest from `peer` and returns the encoded FilterSubscribeResponse.
 * Never throws: a request that does not decode gets 400.
 */
export function handleFilterSubscribeRequest(
  bytes: Uint8Array,
  peer: PeerId | string,
  context: FilterRequestContext,
): Uint8Array {
  let request: proto_filter_v2.FilterSubscribeRequest;
  try {
    request = proto_filter_v2.FilterSubscribeRequest.decode(bytes, {
      limits: { contentTopics: context.limits.maxContentTopicsPerRequest + 1 },
    });
  } catch (error) {
    const tooMany = (error as { name?: unknown }).name === "MaxLengthError";
    reportDiagnostic(context.onDiagnostic, {
      component: "service-node/filter",
      reason: tooMany ? "too-many-content-topics" : "undecodable",
      error,
    });
    return filterResponse(
      "N/A",
      tooMany
        ? badRequest(`exceeds maximum content topics: ${context.limits.maxContentTopicsPerRequest}`)
        : badRequest("failed to decode FilterSubscribeRequest"),
    );
  }
  return filterResponse(request.requestId, evaluate(request, peer.toString(), context));
}

/** Encodes a FilterSubscribeResponse. */
export function filterResponse(requestId: string, outcome: FilterOutcome): Uint8Array {
  return proto_filter_v2.FilterSubscribeResponse.encode({
    requestId,
    statusCode: outcome.statusCode,
    ...(outcome.statusDesc === undefined ? {} : { statusDesc: outcome.statusDesc }),
  });
}

function evaluate(
  request: proto_filter_v2.FilterSubscribeRequest,
  peer: string,
  context: FilterRequestContext,
): FilterOutcome {
  const { subscriptions, limits } = context;
  const type = request.filterSubscribeType as string | undefined;
  switch (type) {
    case "SUBSCRIBER_PING":
      return subscriptions.ping(peer);
    case "UNSUBSCRIBE_ALL":
      return subscriptions.unsubscribeAll(peer);
    case "SUBSCRIBE":
    case "UNSUBSCRIBE": {
      const pubsubTopic = request.pubsubTopic;
      if (pubsubTopic === undefined || pubsubTopic === "" || request.contentTopics.length === 0) {
        return badRequest("pubsubTopic and contentTopics must be specified");
      }
      if (request.contentTopics.length > limits.maxContentTopicsPerRequest) {
        return badRequest(`exceeds maximum content topics: ${limits.maxContentTopicsPerRequest}`);
      }
      if (request.contentTopics.some((topic) => topic === "")) {
        return badRequest("content topics must not be empty");
      }
      if (type === "UNSUBSCRIBE") {
        return subscriptions.unsubscribe(peer, pubsubTopic, request.contentTopics);
      }
      if (!context.servesPubsubTopic(pubsubTopic)) {
        return badRequest(`pubsub topic ${pubsubTopic} is not served by this node`);
      }
      return subscriptions.subscribe(peer, pubsubTopic, request.contentTopics);
    }
    default:
      return badRequest("unknown filterSubscribeType");
  }
}

function badRequest(statusDesc: string): FilterOutcome {
  return { statusCode: filterStatus.badRequest, statusDesc };
}

/** What {@link filterProtocol} needs besides the request handler's context. */
export interface FilterProtocolInit extends FilterRequestContext {
  /** The per-peer request budget. */
  readonly limiter: RequestRateLimiter;
  /** Called when `peer` holds no live subscription after a request (closes its push stream). */
  readonly unsubscribed: (peer: string) => void;
}

/**
 * Filter v2 subscribe requests as the protocol server mounts them: rate limited per peer, answered
 * by {@link handleFilterSubscribeRequest}; a peer left without subscriptions loses its push stream.
 *
 * @param init - the subscription table, limits and hooks
 * @returns the handler to mount
 */
export function filterProtocol(init: FilterProtocolInit): ProtocolHandler {
  const reject = (statusDesc: string) =>
    filterResponse("N/A", { statusCode: filterStatus.badRequest, statusDesc });
  return {
    codec: filterSubscribeCodec,
    name: "filter",
    maxRequestBytes: maxFilterRequestBytes,
    maxInboundStreams: 64,
    rateLimit: {
      limiter: init.limiter,
      reply: () =>
        filterResponse("N/A", {
          statusCode: filterStatus.tooManyRequests,
          statusDesc: tooManyRequestsDescription,
        }),
    },
    tooLarge: () => reject(`request exceeds ${maxFilterRequestBytes} bytes`),
    malformed: () => reject("malformed request frame"),
    respond: (bytes, connection) => {
      const peer = connection.remotePeer.toString();
      const response = handleFilterSubscribeRequest(bytes, peer, init);
      if (!init.subscriptions.isSubscribed(peer)) init.unsubscribed(peer);
      return response;
    },
  };
}
