import { Map as ImmutableMap, Set as ImmutableSet } from "immutable";
import { levelOf, rankLevels } from "./authorization.js";
import { diffMap } from "./diff.js";
import type { MemberId, OrgEvent, OrgEventOf, RejectionReason } from "./events.js";
import { addGrant, addMember, type Changes, dropMember, type Handler } from "./membership.js";
import { compareEvents } from "./order.js";
import { requestRejectionReasons } from "./request-admission.js";
import {
  defaultReducerConfig,
  type JoinRequest,
  type JoinRequestStatus,
  type OrgState,
  type ReducerConfig,
} from "./state.js";

/**
 * Status of a request to join at a given time: the stored status, or `expired` for a pending
 * request whose expiry has passed (docs/PROTOCOL.md, "Requests that never get stuck").
 */
export type RequestStatus = JoinRequestStatus | "expired";

// -------------------------------------------------------------------------------------------------
// Request index. The cap, the one-pending-request-per-key rule and the cool-down need the pending
// requests and each key's last rejection; scanning every request ever made would make each request
// cost O(all requests). The index is derived data: it is memoised per (immutable) requests map,
// kept up to date by `putRequest` and rebuilt from the map when missing (e.g. a state built from a
// description), so it is never part of the state and never makes two equal states differ.

interface RequestIndex {
  /** Ids of requests whose stored status is `pending` (expired ones included). */
  readonly pending: ImmutableSet<string>;
  /** The same ids by requester (usually one; expired ones stay until decided). */
  readonly pendingByKey: ImmutableMap<MemberId, ImmutableSet<string>>;
  /** Each key's latest rejection time (`decidedSentAt`), for the re-request cool-down. */
  readonly lastRejection: ImmutableMap<MemberId, number>;
  /**
   * At most the least `sentAt` of the requests in `pending` (`Infinity` when none): while
   * `oldest + requestExpiryMs > now`, none of them has expired, so `pending.size` is the count of
   * live ones. A new pending request lowers it; a decision leaves it (still a lower bound); a
   * scan that finds every pending request live sets it to their least `sentAt` (a cache of derived
   * data: the same for every reader).
   */
  oldest: number;
}

const indexes = new WeakMap<OrgState["requests"], RequestIndex>();

function requestIndex(requests: OrgState["requests"]): RequestIndex {
  let index = indexes.get(requests);
  if (index === undefined) {
    index = buildRequestIndex(requests.values());
    indexes.set(requests, index);
  }
  return index;
}

/**
 * Gives `requests` its index built from `indexed`: every request of `requests` that is pending or
 * rejected, each once (the others add nothing to the index). A snapshot's decoder reads only those
 * at a start (`snapshot-requests.ts`).
 *
 * @param requests - the map
 * @param indexed - its pending and rejected requests
 * @internal
 */
export function seedRequestIndexOf(
  requests: OrgState["requests"],
  indexed: readonly JoinRequest[],
): void {
  for (const request of indexed) {
    if (request.status !== "pending" && request.status !== "rejected") {
      throw new RangeError("indexed: a request neither pending nor rejected");
    }
  }
  indexes.set(requests, buildRequestIndex(indexed));
}

/**
 * The index of `requests` in one pass over mutable copies: the same index as `indexRequest` applied
 * to each request in turn (a request that is not pending only ever removes an id that is not
 * there), without a new set and map per request (a start rebuilds it over every request ever made).
 */
function buildRequestIndex(requests: Iterable<JoinRequest>): RequestIndex {
  const pending = ImmutableSet<string>().asMutable();
  const byKey = new Map<MemberId, string[]>();
  let lastRejection = ImmutableMap<MemberId, number>().asMutable();
  let oldest = Number.POSITIVE_INFINITY;
  for (const request of requests) {
    if (request.status === "pending") {
      pending.add(request.id);
      if (request.sentAt < oldest) oldest = request.sentAt;
      const ids = byKey.get(request.requester);
      if (ids === undefined) byKey.set(request.requester, [request.id]);
      else ids.push(request.id);
    } else {
      lastRejection = indexRejection(lastRejection, request);
    }
  }
  const pendingByKey = ImmutableMap<MemberId, ImmutableSet<string>>().withMutations((map) => {
    for (const [key, ids] of byKey) map.set(key, ImmutableSet(ids));
  });
  return {
    pending: pending.asImmutable(),
    pendingByKey,
    lastRejection: lastRejection.asImmutable(),
    oldest,
  };
}

