import { equalBytes, toHex } from "@orgchat/base";
import { PairwiseSession, x3dhInitiate } from "@orgchat/crypto";
import type { TransportMessage } from "@orgchat/transport";
import {
  decodePairwiseContent,
  decodePairwiseMessage,
  type EnvelopeSigner,
  encodePairwiseContent,
  inboxTopic,
  type OpenedEnvelope,
  openEnvelope,
  type PairwiseContent,
  publicKeyFromMemberId,
  requestsTopic,
  sealEnvelope,
} from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { hashId } from "./encoding.js";
import { NotMemberError } from "./errors.js";
import { type DeskOrg, isDeskOrg, type MemberOrg, newTxn, type Org, type Txn } from "./org.js";
import { ownerSession } from "./owner-keys.js";
import { seenLog } from "./persistence.js";
import { resyncBudgetOf } from "./resync-answers.js";

/** What a pairwise message carries (the `content` of `PairwiseContent`). */
export type PairwiseContentInit = NonNullable<
  Parameters<typeof encodePairwiseContent>[0]["content"]
>;

const component = "client/pairwise";

/** Domain of a request's id ({@link requestIdOf}). */
const requestIdDomain = new TextEncoder().encode("orgchat v1 request id");

/**
 * The id of a request to join (its `request.sent` event): the hex SHA-256 of a domain label, the
 * requester's key and the `PairwiseContent` bytes that carry the request. A requester sends the same
 * bytes to the owner and to each delegate over their own sessions (docs/DELEGATION.md), so every
 * recipient names the request alike, whatever envelope carried its copy; the requester's key in the
 * input keeps two requesters' identical contents apart.
 *
 * @param requester - the requester's Ed25519 key (its member id's bytes)
 * @param content - the decrypted `PairwiseContent` bytes
 * @returns the request id (64 hex digits)
 */
export function requestIdOf(requester: Uint8Array, content: Uint8Array): string {
  const input = new Uint8Array(requestIdDomain.length + requester.length + content.length);
  input.set(requestIdDomain, 0);
  input.set(requester, requestIdDomain.length);
  input.set(content, requestIdDomain.length + requester.length);
  return hashId(input);
}

/** Prefix of a requester's session with a delegate in `Txn.sessions` (and its record's name). */
export const delegatePeer = (delegate: string) => `to:${delegate}`;

/**
 * A new pairwise session with the owner of `org`: X3DH to its prekey bundle (a new ephemeral key),
 * the first message of which carries the X3DH header.
 * @throws from `x3dhInitiate` when the bundle is unusable (a bad signature, a malformed key)
 */
export function initiateOwnerSession(
  c: ClientCore,
  org: MemberOrg,
  bundle: NonNullable<MemberOrg["member"]["bundle"]>,
): PairwiseSession {
  const { provider } = c.p;
  return PairwiseSession.initiate(
    provider,
    x3dhInitiate(provider, {
      identityKeyPair: c.p.identity,
      identityDhKeyPair: c.p.identityDh,
      bundle,
      organizationKey: org.id,
    }),
  );
}

/**
 * Pairwise channel (X3DH + double ratchet): sends to the owner (on the requests topic, signed by
 * this identity) and to a member (in its inbox, signed by the organization), and receives this
 * identity's inbox: invitations, and the owner's join responses and Welcomes. Owns: the inbox's
 * input; the sessions themselves belong to the owner side (`OwnerSide.sessions`, a cache of the
 * stored ones: `owner-keys.ts`) and the member side (`MemberSide.ownerSession`).
 */
export class PairwiseChannel {
  readonly #c: ClientCore;

  constructor(core: ClientCore) {
    this.#c = core;
  }

  /**
   * Member → owner. @returns the message's id (hex SHA-256 of the envelope)
   * @throws {NotMemberError} when there is no session with the owner
   */
  async toOwner(
    org: MemberOrg,
    txn: Txn,
    content: PairwiseContentInit | Uint8Array,
    clock: bigint = org.log.nextClock(),
  ): Promise<string> {
    const session = org.member.ownerSession;
    if (session === undefined) throw new NotMemberError(org.hex);
    const topic = requestsTopic(org.id);
    return this.#seal(org, txn, "owner", session, topic, this.#c.identitySigner, content, clock);
  }

