import { equalBytes, toHex } from "@orgchat/base";
import { PairwiseSession } from "@orgchat/crypto";
import {
  changedRequesters,
  clockLimits,
  defaultRequestAdmissionLimits,
  diffMap,
  hasPendingRequests,
  type JoinRequest,
  judgeRequestTime,
  type OrgEvent,
  type OrgEventOf,
  pendingRequestOf,
  pendingRequests,
  RequestAdmission,
  type RequestAdmissionLimits,
  requestRejectionReasons,
  requestStatus,
} from "@orgchat/state";
import {
  cancelRequestToJoinFromWire,
  joinResponseToWire,
  requestToJoinFromWire,
  requestToLeaveFromWire,
} from "@orgchat/state/wire";
import type { TransportMessage } from "@orgchat/transport";
import { type OpenedEnvelope, openEnvelope, type PayloadOf, requestsTopic } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { answerRedeemedInvitation } from "./delegate-invitations.js";
import { departedRecordsStep } from "./departed-records.js";
import { type DeskKeys, type DeskOrg, deskKeys, newTxn, type OwnerOrg, type Txn } from "./org.js";
import { InvitationIndex, predatesDeparture } from "./owner-controller.js";
import { receiveHandover } from "./owner-follow.js";
import {
  forgetOwnerKeys,
  ownerSession,
  refuseReplayedEphemeralKey,
  rotatePrekeyWhenFull,
  setOwnerMemberKeys,
  signedMemberKeys,
  strangersLog,
  usableMemberKeys,
} from "./owner-keys.js";
import { requestIdOf } from "./pairwise.js";
import { eventsLog, orgSpace } from "./persistence.js";
import { answerAgain } from "./resync-answers.js";
import { answerResyncRequest, restoreRefreshIntervalMs } from "./resync-request.js";
import { stampAfter } from "./stamp.js";
import { type Stranger, StrangerBook } from "./stranger-book.js";

const component = "client/owner-requests";

/** A decision on a request to join. */
export type JoinDecision = OrgEventOf<"request.accepted"> | OrgEventOf<"request.rejected">;

/**
 * Handshakes dropped (beyond `maxHandshakes` or past `handshakeTtlMs`) whose request may still
 * come: at most this many remembered (ephemeral key → requester), oldest forgotten first. A request
 * under one of them is answered "full, try later" rather than left unanswered (never silence).
 */
export const maxDroppedHandshakes = 1024;

/** See resync-request.ts (re-exported). */
/** The log of the strangers the owner stores a session or keys for (owner-keys.ts; re-exported). */
export { restoreRefreshIntervalMs, strangersLog };

/** Marks an organization whose `strangersLog` is complete (stores before it are scanned once). */
const strangersLogKey = "strangers-log";

/**
 * Owner side, requests: everything members and newcomers send the owner on the requests topic
 * (pairwise: requests to join, cancels, leaves, member keys, resync requests), and the join
 * response. Owns: `OwnerSide.sessions`, `.byEphemeral`, `.memberKeys`, `.resyncAnswered`.
 *
 * What a stranger's request costs (docs/SECURITY.md, "Requests to join"): one X3DH, then a session
 * and its keys only while it is a handshake (at most `maxHandshakes`, for `handshakeTtlMs`) or its
 * request is pending (at most `maxPendingRequests`); a request dated more than `maxRequestSkewMs`
 * ahead is refused, the others are judged from `min(sentAt, received)`; a full queue pushes its
 * oldest request out for a newcomer, at a global rate (`RequestAdmission`), else refuses it. Every
 * request refused or pushed out is answered (never silence), and its session, keys and stored
 * events are dropped.
 */
export class OwnerRequests {
  readonly #c: ClientCore;
  readonly #books = new WeakMap<DeskKeys, StrangerBook>();

  constructor(core: ClientCore) {
    this.#c = core;
  }

  /** The admission limits: `config.requestAdmission` over `defaultRequestAdmissionLimits`. */
  #limits(): RequestAdmissionLimits {
    return { ...defaultRequestAdmissionLimits, ...this.#c.p.config.requestAdmission };
  }

