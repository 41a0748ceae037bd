/**
 * The Filter v2 subscription table: which peers want which (pubsub topic, content topic) pairs,
 * with nwaku's limits (`MaxFilterPeers`, `MaxFilterCriteriaPerPeer`) and expiry
 * (`DefaultSubscriptionTimeToLiveSec`). Pure data: the clock is injected and nothing here does I/O.
 */
import { type FilterLimits, type FilterOutcome, filterStatus } from "./filter.js";

interface SubscriberState {
  lastSeen: number;
  /** pubsub topic → content topics */
  readonly criteria: Map<string, Set<string>>;
  criteriaCount: number;
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
