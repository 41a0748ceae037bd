/**
 * State → description: the spec 55 `OrganizationDescription` of an {@link OrgState}, whole
 * ({@link describeOrganization}) or as the header's content and the roster entries
 * `build-pages.ts` packs.
 *
 * @module
 */

import type { OrganizationMember_Roles } from "@orgchat/wire";
import { List } from "immutable";
import type { Role } from "../events.js";
import type { Channel, Member, OrgState } from "../state.js";
import { setOwn } from "../wire/checks.js";
import { identityToWire } from "../wire/identity.js";
import { permissionsToWire, rolesToWire } from "../wire/permissions.js";
import { type OrganizationDescriptionInit, sortedKeys } from "./pages.js";

export type MemberInit = { roles: OrganizationMember_Roles[]; displayName?: string };

/** One shared wire roles array per distinct role list (most members have none). */
export function roleEncoder(): (roles: List<Role>) => MemberInit {
  const cache = new Map<string, MemberInit>();
  return (roles) => {
    const key = roles.join(",");
    let init = cache.get(key);
    if (init === undefined) {
      init = { roles: rolesToWire(roles) };
      cache.set(key, init);
    }
    return init;
  };
}

/**
 * A `members` entry per member: the shared roles entry of {@link roleEncoder} for an unnamed member,
 * its own entry with the display name otherwise.
 */
export function memberEncoder(): (member: Member) => MemberInit {
  const encodeRoles = roleEncoder();
  return (member) => {
    const init = encodeRoles(member.roles);
    return member.displayName === ""
      ? init
      : { roles: init.roles, displayName: member.displayName };
  };
}

function channelHeaderInit(channel: Channel, clock: bigint) {
  return {
    members: {} as Record<string, MemberInit>,
    permissions: permissionsToWire(channel.permissions),
    identity: identityToWire(channel.identity, clock),
    categoryId: channel.categoryId,
  };
}

/** The description fields that are not rosters (the header's content). */
export function headerInit(state: OrgState) {
  const chats: Record<string, ReturnType<typeof channelHeaderInit>> = {};
  for (const id of sortedKeys(state.channels)) {
    const channel = state.channels.get(id);
    if (channel !== undefined) setOwn(chats, id, channelHeaderInit(channel, state.clock));
  }
  const categories: Record<string, { categoryId: string; name: string }> = {};
  for (const id of sortedKeys(state.categories)) {
    const category = state.categories.get(id);
    if (category !== undefined) setOwn(categories, id, { categoryId: id, name: category.name });
  }
  return {
    clock: state.clock,
    permissions: permissionsToWire(state.permissions),
    identity: identityToWire(state.identity, state.clock),
    chats,
    categories,
    adminSettings: { pinMessageAllMembersEnabled: state.pinMessageAllMembersEnabled },
    encrypted: state.encrypted,
    tags: [...state.tags],
  };
}

/**
 * The whole description of a state, unpaged: members, ban list and channel rosters included, every
 * map and list in canonical (sorted) order.
 *
 * A large organization's description does not fit in one message: publish
 * {@link buildDescriptionPages} instead. This is for small organizations, tests and tooling.
 *
 * Not carried by a description (so lost by `stateFromDescription`): members' `joinedAt`, bans'
 * clock and `deleteMessages`, requests, invitations, grants, epochs, messages and applied ids.
 * `ChatIdentity.clock` is written as the state's clock (the state does not track when an identity
 * changed).
 *
 * @param state - the organization's state
 * @returns an `OrganizationDescription` init for `encodeOrganizationDescription`
 */
export function describeOrganization(state: OrgState): OrganizationDescriptionInit {
  const encodeRoles = roleEncoder();
  const encodeMember = memberEncoder();
  const members: Record<string, MemberInit> = {};
  for (const id of sortedKeys(state.members)) {
    const member = state.members.get(id);
    if (member !== undefined) members[id] = encodeMember(member);
  }
  const header = headerInit(state);
  for (const [id, chat] of Object.entries(header.chats)) {
    const channel = state.channels.get(id);
    if (channel === undefined) continue;
    const roster: Record<string, MemberInit> = {};
    for (const member of sortedKeys(channel.members)) {
      roster[member] = encodeRoles(channel.members.get(member) ?? List());
    }
    chat.members = roster;
  }
  const description: OrganizationDescriptionInit = {
    ...header,
    members,
    banList: sortedKeys(state.banned),
  };
  return description;
}
