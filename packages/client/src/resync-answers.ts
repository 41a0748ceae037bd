/**
 * The owner's budget for resync answers (docs/SECURITY.md, "Unknown key ids"): each answer costs
 * a Welcome (a fresh leaf secret sealed to the member) and may cost a roster snapshot, which grows
 * with the organization, so a member (or many) asking in a loop must not turn the owner into an
 * amplifier. Token buckets on the injected clock: one per member, one for all. A request over
 * budget is dropped (reported); the member's back-off asks again later, and that retry is
 * answered once the bucket has refilled.
 */

import { joinResponseToWire } from "@orgchat/state/wire";
import type { ClientCore } from "./core.js";
import { decisionEventOf } from "./delegate-events.js";
import { redeemedInvitationAnswer } from "./delegate-invitations.js";
import { commitDelegateAddKept, keptWelcomesOf } from "./kept-welcomes.js";
import { type DeskOrg, deskKeys, newTxn, type Txn } from "./org.js";

/** Limits of the owner's resync answers (the per-member refill is `resyncAnswerIntervalMs`). */
export const resyncAnswerLimits = {
  /**
   * Answers one member may get at once; then one per `resyncAnswerIntervalMs` (default 60 s), as
   * that option documents. A member stuck in two groups after one gap gets the second answer on
   * a later retry.
   */
  memberBurst: 1,
  /** Answers the owner gives at once, all members together. */
  totalBurst: 30,
  /** Then one answer per this many ms, all members together (30 a minute). */
  totalRefillMs: 2_000,
  /** Members whose bucket is remembered; full buckets are forgotten first (they hold nothing). */
  maxMemberBuckets: 10_000,
} as const;

/** A token bucket on an injected clock: `capacity` tokens, one more every `refillMs`. */
export class TokenBucket {
  readonly #capacity: number;
  readonly #refillMs: number;
  #tokens: number;
  #at: number;

  constructor(capacity: number, refillMs: number, now: number) {
    this.#capacity = capacity;
    this.#refillMs = refillMs;
    this.#tokens = capacity;
    this.#at = now;
  }

  #refill(now: number): void {
    if (now <= this.#at) return;
    const gained = this.#refillMs <= 0 ? this.#capacity : (now - this.#at) / this.#refillMs;
    this.#tokens = Math.min(this.#capacity, this.#tokens + gained);
    this.#at = now;
  }

  /** Whether a token is there at `now`, without taking it. */
  has(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= 1;
  }

  /** Takes a token if one is there at `now`. @returns whether it took one */
  take(now: number): boolean {
    if (!this.has(now)) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whether the bucket is full at `now` (forgetting it changes nothing). */
  full(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.#capacity;
  }
}

/** Why a resync request is not answered. */
export type ResyncRefusal =
  /** The member asked more than its budget allows. */
  | "member-rate"
  /** The owner answered as many requests as it answers, all members together. */
  | "total-rate";

/**
 * The owner's resync budget for one organization: a bucket per member and one for all.
 * @example
 * ```ts
 * const refusal = budget.judge({ member, now });
 * if (refusal !== undefined) report({ component, reason: `resync-${refusal}` });
 * ```
 */
export class ResyncAnswerBudget {
  readonly #memberRefillMs: number;
  readonly #members = new Map<string, TokenBucket>();
  #total: TokenBucket | undefined;

  /** @param memberRefillMs - one more answer per member per this many ms (`resyncAnswerIntervalMs`) */
  constructor(memberRefillMs: number) {
    this.#memberRefillMs = memberRefillMs;
  }

  /** How many members' buckets are remembered (at most `maxMemberBuckets`). */
  get size(): number {
    return this.#members.size;
  }

