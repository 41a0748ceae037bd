import { equalBytes, toHex } from "@orgchat/base";
import {
  keyUpdateLimits,
  MemberGroup,
  maxMissedKeyUpdates,
  maxPossibleKeyUpdates,
  type ReadKeyUpdate,
  type Roster,
  readKeyUpdateEnvelope,
  sendReservation,
  type WelcomeInit,
} from "@orgchat/crypto";
import type { TransportMessage } from "@orgchat/transport";
import { type KeyUpdate, keysTopic } from "@orgchat/wire";
import { CommitForks } from "./commit-forks.js";
import type { ClientCore } from "./core.js";
import { delegateRosterOption } from "./delegate-commits.js";
import { isDelegate } from "./delegates.js";
import { type EpochRoster, isEpochRosterEnvelope, openEpochRoster } from "./epoch-roster.js";
import { type HeldChunk, HeldKeyUpdates } from "./held-key-updates.js";
import { AddStepJudge } from "./invalid-adds.js";
import { chunkDecision, nextAddStep, rostersCaughtUp } from "./member-controller.js";
import { type MemberOrg, newTxn, type Txn, type WaitingChunk } from "./org.js";
import { orgSpace } from "./persistence.js";
import { expireRetired, persistRetired, retireGroup } from "./retired-groups.js";
import type { RosterWanted } from "./roster-book.js";
import { pruneRosters, rosterRecordOps } from "./roster-records.js";
import {
  rejudgesWaitingWelcome,
  staleWaitingWelcomes,
  waitingWelcomeOp,
  waitingWelcomeSource,
} from "./waiting-welcomes.js";

const component = "client/key-sync";

/**
 * The format new rosters are stored in: "json" (`roster/<key id>`, what persistence.ts loads
 * today) until the start reads the binary records too (`loadRosterRecords`), then "binary".
 */
const storedRosterFormat: "json" | "binary" = "binary";

/** Chunks kept in memory for a group this member does not hold (yet): read again from history. */
const maxWaitingChunks = 256;

/**
 * A Welcome as the pairwise channel delivers it: the crypto fields, and the wire's `fresh_epoch`
 * (the owner made the epoch after a restored member's request: docs/RESTORE.md).
 */
export type ReceivedWelcome = WelcomeInit & { readonly freshEpoch?: boolean };

/**
 * Who a Welcome comes from: the owner (a resync answer, entered as before), a delegate (its add
 * step: kept aside when its branch is not placed yet), or the Welcomes kept aside (entered).
 */
export type WelcomeFrom = "owner" | "delegate" | "aside";

/**
 * Member side, key sync: Welcomes (entered once their epoch's roster is known), epoch rosters
 * (deltas and snapshot pages from the keys topics), KeyUpdate chunks (applied once their group and
 * roster are here), add steps, and groups retired by a resync Welcome. The rules are in
 * `member-controller.ts`. Owns: `MemberSide.groups`, `.waitingWelcomes`, `.waitingChunks`,
 * `.gapChecked`, `.retiredGroups`; the `roster/`, `welcome/`, `retired/` records.
 */
export class KeySync {
  readonly #c: ClientCore;
  /** Per organization, the KeyUpdate chunks held unverified (`held-key-updates.ts`). */
  readonly #held = new WeakMap<MemberOrg, HeldKeyUpdates>();
  /** Commits on the same parent epoch (`commit-forks.ts`). */
  readonly forks: CommitForks;
  /** Add steps found invalid (`invalid-adds.ts`). */
  readonly judge: AddStepJudge;

  constructor(core: ClientCore) {
    this.#c = core;
    this.forks = new CommitForks(core, {
      entered: (org, txn, channelId, epoch) => this.#entered(org, txn, channelId, epoch),
      followRosters: (org, txn, channelId) => this.#followRosters(org, txn, channelId),
      retryNamed: (org, txn, keyIdHex) => this.#retryNamed(org, txn, keyIdHex),
      applyWaiting: (org, txn, channelId) =>
        this.#applyWaitingChunks(org, txn, (chunk) => chunk.channelId === channelId),
    });
    this.judge = new AddStepJudge(core, this.forks, (org, txn, w) =>
      this.onWelcome(org, txn, w, "aside"),
    );
  }

