/**
 * `@orgchat/state/wire`: the mapping between the events of `@orgchat/state` and the spec 55
 * messages of `@orgchat/wire`, both ways.
 *
 * - `…ToWire(event, …)` turns a local, well-typed event into the init object the wire encoder
 *   takes (`encodeX`, `sealEnvelope`, or a pairwise content case), with no cast;
 * - `…FromWire(message, context, …)` turns a decoded message into an event and is total: it
 *   returns `{ ok: false, reason }` for anything it cannot map and never throws.
 *
 * @example
 * ```ts
 * import { requestToJoinFromWire } from "@orgchat/state/wire";
 *
 * const mapped = requestToJoinFromWire(opened.message, { id, author, clock, sentAt });
 * if (mapped.ok) log.add(mapped.value);
 * ```
 *
 * @packageDocumentation
 */

export {
  accessFromWire,
  accessToWire,
  cancelRequestToJoinFromWire,
  cancelRequestToJoinToWire,
  emptyIdentity,
  type FromWireInit,
  grantFromWire,
  grantToWire,
  type InvitationWireInit,
  identityFromWire,
  identityToWire,
  imageFromWire,
  imageToWire,
  invitationFromWire,
  invitationToWire,
  type JoinResponseWireInit,
  joinResponseFromWire,
  joinResponseToWire,
  permissionsFromWire,
  permissionsToWire,
  requestToJoinFromWire,
  requestToJoinToWire,
  requestToLeaveFromWire,
  requestToLeaveToWire,
  roleFromWire,
  rolesFromWire,
  rolesToWire,
  roleToWire,
  unknownAccessFallback,
  type WireEventContext,
  type WireMappingFailure,
  type WireMappingResult,
  type WireMessageInit,
} from "../wire-mapping.js";
