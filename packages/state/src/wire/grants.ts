/**
 * Grants and invitations ↔ spec 55 `Grant` and `OrganizationInvitation` (an invitation carries the
 * grant and the description as signed envelopes, opened separately).
 *
 * @module
 */

import { isMemberId, memberIdFromPublicKey, publicKeyFromMemberId } from "@orgchat/wire";
import type { MemberId, OrgEventOf } from "../events.js";
import {
  checkContext,
  envelopeFields,
  isOptionalChatId,
  isPublicKey,
  isRecord,
  malformed,
  ok,
  readControlMessage,
  readSentAt,
  sentAtToWire,
  type WireEventContext,
  type WireMappingResult,
  type WireMessageInit,
} from "./checks.js";

/**
 * A `grant.issued` event as a `Grant` init (signed by the organization key).
 * @throws {RangeError} when `organizationId` or the event's member is not a member id
 */
export function grantToWire(
  event: OrgEventOf<"grant.issued">,
  organizationId: MemberId,
): WireMessageInit<"Grant"> {
  return {
    organizationId: publicKeyFromMemberId(organizationId),
    memberId: publicKeyFromMemberId(event.body.member),
    chatId: event.body.chatId,
    clock: event.clock,
    sentAt: sentAtToWire(event.sentAt),
  };
}

/**
 * The `grant.issued` event of a `Grant` (whether read from its own envelope or from the `grant`
 * bytes embedded in an invitation or a join response, once opened).
 * @returns the event, or `malformed`; never throws
 */
export function grantFromWire(
  message: WireMessageInit<"Grant">,
  context: WireEventContext,
): WireMappingResult<OrgEventOf<"grant.issued">> {
  const read = readControlMessage(message, context);
  if (!read.ok) return read;
  const record = read.value;
  if (!isPublicKey(record.memberId)) return malformed("memberId");
  const chatId = record.chatId ?? "";
  if (!isOptionalChatId(chatId)) return malformed("chatId");
  const sentAt = readSentAt(record, context);
  if (typeof sentAt !== "number") return sentAt;
  return ok({
    ...envelopeFields(context, sentAt),
    type: "grant.issued",
    body: { member: memberIdFromPublicKey(record.memberId), chatId },
  });
}

/** What an invitation carries besides the event. */
export interface InvitationWireInit {
  /** The organization's member id (the invitation's `public_key`). */
  readonly organizationId: MemberId;
  /** The bytes of the owner's signed description envelope, as published. */
  readonly organizationDescription?: Uint8Array;
  /** The bytes of an owner-signed `GRANT` envelope. */
  readonly grant?: Uint8Array;
}

/**
 * An `invitation.issued` event as an `OrganizationInvitation` init, with orgchat's `sent_at` and
 * `invitee_public_key` (a spec-55 reader knows the invitee only by the inbox: send it there).
 * @throws {RangeError} when `init.organizationId` or the invitee is not a member id, or the event's
 *   `sentAt` is not a non-negative safe integer
 */
export function invitationToWire(
  event: OrgEventOf<"invitation.issued">,
  init: InvitationWireInit,
): WireMessageInit<"OrganizationInvitation"> {
  return {
    chatId: event.body.chatId,
    publicKey: publicKeyFromMemberId(init.organizationId),
    sentAt: sentAtToWire(event.sentAt),
    inviteePublicKey: publicKeyFromMemberId(event.body.invitee),
    ...(init.organizationDescription === undefined
      ? {}
      : { organizationDescription: init.organizationDescription }),
    ...(init.grant === undefined ? {} : { grant: init.grant }),
  };
}

/**
 * The `invitation.issued` event of an `OrganizationInvitation`. The invitation has no clock of
 * its own (the envelope's is used); its invitee is `invitee_public_key`, or, from a spec-55 sender
 * (empty), the owner of the inbox it arrived on.
 *
 * @param message - the decoded payload (any value at run time)
 * @param context - id, author (the organization), clock and sentAt from the envelope
 * @param invitee - the member id of the inbox the invitation arrived on (used when
 *   `invitee_public_key` is empty)
 * @returns the event, or `malformed`; never throws
 */
export function invitationFromWire(
  message: WireMessageInit<"OrganizationInvitation">,
  context: WireEventContext,
  invitee: MemberId,
): WireMappingResult<OrgEventOf<"invitation.issued">> {
  const bad = checkContext(context);
  if (bad) return bad;
  if (!isRecord(message)) return malformed("message");
  if (!isPublicKey(message.publicKey)) return malformed("publicKey");
  const chatId = message.chatId ?? "";
  if (!isOptionalChatId(chatId)) return malformed("chatId");
  const sentAt = readSentAt(message, context);
  if (typeof sentAt !== "number") return sentAt;
  const inviteeKey = message.inviteePublicKey ?? new Uint8Array(0);
  if (
    !(inviteeKey instanceof Uint8Array) ||
    (inviteeKey.length !== 0 && !isPublicKey(inviteeKey))
  ) {
    return malformed("inviteePublicKey");
  }
  let target: MemberId;
  if (inviteeKey.length !== 0) {
    target = memberIdFromPublicKey(inviteeKey);
  } else {
    if (typeof invitee !== "string" || !isMemberId(invitee)) return malformed("invitee");
    target = invitee;
  }
  return ok({
    ...envelopeFields(context, sentAt),
    type: "invitation.issued",
    body: { invitee: target, chatId },
  });
}
