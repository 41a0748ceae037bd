import { keysTopic } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import {
  groupOfChannel,
  groupsBehind,
  mayBeOurs,
  type ResyncBackoff,
  resyncStep,
} from "./member-controller.js";
import { type MemberOrg, newTxn, type Org, type Txn } from "./org.js";

/**
 * Key ids whose recovery started, remembered per client (oldest forgotten first). Each names an
 * epoch an owner-signed record announced, so the set only grows with real epochs; the bound is a
 * safety net.
 */
const maxRecoveredKeyIds = 1_024;

/**
 * Member side, recovery (docs/CLIENT.md, "No missing keys"; docs/SECURITY.md, "Unknown key ids").
 * It starts only on owner-signed evidence that a newer epoch this member is entitled to exists: a
 * message waiting for such an epoch's key (once per key id: {@link Recovery.onWaiting}), or the
 * owner's rosters showing this member behind. It backfills the inbox and the keys topics from
 * history; if still stuck, asks the owner for a resync over the pairwise channel, with jittered
 * exponential back-off and a retry timer. A message whose key id nothing owner-signed names only
 * earns a look at the keys topics' history, at most once per group per back-off step
 * ({@link Recovery.probe}), never a resync. Owns: `MemberSide.recovering`, `.resyncBackoff`,
 * `.resyncTimer`, and the probes' back-off.
 */
export class Recovery {
  readonly #c: ClientCore;
  /** Back-off of the keys-topics probe, per `<org>/<group>`. */
  readonly #probes = new Map<string, ResyncBackoff>();
  /** `<org>/<key id>` of the waiting epochs whose recovery started. */
  readonly #started = new Set<string>();
  /** Groups whose recovery was asked for while another ran, per organization: run after it. */
  readonly #again = new Map<string, Set<string>>();

  constructor(core: ClientCore) {
    this.#c = core;
  }

