/**
 * Join and leave requests ↔ spec 55 `OrganizationRequestToJoin`, `OrganizationCancelRequestToJoin`,
 * `OrganizationRequestToJoinResponse` and `OrganizationRequestToLeave` (with orgchat's `sent_at`,
 * `request_id` and `rejection_reason` additions; see `./index.ts` for the spec-55 fallbacks).
 *
 * @module
 */

import { isMemberId, wireLimits } from "@orgchat/wire";
import { type Map as ImmutableMap, isMap as isImmutableMap } from "immutable";
import type { MemberId, OrgEventOf } from "../events.js";
import type { JoinRequest } from "../state.js";
import { type MapView, TableMap } from "../table-map.js";
import {
  checkClock,
  checkContext,
  controlFields,
  envelopeFields,
  type Failure,
  isOptionalChatId,
  isPublicKey,
  isRecord,
  isText,
  malformed,
  ok,
  readControlMessage,
  readSentAt,
  type WireEventContext,
  type WireMappingResult,
  type WireMessageInit,
} from "./checks.js";

/** Limits of the orgchat additions, shared with `@orgchat/wire`'s own checks. */
const { maxRequestIdLength, maxRejectionReasonBytes } = wireLimits;
const requestIdPattern = /^[A-Za-z0-9_-]+$/;

/** A message's `request_id`: `""` (absent) or 1-128 characters [A-Za-z0-9_-]. */
function readRequestId(message: Record<string, unknown>): string | Failure {
  const requestId = message.requestId ?? "";
  if (
    typeof requestId !== "string" ||
    requestId.length > maxRequestIdLength ||
    (requestId !== "" && !requestIdPattern.test(requestId))
  ) {
    return malformed("requestId");
  }
  return requestId;
}

/**
 * A `request.sent` event as an `OrganizationRequestToJoin` init.
 *
 * @param event - the request (its author signs the envelope)
 * @param organizationId - the organization's member id
 * @throws {RangeError} when `organizationId` is not a member id
 * @example
 * ```ts
 * const message = requestToJoinToWire(event, orgId);
 * await sealEnvelope({ type: "organization-request-to-join", organizationId: key, clock: event.clock,
 *   contentTopic: requestsTopic(key), message }, requester);
 * ```
 */
export function requestToJoinToWire(
  event: OrgEventOf<"request.sent">,
  organizationId: MemberId,
): WireMessageInit<"OrganizationRequestToJoin"> {
  return {
    ...controlFields(event, organizationId),
    ensName: event.body.ensName,
    chatId: event.body.chatId,
    displayName: event.body.displayName,
  };
}

/**
 * The `request.sent` event of an `OrganizationRequestToJoin` (its requester is the envelope's
 * signer, `context.author`).
 *
 * @param message - the decoded payload (any value at run time)
 * @param context - id, author, clock and sentAt from the envelope
 * @returns the event, or `malformed`; never throws
 * @example
 * ```ts
 * const opened = await openEnvelope(bytes, options);
 * if (opened.type === "organization-request-to-join") {
 *   const mapped = requestToJoinFromWire(opened.message, {
 *     id: envelopeId, author: memberIdFromPublicKey(opened.signer), clock: opened.clock, sentAt,
 *   });
 *   if (mapped.ok) log.add(mapped.value);
 * }
 * ```
 */
export function requestToJoinFromWire(
  message: WireMessageInit<"OrganizationRequestToJoin">,
  context: WireEventContext,
): WireMappingResult<OrgEventOf<"request.sent">> {
  const bad = checkContext(context);
  if (bad) return bad;
  const fields = readRequestLike(message, context);
  if ("ok" in fields) return fields;
  const sentAt = readSentAt(message as Record<string, unknown>, context);
  if (typeof sentAt !== "number") return sentAt;
  return ok({ ...envelopeFields(context, sentAt), type: "request.sent", body: fields });
}

interface RequestFields {
  readonly chatId: string;
  readonly ensName: string;
  readonly displayName: string;
}

/** The fields a request to join and its cancel share, checked; absent fields are proto3 defaults. */
function readRequestLike(message: unknown, context: WireEventContext): RequestFields | Failure {
  if (!isRecord(message)) return malformed("message");
  const chatId = message.chatId ?? "";
  const ensName = message.ensName ?? "";
  const displayName = message.displayName ?? "";
  return (
    checkClock(message, context) ??
    (isPublicKey(message.organizationId) ? undefined : malformed("organizationId")) ??
    (isOptionalChatId(chatId) ? undefined : malformed("chatId")) ??
    (isText(ensName, wireLimits.maxEnsNameBytes) ? undefined : malformed("ensName")) ??
    (isText(displayName, wireLimits.maxNameBytes) ? undefined : malformed("displayName")) ?? {
      chatId: chatId as string,
      ensName: ensName as string,
      displayName: displayName as string,
    }
  );
}

