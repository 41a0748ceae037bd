/**
 * Delegates' decisions reach everyone (docs/DELEGATION.md, "Decisions reach everyone"): a delegate
 * publishes each event it authors (an accept or reject with the request it decides, a removal, a
 * ban, an invitation with its use) as a `delegate-event` envelope signed by its identity key on the organization's description
 * topic; every member and the owner verify it and fold it with the reducers, which authorize it by
 * rank; the owner republishes its description covering it.
 *
 * @module
 */
import { toHex } from "@orgchat/base";
import {
  type Invitation,
  isOrgEvent,
  type OrgEvent,
  type OrgEventOf,
  type OrgState,
  reduce,
} from "@orgchat/state";
import { descriptionTopic, openEnvelope, sealEnvelope, wireLimits } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { heldForDelegate } from "./delegate-grace.js";
import { isDelegate } from "./delegates.js";
import { decodeJson, encodeJson, hashId } from "./encoding.js";
import { newTxn, type Org, type OwnerOrg, type Txn } from "./org.js";
import { describeSoon, noteDelegateDecision } from "./owner-follow.js";

const component = "client/delegate-events";

/** The event types a `delegate-event` may carry (the decisions a delegate authors). */
export const delegateEventTypes: ReadonlySet<OrgEvent["type"]> = new Set([
  "request.accepted",
  "request.rejected",
  "member.removed",
  "member.banned",
  "member.roles.changed",
  "invitation.issued",
]);

/** Why a received `delegate-event` is dropped (reported as `delegate-event-<reason>`). */
export type DelegateEventRefusal =
  | "unopenable"
  | "undecodable"
  | "malformed"
  | "not-its-author"
  | "wrong-type"
  | "wrong-id"
  | "request-mismatch";

/**
 * A `delegate-event` opened and checked: the decision, and the event carried with it if any (in the
 * payload's `request`): the `request.sent` an accept or reject decides, or the `invitation.used` of
 * an `invitation.issued`.
 */
export interface CheckedDelegateEvent {
  readonly event: OrgEvent;
  readonly request?: OrgEvent;
}

/**
 * The id an event of this client's encoding has: the hash of its fields but the id, in the order
 * `EventLog.event` writes them.
 *
 * @param event - an event
 * @returns its content id
 */
export function eventContentId(event: OrgEvent): string {
  const { type, author, clock, sentAt, body } = event;
  return hashId(encodeJson({ type, author, clock, sentAt, body }));
}

/** Decodes one event of a `DelegateEvent` (bounded by the wire codec), or undefined. */
function decodeEvent(bytes: Uint8Array): OrgEvent | undefined {
  let value: unknown;
  try {
    value = decodeJson<unknown>(bytes);
  } catch {
    return undefined;
  }
  return isOrgEvent(value) ? value : undefined;
}

/**
 * Checks the fields of a `delegate-event` against each other (its signature, organization and clock
 * binding are the envelope's): the event is well formed, of a delegate's type, authored by the
 * signer at the envelope's clock, named by its content; a carried event is a well-formed
 * `request.sent` that the decision names (an accept or reject), or the `invitation.used` of an
 * `invitation.issued` (its author the invitee, its `invitationId` the invitation's id).
 *
 * @param signer - the envelope's signer (the payload's `author`)
 * @param clock - the envelope's clock
 * @param eventBytes - the payload's `event`
 * @param requestBytes - the payload's `request`: the carried event (empty for none)
 * @returns the events, or why not
 */
export function checkDelegateEvent(
  signer: Uint8Array,
  clock: bigint,
  eventBytes: Uint8Array,
  requestBytes: Uint8Array,
): CheckedDelegateEvent | DelegateEventRefusal {
  const event = decodeEvent(eventBytes);
  if (event === undefined) return "malformed";
  if (!delegateEventTypes.has(event.type)) return "wrong-type";
  if (event.author !== toHex(signer) || event.clock !== clock) return "not-its-author";
  if (event.id !== eventContentId(event)) return "wrong-id";
  if (requestBytes.length === 0) return { event };
  if (
    event.type !== "request.accepted" &&
    event.type !== "request.rejected" &&
    event.type !== "invitation.issued"
  ) {
    return "request-mismatch";
  }
  const request = decodeEvent(requestBytes);
  if (request === undefined) return "malformed";
  if (event.type === "invitation.issued") {
    const isUse =
      request.type === "invitation.used" &&
      request.body.invitationId === event.id &&
      request.author === event.body.invitee;
    return isUse ? { event, request } : "request-mismatch";
  }
  if (request.type !== "request.sent" || request.id !== event.body.requestId) {
    return "request-mismatch";
  }
  return { event, request };
}

