/**
 * Ranks in an organization as the CLI shows them (the state's ranks, read from an
 * `OrganizationView`): who is a delegate (docs/DELEGATION.md).
 */
import type { OrganizationView } from "@orgchat/client";

/** A member's place in the organization, highest first (the state's ranks). */
export type Rank = "owner" | "admin" | "manager" | "moderator" | "member" | "none";

/** The ranks, lowest first: a delegate acts only on ranks before its own. */
const rankOrder: readonly Rank[] = ["none", "member", "moderator", "manager", "admin", "owner"];

/**
 * A rank's place in {@link rankOrder} (higher is more).
 * @param rank - the rank
 * @returns 0 for `none` up to 5 for `owner`
 */
export function rankLevel(rank: Rank): number {
  return rankOrder.indexOf(rank);
}

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
    if (candidate !== undefined && rankLevel(candidate) > rankLevel(rank)) rank = candidate;
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
