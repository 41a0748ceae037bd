import { isMemberId } from "@orgchat/wire";
import { Map as ImmutableMap, List } from "immutable";
import type { Identity, MemberId, Permissions } from "./events.js";
import { AppliedIds } from "./snapshot-applied.js";
import type { OrgState } from "./state.js";
import { TableMap } from "./table-map.js";

/** The identity of an absent `ChatIdentity` (proto3 defaults): empty texts, no images. */
export const emptyIdentity: Identity = Object.freeze({
  displayName: "",
  description: "",
  ensName: "",
  images: Object.freeze({}),
});

// Closed until `org.created` says otherwise (every other event is refused before it anyway).
const closedPermissions: Permissions = Object.freeze({
  access: "invitation-only",
  ensOnly: false,
  private: false,
});

/**
 * The state of an organization before any event: not created, no members, clock 0. Fold events into
 * it with `reduce`, or let an `OrgLog` do it.
 *
 * @param organizationId - the organization key as a member id (64 lowercase hex characters)
 * @returns the empty state of that organization
 * @throws {RangeError} when `organizationId` is not a member id
 * @example
 * ```ts
 * let state = initialState(organizationId);
 * for (const event of events.sort(compareEvents)) state = reduce(state, event).state;
 * ```
 */
export function initialState(organizationId: MemberId): OrgState {
  if (typeof organizationId !== "string" || !isMemberId(organizationId)) {
    throw new RangeError(
      "organizationId: expected 64 lowercase hex characters (the organization key as a member id)",
    );
  }
  return {
    organizationId,
    created: false,
    clock: 0n,
    identity: emptyIdentity,
    permissions: closedPermissions,
    pinMessageAllMembersEnabled: false,
    tags: List(),
    encrypted: false,
    members: TableMap.empty(),
    banned: ImmutableMap(),
    channels: ImmutableMap(),
    categories: ImmutableMap(),
    requests: TableMap.empty(),
    leaveRequests: ImmutableMap(),
    invitations: ImmutableMap(),
    grants: ImmutableMap(),
    epochs: ImmutableMap(),
    messages: ImmutableMap(),
    applied: AppliedIds.empty(),
  };
}