/**
 * The `request.sent` a request of the state was folded from (one map lookup: the log may have
 * folded the event itself into a snapshot since).
 *
 * @param state - a state holding the request
 * @param requestId - the request's id
 * @returns the event, or undefined when the state holds no such request
 */
export function requestEventOf(state: OrgState, requestId: string): OrgEvent | undefined {
  const request = state.requests.get(requestId);
  if (request === undefined) return undefined;
  const { requester, clock, sentAt, chatId, ensName, displayName } = request;
  return {
    id: request.id,
    type: "request.sent",
    author: requester,
    clock,
    sentAt,
    body: { chatId, ensName, displayName },
  };
}

/**
 * The decision (`request.accepted` / `request.rejected`) the state applied to a request, as its
 * author signed it: author, clock, time, reason (one map lookup, as {@link requestEventOf}). Its id
 * is made of that content (an owner's decision is named by its envelope instead: the id is for
 * nothing but the event's shape; what goes on the wire is its content).
 *
 * @param state - a state holding the request
 * @param requestId - the request's id
 * @returns the decision, or undefined when the request is unknown or not decided
 */
export function decisionEventOf(
  state: OrgState,
  requestId: string,
): OrgEventOf<"request.accepted"> | OrgEventOf<"request.rejected"> | undefined {
  const request = state.requests.get(requestId);
  if (request === undefined) return undefined;
  const { status, decidedBy, decidedAt, decidedSentAt } = request;
  if (decidedBy === undefined || decidedAt === undefined || decidedSentAt === undefined) {
    return undefined;
  }
  const common = { id: "", author: decidedBy, clock: decidedAt, sentAt: decidedSentAt };
  if (status === "accepted") {
    const event = { ...common, type: "request.accepted" as const, body: { requestId } };
    return { ...event, id: eventContentId(event) };
  }
  if (status === "rejected") {
    const body = { requestId, reason: request.rejectionReason ?? "" };
    const event = { ...common, type: "request.rejected" as const, body };
    return { ...event, id: eventContentId(event) };
  }
  return undefined;
}

/**
 * The `invitation.issued` an invitation of the state was folded from, when it is named by its
 * content (a delegate's; the owner's is named by its envelope and cannot be made again here).
 *
 * @param invitation - an invitation of the state
 * @returns the event, or undefined when its content does not give its id
 */
export function invitationEventOf(
  invitation: Invitation,
): OrgEventOf<"invitation.issued"> | undefined {
  const { id, invitee, chatId, issuedBy, clock, sentAt } = invitation;
  const event: OrgEventOf<"invitation.issued"> = {
    id,
    type: "invitation.issued",
    author: issuedBy,
    clock,
    sentAt,
    body: { invitee, chatId },
  };
  return eventContentId(event) === id ? event : undefined;
}

/**
 * Publishes a delegate's own event into the unit of work's outbox, on the description topic, with
 * the event it carries: for a decision on a request, the `request.sent` it decides (from this
 * delegate's state); for an invitation, `carried` (its use) when given.
 *
 * @param c - the client's core
 * @param org - an organization in which this client is a delegate
 * @param txn - the event's unit of work
 * @param event - the event this member authored
 * @param carried - the `invitation.used` of `event`, an `invitation.issued` (ignored otherwise)
 */
