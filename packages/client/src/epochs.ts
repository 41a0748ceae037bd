import { toHex } from "@orgchat/base";
import { OwnerGroup, type Roster, sealKeyUpdate } from "@orgchat/crypto";
import { keysTopic, publicKeyFromMemberId } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { heldForDelegate } from "./delegate-grace.js";
import { publishDescription } from "./description-publisher.js";
import { hashId } from "./encoding.js";
import {
  type EpochRoster,
  type RosterChange,
  rosterDeltaMessage,
  rosterSnapshotMessages,
  sealEpochRosters,
} from "./epoch-roster.js";
import { StoreCorruptedError } from "./errors.js";
import { newTxn, type Org, type OwnerOrg, type OwnerSide, type Txn } from "./org.js";
import {
  memberChange,
  membershipChange,
  rekeyTiming,
  rosterMembers,
  snapshotAllowed,
  wantedGroups,
} from "./owner-controller.js";
import { resyncAwaiting, saltedGroups } from "./owner-follow.js";
import { ownerMemberKeys, readyToAdd } from "./owner-keys.js";
import { orgSpace } from "./persistence.js";
import { RosterCadence, snapshotDue, snapshotWireBytes } from "./roster-policy.js";
import { pruneRosters, rosterRecordOps } from "./roster-records.js";

/**
 * Owner side, epochs: makes every group follow the state (joiners batched into one add step per
 * `addWindowMs`, leavers into one re-key per `rekeyWindowMs`, the re-key first), announces each
 * epoch's roster (delta or paged snapshot), periodic refresh, and the description and prekey bundle
 * it republishes. The rules are in `owner-controller.ts`. Owns: `OwnerSide.groups`,
 * `.pendingRemovals`, `.rekeyDueAt`, `.rekeyTimer`, `.pendingAdds`, `.describeDue`, `.addDueAt`,
 * `.addTimer`, `.snapshots`; the index member → leaf of each group; the owner's roster records (`roster-records.ts`).
 */
export class OwnerEpochs {
  readonly #c: ClientCore;
  /** Per owner side and group: member id → leaf of the roster it was built for (memory only). */
  readonly #leaves = new WeakMap<
    OwnerSide,
    Map<string, { roster: Roster; byMember: Map<string, number> }>
  >();

  /** Delta bytes published per group since its last roster snapshot (`snapshotDue`). */
  readonly #cadence = new RosterCadence();

  constructor(core: ClientCore) {
    this.#c = core;
  }

  /** The periodic tick of one organization: outbox, expiries; owner: refresh and republish. */
  async periodic(org: Org): Promise<void> {
    const c = this.#c;
    await c.persistence.flushOutbox(org);
    c.messages.expirePending(org);
    if (org.role !== "owner") {
      c.keySync.expireRetired(org);
      await c.delegates.periodic(org);
      return;
    }
    // Another device writes as owner (owner-device.ts): nothing is signed until one is kept.
    if (org.owner.device.fork !== undefined) return;
    const txn = newTxn(org);
    const now = c.p.now();
    for (const [channelId, group] of org.owner.groups) {
      if (group.refreshDue(now, c.p.config.refreshIntervalMs)) {
        const before = group.roster;
        await this.#rekeyGroup(org, txn, channelId, []);
        this.#reindex(org, channelId, before, group, [], []);
      }
    }
    txn.description = true;
    // With the description: a recent snapshot in Store lets a member that missed deltas (or a
    // newcomer) rebuild the roster from history alone.
    for (const channelId of org.owner.groups.keys()) {
      await this.publishSnapshot(org, txn, channelId, "periodic");
    }
    // Epochs leave the retention window with time: their rosters go too.
    pruneRosters(org, txn, orgSpace(org.hex), now);
    await c.persistence.commit(org, txn);
  }

