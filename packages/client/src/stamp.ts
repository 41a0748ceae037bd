import type { MemberId, OrgEvent, OrgLog, OrgState } from "@orgchat/state";
import { encodeJson, hashId } from "./encoding.js";

/**
 * A local event (from `EventLog.event`) stamped so that it sorts after the clock `after`
 * (docs/PROTOCOL.md, "Clocks"): a decision on a request, or a requester's cancel, must follow the
 * request it names, and strangers' requests do not raise the clock `nextClock()` gives. The id is
 * recomputed as `EventLog.event` computes it (the hash of the draft).
 *
 * @param log - the organization's log
 * @param event - the event as `EventLog.event` built it
 * @param after - the clock it must follow (the request's)
 * @returns `event` itself when its clock already follows `after`, else the event re-stamped at
 *   `log.nextClock(after)`
 * @throws {ClockLimitError} (`@orgchat/state`) when that clock would exceed 2^63 − 1
 */
export function stampAfter<E extends OrgEvent>(log: OrgLog, event: E, after: bigint): E {
  if (event.clock > after) return event;
  const draft = {
    type: event.type,
    author: event.author,
    clock: log.nextClock(after),
    sentAt: event.sentAt,
    body: event.body,
  };
  return { id: hashId(encodeJson(draft)), ...draft } as unknown as E;
}

/**
 * The highest clock of `member`'s own requests to join and of its cancels of them, or `undefined`
 * when it made none: a re-request is stamped after it (those events do not raise `state.clock`).
 *
 * @param state - the organization's state as this client holds it
 * @param member - this identity's member id
 */
export function ownRequestsClock(state: OrgState, member: MemberId): bigint | undefined {
  let latest: bigint | undefined;
  for (const request of state.requests.values()) {
    if (request.requester !== member) continue;
    let clock = request.clock;
    const decided = request.decidedAt;
    if (request.decidedBy === member && decided !== undefined && decided > clock) clock = decided;
    if (latest === undefined || clock > latest) latest = clock;
  }
  return latest;
}
