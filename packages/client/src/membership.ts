import { toHex } from "@orgchat/base";
import { type PairwiseSession, signMemberKeys } from "@orgchat/crypto";
import type { OrgEventOf } from "@orgchat/state";
import {
  cancelRequestToJoinToWire,
  joinResponseFromWire,
  requestToJoinToWire,
  requestToLeaveToWire,
} from "@orgchat/state/wire";
import {
  channelTopic,
  encodePairwiseContent,
  keysTopic,
  type PayloadOf,
  publicKeyFromMemberId,
} from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { decisionEventOf, requestEventOf } from "./delegate-events.js";
import { delegateInviter, invitationUsedByAnswer } from "./delegate-invitations.js";
import {
  AbortError,
  EventRejectedError,
  ForgetRefusedError,
  LeaveNotResolvedError,
  NotMemberError,
  OrganizationNotFoundError,
  OwnerRestoredError,
  OwnerUnreachableError,
  UnknownTargetError,
} from "./errors.js";
import { Invitations } from "./invitations.js";
import { type MemberOrg, newMemberOrg, newTxn, type Org, type Txn } from "./org.js";
import { initiateOwnerSession, type PairwiseContentInit, requestIdOf } from "./pairwise.js";
import { checkSignal } from "./runtime.js";
import { ownRequestsClock, stampAfter } from "./stamp.js";
import {
  type JoinRequestInit,
  type OperationOptions,
  type OrganizationView,
  rejectionCode,
} from "./types.js";

/**
 * Pages of history (100 messages each, `Sync.readNewestFirst`) a newcomer reads per channel when it
 * discovers an organization: the recent posts, not the channel's whole history.
 */
export const recentChannelPages = 1;

/** The longest wait between two copies of a pending request ({@link Membership.askAgain}): 6 h. */
export const maxReaskDelayMs = 6 * 3_600_000;

/**
 * Membership: this identity's way in and out of organizations it does not own — discover, request
 * to join (X3DH to the owner's bundle), accept an invitation, cancel, leave, rejoin after leave —
 * and the owner's answer to its request. Owns: `MemberSide.request`, `.ownerSession` (created
 * here), the role of a member organization, and (through `invitations`) the pending invitations.
 */
export class Membership {
  readonly #c: ClientCore;
  /** The re-ask back-off of each organization's pending request ({@link Membership.askAgain}). */
  readonly #reask = new WeakMap<
    MemberOrg,
    { readonly requestId: string; readonly delay: number; readonly nextAt: number }
  >();
  /** Invitations received and not answered yet: offers, adopted only by `acceptInvitation`. */
  readonly invitations: Invitations;

  constructor(core: ClientCore) {
    this.#c = core;
    this.invitations = new Invitations(core);
  }

  /** Starts tracking an organization this identity does not own. */
  async adopt(id: Uint8Array, role: MemberOrg["role"]): Promise<MemberOrg> {
    const c = this.#c;
    // Its records are in the store (inactive): adopting it would write over them.
    if (c.inactive.has(toHex(id))) throw new OwnerRestoredError(toHex(id));
    const org = newMemberOrg(c.p.provider, id, role, c.persistence.newKeys(), {
      maxPendingRequests: c.p.config.maxPendingRequests,
    });
    c.orgs.set(org.hex, org);
    await c.persistence.create(org);
    await c.sync.syncSubscriptions(org);
    return org;
  }

  async discover(organizationId: string, options?: OperationOptions): Promise<OrganizationView> {
    const c = this.#c;
    const hex = organizationId.toLowerCase();
    return c.runtime.task(async () => {
      checkSignal(options?.signal);
      let org = c.orgs.get(hex);
      if (org === undefined) org = await this.adopt(publicKeyFromMemberId(hex), "observer");
      if (org.role === "owner" || org.discovered) return c.views.organization(org);
      if (!(await c.descriptionSync.readNewest(org))) throw new OrganizationNotFoundError(hex);
      await this.#readRecent(org);
      return c.views.organization(org);
    });
  }

