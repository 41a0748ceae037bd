/**
 * What the receiver of requests to join (the owner) checks when a request arrives, before the
 * reducer sees it (docs/SECURITY.md, "Requests to join"). These rules need the receiver's clock, so
 * they are not reducer rules: the receiver reads its clock and passes the time in; nothing here
 * reads one.
 */

/** Reasons the owner sends with a rejection that the requester may act on. */
export const requestRejectionReasons = {
  /**
   * The queue of pending requests was full, or too many requests arrived lately: nothing about the
   * requester. Ask again later (no re-request cool-down applies after it).
   */
  queueFull: "full, try later",
  /** The request's signed `sentAt` was too far ahead of the owner's clock. */
  clockAhead: "clock ahead, check your clock and try again",
} as const;

/** Limits of {@link judgeRequestTime} and {@link RequestAdmission}. */
export interface RequestAdmissionLimits {
  /**
   * A request whose signed `sentAt` is more than this ahead of the receiver's clock is refused: a
   * future-dated request would otherwise stay pending (and hold a slot) until its far-away expiry.
   * @default 120,000 (2 minutes)
   */
  readonly maxRequestSkewMs: number;
  /**
   * At most this many requests admitted into a full queue at once after a quiet period (each pushes
   * the oldest pending request out). A queue with free slots admits without limit: the slots bound
   * what a stranger costs. @default 10
   */
  readonly admissionBurst: number;
  /**
   * One more request may be admitted into a full queue every this many ms (global, whatever the
   * key): how fast a flood of fresh keys can push the oldest pending requests out.
   * @default 360,000 (6 minutes: 10 an hour)
   */
  readonly admissionIntervalMs: number;
  /**
   * At most this many pairwise sessions with strangers that have not sent their request yet (the
   * X3DH message arrives with the requester's keys, just before the request); beyond it, the oldest
   * is dropped. @default 16
   */
  readonly maxHandshakes: number;
  /** A stranger's session without a request is dropped this long after it began. @default 600,000 */
  readonly handshakeTtlMs: number;
}

/** The defaults of {@link RequestAdmissionLimits}. */
export const defaultRequestAdmissionLimits: RequestAdmissionLimits = {
  maxRequestSkewMs: 2 * 60 * 1000,
  admissionBurst: 10,
  admissionIntervalMs: 6 * 60 * 1000,
  maxHandshakes: 16,
  handshakeTtlMs: 10 * 60 * 1000,
};

/** What {@link judgeRequestTime} decides. */
export type RequestTimeVerdict =
  | {
      readonly ok: true;
      /** The time the request is judged by: `min(sentAt, receivedAt)`. */
      readonly sentAt: number;
    }
  | { readonly ok: false; readonly reason: "clock-ahead" };

/**
 * Judges a request's signed `sentAt` against the time it was received: more than `maxSkewMs` ahead
 * is refused; otherwise the request is judged (expiry, cool-down, eviction order) from
 * `min(sentAt, receivedAt)`, so that no request outlives `requestExpiryMs` after it arrived and none
 * looks newer than it is.
 *
 * @param sentAt - the request's signed send time (ms)
 * @param receivedAt - the receiver's clock when it arrived (ms)
 * @param maxSkewMs - the tolerated skew @default defaultRequestAdmissionLimits.maxRequestSkewMs
 * @returns the time to judge the request by, or `clock-ahead`
 * @throws {RangeError} when a time is not a finite number or `maxSkewMs` is negative
 * @example
 * ```ts
 * const verdict = judgeRequestTime(event.sentAt, Date.now());
 * if (verdict.ok) log.add({ ...event, sentAt: verdict.sentAt });
 * ```
 */
export function judgeRequestTime(
  sentAt: number,
  receivedAt: number,
  maxSkewMs: number = defaultRequestAdmissionLimits.maxRequestSkewMs,
): RequestTimeVerdict {
  checkTime("sentAt", sentAt);
  checkTime("receivedAt", receivedAt);
  if (!Number.isFinite(maxSkewMs) || maxSkewMs < 0) {
    throw new RangeError(`maxSkewMs: expected a non-negative number of ms, got ${maxSkewMs}`);
  }
  if (sentAt > receivedAt + maxSkewMs) return { ok: false, reason: "clock-ahead" };
  return { ok: true, sentAt: Math.min(sentAt, receivedAt) };
}

function checkTime(name: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new RangeError(`${name}: expected a finite number of ms, got ${String(value)}`);
  }
}

/**
 * The global admission rate of new requests to join into a full queue (a token bucket):
 * `admissionBurst` tokens, one more every `admissionIntervalMs`. One stranger can mint keys for
 * free, so a per-key limit alone cannot stop it; a full queue pushes its oldest request out for a
 * newcomer, and this bounds how fast any number of keys can do so: under a sustained flood every
 * admitted request stays pending about `maxPendingRequests × admissionIntervalMs` (100 hours with
 * the defaults) before it is pushed out. Free slots need no token, so an owner onboarding many
 * people at once is not slowed. Time comes from the caller.
 *
 * @example
 * ```ts
 * const admission = new RequestAdmission();
 * if (!admission.take(Date.now())) reject(requestRejectionReasons.queueFull);
 * ```
 */
export class RequestAdmission {
  readonly #burst: number;
  readonly #intervalMs: number;
  #tokens: number;
  #at: number | undefined;

  /**
   * @param limits - `admissionBurst` and `admissionIntervalMs` (the defaults fill the rest)
   * @throws {RangeError} when the burst is not a positive integer or the interval not positive
   */
  constructor(limits: Partial<RequestAdmissionLimits> = {}) {
    const burst = limits.admissionBurst ?? defaultRequestAdmissionLimits.admissionBurst;
    const interval =
      limits.admissionIntervalMs ?? defaultRequestAdmissionLimits.admissionIntervalMs;
    if (!Number.isSafeInteger(burst) || burst < 1) {
      throw new RangeError(`admissionBurst: expected a positive integer, got ${burst}`);
    }
    if (!Number.isFinite(interval) || interval <= 0) {
      throw new RangeError(`admissionIntervalMs: expected a positive number, got ${interval}`);
    }
    this.#burst = burst;
    this.#intervalMs = interval;
    this.#tokens = burst;
  }

  /**
   * Takes one admission if there is one at `now`.
   *
   * @param now - the receiver's clock (ms); a clock that goes back refills nothing
   * @returns whether the request may be admitted
   */
  take(now: number): boolean {
    const at = this.#at;
    if (at !== undefined && now > at) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - at) / this.#intervalMs);
    }
    if (at === undefined || now > at) this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
