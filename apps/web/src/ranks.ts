/**
 * Ranks as the page shows them (docs/DELEGATION.md): who is a delegate (an admin or a manager, who
 * accepts, rejects, removes and bans with the owner offline), on whom it may act (members below its
 * rank only), and, when it may not, why, in words. Read from the `OrganizationView` alone, so that
 * the screens can use it before the client's chunk loads; the state decides in the end (a refused
 * action comes back as `EventRejectedError`, said in words by {@link refusedActionText}).
 */
import type { OrganizationView } from "@orgchat/client";

/** A member's place in the organization, lowest first (the state's ranks). */
export const ranks = ["none", "member", "moderator", "manager", "admin", "owner"] as const;

/** One of {@link ranks}. */
export type Rank = (typeof ranks)[number];

/** The rank each role gives (`all` = admin, `manage-users` = manager, `moderate-content` = moderator). */
const rankOfRole: Readonly<Record<string, Rank>> = {
  all: "admin",
  "manage-users": "manager",
  "moderate-content": "moderator",
};

/**
 * The rank of `member` in `view`: `owner` for the organization key (and for this client's identity
 * when it owns the organization), the highest of its roles' ranks, `member` without roles, `none`
 * for a key that is not a member (banned keys included).
 * @param view - the organization as this client sees it
 * @param member - a member id (64 hex)
 * @param self - this client's identity (its owner entry when it owns the organization)
 * @returns the rank
 */
export function rankIn(view: OrganizationView, member: string, self?: string): Rank {
  if (member === view.id || (view.role === "owner" && member === self)) return "owner";
  const roles = view.banned.includes(member) ? undefined : view.members.get(member);
  if (roles === undefined) return "none";
  const levels = roles.map((role) => ranks.indexOf(rankOfRole[role] ?? "member"));
  return ranks[Math.max(1, ...levels)] ?? "member";
}

/**
 * Whether `member` is a delegate of `view`: an admin or a manager (not the owner).
 * @param view - the organization
 * @param member - a member id
 * @returns true for an admin or a manager
 */
export function isDelegate(view: OrganizationView, member: string): boolean {
  const rank = rankIn(view, member);
  return rank === "admin" || rank === "manager";
}

/**
 * A rank in words, with its article.
 * @param rank - the rank
 * @returns `an admin`, `a manager`, `the owner`, `not a member`, …
 */
export function withArticle(rank: Rank): string {
  if (rank === "owner") return "the owner";
  if (rank === "none") return "not a member";
  return `${rank === "admin" ? "an" : "a"} ${rank}`;
}

/**
 * Who may remove or ban a member of `rank`: the owner, and the delegates above it.
 * @param rank - the member's rank
 * @returns e.g. `the owner or an admin`
 */
export function whoMayActOn(rank: Rank): string {
  const above = (["admin", "manager"] as const).filter(
    (delegate) => ranks.indexOf(delegate) > ranks.indexOf(rank),
  );
  return ["the owner", ...above.map(withArticle)].join(" or ");
}

/**
 * Why `self` may not remove or ban `target` (the state's rule: never the owner, never itself, never
 * an equal or higher rank), in words; `undefined` when it may.
 * @param view - the organization
 * @param self - this client's identity
 * @param target - the member acted on
 * @returns the reason, or undefined
 */
export function actionRefusal(
  view: OrganizationView,
  self: string,
  target: string,
): string | undefined {
  const theirs = rankIn(view, target, self);
  if (theirs === "owner") return "the owner: nobody removes or bans the owner";
  if (target === self) return "you: to go, leave the organization";
  const mine = rankIn(view, self, self);
  if (mine === "owner") return undefined;
  if (mine !== "admin" && mine !== "manager") {
    return `only the owner, admins and managers remove or ban members; you are ${withArticle(mine)}`;
  }
  if (ranks.indexOf(theirs) >= ranks.indexOf(mine)) {
    return `${withArticle(theirs)}, like or above you (${withArticle(mine)}): only ${whoMayActOn(theirs)} can remove or ban ${theirs === "admin" ? "an admin" : "them"}`;
  }
  return undefined;
}

/**
 * Whether `self` moderates content (pins, deletes others' messages): the owner, or a member holding
 * `all` (admin) or `moderate-content` (moderator); a manager alone does not (spec 55's matrix).
 * @param view - the organization
 * @param self - this client's identity
 * @returns true when it moderates
 */
export function moderates(view: OrganizationView, self: string): boolean {
  if (rankIn(view, self, self) === "owner") return true;
  const roles = view.banned.includes(self) ? [] : (view.members.get(self) ?? []);
  return roles.includes("all") || roles.includes("moderate-content");
}

/**
 * Whether `self` may delete a message by `author`: its own, or, when it moderates, one by a lower
 * rank (the owner: anyone's). The state's rule, as `message.deleted` is authorized.
 * @param view - the organization
 * @param self - this client's identity
 * @param author - the message's author
 * @returns true when the page offers "delete"
 */
export function mayDeleteOf(view: OrganizationView, self: string, author: string): boolean {
  if (author === self) return true;
  if (!moderates(view, self)) return false;
  const mine = rankIn(view, self, self);
  return mine === "owner" || ranks.indexOf(rankIn(view, author, self)) < ranks.indexOf(mine);
}

/** What a page action was, for {@link refusedActionText}. */
export interface ActionContext {
  /** What was tried, e.g. `ban Bob (3f2a9c1b)`. */
  readonly what: string;
  /** The member acted on, when there is one. */
  readonly target?: string;
}

/**
 * An error of a delegate's action in words: a refusal (the client's `NotOwnerError`, or the state's
 * `unauthorized`) names who can do it; a decided or expired request says so; anything else keeps
 * the client's name and message.
 * @param error - what the client threw
 * @param view - the organization when it was tried
 * @param self - this client's identity
 * @param context - what was tried
 * @returns the text to show
 */
export function refusedActionText(
  error: unknown,
  view: OrganizationView,
  self: string,
  context: ActionContext,
): string {
  // By name, not with the client's guards: the client loads with the network chunk.
  const name = error instanceof Error ? error.name : "";
  const reason =
    typeof error === "object" && error !== null && "reason" in error ? String(error.reason) : "";
  const mine = withArticle(rankIn(view, self, self));
  if (name === "NotOwnerError" || (name === "EventRejectedError" && reason === "unauthorized")) {
    // This page offered it from what it knew; the client knew better (a rank changed meanwhile).
    const why =
      context.target === undefined ? undefined : actionRefusal(view, self, context.target);
    const who =
      context.target === undefined
        ? `the owner, admins and managers can do this (you are ${mine})`
        : `${whoMayActOn(rankIn(view, context.target, self))} can do this`;
    return `${context.what} was refused: ${why ?? `only ${who}`}`;
  }
  if (name === "EventRejectedError") {
    if (reason === "conflict") {
      return `${context.what}: already decided (by the owner or another admin or manager)`;
    }
    if (reason === "expired") return `${context.what}: the request expired`;
    return `${context.what} was refused by the organization's rules (${reason})`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