  /**
   * Requester → delegate (docs/DELEGATION.md, "Requests reach the delegates"): into the delegate's
   * inbox, signed by this identity, over the session made with the delegate's bundle.
   * @returns false when there is no session with `delegate` (nothing sent)
   */
  async toDelegate(
    org: MemberOrg,
    txn: Txn,
    delegate: string,
    content: PairwiseContentInit | Uint8Array,
    clock: bigint,
  ): Promise<boolean> {
    const session = org.member.delegateSessions.get(delegate);
    if (session === undefined) return false;
    const topic = inboxTopic(publicKeyFromMemberId(delegate));
    const peer = delegatePeer(delegate);
    await this.#seal(org, txn, peer, session, topic, this.#c.identitySigner, content, clock);
    return true;
  }

  /**
   * Owner or delegate → member (or requester), into its inbox, signed by the organization key
   * (owner) or the delegate's identity key.
   * @returns false when there is no session with `member` (nothing sent)
   */
  async toMember(
    org: DeskOrg,
    txn: Txn,
    member: string,
    content: PairwiseContentInit,
    clock: bigint = org.log.nextClock(),
  ): Promise<boolean> {
    const session = await ownerSession(this.#c.p, org, member);
    if (session === undefined) return false;
    const topic = inboxTopic(publicKeyFromMemberId(member));
    const signer = org.role === "owner" ? org.owner.signer : org.member.delegate.signer;
    await this.#seal(org, txn, member, session, topic, signer, content, clock);
    return true;
  }

  async #seal(
    org: Org,
    txn: Txn,
    peer: string,
    session: PairwiseSession,
    topic: string,
    signer: EnvelopeSigner,
    content: PairwiseContentInit | Uint8Array,
    clock: bigint,
  ): Promise<string> {
    const plaintext = content instanceof Uint8Array ? content : encodePairwiseContent({ content });
    const encrypted = session.encrypt(plaintext);
    const bytes = await sealEnvelope(
      {
        type: "pairwise",
        organizationId: org.id,
        clock,
        contentTopic: topic,
        message: decodePairwiseMessage(encrypted),
      },
      signer,
    );
    txn.sessions.add(peer);
    const id = hashId(bytes);
    txn.outbox.push({ id, topic, bytes });
    return id;
  }

  /**
   * A decrypted pairwise message, marked seen with its session's step in `txn`. Content that does
   * not decode is reported and dropped, but its ratchet step is committed (it was authentic).
   * @returns the content, or undefined when it was dropped (then `txn` is committed)
   */
  async accept(
    org: Org,
    txn: Txn,
    peer: string,
    id: string,
    plaintext: Uint8Array,
    where: { component: string; topic: string },
  ): Promise<PairwiseContent["content"] | undefined> {
    const c = this.#c;
    txn.sessions.add(peer);
    c.sync.markSeen(org, txn, id);
    let content: PairwiseContent["content"];
    try {
      content = decodePairwiseContent(plaintext).content;
    } catch (error) {
      c.report({ ...where, reason: "undecodable-content", error });
      await c.persistence.commit(org, txn);
      return undefined;
    }
    if (
      org.role === "owner" &&
      content.case === "resyncRequest" &&
      this.#resyncRefused(org, peer, content.value, where)
    ) {
      await c.persistence.commit(org, txn);
      return undefined;
    }
    return content;
  }