  /**
   * A Welcome received (or kept aside before: `from` "aside"): entered once its epoch's roster is
   * here, unless it is of a lower epoch or a losing branch, or a delegate's of a branch not placed
   * yet (kept aside: `AddStepJudge.keepsUnplaced`). Synchronous (in `txn`).
   */
  async onWelcome(
    org: MemberOrg,
    txn: Txn,
    welcome: ReceivedWelcome,
    from: WelcomeFrom = "owner",
  ): Promise<void> {
    const c = this.#c;
    const member = org.member;
    const current = member.groups.get(welcome.channelId);
    // A late Welcome (a resync answer overtaken by a KeyUpdate) would take the group back, but on
    // a branch the state refuses now (`invalid-adds.ts`). One of the current epoch is entered (a
    // resync answer's new leaf secret is what the owner seals to), not one of a losing branch.
    const lower = current?.status === "member" && welcome.epoch < current.epoch;
    if (lower && !this.judge.takesLowerWelcome(org, txn, current, welcome)) return;
    const keyIdHex = toHex(welcome.keyId);
    if (current?.status === "member" && this.forks.branchLoses(org, keyIdHex, toHex(current.keyId)))
      return;
    // A delegate's add step of us on a branch we cannot place (added on both sides of a fork):
    // entering it would take us off the winner for good if that branch loses.
    if (from === "delegate" && current?.status === "member" && !lower) {
      if (this.judge.keepsUnplaced(org, txn, current, welcome)) return;
    }
    const roster = org.rosters.get(keyIdHex);
    if (roster === undefined) {
      // The roster of the Welcome's epoch is not here yet: keep the Welcome (sealed) and look.
      const known = member.waitingWelcomes.has(keyIdHex);
      member.waitingWelcomes.set(keyIdHex, welcome);
      // Stored with its sender: judged after a restart as it would be now.
      txn.ops.push(waitingWelcomeOp(c.p.vault, org, welcome, from));
      this.#retryNamed(org, txn, keyIdHex);
      // Usually its delta is on the way, or the chain from the last snapshot is in Store (read
      // newest first: back to that snapshot, not from the start of history); a resync is left to
      // the usual triggers (a message waiting for this key), so that a roster still in flight
      // costs no resync.
      if (!known) {
        c.runtime.background(org.hex, async () => {
          await this.catchUp(org);
        });
      }
      return;
    }
    this.#enterWelcome(org, txn, welcome, roster);
  }