  /**
   * A message waits for the key of a newer epoch this member is entitled to (an owner-signed
   * record names it): recovers its group, once per key id (the resync back-off and retry timer
   * take it from there).
   */
  async onWaiting(org: MemberOrg, channelId: string, keyIdHex: string): Promise<void> {
    const key = `${org.hex}/${keyIdHex}`;
    if (this.#started.has(key)) return;
    this.#started.add(key);
    if (this.#started.size > maxRecoveredKeyIds) {
      const [oldest] = this.#started;
      if (oldest !== undefined) this.#started.delete(oldest);
    }
    await this.recover(org, channelId);
  }

  /**
   * A message whose key id nothing owner-signed names: the roster that names it may be in the keys
   * topics' history (this member missed it). Reads them — not the inbox, no resync — at most once
   * per group per step of a back-off (`resyncInitialBackoffMs` doubling to `resyncMaxBackoffMs`)
   * that only an epoch entered resets: a flood of junk costs a handful of reads.
   */
  async probe(org: MemberOrg, channelId: string): Promise<void> {
    const c = this.#c;
    const groupId = groupOfChannel(org.log.state, org.member.groups.has(channelId), channelId);
    const key = `${org.hex}/${groupId}`;
    const step = resyncStep({
      backoff: this.#probes.get(key),
      now: c.now(),
      initialBackoffMs: c.p.config.resyncInitialBackoffMs,
      maxBackoffMs: c.p.config.resyncMaxBackoffMs,
      jitterByte: () => 0,
    });
    if (step.action === "wait") return;
    this.#probes.set(key, step.backoff);
    await this.recover(org, groupId, false, false);
  }

  /** An epoch of `groupId` was entered (owner-signed): the next unknown key id is looked for at once. */
  entered(org: Org, groupId: string): void {
    this.#probes.delete(`${org.hex}/${groupId}`);
  }

  /** The groups the owner's rosters show this member behind in (none for an owner). */
  behind(org: Org): Set<string> {
    if (org.role !== "member") return new Set();
    return groupsBehind({
      rosters: org.rosters.values(),
      groups: org.member.groups,
      waitingWelcomes: org.member.waitingWelcomes,
      identityKey: this.#c.p.identity.publicKey,
      signingKey: org.keys.signingKey,
    });
  }

  /**
   * At a start, after the catch-up: the recoveries a previous run started go on (their back-off and
   * retry timer were memory only). Each kept message still waiting for an epoch an owner-signed
   * record named (not a foreign one) starts its group's recovery again, once per key id, and so
   * does each group the rosters show this member behind in. Without it, a member whose transport
   * reads no history (no sweep) would wait for a message that never comes. Bounded by the pending
   * buffer (`maxPendingMessages`) and the groups held.
   */
  async resume(org: Org): Promise<void> {
    if (org.role !== "member") return;
    const waiting = new Map<string, string>();
    for (const pending of org.pending.values()) {
      if (pending.foreign !== true) waiting.set(pending.keyId, pending.channelId);
    }
    for (const [keyIdHex, channelId] of waiting) {
      if (org.role !== "member") return;
      await this.onWaiting(org, channelId, keyIdHex);
    }
    await this.recoverBehind(org);
  }

  /** Recovers every group the rosters show this member behind in (from the sweep). */
  async recoverBehind(org: Org): Promise<void> {
    if (org.role === "owner") return;
    for (const groupId of this.behind(org)) await this.recover(org, groupId, false);
  }

  /**
   * Backfills the inbox and the keys topics; if a buffered message or a Welcome is still waiting,
   * asks the owner for a resync. Asked while another recovery runs, it runs after that one.
   * @param kickSweep - a gap was seen: sweep every topic now rather than at the next sweep
   * @param resync - false for a probe: the keys topics only, no inbox, no resync
   */
  async recover(org: MemberOrg, channelId: string, kickSweep = true, resync = true): Promise<void> {
    const c = this.#c;
    const member = org.member;
    if (member.recovering) {
      if (resync) {
        const again = this.#again.get(org.hex) ?? new Set();
        again.add(channelId);
        this.#again.set(org.hex, again);
      }
      return;
    }
    member.recovering = true;
    try {
      // The inbox first: a late Welcome gives the group that the keys topics' KeyUpdates apply to.
      if (resync) await c.sync.backfillInbox();
      const topics = [keysTopic(org.id)];
      for (const id of org.log.state.channels.keys()) topics.push(keysTopic(org.id, id));
      await c.sync.backfill(org, topics);
      await c.messages.retryPending(org);
      const state = org.log.state;
      const groupId = groupOfChannel(state, member.groups.has(channelId), channelId);
      const me = c.p.identity.publicKey;
      const stuck =
        [...org.pending.values()].some(
          (p) =>
            p.foreign !== true &&
            groupOfChannel(state, member.groups.has(p.channelId), p.channelId) === groupId &&
            mayBeOurs(org.rosters.get(p.keyId)?.roster, me),
        ) ||
        member.waitingWelcomes.size > 0 ||
        this.behind(org).has(groupId);
      if (resync && stuck) await this.requestResync(org, groupId);
    } finally {
      member.recovering = false;
    }
    if (kickSweep) c.sync.scheduleSweep(0);
    const again = this.#again.get(org.hex);
    this.#again.delete(org.hex);
    for (const groupId of again ?? []) await this.recover(org, groupId);
  }

  /** Asks the owner for a Welcome of `groupId` unless the back-off says wait. */
  async requestResync(org: MemberOrg, groupId: string): Promise<void> {
    const c = this.#c;
    const member = org.member;
    if (member.ownerSession === undefined || org.role !== "member") return;
    const config = c.p.config;
    const step = resyncStep({
      backoff: member.resyncBackoff.get(groupId),
      now: c.now(),
      initialBackoffMs: config.resyncInitialBackoffMs,
      maxBackoffMs: config.resyncMaxBackoffMs,
      jitterByte: () => c.p.random(1)[0] ?? 0,
    });
    if (step.action === "wait") {
      this.#armRetry(org, groupId, step.retryIn);
      return;
    }
    member.resyncBackoff.set(groupId, step.backoff);
    // Until an answer comes (a Welcome clears the back-off), ask again when this delay is over:
    // the request or its answer may be lost, or refused by the owner's rate limit.
    this.#armRetry(org, groupId, step.retryIn);
    const txn = newTxn(org);
    await this.sendRequest(org, txn, groupId, false);
    await c.persistence.commit(org, txn);
  }

  /**
   * One resync request for `groupId` into `txn` (on the session with the owner, which must exist),
   * and its `resync:requested` event.
   * @param restored - the `restored` flag: this store was restored from a backup (restore.ts)
   */
  async sendRequest(org: MemberOrg, txn: Txn, groupId: string, restored: boolean): Promise<void> {
    const c = this.#c;
    const member = org.member;
    const group = member.groups.get(groupId);
    await c.pairwise.toOwner(org, txn, {
      case: "resyncRequest",
      value: {
        channelId: groupId,
        haveEpoch: group?.epoch ?? 0n,
        haveKeyId: group?.keyId ?? new Uint8Array(0),
        wantedKeyId: new Uint8Array(0),
        descriptionClock: member.description?.clock ?? 0n,
        restored,
      },
    });
    txn.emits.push([
      "resync:requested",
      { organizationId: org.hex, channelId: groupId, member: c.memberId },
    ]);
  }

  #armRetry(org: MemberOrg, groupId: string, delay: number): void {
    const c = this.#c;
    const member = org.member;
    if (member.resyncTimer !== undefined || c.runtime.closed) return;
    member.resyncTimer = c.p.timers.setTimeout(() => {
      member.resyncTimer = undefined;
      c.runtime.background(org.hex, async () => {
        if (org.role !== "member" || !member.resyncBackoff.has(groupId)) return;
        await this.recover(org, groupId);
      });
    }, delay);
  }
}
