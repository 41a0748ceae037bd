/**
 * Member side, forks (docs/DELEGATION.md, "Concurrent commits converge"): two committers (two
 * delegates, or a delegate and the owner) commit on the same parent epoch. Every member picks the
 * same winner at every parent (`compareCommits`: owner first, then clock, signer, key_id), so the
 * **active chain** is one. A member that entered a loser switches to the winner when it arrives; a
 * sibling that loses is entered as a retained epoch (its messages stay readable); a delegate whose
 * own commit lost re-commits its joiners and departures on the winner. A delegate's add step the
 * state refuses now (a joiner banned at a lower clock) is never entered: `invalid-adds.ts`.
 *
 * What it keeps: per commit (by key_id) its signer, clock and parent, read from the verified
 * envelope of its `EpochRoster` (one per commit; the KeyUpdate's own envelope may carry another
 * clock, so it is never used for the order). Persisted as `fork-ref/<key id>` records, bounded by
 * {@link commitForkLimits}. Fork chunks whose roster is not here yet wait in memory (not marked
 * seen: history has them after a restart).
 *
 * @module
 */
import { equalBytes, fromHex, toHex } from "@orgchat/base";
import { compareCommits, type MemberGroup, type MemberTransition } from "@orgchat/crypto";
import { decodeSignedEnvelope } from "@orgchat/wire";
import { type CommitRefRecord, commitRef, readRef, writeRef } from "./commit-refs.js";
import type { ClientCore } from "./core.js";
import { commitDelegateAdd, commitDelegateRemoval } from "./delegate-commits.js";
import { payloadId } from "./encoding.js";
import type { EpochRoster } from "./epoch-roster.js";
import {
  acceptedAfter,
  departuresKey,
  type KeptDepartures,
  noteKept,
  readKept,
  writeKept,
} from "./fork-departures.js";
import type { HeldChunk } from "./held-key-updates.js";
import { HiddenCommits, type Missing } from "./hidden-commits.js";
import { invalidAddStep } from "./invalid-adds.js";
import { type DelegateOrg, type MemberOrg, newTxn, type Txn, type WaitingChunk } from "./org.js";
import { orgSpace } from "./persistence.js";
import { recommitPlan } from "./recommit-plan.js";

export type { CommitRefRecord } from "./commit-refs.js";
export { recommitPlan } from "./recommit-plan.js";

const component = "client/commit-forks";

/**
 * Bounds (every byte from the network is hostile):
 * - `maxRefs`: commit references kept per organization (the newest epochs; 256 × ~150 bytes);
 * - `maxSiblings`: siblings entered per parent, the best 8 by the winner order (docs "Bounds"): a
 *   flood of forged siblings needs a delegate's key, and loses to the owner's commit anyway;
 * - `maxWaiting`: fork chunks waiting for their roster, per organization (the oldest go first);
 * - `maxDepartures`: departures this delegate decided that wait for an epoch holding their member,
 *   per organization (the oldest go first).
 */
export const commitForkLimits = {
  maxRefs: 256,
  maxSiblings: 8,
  maxWaiting: 64,
  maxDepartures: 64,
} as const;

/** What fork handling needs of `KeySync` (its private steps). */
export interface ForkSteps {
  /** The group's current epoch changed: persisted, pending messages retried, the app told. */
  entered(org: MemberOrg, txn: Txn, channelId: string, epoch: bigint): void;
  /** Applies the add steps (and waiting chunks) that follow the group's current epoch. */
  followRosters(org: MemberOrg, txn: Txn, channelId: string): void;
  /** Messages kept under `keyIdHex` are judged again. */
  retryNamed(org: MemberOrg, txn: Txn, keyIdHex: string): void;
  /** Applies the KeyUpdate chunks kept for group `channelId` (those on the branch switched to). */
  applyWaiting(org: MemberOrg, txn: Txn, channelId: string): void;
}

/** The member side's fork handling (one per client, state per organization). */
export class CommitForks {
  readonly #c: ClientCore;
  readonly #steps: ForkSteps;
  readonly #refs = new WeakMap<MemberOrg, Map<string, CommitRefRecord>>();
  readonly #loaded = new WeakSet<MemberOrg>();
  readonly #waiting = new WeakMap<MemberOrg, HeldChunk[]>();
  readonly #departures = new WeakMap<MemberOrg, KeptDepartures>();