/**
 * A `request.cancelled` event as an `OrganizationCancelRequestToJoin` init. The spec's cancel
 * repeats the request's chat id, ENS name and display name; orgchat's `request_id` also names it.
 *
 * @param event - the cancel
 * @param request - the request it cancels (from the state)
 * @param organizationId - the organization's member id
 * @throws {RangeError} when `request` is not the one the event names, `organizationId` is not a
 *   member id, or the event's `sentAt` is not a non-negative safe integer
 */
export function cancelRequestToJoinToWire(
  event: OrgEventOf<"request.cancelled">,
  request: JoinRequest,
  organizationId: MemberId,
): WireMessageInit<"OrganizationCancelRequestToJoin"> {
  if (request.id !== event.body.requestId) {
    throw new RangeError(
      `request: expected request ${event.body.requestId}, got ${request.id}; pass the request the cancel names`,
    );
  }
  return {
    ...controlFields(event, organizationId),
    ensName: request.ensName,
    chatId: request.chatId,
    displayName: request.displayName,
    requestId: event.body.requestId,
  };
}

/** A state's requests: `OrgState.requests` (a {@link TableMap}) or an immutable map. */
type RequestMap = ImmutableMap<string, JoinRequest> | MapView<JoinRequest>;

function isRequestMap(value: unknown): value is RequestMap {
  return value instanceof TableMap || isImmutableMap(value);
}

/**
 * The latest request of `requester` with a clock before `before` (and for `chatId`, when given):
 * the one a cancel or a response answers. Ties on the clock go to the greater id, as in the
 * canonical order.
 */
function latestRequest(
  requests: RequestMap,
  requester: MemberId,
  before: bigint,
  chatId?: string,
): JoinRequest | undefined {
  let best: JoinRequest | undefined;
  for (const request of requests.values()) {
    if (request.requester !== requester || request.clock >= before) continue;
    if (chatId !== undefined && request.chatId !== chatId) continue;
    if (
      best === undefined ||
      request.clock > best.clock ||
      (request.clock === best.clock && request.id > best.id)
    ) {
      best = request;
    }
  }
  return best;
}

/**
 * The `request.cancelled` event of an `OrganizationCancelRequestToJoin`. The cancel names its
 * request in `request_id`; from a spec-55 sender (empty `request_id`) it answers the latest request
 * of its signer for its chat id with an earlier clock, whatever that request's status (the reducer
 * then judges: a decided request makes the cancel a `conflict`).
 *
 * @param message - the decoded payload (any value at run time)
 * @param context - id, author (the requester), clock and sentAt from the envelope
 * @param state - where the request is looked up when `request_id` is empty
 * @returns the event; `unknown-target` when `request_id` is empty and no such request is known yet
 *   (buffer and retry); `malformed` otherwise; never throws
 */
export function cancelRequestToJoinFromWire(
  message: WireMessageInit<"OrganizationCancelRequestToJoin">,
  context: WireEventContext,
  state: { readonly requests: RequestMap },
): WireMappingResult<OrgEventOf<"request.cancelled">> {
  const bad = checkContext(context);
  if (bad) return bad;
  const fields = readRequestLike(message, context);
  if ("ok" in fields) return fields;
  const record = message as Record<string, unknown>;
  const sentAt = readSentAt(record, context);
  if (typeof sentAt !== "number") return sentAt;
  let requestId = readRequestId(record);
  if (typeof requestId !== "string") return requestId;
  if (requestId === "") {
    if (!isRecord(state) || !isRequestMap(state.requests)) return malformed("state");
    const request = latestRequest(state.requests, context.author, context.clock, fields.chatId);
    if (request === undefined) return { ok: false, reason: "unknown-target", field: "chatId" };
    requestId = request.id;
  }
  return ok({
    ...envelopeFields(context, sentAt),
    type: "request.cancelled",
    body: { requestId },
  });
}

/** What a join response carries besides the decision. */
export interface JoinResponseWireInit {
  /** The organization's member id. */
  readonly organizationId: MemberId;
  /**
   * The description to send along with an acceptance. For a paged description, the header's
   * description (a whole description of a large organization does not fit in one message).
   */
  readonly organization?: WireMessageInit<"OrganizationDescription">;
  /** The bytes of an owner-signed `GRANT` envelope (docs/PROTOCOL.md, "Embedded signed bytes"). */
  readonly grant?: Uint8Array;
}