  /** A pairwise message from a member or a newcomer on the requests topic. */
  async onRequestsTopic(org: OwnerOrg, message: TransportMessage, id: string): Promise<void> {
    const c = this.#c;
    const topic = message.contentTopic;
    let opened: OpenedEnvelope;
    try {
      opened = await openEnvelope(message.payload, {
        contentTopic: requestsTopic(org.id),
        organizationId: org.id,
        accept: ["pairwise"],
        verify: c.verify,
      });
    } catch (error) {
      c.sync.seen.add(id);
      c.report({ component, reason: "unopenable", topic, error });
      return;
    }
    if (opened.type !== "pairwise") return;
    await this.onOpened(org, opened, id, topic);
  }

  /**
   * A pairwise message opened (signature, organization, topic checked) that a requester, a member
   * or a stranger sent this desk: the owner's on the requests topic, or a delegate's in its inbox
   * (docs/DELEGATION.md, "Requests reach the delegates"). The same admission, bounds and answers
   * for both; what only the owner can do (re-key on leave, keys into groups, resync answers) is the
   * owner's alone.
   */
  async onOpened(org: DeskOrg, opened: OpenedEnvelope, id: string, topic: string): Promise<void> {
    const c = this.#c;
    if (opened.type !== "pairwise") return;
    const owner = deskKeys(org);
    const member = toHex(opened.signer);
    const txn = newTxn(org);
    let plaintext: Uint8Array;
    /** The session of a handshake this owner dropped, derived again to answer its request. */
    let dropped = false;
    try {
      const header = opened.message.x3dh;
      // The envelope's signer is the member: its session, read from the store when not in memory,
      // is the one an X3DH-carrying message continues when it has the message's ephemeral key.
      const existing = await ownerSession(c.p, org, member);
      if (
        existing !== undefined &&
        (header === undefined || equalBytes(existing.initialEphemeralKey, header.ephemeralKey))
      ) {
        plaintext = existing.decrypt(opened.payload);
      } else if (header !== undefined) {
        if (!equalBytes(header.initiatorIdentityKey, opened.signer)) throw new Error("identity");
        const book = this.#book(org);
        const ephemeralKey = toHex(header.ephemeralKey);
        dropped = existing === undefined && book.dropped.get(ephemeralKey) === member;
        // A dropped handshake's key was accepted (its log refuses it): its session is derived
        // again, only to answer; anything else is checked against the log first.
        if (dropped) {
          book.dropped.delete(ephemeralKey);
          // Accepted before: not refused as a replay this once (responding accepts it again).
          owner.prekeys.markEphemeralKeysStored([header]);
        } else {
          await refuseReplayedEphemeralKey(c.p, org, header);
        }
        let response: ReturnType<typeof PairwiseSession.respond>;
        try {
          response = PairwiseSession.respond(c.p.provider, owner.prekeys, opened.payload);
        } catch (error) {
          if (dropped) owner.prekeys.acceptEphemeralKey(header);
          throw error;
        }
        plaintext = response.plaintext;
        owner.sessions.delete(member);
        owner.sessions.set(member, response.session);
        txn.prekeys = true;
        if (!dropped && !org.log.state.members.has(member)) {
          this.#handshake(org, txn, member, ephemeralKey);
        }
        // Rotated: the owner's bundle goes out with the description; a delegate's on its own.
        const rotated = await rotatePrekeyWhenFull(c.p, org, txn, c.now());
        if (rotated && org.role !== "owner") await c.delegates.follow(org, txn, true);
      } else {
        throw new Error("no session");
      }
    } catch (error) {
      c.sync.seen.add(id);
      c.report({ component, reason: "undecryptable", topic, error });
      return;
    }
    const value = await c.pairwise.accept(org, txn, member, id, plaintext, { component, topic });
    if (value === undefined) return;
    // A request is named by its content (the same at the owner and every delegate it went to).
    const eventId = value.case === "requestToJoin" ? requestIdOf(opened.signer, plaintext) : id;
    const context = { id: eventId, author: member, clock: opened.clock, sentAt: c.now() };
    if (dropped) {
      // Its keys went with the handshake: the request could not be admitted. Told to ask again.
      c.report({ component, reason: "handshake-dropped-answered", topic });
      if (value.case === "requestToJoin") {
        await this.#refuse(org, txn, member, context, requestRejectionReasons.queueFull);
      }
      this.#forget(org, txn, member);
      await c.persistence.commit(org, txn);
      return;
    }
    switch (value.case) {
      case "requestToJoin":
        await this.#onJoinRequest(org, txn, value.value, context, topic);
        break;
      case "cancelRequestToJoin": {
        const mapped = cancelRequestToJoinFromWire(value.value, context, org.log.state);
        if (mapped.ok && c.eventLog.add(org, txn, mapped.value) === undefined) {
          txn.emits.push([
            "request:cancelled",
            { organizationId: org.hex, requestId: mapped.value.body.requestId, requester: member },
          ]);
          this.#forget(org, txn, member, [mapped.value.id, mapped.value.body.requestId]);
        }
        break;
      }
      case "requestToLeave": {
        if (org.role !== "owner") break;
        const mapped = requestToLeaveFromWire(value.value, context);
        if (mapped.ok && c.eventLog.add(org, txn, mapped.value) === undefined) {
          // The owner lets anyone go: resolve at once, then re-key without the member.
          c.eventLog.add(
            org,
            txn,
            c.eventLog.event(
              org,
              "leave.resolved",
              { requestId: mapped.value.id, accepted: true },
              org.hex,
            ),
          );
          txn.description = true;
          await c.epochs.reconcile(org, txn, [member]);
        }
        break;
      }
      case "memberKeys": {
        const keys = value.value;
        if (!equalBytes(keys.identityKey, opened.signer)) break;
        if (!usableMemberKeys(c.p.provider, keys)) {
          // Refused here, not in the next add step: there it would fail the whole batch.
          c.report({ component, reason: "member-keys-unusable", topic });
        } else if (!signedMemberKeys(c.p.provider, org.id, keys)) {
          // A signature that does not hold for these keys (absent is an older peer's: kept).
          c.report({ component, reason: "member-keys-forged", topic });
        } else {
          // A delegate keeps the signature to write the keys into a roster; the owner needs none
          // (its own rosters are trusted by its key) and keeps its 65-byte record.
          const signed =
            keys.keysSignature.length === 0 || org.role === "owner"
              ? {}
              : {
                  signed: { prekeyVersion: keys.prekeyVersion, keysSignature: keys.keysSignature },
                };
          txn.ops.push(setOwnerMemberKeys(org, member, { ...keys, ...signed }));
          if (org.role === "owner") await c.epochs.reconcile(org, txn, [member]);
        }
        break;
      }
      case "leafHandover":
        // A delegate's add step: the leaf secret it gave the joiner (docs/DELEGATION.md).
        if (org.role === "owner") await receiveHandover(c, org, txn, member, value.value);
        break;
      case "resyncRequest":
        if (org.role !== "owner") break;
        await answerResyncRequest(c, org, txn, member, value.value);
        break;
      default:
        break;
    }
    // What this message changed (a request pushed out, one that ended, a new handshake) frees or
    // answers at once.
    await this.#sweep(org, txn, topic, member);
    await c.persistence.commit(org, txn);
  }

