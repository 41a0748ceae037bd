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
import { type CommitForks, commitForkLimits } from "./commit-forks.js";
import type { CommitRefRecord } from "./commit-refs.js";
import type { ClientCore } from "./core.js";
import type { EpochRoster } from "./epoch-roster.js";
import type { ReceivedWelcome } from "./key-sync.js";
import { type MemberOrg, newTxn, type Txn } from "./org.js";
import { orgSpace } from "./persistence.js";

const component = "client/invalid-adds";

/** Welcomes of a lower epoch kept per organization, in memory ({@link AddStepJudge}). */
export const maxLowerWelcomes = 4;

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
 * Judges the add steps of the organization's group's active chain when the state's bans change
 * (after the commit that changed them: a member's departure, or any move of the state's clock),
 * and once per organization after a start; goes back from one found invalid.
 */
export class AddStepJudge {
  readonly #c: ClientCore;
  readonly #forks: CommitForks;
  readonly #enterWelcome: (org: MemberOrg, txn: Txn, welcome: ReceivedWelcome) => Promise<void>;
  /** The state's bans the chain was last judged with, per organization. */
  readonly #judged = new WeakMap<MemberOrg, OrgState["banned"]>();
  /** Welcomes of a lower epoch than the group's, the newest {@link maxLowerWelcomes} (memory). */
  readonly #lower = new WeakMap<MemberOrg, ReceivedWelcome[]>();

  /** @param enterWelcome - enters a Welcome (`KeySync.onWelcome`: synchronous, in `txn`) */
  constructor(
    core: ClientCore,
    forks: CommitForks,
    enterWelcome: (org: MemberOrg, txn: Txn, welcome: ReceivedWelcome) => Promise<void>,
  ) {
    this.#c = core;
    this.#forks = forks;
    this.#enterWelcome = enterWelcome;
    const judge = ({ organizationId }: { organizationId: string }) => this.soon(organizationId);
    for (const event of ["member:banned", "org:updated"] as const) core.emitter.on(event, judge);
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
    if (found === undefined) return this.#enterLower(org, txn, group);
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
   * the state refuses now; otherwise it is kept (in memory, the newest {@link maxLowerWelcomes})
   * in case a ban learned later refuses the branch.
   */
  takesLowerWelcome(org: MemberOrg, group: MemberGroup, welcome: ReceivedWelcome): boolean {
    if (onInvalidBranch(org, group, this.#forks.refs(org), commitForkLimits.maxRefs)) return true;
    if (welcome.channelId !== "") return false;
    const kept = (this.#lower.get(org) ?? []).filter((w) => !equalBytes(w.keyId, welcome.keyId));
    kept.push(welcome);
    this.#lower.set(org, kept.slice(-maxLowerWelcomes));
    return false;
  }

  /** How many Welcomes of a lower epoch are kept for `org` (at most {@link maxLowerWelcomes}). */
  keptLower(org: MemberOrg): number {
    return this.#lower.get(org)?.length ?? 0;
  }

  #enterLower(org: MemberOrg, txn: Txn, group: MemberGroup): boolean {
    const kept = this.#lower.get(org);
    if (kept === undefined) return false;
    if (!onInvalidBranch(org, group, this.#forks.refs(org), commitForkLimits.maxRefs)) return false;
    this.#lower.delete(org);
    const before = toHex(group.keyId);
    // The newest first: the author's latest add step of us.
    for (const welcome of kept.reverse()) {
      void this.#enterWelcome(org, txn, welcome);
      if (toHex(org.member.groups.get("")?.keyId ?? new Uint8Array()) !== before) return true;
    }
    return false;
  }
}