  /** Reads for commits placed and needed whose chunks a partition hid (`hidden-commits.ts`). */
  readonly hidden: HiddenCommits;

  constructor(core: ClientCore, steps: ForkSteps) {
    this.#c = core;
    this.#steps = steps;
    this.hidden = new HiddenCommits(core, (org, keyIdHex) => this.#missingChunk(org, keyIdHex));
  }

  /** The references of `org` (read from the store at first use: {@link CommitForks.load}). */
  refs(org: MemberOrg): Map<string, CommitRefRecord> {
    let refs = this.#refs.get(org);
    if (refs === undefined) {
      refs = new Map();
      this.#refs.set(org, refs);
    }
    return refs;
  }

  /** Reads the stored references once (those noted meanwhile stay). */
  async load(org: MemberOrg): Promise<void> {
    if (this.#loaded.has(org)) return;
    this.#loaded.add(org);
    const { store } = this.#c.p;
    const space = orgSpace(org.hex);
    const refs = this.refs(org);
    const stored = await store.get(space, departuresKey);
    if (stored !== undefined) {
      // Those noted meanwhile are newer: they stay the last forgotten.
      const pending = this.#pending(org);
      const noted = [...pending];
      pending.clear();
      const max = commitForkLimits.maxDepartures;
      const read = readKept(stored, max, org.log.state.clock);
      for (const [member, clock] of [...read, ...noted]) noteKept(pending, member, clock, max);
    }
    for (const key of await store.keys(space, { prefix: "fork-ref/" })) {
      const keyIdHex = key.slice("fork-ref/".length);
      if (refs.has(keyIdHex)) continue;
      const bytes = await store.get(space, key);
      const ref = bytes === undefined ? undefined : readRef(bytes);
      if (ref !== undefined) refs.set(keyIdHex, ref);
    }
  }

  /**
   * Notes the commit of a verified `EpochRoster` envelope (its signer and clock), in `txn` when
   * given (else in memory: the roster is read again from history after a restart).
   */
  noteEnvelope(
    org: MemberOrg,
    txn: Txn | undefined,
    message: CommitPlace,
    bytes: Uint8Array,
  ): void {
    let envelope: ReturnType<typeof decodeSignedEnvelope>;
    try {
      envelope = decodeSignedEnvelope(bytes);
    } catch {
      return; // It opened a moment ago: not reached.
    }
    this.note(org, txn, message, envelope.signer, envelope.clock);
    const c = this.#c;
    const time = c.sync.arrivalOf(payloadId(c.p.provider, bytes)) ?? c.now();
    this.hidden.noteTime(org, toHex(message.keyId), time);
    this.hidden.want(org, toHex(message.keyId));
  }

  /** Notes a commit's reference (a delegate's own commit: `delegate-commits.ts`). */
  note(
    org: MemberOrg,
    txn: Txn | undefined,
    message: CommitPlace,
    signer: Uint8Array,
    clock: bigint,
  ): void {
    if (message.previousKeyId.length === 0) return; // genesis: no sibling
    const refs = this.refs(org);
    const keyIdHex = toHex(message.keyId);
    if (refs.has(keyIdHex)) return;
    const ref: CommitRefRecord = {
      signer: toHex(signer),
      clock,
      parent: toHex(message.previousKeyId),
      epoch: message.epoch,
      channelId: message.channelId,
    };
    refs.set(keyIdHex, ref);
    const space = orgSpace(org.hex);
    txn?.ops.push({ type: "put", space, key: `fork-ref/${keyIdHex}`, value: writeRef(ref) });
    if (refs.size <= commitForkLimits.maxRefs) return;
    const oldest = [...refs].sort((a, b) => (a[1].epoch < b[1].epoch ? -1 : 1));
    for (const [old] of oldest.slice(0, refs.size - commitForkLimits.maxRefs)) {
      refs.delete(old);
      txn?.ops.push({ type: "delete", space, key: `fork-ref/${old}` });
    }
  }

  /**
   * Of the add steps that follow `group`'s epoch, the winner (by the winner order; one without a
   * reference after those with one).
   */
  pickAddStep(org: MemberOrg, candidates: readonly EpochRoster[]): EpochRoster | undefined {
    let best: EpochRoster | undefined;
    for (const candidate of candidates) {
      // An add step the state refuses now is never entered (again): `invalid-adds.ts`.
      const keyIdHex = toHex(candidate.keyId);
      if (invalidAddStep(org, keyIdHex, this.refs(org).get(keyIdHex))) continue;
      if (best === undefined || this.beats(org, keyIdHex, toHex(best.keyId))) {
        best = candidate;
      }
    }
    return best;
  }

  /** Whether a KeyUpdate chunk is a commit on an epoch the group left (a fork point). */
  isForkChunk(org: MemberOrg, held: HeldChunk): boolean {
    const { chunk } = held.read;
    const group = org.member.groups.get(chunk.channelId);
    return group !== undefined && onForkPoint(group, chunk.previousKeyId);
  }

  /**
   * Whether a KeyUpdate chunk (a delegate's, or the owner's: both commit on a parent in the owner
   * profile), of an epoch not above the group's, is a commit on a branch this member never was on
   * (its reference known, off the active chain, its parent neither the current epoch nor a fork
   * point) and its signature holds: `KeySync` keeps it (bounded) for a switch to its parent
   * instead of dropping it as stale.
   */
  isOtherBranch(org: MemberOrg, held: HeldChunk): boolean {
    const { chunk } = held.read;
    const group = org.member.groups.get(chunk.channelId);
    if (group?.status !== "member" || chunk.epoch > group.epoch) {
      return false;
    }
    if (equalBytes(chunk.previousKeyId, group.keyId) || group.keepsParent(chunk.previousKeyId)) {
      return false;
    }
    if (!this.refs(org).has(held.keyIdHex) || this.#onActiveChain(org, group, held.keyIdHex)) {
      return false;
    }
    return held.read.verify();
  }

  /**
   * Whether a KeyUpdate chunk (a delegate's or the owner's) of an epoch not above the group's hangs
   * where this member cannot place it yet: its commit's reference is unknown (its roster not here)
   * and its parent is neither the current epoch nor one the group left. It may be a commit on
   * another branch ({@link CommitForks.isOtherBranch} once its roster comes): not marked seen when
   * dropped. The owner's too since session 16 (owner seed 1 script 3 failed with them while a
   * departure was forgotten on a description that listed its member: `fork-departures.ts`).
   */
  placeUnknown(org: MemberOrg, held: HeldChunk): boolean {
    const { chunk } = held.read;
    const group = org.member.groups.get(chunk.channelId);
    if (group === undefined || this.refs(org).has(held.keyIdHex)) return false;
    return !equalBytes(chunk.previousKeyId, group.keyId) && !group.keepsParent(chunk.previousKeyId);
  }

  /**
   * A waiting chunk (verified already) whose parent became a fork point while it waited (a sibling
   * that waited with it applied first): entered as a sibling, the current epoch if it wins.
   *
   * @returns undefined when it is not on a fork point, else as {@link CommitForks.onForkChunk}
   */
  onWaitingChunk(org: MemberOrg, txn: Txn, waiting: WaitingChunk): "done" | "waiting" | undefined {
    const read = { chunk: waiting.chunk, verify: () => true };
    const held: HeldChunk = { ...waiting, read, keyIdHex: toHex(waiting.chunk.keyId) };
    if (!this.isForkChunk(org, held)) return undefined;
    return this.onForkChunk(org, txn, held) === "waiting" ? "waiting" : "done";
  }

  /**
   * A kept chunk (verified when kept) of a delegate's or the owner's commit on a branch this member
   * never was on, whose roster came while it waited (its parent's roster unlocked it): still on
   * that branch, so kept again for a switch to its parent, not applied as stale and marked seen
   * (`ORGCHAT_FORK_RUNS=150`, script 138).
   */
  waitsForSwitch(org: MemberOrg, waiting: WaitingChunk): boolean {
    const read = { chunk: waiting.chunk, verify: () => true };
    return this.isOtherBranch(org, { ...waiting, read, keyIdHex: toHex(waiting.chunk.keyId) });
  }

  /**
   * A KeyUpdate chunk on a fork point: verified, then entered as the winner or as a readable loser
   * once its roster and reference are here (until then it waits, in memory).
   *
   * @returns "done" (entered, or of no use: recorded in `txn`), "waiting", or "dropped" (forged)
   */
  onForkChunk(org: MemberOrg, txn: Txn, held: HeldChunk): "done" | "waiting" | "dropped" {
    const c = this.#c;
    if (!held.read.verify()) {
      c.sync.seen.add(held.id);
      c.report({ component, reason: "forged-key-update", topic: orgSpace(org.hex) });
      return "dropped";
    }
    const { chunk } = held.read;
    const group = org.member.groups.get(chunk.channelId);
    const roster = org.rosters.get(held.keyIdHex);
    if (group === undefined || roster === undefined || !this.refs(org).has(held.keyIdHex)) {
      this.#wait(org, held);
      return "waiting";
    }
    if (!this.#admitted(org, held.keyIdHex)) {
      c.sync.markSeen(org, txn, held.id);
      return "done";
    }
    const makeCurrent = this.#wins(org, group, held.keyIdHex);
    const before = toHex(group.keyId);
    let outcome: MemberTransition;
    try {
      outcome = group.enterSiblingKeyUpdate(chunk, c.p.now(), {
        makeCurrent,
        roster: roster.roster,
        rosterHash: roster.rosterHash,
        salt: held.delegate === true ? "delegate" : "leaf",
      });
    } catch (error) {
      c.report({ component, reason: "key-update-refused", error });
      c.sync.markSeen(org, txn, held.id);
      return "done";
    }
    c.sync.markSeen(org, txn, held.id);
    if (outcome.status === "applied") {
      this.afterEntry(org, txn, chunk.channelId, held.keyIdHex, makeCurrent, before);
    } else if (outcome.status === "not-in-chunk" && makeCurrent && !holdsUs(group, roster.roster)) {
      // The winner removed us: out of the group (the losing epoch stays readable).
      group.markRemoved(c.p.now());
      txn.groups.add(chunk.channelId);
    }
    return "done";
  }

  /**
   * Enters every add step on a fork point of group `channelId` (a sibling of a commit we followed,
   * or a commit on top of a loser), oldest first: the winner as the current epoch, the others kept
   * readable. Then the chunks waiting for a roster learned since.
   */
  followForkAdds(org: MemberOrg, txn: Txn, channelId: string): void {
    const c = this.#c;
    for (let progress = true; progress; ) {
      progress = false;
      const group = org.member.groups.get(channelId);
      if (group === undefined) return;
      const candidates = [...org.rosters.values()]
        .filter(
          (r) =>
            r.channelId === channelId &&
            r.change === "add" &&
            !equalBytes(r.keyId, group.keyId) &&
            onForkPoint(group, r.previousKeyId) &&
            this.refs(org).has(toHex(r.keyId)),
        )
        .sort((a, b) => (a.epoch < b.epoch ? -1 : a.epoch > b.epoch ? 1 : 0));
      for (const roster of candidates) {
        const keyIdHex = toHex(roster.keyId);
        if (!this.#admitted(org, keyIdHex)) continue;
        // One the state refuses now is kept readable only.
        const invalid = invalidAddStep(org, keyIdHex, this.refs(org).get(keyIdHex));
        const makeCurrent = !invalid && this.#wins(org, group, keyIdHex);
        const before = toHex(group.keyId);
        const outcome = group.enterSiblingAdd(
          {
            roster: roster.roster,
            rosterHash: roster.rosterHash,
            epoch: roster.epoch,
            previousKeyId: roster.previousKeyId,
            keyId: roster.keyId,
            now: c.p.now(),
          },
          { makeCurrent },
        );
        if (outcome.status !== "applied") continue;
        this.afterEntry(org, txn, channelId, keyIdHex, makeCurrent, before);
        progress = true;
        break; // the group moved: look again
      }
    }
  }

  /**
   * A removal or ban this delegate decided (docs/DELEGATION.md, "Departures are kept"): the member
   * may come back on the roster by another committer's add step decided before the departure (its
   * add step on its way, or re-made late: the joiner's keys came later, or its commit lost and was
   * re-made on the winner). Kept, at most `maxDepartures` (the oldest go first), in the
   * organization's `fork-departures` record written in `txn` with the state's clock now, until the
   * member is accepted again after that clock (`fork-departures.ts`);
   * {@link CommitForks.reconcileDepartures} removes it again from every epoch that holds it.
   */
  noteDeparture(org: MemberOrg, txn: Txn | undefined, member: string): void {
    // Re-inserted: the newest are the last forgotten. The state's clock now holds the removal.
    noteKept(this.#pending(org), member, org.log.state.clock, commitForkLimits.maxDepartures);
    if (txn !== undefined) this.#writeDepartures(org, txn);
  }

  /**
   * The departures {@link CommitForks.noteDeparture} keeps for `org`, oldest first: member id → the
   * state's clock when it was noted.
   */
  departures(org: MemberOrg): ReadonlyMap<string, bigint> {
    return this.#departures.get(org) ?? new Map();
  }

  /**
   * After the organization's group entered a new epoch (in `txn`): the departures this delegate
   * decided ({@link CommitForks.noteDeparture}) whose member that epoch's roster holds, and the state
   * still does not list, are committed again now (a KeyUpdate without them, each in a unit of work of
   * its own). A member the state lists and holds an acceptance of after the departure is forgotten;
   * one only listed (by a description made before the owner read the removal) is kept.
   */
  reconcileDepartures(org: MemberOrg, txn: Txn): void {
    const pending = this.#departures.get(org);
    const group = org.member.groups.get("");
    if (pending === undefined || group?.status !== "member" || org.member.delegate === undefined) {
      return;
    }
    const members = org.log.state.members;
    const onRoster = new Set<string>();
    for (const leaf of group.roster) if (leaf !== undefined) onRoster.add(toHex(leaf.identityKey));
    const due: string[] = [];
    let forgot = false;
    for (const [member, clock] of pending) {
      if (members.has(member)) {
        // Listed is not enough (a description made before the owner read the removal lists it
        // for a moment): only an acceptance decided after the departure forgets it.
        if (!acceptedAfter(org.log.state, member, clock)) continue;
        pending.delete(member);
        forgot = true;
      } else if (onRoster.has(member)) {
        due.push(member);
      }
    }
    if (forgot) this.#writeDepartures(org, txn);
    if (due.length === 0) return;
    const c = this.#c;
    c.runtime.background(org.hex, async () => {
      for (const member of due) {
        // Committed meanwhile (an epoch entered since), or accepted anew: nothing to do.
        const now = org.member.groups.get("");
        if (org.log.state.members.has(member) || now?.status !== "member") continue;
        if (!now.roster.some((l) => l !== undefined && toHex(l.identityKey) === member)) continue;
        const work = newTxn(org);
        await commitDelegateRemoval(c, org as DelegateOrg, work, member);
        await c.persistence.commit(org, work);
      }
    });
  }

  #pending(org: MemberOrg): KeptDepartures {
    let pending = this.#departures.get(org);
    if (pending === undefined) {
      pending = new Map();
      this.#departures.set(org, pending);
    }
    return pending;
  }

  #writeDepartures(org: MemberOrg, txn: Txn): void {
    const value = writeKept(this.#pending(org));
    txn.ops.push({ type: "put", space: orgSpace(org.hex), key: departuresKey, value });
  }

  /**
   * Chunks that waited for roster `keyIdHex` (or its reference) go on; with none, a read of history
   * is armed if the commit is needed ({@link CommitForks.hidden}).
   */
  retry(org: MemberOrg, txn: Txn, keyIdHex: string): void {
    const ready = (this.#waiting.get(org) ?? []).filter((held) => held.keyIdHex === keyIdHex);
    const waiting = this.#waiting.get(org);
    if (waiting === undefined || ready.length === 0) {
      this.hidden.want(org, keyIdHex);
      return;
    }
    this.#waiting.set(
      org,
      waiting.filter((held) => held.keyIdHex !== keyIdHex),
    );
    for (const held of ready) {
      if (this.isForkChunk(org, held)) this.onForkChunk(org, txn, held);
    }
  }

  #wait(org: MemberOrg, held: HeldChunk): void {
    const waiting = this.#waiting.get(org) ?? [];
    if (waiting.some((w) => w.id === held.id)) return;
    waiting.push(held);
    // Bounded: the oldest go first (history has them).
    this.#waiting.set(org, waiting.slice(-commitForkLimits.maxWaiting));
  }

  /**
   * What follows an entered sibling (or an epoch gone back to: `invalid-adds.ts`): the app told,
   * the messages kept for it judged, the chain; for the current epoch, our lost commits re-made.
   */
  afterEntry(
    org: MemberOrg,
    txn: Txn,
    channelId: string,
    keyIdHex: string,
    makeCurrent: boolean,
    before: string,
  ): void {
    const group = org.member.groups.get(channelId) as MemberGroup;
    txn.groups.add(channelId);
    txn.epochChanged = true;
    txn.erasesKeys = true;
    this.#steps.retryNamed(org, txn, keyIdHex);
    if (!makeCurrent) return;
    this.#steps.entered(org, txn, channelId, group.epoch);
    this.#steps.applyWaiting(org, txn, channelId);
    this.#steps.followRosters(org, txn, channelId);
    this.#recommit(org, channelId, before);
  }

  /**
   * The child of `parent` on the active chain: walks the references from the group's current
   * epoch up (at most `maxRefs` steps).
   */
  #activeChild(org: MemberOrg, group: MemberGroup, parent: string): string | undefined {
    const refs = this.refs(org);
    let at = toHex(group.keyId);
    for (let step = 0; step < commitForkLimits.maxRefs; step++) {
      const ref = refs.get(at);
      if (ref === undefined) return undefined;
      if (ref.parent === parent) return at;
      at = ref.parent;
    }
    return undefined;
  }

  /**
   * Whether commit `keyIdHex` is the winner to switch to: it beats the commit the active chain took
   * at its parent; for a member removed at that parent (by a sibling), it beats every known sibling.
   */
  #wins(org: MemberOrg, group: MemberGroup, keyIdHex: string): boolean {
    const ref = this.refs(org).get(keyIdHex);
    if (ref === undefined) return false;
    if (group.status === "removed") {
      if (ref.parent !== toHex(group.keyId)) return false;
      for (const [other, sibling] of this.refs(org)) {
        if (sibling.parent === ref.parent && this.beats(org, other, keyIdHex)) return false;
      }
      return true;
    }
    const active = this.#activeChild(org, group, ref.parent);
    return active !== undefined && this.beats(org, keyIdHex, active);
  }

