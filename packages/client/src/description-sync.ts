import { equalBytes, toHex } from "@orgchat/base";
import type { OrgState } from "@orgchat/state";
import {
  applyDescriptionDelta,
  assembleDescription,
  type DescribedState,
  describedState,
  openDescriptionPages,
  stateFromDescription,
} from "@orgchat/state/description";
import type { TransportMessage } from "@orgchat/transport";
import {
  type DescriptionDelta,
  decodeDescriptionDelta,
  decodeDescriptionPage,
  decodeSignedEnvelope,
  descriptionTopic,
  MessageType,
  type OpenedEnvelope,
  openEnvelope,
} from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { receiveDelegateEvent } from "./delegate-events.js";
import { hashId } from "./encoding.js";
import { type MemberOrg, newTxn, type StoredDescription, type Txn } from "./org.js";

const component = "client/description";

/**
 * Description deltas held per organization while the description they apply to is missing (read
 * newest first, a delta comes before its base): at most this many; further ones are dropped and
 * reported until held ones apply. 2,048 is twice the deltas an owner of 10,000 members publishes
 * between two full descriptions (docs/PROTOCOL.md, "Description deltas").
 */
export const maxHeldDescriptionDeltas = 2_048;

/** Bytes of description deltas (payloads) held per organization, at most (see above). */
export const maxHeldDescriptionDeltaBytes = 1024 * 1024;

/** A description as stored, with the deltas applied after its full description. */
type StoredWithDeltas = StoredDescription & { deltas?: Uint8Array[] };

interface HeldDeltas {
  /** By base clock. */
  readonly byBase: Map<bigint, { delta: DescriptionDelta; payload: Uint8Array }>;
  bytes: number;
}

/**
 * The description a member holds, as a state with its digest: its full description assembled, and
 * the deltas stored after it applied in order. `undefined` when nothing (usable) is stored.
 * For a start (`Persistence` restoring a member organization): the state to rebase the log on.
 *
 * @param stored - the stored description (`MemberSide.description`)
 * @param organizationId - the organization key as a member id
 * @returns the description in force, or `undefined`
 */
export function storedDescriptionState(
  stored: StoredDescription | undefined,
  organizationId: string,
): DescribedState | undefined {
  if (stored === undefined) return undefined;
  const assembled = assembleDescription(stored);
  if (!assembled.ok) return undefined;
  let described = describedState(stateFromDescription(assembled.description, organizationId));
  for (const payload of (stored as StoredWithDeltas).deltas ?? []) {
    let delta: DescriptionDelta;
    try {
      delta = decodeDescriptionDelta(payload);
    } catch {
      break;
    }
    const applied = applyDescriptionDelta(described, delta, organizationId);
    if (!applied.ok) break;
    described = applied.described;
  }
  return described;
}

/**
 * Member side, description sync: collects the owner's signed description pages and prekey bundle
 * from the description topic, re-bases the log on the newest complete description, and follows
 * what it says about this identity (joined, removed). Owns: `MemberSide.pieces`, `.description`,
 * `.bundle`; `Org.discovered`.
 */
export class DescriptionSync {
  readonly #c: ClientCore;
  /**
   * The clock of the prekey bundle held, per organization (memory only): history read newest first
   * meets the newest bundle before older ones, which must not replace it.
   */
  readonly #bundleClocks = new WeakMap<MemberOrg, bigint>();
  /** The description in force with its digest, per organization (memory; rebuilt from the store). */
  readonly #described = new WeakMap<MemberOrg, DescribedState>();
  /** Deltas waiting for their base, per organization (memory only, bounded). */
  readonly #held = new WeakMap<MemberOrg, HeldDeltas>();
  /** Organizations whose description topic is being read back to fill a gap in the deltas. */
  readonly #filling = new WeakSet<MemberOrg>();

  constructor(core: ClientCore) {
    this.#c = core;
  }

