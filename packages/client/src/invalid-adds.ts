/**
 * Member side, add steps found invalid (docs/DELEGATION.md, "An add step found invalid"): a
 * delegate's add step is judged against the state at its clock. A member that took one before it
 * learned that a joiner of it was banned at a lower clock (an accept and a ban of one newcomer at
 * once, across a partition) finds it invalid now: it goes back to the add step's parent
 * (`MemberGroup.returnTo`, `CommitForks.judgeChain`) and never enters it again; the members that
 * refused it at once never left the parent. So every member ends on one chain.
 *
 * What it keeps: per add-step roster (a `WeakMap` on the roster book's objects, which are bounded),
 * the members it wrote. Nothing per stranger.
 *
 * @module
 */
import { equalBytes, fromHex, toHex } from "@orgchat/base";
import type { MemberGroup } from "@orgchat/crypto";
import type { OrgState } from "@orgchat/state";
import { AsideWelcomes, asideWelcomeLimits, knownToFollow } from "./aside-welcomes.js";
import { type CommitForks, commitForkLimits } from "./commit-forks.js";
import type { CommitRefRecord } from "./commit-refs.js";
import type { ClientCore } from "./core.js";
import type { EpochRoster } from "./epoch-roster.js";
import type { ReceivedWelcome } from "./key-sync.js";
import { type MemberOrg, newTxn, type Txn } from "./org.js";
import { orgSpace } from "./persistence.js";

const component = "client/invalid-adds";

/**
 * Welcomes kept aside per organization, of a lower epoch and unplaced together ({@link AddStepJudge},
 * `aside-welcomes.ts`).
 */
export const maxLowerWelcomes = asideWelcomeLimits.maxPerOrg;

/** Per add-step roster, the members it wrote (rosters never change once built). */
const joinersOf = new WeakMap<EpochRoster, readonly string[]>();

/**
 * The members an add step wrote: the leaves of its roster that its parent's roster does not hold
 * (the same identity at the same leaf).
 *
 * @returns member ids (hex), or undefined when the parent's roster is not here
 */
export function joinersOfAdd(org: MemberOrg, roster: EpochRoster): readonly string[] | undefined {
  const known = joinersOf.get(roster);
  if (known !== undefined) return known;
  const parent = org.rosters.get(toHex(roster.previousKeyId));
  if (parent === undefined) return undefined;
  const out: string[] = [];
  for (const [index, leaf] of roster.roster.entries()) {
    const before = parent.roster[index];
    if (leaf === undefined || before === leaf) continue;
    if (before !== undefined && equalBytes(before.identityKey, leaf.identityKey)) continue;
    out.push(toHex(leaf.identityKey));
  }
  joinersOf.set(roster, out);
  return out;
}

/**
 * Whether commit `keyIdHex` is a delegate's add step of the organization's group that the state
 * refuses now: one of its joiners is banned at a clock below the commit's (the rule a receiver
 * applies on arrival, `checkDelegateRoster`). A removal at a lower clock refuses nothing: an
 * acceptance after it admits the member again.
 *
 * @param ref - the commit's reference (signer, clock, parent)
 */
export function invalidAddStep(
  org: MemberOrg,
  keyIdHex: string,
  ref: CommitRefRecord | undefined,
): boolean {
  if (ref === undefined || ref.channelId !== "" || ref.signer === org.hex) return false;
  const banned = org.log.state.banned;
  if (banned.size === 0) return false;
  const roster = org.rosters.get(keyIdHex);
  if (roster === undefined || roster.change !== "add") return false;
  for (const member of joinersOfAdd(org, roster) ?? []) {
    const ban = banned.get(member);
    if (ban !== undefined && ban.clock < ref.clock) return true;
  }
  return false;
}

/**
 * The invalid add step of the group's active chain closest to its root: the references are walked
 * up from the current epoch (at most `maxSteps` steps) while each parent is a kept fork point (one
 * the member can go back to), or while they are known with `anyParent`.
 *
 * @returns the add step and its parent (hex key ids), or undefined when none is invalid
 */
export function invalidOnChain(
  org: MemberOrg,
  group: MemberGroup,
  refs: ReadonlyMap<string, CommitRefRecord>,
  maxSteps: number,
  anyParent = false,
): { readonly child: string; readonly parent: string } | undefined {
  if (org.log.state.banned.size === 0) return undefined;
  let found: { child: string; parent: string } | undefined;
  let at = toHex(group.keyId);
  for (let step = 0; step < maxSteps; step++) {
    const ref = refs.get(at);
    if (ref === undefined || !(anyParent || group.keepsParent(fromHex(ref.parent)))) break;
    if (invalidAddStep(org, at, ref)) found = { child: at, parent: ref.parent };
    at = ref.parent;
  }
  return found;
}

/**
 * Whether the group's current epoch hangs below an add step the state refuses now (walking the
 * references up, at most `maxSteps`): a newcomer that joined on such a branch holds no parent to go
 * back to, and takes the Welcome of its author's new add step instead, even of a lower epoch.
 */
