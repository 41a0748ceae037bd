/**
 * Invitations by a delegate (docs/DELEGATION.md, "Invitations by a delegate"): an admin or manager
 * issues an invitation with no owner online, signed by its own identity key; the request that
 * redeems it reaches the delegate (its state holds the invitation as its own event), which answers
 * it and makes the add step; the invitee takes that answer as the use of the invitation. The
 * invitation, and then the invitation with its use, reach every member and the owner as the
 * delegate's `delegate-event`s (docs/DELEGATION.md, "Decisions reach everyone").
 *
 * @module
 */
import { type OrgEvent, type OrgEventOf, reduce } from "@orgchat/state";
import { invitationToWire } from "@orgchat/state/wire";
import {
  type EnvelopeSigner,
  inboxTopic,
  publicKeyFromMemberId,
  sealEnvelope,
} from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { invitationEventOf, publishDelegateEvent } from "./delegate-events.js";
import { hashId } from "./encoding.js";
import { EventRejectedError } from "./errors.js";
import { commitDelegateAddKept } from "./kept-welcomes.js";
import type { DelegateOrg, MemberOrg, Org, Txn } from "./org.js";
import { stampAfter } from "./stamp.js";

/**
 * A delegate's invitation, in its unit of work: `invitation.issued` authored by this member (the
 * state's rule: a manager or above, no channel invitation; refused otherwise), logged, and sealed
 * with this member's identity key into the invitee's inbox, and published to everyone (a
 * `delegate-event`). Its id is made of its content (the invitee computes the same from the
 * envelope: `eventContentId`).
 *
 * @param c - the client's core
 * @param org - an organization in which this client is a delegate
 * @param txn - the unit of work
 * @param invitee - the key invited (member id)
 * @param chatId - the channel ("" for the organization; a delegate may not invite into a channel)
 * @returns the invitation's event
 * @throws {EventRejectedError} when the state refuses it (rank, banned key, already a member)
 */
export async function issueDelegateInvitation(
  c: ClientCore,
  org: DelegateOrg,
  txn: Txn,
  invitee: string,
  chatId: string,
): Promise<OrgEventOf<"invitation.issued">> {
  const event = c.eventLog.event(
    org,
    "invitation.issued",
    { invitee: invitee.toLowerCase(), chatId },
    c.memberId,
  );
  const verdict = reduce(org.log.state, event, org.log.config);
  if (verdict.rejected !== undefined) {
    throw new EventRejectedError("invite", verdict.rejected.reason);
  }
  c.eventLog.add(org, txn, event);
  const sealed = await sealInvitation(org, event, c.identitySigner);
  txn.outbox.push({ id: hashId(sealed.bytes), ...sealed });
  await publishDelegateEvent(c, org, txn, event);
  c.ownerRequests.noteInvitation(org, { id: event.id, invitee: event.body.invitee });
  return event;
}

/**
 * An invitation sealed for the invitee's inbox (an `organization-invitation` envelope).
 *
 * @param org - the organization
 * @param event - the invitation
 * @param signer - the organization key's (the owner) or the delegate's identity key's signer
 * @returns the inbox topic and the envelope
 */
export async function sealInvitation(
  org: Org,
  event: OrgEventOf<"invitation.issued">,
  signer: EnvelopeSigner,
): Promise<{ topic: string; bytes: Uint8Array }> {
  const topic = inboxTopic(publicKeyFromMemberId(event.body.invitee));
  const bytes = await sealEnvelope(
    {
      type: "organization-invitation",
      organizationId: org.id,
      clock: event.clock,
      contentTopic: topic,
      message: invitationToWire(event, { organizationId: org.hex }),
    },
    signer,
  );
  return { topic, bytes };
}

/**
 * The delegate's side of a request that redeemed an invitation it issued (the state made the
 * requester a member: `invitation.used`): answers "accepted" over the delegate's session (clocked
 * after the request, not logged: the state decided it), makes the add step (Welcome, roster,
 * handover: `commitDelegateAdd`) and publishes the invitation with its use to everyone (a
 * `delegate-event`). Nothing for an invitation another key issued: its issuer answers.
 *
 * @param c - the client's core
 * @param org - an organization in which this client is a delegate
 * @param txn - the request's unit of work
 * @param member - the requester, now a member
 * @param request - the event the request was logged as (an `invitation.used`; its id the request's)
 */
