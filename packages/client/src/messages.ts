import { equalBytes, toHex } from "@orgchat/base";
import {
  isDuplicateMessageError,
  isUnknownEpochError,
  MemberGroup,
  type OwnerGroup,
} from "@orgchat/crypto";
import { canPost } from "@orgchat/state";
import {
  channelTopic,
  decodeChannelMessage,
  decodeGroupMessage,
  encodeChannelMessage,
  type GroupMessage,
  MessageType,
  type OpenedEnvelope,
  openEnvelope,
  sealEnvelope,
} from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { encodeJson, hashId } from "./encoding.js";
import {
  ChannelAccessError,
  KeysNotReadyError,
  NotMemberError,
  UnknownTargetError,
} from "./errors.js";
import { mayBeOurs } from "./member-controller.js";
import { newTxn, type Org, type PendingMessage, type Txn } from "./org.js";
import { pendingLog } from "./persistence.js";
import { checkSignal } from "./runtime.js";
import { isRestricted } from "./views.js";

/** What a channel message carries (the `body` of `ChannelMessage`). */
export type ChannelBodyInit = NonNullable<Parameters<typeof encodeChannelMessage>[0]["body"]>;

/** Content type of a channel message inside a group message (the envelope type number, 49). */
const channelContentType = MessageType.CHANNEL_MESSAGE;

const component = "client/messages";

/**
 * Messages: channel messages in (public envelopes and group messages: decrypt with the channel's
 * group, the organization's, or a retired one; judge the author by the epoch's roster), the
 * pending buffer of messages waiting for a key (bounded, expiring, retried after every epoch
 * change, each delivered once), and messages out (encrypt → one unit of work → publish → echo).
 * Owns: `Org.pending` and the `pending/` log.
 */
export class Messages {
  readonly #c: ClientCore;

  constructor(core: ClientCore) {
    this.#c = core;
  }

