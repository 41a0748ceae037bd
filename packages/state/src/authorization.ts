import { List } from "immutable";
import { type MemberId, type Role, roles } from "./events.js";
import type { Channel, OrgState } from "./state.js";

/**
 * A member's place in the authorization matrix (docs/PROTOCOL.md, "Authorization"): the owner (the
 * organization key), then the rank of its highest role (`all` = admin, `manage-users` = manager,
 * `moderate-content` = moderator), then a plain member; `none` for a key that is not a member.
 */
export type Rank = "none" | "member" | "moderator" | "manager" | "admin" | "owner";

/** Every rank, from the lowest to the highest: a rank outranks those before it. */
export const ranks = [
  "none",
  "member",
  "moderator",
  "manager",
  "admin",
  "owner",
] as const satisfies readonly Rank[];

/** @internal Numeric ranks, in the order of {@link ranks}. */
export const rankLevels = {
  none: 0,
  member: 1,
  moderator: 2,
  manager: 3,
  admin: 4,
  owner: 5,
} as const satisfies Record<Rank, number>;

const roleRanks: Record<Role, Rank> = {
  all: "admin",
  "manage-users": "manager",
  "moderate-content": "moderator",
};

/**
 * The rank of `member` in `state`: `owner` for the organization key, else the rank of its highest
 * role, `member` without roles, `none` when it is not a member (banned keys are not members).
 *
 * @param state - the organization
 * @param member - a member id
 * @returns its rank
 * @example
 * ```ts
 * if (rankOf(state, me) === "admin") showAdminTools();
 * ```
 */
export function rankOf(state: OrgState, member: MemberId): Rank {
  if (member === state.organizationId) return "owner";
  const record = state.members.get(member);
  if (record === undefined) return "none";
  let rank: Rank = "member";
  for (const role of record.roles) {
    const candidate = roleRanks[role];
    if (rankLevels[candidate] > rankLevels[rank]) rank = candidate;
  }
  return rank;
}

/** @internal The rank of `member` as a number (see {@link rankLevels}). */
export function levelOf(state: OrgState, member: MemberId): number {
  return rankLevels[rankOf(state, member)];
}

/** @internal The rank a role gives, as a number. */
export function roleLevel(role: Role): number {
  return rankLevels[roleRanks[role]];
}

/**
 * @internal Whether `member` may moderate content (delete others' messages, pin): the owner, or a
 * member holding `all` or `moderate-content`. A manager moderates only if it also holds one of
 * those: managing users and moderating content are separate duties in the matrix.
 */
export function mayModerateContent(state: OrgState, member: MemberId): boolean {
  if (member === state.organizationId) return true;
  const record = state.members.get(member);
  if (record === undefined) return false;
  return record.roles.includes("all") || record.roles.includes("moderate-content");
}

/**
 * The key of a grant in `OrgState.grants`.
 *
 * @param member - the grantee
 * @param chatId - the channel, or "" for the organization
 * @returns `${member}/${chatId}`
 */
export function grantKey(member: MemberId, chatId: string): string {
  return `${member}/${chatId}`;
}

/** @internal Channel access of docs/PROTOCOL.md, for a member already known not to be banned. */
export function hasChannelAccess(state: OrgState, member: MemberId, channel: Channel): boolean {
  if (member === state.organizationId) return true;
  const permissions = channel.permissions;
  if (permissions.access === "no-membership" && !permissions.private) return true;
  return channel.members.has(member) || state.grants.has(grantKey(member, channel.id));
}

/**
 * Whether `member` may post in channel `channelId` (docs/PROTOCOL.md, "Channel access"): it is a
 * member and not banned, the channel exists, and the channel is open (`no-membership`, not
 * private), or the member is the owner, is listed in the channel's `members`, or holds an
 * owner-issued grant for it.
 *
 * @param state - the organization
 * @param member - a member id
 * @param channelId - a channel id
 * @returns whether a `message.posted` by `member` in that channel would be accepted
 * @example
 * ```ts
 * composer.disabled = !canPost(state, me, channelId);
 * ```
 */
export function canPost(state: OrgState, member: MemberId, channelId: string): boolean {
  if (state.banned.has(member) || !state.members.has(member)) return false;
  const channel = state.channels.get(channelId);
  return channel !== undefined && hasChannelAccess(state, member, channel);
}

/**
 * @internal Roles without duplicates, highest first: one spelling per set, so states compare equal.
 */
export function normalizeRoles(list: readonly Role[]): List<Role> {
  return List(roles.filter((role) => list.includes(role)));
}
