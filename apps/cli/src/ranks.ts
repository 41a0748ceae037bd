/**
 * Ranks in an organization as the CLI shows them (the state's ranks, read from an
 * `OrganizationView`): who is a delegate (docs/DELEGATION.md).
 */
import type { OrganizationView } from "@orgchat/client";

/** A member's place in the organization, highest first (the state's ranks). */
export type Rank = "owner" | "admin" | "manager" | "moderator" | "member" | "none";

/** The ranks as numbers: a delegate acts only on lower ones. */
export const rankLevels: Readonly<Record<Rank, number>> = {
  none: 0,
  member: 1,
  moderator: 2,
  manager: 3,
  admin: 4,
  owner: 5,
};

/** The rank each role gives. */
const roleRanks: Readonly<Record<string, Rank>> = {
  all: "admin",
  "manage-users": "manager",
  "moderate-content": "moderator",
};

/**
 * The rank of `member` in `org`: `owner` for the organization key, its highest role's rank for a
 * member, `member` without roles, `none` for anyone else (banned keys included).
 * @param org - the organization as this identity sees it
 * @param member - a member id (64 hex)
 * @returns the rank
 */
export function rankIn(org: OrganizationView, member: string): Rank {
  if (member === org.id) return "owner";
  if (org.banned.includes(member)) return "none";
  const roles = org.members.get(member);
  if (roles === undefined) return "none";
  let rank: Rank = "member";
  for (const role of roles) {
    const candidate = roleRanks[role];
    if (candidate !== undefined && rankLevels[candidate] > rankLevels[rank]) rank = candidate;
  }
  return rank;
}

/**
 * Whether `member` is a delegate of `org`: an admin or a manager, who may accept, reject, remove and
 * ban below its rank with the owner offline.
 * @param org - the organization
 * @param member - a member id
 * @returns true for an admin or a manager
 */
export function isDelegateOf(org: OrganizationView, member: string): boolean {
  const rank = rankIn(org, member);
  return rank === "admin" || rank === "manager";
}