export async function publishDelegateEvent(
  c: ClientCore,
  org: Org,
  txn: Txn,
  event: OrgEvent,
  carried?: OrgEventOf<"invitation.used">,
): Promise<void> {
  let request: OrgEvent | undefined;
  if (event.type === "request.accepted" || event.type === "request.rejected") {
    request = requestEventOf(org.log.state, event.body.requestId);
  } else if (event.type === "invitation.issued") {
    request = carried;
  }
  const eventBytes = encodeJson(event);
  const requestBytes = request === undefined ? new Uint8Array() : encodeJson(request);
  const limit = wireLimits.maxDelegateEventJsonBytes;
  if (eventBytes.length > limit || requestBytes.length > limit) {
    c.report({ component, reason: "delegate-event-too-large", topic: descriptionTopic(org.id) });
    return;
  }
  const topic = descriptionTopic(org.id);
  const bytes = await sealEnvelope(
    {
      type: "delegate-event",
      organizationId: org.id,
      clock: event.clock,
      contentTopic: topic,
      message: {
        organizationId: org.id,
        author: c.p.identity.publicKey,
        clock: event.clock,
        event: eventBytes,
        request: requestBytes,
      },
    },
    c.identitySigner,
  );
  txn.outbox.push({ id: hashId(bytes), topic, bytes });
}

/**
 * Receives a `delegate-event` read on the description topic, by a member or the owner: opened
 * (signed by the author it names, bound to the organization, topic and clock), checked
 * ({@link checkDelegateEvent}) and folded in one unit of work. The request it carries is folded
 * only when the signer is a delegate in this client's state (a stranger cannot fill the members'
 * request lists) and the decision then applies on top of it; the decision itself goes to the log,
 * which applies it or holds it (bounded) like any refused event. An invitation is taken only from
 * a delegate (nothing held or stored for anyone else's), then its use when it applies on top of it.
 * The owner republishes its
 * description when the decision applied; a member that the decision removed follows its role
 * (observer, its groups marked removed).
 *
 * @param c - the client's core
 * @param org - the organization
 * @param bytes - the envelope
 * @param topic - its content topic (diagnostics)
 * @param id - the message id (marked seen once folded)
 */
export async function receiveDelegateEvent(
  c: ClientCore,
  org: Org,
  bytes: Uint8Array,
  topic: string,
  id: string,
): Promise<void> {
  let checked: CheckedDelegateEvent | DelegateEventRefusal;
  try {
    const opened = await openEnvelope(bytes, {
      contentTopic: descriptionTopic(org.id),
      organizationId: org.id,
      accept: ["delegate-event"],
      verify: c.verify,
    });
    if (opened.type !== "delegate-event") return;
    const m = opened.message;
    checked = checkDelegateEvent(m.author, opened.clock, m.event, m.request);
  } catch (error) {
    c.report({ component, reason: "delegate-event-unopenable", topic, error });
    return;
  }
  if (typeof checked === "string") {
    c.report({ component, reason: `delegate-event-${checked}`, topic });
    return;
  }
  const { event, request } = checked;
  const invitation = event.type === "invitation.issued";
  if (org.log.has(event.id) && (!invitation || request === undefined || org.log.has(request.id))) {
    c.sync.seen.add(id);
    return;
  }
  if (!org.log.state.members.has(event.author)) {
    // Anyone can sign one (the author is the signer): a non-member's decision is never valid, so it
    // costs its verification only — nothing held, stored or marked seen on disk (a million of them
    // write nothing). A delegate this client does not know yet is read again by the history sweep.
    c.sync.seen.add(id);
    c.report({ component, reason: "delegate-event-not-a-member", topic });
    return;
  }
  if (invitation && !isDelegate(org.log.state, event.author)) {
    // A plain member cannot invite: its invitation (and the use it carries, in another's name) is
    // never held, stored or marked seen on disk.
    c.sync.seen.add(id);
    c.report({ component, reason: "delegate-event-not-a-delegate", topic });
    return;
  }
  const txn = newTxn(org);
  if (invitation) {
    const folded = foldInvitation(c, org, txn, event, request);
    await finish(c, org, txn, id, folded);
    return;
  }
  if (request !== undefined && !org.log.has(request.id)) {
    const state = org.log.state;
    const before = reduce(state, request, org.log.config);
    const decided =
      before.rejected === undefined ? reduce(before.state, event, org.log.config) : undefined;
    if (isDelegate(state, event.author) && decided?.rejected === undefined) {
      c.eventLog.add(org, txn, request);
    }
  }
  const refused = c.eventLog.add(org, txn, event);
  const member = refused === undefined ? decidedMember(org.log.state, event) : undefined;
  await finish(c, org, txn, id, { refused, clock: event.clock, member });
}

