import {
  type BufferedEvent,
  compareEviction,
  defaultBufferLimits,
  type EvictedEvent,
  type EvictionCause,
  isFinalRejection,
  isOutsideAgeWindow,
  selectEvictions,
} from "./buffer.js";
import { ClockLimitError, clockLimits } from "./clock.js";
import { isDescriptionCoveredType } from "./event-types.js";
import type { MemberId, OrgEvent } from "./events.js";
import { initialState } from "./initial-state.js";
import type {
  OrgLogAddResult,
  OrgLogCompaction,
  OrgLogInit,
  OrgLogRebaseResult,
} from "./log-types.js";
import { compareEvents } from "./order.js";
import { applyGuarded, type ReduceResult, resolveConfig } from "./reduce.js";
import { onFloor, overlayDescription } from "./snapshot-base.js";
import type { OrgState, ReducerConfig } from "./state.js";
import { isOrgEvent, rejectionId } from "./validate.js";

export type {
  OrgLogAddResult,
  OrgLogCompaction,
  OrgLogInit,
  OrgLogRebaseResult,
} from "./log-types.js";

/**
 * Where a description sits in the canonical order: after every event with its clock, before every
 * event with a later one (authors are lowercase hex, so "~" sorts after all of them). Folding over
 * it overlays the description's fields on the state.
 */
interface DescriptionMark {
  readonly type: "#description";
  readonly clock: bigint;
  readonly author: "~";
  readonly id: "~";
}

type Entry = OrgEvent | DescriptionMark;

interface Checkpoint {
  /** Number of entries (a prefix of the canonical order) folded into `state`. */
  readonly count: number;
  readonly state: OrgState;
}

function checkLimit(name: string, value: number, allowInfinity: boolean): void {
  const ok =
    (Number.isSafeInteger(value) && value >= 0) ||
    (allowInfinity && value === Number.POSITIVE_INFINITY);
  if (!ok) {
    throw new RangeError(
      `${name}: expected a non-negative integer${allowInfinity ? " or Infinity" : ""}, got ${value}`,
    );
  }
}

const noEvictions: readonly EvictedEvent[] = Object.freeze([]);
/** The buffered entries a compaction keeps when nothing is buffered. */
const noEntries: readonly Entry[] = Object.freeze([]);

/**
 * The events of one organization in canonical order, and the state they fold to (docs/PROTOCOL.md,
 * "Events and the canonical order"). Whatever order events arrive in, two logs holding the same
 * events (on the same description base) hold the same state and the same rejections.
 *
 * - An event that sorts after every event held (the common case) is reduced directly.
 * - One that sorts earlier is inserted in its place and judged there, from the last checkpoint
 *   before it. If it applies, the log re-folds the events after it and recomputes their verdicts (a
 *   late accept can make a member's earlier-rejected message valid; a late cancel can make an
 *   accept a conflict); if it is refused, nothing after it changes and the re-fold stops there.
 * - An event id already held is refused as `duplicate` and changes nothing.
 * - Rejected events are **buffered**: kept so that a later arrival can explain them (docs/PROTOCOL.md,
 *   "Buffered events"), at most `maxBuffered` of them; beyond that, final rejections
 *   ({@link isFinalRejection}) go first, then the oldest in canonical order. `prune(now)` drops
 *   those dated `maxBufferedAgeMs` or more away from `now`. Dropped events are forgotten and
 *   reported (`evicted`). Events that are not well formed (`isOrgEvent`) are refused as
 *   `malformed` and not kept, since nothing can make them valid.
 * - `rebase(base)` starts the fold from a description's state: the events it covers are dropped,
 *   the rest re-applied on it, and buffered events it explains apply.
 *
 * Ids must identify content (the client uses the hash of the signed envelope): of two different
 * events sent with the same id, the log keeps the first it sees.
 *
 * @example
 * ```ts
 * const log = new OrgLog({ organizationId });
 * for (const event of received) {
 *   const { rejected, evicted } = log.add(event);
 *   if (rejected) console.debug(rejected.id, rejected.reason);
 *   for (const dropped of evicted ?? []) console.debug("dropped", dropped.event.id);
 * }
 * log.prune(Date.now());
 * render(log.state);
 * ```
 */
