/**
 * Delegates on the command line (docs/DELEGATION.md, docs/CLI.md "Delegates"): an admin (role
 * `all`) or a manager (role `manage-users`) runs `requests`, `accept`, `reject`, `invite`, `remove` and `ban`
 * like the owner, on members below its own rank; everything else stays with the owner. The ranks
 * are read from the organization as this identity sees it, after catching up (a role granted while
 * this profile was offline counts).
 */
import type { OrganizationView } from "@orgchat/client";
import { CliError } from "./errors.js";
import { short, shownName } from "./format.js";
import { isDelegateOf, type Rank, rankIn, rankLevel } from "./ranks.js";

/** `an admin`, `a manager`, `the owner`, `a member`, … */
function withArticle(rank: Rank): string {
  if (rank === "owner") return "the owner";
  if (rank === "none") return "not a member";
  return `${rank === "admin" ? "an" : "a"} ${rank}`;
}

/** What this identity is in `org`, in words (for refusals). */
function selfDescription(org: OrganizationView, self: string): string {
  if (org.banned.includes(self)) return "is banned from it";
  if (org.role !== "member") return `is its ${org.role}`;
  return `is ${withArticle(rankIn(org, self))} of it`;
}

/**
 * Refuses a command that the owner and the delegates may run when this identity is neither, saying
 * who can and how one becomes a delegate.
 * @param org - the organization, caught up
 * @param self - this identity's member id
 * @param command - the command's name (`accept`)
 * @throws CliError when this identity is not the owner, an admin or a manager
 */
export function requireOwnerOrDelegate(org: OrganizationView, self: string, command: string): void {
  if (org.role === "owner" || isDelegateOf(org, self)) return;
  throw new CliError(
    `only the owner, admins and managers of ${shownName(org.identity.displayName)} can run \`orgchat ${command}\` (this identity ${selfDescription(org, self)}): ask one of them, or ask the owner to make you a manager (\`orgchat role <you> manager\`)`,
  );
}

/**
 * Refuses what a delegate may not do to `target` (the state's rule, in words): act on the owner, on
 * itself, or on a member of equal or higher rank. The owner may act on anyone but itself.
 * @param org - the organization, caught up
 * @param self - this identity's member id
 * @param target - the member acted on
 * @param verb - `remove` or `ban`
 * @throws CliError when the rule forbids it
 */
export function requireBelowRank(
  org: OrganizationView,
  self: string,
  target: string,
  verb: "remove" | "ban",
): void {
  const name = shownName(org.identity.displayName);
  const who = org.memberNames.get(target);
  const shown =
    who === undefined ? shownName(short(target)) : `${shownName(who)} (${short(target)})`;
  if (target === org.id) {
    throw new CliError(`the owner of ${name} cannot be ${verb === "ban" ? "banned" : "removed"}`);
  }
  if (target === self) {
    throw new CliError(`you cannot ${verb} yourself: to go, run \`orgchat leave\``);
  }
  if (org.role === "owner") return;
  const mine = rankIn(org, self);
  const theirs = rankIn(org, target);
  if (rankLevel(theirs) >= rankLevel(mine)) {
    throw new CliError(
      `${shown} is ${withArticle(theirs)} of ${name} and you are ${withArticle(mine)}: admins and managers ${verb} only members below their own rank (an admin: managers, moderators and members; a manager: moderators and members); ask the owner`,
    );
  }
}