  /** @param roster - the Welcome's epoch roster as the roster book holds it (hash checked) */
  #enterWelcome(
    org: MemberOrg,
    txn: Txn,
    welcome: ReceivedWelcome,
    roster: { readonly roster: Roster; readonly rosterHash: Uint8Array },
  ): void {
    const c = this.#c;
    let group: MemberGroup;
    try {
      group = MemberGroup.fromWelcome({
        provider: c.p.provider,
        welcome,
        roster: roster.roster,
        rosterHash: roster.rosterHash,
        signingSecretKey: org.keys.signingSecret,
        prekeySecret: org.keys.prekeySecret,
        now: c.p.now(),
      });
    } catch (error) {
      c.emitter.emit("error", { organizationId: org.hex, error });
      return;
    }
    const previous = org.member.groups.get(welcome.channelId);
    const now = c.p.now();
    if (previous?.readableEpochs(now).some((epoch) => epoch !== group.epoch)) {
      // A resync Welcome holds its epoch only: the group it replaces keeps the earlier epochs for
      // late messages, until the retention window ends.
      retireGroup(c, org, txn, { channelId: welcome.channelId, group: previous, retiredAt: now });
    }
    const sent = previous?.status === "member" ? previous.ownNextGeneration : undefined;
    if (previous?.epoch === group.epoch && previous.leaf === group.leaf && sent !== undefined) {
      // The epoch it was in, again (a resync): its own chain would start over at generations
      // already sent (same key and nonce); it goes on past every one sent or reserved instead.
      if (sent > 0) group.continueOwnChain(sent + sendReservation);
    }
    org.member.groups.set(welcome.channelId, group);
    c.restore.onWelcome(org, txn, welcome.channelId, group.epoch, welcome.freshEpoch === true);
    this.#dropStaleWelcomes(org, txn, welcome.channelId);
    org.member.resyncBackoff.delete(welcome.channelId);
    this.#entered(org, txn, welcome.channelId, group.epoch);
    this.#followRosters(org, txn, welcome.channelId);
    // KeyUpdates that came before the Welcome (their group was not here yet) apply now.
    this.#applyWaitingChunks(org, txn, (chunk) => chunk.channelId === welcome.channelId);
  }

  /** A group entered a new epoch: persisted, pending messages retried, the app told. */
  #entered(org: MemberOrg, txn: Txn, channelId: string, epoch: bigint): void {
    this.#c.recovery.entered(org, channelId);
    this.#c.restore.entered(org, txn);
    // Chunks held unverified for the epochs reached are of no use any more (seen in memory only:
    // unverified, they may be junk, which gets no durable mark).
    for (const old of this.#held.get(org)?.dropReached(channelId, epoch) ?? []) {
      this.#c.sync.seen.add(old.id);
    }
    txn.groups.add(channelId);
    txn.epochChanged = true;
    txn.erasesKeys = true;
    txn.emits.push(["epoch:changed", { organizationId: org.hex, channelId, epoch }]);
    if (channelId === "") this.forks.reconcileDepartures(org, txn);
  }

  /** Writes retired group `suffix`'s record in `txn` (`retired-groups.ts`). */
  persistRetired(org: MemberOrg, txn: Txn, suffix: string): void {
    persistRetired(this.#c, org, txn, suffix);
  }

  /** Drops replaced groups whose retention window is over (`retired-groups.ts`). */
  expireRetired(org: MemberOrg): void {
    expireRetired(this.#c, org);
  }

  /** Welcomes for epochs the group has reached are of no use any more (`waiting-welcomes.ts`). */
  #dropStaleWelcomes(org: MemberOrg, txn: Txn, channelId: string): void {
    for (const keyIdHex of staleWaitingWelcomes(org, channelId)) this.#unwait(org, txn, keyIdHex);
  }

  #unwait(org: MemberOrg, txn: Txn, keyIdHex: string): void {
    org.member.waitingWelcomes.delete(keyIdHex);
    txn.ops.push({ type: "delete", space: orgSpace(org.hex), key: `welcome/${keyIdHex}` });
  }

  /** The keys topics' history, for the rosters a waiting Welcome or KeyUpdate needs. */
  async backfillRosters(org: MemberOrg): Promise<void> {
    if (org.member.recovering) return;
    await this.#c.sync.backfillKeys(org);
  }

  /**
   * Newest-first catch-up of the keys topics (docs/CLIENT.md, "Epoch rosters"): for a newcomer, or
   * a member that lost track, each group's keys topic is read from its newest message back until
   * this client holds the roster of the newest epoch it has seen named there and of every epoch a
   * Welcome or KeyUpdate waits for ({@link rostersCaughtUp}). The owner publishes a snapshot at
   * least once per snapshot's worth of deltas (`snapshotDue`), so this reads about two snapshots'
   * worth of messages at most, whatever the length of history; the deltas read before their
   * snapshot wait in the roster book (`rosterBookLimits`) and are applied in one pass once it is in.
   *
   * @param org - the organization (a member's or a requester's)
   * @returns per group read, whether it caught up
   */
  async catchUp(org: MemberOrg): Promise<Map<string, boolean>> {
    const c = this.#c;
    const out = new Map<string, boolean>();
    const groups = ["", ...org.log.state.channels.keys()];
    for (const channelId of groups) {
      const topic = keysTopic(org.id, channelId === "" ? undefined : channelId);
      const enough = () => rostersCaughtUp(org, channelId);
      if (!enough()) await c.sync.readNewestFirst(org, topic, enough);
      out.set(channelId, enough());
    }
    return out;
  }

  /**
   * Which epochs' rosters to keep when a chain of deltas unlocks (`RosterBook.receive`): those a
   * group held here, a Welcome, a KeyUpdate or a waiting message needs; the others in the chain are
   * applied in passing.
   */
  #wanted(org: MemberOrg): RosterWanted {
    const member = org.member;
    const now = this.#c.p.now();
    // A waiting Welcome's group follows the add steps after its epoch once entered.
    const welcomed = new Map<string, bigint>();
    for (const welcome of member.waitingWelcomes.values()) {
      const known = welcomed.get(welcome.channelId);
      if (known === undefined || welcome.epoch < known)
        welcomed.set(welcome.channelId, welcome.epoch);
    }
    return (keyIdHex, channelId, epoch) => {
      if (member.waitingWelcomes.has(keyIdHex) || member.waitingChunks.has(keyIdHex)) return true;
      for (const pending of org.pending.values()) if (pending.keyId === keyIdHex) return true;
      const from = welcomed.get(channelId);
      if (from !== undefined && epoch >= from) return true;
      const group = member.groups.get(channelId);
      if (group === undefined) return false;
      return epoch > group.epoch || group.readableEpochs(now).includes(epoch);
    };
  }

  /**
   * Prunes rosters no group, Welcome, KeyUpdate or message needs any more (`rosterKeep`), and
   * commits it when something went.
   */
  async pruneRosters(org: MemberOrg): Promise<void> {
    const c = this.#c;
    const txn = newTxn(org);
    pruneRosters(org, txn, orgSpace(org.hex), c.p.now());
    if (txn.ops.length > 0) await c.persistence.commit(org, txn);
  }

  async onKeys(
    org: MemberOrg,
    channelId: string,
    message: TransportMessage,
    id: string,
  ): Promise<void> {
    const c = this.#c;
    await this.forks.load(org);
    await this.judge.aside.load(org);
    this.judge.soon(org.hex); // once after a start (a ban committed, the return it called for not)
    if (isEpochRosterEnvelope(message.payload)) {
      await this.#onEpochRoster(org, message.contentTopic, message.payload, id);
      return;
    }
    let read: ReadKeyUpdate;
    try {
      // Decoded and checked (type, organization, topic, signer, channel), not verified yet. A
      // delegate's removal (docs/DELEGATION.md) is signed by a key the state ranks admin/manager.
      read = await readKeyUpdateEnvelope({
        provider: c.p.provider,
        group: { organizationId: org.id, channelId },
        bytes: message.payload,
        committers: (signer) => channelId === "" && isDelegate(org.log.state, toHex(signer)),
      });
    } catch (error) {
      c.sync.seen.add(id);
      c.report({ component, reason: "unopenable-key-update", topic: message.contentTopic, error });
      return;
    }
    const txn = newTxn(org);
    const delegate = equalBytes(read.signer, org.id) ? {} : { delegate: true as const };
    const held: HeldChunk = { id, read, keyIdHex: toHex(read.chunk.keyId), ...delegate };
    // A commit on an epoch this member left: a fork (docs/DELEGATION.md).
    const outcome = this.forks.isForkChunk(org, held)
      ? this.forks.onForkChunk(org, txn, held)
      : this.#receiveChunk(org, txn, held);
    // Marked seen only once applied: a chunk waiting for its group (a late Welcome) or its roster
    // is kept in memory and read again from history after a restart; so is a held one.
    if (outcome === "held" || outcome === "dropped") return;
    if (outcome === "waiting") {
      this.#retryNamedLater(org, toHex(read.chunk.keyId));
      return;
    }
    await c.persistence.commit(org, txn);
  }

  /**
   * A KeyUpdate chunk as received, not verified yet (docs/CLIENT.md, "KeyUpdate chunks"). A chunk
   * for an epoch the group reached is of no use: marked seen, its signature not checked. A chunk
   * of the group's next epoch without our hint is held unverified ({@link HeldKeyUpdates}) until
   * our own chunk applies or the held ones cover the update. Any other chunk is verified now and
   * then applied as before. So a member whose entry is in one chunk of several checks one
   * signature, and a forged chunk is never applied nor counted towards "removed".
   *
   * @returns "held" (nothing to commit), "dropped" (stale or forged: nothing to commit),
   *   "waiting" (kept until its group or roster is here), or "done" (applied or refused, recorded
   *   in `txn`)
   */
  #receiveChunk(
    org: MemberOrg,
    txn: Txn,
    held: HeldChunk,
  ): "done" | "waiting" | "held" | "dropped" {
    const c = this.#c;
    const { chunk } = held.read;
    const group = org.member.groups.get(chunk.channelId);
    if (this.forks.isOtherBranch(org, held)) {
      // A commit on a branch we never were on (a fork): kept for a switch to its parent.
      const delegate = held.delegate === true ? { delegate: true as const } : {};
      this.#keepBounded(org, held.keyIdHex, { id: held.id, chunk, ...delegate });
      return "waiting";
    }
    if (group?.status === "member" && chunk.epoch <= group.epoch) {
      // `applyKeyUpdate` would answer "stale" whatever the chunk says. Not verified, so seen in
      // memory only: a restart reads it again from the sweep mark, and drops it again as cheaply.
      // Not even that for a commit whose place is unknown (its roster not here yet: maybe a
      // sibling's child, `commit-forks.ts`): a later read from history judges it again.
      if (!this.forks.placeUnknown(org, held)) c.sync.seen.add(held.id);
      return "dropped";
    }
    const roster = org.rosters.get(held.keyIdHex);
    if (
      group?.status === "member" &&
      roster !== undefined &&
      chunk.epoch === group.epoch + 1n &&
      chunk.chunkCount <= keyUpdateLimits.maxChunks
    ) {
      let holds = true;
      try {
        holds = group.holdsKeyUpdateEntry(chunk, {
          roster: roster.roster,
          rosterHash: roster.rosterHash,
          salt: held.delegate === true ? "delegate" : "leaf",
        });
      } catch {
        // A malformed chunk (e.g. an ephemeral key of small order): verified and refused now.
      }
      if (!holds) return this.#hold(org, txn, held);
    }
    return this.#verifyAndApply(org, txn, held);
  }

  /**
   * Checks a chunk's signature; applies it when it holds, drops it when not (seen in memory only:
   * junk gets no durable mark).
   */
  #verifyAndApply(org: MemberOrg, txn: Txn, held: HeldChunk): "done" | "waiting" | "dropped" {
    const c = this.#c;
    if (!held.read.verify()) {
      c.sync.seen.add(held.id);
      c.report({ component, reason: "forged-key-update", topic: keysTopicOf(org, held) });
      return "dropped";
    }
    const delegate = held.delegate === true ? { delegate: true as const } : {};
    return this.#applyChunk(org, txn, { id: held.id, chunk: held.read.chunk, ...delegate });
  }

  /**
   * Holds a chunk without our hint. Chunks pushed out by the bound are verified and applied now;
   * once the held chunks cover every chunk of the update not yet seen, each is verified and
   * applied (the last concludes "removed" when none held our entry).
   */
  #hold(org: MemberOrg, txn: Txn, chunk: HeldChunk): "done" | "held" {
    let held = this.#held.get(org);
    if (held === undefined) {
      held = new HeldKeyUpdates();
      this.#held.set(org, held);
    }
    const group = org.member.groups.get(chunk.read.chunk.channelId);
    let done = false;
    for (const old of held.add(chunk)) {
      this.#verifyAndApply(org, txn, old);
      done = true;
    }
    if (
      group !== undefined &&
      held.has(chunk.id) &&
      held.covers(chunk, group.missingKeyUpdateChunks(chunk.read.chunk))
    ) {
      for (const each of held.take(chunk)) this.#verifyAndApply(org, txn, each);
      done = true;
    }
    return done ? "done" : "held";
  }

  /**
   * An epoch roster (docs/CLIENT.md, "Epoch rosters"): a delta applied to the roster it names, or
   * a snapshot page filed until its snapshot is complete. Only a roster that hashes as announced
   * is kept; then what waited for it (add steps, a Welcome, KeyUpdate chunks) goes on.
   */
  async #onEpochRoster(
    org: MemberOrg,
    topic: string,
    bytes: Uint8Array,
    id: string,
  ): Promise<void> {
    const c = this.#c;
    c.sync.seen.add(id);
    let error: unknown;
    const message = await openEpochRoster(bytes, {
      organizationId: org.id,
      contentTopic: topic,
      verify: c.verify,
      onError: (cause) => {
        error = cause;
      },
      // A delegate's add step (docs/DELEGATION.md): signed by a key the state ranks admin or manager.
      delegates: delegateRosterOption(c, org),
    });
    if (message === undefined) {
      // No error: it opened, but its roster names another group than this topic's.
      c.report(
        error === undefined
          ? { component, reason: "unopenable-roster", topic }
          : { component, reason: "unopenable-roster", topic, error },
      );
      return;
    }
    const txn = newTxn(org);
    // Its signer and clock place it in the winner order (a fork: `commit-forks.ts`).
    this.forks.noteEnvelope(org, txn, message, bytes);
    const receipt = org.rosters.receive(message, id, this.#wanted(org));
    if (receipt.status === "waiting") this.#retryNamedLater(org, toHex(message.keyId));
    // A waiting delta or page is not marked seen durably: after a restart it is read again from
    // history, where the pieces it waits for are too.
    // Its reference may place a Welcome kept aside (`AddStepJudge.placeAside`).
    const aside = this.judge.aside.list(org, "unplaced").length;
    if (receipt.status === "waiting" || receipt.status === "refused") {
      if (aside === 0) return;
      this.judge.placeAside(org, txn);
      if (this.judge.aside.list(org, "unplaced").length !== aside) {
        await c.persistence.commit(org, txn);
      }
      return;
    }
    if (receipt.status === "known") {
      c.sync.markSeen(org, txn, id);
    } else {
      for (const seen of receipt.ids) c.sync.markSeen(org, txn, seen);
      for (const roster of receipt.rosters) this.#rosterLearned(org, txn, roster);
      pruneRosters(org, txn, orgSpace(org.hex), c.p.now());
    }
    if (aside > 0) this.judge.placeAside(org, txn);
    await c.persistence.commit(org, txn);
  }

  /**
   * An owner-signed record now names `keyIdHex`: messages kept as foreign under it (their epoch
   * was unknown) are judged again — announced and recovered if the epoch is ours.
   */
  #retryNamed(org: MemberOrg, txn: Txn, keyIdHex: string): void {
    this.#c.messages.promoteNamed(org, txn, keyIdHex);
  }

  /** {@link KeySync.#retryNamed} for a record kept without a unit of work (in memory only). */
  #retryNamedLater(org: MemberOrg, keyIdHex: string): void {
    const c = this.#c;
    if (this.#namesForeign(org, keyIdHex)) {
      c.runtime.background(org.hex, () => c.messages.retryPending(org));
    }
  }

  #namesForeign(org: MemberOrg, keyIdHex: string): boolean {
    return [...org.pending.values()].some((p) => p.foreign === true && p.keyId === keyIdHex);
  }

  /** Persists a new roster and lets what waited for it go on. */
  #rosterLearned(org: MemberOrg, txn: Txn, roster: EpochRoster): void {
    const keyIdHex = toHex(roster.keyId);
    txn.ops.push(...rosterRecordOps(org.rosters, orgSpace(org.hex), roster, storedRosterFormat));
    this.#retryNamed(org, txn, keyIdHex);
    if (org.member.groups.has(roster.channelId)) this.#followRosters(org, txn, roster.channelId);
    const welcome = org.member.waitingWelcomes.get(keyIdHex);
    if (welcome !== undefined && rejudgesWaitingWelcome(org, welcome)) {
      // A member already, on another commit: judged as if it arrived now (synchronous, in `txn`).
      this.#unwait(org, txn, keyIdHex);
      void this.onWelcome(org, txn, welcome, waitingWelcomeSource(welcome));
    } else if (welcome !== undefined) this.#enterWelcome(org, txn, welcome, roster);
    const chunks = org.member.waitingChunks.get(keyIdHex) ?? [];
    org.member.waitingChunks.delete(keyIdHex);
    for (const chunk of chunks) this.#applyChunk(org, txn, chunk);
    this.forks.retry(org, txn, keyIdHex);
  }

  /** Applies the waiting chunks `which` picks whose group and roster are here now. */
  #applyWaitingChunks(org: MemberOrg, txn: Txn, which: (chunk: KeyUpdate) => boolean): void {
    const { waitingChunks, groups } = org.member;
    for (const [keyIdHex, chunks] of [...waitingChunks]) {
      if (!org.rosters.has(keyIdHex)) continue;
      const ready = chunks.filter(
        (waiting) => which(waiting.chunk) && groups.has(waiting.chunk.channelId),
      );
      if (ready.length === 0) continue;
      const rest = chunks.filter((waiting) => !ready.includes(waiting));
      if (rest.length === 0) waitingChunks.delete(keyIdHex);
      else waitingChunks.set(keyIdHex, rest);
      for (const waiting of ready) this.#applyChunk(org, txn, waiting);
    }
  }

  /** Applies every known add-step roster that follows the group's epoch, in order. */
  #followRosters(org: MemberOrg, txn: Txn, channelId: string): void {
    for (;;) {
      const group = org.member.groups.get(channelId);
      if (group === undefined) return;
      const next =
        group.status === "member"
          ? nextAddStep(org.rosters.values(), channelId, group, (candidates) =>
              this.forks.pickAddStep(org, candidates),
            )
          : undefined;
      if (next === undefined) {
        // Commits on epochs this member left (siblings, or on top of a loser).
        this.forks.followForkAdds(org, txn, channelId);
        return;
      }
      const outcome = group.applyAdd({
        roster: next.roster,
        now: this.#c.p.now(),
        epoch: next.epoch,
        previousKeyId: next.previousKeyId,
        keyId: next.keyId,
        // The book keeps a roster only once it hashes to its announced hash: no second O(N) hash.
        rosterHash: next.rosterHash,
      });
      if (outcome.status !== "applied") return;
      this.#entered(org, txn, channelId, outcome.epoch);
      this.#dropStaleWelcomes(org, txn, channelId);
      // A KeyUpdate may have been waiting for this epoch's successor.
      this.#applyWaitingChunks(org, txn, () => true);
    }
  }

  /** {@link KeySync.#keep}; past `maxWaitingChunks` the oldest key id's go (history has them). */
  #keepBounded(org: MemberOrg, keyIdHex: string, waiting: WaitingChunk): void {
    const { waitingChunks } = org.member;
    if (!this.#keep(org, keyIdHex, waiting)) return;
    let count = 0;
    for (const chunks of waitingChunks.values()) count += chunks.length;
    const [oldest] = waitingChunks.keys();
    if (count > maxWaitingChunks && oldest !== undefined) waitingChunks.delete(oldest);
  }

  #keep(org: MemberOrg, keyIdHex: string, waiting: WaitingChunk): boolean {
    const list = org.member.waitingChunks.get(keyIdHex) ?? [];
    if (list.some((w) => w.id === waiting.id)) return false;
    list.push(waiting);
    org.member.waitingChunks.set(keyIdHex, list);
    return true;
  }

  /**
   * Applies one KeyUpdate chunk, or keeps it (in memory, not marked seen) until its group's
   * Welcome and its epoch's roster are here.
   * @returns "waiting" when kept, "done" when applied or of no use (then marked seen in `txn`)
   */
  #applyChunk(org: MemberOrg, txn: Txn, waiting: WaitingChunk): "done" | "waiting" {
    const c = this.#c;
    const { chunk } = waiting;
    // Its parent may have become a fork point meanwhile: entered as a sibling (`CommitForks`).
    const fork = this.forks.onWaitingChunk(org, txn, waiting);
    if (fork !== undefined) return fork;
    const { waitingChunks, gapChecked } = org.member;
    const group = org.member.groups.get(chunk.channelId);
    const keyIdHex = toHex(chunk.keyId);
    const roster = org.rosters.get(keyIdHex);
    const decision = chunkDecision({
      group,
      rosterKnown: roster !== undefined,
      chunkEpoch: chunk.epoch,
      gapChecked: gapChecked.get(keyIdHex),
      otherBranch: this.forks.waitsForSwitch(org, waiting),
    });
    if (decision.action === "wait") {
      this.#keepBounded(org, keyIdHex, waiting);
      return "waiting";
    }
    if (decision.action === "check-gap") {
      // Epochs skipped: if an add step is among them, bridging it would lose its epoch's
      // messages for good. Its roster is usually in history: look there first (the chunk waits
      // meanwhile, whoever reads it again), then go on, bridging what is still missing.
      const list = waitingChunks.get(keyIdHex) ?? [];
      if (!list.some((w) => w.id === waiting.id)) list.push(waiting);
      waitingChunks.set(keyIdHex, list);
      if (decision.search) {
        gapChecked.set(keyIdHex, false);
        c.runtime.background(org.hex, async () => {
          await this.backfillRosters(org);
          gapChecked.set(keyIdHex, true);
          const later = newTxn(org);
          this.#applyWaitingChunks(org, later, (k) => toHex(k.keyId) === keyIdHex);
          await c.persistence.commit(org, later);
        });
      }
      return "waiting";
    }
    if (group === undefined || roster === undefined) return "waiting"; // (decided above)
    c.sync.markSeen(org, txn, waiting.id);
    let outcome: ReturnType<MemberGroup["applyKeyUpdate"]>;
    try {
      // FLAT entries are self-contained: a member that missed epochs bridges the gap here. Its leaf
      // secret steps over the KeyUpdates it missed, which the owner-signed rosters name (and tries
      // the few epochs it knows nothing of both ways).
      const gap =
        chunk.epoch > group.epoch + 1n
          ? org.rosters.gapChanges(chunk.channelId, group.epoch, chunk.epoch, {
              rekeys: maxMissedKeyUpdates,
              unknown: maxPossibleKeyUpdates,
            })
          : { rekeys: [], unknown: [] };
      outcome = group.applyKeyUpdate(chunk, c.p.now(), {
        roster: roster.roster,
        rosterHash: roster.rosterHash,
        salt: waiting.delegate === true ? "delegate" : "leaf",
        acceptGap: true,
        missedKeyUpdates: gap.rekeys,
        possibleKeyUpdates: gap.unknown,
      });
    } catch (error) {
      c.report({ component, reason: "key-update-refused", error });
      return "done";
    }
    if (outcome.status === "applied") {
      this.#entered(org, txn, chunk.channelId, outcome.epoch);
      this.#dropStaleWelcomes(org, txn, chunk.channelId);
      this.#followRosters(org, txn, chunk.channelId);
    } else if (
      outcome.status === "removed" ||
      outcome.status === "not-in-chunk" ||
      (outcome.status === "gap" && waiting.delegate === true)
    ) {
      // A delegate's commit on another branch (a fork: docs/DELEGATION.md) is kept too: it
      // applies once this member switches to its parent (`CommitForks`, `applyWaiting`).
      txn.groups.add(chunk.channelId);
      // Not for our leaf secret: a resync answer on its way may carry the one it is sealed to.
      // Kept (in memory) to try again once a Welcome is entered.
      this.#keep(org, keyIdHex, waiting);
    }
    return "done";
  }
}

/** The keys topic a held chunk came from (for reports). */
function keysTopicOf(org: MemberOrg, held: HeldChunk): string {
  const channelId = held.read.chunk.channelId;
  return keysTopic(org.id, channelId === "" ? undefined : channelId);
}
