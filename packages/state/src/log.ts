import type { MemberId, OrgEvent, Rejection, RejectionReason } from "./events.js";
import { initialState } from "./initial-state.js";
import { compareEvents } from "./order.js";
import { applyGuarded, type ReduceResult, resolveConfig } from "./reduce.js";
import type { OrgState, ReducerConfig } from "./state.js";
import { isOrgEvent, rejectionId } from "./validate.js";

/** Options of an {@link OrgLog}. */
export interface OrgLogInit {
  /** The organization key as a member id. */
  readonly organizationId: MemberId;
  /**
   * The organization's reducer rules (every member must use the same).
   * @default defaultReducerConfig
   */
  readonly config?: Partial<ReducerConfig>;
  /**
   * Keep the state after every this many events, so that an event arriving out of order re-folds at
   * most this many events plus those after it. States share structure, so a checkpoint costs one
   * reference. @default 256
   */
  readonly checkpointInterval?: number;
}

interface Checkpoint {
  /** Number of events (a prefix of the canonical order) folded into `state`. */
  readonly count: number;
  readonly state: OrgState;
}

/**
 * The events of one organization in canonical order, and the state they fold to (docs/PROTOCOL.md,
 * "Events and the canonical order"). Whatever order events arrive in, two logs holding the same
 * events hold the same state and the same rejections.
 *
 * - An event that sorts after every event held (the common case) is reduced directly.
 * - One that sorts earlier is inserted in its place and the log re-folds from the last checkpoint
 *   before it: the verdicts of the events after it are recomputed (a late accept can make a
 *   member's earlier-rejected message valid; a late cancel can make an accept a conflict).
 * - An event id already held is refused as `duplicate` and changes nothing.
 * - Rejected events stay in the log (a later arrival may change their verdict); events that are not
 *   well formed (`isOrgEvent`) are refused as `malformed` and not kept, since nothing can make
 *   them valid.
 *
 * Ids must identify content (the client uses the hash of the signed envelope): of two different
 * events sent with the same id, the log keeps the first it sees.
 *
 * @example
 * ```ts
 * const log = new OrgLog({ organizationId });
 * for (const event of received) {
 *   const { rejected } = log.add(event);
 *   if (rejected) console.debug(rejected.id, rejected.reason);
 * }
 * render(log.state);
 * ```
 */
export class OrgLog {
  /** The organization key as a member id. */
  readonly organizationId: MemberId;
  /** The reducer rules in force (the defaults filled in). */
  readonly config: ReducerConfig;
  readonly #interval: number;
  readonly #events: OrgEvent[] = [];
  readonly #ids = new Set<string>();
  readonly #rejections = new Map<string, RejectionReason>();
  readonly #checkpoints: Checkpoint[];
  #state: OrgState;

  /**
   * @param init - the organization and its rules
   * @throws {RangeError} when `organizationId` is not a member id or `checkpointInterval` is not a
   *   positive integer
   */
  constructor(init: OrgLogInit) {
    const interval = init.checkpointInterval ?? 256;
    if (!Number.isSafeInteger(interval) || interval < 1) {
      throw new RangeError(`checkpointInterval: expected a positive integer, got ${interval}`);
    }
    this.organizationId = init.organizationId;
    this.config = resolveConfig(init.config);
    this.#interval = interval;
    this.#state = initialState(init.organizationId);
    this.#checkpoints = [{ count: 0, state: this.#state }];
  }

  /** The state: the fold of every event held, in canonical order. */
  get state(): OrgState {
    return this.#state;
  }

  /** How many events the log holds (applied and rejected). */
  get size(): number {
    return this.#events.length;
  }

  /**
   * Adds one event in its canonical place.
   *
   * @param event - a received (or own) event; anything is accepted as input
   * @returns the state after the event, and the event's own rejection if it was refused in its
   *   place (`duplicate` when its id is already held, `malformed` when it is not well formed)
   */
  add(event: OrgEvent): ReduceResult {
    if (!isOrgEvent(event)) {
      return { state: this.#state, rejected: { id: rejectionId(event), reason: "malformed" } };
    }
    if (this.#ids.has(event.id)) {
      return { state: this.#state, rejected: { id: event.id, reason: "duplicate" } };
    }
    this.#ids.add(event.id);
    const events = this.#events;
    const last = events[events.length - 1];
    if (last === undefined || compareEvents(last, event) < 0) {
      events.push(event);
      const result = this.#step(this.#state, event, events.length);
      this.#state = result.state;
      return result;
    }
    const position = insertionIndex(events, event);
    events.splice(position, 0, event);
    return this.#refold(position, event);
  }

  /**
   * Whether the log holds an event with this id (applied or rejected).
   *
   * @param id - an event id
   */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /**
   * The events held, in canonical order (a copy).
   *
   * @returns every event held, applied or rejected
   */
  events(): OrgEvent[] {
    return this.#events.slice();
  }

  /**
   * The events refused in their canonical place, by event id (a copy). Recomputed on every re-fold,
   * so an event can leave this map when an earlier event arrives.
   *
   * @returns event id → reason
   */
  rejections(): Map<string, RejectionReason> {
    return new Map(this.#rejections);
  }

  /**
   * Why the event `id` is refused in its place, or `undefined` when it is applied or not held.
   *
   * @param id - an event id
   */
  rejectionOf(id: string): RejectionReason | undefined {
    return this.#rejections.get(id);
  }

  /**
   * The Lamport clock to stamp on the next own event (docs/PROTOCOL.md, "Clocks"): one more than
   * the highest clock of the applied events. Rejected events do not count, so that a stranger
   * cannot push everyone's clock to the top of its range.
   *
   * @returns `state.clock + 1`
   */
  nextClock(): bigint {
    return this.#state.clock + 1n;
  }

  /** Reduces the event at 1-based position `count` and keeps its verdict (and a checkpoint). */
  #step(state: OrgState, event: OrgEvent, count: number): ReduceResult {
    const result = applyGuarded(state, event, this.config);
    if (result.rejected === undefined) this.#rejections.delete(event.id);
    else this.#rejections.set(event.id, result.rejected.reason);
    if (count % this.#interval === 0) this.#checkpoints.push({ count, state: result.state });
    return result;
  }

  /**
   * Re-folds from the last checkpoint at or before `position` (the index of the inserted event).
   */
  #refold(position: number, inserted: OrgEvent): ReduceResult {
    const checkpoints = this.#checkpoints;
    // Checkpoints after the insertion point describe a history that no longer exists.
    let keep = checkpoints.length - 1;
    while (keep > 0 && (checkpoints[keep]?.count ?? 0) > position) keep--;
    checkpoints.length = keep + 1;
    const start = checkpoints[keep] ?? { count: 0, state: initialState(this.organizationId) };
    let state = start.state;
    let own: Rejection | undefined;
    const events = this.#events;
    for (let index = start.count; index < events.length; index++) {
      const event = events[index] as OrgEvent;
      const result = this.#step(state, event, index + 1);
      state = result.state;
      if (event === inserted) own = result.rejected;
    }
    this.#state = state;
    return own === undefined ? { state } : { state, rejected: own };
  }
}

/** Index at which `event` keeps `events` sorted (binary search; ids are unique, so no ties). */
function insertionIndex(events: readonly OrgEvent[], event: OrgEvent): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareEvents(events[middle] as OrgEvent, event) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
