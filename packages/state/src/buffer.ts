import { isOwnerOnlyType } from "./event-types.js";
import type { MemberId, OrgEvent, RejectionReason } from "./events.js";
import { compareEvents } from "./order.js";

const day = 24 * 60 * 60 * 1000;

/**
 * Bounds of the buffer of rejected events that an `OrgLog` keeps (docs/PROTOCOL.md, "Buffered
 * events"). A rejected event is kept because an event that sorts before it may still arrive and
 * explain it (a join, a channel, a role, a description); the bounds keep a stranger from filling
 * memory with events nobody will ever explain.
 */
export const defaultBufferLimits = {
  /** At most this many rejected events per organization (per `OrgLog`). */
  maxBuffered: 1_000,
  /**
   * A rejected event whose signed `sentAt` is this far from `now` (in the past, or in the future)
   * is dropped by `OrgLog.prune(now)`: 7 days, as long as a request to join stays pending.
   */
  maxBufferedAgeMs: 7 * day,
} as const;

/** Why a buffered event was dropped: the count bound (`capacity`) or the age bound (`age`). */
export type EvictionCause = "capacity" | "age";

/**
 * A rejected event an `OrgLog` stopped keeping. It is forgotten: later re-folds do not see it, and
 * the same event delivered again (for example fetched again from a store node) is judged anew.
 */
export interface EvictedEvent {
  readonly event: OrgEvent;
  /** Its verdict when it was dropped. */
  readonly reason: RejectionReason;
  readonly cause: EvictionCause;
}

/**
 * Whether a rejection is final: no event that may still arrive, wherever it sorts, can make this
 * event apply (given the events applied when it was judged, which an `OrgLog` never loses: it
 * drops only rejected events, and events a description covers). Final rejections are the first to
 * go when the buffer is full; every other rejection may still flip on a re-fold, so its event is
 * worth keeping (docs/PROTOCOL.md, "Buffered events"):
 *
 * - `unknown-member`, `unknown-target`: the join, channel, request, invitation or message it needs
 *   may sort before it and arrive later.
 * - `unauthorized`: a role change, grant, channel roster or permission change may precede it;
 *   final only when the type is owner-only and the author is not the organization key, or for a
 *   `leave.requested` by the owner (the author never changes).
 * - `banned`: an unban may sort between the ban and it, or the ban itself may turn out refused.
 * - `conflict`, `rate-limited`: an earlier cancel, removal or decision may change what it collides
 *   with or free a slot.
 * - `malformed` from the reducer (an event before `org.created`): creation may still arrive; final
 *   for a refused `org.created`: the creation that sorts before it always applies, and stays (or
 *   a description's created state replaces it).
 * - `expired`: final. It compares the decision's own `sentAt` with the `sentAt` of the request or
 *   invitation it names, and both are fixed by their ids.
 * - `clock-jump`: not final (events that sort before it raise the clocks it is judged against), but
 *   evicted right after the final ones (see `compareEviction`).
 * - `duplicate`: never kept (the log refuses an id it holds before judging it).
 *
 * @param event - a well-formed event
 * @param reason - its verdict in its place
 * @param organizationId - the organization key as a member id
 * @returns true when the event can never apply in this organization
 * @example
 * ```ts
 * const { rejected } = log.add(event);
 * if (rejected && isFinalRejection(event, rejected.reason, orgId)) report(event, rejected.reason);
 * ```
 */
export function isFinalRejection(
  event: OrgEvent,
  reason: RejectionReason,
  organizationId: MemberId,
): boolean {
  if (reason === "expired" || reason === "duplicate") return true;
  if (event.author === organizationId) {
    return event.type === "org.created" || event.type === "leave.requested";
  }
  return isOwnerOnlyType(event.type);
}

/** @internal A rejected event the log holds, with its verdict. */
export interface BufferedEvent {
  readonly event: OrgEvent;
  readonly reason: RejectionReason;
  /** {@link isFinalRejection} of `event` and `reason`. */
  readonly final: boolean;
}

/**
 * Eviction tier of a buffered event: final rejections (0), then events refused for their clock (1),
 * then the rest (2). Clock-jumping events sort last in canonical order, so without their own tier a
 * member could keep the buffer full of them while older events that may still apply are evicted;
 * an honest event jumps 2^24 clocks only across a gap that large, so it is the least likely to
 * apply.
 */
function evictionTier(entry: BufferedEvent): number {
  if (entry.final) return 0;
  return entry.reason === "clock-jump" ? 1 : 2;
}

/**
 * @internal The eviction order: final rejections first, then those refused for their clock
 * (`clock-jump`), then the oldest in canonical order `(clock, author, id)`. It depends only on the
 * events, never on arrival order or the receiver's clock, so two logs holding the same buffer evict
 * the same events.
 */
export function compareEviction(a: BufferedEvent, b: BufferedEvent): number {
  const tier = evictionTier(a) - evictionTier(b);
  if (tier !== 0) return tier;
  return compareEvents(a.event, b.event);
}

/**
 * @internal The `count` buffered events to evict first, in eviction order.
 */
export function selectEvictions(buffered: Iterable<BufferedEvent>, count: number): BufferedEvent[] {
  if (count <= 0) return [];
  if (count === 1) {
    // The steady state of a full buffer: one in, one out. A scan, not a sort.
    let first: BufferedEvent | undefined;
    for (const entry of buffered) {
      if (first === undefined || compareEviction(entry, first) < 0) first = entry;
    }
    return first === undefined ? [] : [first];
  }
  return [...buffered].sort(compareEviction).slice(0, count);
}

/**
 * @internal Whether a buffered event is outside the age window at `now`: its signed `sentAt` is
 * `maxAgeMs` or more before `now`, or as far after it (a date a week ahead is a broken clock or a
 * way to outlive the bound).
 */
export function isOutsideAgeWindow(event: OrgEvent, now: number, maxAgeMs: number): boolean {
  return now - event.sentAt >= maxAgeMs || event.sentAt - now >= maxAgeMs;
}