/** What a received `delegate-event` did: why it did not apply, the clock it applied at, who it decided. */
interface Folded {
  readonly refused: string | undefined;
  readonly clock: bigint;
  readonly member: string | undefined;
}

/**
 * A delegate's invitation and its use, in the unit of work: the invitation to the log (held when
 * refused, as any delegate's decision) unless held already; then the use, only when it applies on
 * top of it (never held: it is another key's event, which the delegate could not sign).
 *
 * @returns what applied: the invitation, or its use too (the invitee then admitted)
 */
function foldInvitation(
  c: ClientCore,
  org: Org,
  txn: Txn,
  event: OrgEvent,
  used: OrgEvent | undefined,
): Folded {
  const issued = org.log.has(event.id) ? "duplicate" : c.eventLog.add(org, txn, event);
  const unused: Folded = { refused: issued, clock: event.clock, member: undefined };
  if (used === undefined || org.log.has(used.id)) return unused;
  if (reduce(org.log.state, used, org.log.config).rejected !== undefined) return unused;
  const refused = c.eventLog.add(org, txn, used);
  if (refused !== undefined) return unused;
  return { refused, clock: used.clock, member: used.author };
}

/**
 * The end of a received `delegate-event`'s unit of work: the owner's description and notes when
 * it applied, this member's role, the message marked seen, the commit.
 *
 * @param id - the message id
 * @param folded - what it did
 */
async function finish(
  c: ClientCore,
  org: Org,
  txn: Txn,
  id: string,
  folded: Folded,
): Promise<void> {
  const { refused, clock, member } = folded;
  if (refused === undefined && org.role === "owner") {
    // A decision at or below the owner's clock (a late one): the description of that clock went
    // out without it, and members holding it would not take it again. Ratified by an owner event of
    // a fresh clock, so that the next description carries it above every one before.
    if (clock <= txn.before.clock) ratify(c, org, txn);
    describeSoon(c, org, txn);
    if (member !== undefined) {
      const now = c.p.now();
      noteDelegateDecision(org, member, now);
      // Arms the grace end now: an owner online when it reads the decision may run no reconcile
      // during the grace (nothing else arms it), and the delegate's commit may never come.
      heldForDelegate(c, org, member, now);
    }
  }
  // This member removed or banned by a delegate: it stops being one now, as after a description
  // (never the other way: a requester joins by its Welcome and the decision sent to it).
  if (org.role === "member" && !org.log.state.members.has(c.memberId)) {
    c.descriptionSync.followRole(org, txn);
  }
  c.sync.markSeen(org, txn, id);
  await c.persistence.commit(org, txn);
  if (refused === undefined) await c.sync.syncSubscriptions(org);
}

/**
 * The owner's ratification of a delegate's late decision (docs/DELEGATION.md, "Decisions reach
 * everyone"): an owner event of a fresh clock that changes nothing else — its admin settings
 * stated again as they are — so that the state's clock, and the description's, move past every
 * description published before the decision was folded.
 *
 * @param c - the client's core
 * @param org - an organization this client owns
 * @param txn - the unit of work that folded the decision
 */
export function ratify(c: ClientCore, org: OwnerOrg, txn: Txn): void {
  const pinMessageAllMembersEnabled = org.log.state.pinMessageAllMembersEnabled;
  const event = c.eventLog.event(
    org,
    "org.admin-settings.changed",
    { pinMessageAllMembersEnabled },
    org.hex,
  );
  c.eventLog.add(org, txn, event);
}

/** The member a decision admits or removes (its commit is the delegate's), if any. */
function decidedMember(state: OrgState, event: OrgEvent): string | undefined {
  if (event.type === "member.removed" || event.type === "member.banned") return event.body.member;
  if (event.type !== "request.accepted") return undefined;
  return state.requests.get(event.body.requestId)?.requester;
}