  /**
   * Owner: whether a member's resync request goes unanswered (docs/SECURITY.md, "Unknown key ids"):
   * it, or all members together, are over the resync budget (`resync-answers.ts`). Reported; the
   * member's back-off asks again later, and is answered once the budget refilled. A request from
   * someone not on the group's roster is left to the owner's usual checks.
   */
  #resyncRefused(
    org: Extract<Org, { role: "owner" }>,
    member: string,
    request: { readonly channelId: string },
    where: { component: string; topic: string },
  ): boolean {
    const c = this.#c;
    const group = org.owner.groups.get(request.channelId);
    if (group === undefined) return false;
    const leaf = c.epochs.leafOf(org, request.channelId, member);
    if (leaf === undefined || leaf === group.leaf) return false;
    const budget = resyncBudgetOf(org.owner, c.p.config.resyncAnswerIntervalMs);
    const refusal = budget.judge({ member, now: c.now() });
    if (refusal === undefined) return false;
    c.report({ ...where, reason: `resync-${refusal}` });
    return true;
  }

  /** A message in this identity's inbox: an invitation, or a pairwise message from an owner. */
  async onInbox(message: TransportMessage, id: string): Promise<void> {
    const c = this.#c;
    const topic = message.contentTopic;
    let opened: OpenedEnvelope;
    try {
      opened = await openEnvelope(message.payload, {
        contentTopic: c.inbox,
        accept: ["pairwise", "organization-invitation"],
        // A delegate's invitation is signed by its own key: whether that key may invite is judged
        // when the invitation is accepted (docs/DELEGATION.md, "Invitations by a delegate").
        committers: () => true,
        verify: c.verify,
      });
    } catch (error) {
      c.sync.seen.add(id);
      c.report({ component, reason: "unopenable", topic, error });
      return;
    }
    const hex = toHex(opened.organizationId);
    if (opened.type === "organization-invitation") {
      await c.membership.invitations.receive(opened, id, topic);
      return;
    }
    if (opened.type !== "pairwise") return;
    const org = c.orgs.get(hex);
    const fromOwner = org !== undefined && equalBytes(opened.signer, org.id);
    // A delegate's desk: requests from requesters, in this identity's inbox (docs/DELEGATION.md).
    if (org !== undefined && !fromOwner && org.role !== "owner" && isDeskOrg(org)) {
      const signer = toHex(opened.signer);
      if (!org.member.delegateSessions.has(signer)) {
        await c.ownerRequests.onOpened(org, opened, id, topic);
        return;
      }
    }
    // Pairwise messages to a member come from the owner (the organization key), or from a delegate
    // its request went to (over the session made with that delegate's bundle).
    const peer =
      org === undefined || org.role === "owner"
        ? undefined
        : fromOwner
          ? "owner"
          : delegatePeer(toHex(opened.signer));
    const session =
      org === undefined || org.role === "owner"
        ? undefined
        : fromOwner
          ? org.member.ownerSession
          : org.member.delegateSessions.get(toHex(opened.signer));
    if (org === undefined || org.role === "owner" || session === undefined || peer === undefined) {
      c.sync.seen.add(id);
      c.report({ component, reason: "no-session", topic });
      return;
    }
    if (await c.p.store.getEntry(seenLog(org.hex), id)) {
      c.sync.seen.add(id);
      return;
    }
    let plaintext: Uint8Array;
    try {
      plaintext = session.decrypt(opened.payload);
    } catch (error) {
      c.sync.seen.add(id);
      c.report({ component, reason: "undecryptable", topic, error });
      return;
    }
    const txn = newTxn(org);
    const content = await this.accept(org, txn, peer, id, plaintext, { component, topic });
    if (content === undefined) return;
    // A delegate's session carries its decision on this identity's request and, accepted, the
    // Welcome of its add step (docs/DELEGATION.md); nothing else.
    if (!fromOwner && content.case !== "requestToJoinResponse" && content.case !== "welcome") {
      c.report({ component, reason: "unexpected-from-delegate", topic });
      await c.persistence.commit(org, txn);
      return;
    }
    switch (content.case) {
      case "requestToJoinResponse":
        c.membership.onResponse(org, txn, content.value, opened.clock, id, toHex(opened.signer));
        break;
      case "welcome":
        if (equalBytes(content.value.organizationId, org.id)) {
          await c.keySync.judge.aside.load(org);
          await c.keySync.onWelcome(org, txn, content.value, fromOwner ? "owner" : "delegate");
        }
        break;
      default:
        break;
    }
    await c.persistence.commit(org, txn);
    await c.sync.syncSubscriptions(org);
  }
}
