import { errorGuard, maxLamportClock, OrgchatError } from "@orgchat/base";

/**
 * The bounds of Lamport clocks (docs/PROTOCOL.md, "Clocks"). Every member applies the same ones, so
 * every member refuses the same events.
 *
 * - `maxClock` (2^63 − 1): the highest clock an event may carry and a peer may stamp. The wire field
 *   is a uint64, but the client files events by clock in its store, whose sort keys are SQLite's
 *   signed 64-bit INTEGER (`@orgchat/store`'s `storeLimits.maxSortKey`, the same number): a clock
 *   above it could be received but never stored, and the next clock stamped after it never sent.
 *   An event above it is `malformed`.
 * - `maxClockStep` (2^24): an event not authored by the organization key whose clock is more than
 *   this above `previous` — the highest clock counted by the state before it in canonical order
 *   (`OrgState.clock`: the base description's clock and the applied events' clocks, strangers' events
 *   aside) — is refused (`clock-jump`). An honest author stamps one more than the highest clock it
 *   has applied, so an honest event jumps this far only over 16 M events its receiver has not seen;
 *   a member who wants the clock at `maxClock` needs 2^39 accepted events. Owner events are
 *   authoritative: any clock up to `maxClock`.
 */
export const clockLimits = {
  /** The highest Lamport clock: 2^63 − 1 (SQLite's largest INTEGER). */
  maxClock: maxLamportClock,
  /** How far above the clocks before it a non-owner event may go: 2^24. */
  maxClockStep: 2n ** 24n,
} as const;

/**
 * Thrown when stamping a clock would go above {@link clockLimits}.maxClock: the state's clock (or the
 * clock the new event must follow) is already at the limit. Unreachable through remote events under
 * the step rule (it takes 2^39 accepted member events); only the organization key itself can put the
 * clock there.
 */
export class ClockLimitError extends OrgchatError {
  static readonly errorName = "ClockLimitError";
  /** The clock that would have been stamped (above the limit). */
  readonly clock: bigint;

  /**
   * @param clock - the clock that would have been stamped
   */
  constructor(clock: bigint) {
    super(
      "ClockLimitError",
      `The next Lamport clock (${clock}) would exceed the protocol's limit 2^63 - 1.`,
      { hint: "This organization's clock is exhausted; its owner must create a new organization." },
    );
    this.clock = clock;
  }
}

/**
 * True when `value` is a {@link ClockLimitError} (by name: holds across package copies).
 *
 * @example
 * ```ts
 * try { log.nextClock(); } catch (e) { if (isClockLimitError(e)) showExhausted(); }
 * ```
 */
export const isClockLimitError = errorGuard<ClockLimitError>(ClockLimitError.errorName);

/**
 * @internal Whether `clock` is out of reach from `previous` for an event not authored by the
 * organization key (the bounded-step rule of {@link clockLimits}).
 */
export function jumpsTooFar(clock: bigint, previous: bigint): boolean {
  return clock - previous > clockLimits.maxClockStep;
}