/**
 * A `request.accepted` or `request.rejected` event as an `OrganizationRequestToJoinResponse`
 * init, with orgchat's `sent_at`, `request_id` and (for a rejection) `rejection_reason`.
 *
 * @param event - the decision (authored by the organization key: the message is owner-signed)
 * @param init - organization id, and optionally the description and the grant to send
 * @throws {RangeError} when `init.organizationId` is not a member id, or the event's `sentAt` is
 *   not a non-negative safe integer
 */
export function joinResponseToWire(
  event: OrgEventOf<"request.accepted"> | OrgEventOf<"request.rejected">,
  init: JoinResponseWireInit,
): WireMessageInit<"OrganizationRequestToJoinResponse"> {
  return {
    ...controlFields(event, init.organizationId),
    accepted: event.type === "request.accepted",
    requestId: event.body.requestId,
    ...(event.type === "request.rejected" ? { rejectionReason: event.body.reason } : {}),
    ...(init.organization === undefined ? {} : { organization: init.organization }),
    ...(init.grant === undefined ? {} : { grant: init.grant }),
  };
}

/**
 * The `request.accepted` / `request.rejected` event of an `OrganizationRequestToJoinResponse`.
 * The response names its request in `request_id` and a rejection's reason in `rejection_reason`
 * (ignored for an acceptance). From a spec-55 sender (empty `request_id`) the request is the
 * latest one with an earlier clock of the requester, the owner of the inbox it arrived on, and a
 * rejection's reason reads as `""`. The embedded description and grant are not part of the event
 * (apply them with `stateFromDescription` and {@link grantFromWire}).
 *
 * @param message - the decoded payload (any value at run time)
 * @param context - id, author (the organization), clock and sentAt from the envelope
 * @param state - where the request is looked up when `request_id` is empty
 * @param requester - the member id of the inbox the response arrived on (used when `request_id` is
 *   empty)
 * @returns the event; `unknown-target` when `request_id` is empty and the request is not known;
 *   `malformed` otherwise; never throws
 */
export function joinResponseFromWire(
  message: WireMessageInit<"OrganizationRequestToJoinResponse">,
  context: WireEventContext,
  state: { readonly requests: RequestMap },
  requester: MemberId,
): WireMappingResult<OrgEventOf<"request.accepted"> | OrgEventOf<"request.rejected">> {
  const read = readControlMessage(message, context);
  if (!read.ok) return read;
  const record = read.value;
  const accepted = record.accepted ?? false;
  if (typeof accepted !== "boolean") return malformed("accepted");
  const sentAt = readSentAt(record, context);
  if (typeof sentAt !== "number") return sentAt;
  let requestId = readRequestId(record);
  if (typeof requestId !== "string") return requestId;
  const reason = record.rejectionReason ?? "";
  if (!isText(reason, maxRejectionReasonBytes)) return malformed("rejectionReason");
  if (requestId === "") {
    if (typeof requester !== "string" || !isMemberId(requester)) return malformed("requester");
    if (!isRecord(state) || !isRequestMap(state.requests)) return malformed("state");
    const request = latestRequest(state.requests, requester, context.clock);
    if (request === undefined) return { ok: false, reason: "unknown-target", field: "requester" };
    requestId = request.id;
  }
  const fields = envelopeFields(context, sentAt);
  return ok(
    accepted
      ? { ...fields, type: "request.accepted", body: { requestId } }
      : { ...fields, type: "request.rejected", body: { requestId, reason } },
  );
}

/**
 * A `leave.requested` event as an `OrganizationRequestToLeave` init.
 * @throws {RangeError} when `organizationId` is not a member id
 */
export function requestToLeaveToWire(
  event: OrgEventOf<"leave.requested">,
  organizationId: MemberId,
): WireMessageInit<"OrganizationRequestToLeave"> {
  return controlFields(event, organizationId);
}

/**
 * The `leave.requested` event of an `OrganizationRequestToLeave` (the member is the signer).
 * @returns the event, or `malformed`; never throws
 */
export function requestToLeaveFromWire(
  message: WireMessageInit<"OrganizationRequestToLeave">,
  context: WireEventContext,
): WireMappingResult<OrgEventOf<"leave.requested">> {
  const read = readControlMessage(message, context);
  if (!read.ok) return read;
  const record = read.value;
  const sentAt = readSentAt(record, context);
  if (typeof sentAt !== "number") return sentAt;
  return ok({ ...envelopeFields(context, sentAt), type: "leave.requested", body: {} });
}
