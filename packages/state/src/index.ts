/**
 * The organization state of Waku v2 Organization Chats (spec 55): pure, total reducers over
 * Lamport-clocked events (docs/PROTOCOL.md, "State").
 *
 * - `reduce(state, event, config?)` applies one event: never throws, refuses what the authorization
 *   matrix, the request state machine or the bans forbid, and says why (`rejected.reason`).
 * - `OrgLog` keeps the events in canonical order `(clock, author, id)` and the state they fold to,
 *   whatever order they arrive in: every member with the same events has the same state. Clocks are
 *   bounded (`clockLimits`): at most 2^63 − 1, and a non-owner event may not jump more than 2^24
 *   above the clocks before it; `nextClock(after?)` stamps the next own event. Rejected
 *   events wait in a bounded buffer (`maxBuffered`, `prune(now)`) for the event or the description
 *   (`rebase`) that explains them.
 * - Derived views: `rankOf`, `canPost`, `requestStatus`, `pendingRequests` (`hasPendingRequests`,
 *   `pendingRequestOf` answer a cap and one key without listing them); `diffMap` finds what
 *   changed between two states' maps in time proportional to the change.
 *
 * Time arrives as data (the events' signed `sentAt`, an explicit `now`): the package reads no
 * clock, draws no randomness and does no I/O.
 *
 * The mapping of spec 55 messages to events is in `@orgchat/state/wire`, the paged description in
 * `@orgchat/state/description`.
 *
 * @example
 * ```ts
 * import { OrgLog, canPost } from "@orgchat/state";
 *
 * const log = new OrgLog({ organizationId });
 * for (const event of received) log.add(event);
 * console.log(log.state.members.size, canPost(log.state, me, "general"));
 * ```
 *
 * @packageDocumentation
 */

export {
  canPost,
  grantKey,
  type Rank,
  rankOf,
  ranks,
} from "./authorization.js";
export {
  defaultBufferLimits,
  type EvictedEvent,
  type EvictionCause,
  isFinalRejection,
} from "./buffer.js";
export { ClockLimitError, clockLimits, isClockLimitError } from "./clock.js";
export { diffMap, type MapDiffStats, type MapDiffVisitor } from "./diff.js";
export {
  type DescriptionCoveredType,
  descriptionCoveredTypes,
  eventTypes,
} from "./event-types.js";
export {
  type AccessMode,
  type EventBodies,
  type EventType,
  type Identity,
  type IdentityImage,
  type MemberId,
  type OrgEvent,
  type OrgEventOf,
  type Permissions,
  type Rejection,
  type RejectionReason,
  type Role,
  rejectionReasons,
  roles,
} from "./events.js";
export { initialState } from "./initial-state.js";
export {
  OrgLog,
  type OrgLogAddResult,
  type OrgLogCompaction,
  type OrgLogInit,
  type OrgLogRebaseResult,
} from "./log.js";
export { compareEvents } from "./order.js";
export { type ReduceResult, reduce } from "./reduce.js";
export {
  defaultRequestAdmissionLimits,
  judgeRequestTime,
  RequestAdmission,
  type RequestAdmissionLimits,
  type RequestTimeVerdict,
  requestRejectionReasons,
} from "./request-admission.js";
export {
  changedRequesters,
  hasPendingRequests,
  pendingRequestOf,
  pendingRequests,
  type RequestStatus,
  requestStatus,
} from "./requests.js";
export { decodeSnapshot, encodeSnapshot, snapshotVersion } from "./snapshot.js";
export { AppliedIds, type AppliedIdsView } from "./snapshot-applied.js";
export { isSnapshotFormatError, SnapshotFormatError } from "./snapshot-codec.js";
export {
  accessModes,
  type Ban,
  type Category,
  type Channel,
  defaultReducerConfig,
  type EpochInfo,
  type Grant,
  type Invitation,
  type JoinRequest,
  type JoinRequestStatus,
  type LeaveRequest,
  type Member,
  type MessageRecord,
  type OrgState,
  type ReducerConfig,
} from "./state.js";
export { type MapView, TableMap } from "./table-map.js";
export { eventLimits, isEventId, isOrgEvent } from "./validate.js";
