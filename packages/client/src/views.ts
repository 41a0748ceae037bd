import { canPost, type Member, type OrgState, type Role, requestStatus } from "@orgchat/state";
import type { ClientCore } from "./core.js";
import type { Org } from "./org.js";
import { pendingGroupEpoch } from "./owner-groups-later.js";
import type { ChannelView, MessageView, OrganizationView, RequestView } from "./types.js";

/** Whether a channel runs its own group (anything but an open, non-private channel). */
export function isRestricted(state: OrgState, channelId: string): boolean {
  const channel = state.channels.get(channelId);
  if (channel === undefined) return false;
  return !(channel.permissions.access === "no-membership" && !channel.permissions.private);
}

/**
 * Each role list's array, frozen: shared by every view of every member holding that list (the
 * snapshot decoder shares one list per combination of roles), built once per list.
 */
const roleArrays = new WeakMap<Member["roles"], readonly Role[]>();

function rolesOf(list: Member["roles"]): readonly Role[] {
  let roles = roleArrays.get(list);
  if (roles === undefined) {
    roles = Object.freeze(list.toArray());
    roleArrays.set(list, roles);
  }
  return roles;
}

/** The members and names parts of a view, built together from one state's members map. */
interface MemberTables {
  readonly roles: ReadonlyMap<string, readonly Role[]>;
  readonly names: ReadonlyMap<string, string>;
}

/**
 * The members and names parts of a view, by the state's members map they were built from (an
 * immutable map: the same object as long as no member joined, left or changed roles or name).
 * Built once per such map, in one pass — 10,000 entries at 10,000 members — and copied for each
 * view (a caller may not share one).
 */
const memberTables = new WeakMap<OrgState["members"], MemberTables>();

function memberTablesOf(members: OrgState["members"]): MemberTables {
  let tables = memberTables.get(members);
  if (tables !== undefined) return tables;
  const roles = new Map<string, readonly Role[]>();
  const names = new Map<string, string>();
  // Members share a handful of role lists (one per combination): the last one's array at hand.
  let lastList: Member["roles"] | undefined;
  let lastRoles: readonly Role[] = [];
  for (const [id, member] of members) {
    if (member.roles !== lastList) {
      lastList = member.roles;
      lastRoles = rolesOf(lastList);
    }
    roles.set(id, lastRoles);
    if (member.displayName !== "") names.set(id, member.displayName);
  }
  tables = { roles, names };
  memberTables.set(members, tables);
  return tables;
}

/**
 * Views: what the app reads (organizations, channel history, requests), computed from the state
 * and the event log on demand. Owns nothing.
 */
export class Views {
  readonly #c: ClientCore;

  constructor(core: ClientCore) {
    this.#c = core;
  }

  organization(org: Org): OrganizationView {
    const state = org.log.state;
    const me = this.#c.self(org);
    const channels: ChannelView[] = [...state.channels.values()]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((channel) => ({
        id: channel.id,
        name: channel.identity.displayName,
        description: channel.identity.description,
        categoryId: channel.categoryId,
        access: channel.permissions.access,
        private: channel.permissions.private,
        restricted: state.encrypted && isRestricted(state, channel.id),
        canPost: canPost(state, me, channel.id),
        members: [...channel.members.keys()].sort(),
      }));
    const members = memberTablesOf(state.members);
    const epoch =
      org.role === "owner"
        ? (org.owner.groups.get("")?.epoch ?? pendingGroupEpoch(org, ""))
        : org.member.groups.get("")?.epoch;
    const request = org.role === "owner" ? undefined : org.member.request;
    return {
      id: org.hex,
      role: org.role,
      identity: state.identity,
      access: state.permissions.access,
      encrypted: state.encrypted,
      tags: [...state.tags],
      pinMessageAllMembersEnabled: state.pinMessageAllMembersEnabled,
      members: new Map(members.roles),
      memberNames: new Map(members.names),
      banned: [...state.banned.keys()],
      channels,
      categories: new Map([...state.categories].map(([id, category]) => [id, category.name])),
      clock: state.clock,
      ...(epoch === undefined ? {} : { epoch }),
      ...(request === undefined
        ? {}
        : {
            request: {
              id: request.id,
              status: request.status,
              ...(request.reason === undefined ? {} : { reason: request.reason }),
            },
          }),
    };
  }

  history(org: Org, channelId: string): MessageView[] {
    const log = this.#c.eventLog;
    const records = new Map(
      [...org.log.state.messages.values()]
        .filter((message) => message.channelId === channelId)
        .map((message) => [message.id, message]),
    );
    for (const [id, event] of org.proven) {
      if (event.type !== "message.posted" || event.body.channelId !== channelId) continue;
      if (records.has(id)) continue;
      const record = log.record(org, id);
      if (record !== undefined) records.set(id, record);
    }
    const sorted = [...records.values()].sort((a, b) =>
      a.clock < b.clock ? -1 : a.clock > b.clock ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
    // Retention (`maxMessagesPerChannel`): the newest posts only; the store drops the rest at start.
    const keep = this.#c.p.config.maxMessagesPerChannel;
    const kept = keep > 0 && sorted.length > keep ? sorted.slice(sorted.length - keep) : sorted;
    return kept.map((message) => log.view(org, message.id));
  }

  requests(org: Org): RequestView[] {
    const state = org.log.state;
    const now = this.#c.now();
    return [...state.requests.values()].map((request) => ({
      id: request.id,
      requester: request.requester,
      displayName: request.displayName,
      chatId: request.chatId,
      sentAt: request.sentAt,
      status: requestStatus(state, request.id, now) ?? request.status,
      ...(request.rejectionReason === undefined ? {} : { reason: request.rejectionReason }),
    }));
  }
}
