/**
 * A delegate adds a joiner its state lists again (docs/DELEGATION.md, "Concurrent commits
 * converge"; issue #17). Owner seed 1, script 32 of fork-convergence.test.ts: a2 accepted n2 and
 * its add step lost at its parent to the owner's commit, whose description (made before the owner
 * read the acceptance) had dropped n2 from a2's state. So a2's re-commit (`recommitPlan`) found
 * nothing. Later a2's state listed n2 again (the owner folded the acceptance), and nothing added
 * n2: n2 was in the state and not in the group. The owner covers it when it is back
 * (`delegate-grace.ts`); this covers it without the owner.
 *
 * Whenever a unit of work gives a delegate's state members it did not list before
 * (`Persistence` calls {@link recommitJoiners} after each commit), each of them that the
 * organization group's roster does not hold is added:
 *
 * - at once when this delegate decided its acceptance: the newest accepted request or used
 *   invitation names it as decider or issuer, or, when the state records none (a description's
 *   state holds no requests), this desk keeps a Welcome of its own add step of it
 *   (`kept-welcomes.ts`: the newest 64, 24 h);
 * - when another delegate of the same rank decided it, `delegateCommitGraceMs` later, if the
 *   roster still lacks it then: the rule the owner uses (`leftToDelegate`), since that delegate's
 *   add step may be on its way. Two delegates that add the same member on one parent make a fork;
 *   the winner holds it and the loser's re-commit finds nothing left to do.
 *
 * An add needs the desk's session with the joiner (the Welcome goes over it) and its signed keys.
 * A desk forgets both when its state drops a member; for a joiner it added (a kept Welcome), not
 * banned, and dropped by no event of the unit of work (a description's state), it keeps them
 * (`ownerKeyOps`, `keepsWelcomeOf`), else the add could not be made again.
 *
 * No loop: an add step changes no member of the state, so it never calls for another. One made on
 * a later epoch than another delegate's add of the same joiner is not made (`commitDelegateAdd`:
 * the roster holds it already).
 * Bounded: at most {@link joinerRecommitLimits}`.maxPerOrg` members per unit of work and per
 * armed grace (one timer per organization, memory only, cleared when the client closes).
 *
 * @module
 */
import type { Roster } from "@orgchat/crypto";
import { type OrgState, rankOf } from "@orgchat/state";
import type { ClientCore } from "./core.js";
import { isDelegate } from "./delegates.js";
import { memberChanges, rosterLists } from "./departures.js";
import { commitDelegateAddKept, keptWelcomesOf } from "./kept-welcomes.js";
import { type DelegateOrg, type MemberOrg, newTxn } from "./org.js";
import { delegateCommitGraceMs } from "./owner-follow.js";
import { ownerMemberKeys } from "./owner-keys.js";

/** The bounds of a delegate's joiner adds. */
export const joinerRecommitLimits = {
  /** Members looked at per unit of work, and members an armed grace end adds (the owner's 1,024). */
  maxPerOrg: 1_024,
} as const;

/**
 * Who decided the acceptance of each of `joiners` in `state`: the decider of its newest accepted
 * request, or the issuer of its newest used invitation (the later of the two, by clock).
 *
 * @param state - a state
 * @param joiners - member ids
 * @returns member id → the decider's id (none when no acceptance is recorded)
 */
export function acceptanceDeciders(
  state: OrgState,
  joiners: ReadonlySet<string>,
): Map<string, string> {
  const newest = new Map<string, { by: string; at: bigint }>();
  const note = (member: string, by: string | undefined, at: bigint | undefined) => {
    if (by === undefined || at === undefined || !joiners.has(member)) return;
    const held = newest.get(member);
    if (held === undefined || held.at < at) newest.set(member, { by, at });
  };
  for (const request of state.requests.values()) {
    if (request.status === "accepted")
      note(request.requester, request.decidedBy, request.decidedAt);
  }
  for (const invitation of state.invitations.values()) {
    if (invitation.used) note(invitation.invitee, invitation.issuedBy, invitation.usedAt);
  }
  return new Map([...newest].map(([member, { by }]) => [member, by]));
}

/**
 * Of `joined` (members the state lists now and did not before), those delegate `me` adds: `now`,
 * its own acceptances; `later`, those of another delegate of its rank (at the grace's end);
 * `unknown`, those whose acceptance the state does not record (a description's state holds no
 * requests): the caller adds those its desk added before (a kept Welcome). Never the owner,
 * itself, or one the roster holds; at most {@link joinerRecommitLimits}`.maxPerOrg` looked at.
 *
 * @param state - the delegate's state now
 * @param joined - members it gained
 * @param me - the delegate
 * @param roster - the organization group's current roster
 * @returns the members to add at once, at the grace's end, and if its desk added them before
 */
