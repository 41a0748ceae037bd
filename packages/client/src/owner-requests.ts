import { equalBytes, toHex } from "@orgchat/base";
import { PairwiseSession } from "@orgchat/crypto";
import type { OrgEvent, OrgEventOf } from "@orgchat/state";
import {
  cancelRequestToJoinFromWire,
  joinResponseToWire,
  requestToJoinFromWire,
  requestToLeaveFromWire,
} from "@orgchat/state/wire";
import type { TransportMessage } from "@orgchat/transport";
import { type OpenedEnvelope, openEnvelope, type PayloadOf, requestsTopic } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { encodeJson } from "./encoding.js";
import { newTxn, type OwnerOrg, type Txn } from "./org.js";
import {
  predatesDeparture,
  redeemedInvitation,
  resyncAnswerAllowed,
  rosterMembers,
} from "./owner-controller.js";
import { orgSpace } from "./persistence.js";

const component = "client/owner-requests";

/** A decision on a request to join. */
export type JoinDecision = OrgEventOf<"request.accepted"> | OrgEventOf<"request.rejected">;

/**
 * Owner side, requests: everything members and newcomers send the owner on the requests topic
 * (pairwise: requests to join, cancels, leaves, member keys, resync requests), and the join
 * response. Owns: `OwnerSide.sessions`, `.byEphemeral`, `.memberKeys`, `.resyncAnswered`.
 */
export class OwnerRequests {
  readonly #c: ClientCore;

  constructor(core: ClientCore) {
    this.#c = core;
  }

  /** A pairwise message from a member or a newcomer on the requests topic. */
  async onRequestsTopic(org: OwnerOrg, message: TransportMessage, id: string): Promise<void> {
    const c = this.#c;
    const owner = org.owner;
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
    const member = toHex(opened.signer);
    const txn = newTxn(org);
    let plaintext: Uint8Array;
    try {
      const header = opened.message.x3dh;
      const known =
        header === undefined ? member : owner.byEphemeral.get(toHex(header.ephemeralKey));
      const existing = known === undefined ? undefined : owner.sessions.get(known);
      if (existing !== undefined && (header === undefined || known === member)) {
        plaintext = existing.decrypt(opened.payload);
      } else if (header !== undefined) {
        if (!equalBytes(header.initiatorIdentityKey, opened.signer)) throw new Error("identity");
        const response = PairwiseSession.respond(c.p.provider, owner.prekeys, opened.payload);
        plaintext = response.plaintext;
        owner.sessions.set(member, response.session);
        owner.byEphemeral.set(toHex(response.session.initialEphemeralKey), member);
        txn.prekeys = true;
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
    const context = { id, author: member, clock: opened.clock, sentAt: c.now() };
    switch (value.case) {
      case "requestToJoin":
        await this.#onJoinRequest(org, txn, value.value, context);
        break;
      case "cancelRequestToJoin": {
        const mapped = cancelRequestToJoinFromWire(value.value, context, org.log.state);
        if (mapped.ok && c.eventLog.add(org, txn, mapped.value) === undefined) {
          txn.emits.push([
            "request:cancelled",
            { organizationId: org.hex, requestId: mapped.value.body.requestId, requester: member },
          ]);
        }
        break;
      }
      case "requestToLeave": {
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
          await c.epochs.reconcile(org, txn);
        }
        break;
      }
      case "memberKeys": {
        const keys = value.value;
        if (equalBytes(keys.identityKey, opened.signer)) {
          owner.memberKeys.set(member, { signingKey: keys.signingKey, prekey: keys.prekey });
          txn.ops.push({
            type: "put",
            space: orgSpace(org.hex),
            key: `memberkeys/${member}`,
            value: encodeJson({ signingKey: keys.signingKey, prekey: keys.prekey }),
          });
          await c.epochs.reconcile(org, txn);
        }
        break;
      }
      case "resyncRequest":
        await this.#onResyncRequest(org, txn, member, value.value.channelId);
        break;
      default:
        break;
    }
    await c.persistence.commit(org, txn);
  }

  async #onJoinRequest(
    org: OwnerOrg,
    txn: Txn,
    request: PayloadOf<"organization-request-to-join">,
    context: { id: string; author: string; clock: bigint; sentAt: number },
  ): Promise<void> {
    const c = this.#c;
    const mapped = requestToJoinFromWire(request, context);
    if (!mapped.ok) return;
    const invitation = redeemedInvitation({
      state: org.log.state,
      requester: context.author,
      chatId: mapped.value.body.chatId,
      now: c.now(),
      invitationExpiryMs: org.log.config.invitationExpiryMs,
    });
    const event: OrgEvent =
      invitation === undefined
        ? mapped.value
        : {
            id: context.id,
            type: "invitation.used",
            author: context.author,
            clock: mapped.value.clock,
            sentAt: mapped.value.sentAt,
            body: { invitationId: invitation.id },
          };
    const refused = c.eventLog.add(org, txn, event);
    const member = context.author;
    if (refused === "conflict" && predatesDeparture(org.log.state, member)) {
      // Ordered before the leave (or removal) that the state has applied since: the requester was
      // a member in its place. It is refused there for good; say so, so that it asks again
      // (docs/CLIENT.md, "Rejoin after leave").
      await this.#decide(org, txn, member, context.id, "retry: request predates your leave");
      return;
    }
    if (refused !== undefined) return;
    if (org.log.state.members.has(member)) {
      // Open organization, or an invitation: a member at once.
      await this.#decide(org, txn, member, context.id, undefined);
      txn.description = true;
      await c.epochs.reconcile(org, txn);
      txn.emits.push([
        "request:accepted",
        { organizationId: org.hex, requestId: context.id, requester: member },
      ]);
      return;
    }
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

  /** A decision the state made by itself (not an owner operation): sent, not logged. */
  async #decide(
    org: OwnerOrg,
    txn: Txn,
    member: string,
    requestId: string,
    rejection: string | undefined,
  ): Promise<void> {
    const log = this.#c.eventLog;
    const decision: JoinDecision =
      rejection === undefined
        ? log.event(org, "request.accepted", { requestId }, org.hex)
        : log.event(org, "request.rejected", { requestId, reason: rejection }, org.hex);
    await this.respond(org, txn, member, decision);
  }

  /** Sends a join response (accepted, or rejected with its reason) over the pairwise channel. */
  async respond(org: OwnerOrg, txn: Txn, member: string, decision: JoinDecision): Promise<void> {
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

  async #onResyncRequest(
    org: OwnerOrg,
    txn: Txn,
    member: string,
    channelId: string,
  ): Promise<void> {
    const c = this.#c;
    const owner = org.owner;
    const now = c.now();
    if (
      !resyncAnswerAllowed(owner.resyncAnswered.get(member), now, c.p.config.resyncAnswerIntervalMs)
    ) {
      return;
    }
    const group = owner.groups.get(channelId);
    const leaf = group === undefined ? undefined : rosterMembers(group.roster).get(member);
    if (group === undefined || leaf === undefined || leaf === group.leaf) return;
    owner.resyncAnswered.set(member, now);
    const welcome = group.resync(leaf, { leafSecret: c.p.random(32) });
    txn.groups.add(channelId);
    // The Welcome names its epoch's roster, which a member that asks may lack (it missed a delta,
    // or never had the roster it applies to): a snapshot of it, unless one went out just now.
    await c.epochs.publishSnapshot(org, txn, channelId, "resync");
    await c.pairwise.toMember(org, txn, member, { case: "welcome", value: welcome });
    txn.emits.push(["resync:requested", { organizationId: org.hex, channelId, member }]);
  }
}