  /**
   * A newcomer's catch-up after the description (`discover`): the keys topics newest first
   * (`KeySync.catchUp`), then each channel newest first, one page (`recentChannelPages`), not its
   * whole history. Every topic read far enough gets its sweep mark set to when this started, so
   * that the first sweep reads from there (less its overlap) instead of from the start of history;
   * the marks are stored at once.
   */
  async #readRecent(org: MemberOrg): Promise<void> {
    const c = this.#c;
    const startedAt = c.now();
    const state = org.log.state;
    const channels: string[] = [];
    for (const channelId of state.channels.keys()) channels.push(channelTopic(org.id, channelId));
    const subscribed = (topic: string) => org.subscriptions.has(topic);
    const caughtUp = await c.keySync.catchUp(org);
    for (const [groupId, done] of caughtUp) {
      const topic = groupId === "" ? keysTopic(org.id) : keysTopic(org.id, groupId);
      if (done && subscribed(topic)) org.marks.set(topic, startedAt);
    }
    for (const topic of channels.filter(subscribed)) {
      let pages = 0;
      const read = await c.sync.readNewestFirst(org, topic, () => ++pages >= recentChannelPages);
      // Read (to its start, or as far as wanted): older posts are history the newcomer skips.
      if (read.ended || read.oldest !== undefined) org.marks.set(topic, startedAt);
    }
    await c.sync.retryPending(org);
    await c.p.store.batch(c.persistence.metaOps(org));
  }

  async requestToJoin(organizationId: string, init: JoinRequestInit = {}): Promise<string> {
    await this.#awaitOwnLeave(organizationId, init.signal);
    return this.#c.runtime.task(() => this.#join(organizationId, init));
  }

  /**
   * Accepts a pending invitation (or, for an organization already known, an unused invitation in
   * its state): only now is the organization adopted (stored, listened to, its description read),
   * the invitation added to its log, and the request sent; the pending invitation is forgotten once
   * the request is sent (it stays pending if any step fails, so that the user can try again).
   */
  async acceptInvitation(organizationId: string, init: JoinRequestInit = {}): Promise<string> {
    const c = this.#c;
    await this.#awaitOwnLeave(organizationId, init.signal);
    return c.runtime.task(async () => {
      checkSignal(init.signal);
      const hex = organizationId.toLowerCase();
      const pending = this.invitations.get(hex);
      let org = c.orgs.get(hex);
      if (org === undefined) {
        if (pending === undefined) throw new UnknownTargetError("invitation", hex);
        org = await this.adopt(publicKeyFromMemberId(hex), "observer");
      }
      if (pending !== undefined && org.role !== "owner") {
        const txn = newTxn(org);
        c.eventLog.add(org, txn, pending);
        await c.persistence.commit(org, txn);
      }
      if (!org.discovered && (org.role === "owner" || !(await c.descriptionSync.readNewest(org)))) {
        throw new OrganizationNotFoundError(org.hex);
      }
      const invitation = [...org.log.state.invitations.values()].find(
        (i) => i.invitee === c.memberId && !i.used,
      );
      if (invitation === undefined) throw new UnknownTargetError("invitation", org.hex);
      const requestId = await this.#join(hex, init, invitation.chatId);
      await this.invitations.forget(hex);
      return requestId;
    });
  }

  async declineInvitation(organizationId: string, options?: OperationOptions): Promise<string> {
    const c = this.#c;
    return c.runtime.task(async () => {
      checkSignal(options?.signal);
      return this.invitations.decline(organizationId);
    });
  }

  /**
   * Whether this identity left (or was removed) while its view still lists it as a member: the
   * owner's resolution has not reached it yet, and a request now would be clocked before it.
   */
  #leaveUnresolved(org: Org): boolean {
    return (
      org.role !== "owner" && org.role !== "member" && org.log.state.members.has(this.#c.memberId)
    );
  }

  /**
   * Rejoin after leave (docs/CLIENT.md, "Rejoin after leave"): when this identity's view still
   * lists it although it left, backfills the organization's topics and, if the owner's resolution
   * is still missing, waits for it (outside the queue, so that what arrives is processed) for at
   * most `leaveResolutionTimeoutMs`.
   * @throws {LeaveNotResolvedError} when the resolution did not arrive in time
   * @throws {AbortError} when `signal` aborts first
   */
  async #awaitOwnLeave(organizationId: string, signal: AbortSignal | undefined): Promise<void> {
    const c = this.#c;
    const org = await c.runtime.task(async () => {
      checkSignal(signal);
      const known = c.orgs.get(organizationId.toLowerCase());
      if (known === undefined || !this.#leaveUnresolved(known)) return undefined;
      await c.sync.backfillInbox();
      await c.sync.backfill(known, [...known.subscriptions.keys()]);
      return this.#leaveUnresolved(known) ? known : undefined;
    });
    if (org === undefined) return;
    await new Promise<void>((resolve, reject) => {
      const finish = (error?: Error) => {
        c.runtime.waiters.delete(finish);
        off();
        c.p.timers.clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const off = c.emitter.on("org:updated", (event) => {
        if (event.organizationId === org.hex && !this.#leaveUnresolved(org)) finish();
      });
      const onAbort = () => finish(new AbortError({ cause: signal?.reason }));
      const timer = c.p.timers.setTimeout(
        () => finish(new LeaveNotResolvedError(org.hex)),
        c.p.config.leaveResolutionTimeoutMs,
      );
      c.runtime.waiters.add(finish);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (signal?.aborted) onAbort();
    });
  }

  async #join(organizationId: string, init: JoinRequestInit, chatId = ""): Promise<string> {
    const c = this.#c;
    checkSignal(init.signal);
    const org = c.org(organizationId);
    if (org.role === "owner" || org.role === "member") {
      throw new EventRejectedError("requestToJoin", "conflict");
    }
    // The resolution went missing again between the wait and this turn of the queue (a rebase on
    // an older description cannot happen, but a request clocked before it would be refused).
    if (this.#leaveUnresolved(org)) throw new LeaveNotResolvedError(org.hex);
    const bundle = org.member.bundle;
    if (bundle === undefined) throw new OwnerUnreachableError(org.hex);
    let session: PairwiseSession;
    try {
      session = initiateOwnerSession(c, org, bundle);
    } catch (cause) {
      throw new OwnerUnreachableError(org.hex, { cause });
    }
    checkSignal(init.signal);
    org.member.ownerSession = session;
    const txn = newTxn(org);
    // Our keys first: the owner needs them to add us to the group when it accepts. Signed for
    // the organization's group, so that a delegate may write them into a roster and every member
    // check that we chose them (docs/DELEGATION.md, "Wire additions").
    const keys = this.#keys(org);
    // A delegate's invitation is redeemed by that delegate alone (docs/DELEGATION.md).
    const toOwner = delegateInviter(org, c.memberId) === undefined;
    if (toOwner) await c.pairwise.toOwner(org, txn, keys);
    const fresh = c.eventLog.event(
      org,
      "request.sent",
      { chatId, ensName: init.ensName ?? "", displayName: init.displayName ?? "" },
      c.memberId,
    );
    // After this identity's earlier requests and cancels: a stranger's own events do not raise
    // its clock, and a re-request must not sort before (or tie with) the request it follows.
    const previous = ownRequestsClock(org.log.state, c.memberId);
    const draft = previous === undefined ? fresh : stampAfter(org.log, fresh, previous);
    // The same bytes to the owner and to each delegate (docs/DELEGATION.md): the request's id is
    // made of them, so that every recipient names it alike (`requestIdOf`).
    const content = encodePairwiseContent({
      content: { case: "requestToJoin", value: requestToJoinToWire(draft, org.hex) },
    });
    if (toOwner) await c.pairwise.toOwner(org, txn, content, draft.clock);
    await c.delegates.fanOut(org, txn, keys, content, draft.clock);
    const requestId = requestIdOf(c.p.identity.publicKey, content);
    const event = { ...draft, id: requestId };
    // The envelope's clock is the one `toOwner` stamped: keep the event's equal to it.
    c.eventLog.add(org, txn, event);
    org.member.request = { id: requestId, status: "pending" };
    org.role = "requester";
    await c.persistence.commit(org, txn);
    await c.sync.syncSubscriptions(org);
    return requestId;
  }

  /** This requester's signed keys for the organization's group (the same bytes every time). */
  #keys(org: MemberOrg): PairwiseContentInit {
    const c = this.#c;
    return {
      case: "memberKeys",
      value: signMemberKeys(c.p.provider, {
        group: { organizationId: org.id, channelId: "" },
        identitySecretKey: c.p.identity.secretKey,
        signingKey: org.keys.signingKey,
        prekey: org.keys.prekey,
        prekeyVersion: 0n,
      }),
    };
  }

  /**
   * A request with no answer yet, or accepted while no Welcome came, asks again (docs/DELEGATION.md,
   * "Requests reach the delegates"):
   * the same keys and request bytes (the same request id) to the owner and to every delegate it
   * went to, over the sessions made then. A desk that decided it already answers again (and adds
   * the requester if its add step is missing: `OwnerRequests`); the others drop it as a duplicate.
   * On a back-off: the first time `republishIntervalMs` after the request (the periodic tick),
   * then twice as long each time, at most {@link maxReaskDelayMs} (memory only: a restart asks at
   * its first tick). A pending request the state shows decided (its delegate event came before the
   * answer, which was then refused as a duplicate) is followed from the state at the next tick
   * instead: accepted (and listed), the identity is a member; rejected, an observer.
   */
  async askAgain(org: MemberOrg): Promise<void> {
    const c = this.#c;
    const own = org.member.request;
    // Decided in the state already (the decision came as a delegate event before its answer, which
    // was then a duplicate): followed from there, nothing asked.
    const decided = own?.status === "pending" ? decisionEventOf(org.log.state, own.id) : undefined;
    if (decided !== undefined && org.role === "requester") {
      const accepted = decided.type === "request.accepted";
      if (accepted && !org.log.state.members.has(c.memberId)) return;
      const txn = newTxn(org);
      this.#follow(org, txn, decided);
      await c.persistence.commit(org, txn);
      return;
    }
    // No answer yet, or accepted without keys (the desk lacked ours: its add step is missing).
    const waiting =
      (own?.status === "pending" && org.role === "requester") ||
      (own?.status === "accepted" && org.role === "member" && !org.member.groups.has(""));
    if (own === undefined || !waiting) return;
    const now = c.now();
    const backoff = this.#reask.get(org);
    if (backoff?.requestId !== own.id) {
      // Armed at the first tick after the request.
      const delay = c.p.config.republishIntervalMs;
      this.#reask.set(org, { requestId: own.id, delay, nextAt: now + delay });
      return;
    }
    if (now < backoff.nextAt) return;
    const delay = Math.min(backoff.delay * 2, maxReaskDelayMs);
    this.#reask.set(org, { requestId: own.id, delay, nextAt: now + delay });
    // From the state (one lookup): the log may have folded the event into a snapshot since. An
    // invitee's request, refused by its own state (invitation-only), is held buffered (bounded).
    const event =
      requestEventOf(org.log.state, own.id) ??
      org.log.buffered().find((e) => e.id === own.id && e.type === "request.sent");
    if (event === undefined || event.type !== "request.sent") return;
    const content = encodePairwiseContent({
      content: { case: "requestToJoin", value: requestToJoinToWire(event, org.hex) },
    });
    // Not the same bytes (it cannot be, but a different id would be a new request): nothing.
    if (requestIdOf(c.p.identity.publicKey, content) !== own.id) return;
    const txn = newTxn(org);
    const keys = this.#keys(org);
    if (delegateInviter(org, c.memberId) === undefined) {
      await c.pairwise.toOwner(org, txn, keys);
      await c.pairwise.toOwner(org, txn, content, event.clock);
    }
    for (const delegate of org.member.delegateSessions.keys()) {
      await c.pairwise.toDelegate(org, txn, delegate, keys, org.log.nextClock());
      await c.pairwise.toDelegate(org, txn, delegate, content, event.clock);
    }
    await c.persistence.commit(org, txn);
  }

  /**
   * The response to this identity's request (from the pairwise channel): the owner's, or a
   * delegate's (`author`, docs/DELEGATION.md) — the state decides whether that author may decide it.
   */
  onResponse(
    org: MemberOrg,
    txn: Txn,
    response: PayloadOf<"organization-request-to-join-response">,
    clock: bigint,
    id: string,
    author: string = org.hex,
  ): void {
    const c = this.#c;
    const mapped = joinResponseFromWire(
      response,
      { id, author, clock, sentAt: c.now() },
      org.log.state,
      c.memberId,
    );
    if (!mapped.ok) return;
    const event = mapped.value;
    const request = org.member.request;
    if (request === undefined || request.id !== event.body.requestId) return;
    // A delegate that invited this identity accepts by the use of its invitation (docs/DELEGATION.md).
    const used =
      event.type === "request.accepted" && author !== org.hex
        ? invitationUsedByAnswer(c, org, author)
        : undefined;
    const refused = c.eventLog.add(org, txn, used ?? event);
    // The owner and delegates may all answer: the first decision in the canonical order is the
    // state's; a later one (refused as a conflict) changes nothing. One folded already (its
    // delegate event came first: a duplicate) is followed from the state (`askAgain`).
    if (refused !== undefined && author !== org.hex) return;
    if (request.status !== "pending" && author !== org.hex) return;
    // A delegate's acceptance stamped at or below the description in force (the delegate had not
    // read it yet) is covered by it: the state does not list this identity until the owner reads
    // the acceptance and describes it. It stays a requester till then (`followRole`; `askAgain`).
    const listed = org.log.state.members.has(c.memberId);
    if (event.type === "request.accepted" && author !== org.hex && !listed) return;
    this.#follow(org, txn, event);
  }

  /**
   * This identity's request decided (`decision`: an answer received, or the state's): its status,
   * its role (member or observer), and the `request:*` event.
   */
  #follow(
    org: MemberOrg,
    txn: Txn,
    event: OrgEventOf<"request.accepted"> | OrgEventOf<"request.rejected">,
  ): void {
    const c = this.#c;
    const request = org.member.request;
    if (request === undefined) return;
    const base = { organizationId: org.hex, requestId: request.id, requester: c.memberId };
    if (event.type === "request.accepted") {
      // Already followed from the state (a description listed it: `followRole`).
      const followed = request.status === "accepted" && org.role === "member";
      request.status = "accepted";
      if (org.role !== "member") org.role = "member";
      if (!followed) txn.emits.push(["request:accepted", base]);
    } else {
      request.status = "rejected";
      request.reason = event.body.reason;
      org.role = "observer";
      txn.emits.push([
        "request:rejected",
        { ...base, reason: event.body.reason, code: rejectionCode(event.body.reason) },
      ]);
    }
  }

  async cancelRequest(organizationId: string, options?: OperationOptions): Promise<void> {
    const c = this.#c;
    await c.runtime.task(async () => {
      checkSignal(options?.signal);
      const org = c.org(organizationId);
      const own = org.role === "owner" ? undefined : org.member.request;
      if (org.role === "owner" || own === undefined || own.status !== "pending") {
        throw new UnknownTargetError("pending request", org.hex);
      }
      const request = org.log.state.requests.get(own.id);
      const txn = newTxn(org);
      const draft = c.eventLog.event(org, "request.cancelled", { requestId: own.id }, c.memberId);
      // After the request it cancels (its own request does not raise this client's clock).
      const event = request === undefined ? draft : stampAfter(org.log, draft, request.clock);
      // Without the request in the state (it did not reach this client): the fields the cancel knows.
      const value =
        request === undefined
          ? {
              clock: event.clock,
              organizationId: org.id,
              sentAt: BigInt(event.sentAt),
              requestId: own.id,
            }
          : cancelRequestToJoinToWire(event, request, org.hex);
      const cancel = encodePairwiseContent({ content: { case: "cancelRequestToJoin", value } });
      await c.pairwise.toOwner(org, txn, cancel, event.clock);
      // The delegates it went to hold it too (docs/DELEGATION.md).
      for (const delegate of org.member.delegateSessions.keys()) {
        await c.pairwise.toDelegate(org, txn, delegate, cancel, event.clock);
      }
      c.eventLog.add(org, txn, event);
      own.status = "cancelled";
      org.role = "observer";
      txn.emits.push([
        "request:cancelled",
        { organizationId: org.hex, requestId: own.id, requester: c.memberId },
      ]);
      await c.persistence.commit(org, txn);
    });
  }

  async leave(organizationId: string, options?: OperationOptions): Promise<void> {
    const c = this.#c;
    await c.runtime.task(async () => {
      checkSignal(options?.signal);
      const org = c.org(organizationId);
      if (org.role === "owner") throw new EventRejectedError("leave", "unauthorized");
      if (org.role !== "member") throw new NotMemberError(org.hex);
      const txn = newTxn(org);
      const event = c.eventLog.event(org, "leave.requested", {}, c.memberId);
      await c.pairwise.toOwner(org, txn, {
        case: "requestToLeave",
        value: requestToLeaveToWire(event, org.hex),
      });
      org.role = "observer";
      for (const [channelId, group] of org.member.groups) {
        group.markRemoved(c.p.now());
        txn.groups.add(channelId);
      }
      txn.emits.push(["member:left", { organizationId: org.hex, member: c.memberId }]);
      await c.persistence.commit(org, txn);
    });
  }

  /** `forgetOrganization`: an observer's organization, dropped from memory and the store. */
  async forget(organizationId: string, options?: OperationOptions): Promise<void> {
    const c = this.#c;
    await c.runtime.task(async () => {
      checkSignal(options?.signal);
      const org = c.org(organizationId);
      if (org.role === "owner" || org.role === "member") {
        throw new ForgetRefusedError(org.hex, org.role);
      }
      if (org.member.request?.status === "pending") {
        throw new ForgetRefusedError(org.hex, "requester");
      }
      // Nothing of it is heard or processed from here on; then its records go, in one batch.
      c.orgs.delete(org.hex);
      await c.sync.forget(org);
      await c.persistence.forget(org);
    });
  }

  async resync(organizationId: string, options?: OperationOptions): Promise<void> {
    const c = this.#c;
    await c.runtime.task(async () => {
      checkSignal(options?.signal);
      const org = c.org(organizationId);
      if (org.role !== "member") throw new NotMemberError(org.hex);
      await c.recovery.recover(org, "");
      if (org.member.resyncBackoff.size === 0) await c.recovery.requestResync(org, "");
    });
  }
}