  async onDescription(org: MemberOrg, message: TransportMessage, id: string): Promise<void> {
    const c = this.#c;
    c.sync.seen.add(id);
    const topic = message.contentTopic;
    let envelope: ReturnType<typeof decodeSignedEnvelope>;
    try {
      envelope = decodeSignedEnvelope(message.payload);
    } catch (error) {
      c.report({ component, reason: "undecodable", topic, error });
      return;
    }
    if (envelope.type === MessageType.DELEGATE_EVENT) {
      await receiveDelegateEvent(c, org, message.payload, topic, id);
      return;
    }
    if (envelope.type === MessageType.DELEGATE_BUNDLE) {
      await c.delegates.onBundle(org, message.payload, topic);
      return;
    }
    if (envelope.type === MessageType.PREKEY_BUNDLE) {
      const held = this.#bundleClocks.get(org);
      if (held !== undefined && envelope.clock < held) return;
      await this.#onPrekeyBundle(org, message.payload, topic);
      return;
    }
    // Older than the description in force: of no use whoever signed it.
    const base = org.member.description?.clock;
    if (base !== undefined && envelope.clock < base) return;
    if (envelope.type === MessageType.DESCRIPTION_DELTA) {
      if (base !== undefined && envelope.clock === base) return;
      await this.#onDelta(org, message.payload, topic);
      return;
    }
    // The state's opener checks topic, organization, type and the owner's signature; the newest
    // complete description is then picked incrementally by #tryAssemble as pieces arrive.
    const opened = await openDescriptionPages([message.payload], {
      organizationId: org.hex,
      verify: c.verify,
    });
    if (opened.refused.length > 0) {
      c.report({ component, reason: "refused-page", topic });
      return;
    }
    const pieces = org.member.pieces;
    if (opened.header !== undefined) {
      pieces.headers.set(hashId(opened.header), { clock: envelope.clock, payload: opened.header });
    } else {
      pieces.pages.set(hashId(envelope.payload), envelope.payload);
    }
    await this.#tryAssemble(org);
  }

