/**
 * Waku Filter v2 (12/WAKU2-FILTER), server side: the subscription table, the request handler for
 * `/vac/waku/filter-subscribe/2.0.0-beta1` and the pushes over `/vac/waku/filter-push/2.0.0-beta1`.
 * Limits and status codes follow nwaku's `waku_filter_v2` (see README, "Limits and status codes").
 */
import type { PeerId } from "@libp2p/interface";
import { proto_filter_v2 } from "@waku/proto";

/** Protocol id of filter subscribe requests (the light node dials us). */
export const filterSubscribeCodec = "/vac/waku/filter-subscribe/2.0.0-beta1";
/** Protocol id of message pushes (we dial the light node). */
export const filterPushCodec = "/vac/waku/filter-push/2.0.0-beta1";

/** Status codes of FilterSubscribeResponse, as nwaku sends them. */
export const filterStatus = {
  ok: 200,
  badRequest: 400,
  notFound: 404,
  tooManyRequests: 429,
  serviceUnavailable: 503,
} as const;

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

interface SubscriberState {
  lastSeen: number;
  /** pubsub topic → content topics */
  readonly criteria: Map<string, Set<string>>;
  criteriaCount: number;
}

/** Outcome of a filter request: the status code and, for errors, a description. */
export interface FilterOutcome {
  readonly statusCode: number;
  readonly statusDesc?: string;
}

const ok: FilterOutcome = { statusCode: filterStatus.ok, statusDesc: "OK" };

/**
 * The subscription table: which peers want which (pubsub topic, content topic) pairs, with nwaku's
 * limits and expiry. Pure data: the clock is injected and nothing here does I/O.
 */
export class FilterSubscriptions {
  readonly #limits: FilterLimits;
  readonly #now: () => number;
  readonly #peers = new Map<string, SubscriberState>();
  /** pubsub topic → content topic → subscriber peer ids */
  readonly #index = new Map<string, Map<string, Set<string>>>();

  constructor(limits: FilterLimits, now: () => number) {
    this.#limits = limits;
    this.#now = now;
  }

  /** Number of subscriber peers. */
  get peerCount(): number {
    return this.#peers.size;
  }

  /** Number of criteria `peer` holds (0 when it has none). */
  criteriaCount(peer: string): number {
    return this.#peers.get(peer)?.criteriaCount ?? 0;
  }

  /** Whether `peer` has a live (not expired) subscription. */
  isSubscribed(peer: string): boolean {
    const state = this.#peers.get(peer);
    return state !== undefined && this.#isLive(state);
  }

  /** SUBSCRIBER_PING: refreshes a subscriber; 404 when the peer has no subscription. */
  ping(peer: string): FilterOutcome {
    const state = this.#peers.get(peer);
    if (state === undefined || !this.#isLive(state)) {
      return { statusCode: filterStatus.notFound, statusDesc: "peer has no subscriptions" };
    }
    state.lastSeen = this.#now();
    return ok;
  }

  /** SUBSCRIBE `contentTopics` on `pubsubTopic` for `peer` (validated by the caller). */
  subscribe(peer: string, pubsubTopic: string, contentTopics: readonly string[]): FilterOutcome {
    const now = this.#now();
    let state = this.#peers.get(peer);
    if (state !== undefined && !this.#isLive(state)) {
      this.removePeer(peer);
      state = undefined;
    }
    const unique = [...new Set(contentTopics)];
    if (state === undefined) {
      if (this.#peers.size >= this.#limits.maxPeers) {
        this.#pruneExpired();
        if (this.#peers.size >= this.#limits.maxPeers) {
          return {
            statusCode: filterStatus.serviceUnavailable,
            statusDesc: `node has reached maximum number of subscriptions: ${this.#limits.maxPeers}`,
          };
        }
      }
    }
    const existing = state?.criteria.get(pubsubTopic);
    const added = unique.filter((topic) => existing?.has(topic) !== true).length;
    if ((state?.criteriaCount ?? 0) + added > this.#limits.maxCriteriaPerPeer) {
      return {
        statusCode: filterStatus.serviceUnavailable,
        statusDesc: `peer has reached maximum number of filter criteria: ${this.#limits.maxCriteriaPerPeer}`,
      };
    }
    if (state === undefined) {
      state = { lastSeen: now, criteria: new Map(), criteriaCount: 0 };
      this.#peers.set(peer, state);
    }
    state.lastSeen = now;
    let topics = state.criteria.get(pubsubTopic);
    if (topics === undefined) {
      topics = new Set();
      state.criteria.set(pubsubTopic, topics);
    }
    let byContent = this.#index.get(pubsubTopic);
    if (byContent === undefined) {
      byContent = new Map();
      this.#index.set(pubsubTopic, byContent);
    }
    for (const topic of unique) {
      if (topics.has(topic)) continue;
      topics.add(topic);
      state.criteriaCount += 1;
      let peers = byContent.get(topic);
      if (peers === undefined) {
        peers = new Set();
        byContent.set(topic, peers);
      }
      peers.add(peer);
    }
    return ok;
  }