/** The index with `request` (new, or its new status) in it. */
function indexRequest(index: RequestIndex, request: JoinRequest): RequestIndex {
  const key = request.requester;
  const ids = index.pendingByKey.get(key) ?? ImmutableSet<string>();
  const pendingIds = request.status === "pending" ? ids.add(request.id) : ids.delete(request.id);
  return {
    pending:
      request.status === "pending"
        ? index.pending.add(request.id)
        : index.pending.delete(request.id),
    pendingByKey:
      pendingIds === ids
        ? index.pendingByKey
        : pendingIds.size === 0
          ? index.pendingByKey.delete(key)
          : index.pendingByKey.set(key, pendingIds),
    lastRejection: indexRejection(index.lastRejection, request),
    oldest:
      request.status === "pending" && request.sentAt < index.oldest ? request.sentAt : index.oldest,
  };
}

function indexRejection(
  lastRejection: ImmutableMap<MemberId, number>,
  request: JoinRequest,
): ImmutableMap<MemberId, number> {
  if (request.status !== "rejected" || request.decidedSentAt === undefined) return lastRejection;
  // A request pushed out of a full queue says nothing about its requester: no cool-down.
  if (request.rejectionReason === requestRejectionReasons.queueFull) return lastRejection;
  const previous = lastRejection.get(request.requester);
  return previous !== undefined && previous >= request.decidedSentAt
    ? lastRejection
    : lastRejection.set(request.requester, request.decidedSentAt);
}

/** Stores `request` and carries the index over to the new map. */
function putRequest(requests: OrgState["requests"], request: JoinRequest): OrgState["requests"] {
  const index = requestIndex(requests);
  const next = requests.set(request.id, request);
  indexes.set(next, indexRequest(index, request));
  return next;
}

/**
 * Records the end of a pending request: its status, who ended it (the decider, or the requester
 * for a cancel), at which clock and signed time, and a rejection's reason.
 */
function putDecision(
  requests: OrgState["requests"],
  request: JoinRequest,
  status: "accepted" | "rejected" | "cancelled",
  event: OrgEvent,
  rejectionReason?: string,
): OrgState["requests"] {
  return putRequest(requests, {
    ...request,
    status,
    decidedBy: event.author,
    decidedAt: event.clock,
    decidedSentAt: event.sentAt,
    ...(rejectionReason === undefined ? {} : { rejectionReason }),
  });
}

function isExpiredAt(
  request: { readonly sentAt: number },
  time: number,
  expiryMs: number,
): boolean {
  return time >= request.sentAt + expiryMs;
}

function resolveExpiry(config: Partial<ReducerConfig> | undefined): number {
  return config?.requestExpiryMs ?? defaultReducerConfig.requestExpiryMs;
}

/**
 * The status of request `requestId` at time `now`: its stored status, or `expired` when it is still
 * pending and `now ≥ sentAt + requestExpiryMs`. Time comes from the caller, never from a clock
 * inside the library.
 *
 * @param state - the organization
 * @param requestId - the id of the `request.sent` event
 * @param now - the time to judge expiry at (ms, same scale as `sentAt`)
 * @param config - the reducer rules in force (only `requestExpiryMs` is read);
 *   {@link defaultReducerConfig} when omitted
 * @returns the status, or `undefined` for an unknown request
 * @example
 * ```ts
 * if (requestStatus(state, myRequestId, Date.now()) === "expired") offerToRequestAgain();
 * ```
 */
export function requestStatus(
  state: OrgState,
  requestId: string,
  now: number,
  config?: Partial<ReducerConfig>,
): RequestStatus | undefined {
  const request = state.requests.get(requestId);
  if (request === undefined) return undefined;
  if (request.status === "pending" && isExpiredAt(request, now, resolveExpiry(config))) {
    return "expired";
  }
  return request.status;
}

/**
 * The requests to join still waiting for a decision at time `now` (pending and not expired), in
 * canonical order of their `request.sent` events. What a manager's inbox shows.
 *
 * @param state - the organization
 * @param now - the time to judge expiry at (ms)
 * @param config - the reducer rules in force (only `requestExpiryMs` is read);
 *   {@link defaultReducerConfig} when omitted
 * @returns the pending requests, oldest first
 * @example
 * ```ts
 * for (const request of pendingRequests(state, Date.now())) inbox.show(request);
 * ```
 */