  /**
   * Whether commit `a`'s branch loses to commit `b`'s: walked up by their references (at most
   * `maxRefs` steps each) to the parent they share, where `b`'s child there wins (a valid one
   * before one the state refuses now: `invalid-adds.ts`). False when either is unknown, or one is
   * the other's ancestor.
   */
  branchLoses(org: MemberOrg, a: string, b: string): boolean {
    const refs = this.refs(org);
    const childOf = new Map<string, string>();
    let at = a;
    for (let step = 0; step < commitForkLimits.maxRefs; step++) {
      const ref = refs.get(at);
      if (ref === undefined) break;
      childOf.set(ref.parent, at);
      at = ref.parent;
    }
    at = b;
    for (let step = 0; step < commitForkLimits.maxRefs; step++) {
      const ref = refs.get(at);
      if (ref === undefined) return false;
      const ours = childOf.get(ref.parent);
      if (ours !== undefined) {
        const invalid = (k: string) => invalidAddStep(org, k, refs.get(k));
        if (invalid(ours) !== invalid(at)) return invalid(ours);
        return this.beats(org, at, ours);
      }
      at = ref.parent;
    }
    return false;
  }

  /** Whether commit `a` comes before commit `b` in the winner order (known before unknown). */
  beats(org: MemberOrg, a: string, b: string): boolean {
    const refs = this.refs(org);
    const ra = refs.get(a);
    const rb = refs.get(b);
    if (ra === undefined || rb === undefined) return ra !== undefined;
    return compareCommits(commitRef(ra, a), commitRef(rb, b), org.id) < 0;
  }