  /**
   * Judges a resync request from a member on the group's roster, and takes the tokens of an
   * answer when it is to be answered.
   * @returns undefined to answer, else why not
   */
  judge(input: { readonly member: string; readonly now: number }): ResyncRefusal | undefined {
    const { member, now } = input;
    let bucket = this.#members.get(member);
    if (bucket === undefined) {
      bucket = new TokenBucket(resyncAnswerLimits.memberBurst, this.#memberRefillMs, now);
      this.#remember(member, bucket, now);
    }
    if (!bucket.has(now)) return "member-rate";
    this.#total ??= new TokenBucket(
      resyncAnswerLimits.totalBurst,
      resyncAnswerLimits.totalRefillMs,
      now,
    );
    if (!this.#total.take(now)) return "total-rate";
    bucket.take(now);
    return undefined;
  }

  #remember(member: string, bucket: TokenBucket, now: number): void {
    this.#members.set(member, bucket);
    if (this.#members.size <= resyncAnswerLimits.maxMemberBuckets) return;
    for (const [other, held] of this.#members) {
      if (this.#members.size <= resyncAnswerLimits.maxMemberBuckets) return;
      if (other !== member && held.full(now)) this.#members.delete(other);
    }
    // All busy: the oldest goes (it gets a full bucket back: at most one burst more).
    const [oldest] = this.#members.keys();
    if (oldest !== undefined && oldest !== member) this.#members.delete(oldest);
  }
}

/** The budget of each owned organization, made on first use (kept with the organization's object). */
const budgets = new WeakMap<object, ResyncAnswerBudget>();

/**
 * The resync budget of an owned organization (one per organization object, so per client).
 * @param org - the organization (any object identifying it: its `OwnerSide`)
 * @param memberRefillMs - `resyncAnswerIntervalMs`
 */
export function resyncBudgetOf(org: object, memberRefillMs: number): ResyncAnswerBudget {
  let budget = budgets.get(org);
  if (budget === undefined) {
    budget = new ResyncAnswerBudget(memberRefillMs);
    budgets.set(org, budget);
  }
  return budget;
}

/**
 * Records that `member`'s resync was answered at `now` (`OwnerSide.resyncAnswered`, oldest first)
 * and drops the entries past `intervalMs`: they no longer decide anything, so the map holds only
 * the members answered within the interval (at most the answers the total budget lets out in it).
 *
 * @param answered - when each member was last answered, oldest first
 * @param member - the member answered now
 * @param now - the owner's clock (ms)
 * @param intervalMs - `resyncAnswerIntervalMs`
 */
export function noteResyncAnswer(
  answered: Map<string, number>,
  member: string,
  now: number,
  intervalMs: number,
): void {
  answered.delete(member);
  answered.set(member, now);
  for (const [other, at] of answered) {
    if (other === member || now - at < intervalMs) break;
    answered.delete(other);
  }
}

/** Budgets of the answers given again to repeated requests, per desk (owner or delegate). */
const againBudgets = new WeakMap<object, ResyncAnswerBudget>();

/**
 * The budget of a desk's answers to a request it decided already, asked again (the requester's
 * back-off: `Membership.askAgain`): the same limits as resync answers (one per requester per
 * `memberRefillMs`, {@link resyncAnswerLimits} for all), kept apart from them.
 *
 * @param desk - the desk's keys object (one per owner or delegate desk)
 * @param memberRefillMs - the per-requester refill (`resyncAnswerIntervalMs`)
 */
export function answerAgainBudgetOf(desk: object, memberRefillMs: number): ResyncAnswerBudget {
  let budget = againBudgets.get(desk);
  if (budget === undefined) {
    budget = new ResyncAnswerBudget(memberRefillMs);
    againBudgets.set(desk, budget);
  }
  return budget;
}

/**
 * A request a desk decided, asked again (its answer was lost: `Membership.askAgain`): the decision
 * is sent again, and for a delegate's accept the keys too: the Welcome its add step sent, again
 * (the same sealed bytes: `kept-welcomes.ts`), or, when the add step is missing (the requester's
 * keys had not reached it), the add step now, in a unit of work of its own. Only the desk that
 * decided answers; at most one answer per requester per `resyncAnswerIntervalMs`
 * ({@link answerAgainBudgetOf}: over it, dropped and reported; the requester asks again later).
 *
 * @param c - the client's core
 * @param org - the desk's organization (owner or delegate)
 * @param txn - the unit of work of the repeated request
 * @param asked - the requester, the request's id, the topic it came on (reports)
 */
export async function answerAgain(
  c: ClientCore,
  org: DeskOrg,
  txn: Txn,
  asked: { readonly member: string; readonly requestId: string; readonly topic: string },
): Promise<void> {
  const { member, requestId, topic } = asked;
  const request = org.log.state.requests.get(requestId);
  const self = org.role === "owner" ? org.hex : c.memberId;
  if (request !== undefined && (request.requester !== member || request.decidedBy !== self)) return;
  // From the state (one lookup): the log may have folded the decision into a snapshot since. A
  // use of an invitation is no request of the state: its answer is made anew from the invitation.
  const decision =
    request === undefined
      ? redeemedInvitationAnswer(c, org, member, requestId)
      : decisionEventOf(org.log.state, requestId);
  if (decision === undefined) return;
  const budget = answerAgainBudgetOf(deskKeys(org), c.p.config.resyncAnswerIntervalMs);
  const refusal = budget.judge({ member, now: c.now() });
  if (refusal !== undefined) {
    c.report({ component: "client/resync-answers", reason: `answer-again-${refusal}`, topic });
    return;
  }
  const value = joinResponseToWire(decision, { organizationId: org.hex });
  await c.pairwise.toMember(
    org,
    txn,
    member,
    { case: "requestToJoinResponse", value },
    decision.clock,
  );
  if (decision.type !== "request.accepted" || org.role === "owner") return;
  if (!org.log.state.members.has(member)) return;
  // Added by this delegate already: its Welcome again, the same sealed bytes (lost on the way).
  const kept = (await keptWelcomesOf(c, org)).get(member, c.now());
  if (kept !== undefined) {
    txn.outbox.push(kept);
    return;
  }
  const delegateOrg = org;
  c.runtime.background(org.hex, async () => {
    const again = newTxn(delegateOrg);
    const handed = await commitDelegateAddKept(c, delegateOrg, again, member);
    await c.persistence.commit(delegateOrg, again);
    handed?.fill(0);
  });
}
