/**
 * The typed state/crypto → wire boundary of the client: each function gives a pairwise content's
 * value exactly the type the wire codec takes, in one place.
 */
import type { WelcomeInit } from "@orgchat/crypto";
import {
  cancelRequestToJoinToWire,
  type JoinRequest,
  joinResponseToWire,
  type OrgEventOf,
  requestToJoinToWire,
  requestToLeaveToWire,
} from "@orgchat/state";
import type { PairwiseContentInit } from "./pairwise.js";

type ContentValue<C extends PairwiseContentInit["case"]> = Extract<
  PairwiseContentInit,
  { case: C }
>["value"];

/** A join response (accepted, or rejected with its reason). */
export function joinResponseInit(
  decision: OrgEventOf<"request.accepted"> | OrgEventOf<"request.rejected">,
  organizationId: string,
): ContentValue<"requestToJoinResponse"> {
  return joinResponseToWire(decision, { organizationId });
}

/** A request to join. */
export function requestToJoinInit(
  event: OrgEventOf<"request.sent">,
  organizationId: string,
): ContentValue<"requestToJoin"> {
  return requestToJoinToWire(event, organizationId);
}

/**
 * A cancel of a request to join; without the request in the state (it was never seen there) only
 * the fields the cancel itself knows.
 */
export function cancelRequestInit(
  event: OrgEventOf<"request.cancelled">,
  request: JoinRequest | undefined,
  organizationId: Uint8Array,
  organizationHex: string,
): ContentValue<"cancelRequestToJoin"> {
  if (request === undefined) {
    return {
      clock: event.clock,
      organizationId,
      sentAt: BigInt(event.sentAt),
      requestId: event.body.requestId,
    };
  }
  return cancelRequestToJoinToWire(event, request, organizationHex);
}

/** A request to leave. */
export function requestToLeaveInit(
  event: OrgEventOf<"leave.requested">,
  organizationId: string,
): ContentValue<"requestToLeave"> {
  return requestToLeaveToWire(event, organizationId);
}

/** A Welcome (`@orgchat/crypto`'s, as the wire carries it). */
export function welcomeInit(welcome: WelcomeInit): ContentValue<"welcome"> {
  return welcome;
}