export function pendingRequests(
  state: OrgState,
  now: number,
  config?: Partial<ReducerConfig>,
): JoinRequest[] {
  const expiryMs = resolveExpiry(config);
  const result: JoinRequest[] = [];
  for (const id of requestIndex(state.requests).pending) {
    const request = state.requests.get(id);
    if (request !== undefined && !isExpiredAt(request, now, expiryMs)) result.push(request);
  }
  return result.sort(compareRequests);
}

/**
 * Whether at least `count` requests to join are pending at time `now` (not expired): the question a
 * cap asks, without listing or sorting them. Looks at no request while fewer than `count` are stored
 * as pending (an O(1) answer below the cap: an owner asks it for every request of a burst), and stops
 * at the `count`-th live one otherwise.
 *
 * @param state - the organization
 * @param count - how many pending requests to look for (0 or less: always true)
 * @param now - the time to judge expiry at (ms)
 * @param config - the reducer rules in force (only `requestExpiryMs` is read);
 *   {@link defaultReducerConfig} when omitted
 * @returns `pendingRequests(state, now, config).length >= count`
 * @example
 * ```ts
 * if (hasPendingRequests(state, config.maxPendingRequests, Date.now(), config)) pushOutOldest();
 * ```
 */
export function hasPendingRequests(
  state: OrgState,
  count: number,
  now: number,
  config?: Partial<ReducerConfig>,
): boolean {
  if (count <= 0) return true;
  const index = requestIndex(state.requests);
  const pending = index.pending;
  if (pending.size < count) return false;
  const expiryMs = resolveExpiry(config);
  // None expired yet (the least `sentAt` is recent enough): every stored one counts, none is read.
  if (!isExpiredAt({ sentAt: index.oldest }, now, expiryMs)) return true;
  let live = 0;
  let oldest = Number.POSITIVE_INFINITY;
  for (const id of pending) {
    const request = state.requests.get(id);
    if (request === undefined) continue;
    if (isExpiredAt(request, now, expiryMs)) {
      if (live >= count) return true;
      oldest = Number.NEGATIVE_INFINITY;
      continue;
    }
    live++;
    if (request.sentAt < oldest) oldest = request.sentAt;
  }
  // Every one read, none expired: the bound becomes exact (the next question reads none).
  if (oldest !== Number.NEGATIVE_INFINITY) index.oldest = oldest;
  return live >= count;
}

/**
 * The request of `requester` pending at time `now` (not expired), through the per-key index: what
 * `pendingRequests` lists for that key, without listing the others. Should a key hold several (a
 * late request placed earlier in the canonical order), the last of them in that order.
 *
 * @param state - the organization
 * @param requester - the requester's member id
 * @param now - the time to judge expiry at (ms)
 * @param config - the reducer rules in force (only `requestExpiryMs` is read);
 *   {@link defaultReducerConfig} when omitted
 * @returns the pending request, or undefined when the key has none
 * @example
 * ```ts
 * const request = pendingRequestOf(state, memberId, Date.now());
 * if (request !== undefined) showPending(request.id);
 * ```
 */
export function pendingRequestOf(
  state: OrgState,
  requester: MemberId,
  now: number,
  config?: Partial<ReducerConfig>,
): JoinRequest | undefined {
  const ids = requestIndex(state.requests).pendingByKey.get(requester);
  if (ids === undefined) return undefined;
  const expiryMs = resolveExpiry(config);
  let last: JoinRequest | undefined;
  for (const id of ids) {
    const request = state.requests.get(id);
    if (request === undefined || isExpiredAt(request, now, expiryMs)) continue;
    if (last === undefined || compareRequests(last, request) < 0) last = request;
  }
  return last;
}

/**
 * The requesters whose requests stored as pending differ between two states: a request added,
 * decided, cancelled, pushed out, or pending again after a re-fold (expiry is time, not a change of
 * state). Through the per-key index: O(what changed) when `after` was reduced from `before` (their
 * indexes share structure: a re-fold's re-applied events count, as they cost the log), a
 * comparison of both indexes otherwise (a state built anew).
 *
 * @param before - an earlier state of the organization
 * @param after - a later one
 * @param visit - called once per such requester
 * @example
 * ```ts
 * changedRequesters(lastSeen, log.state, (key) => recheck(key));
 * ```
 */