  /** Opens an owner-signed envelope of the description topic, or reports why not. */
  async #open(
    org: MemberOrg,
    bytes: Uint8Array,
    topic: string,
    type: "prekey-bundle" | "description-delta",
    reason: string,
  ): Promise<OpenedEnvelope | undefined> {
    const c = this.#c;
    try {
      return await openEnvelope(bytes, {
        contentTopic: descriptionTopic(org.id),
        organizationId: org.id,
        accept: [type],
        verify: c.verify,
      });
    } catch (error) {
      c.report({ component, reason, topic, error });
      return undefined;
    }
  }

  async #onPrekeyBundle(org: MemberOrg, bytes: Uint8Array, topic: string): Promise<void> {
    const c = this.#c;
    const opened = await this.#open(org, bytes, topic, "prekey-bundle", "unopenable-prekey-bundle");
    if (opened?.type !== "prekey-bundle") return;
    this.#bundleClocks.set(org, opened.clock);
    const txn = newTxn(org);
    const m = opened.message;
    const before = org.member.bundle?.ownerDevice;
    org.member.bundle = {
      identityKey: m.identityKey,
      identityDhKey: m.identityDhKey,
      signedPrekey: m.signedPrekey,
      signedPrekeyId: m.signedPrekeyId,
      signature: m.signature,
      ...(m.ownerDevice.length === 0 ? {} : { ownerDevice: m.ownerDevice }),
    };
    // The owner writes from another device (docs/RESTORE.md): a new session with it (restore.ts).
    if (before !== undefined && m.ownerDevice.length > 0 && !equalBytes(before, m.ownerDevice)) {
      await c.restore.ownerDeviceChanged(org, txn);
    }
    await c.persistence.commit(org, txn);
  }

  /** Holds a signed delta (bounded), then applies every held delta that follows the description. */
  async #onDelta(org: MemberOrg, bytes: Uint8Array, topic: string): Promise<void> {
    const c = this.#c;
    const opened = await this.#open(org, bytes, topic, "description-delta", "unopenable-delta");
    if (opened?.type !== "description-delta") return;
    const held = this.#heldOf(org);
    const delta = opened.message;
    if (held.byBase.has(delta.baseClock)) return;
    if (
      held.byBase.size >= maxHeldDescriptionDeltas ||
      held.bytes + opened.payload.length > maxHeldDescriptionDeltaBytes
    ) {
      c.report({ component, reason: "deltas-full", topic });
      return;
    }
    held.byBase.set(delta.baseClock, { delta, payload: opened.payload });
    held.bytes += opened.payload.length;
    await this.#applyHeld(org);
    if (held.byBase.size > 0 && org.member.description !== undefined) this.#fillGap(org);
  }

  /**
   * A delta whose base is newer than the description in force: one in between was lost. Reads the
   * description topic newest first (after the message being processed, in the organization's
   * queue) until no delta waits, or history runs out; one read at a time per organization. What
   * history cannot give, the next full description does.
   */
  #fillGap(org: MemberOrg): void {
    const c = this.#c;
    if (this.#filling.has(org) || !c.p.transport.capabilities.history) return;
    this.#filling.add(org);
    c.runtime.background(org.hex, async () => {
      try {
        await c.sync.readNewestFirst(
          org,
          descriptionTopic(org.id),
          () => this.heldDeltas(org) === 0,
        );
      } finally {
        this.#filling.delete(org);
      }
    });
  }

  #heldOf(org: MemberOrg): HeldDeltas {
    let held = this.#held.get(org);
    if (held === undefined) {
      held = { byBase: new Map(), bytes: 0 };
      this.#held.set(org, held);
    }
    return held;
  }

  /** How many deltas wait for their base (tests, catch-up). */
  heldDeltas(org: MemberOrg): number {
    return this.#held.get(org)?.byBase.size ?? 0;
  }

  /** The description in force, with its digest (rebuilt from the store after a start). */
  #describedOf(org: MemberOrg): DescribedState | undefined {
    let described = this.#described.get(org);
    const stored = org.member.description;
    if (described === undefined || described.state.clock !== stored?.clock) {
      described = storedDescriptionState(stored, org.hex);
      if (described !== undefined) this.#described.set(org, described);
    }
    return described;
  }

  /**
   * Applies the held deltas that follow the description in force, in order; drops those at or
   * below it. A delta that does not converge (digest) is dropped and reported: the next full
   * description (at most half a description's worth of deltas later) re-bases the member.
   */
  async #applyHeld(org: MemberOrg): Promise<void> {
    const c = this.#c;
    const held = this.#held.get(org);
    const stored = org.member.description as StoredWithDeltas | undefined;
    if (held === undefined || held.byBase.size === 0 || stored === undefined) return;
    let described = this.#describedOf(org);
    if (described === undefined) return;
    const applied: Uint8Array[] = [];
    for (;;) {
      const next = held.byBase.get(described.state.clock);
      if (next === undefined) break;
      held.byBase.delete(described.state.clock);
      held.bytes -= next.payload.length;
      const result = applyDescriptionDelta(described, next.delta, org.hex);
      if (!result.ok) {
        c.report({ component, reason: result.reason, topic: descriptionTopic(org.id) });
        break;
      }
      described = result.described;
      applied.push(next.payload);
    }
    for (const [baseClock, entry] of held.byBase) {
      if (baseClock < described.state.clock) {
        held.byBase.delete(baseClock);
        held.bytes -= entry.payload.length;
      }
    }
    if (applied.length === 0) return;
    const txn = newTxn(org);
    const next: StoredWithDeltas = {
      header: stored.header,
      pages: stored.pages,
      clock: described.state.clock,
      deltas: [...(stored.deltas ?? []), ...applied],
    };
    org.member.description = next;
    this.#described.set(org, described);
    await this.#rebase(org, txn, described.state);
  }

  /**
   * A newcomer's catch-up of the description topic (`discover`, `acceptInvitation`): reads it
   * newest first (`Sync.readNewestFirst`) until the newest complete description and the owner's
   * prekey bundle are held, instead of replaying (and verifying) every description ever published.
   * What it costs depends on how far back the newest complete description is, not on the length of
   * history. Once read to the newest description, the topic's sweep mark is set to when the read
   * started, so that the first sweep does not read the topic from its start.
   * @returns whether the organization is discovered
   */
  async readNewest(org: MemberOrg): Promise<boolean> {
    const delegateBundlePages = 2;
    const c = this.#c;
    const topic = descriptionTopic(org.id);
    const startedAt = c.now();
    // Then a little further for the delegates' bundles (republished as seldom as the description,
    // so one may be older than it): until each delegate it would ask has one, or a few pages more.
    let beyond = 0;
    await c.sync.readNewestFirst(org, topic, () => {
      if (!org.discovered || org.member.bundle === undefined || this.heldDeltas(org) > 0) {
        return false;
      }
      return c.delegates.bundlesHeld(org) || ++beyond > delegateBundlePages;
    });
    if (org.discovered) org.marks.set(topic, startedAt);
    return org.discovered;
  }

  /** Re-bases on the newest complete description received, if newer than the one in force. */
  async #tryAssemble(org: MemberOrg): Promise<boolean> {
    const member = org.member;
    const headers = [...member.pieces.headers.values()].sort((a, b) =>
      a.clock > b.clock ? -1 : a.clock < b.clock ? 1 : 0,
    );
    for (const header of headers) {
      if (member.description !== undefined && header.clock <= member.description.clock) break;
      const decoded = decodeDescriptionPage(header.payload);
      const pages: Uint8Array[] = [];
      for (const hash of decoded.index?.pageHashes ?? []) {
        const page = member.pieces.pages.get(toHex(hash));
        if (page !== undefined) pages.push(page);
      }
      const assembled = assembleDescription({ header: header.payload, pages });
      if (!assembled.ok) continue;
      const txn = newTxn(org);
      member.description = { header: header.payload, pages, clock: header.clock };
      const state = stateFromDescription(assembled.description, org.hex);
      this.#described.set(org, describedState(state));
      // Pieces at or below the base are no longer needed.
      for (const [hash, piece] of member.pieces.headers) {
        if (piece.clock <= header.clock) member.pieces.headers.delete(hash);
      }
      for (const [hash, page] of member.pieces.pages) {
        if (pages.includes(page)) member.pieces.pages.delete(hash);
      }
      await this.#rebase(org, txn, state);
      // Deltas published after this description.
      await this.#applyHeld(org);
      return true;
    }
    return false;
  }

  /** Re-bases the log on a description's state, follows the role, commits, resubscribes. */
  async #rebase(org: MemberOrg, txn: Txn, state: OrgState): Promise<void> {
    const c = this.#c;
    const rebased = org.log.rebase(state);
    c.eventLog.noteExplained(org, txn, rebased.explained);
    const first = !org.discovered;
    org.discovered = true;
    this.followRole(org, txn);
    await c.delegates.follow(org, txn);
    if (first) {
      txn.emits.push([
        "org:discovered",
        { organizationId: org.hex, name: org.log.state.identity.displayName },
      ]);
    }
    await c.persistence.commit(org, txn);
    const added = await c.sync.syncSubscriptions(org);
    // A channel learnt from this description (created, or opened to this member): what was posted
    // in it before the subscription is in history only. Read it now, not at the next sweep.
    if (!first && added.length > 0) await c.sync.backfill(org, added);
  }

  /**
   * Follows what the state says about this identity (joined, removed, banned): after a description,
   * and after a delegate's decision that removed this member (`delegate-events.ts`).
   *
   * @param org - an organization this client does not own
   * @param txn - the unit of work that moved the state (its `before` is the state it started from)
   */
  followRole(org: MemberOrg, txn: Txn): void {
    const state = org.log.state;
    const me = this.#c.memberId;
    if (state.members.has(me)) {
      const request = org.member.request;
      if (org.role === "requester") {
        org.role = "member";
        if (request?.status === "pending") {
          txn.emits.push([
            "request:accepted",
            { organizationId: org.hex, requestId: request.id, requester: me },
          ]);
        }
        if (request !== undefined) request.status = "accepted";
      }
      // An observer listed is one that left and whose leave the owner has not resolved yet (it
      // joins again through a request, which makes it a requester first; its groups are marked
      // removed), or one a description had dropped: the owner's, made before it read the delegate
      // event that accepted this identity (whose clock it covers). Listed again, with its request
      // accepted and its group not left, it is a member again.
      const group = org.member.groups.get("");
      if (
        org.role === "observer" &&
        request?.status === "accepted" &&
        group !== undefined &&
        group.status === "member"
      ) {
        org.role = "member";
      }
      return;
    }
    if (org.role === "member" && !txn.before.members.has(me)) return;
    if (org.role === "member") {
      org.role = "observer";
      for (const [channelId, group] of org.member.groups) {
        group.markRemoved(this.#c.p.now());
        txn.groups.add(channelId);
      }
    }
  }
}