  async onChannel(
    org: Org,
    channelId: string,
    topic: string,
    payload: Uint8Array,
    id: string,
    waiting?: PendingMessage,
  ): Promise<"done" | "waiting"> {
    const c = this.#c;
    let pending = waiting;
    let groupMessage: GroupMessage | undefined;
    try {
      groupMessage = decodeGroupMessage(payload);
    } catch {
      // Not a group message: a public (signed) channel message, opened below.
      groupMessage = undefined;
    }
    if (groupMessage === undefined) {
      await this.#onPublicMessage(org, channelId, topic, payload, id);
      return "done";
    }
    const state = org.log.state;
    if (
      isRestricted(state, channelId) &&
      !canPost(state, c.self(org), channelId) &&
      !(org.role !== "owner" && org.member.groups.has(channelId))
    ) {
      // A restricted channel we are not on (yet, as far as we know): its keys are not ours to ask
      // for. The message is kept silently, not marked seen: the roster that names us may be on
      // its way (docs/CLIENT.md, "No missing keys").
      if (pending === undefined)
        await this.#keep(org, channelId, topic, payload, id, groupMessage, true);
      return "waiting";
    }
    if (pending?.foreign === true) {
      // Ours now: from here on it is an ordinary message (waiting for a key, announced, recovered).
      await this.#dropPending(org, pending.id);
      pending = undefined;
    }
    let decrypted: ReturnType<MemberGroup["decrypt"]> | undefined;
    let groupId = "";
    let retiredKey: string | undefined;
    for (const [candidate, group, suffix] of this.#groupsFor(org, channelId)) {
      try {
        decrypted = group.decrypt(groupMessage, c.p.now());
        groupId = candidate;
        retiredKey = suffix;
        break;
      } catch (error) {
        if (isUnknownEpochError(error)) continue;
        c.sync.seen.add(id);
        if (pending !== undefined) await this.#dropPending(org, pending.id);
        c.report({
          component,
          reason: isDuplicateMessageError(error) ? "duplicate-generation" : "undecryptable",
          topic,
          error,
        });
        return "done";
      }
    }
    if (decrypted === undefined) {
      const roster = org.rosters.get(toHex(groupMessage.keyId))?.roster;
      if (
        pending === undefined &&
        org.role !== "owner" &&
        !mayBeOurs(roster, c.p.identity.publicKey)
      ) {
        // The owner-signed roster of its epoch does not list this member (an epoch before it
        // joined, or after it left): its key never will be ours (Welcomes hold the joined epoch
        // only: `historyPolicy` "joined"), so it is not announced as waiting, only reported.
        c.sync.seen.add(id);
        c.report({ component, reason: "not-entitled", topic });
        return "done";
      }
      if (
        pending !== undefined &&
        org.role !== "owner" &&
        !mayBeOurs(roster, c.p.identity.publicKey)
      ) {
        // Announced as waiting while its epoch's roster was unknown; the roster has arrived and
        // does not list this member, so the key never will be ours: end the wait now rather than
        // after `maxPendingAgeMs`.
        const txn = newTxn(org);
        this.#undecryptable(org, txn, pending, "epoch-unavailable");
        c.report({ component, reason: "not-entitled", topic });
        await c.persistence.commit(org, txn);
        return "done";
      }
      if (pending === undefined)
        await this.#keep(org, channelId, topic, payload, id, groupMessage, false);
      return "waiting";
    }
    const txn = newTxn(org);
    if (retiredKey === undefined) txn.groups.add(groupId);
    else if (org.role !== "owner") c.keySync.persistRetired(org, txn, retiredKey);
    c.sync.markSeen(org, txn, id);
    if (pending !== undefined) {
      org.pending.delete(pending.id);
      txn.ops.push({ type: "deleteEntries", log: pendingLog(org.hex), ids: [pending.id] });
    }
    const roster = org.rosters.get(toHex(decrypted.keyId));
    const sender = roster?.roster[decrypted.senderLeaf];
    if (decrypted.contentType === channelContentType && sender !== undefined) {
      try {
        const message = decodeChannelMessage(decrypted.content.slice());
        if (
          equalBytes(message.author, sender.identityKey) &&
          equalBytes(message.organizationId, org.id) &&
          message.channelId === channelId
        ) {
          // The epoch's roster holds the author: a member then, with access to the channel when
          // the epoch is the channel's own group's (or the organization's, for an open channel).
          const proven =
            roster?.channelId === channelId ||
            (roster?.channelId === "" && !isRestricted(org.log.state, channelId));
          c.eventLog.applyChannelMessage(org, txn, message, id, proven);
        }
      } catch (error) {
        // A member's malformed content: the ratchet step is still committed (it was authentic).
        c.report({ component, reason: "undecodable-content", topic, error });
      }
    }
    await c.persistence.commit(org, txn);
    return "done";
  }