export function joinersToAdd(
  state: OrgState,
  joined: readonly string[],
  me: string,
  roster: Roster,
): { now: string[]; later: string[]; unknown: string[] } {
  const missing = new Set(
    joined
      .slice(0, joinerRecommitLimits.maxPerOrg)
      .filter((id) => id !== me && id !== state.organizationId && !rosterLists(roster, id)),
  );
  const now: string[] = [];
  const later: string[] = [];
  const unknown: string[] = [];
  if (missing.size === 0) return { now, later, unknown };
  const rank = rankOf(state, me);
  const deciders = acceptanceDeciders(state, missing);
  for (const member of missing) {
    const by = deciders.get(member);
    if (by === undefined) unknown.push(member);
    else if (by === me) now.push(member);
    else if (isDelegate(state, by) && rankOf(state, by) === rank) later.push(member);
  }
  return { now, later, unknown };
}

/**
 * After a unit of work of `org` committed (its state's members were `before`): a delegate adds the
 * joiners {@link joinersToAdd} finds, its own at once, an equal delegate's at the grace's end.
 *
 * @param c - the client's core
 * @param org - an organization this client does not own
 * @param before - the state's members before the unit of work
 */
export function recommitJoiners(c: ClientCore, org: MemberOrg, before: OrgState["members"]): void {
  const state = org.log.state;
  if (before === state.members || org.member.delegate === undefined) return;
  const group = org.member.groups.get("");
  if (group?.status !== "member" || !isDelegate(state, c.memberId)) return;
  const { joined } = memberChanges(before, state.members);
  if (joined.length === 0) return;
  const { now, later, unknown } = joinersToAdd(state, joined, c.memberId, group.roster);
  if (now.length > 0 || unknown.length > 0) addJoiners(c, org, now, unknown);
  if (later.length > 0) armGraceEnd(c, org, later);
}

/** The members an armed grace end adds, per organization (one timer each). */
const armed = new WeakMap<MemberOrg, Set<string>>();

function armGraceEnd(c: ClientCore, org: MemberOrg, members: readonly string[]): void {
  const waiting = armed.get(org);
  if (waiting !== undefined) {
    for (const member of members) {
      if (waiting.size < joinerRecommitLimits.maxPerOrg) waiting.add(member);
    }
    return;
  }
  if (c.runtime.closed) return;
  const due = new Set(members);
  armed.set(org, due);
  // Cleared when the client closes (`Runtime.timer`).
  c.runtime.timer(() => {
    armed.delete(org);
    addJoiners(c, org, [...due], []);
  }, delegateCommitGraceMs);
}

/**
 * Adds each of `members`, and of `ifKept` those whose Welcome this desk keeps (its own add step,
 * `kept-welcomes.ts`: 64, 24 h), that the state still lists and the roster still lacks, each in a
 * unit of work of its own, after the current one (`commitDelegateAddKept`: a new add step, a
 * Welcome, a handover). One whose signed keys this desk does not hold is left to its re-ask.
 */
function addJoiners(
  c: ClientCore,
  org: MemberOrg,
  members: readonly string[],
  ifKept: readonly string[],
): void {
  c.runtime.background(org.hex, async () => {
    const desk = org.member.delegate;
    const kept = desk === undefined ? undefined : await keptWelcomesOf(c, org as DelegateOrg);
    const now = c.now();
    const own = ifKept.filter((member) => kept?.get(member, now) !== undefined);
    for (const member of [...members, ...own]) {
      const group = org.member.groups.get("");
      if (c.orgs.get(org.hex) !== org || org.member.delegate === undefined) return;
      if (group?.status !== "member" || !isDelegate(org.log.state, c.memberId)) return;
      if (!org.log.state.members.has(member) || rosterLists(group.roster, member)) continue;
      const delegateOrg = org as DelegateOrg;
      if ((await ownerMemberKeys(c.p, delegateOrg, member))?.signed === undefined) continue;
      const txn = newTxn(org);
      const handed = await commitDelegateAddKept(c, delegateOrg, txn, member);
      await c.persistence.commit(org, txn);
      handed?.fill(0);
    }
  });
}