export class OrgLog {
  /** The organization key as a member id. */
  readonly organizationId: MemberId;
  /** The reducer rules in force (the defaults filled in). */
  readonly config: ReducerConfig;
  /** The count bound of the buffer of rejected events. */
  readonly maxBuffered: number;
  /** The age bound of the buffer of rejected events, in ms. */
  readonly maxBufferedAgeMs: number;
  readonly #interval: number;
  /** Events held (applied and buffered) and the description mark, in canonical order. */
  #entries: Entry[] = [];
  readonly #ids = new Set<string>();
  /** The buffer: every event held whose verdict in its place is a rejection. */
  readonly #buffered = new Map<string, BufferedEvent>();
  #checkpoints: Checkpoint[];
  #state: OrgState;
  /** The description state the fold starts from, when the log was re-based. */
  #base: OrgState | undefined;
  /** The state the log was restored from or compacted to: the fold of the events no longer held. */
  #floor: OrgState | undefined;
  #mark: DescriptionMark | undefined;
  #evictedCount = 0;
  /** Collects the ids of buffered events that apply, during a re-fold. */
  #explained: string[] | undefined;

  /**
   * @param init - the organization, its rules and the buffer bounds
   * @throws {RangeError} when `organizationId` is not a member id, `checkpointInterval` is not a
   *   positive integer, `maxBuffered` is not a non-negative integer or `maxBufferedAgeMs` is not a
   *   non-negative integer or `Infinity`
   */
  constructor(init: OrgLogInit) {
    const interval = init.checkpointInterval ?? 256;
    if (!Number.isSafeInteger(interval) || interval < 1) {
      throw new RangeError(`checkpointInterval: expected a positive integer, got ${interval}`);
    }
    const maxBuffered = init.maxBuffered ?? defaultBufferLimits.maxBuffered;
    checkLimit("maxBuffered", maxBuffered, false);
    const maxBufferedAgeMs = init.maxBufferedAgeMs ?? defaultBufferLimits.maxBufferedAgeMs;
    checkLimit("maxBufferedAgeMs", maxBufferedAgeMs, true);
    this.organizationId = init.organizationId;
    this.config = resolveConfig(init.config);
    this.maxBuffered = maxBuffered;
    this.maxBufferedAgeMs = maxBufferedAgeMs;
    this.#interval = interval;
    this.#state = initialState(init.organizationId);
    this.#checkpoints = [{ count: 0, state: this.#state }];
  }

  /** The state: the fold of every event held, in canonical order (from the base, if any). */
  get state(): OrgState {
    return this.#state;
  }

  /** How many events the log holds (applied and buffered). */
  get size(): number {
    return this.#entries.length - (this.#mark === undefined ? 0 : 1);
  }

  /** How many events are buffered (held and rejected in their place); at most `maxBuffered`. */
  get bufferedCount(): number {
    return this.#buffered.size;
  }

  /** How many buffered events this log has evicted since it was made (count and age bounds). */
  get evictedCount(): number {
    return this.#evictedCount;
  }

  /** The clock of the description the log is based on, or `undefined` before any `rebase`. */
  get baseClock(): bigint | undefined {
    return this.#base?.clock;
  }