  /**
   * The description (a delta, or a full one: docs/PROTOCOL.md, "Description deltas") and the
   * prekey bundle, into the outbox.
   */
  async describe(org: OwnerOrg, txn: Txn): Promise<void> {
    const c = this.#c;
    // A new organization's device record goes with its first publication (owner-device.ts).
    if (!org.owner.device.stored) c.ownerDevices.record(org, txn);
    await publishDescription(org, txn, {
      now: c.p.now(),
      maxFullAgeMs: c.p.config.republishIntervalMs,
      ownerDevice: c.ownerDevices.idOf(org),
    });
  }

  /**
   * Makes every group's membership follow the state. Leavers wait in `pendingRemovals` for the
   * batched re-key (`rekeyWindowMs`); joiners wait in `pendingAdds` for the add flush
   * (`addWindowMs`), or are added at once when it is 0. With `changed`, only those members are
   * looked at (an admission, a removal, a role or grant change: O(1) in the size of the group);
   * without it, the whole state is compared with every roster (start, bulk changes).
   * @param changed - the only members whose access the operation changed (all when undefined)
   */
  async reconcile(org: OwnerOrg, txn: Txn, changed?: Iterable<string>): Promise<void> {
    const c = this.#c;
    const owner = org.owner;
    const state = org.log.state;
    if (!state.encrypted) return;
    const wanted = wantedGroups(state);
    for (const channelId of [...owner.groups.keys()]) {
      if (!wanted.has(channelId)) {
        owner.groups.delete(channelId);
        owner.pendingRemovals.delete(channelId);
        owner.pendingAdds.delete(channelId);
        txn.groups.add(channelId);
      }
    }
    const only = changed === undefined ? undefined : [...new Set(changed)];
    const joining = new Map<string, string[]>();
    for (const channelId of wanted) {
      let group = owner.groups.get(channelId);
      let full = only === undefined;
      if (group === undefined) {
        group = OwnerGroup.create({
          provider: c.p.provider,
          group: { organizationId: org.id, channelId },
          ownLeaf: {
            identityKey: org.id,
            signingKey: org.keys.signingKey,
            prekey: org.keys.prekey,
          },
          signingSecretKey: org.keys.signingSecret,
          now: c.p.now(),
        });
        owner.groups.set(channelId, group);
        txn.groups.add(channelId);
        await this.#announceEpoch(org, txn, channelId, "genesis");
        this.epochEvent(org, txn, channelId, group);
        full = true;
      }
      const change =
        full || only === undefined
          ? membershipChange({
              state,
              owner: org.hex,
              channelId,
              roster: group.roster,
              ready: () => true,
            })
          : this.#changeOf(org, channelId, group, only);
      // A delegate's decision just folded: its commit is on its way (owner-follow.ts).
      const now = c.p.now();
      const leavers =
        channelId === ""
          ? change.leavers.filter((member) => !heldForDelegate(c, org, member, now))
          : change.leavers;
      const joiners = await this.#ready(org, change.joiners, channelId);
      if (joiners.length > 0) joining.set(channelId, joiners);
      if (leavers.length > 0) {
        const set = owner.pendingRemovals.get(channelId) ?? new Set<string>();
        for (const member of leavers) set.add(member);
        owner.pendingRemovals.set(channelId, set);
      }
    }
    if ([...owner.pendingRemovals.values()].some((set) => set.size > 0)) {
      const timing = rekeyTiming({
        windowMs: c.p.config.rekeyWindowMs,
        dueAt: owner.rekeyDueAt,
        now: c.now(),
      });
      if (timing.action === "now") {
        await this.#rekeyPending(org, txn);
      } else if (timing.action === "arm") {
        owner.rekeyDueAt = timing.dueAt;
        this.scheduleRekey(org, timing.dueAt);
      }
    }
    if (joining.size === 0) return;
    if (c.p.config.addWindowMs <= 0) {
      await this.#addJoiners(org, txn, joining);
      return;
    }
    for (const [channelId, joiners] of joining) {
      const set = owner.pendingAdds.get(channelId) ?? new Set<string>();
      for (const member of joiners) set.add(member);
      owner.pendingAdds.set(channelId, set);
    }
    this.#armAdd(org);
  }

