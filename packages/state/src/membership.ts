import { List } from "immutable";
import { grantKey } from "./authorization.js";
import type { EventType, MemberId, OrgEventOf, RejectionReason } from "./events.js";
import type { OrgState, ReducerConfig } from "./state.js";

/** @internal The fields an accepted event changes; `reduce` merges them and records the event. */
export type Changes = { -readonly [K in keyof OrgState]?: OrgState[K] };

/** @internal One event type's rule: the changes, or why the event is refused. */
export type Handler<K extends EventType> = (
  state: OrgState,
  event: OrgEventOf<K>,
  config: ReducerConfig,
) => Changes | RejectionReason;

/** @internal Makes `member` a member without roles, as of `clock`, named `displayName` ("" none). */
export function addMember(
  state: OrgState,
  member: MemberId,
  clock: bigint,
  displayName: string,
): Changes {
  return {
    members: state.members.set(member, { id: member, roles: List(), joinedAt: clock, displayName }),
  };
}

/**
 * @internal Adds the owner-issued grant of `chatId` to `member` (a channel joined by request or
 * invitation).
 */
export function addGrant(
  grants: OrgState["grants"],
  member: MemberId,
  chatId: string,
  clock: bigint,
): OrgState["grants"] {
  return grants.set(grantKey(member, chatId), { member, chatId, clock });
}

/**
 * @internal Removes `member` (leave, removal, ban): drops it from the members, from every channel's
 * member list, and revokes its grants, so that a member who comes back starts from nothing. Grants
 * exist only for "" and for existing channels (a removed channel takes its grants with it), so one
 * lookup per channel finds them all.
 */
export function dropMember(state: OrgState, member: MemberId): Changes {
  const grants = state.grants.withMutations((map) => {
    map.delete(grantKey(member, ""));
    for (const channelId of state.channels.keys()) map.delete(grantKey(member, channelId));
  });
  let channels = state.channels;
  for (const channel of state.channels.values()) {
    if (channel.members.has(member)) {
      channels = channels.set(channel.id, { ...channel, members: channel.members.delete(member) });
    }
  }
  return { members: state.members.delete(member), grants, channels };
}