export function onInvalidBranch(
  org: MemberOrg,
  group: MemberGroup,
  refs: ReadonlyMap<string, CommitRefRecord>,
  maxSteps: number,
): boolean {
  return invalidOnChain(org, group, refs, maxSteps, true) !== undefined;
}

/**
 * Judges the add steps of the organization's group's active chain when the state's bans change (in
 * the unit of work that changed them: `Persistence.commit` calls {@link AddStepJudge.judgeBans}),
 * and once per organization after a start; goes back from one found invalid. Keeps the Welcomes a
 * member does not enter now (`aside-welcomes.ts`) and enters them when their time comes.
 */
export class AddStepJudge {
  readonly #c: ClientCore;
  readonly #forks: CommitForks;
  readonly #enterWelcome: (org: MemberOrg, txn: Txn, welcome: ReceivedWelcome) => Promise<void>;
  /** The state's bans the chain was last judged with, per organization. */
  readonly #judged = new WeakMap<MemberOrg, OrgState["banned"]>();
  /** The organizations whose stored references were read ({@link AddStepJudge.soon}). */
  readonly #refsRead = new WeakSet<MemberOrg>();
  /** Welcomes of a lower epoch, or of a branch not placed yet (stored, bounded). */
  readonly aside: AsideWelcomes;

  /**
   * @param enterWelcome - enters a Welcome kept aside (`KeySync.onWelcome`: synchronous, in
   *   `txn`; not kept aside again)
   */
  constructor(
    core: ClientCore,
    forks: CommitForks,
    enterWelcome: (org: MemberOrg, txn: Txn, welcome: ReceivedWelcome) => Promise<void>,
  ) {
    this.#c = core;
    this.#forks = forks;
    this.#enterWelcome = enterWelcome;
    this.aside = new AsideWelcomes(core);
  }

