/**
 * Per-peer request rate limiting (nwaku's `--rate-limit`: a volume per period, per protocol). A peer
 * over its budget gets the protocol's 429 TOO_MANY_REQUESTS instead of service.
 */

/** A request budget: at most `requests` per `periodMs`, refilled continuously. */
export interface RateLimit {
  /** Requests allowed per period (also the burst size). */
  readonly requests: number;
  /** Length of the period, milliseconds. */
  readonly periodMs: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets keyed by peer. `now` is injected so tests need no real clock. Buckets of peers that
 * went quiet are forgotten by {@link RequestRateLimiter.prune}, so memory stays bounded by active
 * peers.
 */
export class RequestRateLimiter {
  readonly #limit: RateLimit | undefined;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  /** @param limit - the budget; `undefined` disables limiting (every request is allowed). */
  constructor(limit: RateLimit | undefined, now: () => number) {
    if (limit !== undefined) {
      if (!Number.isInteger(limit.requests) || limit.requests < 1) {
        throw new RangeError(
          `rate limit requests must be a positive integer, got ${limit.requests}`,
        );
      }
      if (!Number.isFinite(limit.periodMs) || limit.periodMs <= 0) {
        throw new RangeError(`rate limit periodMs must be positive, got ${limit.periodMs}`);
      }
    }
    this.#limit = limit;
    this.#now = now;
  }

  /** Takes one request from `peer`'s budget. @returns false when the peer is over its limit. */
  allow(peer: string): boolean {
    const limit = this.#limit;
    if (limit === undefined) return true;
    const now = this.#now();
    const bucket = this.#buckets.get(peer) ?? { tokens: limit.requests, updatedAt: now };
    const elapsed = Math.max(0, now - bucket.updatedAt);
    bucket.tokens = Math.min(
      limit.requests,
      bucket.tokens + (elapsed * limit.requests) / limit.periodMs,
    );
    bucket.updatedAt = now;
    this.#buckets.set(peer, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Forgets buckets that have refilled completely (their peers are within budget anyway). */
  prune(): void {
    const limit = this.#limit;
    if (limit === undefined) return;
    const now = this.#now();
    for (const [peer, bucket] of this.#buckets) {
      if (now - bucket.updatedAt >= limit.periodMs) this.#buckets.delete(peer);
    }
  }

  /** Number of peers currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }
}
