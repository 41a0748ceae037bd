import type { OrgState } from "./state.js";

/**
 * @internal The state at a description's place in the canonical order: the description's fields (what it
 * carries is authoritative at its clock), the rest (requests, invitations, leave requests, grants,
 * epochs, messages, applied ids) as the events re-applied before it left them, minus the grants of
 * keys that are not members and of channels that do not exist.
 */
export function overlayDescription(state: OrgState, base: OrgState): OrgState {
  const members = base.members;
  const channels = base.channels;
  const grants = state.grants.filter(
    (grant) => members.has(grant.member) && (grant.chatId === "" || channels.has(grant.chatId)),
  );
  return {
    ...state,
    // `clock` stays: the fold started from the base, so it is at least the base's.
    created: base.created,
    identity: base.identity,
    permissions: base.permissions,
    pinMessageAllMembersEnabled: base.pinMessageAllMembersEnabled,
    tags: base.tags,
    encrypted: base.encrypted,
    members,
    banned: base.banned,
    channels,
    categories: base.categories,
    grants: grants.size === state.grants.size ? state.grants : grants,
  };
}

/**
 * @internal The start of a fold re-based on a description after a restore: the floor (it holds what the
 * events no longer held did) with the description's fields laid over it, at the higher clock.
 */
export function onFloor(floor: OrgState, base: OrgState): OrgState {
  const state = overlayDescription(floor, base);
  return state.clock >= base.clock ? state : { ...state, clock: base.clock };
}