export function changedRequesters(
  before: OrgState,
  after: OrgState,
  visit: (requester: MemberId) => void,
): void {
  const a = requestIndex(before.requests).pendingByKey;
  const b = requestIndex(after.requests).pendingByKey;
  // A re-fold re-applies events: a key's set of ids is then a new, equal set (not a change).
  diffMap(a, b, {
    added: visit,
    removed: visit,
    changed: (requester, was, now) => {
      if (!sameIds(was, now)) visit(requester);
    },
  });
}

/** Whether two sets of ids hold the same ids (usually one each: cheaper than a hashed `is`). */
function sameIds(a: ImmutableSet<string>, b: ImmutableSet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const id of a) if (!b.has(id)) return false;
  return true;
}

/** Two requests in the canonical order of their `request.sent` events. */
function compareRequests(a: JoinRequest, b: JoinRequest): number {
  return compareEvents(
    { clock: a.clock, author: a.requester, id: a.id },
    { clock: b.clock, author: b.requester, id: b.id },
  );
}

/** Asks the injected ENS verifier; a verifier that throws refuses (a reducer never throws). */
function ensAccepted(config: ReducerConfig, ensName: string, member: MemberId): boolean {
  if (ensName === "") return false;
  try {
    return config.verifyEns(ensName, member) === true;
  } catch {
    // Not a drop: the request is refused (`unauthorized`), as for a name that does not verify.
    return false;
  }
}

// -------------------------------------------------------------------------------------------------
// Requests to join

/**
 * @internal `request.sent`: access mode, ENS, one pending request per key, cool-down; at the cap,
 *   the oldest pending requests are pushed out (rejected "full, try later", no decider).
 */
export const requestSent: Handler<"request.sent"> = (state, event, config) => {
  const author = event.author;
  const { chatId, ensName, displayName } = event.body;
  if (state.members.has(author)) return "conflict";
  if (chatId !== "" && !state.channels.has(chatId)) return "unknown-target";
  const permissions = state.permissions;
  if (permissions.access === "invitation-only") return "unauthorized";
  if (permissions.ensOnly && !ensAccepted(config, ensName, author)) return "unauthorized";
  // Pending = stored as pending and not expired at this request's own time (expired requests never
  // hold a slot, so the organization cannot get stuck at the cap). The author's own pending
  // requests through the per-key index, the others only when the stored ones reach the cap: a
  // request costs O(log) below it, one pass over at most `maxPendingRequests` at it.
  const index = requestIndex(state.requests);
  const live = (request: JoinRequest | undefined): request is JoinRequest =>
    request !== undefined && !isExpiredAt(request, event.sentAt, config.requestExpiryMs);
  for (const id of index.pendingByKey.get(author) ?? []) {
    if (live(state.requests.get(id))) return "conflict";
  }
  const rejectedAt = index.lastRejection.get(author);
  if (rejectedAt !== undefined && event.sentAt < rejectedAt + config.reRequestCooldownMs) {
    return "rate-limited";
  }
  const base = {
    id: event.id,
    requester: author,
    chatId,
    ensName,
    displayName,
    clock: event.clock,
    sentAt: event.sentAt,
  };
  if (permissions.access === "no-membership") {
    // Open organization: a valid request is its own acceptance (no decider, so no `decidedBy`).
    const accepted: JoinRequest = {
      ...base,
      status: "accepted",
      decidedAt: event.clock,
      decidedSentAt: event.sentAt,
    };
    return {
      ...addMember(state, author, event.clock, displayName),
      requests: putRequest(state.requests, accepted),
    };
  }
  if (config.maxPendingRequests < 1) return "rate-limited";
  let requests = state.requests;
  const queue =
    index.pending.size < config.maxPendingRequests
      ? []
      : [...index.pending].map((id) => state.requests.get(id)).filter(live);
  const excess = queue.length - config.maxPendingRequests + 1;
  if (excess > 0) {
    // A full queue: the oldest pending requests make room (docs/SECURITY.md, "Requests to join").
    // Refusing the newcomer instead would let one stranger with fresh keys hold every slot until
    // the expiry, again and again; pushing out the oldest makes a flood pay one admission per slot
    // (the owner's admission rate bounds how fast), and every request it pushes out was listed
    // for a while and is answered "full, try later" by the owner.
    for (const evicted of queue.sort(compareAge).slice(0, excess)) {
      requests = putRequest(requests, {
        ...evicted,
        status: "rejected",
        decidedAt: event.clock,
        decidedSentAt: event.sentAt,
        rejectionReason: requestRejectionReasons.queueFull,
      });
    }
  }
  return { requests: putRequest(requests, { ...base, status: "pending" }) };
};