  /**
   * Adds one event in its canonical place, then evicts buffered events beyond `maxBuffered`.
   *
   * @param event - a received (or own) event; anything is accepted as input
   * @returns the state after the event, and the event's own rejection if it was refused in its
   *   place (`duplicate` when its id is already held, `malformed` when it is not well formed,
   *   `conflict` when the description the log is based on covers it); `explained` and `evicted`
   *   when buffered events apply or were dropped
   */
  add(event: OrgEvent): OrgLogAddResult {
    if (!isOrgEvent(event)) {
      return { state: this.#state, rejected: { id: rejectionId(event), reason: "malformed" } };
    }
    if (this.#ids.has(event.id) || this.#floor?.applied.has(event.id) === true) {
      return { state: this.#state, rejected: { id: event.id, reason: "duplicate" } };
    }
    const base = this.#base;
    if (base !== undefined && event.clock <= base.clock && isDescriptionCoveredType(event.type)) {
      // The description at a later clock decided what this event would change.
      return { state: this.#state, rejected: { id: event.id, reason: "conflict" } };
    }
    this.#ids.add(event.id);
    const entries = this.#entries;
    const last = entries[entries.length - 1];
    let result: OrgLogAddResult;
    if (last === undefined || compareEvents(last, event) < 0) {
      entries.push(event);
      result = this.#step(this.#state, event);
      this.#state = result.state;
      this.#checkpoint(entries.length, result.state);
      // Only a rejected event can overflow the buffer.
      if (result.rejected === undefined || this.#buffered.size <= this.maxBuffered) return result;
    } else {
      const position = insertionIndex(entries, event);
      entries.splice(position, 0, event);
      this.#explained = [];
      result = this.#refold(position, event);
      const explained = this.#explained;
      this.#explained = undefined;
      if (explained.length > 0) result = { ...result, explained };
    }
    const evicted = this.#evictOverflow();
    return evicted.length === 0 ? result : { ...result, evicted };
  }

  /**
   * Drops the buffered events outside the age window at `now`: those whose signed `sentAt` is
   * `maxBufferedAgeMs` or more before `now`, or as far after it. Call it from time to time (on a
   * timer, after a sync) with the client's clock; the log never reads one.
   *
   * @param now - the current time in ms (same scale as `sentAt`)
   * @returns the events dropped, in eviction order
   * @throws {RangeError} when `now` is not a finite number
   * @example
   * ```ts
   * for (const { event, reason } of log.prune(Date.now())) console.debug("expired", event.id, reason);
   * ```
   */
  prune(now: number): EvictedEvent[] {
    if (typeof now !== "number" || !Number.isFinite(now)) {
      throw new RangeError(`now: expected a finite number of milliseconds, got ${String(now)}`);
    }
    const old: BufferedEvent[] = [];
    for (const entry of this.#buffered.values()) {
      if (isOutsideAgeWindow(entry.event, now, this.maxBufferedAgeMs)) old.push(entry);
    }
    return this.#evict(old.sort(compareEviction), "age");
  }

  /**
   * Re-bases the log on a description's state (docs/PROTOCOL.md, "Buffered events"): the fold
   * starts from `base` instead of the empty organization; held events that the description covers
   * (`descriptionCoveredTypes` with a clock ≤ `base.clock`) are dropped, and later ones
   * refused; the other events with a clock ≤ `base.clock` are re-applied on `base`, after which the
   * description's fields are laid over the state again (they are authoritative at its clock);
   * events with a later clock follow in canonical order. Buffered events that the description
   * explains (a message from a member it lists) apply.
   *
   * A base older than the one in force, or whose clock is above `clockLimits.maxClock`, is ignored
   * (`rebased: false`). At an equal clock the new base replaces the old:
   * choosing between two descriptions with the same clock (docs/PROTOCOL.md, "Clocks") is the
   * caller's job. The base is taken as it is: a state from `stateFromDescription` has no applied
   * ids, requests or messages; a richer one (a saved state) counts its applied ids as applied, so
   * events with those ids are refused as `duplicate` on it.
   *
   * @param base - the state of a description, from `stateFromDescription(description, orgId)`
   * @returns the new state, whether the base was taken, the covered and explained event ids, and
   *   the events evicted to keep the count bound
   * @throws {RangeError} when `base` is not a created state of this organization
   * @example
   * ```ts
   * const assembled = assembleDescription({ header, pages });
   * if (assembled.ok) log.rebase(stateFromDescription(assembled.description, orgId));
   * ```
   */
  rebase(base: OrgState): OrgLogRebaseResult {
    if (
      typeof base !== "object" ||
      base === null ||
      base.organizationId !== this.organizationId ||
      base.created !== true ||
      typeof base.clock !== "bigint"
    ) {
      throw new RangeError(
        "base: expected a created state of this organization (stateFromDescription(description, organizationId))",
      );
    }
    // A description past the clock limit cannot come from an honest owner (it stamps no higher);
    // taking it would leave every member unable to stamp a clock, so it is ignored like an old one.
    if (
      base.clock > clockLimits.maxClock ||
      (this.#base !== undefined && base.clock < this.#base.clock)
    ) {
      return { state: this.#state, rebased: false, covered: [], explained: [], evicted: [] };
    }
    const before = new Set(this.#buffered.keys());
    const covered: string[] = [];
    const entries: Entry[] = [];
    for (const entry of this.#entries) {
      if (entry.type === "#description") continue;
      if (entry.clock <= base.clock && isDescriptionCoveredType(entry.type)) {
        covered.push(entry.id);
        this.#ids.delete(entry.id);
        this.#buffered.delete(entry.id);
      } else {
        entries.push(entry);
      }
    }
    const mark: DescriptionMark = {
      type: "#description",
      clock: base.clock,
      author: "~",
      id: "~",
    };
    entries.splice(insertionIndex(entries, mark), 0, mark);
    this.#entries = entries;
    this.#mark = mark;
    this.#base = base;
    this.#checkpoints = [
      { count: 0, state: this.#floor === undefined ? base : onFloor(this.#floor, base) },
    ];
    this.#refold(0, undefined);
    const explained = [...before].filter((id) => this.#ids.has(id) && !this.#buffered.has(id));
    const evicted = this.#evictOverflow();
    return { state: this.#state, rebased: true, covered, explained, evicted };
  }

  /**
   * Starts an empty log from a saved state (docs/SCALE.md, "State snapshot"): a snapshot of this
   * log's state after {@link OrgLog.compact}, read back with `decodeSnapshot`. Add the events held
   * after it (and `rebase` on a stored description first, for a member) as usual. Its applied ids
   * count as applied (an event with one is refused as `duplicate`). An event that sorts before the
   * events it folds is applied on it, in the place of the first event held: the fold of everything
   * from the creation would have judged it in its own place, which the log no longer can.
   *
   * @param snapshot - the state to start from
   * @throws {RangeError} when the log already holds events or a base, or `snapshot` is not a state
   *   of this organization
   * @example
   * ```ts
   * const log = new OrgLog({ organizationId });
   * log.restore(decodeSnapshot(bytes, organizationId));
   * for (const event of tail) log.add(event);
   * ```
   */
  restore(snapshot: OrgState): void {
    if (this.#entries.length > 0 || this.#base !== undefined || this.#floor !== undefined) {
      throw new RangeError("restore: the log must be empty (restore first, then add events)");
    }
    if (
      typeof snapshot !== "object" ||
      snapshot === null ||
      snapshot.organizationId !== this.organizationId ||
      typeof snapshot.clock !== "bigint"
    ) {
      throw new RangeError("snapshot: expected a state of this organization (decodeSnapshot)");
    }
    this.#floor = snapshot;
    this.#state = snapshot;
    this.#checkpoints = [{ count: 0, state: snapshot }];
  }

  /**
   * Folds the oldest events into the log's floor (the state {@link OrgLog.restore} starts from) and
   * forgets them, keeping at least `keep` events (the re-fold window for late events). The point is
   * a checkpoint, so the states held do not change: the events before it that are buffered stay
   * held, and the point moves earlier until each of them is still refused on the floor (a later
   * re-fold must not apply them there); events that sort before the point and arrive later apply
   * on the floor (see `restore`).
   *
   * @param keep - at least this many events stay held (non-negative integer)
   * @returns the new floor and the ids of the applied events it covers, or `undefined` when no
   *   checkpoint qualifies (fewer than `checkpointInterval` events to compact)
   * @throws {RangeError} when `keep` is not a non-negative integer
   * @example
   * ```ts
   * const compaction = log.compact(256);
   * if (compaction) await save(encodeSnapshot(compaction.state), compaction.covered);
   * ```
   */
  compact(keep: number): OrgLogCompaction | undefined {
    checkLimit("keep", keep, false);
    const entries = this.#entries;
    let limit = entries.length - keep;
    const checkpoints = this.#checkpoints;
    for (let at = checkpoints.length - 1; at > 0; at--) {
      const point = checkpoints[at] as Checkpoint;
      if (point.count > limit) continue;
      // Nothing buffered (the usual case): nothing before the point to keep or to block it, so
      // no walk over its thousands of entries (nor its optimised compilation mid-walk).
      if (this.#buffered.size === 0) return this.#compactAt(at, noEntries);
      const kept: Entry[] = [];
      let blocked = -1;
      for (let i = 0; i < point.count; i++) {
        const entry = entries[i] as Entry;
        if (entry.type === "#description" || !this.#buffered.has(entry.id)) continue;
        if (applyGuarded(point.state, entry, this.config).rejected === undefined) {
          blocked = i;
          break;
        }
        kept.push(entry);
      }
      if (blocked < 0) return this.#compactAt(at, kept);
      // It would apply on this floor: the point must come before it.
      limit = blocked;
    }
    return undefined;
  }

  /** Drops the entries before checkpoint `at` but the buffered `kept`; that checkpoint is the floor. */
  #compactAt(at: number, kept: readonly Entry[]): OrgLogCompaction {
    const point = this.#checkpoints[at] as Checkpoint;
    const covered: string[] = [];
    const entries = this.#entries;
    for (let i = 0; i < point.count; i++) {
      const entry = entries[i] as Entry;
      if (entry.type === "#description") {
        this.#mark = undefined;
      } else if (!this.#buffered.has(entry.id)) {
        covered.push(entry.id);
        this.#ids.delete(entry.id);
      }
    }
    const shift = point.count - kept.length;
    this.#entries = [...kept, ...entries.slice(point.count)];
    this.#checkpoints = [
      { count: 0, state: point.state },
      ...this.#checkpoints.slice(at + 1).map((c) => ({ count: c.count - shift, state: c.state })),
    ];
    this.#floor = point.state;
    return { state: point.state, covered };
  }

  /**
   * Whether the log holds an event with this id (applied or buffered).
   *
   * @param id - an event id
   */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /**
   * The events held, in canonical order (a copy).
   *
   * @returns every event held, applied or buffered
   */
  events(): OrgEvent[] {
    const events: OrgEvent[] = [];
    for (const entry of this.#entries) if (entry.type !== "#description") events.push(entry);
    return events;
  }

  /**
   * The buffered events: those held and rejected in their place, in canonical order (a copy).
   *
   * @returns at most `maxBuffered` events
   */
  buffered(): OrgEvent[] {
    return [...this.#buffered.values()].map((entry) => entry.event).sort(compareEvents);
  }

  /**
   * The events refused in their canonical place, by event id (a copy): the buffer's verdicts.
   * Recomputed on every re-fold, so an event can leave this map when an earlier event arrives.
   *
   * @returns event id → reason
   */
  rejections(): Map<string, BufferedEvent["reason"]> {
    const rejections = new Map<string, BufferedEvent["reason"]>();
    for (const [id, entry] of this.#buffered) rejections.set(id, entry.reason);
    return rejections;
  }

  /**
   * Why the event `id` is refused in its place, or `undefined` when it is applied or not held.
   *
   * @param id - an event id
   */
  rejectionOf(id: string): BufferedEvent["reason"] | undefined {
    return this.#buffered.get(id)?.reason;
  }

  /**
   * The Lamport clock to stamp on the next own event (docs/PROTOCOL.md, "Clocks"): one more than
   * the state's clock (the highest clock of the applied events and of the description the log is
   * based on), and, with `after`, one more than that too. Rejected events do not count, nor do
   * strangers' events (a pending request, a cancel), so that nobody outside the organization can
   * move the clock; a decision on a request passes the request's clock as `after`, so that it
   * sorts after the request it decides.
   *
   * @param after - a clock the stamped event must follow (e.g. the request a decision answers)
   * @returns `max(state.clock, after) + 1`
   * @throws {ClockLimitError} when that is above `clockLimits.maxClock` (2^63 − 1): unreachable
   *   through remote events under the step rule, only the organization key can put the clock there
   * @throws {RangeError} when `after` is not a bigint from 0 to `clockLimits.maxClock`
   * @example
   * ```ts
   * const clock = log.nextClock(request.clock); // a request.accepted that sorts after the request
   * ```
   */
  nextClock(after?: bigint): bigint {
    let highest = this.#state.clock;
    if (after !== undefined) {
      if (typeof after !== "bigint" || after < 0n || after > clockLimits.maxClock) {
        throw new RangeError(
          `after: expected a bigint from 0n to 2n ** 63n - 1n, got ${String(after)}`,
        );
      }
      if (after > highest) highest = after;
    }
    const next = highest + 1n;
    if (next > clockLimits.maxClock) throw new ClockLimitError(next);
    return next;
  }

  /** Folds one entry and keeps its verdict. */
  #step(state: OrgState, entry: Entry): ReduceResult {
    let result: ReduceResult;
    if (entry.type === "#description") {
      result = { state: overlayDescription(state, this.#base ?? state) };
    } else {
      result = applyGuarded(state, entry, this.config);
      const rejected = result.rejected;
      if (rejected === undefined) {
        if (this.#buffered.delete(entry.id)) this.#explained?.push(entry.id);
      } else {
        this.#buffered.set(entry.id, {
          event: entry,
          reason: rejected.reason,
          final: isFinalRejection(entry, rejected.reason, this.organizationId),
        });
      }
    }
    return result;
  }

  /** Keeps `state` as the checkpoint after `count` entries, every `checkpointInterval` entries. */
  #checkpoint(count: number, state: OrgState): void {
    // The last `interval` entries keep a checkpoint every interval/16 (a stranger's late request
    // lands there: its re-fold starts at most that far back); older ones only on the grid.
    const fine = Math.max(1, this.#interval >> 4);
    if (count % fine !== 0) return;
    const checkpoints = this.#checkpoints;
    checkpoints.push({ count, state });
    const window = count - this.#interval;
    for (let at = checkpoints.length - 2; at > 0 && at >= checkpoints.length - 20; at--) {
      const point = checkpoints[at] as Checkpoint;
      if (point.count > window) continue;
      if (point.count % this.#interval !== 0) checkpoints.splice(at, 1);
      break;
    }
  }

  /**
   * Re-folds from the last checkpoint at or before `position`: the index of the inserted event, or
   * 0 with no inserted event (after a re-base).
   */
  #refold(position: number, inserted: OrgEvent | undefined): ReduceResult {
    const checkpoints = this.#checkpoints;
    let keep = checkpoints.length - 1;
    while (keep > 0 && (checkpoints[keep]?.count ?? 0) > position) keep--;
    const start = checkpoints[keep] ?? {
      count: 0,
      state: this.#floor ?? this.#base ?? initialState(this.organizationId),
    };
    const entries = this.#entries;
    let state = start.state;
    let index = start.count;
    if (inserted !== undefined) {
      // Up to the inserted event the states are those of before (and so are the verdicts).
      for (; index < position; index++) state = this.#step(state, entries[index] as Entry).state;
      const result = this.#step(state, inserted);
      index++;
      if (result.rejected !== undefined) {
        // Refused, it leaves the state as it was: every later state, verdict and checkpoint
        // stands, one entry further on. A late stranger's event costs a checkpoint interval, not a
        // re-fold of everything after it.
        for (let i = keep + 1; i < checkpoints.length; i++) {
          const checkpoint = checkpoints[i] as Checkpoint;
          checkpoints[i] = { count: checkpoint.count + 1, state: checkpoint.state };
        }
        return { state: this.#state, rejected: result.rejected };
      }
      state = result.state;
    }
    // Checkpoints after the insertion point describe a history that no longer exists.
    checkpoints.length = keep + 1;
    if (inserted !== undefined) this.#checkpoint(index, state);
    for (; index < entries.length; index++) {
      state = this.#step(state, entries[index] as Entry).state;
      this.#checkpoint(index + 1, state);
    }
    this.#state = state;
    return { state };
  }

  /** Evicts buffered events beyond `maxBuffered`, first in eviction order first. */
  #evictOverflow(): readonly EvictedEvent[] {
    const excess = this.#buffered.size - this.maxBuffered;
    if (excess <= 0) return noEvictions;
    return this.#evict(selectEvictions(this.#buffered.values(), excess), "capacity");
  }

  /**
   * Forgets buffered events. A rejected event leaves the state as it was, so every state kept
   * (checkpoints, the current one) stays the fold of the entries that remain; only the checkpoints'
   * counts move.
   */
  #evict(victims: readonly BufferedEvent[], cause: EvictionCause): EvictedEvent[] {
    if (victims.length === 0) return [];
    const entries = this.#entries;
    const indexes = victims.map((victim) => insertionIndex(entries, victim.event));
    indexes.sort((a, b) => a - b);
    if (indexes.length <= 16) {
      for (let i = indexes.length - 1; i >= 0; i--) entries.splice(indexes[i] as number, 1);
    } else {
      const remaining: Entry[] = [];
      let next = 0;
      for (let index = 0; index < entries.length; index++) {
        if (indexes[next] === index) next++;
        else remaining.push(entries[index] as Entry);
      }
      this.#entries = remaining;
    }
    // A checkpoint after k removed entries covers k entries fewer; two that fall on the same count
    // hold equal states (the entries between them were rejected), so one is kept.
    const checkpoints: Checkpoint[] = [];
    let removed = 0;
    for (const checkpoint of this.#checkpoints) {
      while (removed < indexes.length && (indexes[removed] as number) < checkpoint.count) removed++;
      const count = checkpoint.count - removed;
      const previous = checkpoints[checkpoints.length - 1];
      if (previous !== undefined && previous.count === count) continue;
      checkpoints.push(removed === 0 ? checkpoint : { count, state: checkpoint.state });
    }
    this.#checkpoints = checkpoints;
    const evicted: EvictedEvent[] = [];
    for (const victim of victims) {
      this.#ids.delete(victim.event.id);
      this.#buffered.delete(victim.event.id);
      evicted.push({ event: victim.event, reason: victim.reason, cause });
    }
    this.#evictedCount += evicted.length;
    return evicted;
  }
}

/** Index at which `entry` keeps `entries` sorted (binary search; ids are unique, so no ties). */
function insertionIndex(
  entries: readonly Entry[],
  entry: Pick<OrgEvent, "clock" | "author" | "id">,
): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareEvents(entries[middle] as Entry, entry) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