  async #onJoinRequest(
    org: DeskOrg,
    txn: Txn,
    request: PayloadOf<"organization-request-to-join">,
    context: { id: string; author: string; clock: bigint; sentAt: number },
    topic: string,
  ): Promise<void> {
    const c = this.#c;
    const member = context.author;
    const mapped = requestToJoinFromWire(request, context);
    if (!mapped.ok) {
      c.report({ component, reason: "malformed-request", topic });
      this.#forget(org, txn, member);
      return;
    }
    const now = c.now();
    const limits = this.#limits();
    // The signed time is the requester's word: far ahead, it would hold a slot until a far-away
    // expiry; otherwise no later than its arrival, so it expires at most `requestExpiryMs` after it.
    const time = judgeRequestTime(mapped.value.sentAt, now, limits.maxRequestSkewMs);
    if (!time.ok) {
      c.report({ component, reason: "request-clock-ahead", topic });
      await this.#refuse(org, txn, member, context, requestRejectionReasons.clockAhead);
      return;
    }
    const invitation = this.#book(org).invitations.find({
      state: org.log.state,
      requester: member,
      chatId: mapped.value.body.chatId,
      now,
      invitationExpiryMs: org.log.config.invitationExpiryMs,
    });
    if (
      invitation === undefined &&
      !org.log.state.members.has(member) &&
      org.log.state.permissions.access === "on-request" &&
      hasPendingRequests(org.log.state, org.log.config.maxPendingRequests, now, org.log.config) &&
      !this.#book(org).admission.take(now)
    ) {
      // A full queue, and pushing its oldest out is over the global rate (whatever the key: fresh
      // keys are free): nothing is kept, the newcomer is told to come back.
      c.report({ component, reason: "request-admission-rate", topic });
      await this.#refuse(org, txn, member, context, requestRejectionReasons.queueFull);
      return;
    }
    const event: OrgEvent =
      invitation === undefined
        ? { ...mapped.value, sentAt: time.sentAt }
        : {
            id: context.id,
            type: "invitation.used",
            author: member,
            clock: mapped.value.clock,
            sentAt: time.sentAt,
            body: {
              invitationId: invitation.id,
              displayName: mapped.value.body.displayName,
            },
          };
    const refused = c.eventLog.add(org, txn, event);
    if (refused === "conflict" && predatesDeparture(org.log.state, member)) {
      // Ordered before the leave (or removal) that the state has applied since: the requester was
      // a member in its place. It is refused there for good; say so, so that it asks again
      // (docs/CLIENT.md, "Rejoin after leave").
      await this.#decide(org, txn, member, context, "retry: request predates your leave");
      return;
    }
    if (refused === "duplicate") {
      // Asked again (its answer was lost): the desk that decided answers again.
      await answerAgain(c, org, txn, { member, requestId: context.id, topic });
      return;
    }
    if (refused !== undefined) {
      c.report({ component, reason: `request-refused-${refused}`, topic });
      await this.#refuse(org, txn, member, context, `refused: ${refused}`);
      return;
    }
    if (org.log.state.members.has(member)) {
      // Open organization, or an invitation: a member at once.
      this.#settle(org, txn, member);
      // A delegate answers (and adds) only the invitations it issued (docs/DELEGATION.md).
      if (org.role !== "owner") {
        await answerRedeemedInvitation(c, org, txn, member, event);
        return;
      }
      await this.#decide(org, txn, member, context, undefined);
      await c.epochs.admitted(org, txn, [member]);
      txn.emits.push([
        "request:accepted",
        { organizationId: org.hex, requestId: context.id, requester: member },
      ]);
      return;
    }
    const sentAt = org.log.state.requests.get(context.id)?.sentAt ?? time.sentAt;
    this.#book(org).put(member, {
      requestId: context.id,
      since: now,
      expiresAt: sentAt + org.log.config.requestExpiryMs,
    });
    txn.emits.push([
      "request:received",
      {
        organizationId: org.hex,
        requestId: context.id,
        requester: member,
        displayName: mapped.value.body.displayName,
      },
    ]);
  }

  /**
   * A decision the state made by itself (not an owner operation): sent, not logged. It is clocked
   * after the request it answers, so that it applies in the requester's log (strangers do not move
   * the owner's clock, so the request may be ahead of it).
   * @returns false when the request's clock leaves no room after it (nothing sent)
   */
  async #decide(
    org: DeskOrg,
    txn: Txn,
    member: string,
    request: { readonly id: string; readonly clock: bigint },
    rejection: string | undefined,
  ): Promise<boolean> {
    // A stranger's clock may leave no room after it (it sorts last whatever we stamp).
    if (request.clock >= clockLimits.maxClock) return false;
    const log = this.#c.eventLog;
    const requestId = request.id;
    const author = this.#c.self(org);
    const built: JoinDecision =
      rejection === undefined
        ? log.event(org, "request.accepted", { requestId }, author)
        : log.event(org, "request.rejected", { requestId, reason: rejection }, author);
    const decision = stampAfter(org.log, built, request.clock);
    await this.#answer(org, txn, member, decision);
    return true;
  }

  /**
   * Refuses a request the state does not keep (or no longer keeps pending): answers it with
   * `reason`, then drops the requester's session and keys unless it is a member or has another
   * request pending.
   */
  async #refuse(
    org: DeskOrg,
    txn: Txn,
    member: string,
    request: { readonly id: string; readonly clock: bigint },
    reason: string,
  ): Promise<void> {
    if (!(await this.#decide(org, txn, member, request, reason))) {
      const topic = requestsTopic(org.id);
      this.#c.report({ component, reason: "request-clock-out-of-range", topic });
    }
    const pending = this.#book(org).get(member)?.requestId;
    const live =
      pending !== undefined &&
      pending !== request.id &&
      requestStatus(org.log.state, pending, this.#c.now(), org.log.config) === "pending";
    if (!live) this.#forget(org, txn, member, [request.id]);
  }

  /**
   * Sends a join response (accepted, or rejected with its reason) over the pairwise channel. After a
   * rejection the requester's session and keys are dropped (it is a stranger again). The request and
   * the decision stay in the events log: the owner decided it (`requests --all` shows it after a
   * restart), and decisions come at the owner's pace, not a stranger's.
   */
  async respond(org: DeskOrg, txn: Txn, member: string, decision: JoinDecision): Promise<void> {
    await this.#answer(org, txn, member, decision);
    if (decision.type === "request.rejected") {
      this.#forget(org, txn, member);
    } else {
      this.#settle(org, txn, member);
    }
  }

  /** Sends a join response over the pairwise channel (nothing when there is no session). */
  async #answer(org: DeskOrg, txn: Txn, member: string, decision: JoinDecision): Promise<void> {
    await this.#c.pairwise.toMember(
      org,
      txn,
      member,
      {
        case: "requestToJoinResponse",
        value: joinResponseToWire(decision, { organizationId: org.hex }),
      },
      decision.clock,
    );
  }

  /** An invitation the owner just issued (its event added to the state): indexed for its request. */
  noteInvitation(
    org: DeskOrg,
    invitation: { readonly id: string; readonly invitee: string },
  ): void {
    this.#book(org).invitations.note(org.log.state, invitation);
  }

  /** The stranger bookkeeping of `org` (made on first use). */
  #book(org: DeskOrg): StrangerBook {
    let book = this.#books.get(deskKeys(org));
    if (book === undefined) {
      book = new StrangerBook(new RequestAdmission(this.#limits()), new InvitationIndex());
      this.#books.set(deskKeys(org), book);
    }
    return book;
  }

  /**
   * A new session with a key outside the organization: a handshake until its request arrives. Its
   * key is logged (`strangersLog`) with the session, so that a start finds what to drop.
   */
  #handshake(org: DeskOrg, txn: Txn, member: string, ephemeralKey: string): void {
    txn.ops.push({
      type: "append",
      log: strangersLog(org.hex),
      entries: [{ id: member, sortKey: 0n, value: new Uint8Array(0) }],
    });
    const book = this.#book(org);
    const known = book.get(member)?.requestId;
    const now = this.#c.now();
    // A new X3DH from a key whose request is still pending keeps that request; any older entry
    // (a request decided since, a former member's) gives way to a new handshake.
    if (
      known !== undefined &&
      requestStatus(org.log.state, known, now, org.log.config) === "pending"
    )
      return;
    book.put(member, { since: now, ephemeralKey });
  }

  /**
   * Drops what the owner keeps for strangers that no longer need it: handshakes past
   * `handshakeTtlMs` or beyond `maxHandshakes` (oldest first), requesters whose request ended
   * (decided, cancelled, expired, pushed out of a full queue: those are answered "full, try later"
   * here, since the state decided it by itself). After a start, first drops the sessions and keys
   * loaded for keys that are neither members nor pending requesters.
   *
   * Looks only at what may have changed since the last sweep (docs/SCALE.md, "What still grows
   * with N"): `touched` (the sender of the message being handled), the requesters whose pending
   * requests the state changed since (`changedRequesters`), the keys that became members, the
   * requests that expired by now (the book's queue) and the oldest handshakes; not at every
   * pending request. The first sweep after a start looks at all of them once.
   */
  async #sweep(org: DeskOrg, txn: Txn, topic: string, touched?: string): Promise<void> {
    const c = this.#c;
    const book = this.#book(org);
    const state = org.log.state;
    const now = c.now();
    const look = new Set<string>();
    if (!book.swept) {
      book.swept = true;
      for (const request of pendingRequestsAt(org, now)) {
        if (!book.has(request.requester)) {
          book.put(request.requester, this.#pendingStranger(org, request, now));
        }
      }
      for (const key of await this.#storedStrangers(org, txn)) {
        if (state.members.has(key)) this.#settle(org, txn, key);
        else if (!book.has(key)) this.#forget(org, txn, key);
      }
    }
    // Only an owner's store can hold records of the old way (a delegate's desk is newer).
    if (org.role !== "owner") book.departedSwept = true;
    if (!book.departedSwept && org.role === "owner") {
      // Records of members who departed before they went with the departure: a step a sweep.
      const keep = (member: string) => state.members.has(member) || book.has(member);
      const step = await departedRecordsStep(c.p.store, org, keep);
      txn.ops.push(...step.ops);
      book.departedSwept = step.done;
    }
    const seen = book.seen;
    book.seen = state;
    if (seen === undefined) {
      // The first sweep of this book: every stranger, every pending request.
      for (const member of book.keys()) look.add(member);
      for (const request of pendingRequestsAt(org, now)) look.add(request.requester);
    } else if (seen !== state) {
      changedRequesters(seen, state, (requester) => look.add(requester));
      diffMap(seen.members, state.members, { added: (member) => look.add(member) });
    }
    if (touched !== undefined) look.add(touched);
    for (const member of book.expired(now)) look.add(member);
    for (const member of look) await this.#look(org, txn, book, member, now, topic);
    const limits = this.#limits();
    for (let oldest = book.oldestHandshake(); oldest !== undefined; ) {
      const [member, stranger] = oldest;
      if (state.members.has(member)) this.#settle(org, txn, member);
      else if (
        book.handshakes > limits.maxHandshakes ||
        now - stranger.since >= limits.handshakeTtlMs
      ) {
        c.report({ component, reason: "handshake-dropped", topic });
        this.#noteDropped(book, member, stranger);
        this.#forget(org, txn, member);
      } else break;
      oldest = book.oldestHandshake();
    }
  }

  /**
   * A sweep's look at one key: a stranger that became a member is settled; one whose key has a
   * request pending (the state decides which: a late request with an earlier place in the
   * canonical order can take the place of the one the book knows) keeps it; one whose request
   * ended is answered when the state pushed it out, and forgotten. A request pending whose
   * requester the book does not hold was pushed out (answered, its session dropped) and came back
   * when an event that frees a slot before the one that pushed it out arrived late (the log
   * re-folds): its requester was told "full, try later" and can be told nothing now, so the owner
   * rejects it for good, as told.
   */
  async #look(
    org: DeskOrg,
    txn: Txn,
    book: StrangerBook,
    member: string,
    now: number,
    topic: string,
  ): Promise<void> {
    const c = this.#c;
    const state = org.log.state;
    const live = pendingRequestOf(state, member, now, org.log.config);
    const stranger = book.get(member);
    if (stranger !== undefined) {
      if (!state.members.has(member)) {
        if (live !== undefined) {
          book.settleRequest(member, live.id, live.sentAt + org.log.config.requestExpiryMs);
          return;
        }
        const requestId = stranger.requestId;
        // A handshake: the oldest go in the sweep's walk.
        if (requestId === undefined) return;
        const request = state.requests.get(requestId);
        if (
          request?.status === "rejected" &&
          request.decidedBy === undefined &&
          request.rejectionReason === requestRejectionReasons.queueFull
        ) {
          c.report({ component, reason: "request-pushed-out", topic });
          await this.#refuse(org, txn, member, request, requestRejectionReasons.queueFull);
        } else {
          this.#forget(org, txn, member, [requestId]);
        }
        return;
      }
      this.#settle(org, txn, member);
    }
    if (live === undefined) return;
    c.report({ component, reason: "request-pushed-out-returned", topic });
    const built = c.eventLog.event(
      org,
      "request.rejected",
      { requestId: live.id, reason: requestRejectionReasons.queueFull },
      c.self(org),
    );
    const decision = stampAfter(org.log, built, live.clock);
    c.eventLog.add(org, txn, decision);
    this.#forget(org, txn, member, [decision.id, live.id]);
  }

  /** The book's entry of a requester whose request is pending at a start. */
  #pendingStranger(org: DeskOrg, request: JoinRequest, now: number): Stranger {
    const expiresAt = request.sentAt + org.log.config.requestExpiryMs;
    return { requestId: request.id, since: now, expiresAt };
  }

  /**
   * Drops a stranger's pairwise session and keys, in memory and in the store (never a member's),
   * and the stored events of its request that ended (`ended`: the request and what ended it), so
   * that the store keeps strangers' events only while their request is pending. The log in memory
   * keeps them until the next start (a rate-bounded number: one per admission).
   */
  #forget(org: DeskOrg, txn: Txn, member: string, ended: readonly string[] = []): void {
    this.#book(org).delete(member);
    txn.ops.push({ type: "deleteEntries", log: strangersLog(org.hex), ids: [member] });
    if (org.log.state.members.has(member)) return;
    if (ended.length > 0) {
      const gone = new Set(ended);
      // Appended by this very unit of work (a cancel, a rejection): not appended at all.
      for (let i = txn.events.length - 1; i >= 0; i--) {
        if (gone.has(txn.events[i]?.id ?? "")) txn.events.splice(i, 1);
      }
      txn.ops.push({ type: "deleteEntries", log: eventsLog(org.hex), ids: [...gone] });
    }
    txn.ops.push(...forgetOwnerKeys(org, member));
  }

  /** A stranger became a member: no longer in the book, nor in the `strangersLog`. */
  #settle(org: DeskOrg, txn: Txn, member: string): void {
    this.#book(org).delete(member);
    txn.ops.push({ type: "deleteEntries", log: strangersLog(org.hex), ids: [member] });
  }

  /** Remembers a dropped handshake's ephemeral key, so that its request is answered. */
  #noteDropped(book: StrangerBook, member: string, stranger: Stranger): void {
    if (stranger.ephemeralKey === undefined) return;
    book.dropped.delete(stranger.ephemeralKey);
    book.dropped.set(stranger.ephemeralKey, member);
    for (const key of book.dropped.keys()) {
      if (book.dropped.size <= maxDroppedHandshakes) break;
      book.dropped.delete(key);
    }
  }

  /**
   * The strangers the store may hold a session or keys for: the `strangersLog` (bounded by the
   * handshakes and pending requests it had), or once, for a store written before that log, every
   * `pairwise/` and `memberkeys/` key (names only); the log is then marked complete.
   */
  async #storedStrangers(org: DeskOrg, txn: Txn): Promise<Set<string>> {
    const store = this.#c.p.store;
    const space = orgSpace(org.hex);
    const found = new Set<string>();
    for (const entry of await store.range(strangersLog(org.hex))) found.add(entry.id);
    // A delegate's desk came after the log (and its space holds `pairwise/owner`, no stranger's).
    if (org.role !== "owner") return found;
    if ((await store.get(space, strangersLogKey)) !== undefined) return found;
    for (const prefix of ["pairwise/", "memberkeys/"]) {
      for (const key of await store.keys(space, { prefix })) found.add(key.slice(prefix.length));
    }
    txn.ops.push({ type: "put", space, key: strangersLogKey, value: new Uint8Array([1]) });
    return found;
  }
}

/** The requests pending at `now` (the state's view, with the organization's rules). */
function pendingRequestsAt(org: DeskOrg, now: number) {
  return pendingRequests(org.log.state, now, org.log.config);
}