/** Oldest first: by signed send time, then in canonical order (a total order: ids are unique). */
function compareAge(a: JoinRequest, b: JoinRequest): number {
  if (a.sentAt !== b.sentAt) return a.sentAt < b.sentAt ? -1 : 1;
  return compareEvents(
    { clock: a.clock, author: a.requester, id: a.id },
    { clock: b.clock, author: b.requester, id: b.id },
  );
}

/** @internal `request.cancelled`: the requester, while pending and before the expiry. */
export const requestCancelled: Handler<"request.cancelled"> = (state, event, config) => {
  const request = state.requests.get(event.body.requestId);
  if (request === undefined) return "unknown-target";
  if (request.requester !== event.author) return "unauthorized";
  if (request.status !== "pending") return "conflict";
  if (isExpiredAt(request, event.sentAt, config.requestExpiryMs)) return "expired";
  return {
    requests: putDecision(state.requests, request, "cancelled", event),
  };
};

/** Shared gate of accept and reject: a manager or above deciding a pending, unexpired request. */
function decidable(
  state: OrgState,
  event: OrgEventOf<"request.accepted" | "request.rejected">,
  config: ReducerConfig,
): JoinRequest | RejectionReason {
  if (!state.members.has(event.author)) return "unknown-member";
  if (levelOf(state, event.author) < rankLevels.manager) return "unauthorized";
  const request = state.requests.get(event.body.requestId);
  if (request === undefined) return "unknown-target";
  // A channel request ends in an owner-issued grant, so only the owner may accept one.
  if (
    event.type === "request.accepted" &&
    request.chatId !== "" &&
    event.author !== state.organizationId
  ) {
    return "unauthorized";
  }
  if (request.status !== "pending") return "conflict";
  if (isExpiredAt(request, event.sentAt, config.requestExpiryMs)) return "expired";
  return request;
}

/** @internal `request.accepted`: a manager or above (the owner for a channel request). */
export const requestAccepted: Handler<"request.accepted"> = (state, event, config) => {
  const request = decidable(state, event, config);
  if (typeof request === "string") return request;
  if (state.banned.has(request.requester)) return "banned";
  if (state.members.has(request.requester)) return "conflict";
  if (request.chatId !== "" && !state.channels.has(request.chatId)) return "unknown-target";
  const changes = addMember(state, request.requester, event.clock, request.displayName);
  if (request.chatId !== "") {
    changes.grants = addGrant(state.grants, request.requester, request.chatId, event.clock);
  }
  changes.requests = putDecision(state.requests, request, "accepted", event);
  return changes;
};

/** @internal `request.rejected`: a manager or above; the reason travels to the requester. */
export const requestRejected: Handler<"request.rejected"> = (state, event, config) => {
  const request = decidable(state, event, config);
  if (typeof request === "string") return request;
  return {
    requests: putDecision(state.requests, request, "rejected", event, event.body.reason),
  };
};

/**
 * @internal On a ban: rejects the banned key's pending requests (reason "banned"), so that none of
 *   them holds a slot under the cap or waits for a decision that can never come.
 */
export function rejectPendingOf(
  state: OrgState,
  member: MemberId,
  event: OrgEventOf<"member.banned">,
): OrgState["requests"] {
  let requests = state.requests;
  for (const id of requestIndex(state.requests).pendingByKey.get(member) ?? []) {
    const request = state.requests.get(id);
    if (request === undefined) continue;
    requests = putDecision(requests, request, "rejected", event, "banned");
  }
  return requests;
}

// -------------------------------------------------------------------------------------------------
// Invitations