  /**
   * UNSUBSCRIBE: removes the given criteria. 404 when the peer has no subscription or was not
   * subscribed to one of them (nwaku's behaviour; the criteria it did hold are still removed).
   */
  unsubscribe(peer: string, pubsubTopic: string, contentTopics: readonly string[]): FilterOutcome {
    const state = this.#peers.get(peer);
    if (state === undefined || !this.#isLive(state)) {
      if (state !== undefined) this.removePeer(peer);
      return { statusCode: filterStatus.notFound, statusDesc: "peer has no subscriptions" };
    }
    state.lastSeen = this.#now();
    const topics = state.criteria.get(pubsubTopic);
    let missing = false;
    for (const topic of new Set(contentTopics)) {
      if (topics?.delete(topic) !== true) {
        missing = true;
        continue;
      }
      state.criteriaCount -= 1;
      this.#unindex(peer, pubsubTopic, topic);
    }
    if (topics !== undefined && topics.size === 0) state.criteria.delete(pubsubTopic);
    if (state.criteriaCount === 0) this.#peers.delete(peer);
    return missing
      ? { statusCode: filterStatus.notFound, statusDesc: "peer was not subscribed to criterion" }
      : ok;
  }

  /** UNSUBSCRIBE_ALL: removes every criterion of `peer`; 404 when it had none. */
  unsubscribeAll(peer: string): FilterOutcome {
    const live = this.isSubscribed(peer);
    this.removePeer(peer);
    return live
      ? ok
      : { statusCode: filterStatus.notFound, statusDesc: "peer has no subscriptions" };
  }

  /** Drops every subscription of `peer` (it disconnected). */
  removePeer(peer: string): void {
    const state = this.#peers.get(peer);
    if (state === undefined) return;
    this.#peers.delete(peer);
    for (const [pubsubTopic, topics] of state.criteria) {
      for (const topic of topics) this.#unindex(peer, pubsubTopic, topic);
    }
  }

  /** Live subscribers of (`pubsubTopic`, `contentTopic`). */
  subscribers(pubsubTopic: string, contentTopic: string): string[] {
    const peers = this.#index.get(pubsubTopic)?.get(contentTopic);
    if (peers === undefined) return [];
    const live: string[] = [];
    for (const peer of peers) {
      const state = this.#peers.get(peer);
      if (state !== undefined && this.#isLive(state)) live.push(peer);
    }
    return live;
  }

  /** Removes expired subscribers. @returns the peers removed. */
  prune(): string[] {
    return this.#pruneExpired();
  }

  #pruneExpired(): string[] {
    const removed: string[] = [];
    for (const [peer, state] of this.#peers) {
      if (!this.#isLive(state)) {
        this.removePeer(peer);
        removed.push(peer);
      }
    }
    return removed;
  }

  #isLive(state: SubscriberState): boolean {
    return this.#now() - state.lastSeen <= this.#limits.subscriptionTimeoutMs;
  }

  #unindex(peer: string, pubsubTopic: string, contentTopic: string): void {
    const byContent = this.#index.get(pubsubTopic);
    const peers = byContent?.get(contentTopic);
    if (byContent === undefined || peers === undefined) return;
    peers.delete(peer);
    if (peers.size === 0) byContent.delete(contentTopic);
    if (byContent.size === 0) this.#index.delete(pubsubTopic);
  }
}

/** What the filter request handler needs to know about the node. */
export interface FilterRequestContext {
  readonly subscriptions: FilterSubscriptions;
  readonly limits: FilterLimits;
  /** Whether this node serves (relays, stores) `pubsubTopic`. */
  servesPubsubTopic(pubsubTopic: string): boolean;
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