  /**
   * Judges the chain in `txn`, the unit of work that changed the state's bans (`txn.before`'s
   * differ from the state's now): a crash never leaves the ban without its judgement. Once the
   * references are read from the store; until then (the first ban after a start, before any keys
   * message) {@link AddStepJudge.soon} judges after it, as the start-up call does.
   */
  judgeBans(org: MemberOrg, txn: Txn): void {
    const banned = org.log.state.banned;
    if (txn.before.banned === banned || this.#judged.get(org) === banned) return;
    if (!this.#refsRead.has(org)) {
      this.soon(org.hex);
      return;
    }
    this.#judged.set(org, banned);
    this.judge(org, txn);
  }

  /**
   * Judges the chain of `organizationId` in a unit of work of its own, after the current one, when
   * the state's bans changed since it was last judged.
   */
  soon(organizationId: string): void {
    const c = this.#c;
    const org = c.orgs.get(organizationId);
    if (org === undefined || org.role === "owner") return;
    if (this.#judged.get(org) === org.log.state.banned) return;
    c.runtime.background(org.hex, async () => {
      await this.#forks.load(org);
      await this.aside.load(org);
      this.#refsRead.add(org);
      const banned = org.log.state.banned;
      if (this.#judged.get(org) === banned) return;
      this.#judged.set(org, banned);
      const txn = newTxn(org);
      if (this.judge(org, txn)) await c.persistence.commit(org, txn);
    });
  }

  /**
   * An add step of the active chain found invalid: the group goes back to its parent, or to the
   * best valid sibling of it this member holds (a loser entered before), and follows on from
   * there; the add step's author re-commits its other joiners (`CommitForks.afterEntry`). A
   * newcomer that joined below it (no parent to go back to) enters a Welcome of a lower epoch kept
   * meanwhile, if one is. In `txn`.
   *
   * @returns whether the group moved
   */
  judge(org: MemberOrg, txn: Txn): boolean {
    const c = this.#c;
    const group = org.member.groups.get("");
    if (group?.status !== "member") return false;
    const forks = this.#forks;
    const refs = forks.refs(org);
    const found = invalidOnChain(org, group, refs, commitForkLimits.maxRefs);
    if (found === undefined) return this.#enterLower(org, txn, group) || this.placeAside(org, txn);
    let target = found.parent;
    for (const [keyIdHex, ref] of refs) {
      if (ref.parent !== found.parent || keyIdHex === found.child) continue;
      if (!group.keepsParent(fromHex(keyIdHex)) || invalidAddStep(org, keyIdHex, ref)) continue;
      if (target === found.parent || forks.beats(org, keyIdHex, target)) target = keyIdHex;
    }
    const roster = org.rosters.get(target);
    const before = toHex(group.keyId);
    let status: string | undefined;
    try {
      status = roster && group.returnTo(fromHex(target), roster.roster, c.p.now()).status;
    } catch (error) {
      c.report({ component, reason: "return-refused", error });
    }
    if (status !== "applied") return false;
    c.report({ component, reason: "invalid-add-step-left", topic: orgSpace(org.hex) });
    forks.afterEntry(org, txn, "", target, true, before);
    return true;
  }

  /**
   * Whether `KeySync.onWelcome` takes a Welcome of a lower epoch than the group's: yes on a branch
   * the state refuses now, or one that loses to the Welcome's (`CommitForks.branchLoses`); otherwise it is kept aside (stored in `txn`, the newest
   * {@link maxLowerWelcomes}) in case a ban learned later refuses the branch.
   */
  takesLowerWelcome(
    org: MemberOrg,
    txn: Txn,
    group: MemberGroup,
    welcome: ReceivedWelcome,
  ): boolean {
    if (onInvalidBranch(org, group, this.#forks.refs(org), commitForkLimits.maxRefs)) return true;
    // The group's branch loses to the Welcome's: a newcomer that joined on a losing branch holds no
    // fork point to move by (owner strict seed 0x0c5f, script 3: `waiting-welcomes.ts`).
    if (this.#forks.branchLoses(org, toHex(group.keyId), toHex(welcome.keyId))) return true;
    if (welcome.channelId !== "") return false;
    this.aside.keep(org, txn, "lower", welcome);
    return false;
  }

  /** How many Welcomes of a lower epoch are kept for `org` (at most {@link maxLowerWelcomes}). */
  keptLower(org: MemberOrg): number {
    return this.aside.list(org, "lower").length;
  }

  /**
   * Whether `KeySync.onWelcome` keeps a delegate's Welcome of the organization's group aside
   * rather than entering it: its epoch is not below the group's, it is another commit, and its
   * branch is neither known to follow the group's epoch nor known to win over it (a Welcome of a
   * branch known to lose is dropped before). Entering it would take a member on the winner off it
   * for good when that branch loses (it holds no fork point to switch back). Kept in `txn`; entered
   * by {@link AddStepJudge.placeAside} once its place is known.
   */
  keepsUnplaced(org: MemberOrg, txn: Txn, group: MemberGroup, welcome: ReceivedWelcome): boolean {
    if (welcome.channelId !== "" || welcome.epoch < group.epoch) return false;
    if (this.#placement(org, group, toHex(welcome.keyId)) !== "unknown") return false;
    this.aside.keep(org, txn, "unplaced", welcome);
    this.#c.report({ component, reason: "welcome-kept-aside", topic: orgSpace(org.hex) });
    return true;
  }

  /**
   * Where a commit stands to the group's epoch: "enter" (it follows it, or the group's branch
   * loses to it), "drop" (the group reached it, or its branch loses), or "unknown".
   */
  #placement(org: MemberOrg, group: MemberGroup, keyIdHex: string): "enter" | "drop" | "unknown" {
    const forks = this.#forks;
    const ours = toHex(group.keyId);
    if (keyIdHex === ours) return "drop";
    const refs = forks.refs(org);
    if (knownToFollow(refs, ours, keyIdHex, commitForkLimits.maxRefs)) return "drop";
    if (forks.branchLoses(org, keyIdHex, ours)) return "drop";
    if (knownToFollow(refs, keyIdHex, ours, commitForkLimits.maxRefs)) return "enter";
    return forks.branchLoses(org, ours, keyIdHex) ? "enter" : "unknown";
  }

  /**
   * The unplaced Welcomes kept aside whose place is known now (a commit reference came, a ban
   * moved the group): entered, newest first, when their branch follows the group's epoch or wins
   * over it; dropped when it loses or the group reached it; the others stay. In `txn`.
   *
   * @returns whether the group moved
   */
  placeAside(org: MemberOrg, txn: Txn): boolean {
    const kept = this.aside.list(org, "unplaced");
    if (kept.length === 0) return false;
    const before = toHex(org.member.groups.get("")?.keyId ?? new Uint8Array());
    for (const { welcome } of [...kept].reverse()) {
      const group = org.member.groups.get("");
      const keyIdHex = toHex(welcome.keyId);
      const placement =
        group?.status === "member" ? this.#placement(org, group, keyIdHex) : "enter";
      if (placement === "unknown") continue;
      this.aside.drop(org, txn, keyIdHex);
      if (placement === "enter") void this.#enterWelcome(org, txn, welcome);
    }
    return toHex(org.member.groups.get("")?.keyId ?? new Uint8Array()) !== before;
  }

  #enterLower(org: MemberOrg, txn: Txn, group: MemberGroup): boolean {
    const kept = this.aside.list(org, "lower");
    if (kept.length === 0) return false;
    if (!onInvalidBranch(org, group, this.#forks.refs(org), commitForkLimits.maxRefs)) return false;
    for (const { welcome } of kept) this.aside.drop(org, txn, toHex(welcome.keyId));
    const before = toHex(group.keyId);
    // The newest first: the author's latest add step of us.
    for (const { welcome } of [...kept].reverse()) {
      void this.#enterWelcome(org, txn, welcome);
      if (toHex(org.member.groups.get("")?.keyId ?? new Uint8Array()) !== before) return true;
    }
    return false;
  }
}