/** @internal `invitation.issued`: a manager or above (the owner for a channel invitation). */
export const invitationIssued: Handler<"invitation.issued"> = (state, event) => {
  const { invitee, chatId } = event.body;
  if (!state.members.has(event.author)) return "unknown-member";
  if (levelOf(state, event.author) < rankLevels.manager) return "unauthorized";
  // A channel invitation carries an owner-signed grant (spec 55 `OrganizationInvitation.grant`).
  if (chatId !== "" && event.author !== state.organizationId) return "unauthorized";
  if (chatId !== "" && !state.channels.has(chatId)) return "unknown-target";
  if (state.banned.has(invitee)) return "banned";
  if (state.members.has(invitee)) return "conflict";
  return {
    invitations: state.invitations.set(event.id, {
      id: event.id,
      invitee,
      chatId,
      issuedBy: event.author,
      clock: event.clock,
      sentAt: event.sentAt,
      used: false,
    }),
  };
};

/** @internal `invitation.used`: the invitee, once, before the expiry. */
export const invitationUsed: Handler<"invitation.used"> = (state, event, config) => {
  const invitation = state.invitations.get(event.body.invitationId);
  if (invitation === undefined) return "unknown-target";
  if (invitation.invitee !== event.author) return "unauthorized";
  if (invitation.used || invitation.revokedAt !== undefined) return "conflict";
  if (isExpiredAt(invitation, event.sentAt, config.invitationExpiryMs)) return "expired";
  if (state.members.has(event.author)) return "conflict";
  if (invitation.chatId !== "" && !state.channels.has(invitation.chatId)) return "unknown-target";
  const changes = addMember(state, event.author, event.clock, event.body.displayName ?? "");
  if (invitation.chatId !== "") {
    changes.grants = addGrant(state.grants, event.author, invitation.chatId, event.clock);
  }
  changes.invitations = state.invitations.set(invitation.id, {
    ...invitation,
    used: true,
    usedAt: event.clock,
  });
  return changes;
};

/**
 * @internal On a ban: voids the banned key's unused invitations (after an unban it must be invited
 * again).
 */
export function revokeInvitationsOf(
  state: OrgState,
  member: MemberId,
  clock: bigint,
): OrgState["invitations"] {
  let invitations = state.invitations;
  for (const invitation of state.invitations.values()) {
    if (invitation.invitee === member && !invitation.used && invitation.revokedAt === undefined) {
      invitations = invitations.set(invitation.id, { ...invitation, revokedAt: clock });
    }
  }
  return invitations;
}

// -------------------------------------------------------------------------------------------------
// Requests to leave

/** @internal `leave.requested`: a member other than the owner, one pending request at a time. */
export const leaveRequested: Handler<"leave.requested"> = (state, event) => {
  if (event.author === state.organizationId) return "unauthorized";
  const member = state.members.get(event.author);
  if (member === undefined) return "unknown-member";
  for (const request of state.leaveRequests.values()) {
    const current = request.clock >= member.joinedAt;
    if (request.member === event.author && request.status === "pending" && current) {
      return "conflict";
    }
  }
  return {
    leaveRequests: state.leaveRequests.set(event.id, {
      id: event.id,
      member: event.author,
      clock: event.clock,
      status: "pending",
    }),
  };
};

/** @internal `leave.resolved`: a manager or above, for a member below it (the owner for anyone). */
export const leaveResolved: Handler<"leave.resolved"> = (state, event) => {
  if (!state.members.has(event.author)) return "unknown-member";
  const level = levelOf(state, event.author);
  if (level < rankLevels.manager) return "unauthorized";
  const request = state.leaveRequests.get(event.body.requestId);
  if (request === undefined) return "unknown-target";
  // A request from an earlier membership (the member was removed and joined again since) is moot.
  const member = state.members.get(request.member);
  if (request.status !== "pending" || member === undefined || request.clock < member.joinedAt) {
    return "conflict";
  }
  if (event.author !== state.organizationId && levelOf(state, request.member) >= level) {
    return "unauthorized";
  }
  const accepted = event.body.accepted;
  const changes: Changes = accepted ? dropMember(state, request.member) : {};
  changes.leaveRequests = state.leaveRequests.set(request.id, {
    ...request,
    status: accepted ? "accepted" : "rejected",
    decidedBy: event.author,
    decidedAt: event.clock,
  });
  return changes;
};