export async function answerRedeemedInvitation(
  c: ClientCore,
  org: DelegateOrg,
  txn: Txn,
  member: string,
  request: OrgEvent,
): Promise<void> {
  if (request.type !== "invitation.used" || request.author !== member) return;
  const invitation = org.log.state.invitations.get(request.body.invitationId);
  if (invitation === undefined || !invitation.used || invitation.issuedBy !== c.memberId) return;
  const built = c.eventLog.event(org, "request.accepted", { requestId: request.id }, c.memberId);
  await c.ownerRequests.respond(org, txn, member, stampAfter(org.log, built, request.clock));
  // Everyone folds the use before the add step's commit reaches them (as for an accept): an owner
  // that read the commit first would log its epoch change at the use's clock, and its description
  // of that clock, without the newcomer, would remove it from every state.
  const issued = invitationEventOf(invitation);
  if (issued !== undefined) await publishDelegateEvent(c, org, txn, issued, request);
  const handed = await commitDelegateAddKept(c, org, txn, member);
  // Sealed already (the Welcome and the handover are encrypted in the outbox): no secret kept.
  handed?.fill(0);
  txn.emits.push([
    "request:accepted",
    { organizationId: org.hex, requestId: request.id, requester: member },
  ]);
}

/**
 * The answer again to an invitee's request asked again (its first answer was lost: the invitee
 * still sees itself a requester): the state holds no request for a use of an invitation, nor a
 * decision, so the answer is made anew from the invitation, as the desk made it the first time
 * ("accepted", clocked after the use, not logged). Only the desk that issued the invitation
 * answers, only an invitee the state made a member by it.
 *
 * @param c - the client's core
 * @param org - the desk's organization (owner or delegate)
 * @param member - who asked again
 * @param requestId - the id of the request asked again (the use's id)
 * @returns the answer to send, or undefined when this desk did not admit `member` by an invitation
 */
export function redeemedInvitationAnswer(
  c: ClientCore,
  org: Org,
  member: string,
  requestId: string,
): OrgEventOf<"request.accepted"> | undefined {
  const state = org.log.state;
  if (!state.members.has(member)) return undefined;
  const self = c.self(org);
  for (const invitation of state.invitations.values()) {
    if (invitation.invitee !== member || invitation.issuedBy !== self) continue;
    if (!invitation.used || invitation.usedAt === undefined) continue;
    const built = c.eventLog.event(org, "request.accepted", { requestId }, self);
    return stampAfter(org.log, built, invitation.usedAt);
  }
  return undefined;
}

/**
 * The invitee's side: an "accepted" answer from `author` to this identity's request is the use of
 * an unused invitation `author` issued to it (a delegate's: the state holds it since
 * `acceptInvitation`). Then the use is what this identity logs (`invitation.used`, its own event,
 * clocked after everything it knows), not the answer: in an invitation-only organization the request
 * itself is refused, and so would be an accept of it.
 *
 * @param c - the client's core
 * @param org - the organization
 * @param author - who answered (a delegate's member id)
 * @returns the `invitation.used` event to log instead, or undefined when no such invitation
 */
export function invitationUsedByAnswer(
  c: ClientCore,
  org: MemberOrg,
  author: string,
): OrgEventOf<"invitation.used"> | undefined {
  for (const invitation of org.log.state.invitations.values()) {
    if (
      invitation.issuedBy === author &&
      invitation.invitee === c.memberId &&
      !invitation.used &&
      invitation.revokedAt === undefined
    ) {
      return c.eventLog.event(org, "invitation.used", { invitationId: invitation.id }, c.memberId);
    }
  }
  return undefined;
}

/**
 * The delegate whose invitation this identity uses to join: the issuer of an unused invitation to
 * it that the organization key did not sign. Its request goes to that delegate first, and not to
 * the owner, which may not hold the invitation yet (it reads a delegate's `delegate-event`s when
 * online) and would then refuse the request of an invitation-only organization, or keep it pending.
 *
 * @param org - the organization joined
 * @param self - this identity's member id
 * @returns the inviter's member id, or undefined
 */
export function delegateInviter(org: MemberOrg, self: string): string | undefined {
  for (const invitation of org.log.state.invitations.values()) {
    const mine =
      invitation.invitee === self && !invitation.used && invitation.revokedAt === undefined;
    if (mine && invitation.issuedBy !== org.hex) return invitation.issuedBy;
  }
  return undefined;
}
