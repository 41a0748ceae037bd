/**
 * The option and result types of `OrgLog` (log.ts), apart so that the log stays one readable file.
 *
 * @module
 */
import type { EvictedEvent } from "./buffer.js";
import type { MemberId } from "./events.js";
import type { ReduceResult } from "./reduce.js";
import type { OrgState, ReducerConfig } from "./state.js";

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
  /**
   * At most this many rejected events are kept (buffered) for a later re-fold; beyond it the first
   * in eviction order are dropped (docs/PROTOCOL.md, "Buffered events"). 0 keeps none.
   * @default defaultBufferLimits.maxBuffered (1,000)
   */
  readonly maxBuffered?: number;
  /**
   * `prune(now)` drops the buffered events whose signed `sentAt` is this far from `now`, either way.
   * `Infinity` keeps them until the count bound evicts them.
   * @default defaultBufferLimits.maxBufferedAgeMs (7 days)
   */
  readonly maxBufferedAgeMs?: number;
}

/** What {@link OrgLog.add} gives: the reducer's result, and what the event did to the buffer. */
export interface OrgLogAddResult extends ReduceResult {
  /**
   * Ids of events that were buffered (rejected) and apply now that this event took its place.
   * Present only when not empty.
   */
  readonly explained?: readonly string[];
  /**
   * Buffered events dropped to keep the count bound (possibly this event itself, when it is
   * rejected and first in eviction order). Present only when not empty.
   */
  readonly evicted?: readonly EvictedEvent[];
}

/** What {@link OrgLog.rebase} gives. */
export interface OrgLogRebaseResult {
  /** The state after the re-base (unchanged when `rebased` is false). */
  readonly state: OrgState;
  /** False when the base is older than the one in force, and was ignored. */
  readonly rebased: boolean;
  /** Ids of the events held that the description covers, dropped from the log. */
  readonly covered: readonly string[];
  /** Ids of the events that were buffered (rejected) and apply on the new base. */
  readonly explained: readonly string[];
  /** Buffered events dropped to keep the count bound after the re-fold. */
  readonly evicted: readonly EvictedEvent[];
}

/** What {@link OrgLog.compact} gives: the state to save and the events it folds. */
export interface OrgLogCompaction {
  /** The state after the events compacted: what `restore` starts from. */
  readonly state: OrgState;
  /** Ids of the applied events folded into `state`, no longer held (delete them from storage). */
  readonly covered: readonly string[];
}
