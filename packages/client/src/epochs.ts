import { toHex } from "@orgchat/base";
import { OwnerGroup, rosterHash, sealKeyUpdate } from "@orgchat/crypto";
import { buildDescriptionPages, sealDescriptionPages } from "@orgchat/state/description";
import { descriptionTopic, keysTopic, publicKeyFromMemberId, sealEnvelope } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { hashId } from "./encoding.js";
import {
  type EpochRoster,
  type RosterChange,
  rosterDeltaMessage,
  rosterSnapshotMessages,
  sealEpochRosters,
} from "./epoch-roster.js";
import { StoreCorruptedError } from "./errors.js";
import { persistRoster } from "./key-sync.js";
import { newTxn, type Org, type OwnerOrg, type Txn } from "./org.js";
import {
  membershipChange,
  rekeyTiming,
  removedLeaves,
  snapshotAllowed,
  wantedGroups,
} from "./owner-controller.js";
import { orgSpace } from "./persistence.js";

/**
 * Owner side, epochs: makes every group follow the state (joiners added at once with Welcomes,
 * leavers batched into one re-key per `rekeyWindowMs`), announces each epoch's roster (delta or
 * paged snapshot), periodic refresh, and the description and prekey bundle it republishes. The
 * rules are in `owner-controller.ts`. Owns: `OwnerSide.groups`, `.pendingRemovals`,
 * `.rekeyDueAt`, `.rekeyTimer`, `.snapshots`; the owner's `roster/` records.
 */
export class OwnerEpochs {
  readonly #c: ClientCore;

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
      return;
    }
    const txn = newTxn(org);
    const now = c.p.now();
    for (const [channelId, group] of org.owner.groups) {
      if (group.refreshDue(now, c.p.config.refreshIntervalMs)) {
        await this.#rekeyGroup(org, txn, channelId, []);
      }
    }
    txn.description = true;
    // With the description: a recent snapshot in Store lets a member that missed deltas (or a
    // newcomer) rebuild the roster from history alone.
    for (const channelId of org.owner.groups.keys()) {
      await this.publishSnapshot(org, txn, channelId, "periodic");
    }
    await c.persistence.commit(org, txn);
  }

  /** The signed description pages and the prekey bundle, into the outbox. */
  async describe(org: OwnerOrg, txn: Txn): Promise<void> {
    const signer = org.owner.signer;
    const topic = descriptionTopic(org.id);
    const sealed = await sealDescriptionPages({
      pages: buildDescriptionPages(org.log.state),
      organizationId: org.hex,
      signer,
    });
    for (const bytes of [sealed.header, ...sealed.pages]) {
      txn.outbox.push({ id: hashId(bytes), topic, bytes });
    }
    const bytes = await sealEnvelope(
      {
        type: "prekey-bundle",
        organizationId: org.id,
        clock: org.log.state.clock,
        contentTopic: topic,
        message: org.owner.prekeys.bundle(),
      },
      signer,
    );
    txn.outbox.push({ id: hashId(bytes), topic, bytes });
  }

  /**
   * Makes every group's membership follow the state. Joiners are added at once (one add step,
   * Welcomes over the pairwise channel); leavers wait in `pendingRemovals` for the batched re-key
   * (`rekeyWindowMs`).
   */
  async reconcile(org: OwnerOrg, txn: Txn): Promise<void> {
    const c = this.#c;
    const owner = org.owner;
    const state = org.log.state;
    if (!state.encrypted) return;
    const wanted = wantedGroups(state);
    for (const channelId of [...owner.groups.keys()]) {
      if (!wanted.has(channelId)) {
        owner.groups.delete(channelId);
        owner.pendingRemovals.delete(channelId);
        txn.groups.add(channelId);
      }
    }
    for (const channelId of wanted) {
      let group = owner.groups.get(channelId);
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
        this.#epochEvent(org, txn, channelId, group);
      }
      const { joiners, leavers } = membershipChange({
        state,
        owner: org.hex,
        channelId,
        roster: group.roster,
        ready: (m) => owner.memberKeys.has(m) && owner.sessions.has(m),
      });
      if (joiners.length > 0) {
        const added = group.add(
          joiners.flatMap((member) => {
            const keys = owner.memberKeys.get(member);
            if (keys === undefined) return []; // (ready: checked by membershipChange)
            const leaf = {
              identityKey: publicKeyFromMemberId(member),
              signingKey: keys.signingKey,
              prekey: keys.prekey,
            };
            return [{ leaf, leafSecret: c.p.random(32) }];
          }),
          c.p.now(),
        );
        txn.groups.add(channelId);
        await this.#announceEpoch(org, txn, channelId, "add", added.previousKeyId);
        for (const { leaf, welcome } of added.welcomes) {
          const identity = added.roster[leaf]?.identityKey;
          if (identity === undefined) continue;
          await c.pairwise.toMember(org, txn, toHex(identity), {
            case: "welcome",
            value: welcome,
          });
        }
        this.#epochEvent(org, txn, channelId, group);
      }
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
          const txn = newTxn(org);
          await this.#rekeyPending(org, txn);
          await c.persistence.commit(org, txn);
        });
      },
      Math.max(0, dueAt - c.now()),
    );
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
      const removed = removedLeaves(group.roster, members, group.leaf);
      if (removed.length === 0) continue;
      await this.#rekeyGroup(org, txn, channelId, removed);
    }
    txn.meta = true;
  }

  async #rekeyGroup(org: OwnerOrg, txn: Txn, channelId: string, leaves: number[]): Promise<void> {
    const c = this.#c;
    const group = org.owner.groups.get(channelId);
    if (group === undefined) return; // (callers hold the group)
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
    this.#epochEvent(org, txn, channelId, group);
  }

  #epochEvent(org: OwnerOrg, txn: Txn, channelId: string, group: OwnerGroup): void {
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
      rosterHash: rosterHash(c.p.provider, group.roster),
      previousRosterHash: previous?.rosterHash ?? new Uint8Array(0),
      roster: [...group.roster],
    };
    org.rosters.add(record);
    persistRoster(org.hex, txn, record);
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
    if (delta === undefined) {
      await this.publishSnapshot(org, txn, channelId, "epoch");
      return;
    }
    const [sealed] = await sealEpochRosters({
      organizationId: org.id,
      signer: org.owner.signer,
      clock: org.log.state.clock,
      messages: [delta],
    });
    if (sealed !== undefined) {
      txn.outbox.push({ id: hashId(sealed.bytes), topic: sealed.topic, bytes: sealed.bytes });
    }
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
  }
}
