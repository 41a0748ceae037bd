/**
 * `@orgchat/state/wire`: the mapping between the events of `@orgchat/state` and the wire messages
 * of spec 55 (`@orgchat/wire`), both ways.
 *
 * Everything read from the wire is remote input, so every `…FromWire` function is **total**: whatever
 * object it is given (a decoded message, or anything else at run time) it returns a
 * {@link WireMappingResult} and never throws. The `…ToWire` functions take local, well-typed values
 * and return exactly the init type the `encodeX` / `sealEnvelope` functions of `@orgchat/wire` (and
 * a `PairwiseContent` case) take, with no cast ({@link WireMessageInit}); the encoders check the
 * protocol limits.
 *
 * What the events do not carry (and where it goes instead):
 *
 * | wire message | event | not carried by the event |
 * | --- | --- | --- |
 * | OrganizationRequestToJoin | `request.sent` | `organization_id` (bound by the envelope) |
 * | OrganizationCancelRequestToJoin | `request.cancelled` | `ens_name`, `display_name`, `organization_id`; `chat_id` only finds the request when `request_id` is empty |
 * | OrganizationRequestToJoinResponse | `request.accepted` / `request.rejected` | `organization` (a description: apply it with `stateFromDescription`), `grant` (a signed envelope: open it and use {@link grantFromWire}), `organization_id`; `rejection_reason` of an acceptance |
 * | OrganizationRequestToLeave | `leave.requested` | `organization_id` |
 * | Grant | `grant.issued` | `organization_id` (the event's author is the organization) |
 * | OrganizationInvitation | `invitation.issued` | `organization_description`, `grant` (signed envelopes, opened separately), `public_key` |
 *
 * orgchat adds fields numbered from 100 to these messages (spec-55 readers skip them):
 * `sent_at` (all six), `request_id` (cancel, response), `rejection_reason` (response) and
 * `invitee_public_key` (invitation). The `…ToWire` functions always write them. A plain spec-55
 * sender leaves them empty, and then the `…FromWire` functions fall back:
 *
 * - the event id, author and clock always come from the opened envelope (id = hex SHA-256 of its
 *   bytes, author = its signer, clock = its clock); `sentAt` comes from `sent_at`, or from the
 *   caller's {@link WireEventContext} when it is 0 (absent). A `sent_at` above
 *   `Number.MAX_SAFE_INTEGER` is `malformed`;
 * - a cancel or a join response names its request in `request_id`; when that is empty, the request
 *   is found in the state (the requester's latest request before the message's clock), or the
 *   mapping reports `unknown-target` (buffer the message and retry when the request arrives);
 * - a rejection's reason is `rejection_reason` (`""` from a spec-55 sender);
 * - an invitation names its invitee in `invitee_public_key`; when that is empty, and always for a
 *   response's requester, it is the owner of the inbox it arrived on. The binding holds because the
 *   envelope signs its content topic: check `opened.contentTopic === inboxTopic(key)` for that key
 *   before mapping.
 *
 * Enums are open on the wire (a newer peer may send a role or access mode this version does not
 * know). The `…FromWire` functions refuse such values (`malformed`) unless asked for the documented
 * fallbacks (`{ unknownEnums: "fallback" }`): an unknown role grants nothing (it is dropped), an
 * unknown access mode reads as `invitation-only` (nobody joins by request on a rule we cannot
 * check). Image source and image types have an `"unknown"` domain value and map to it either way.
 *
 * @example
 * ```ts
 * import { requestToJoinFromWire, requestToJoinToWire } from "@orgchat/state/wire";
 *
 * // Requester: the event as the pairwise content the owner receives.
 * const content = { case: "requestToJoin", value: requestToJoinToWire(event, orgId) } as const;
 * // Owner: the opened message back as the event (never throws).
 * const mapped = requestToJoinFromWire(message, { id, author, clock, sentAt });
 * if (mapped.ok) log.add(mapped.value);
 * ```
 *
 * @packageDocumentation
 */

export type {
  FromWireInit,
  WireEventContext,
  WireMappingFailure,
  WireMappingResult,
  WireMessageInit,
} from "./checks.js";
export {
  grantFromWire,
  grantToWire,
  type InvitationWireInit,
  invitationFromWire,
  invitationToWire,
} from "./grants.js";
export {
  emptyIdentity,
  identityFromWire,
  identityToWire,
  imageFromWire,
  imageToWire,
} from "./identity.js";
export {
  accessFromWire,
  accessToWire,
  permissionsFromWire,
  permissionsToWire,
  roleFromWire,
  rolesFromWire,
  rolesToWire,
  roleToWire,
  unknownAccessFallback,
} from "./permissions.js";
export {
  cancelRequestToJoinFromWire,
  cancelRequestToJoinToWire,
  type JoinResponseWireInit,
  joinResponseFromWire,
  joinResponseToWire,
  requestToJoinFromWire,
  requestToJoinToWire,
  requestToLeaveFromWire,
  requestToLeaveToWire,
} from "./requests.js";
