import { keysTopic } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { groupOfChannel, groupsBehind, mayBeOurs, resyncStep } from "./member-controller.js";
import { type MemberOrg, newTxn, type Org } from "./org.js";

/**
 * Member side, recovery (docs/CLIENT.md, "No missing keys"): when a message waits for a key, or
 * the owner's rosters show this member behind, backfill the inbox and keys topics from history;
 * if still stuck, ask the owner for a resync over the pairwise channel, with jittered exponential
 * back-off and a retry timer. Owns: `MemberSide.recovering`, `.resyncBackoff`, `.resyncTimer`.
 */
export class Recovery {
  readonly #c: ClientCore;

  constructor(core: ClientCore) {
    this.#c = core;
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

  /** Recovers every group the rosters show this member behind in (from the sweep). */
  async recoverBehind(org: Org): Promise<void> {
    if (org.role === "owner") return;
    for (const groupId of this.behind(org)) await this.recover(org, groupId, false);
  }

  /**
   * Backfills the inbox and the keys topics; if a buffered message or a Welcome is still waiting,
   * asks the owner for a resync.
   * @param kickSweep - a gap was seen: sweep every topic now rather than at the next sweep
   */
  async recover(org: MemberOrg, channelId: string, kickSweep = true): Promise<void> {
    const c = this.#c;
    const member = org.member;
    if (member.recovering) return;
    member.recovering = true;
    try {
      // The inbox first: a late Welcome gives the group that the keys topics' KeyUpdates apply to.
      await c.sync.backfillInbox();
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
      if (stuck) await this.requestResync(org, groupId);
    } finally {
      member.recovering = false;
    }
    if (kickSweep) c.sync.scheduleSweep(0);
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
    const group = member.groups.get(groupId);
    const txn = newTxn(org);
    await c.pairwise.toOwner(org, txn, {
      case: "resyncRequest",
      value: {
        channelId: groupId,
        haveEpoch: group?.epoch ?? 0n,
        haveKeyId: group?.keyId ?? new Uint8Array(0),
        wantedKeyId: new Uint8Array(0),
        descriptionClock: member.description?.clock ?? 0n,
      },
    });
    txn.emits.push([
      "resync:requested",
      { organizationId: org.hex, channelId: groupId, member: c.memberId },
    ]);
    await c.persistence.commit(org, txn);
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