  /**
   * Members admitted (a request accepted, auto-accepted or an invitation redeemed): reconciles
   * them, and has the description published with their add step (the flush) rather than now when
   * the add window is open, so that an admission burst makes one description.
   * @param members - the members admitted by the operation
   */
  async admitted(org: OwnerOrg, txn: Txn, members: readonly string[]): Promise<void> {
    const owner = org.owner;
    if (!org.log.state.encrypted || this.#c.p.config.addWindowMs <= 0) {
      txn.description = true;
    } else {
      owner.describeDue = true;
      this.#armAdd(org);
    }
    await this.reconcile(org, txn, members);
  }

  /**
   * After a start: a full reconcile, then whatever waits for an add is added at once (members
   * admitted before a crash or a close that did not flush: they already waited). Commits only when
   * something changed.
   * @param org - an organization this client owns, just loaded
   */
  async resume(org: OwnerOrg): Promise<void> {
    const txn = newTxn(org);
    await this.reconcile(org, txn);
    const waiting = [...org.owner.pendingAdds.values()].some((set) => set.size > 0);
    if (waiting) {
      txn.description = true;
      await this.flushAdds(org, txn);
    }
    if (txn.ops.length > 0 || txn.outbox.length > 0 || txn.groups.size > 0) {
      await this.#c.persistence.commit(org, txn);
    }
  }