  /**
   * The groups that may open a message of a channel: its own group, the organization's, then the
   * groups a resync Welcome replaced (with their store key suffix).
   */
  #groupsFor(
    org: Org,
    channelId: string,
  ): Array<[string, OwnerGroup | MemberGroup, string | undefined]> {
    const groups: ReadonlyMap<string, OwnerGroup | MemberGroup> =
      org.role === "owner" ? org.owner.groups : org.member.groups;
    const out: Array<[string, OwnerGroup | MemberGroup, string | undefined]> = [];
    const own = groups.get(channelId);
    if (own !== undefined) out.push([channelId, own, undefined]);
    const whole = groups.get("");
    if (whole !== undefined && channelId !== "") out.push(["", whole, undefined]);
    if (org.role === "owner") return out;
    for (const [suffix, retired] of org.member.retiredGroups) {
      if (retired.channelId === channelId || retired.channelId === "") {
        out.push([retired.channelId, retired.group, suffix]);
      }
    }
    return out;
  }

  async #onPublicMessage(
    org: Org,
    channelId: string,
    topic: string,
    payload: Uint8Array,
    id: string,
  ): Promise<void> {
    const c = this.#c;
    let opened: OpenedEnvelope;
    try {
      opened = await openEnvelope(payload, {
        contentTopic: topic,
        organizationId: org.id,
        accept: ["channel-message"],
        verify: c.verify,
      });
    } catch (error) {
      c.sync.seen.add(id);
      c.report({ component, reason: "unopenable", topic, error });
      return;
    }
    if (opened.type !== "channel-message" || opened.message.channelId !== channelId) return;
    const txn = newTxn(org);
    c.sync.markSeen(org, txn, id);
    c.eventLog.applyChannelMessage(org, txn, opened.message, id);
    await c.persistence.commit(org, txn);
  }

  /**
   * Buffers a group message (durably, in the pending log) until its key arrives: announced
   * (`message:waiting-for-key`) and recovered, or — `foreign`, a restricted channel's message
   * that is not ours (yet) — kept silently.
   */
  async #keep(
    org: Org,
    channelId: string,
    topic: string,
    payload: Uint8Array,
    id: string,
    message: GroupMessage,
    foreign: boolean,
  ): Promise<void> {
    const c = this.#c;
    if (org.pending.has(id)) return;
    const keyId = toHex(message.keyId);
    const txn = newTxn(org);
    this.#makeRoom(org, txn);
    const pending: PendingMessage = {
      id,
      topic,
      channelId,
      keyId,
      payload,
      receivedAt: c.now(),
      ...(foreign ? { foreign: true as const } : {}),
    };
    org.pending.set(id, pending);
    txn.ops.push({
      type: "append",
      log: pendingLog(org.hex),
      entries: [{ id, sortKey: BigInt(pending.receivedAt), value: encodeJson(pending) }],
    });
    if (foreign) {
      await c.persistence.commit(org, txn);
      return;
    }
    txn.emits.push([
      "message:waiting-for-key",
      { organizationId: org.hex, channelId, keyId, pendingId: id },
    ]);
    await c.persistence.commit(org, txn);
    if (org.role !== "owner") await c.recovery.recover(org, channelId);
  }

  /** Frees one place in a full pending buffer: a foreign message first (silently), else the oldest. */
  #makeRoom(org: Org, txn: Txn): void {
    if (org.pending.size < this.#c.p.config.maxPendingMessages) return;
    const byAge = [...org.pending.values()].sort((a, b) => a.receivedAt - b.receivedAt);
    const foreign = byAge.find((p) => p.foreign === true);
    if (foreign !== undefined) {
      org.pending.delete(foreign.id);
      txn.ops.push({ type: "deleteEntries", log: pendingLog(org.hex), ids: [foreign.id] });
      return;
    }
    const oldest = byAge[0];
    if (oldest !== undefined) this.#undecryptable(org, txn, oldest, "buffer-full");
  }

  #undecryptable(
    org: Org,
    txn: Txn,
    pending: PendingMessage,
    reason: "expired" | "epoch-unavailable" | "buffer-full",
  ): void {
    org.pending.delete(pending.id);
    this.#c.sync.seen.add(pending.id);
    txn.ops.push({ type: "deleteEntries", log: pendingLog(org.hex), ids: [pending.id] });
    txn.emits.push([
      "message:undecryptable",
      {
        organizationId: org.hex,
        channelId: pending.channelId,
        keyId: pending.keyId,
        pendingId: pending.id,
        reason,
      },
    ]);
  }

  async #dropPending(org: Org, id: string): Promise<void> {
    org.pending.delete(id);
    await this.#c.p.store.deleteEntries(pendingLog(org.hex), [id]);
  }

  /** Declares undecryptable what waited longer than `maxPendingAgeMs` (periodic). */
  expirePending(org: Org): void {
    const c = this.#c;
    const now = c.now();
    const expired = [...org.pending.values()].filter(
      (p) => now - p.receivedAt >= c.p.config.maxPendingAgeMs,
    );
    if (expired.length === 0) return;
    const txn = newTxn(org);
    for (const pending of expired) {
      if (pending.foreign === true) {
        // Never ours: nothing to tell the app.
        org.pending.delete(pending.id);
        txn.ops.push({ type: "deleteEntries", log: pendingLog(org.hex), ids: [pending.id] });
      } else {
        this.#undecryptable(org, txn, pending, "expired");
      }
    }
    c.runtime.background(org.hex, () => c.persistence.commit(org, txn));
  }

  /** Retries every buffered message (after an epoch change); each is delivered exactly once. */
  async retryPending(org: Org): Promise<void> {
    for (const pending of [...org.pending.values()].sort((a, b) => a.receivedAt - b.receivedAt)) {
      if (!org.pending.has(pending.id)) continue;
      await this.onChannel(
        org,
        pending.channelId,
        pending.topic,
        pending.payload,
        pending.id,
        pending,
      );
    }
  }

  /** The channel of a message this client knows. @throws {UnknownTargetError} */
  channelOf(org: Org, messageId: string): string {
    const message = this.#c.eventLog.record(org, messageId);
    if (message === undefined) throw new UnknownTargetError("message", messageId);
    return message.channelId;
  }

  /**
   * Sends one channel message: encrypt (a generation is consumed) → one batch {group state, event,
   * outbox entry} → publish → echo to the app. @returns the message's id
   * @throws {NotMemberError} / {ChannelAccessError} / {KeysNotReadyError} / {AbortError}
   */
  async send(
    org: Org,
    channelId: string,
    signal: AbortSignal | undefined,
    body: ChannelBodyInit,
  ): Promise<string> {
    const c = this.#c;
    checkSignal(signal);
    if (org.role !== "owner" && org.role !== "member") throw new NotMemberError(org.hex);
    const me = c.self(org);
    const state = org.log.state;
    if (!state.channels.has(channelId)) throw new ChannelAccessError(org.hex, channelId);
    if (body.case === "post" && !canPost(state, me, channelId)) {
      throw new ChannelAccessError(org.hex, channelId);
    }
    const clock = org.log.nextClock();
    const sentAt = c.now();
    const message = {
      organizationId: org.id,
      channelId,
      author: org.role === "owner" ? org.id : c.p.identity.publicKey,
      clock,
      sentAt: BigInt(sentAt),
      body,
    };
    const topic = channelTopic(org.id, channelId);
    const txn = newTxn(org);
    let bytes: Uint8Array;
    if (state.encrypted) {
      const groupId = isRestricted(state, channelId) ? channelId : "";
      const group =
        org.role === "owner" ? org.owner.groups.get(groupId) : org.member.groups.get(groupId);
      if (group === undefined || (group instanceof MemberGroup && group.status !== "member")) {
        throw new KeysNotReadyError(org.hex, groupId);
      }
      checkSignal(signal);
      bytes = group.encrypt({
        contentType: channelContentType,
        content: encodeChannelMessage(message),
      });
      txn.groups.add(groupId);
    } else {
      checkSignal(signal);
      bytes = await sealEnvelope(
        { type: "channel-message", organizationId: org.id, clock, contentTopic: topic, message },
        org.role === "owner" ? org.owner.signer : c.identitySigner,
      );
    }
    const id = hashId(bytes);
    c.sync.markSeen(org, txn, id);
    txn.outbox.push({ id, topic, bytes });
    const decoded = decodeChannelMessage(encodeChannelMessage(message));
    // Encrypted in the group of its channel: proven like a received one (see `onChannel`).
    c.eventLog.applyChannelMessage(org, txn, decoded, id, state.encrypted);
    await c.persistence.commit(org, txn);
    return id;
  }
}