  /** Whether `keyIdHex` is among the best `maxSiblings` of its parent's known children. */
  #admitted(org: MemberOrg, keyIdHex: string): boolean {
    const refs = this.refs(org);
    const ref = refs.get(keyIdHex);
    if (ref === undefined) return false;
    let better = 0;
    for (const [other, sibling] of refs) {
      if (sibling.parent === ref.parent && other !== keyIdHex && this.beats(org, other, keyIdHex))
        better++;
    }
    return better < commitForkLimits.maxSiblings;
  }

  /**
   * A delegate whose own commit lost (the child of the fork point it left was its own) re-commits
   * on the winner what its commit did and the winner lacks (docs/DELEGATION.md): joiners the state
   * admitted get a new add step and a new Welcome, departures a new KeyUpdate. In a unit of work of
   * its own, after this one.
   */
  #recommit(org: MemberOrg, channelId: string, before: string): void {
    const c = this.#c;
    if (channelId !== "" || org.member.delegate === undefined) return;
    const lost = this.#ownLostCommits(org, before);
    if (lost.length === 0) return;
    const delegateOrg = org as DelegateOrg;
    c.runtime.background(org.hex, async () => {
      const group = org.member.groups.get("");
      if (group === undefined || group.status !== "member") return;
      const { joiners, departures } = recommitPlan(org, group, lost);
      for (const member of departures) {
        const txn = newTxn(org);
        await commitDelegateRemoval(c, delegateOrg, txn, member);
        await c.persistence.commit(org, txn);
      }
      for (const member of joiners) {
        const txn = newTxn(org);
        const handed = await commitDelegateAdd(c, delegateOrg, txn, member);
        await c.persistence.commit(org, txn);
        handed?.fill(0);
      }
    });
  }

  /** Our own commits on the branch we just left, newest first (walked up from `before`). */
  #ownLostCommits(org: MemberOrg, before: string): EpochRoster[] {
    const refs = this.refs(org);
    const group = org.member.groups.get("");
    const me = this.#c.memberId;
    const out: EpochRoster[] = [];
    let at = before;
    for (let step = 0; step < commitForkLimits.maxSiblings; step++) {
      const ref = refs.get(at);
      if (ref === undefined || group === undefined || this.#onActiveChain(org, group, at)) break;
      const roster = org.rosters.get(at);
      if (ref.signer === me && roster !== undefined) out.push(roster);
      at = ref.parent;
    }
    return out;
  }

  /**
   * The group of commit `keyIdHex` when it is placed (reference and KeyUpdate roster here), needed
   * (it wins at its parent, or its parent is the group's epoch) and no chunk of it is held.
   */
  #missingChunk(org: MemberOrg, keyIdHex: string): Missing | undefined {
    const ref = this.refs(org).get(keyIdHex);
    const group = ref === undefined ? undefined : org.member.groups.get(ref.channelId);
    if (ref === undefined || group?.status !== "member" || toHex(group.keyId) === keyIdHex) {
      return undefined;
    }
    // A commit on a parent we know nothing of (the parent's commit hidden too): from the start.
    const { parent } = ref;
    if (!this.refs(org).has(parent) && !org.rosters.has(parent)) {
      if (parent !== toHex(group.keyId) && !group.keepsParent(fromHex(parent))) {
        return { channelId: ref.channelId, fromStart: true };
      }
    }
    const roster = org.rosters.get(keyIdHex);
    if (roster?.change !== "rekey") return undefined;
    if (this.#waiting.get(org)?.some((held) => held.keyIdHex === keyIdHex) === true)
      return undefined;
    if ((org.member.waitingChunks.get(keyIdHex)?.length ?? 0) > 0) return undefined;
    const needed = ref.parent === toHex(group.keyId) || this.#wins(org, group, keyIdHex);
    return needed ? { channelId: roster.channelId, fromStart: false } : undefined;
  }

  #onActiveChain(org: MemberOrg, group: MemberGroup, keyIdHex: string): boolean {
    if (keyIdHex === toHex(group.keyId)) return true;
    const ref = this.refs(org).get(keyIdHex);
    return ref !== undefined && this.#activeChild(org, group, ref.parent) === keyIdHex;
  }
}

/** The fields of an `EpochRoster` that place a commit. */
type CommitPlace = Pick<EpochRoster, "keyId" | "previousKeyId" | "epoch" | "channelId">;

/**
 * Whether a commit on `parent` is on a fork point of `group`: an epoch it left (not its current
 * one, which it follows as usual), or — removed — the epoch it was removed from (a sibling of the
 * commit that removed it may win).
 */
function onForkPoint(group: MemberGroup, parent: Uint8Array): boolean {
  if (!group.keepsParent(parent)) return false;
  return group.status === "removed" || !equalBytes(parent, group.keyId);
}

/** Whether `roster` holds the group's own leaf. */
function holdsUs(group: MemberGroup, roster: EpochRoster["roster"]): boolean {
  const own = group.roster[group.leaf];
  const theirs = roster[group.leaf];
  return (
    own !== undefined && theirs !== undefined && equalBytes(own.identityKey, theirs.identityKey)
  );
}