  /**
   * The add flush: the removals waiting for their re-key first, then one add step per group for
   * the members admitted since the window opened (those still entitled and ready), then the
   * description if an admission is waiting for it. Run by the add timer, on close and at start.
   * @param txn - the unit of work the flush writes into (the caller commits it)
   */
  async flushAdds(org: OwnerOrg, txn: Txn): Promise<void> {
    const owner = org.owner;
    owner.addDueAt = undefined;
    if (owner.addTimer !== undefined) {
      this.#c.runtime.clearTimer(owner.addTimer);
      owner.addTimer = undefined;
    }
    const joining = new Map<string, string[]>();
    // Made public inside the window: no group follows the state any more (as in `reconcile`).
    const encrypted = org.log.state.encrypted;
    for (const [channelId, members] of [...owner.pendingAdds]) {
      owner.pendingAdds.delete(channelId);
      const group = owner.groups.get(channelId);
      if (group === undefined || !encrypted) continue;
      const joiners = await this.#ready(
        org,
        this.#changeOf(org, channelId, group, members).joiners,
        channelId,
      );
      if (joiners.length > 0) joining.set(channelId, joiners);
    }
    if (joining.size > 0) await this.#addJoiners(org, txn, joining);
    if (owner.describeDue) {
      owner.describeDue = false;
      txn.description = true;
    }
  }

  /**
   * Closing: flushes every owned organization's pending adds as a last task, so that a process
   * that accepts and exits (the CLI) still sends the keys. A crash instead leaves them to the
   * next start (`resume`).
   */
  flushBeforeClose(): void {
    const c = this.#c;
    for (const org of c.orgs.values()) {
      if (org.role !== "owner") continue;
      const owner = org.owner;
      // Halted (owner-device.ts): nothing is signed; `resumeOwner` flushes what waits.
      if (owner.device.fork !== undefined) continue;
      if (owner.addTimer === undefined && owner.pendingAdds.size === 0 && !owner.describeDue) {
        continue;
      }
      c.runtime.background(org.hex, async () => {
        const txn = newTxn(org);
        await this.flushAdds(org, txn);
        await c.persistence.commit(org, txn);
      });
    }
  }

  /**
   * The leaf of `member` on the current roster of the group of `channelId`, from an index kept
   * along the owner's add and remove steps (rebuilt only when the roster changed some other way).
   * @returns the leaf, or undefined when the group does not exist or `member` is not on its roster
   */
  leafOf(org: OwnerOrg, channelId: string, member: string): number | undefined {
    const group = org.owner.groups.get(channelId);
    if (group === undefined) return undefined;
    return this.#index(org, channelId, group).get(member);
  }

  /** Arms the add flush (one timer per organization, `addWindowMs` after the first admission). */
  #armAdd(org: OwnerOrg): void {
    const c = this.#c;
    const owner = org.owner;
    if (owner.addTimer !== undefined || c.runtime.closed) return;
    const dueAt = owner.addDueAt ?? c.now() + c.p.config.addWindowMs;
    owner.addDueAt = dueAt;
    owner.addTimer = c.runtime.timer(
      () => {
        owner.addTimer = undefined;
        c.runtime.background(org.hex, async () => {
          // Halted (owner-device.ts): `resumeOwner` flushes what waits.
          if (owner.device.fork !== undefined) return;
          const txn = newTxn(org);
          await this.flushAdds(org, txn);
          await c.persistence.commit(org, txn);
        });
      },
      Math.max(0, dueAt - c.now()),
    );
  }

  /**
   * Of `joiners`, those the owner holds what an add needs for: keys and a session (owner-keys.ts);
   * in the organization's group, not those a delegate admitted just now (its add step is on its
   * way: owner-follow.ts, `leftToDelegate`).
   */
  async #ready(org: OwnerOrg, joiners: readonly string[], channelId: string): Promise<string[]> {
    if (joiners.length === 0) return [];
    const ready = await readyToAdd(this.#c.p, org, joiners);
    const now = this.#c.p.now();
    return joiners.filter(
      (member) =>
        ready.has(member) && (channelId !== "" || !heldForDelegate(this.#c, org, member, now)),
    );
  }

  /** {@link membershipChange} restricted to `members`: look-ups only, no scan of the group. */
  #changeOf(
    org: OwnerOrg,
    channelId: string,
    group: OwnerGroup,
    members: Iterable<string>,
  ): { readonly joiners: string[]; readonly leavers: string[] } {
    const index = this.#index(org, channelId, group);
    return memberChange({
      state: org.log.state,
      owner: org.hex,
      channelId,
      members,
      onRoster: (m) => index.has(m),
      ready: () => true,
    });
  }

  /** Member id → leaf of a group's current roster, rebuilt when the roster is not the indexed one. */
  #index(org: OwnerOrg, channelId: string, group: OwnerGroup): Map<string, number> {
    let byChannel = this.#leaves.get(org.owner);
    if (byChannel === undefined) {
      byChannel = new Map();
      this.#leaves.set(org.owner, byChannel);
    }
    const entry = byChannel.get(channelId);
    if (entry !== undefined && entry.roster === group.roster) return entry.byMember;
    const byMember = rosterMembers(group.roster);
    byChannel.set(channelId, { roster: group.roster, byMember });
    return byMember;
  }

  /**
   * Moves a group's index from the roster `before` to its current one by what the step changed
   * (`added` leaves, `removed` members); nothing when the index was not on `before` (rebuilt later).
   */
  #reindex(
    org: OwnerOrg,
    channelId: string,
    before: Roster,
    group: OwnerGroup,
    added: ReadonlyArray<readonly [string, number]>,
    removed: Iterable<string>,
  ): void {
    const entry = this.#leaves.get(org.owner)?.get(channelId);
    if (entry === undefined || entry.roster !== before) return;
    for (const member of removed) entry.byMember.delete(member);
    for (const [member, leaf] of added) entry.byMember.set(member, leaf);
    entry.roster = group.roster;
  }

  /**
   * One add step per group: the removals waiting for their re-key go first (a removed member must
   * not derive the epoch newcomers are welcomed into), then each group's joiners in one step, one
   * roster announcement and one Welcome each.
   */
  async #addJoiners(
    org: OwnerOrg,
    txn: Txn,
    joining: ReadonlyMap<string, string[]>,
  ): Promise<void> {
    const c = this.#c;
    const owner = org.owner;
    if ([...owner.pendingRemovals.values()].some((set) => set.size > 0)) {
      await this.#rekeyPending(org, txn);
    }
    for (const [channelId, joiners] of joining) {
      const group = owner.groups.get(channelId);
      if (group === undefined) continue;
      const before = group.roster;
      const entries = [];
      for (const member of joiners) {
        const keys = await ownerMemberKeys(c.p, org, member);
        if (keys === undefined) continue; // (ready: checked by the caller)
        const leaf = {
          identityKey: publicKeyFromMemberId(member),
          signingKey: keys.signingKey,
          prekey: keys.prekey,
        };
        entries.push({ leaf, leafSecret: c.p.random(32) });
      }
      if (entries.length === 0) continue;
      const added = group.add(entries, c.p.now());
      txn.groups.add(channelId);
      const placed: Array<[string, number]> = [];
      for (const { leaf } of added.welcomes) {
        const identity = added.roster[leaf]?.identityKey;
        if (identity !== undefined) placed.push([toHex(identity), leaf]);
      }
      this.#reindex(org, channelId, before, group, placed, []);
      await this.#announceEpoch(org, txn, channelId, "add", added.previousKeyId);
      for (const { leaf, welcome } of added.welcomes) {
        const identity = added.roster[leaf]?.identityKey;
        if (identity === undefined) continue;
        await c.pairwise.toMember(org, txn, toHex(identity), {
          case: "welcome",
          value: welcome,
        });
      }
      this.epochEvent(org, txn, channelId, group);
    }
  }

  /** Arms the batched re-key (one timer per organization). */
  scheduleRekey(org: OwnerOrg, dueAt: number): void {
    const c = this.#c;
    const owner = org.owner;
    if (owner.rekeyTimer !== undefined || c.runtime.closed) return;
    owner.rekeyTimer = c.p.timers.setTimeout(
      () => {
        owner.rekeyTimer = undefined;
        c.runtime.background(org.hex, async () => {
          // Halted (owner-device.ts): `resumeOwner` arms the re-key again.
          if (owner.device.fork !== undefined) return;
          const txn = newTxn(org);
          await this.#rekeyPending(org, txn);
          await c.persistence.commit(org, txn);
        });
      },
      Math.max(0, dueAt - c.now()),
    );
  }

  /**
   * Before the owner sends in `channelId`'s group: when a removal of it waits for the batched re-key
   * (`rekeyWindowMs`), every pending re-key runs now, in `txn`, so that what the owner writes after a
   * removal or a ban is never in an epoch the removed member holds (its KeyUpdates go into the outbox
   * before the message). Likewise, when a member waits for the add flush of that group
   * (`addWindowMs`), the adds are flushed now: a member just admitted or put on a channel's roster
   * reads what the owner writes next (its Welcome goes out before the message).
   */
  async rekeyBeforeSend(org: OwnerOrg, txn: Txn, channelId: string): Promise<void> {
    const pending = org.owner.pendingRemovals.get(channelId);
    if (pending !== undefined && pending.size > 0) await this.#rekeyPending(org, txn);
    const adds = org.owner.pendingAdds.get(channelId);
    if (adds !== undefined && adds.size > 0) await this.flushAdds(org, txn);
  }

  /**
   * A fresh epoch for one group now (a KeyUpdate without removals), as the periodic refresh makes:
   * the answer to a restored member's request (docs/RESTORE.md).
   * @returns false when the organization has no such group
   */
  async refresh(org: OwnerOrg, txn: Txn, channelId: string): Promise<boolean> {
    const group = org.owner.groups.get(channelId);
    if (group === undefined) return false;
    const before = group.roster;
    await this.#rekeyGroup(org, txn, channelId, []);
    this.#reindex(org, channelId, before, group, [], []);
    return true;
  }

  /** One KeyUpdate per group for every removal batched since the window opened. */
  async #rekeyPending(org: OwnerOrg, txn: Txn): Promise<void> {
    const owner = org.owner;
    owner.rekeyDueAt = undefined;
    if (owner.rekeyTimer !== undefined) {
      this.#c.p.timers.clearTimeout(owner.rekeyTimer);
      owner.rekeyTimer = undefined;
    }
    for (const [channelId, members] of [...owner.pendingRemovals]) {
      owner.pendingRemovals.delete(channelId);
      const group = owner.groups.get(channelId);
      if (group === undefined) continue;
      const index = this.#index(org, channelId, group);
      const gone = [...members].filter((m) => {
        const leaf = index.get(m);
        return leaf !== undefined && leaf !== group.leaf;
      });
      const removed = gone.map((m) => index.get(m) as number);
      if (removed.length === 0) continue;
      const before = group.roster;
      await this.#rekeyGroup(org, txn, channelId, removed);
      this.#reindex(org, channelId, before, group, [], gone);
    }
    // Groups whose epoch a delegate's KeyUpdate made (delegate salts): refreshed with the owner's
    // own leaf secrets (docs/DELEGATION.md, "Removals by a delegate"); those re-keyed above are done.
    for (const channelId of await saltedGroups(this.#c, org))
      await this.refresh(org, txn, channelId);
    txn.meta = true;
  }

  async #rekeyGroup(org: OwnerOrg, txn: Txn, channelId: string, leaves: number[]): Promise<void> {
    const c = this.#c;
    const group = org.owner.groups.get(channelId);
    if (group === undefined) return; // (callers hold the group)
    // Members a delegate added whose leaf secret never came get one first (owner-follow.ts).
    await resyncAwaiting(c, org, txn, channelId, leaves);
    const now = c.p.now();
    const update = leaves.length === 0 ? group.refresh(now) : group.remove(leaves, now);
    txn.groups.add(channelId);
    await this.#announceEpoch(org, txn, channelId, "rekey", update.previousKeyId);
    const envelopes = await sealKeyUpdate({
      group: group.group,
      chunks: update.chunks,
      clock: org.log.nextClock(),
      signer: org.owner.signer,
    });
    const topic = keysTopic(org.id, channelId === "" ? undefined : channelId);
    for (const bytes of envelopes) txn.outbox.push({ id: hashId(bytes), topic, bytes });
    this.epochEvent(org, txn, channelId, group);
  }

  /**
   * A group's new epoch, recorded as the owner records each of its epochs: an `epoch.changed`
   * event, the unit of work's epoch flags, and `epoch:changed` for the app (also for the epochs it
   * follows: owner-follow.ts).
   */
  epochEvent(org: OwnerOrg, txn: Txn, channelId: string, group: OwnerGroup): void {
    const log = this.#c.eventLog;
    log.add(
      org,
      txn,
      log.event(
        org,
        "epoch.changed",
        { channelId, epoch: group.epoch, keyId: toHex(group.keyId) },
        org.hex,
      ),
    );
    txn.epochChanged = true;
    txn.erasesKeys = true;
    txn.emits.push(["epoch:changed", { organizationId: org.hex, channelId, epoch: group.epoch }]);
  }

  /**
   * A restored owner's re-genesis (owner-restore.ts): `group` replaces the one held, its roster is
   * announced as a re-key of `previous` (the newest epoch read from Store), and the epoch recorded.
   */
  async regenesis(
    org: OwnerOrg,
    txn: Txn,
    group: OwnerGroup,
    previous: EpochRoster,
  ): Promise<void> {
    const channelId = group.group.channelId;
    if (!org.rosters.has(toHex(previous.keyId))) org.rosters.add(previous);
    txn.ops.push(...rosterRecordOps(org.rosters, orgSpace(org.hex), previous));
    org.owner.groups.set(channelId, group);
    txn.groups.add(channelId);
    await this.#announceEpoch(org, txn, channelId, "rekey", previous.keyId);
    this.epochEvent(org, txn, channelId, group);
  }

  /**
   * Records the roster of a group's new epoch and announces it on the group's keys topic: a delta
   * from the previous epoch's roster (a removal costs a few bytes per removed leaf, whatever the
   * size of the group), or a paged snapshot at genesis and when the change is too large for one
   * delta.
   */
  async #announceEpoch(
    org: OwnerOrg,
    txn: Txn,
    channelId: string,
    change: RosterChange,
    previousKeyId?: Uint8Array,
  ): Promise<void> {
    const c = this.#c;
    const group = org.owner.groups.get(channelId);
    if (group === undefined) return; // (callers hold the group)
    const previous =
      previousKeyId === undefined ? undefined : org.rosters.get(toHex(previousKeyId));
    const record: EpochRoster = {
      change,
      channelId,
      epoch: group.epoch,
      keyId: group.keyId.slice(),
      previousKeyId: previousKeyId?.slice() ?? new Uint8Array(0),
      rosterHash: group.rosterHash,
      previousRosterHash: previous?.rosterHash ?? new Uint8Array(0),
      roster: [...group.roster],
    };
    org.rosters.add(record);
    txn.ops.push(...rosterRecordOps(org.rosters, orgSpace(org.hex), record));
    pruneRosters(org, txn, orgSpace(org.hex), c.p.now());
    if (change !== "genesis" && previous === undefined) {
      // Every epoch this owner makes is recorded in the batch that commits it, so only a damaged
      // store lacks the previous one; without its hash this epoch cannot be announced (the wire
      // requires it). Recorded all the same, so that the next epoch change announces normally.
      c.emitter.emit("error", {
        organizationId: org.hex,
        error: new StoreCorruptedError(
          `${orgSpace(org.hex)}/roster/${toHex(previousKeyId ?? new Uint8Array(0))}`,
        ),
      });
      return;
    }
    const delta = previous === undefined ? undefined : rosterDeltaMessage(record, previous.roster);
    let deltaBytes = 0;
    if (delta !== undefined) {
      const [sealed] = await sealEpochRosters({
        organizationId: org.id,
        signer: org.owner.signer,
        clock: org.log.state.clock,
        messages: [delta],
      });
      if (sealed !== undefined) {
        txn.outbox.push({ id: hashId(sealed.bytes), topic: sealed.topic, bytes: sealed.bytes });
        deltaBytes = sealed.bytes.length;
      }
    }
    const due = snapshotDue({
      change,
      deltaFits: delta !== undefined,
      deltaBytesSinceSnapshot: this.#cadence.since(org.hex, channelId),
      deltaBytes,
      snapshotBytes: snapshotWireBytes(record.roster),
    });
    if (due) await this.publishSnapshot(org, txn, channelId, "epoch");
    else this.#cadence.noteDelta(org.hex, channelId, deltaBytes);
  }

  /**
   * A paged snapshot of a group's current roster on its keys topic. `resync` answers are
   * rate-limited per group (one snapshot of an epoch per `resyncAnswerIntervalMs`): members that
   * ask at once share one snapshot, and a member that missed it asks again after its back-off.
   */
  async publishSnapshot(
    org: OwnerOrg,
    txn: Txn,
    channelId: string,
    reason: "epoch" | "resync" | "periodic",
  ): Promise<void> {
    const c = this.#c;
    const group = org.owner.groups.get(channelId);
    if (group === undefined) return;
    const keyIdHex = toHex(group.keyId);
    const record = org.rosters.get(keyIdHex);
    // Without the previous epoch's roster hash (a record of the provisional format whose
    // predecessor is gone, or a damaged store) a snapshot would break the wire rules; the next
    // epoch change makes a complete record again.
    if (
      record === undefined ||
      (record.change !== "genesis" && record.previousRosterHash.length !== 32)
    ) {
      return;
    }
    const now = c.now();
    const allowed = snapshotAllowed({
      reason,
      last: org.owner.snapshots.get(channelId),
      keyIdHex,
      now,
      intervalMs: c.p.config.resyncAnswerIntervalMs,
    });
    if (!allowed) return;
    org.owner.snapshots.set(channelId, { keyId: keyIdHex, at: now });
    const sealed = await sealEpochRosters({
      organizationId: org.id,
      signer: org.owner.signer,
      clock: org.log.state.clock,
      messages: rosterSnapshotMessages(record),
    });
    for (const { topic, bytes } of sealed) txn.outbox.push({ id: hashId(bytes), topic, bytes });
    this.#cadence.noteSnapshot(org.hex, channelId);
  }
}
