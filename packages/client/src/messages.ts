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
import { holdsDeparted } from "./departures.js";
import { encodeStored, payloadId } from "./encoding.js";
import {
  ChannelAccessError,
  FreshKeysPendingError,
  KeysNotReadyError,
  NotMemberError,
  UnknownTargetError,
} from "./errors.js";
import { foreignEvictions } from "./foreign-buffer.js";
import { unopenedVerdict } from "./key-evidence.js";
import { newTxn, type Org, type PendingMessage, type Txn } from "./org.js";
import { pendingLog } from "./persistence.js";
import { checkSignal } from "./runtime.js";
import { type ChannelBodyInit, sentChannelFields } from "./sent-fields.js";
import { isRestricted } from "./views.js";

export type { ChannelBodyInit } from "./sent-fields.js";
export { sentChannelFields } from "./sent-fields.js";

/** A group message as received on a channel's topic. */
interface ReceivedGroupMessage {
  readonly channelId: string;
  readonly topic: string;
  readonly payload: Uint8Array;
  /** Hash of the payload (the message id). */
  readonly id: string;
  readonly message: GroupMessage;
}

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
  /**
   * Content topics of the channels this client sent to, per organization (a topic name costs a
   * SHA-256 and a string build: once per channel, not per message). Filled only for channels of
   * the organization's state, so bounded by its channels.
   */
  readonly #topics = new WeakMap<Org, Map<string, string>>();

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
    const pending = waiting;
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
    if (this.#notOnChannel(org, channelId)) {
      // A restricted channel we are not on (yet, as far as we know): its keys are not ours to ask
      // for. The message is kept silently, not marked seen: the roster that names us may be on
      // its way (docs/CLIENT.md, "No missing keys").
      if (pending === undefined)
        await this.#keep(org, { channelId, topic, payload, id, message: groupMessage }, true);
      return "waiting";
    }
    let decrypted: ReturnType<MemberGroup["decrypt"]> | undefined;
    let groupId = "";
    let retiredKey: string | undefined;
    let opened: OwnerGroup | MemberGroup | undefined;
    for (const [candidate, group, suffix] of this.#groupsFor(org, channelId)) {
      try {
        decrypted = group.decrypt(groupMessage, c.p.now());
        groupId = candidate;
        retiredKey = suffix;
        opened = group;
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
      const received = { channelId, topic, payload, id, message: groupMessage };
      return this.#unopened(org, received, pending);
    }
    const txn = newTxn(org);
    // Saved now, or later when the decryption only moved receive chains (`receivedIn`).
    if (retiredKey === undefined)
      c.persistence.receivedIn(org, txn, groupId, opened as OwnerGroup | MemberGroup);
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
          // A message that waited for its key was received when it first arrived, not now.
          const facts = waiting === undefined ? {} : { receivedAt: waiting.receivedAt };
          c.eventLog.applyChannelMessage(org, txn, message, id, proven, facts);
        }
      } catch (error) {
        // A member's malformed content: the ratchet step is still committed (it was authentic).
        c.report({ component, reason: "undecodable-content", topic, error });
      }
    }
    await c.persistence.commit(org, txn);
    return "done";
  }

  /** A restricted channel we are not on (yet, as far as we know). */
  #notOnChannel(org: Org, channelId: string): boolean {
    const state = org.log.state;
    return (
      isRestricted(state, channelId) &&
      !canPost(state, this.#c.self(org), channelId) &&
      !(org.role !== "owner" && org.member.groups.has(channelId))
    );
  }

  /**
   * An owner-signed record naming `keyIdHex` joins the unit of work: the foreign messages kept
   * under it whose epoch is now a newer one of ours are announced (`message:waiting-for-key`) in
   * it — before any epoch it also enters opens them — and recovered after it; all are judged
   * again after the commit.
   */
  promoteNamed(org: Org, txn: Txn, keyIdHex: string): void {
    const c = this.#c;
    let named = false;
    for (const pending of [...org.pending.values()]) {
      if (pending.foreign !== true || pending.keyId !== keyIdHex) continue;
      named = true;
      if (org.role === "owner" || this.#notOnChannel(org, pending.channelId)) continue;
      if (unopenedVerdict(org, keyIdHex, c.p.identity.publicKey) !== "waiting") continue;
      const { foreign: _, ...promoted } = pending;
      org.pending.set(pending.id, promoted);
      txn.ops.push(
        { type: "deleteEntries", log: pendingLog(org.hex), ids: [pending.id] },
        {
          type: "append",
          log: pendingLog(org.hex),
          entries: [
            {
              id: pending.id,
              sortKey: BigInt(pending.receivedAt),
              value: encodeStored(promoted),
            },
          ],
        },
      );
      txn.emits.push([
        "message:waiting-for-key",
        {
          organizationId: org.hex,
          channelId: pending.channelId,
          keyId: keyIdHex,
          pendingId: pending.id,
        },
      ]);
      c.runtime.background(org.hex, () => c.recovery.onWaiting(org, pending.channelId, keyIdHex));
    }
    if (named) txn.epochChanged = true;
  }

  /**
   * A group message none of our groups opens (docs/SECURITY.md, "Unknown key ids"), judged by
   * what owner-signed records say of its key id (`key-evidence.ts`). Only a newer epoch this member
   * is entitled to is announced and recovered; a foreign one is kept silently (bounded) and costs
   * at most a rate-limited look at the keys topics' history, never a resync.
   */
  async #unopened(
    org: Org,
    received: ReceivedGroupMessage,
    pending: PendingMessage | undefined,
  ): Promise<"done" | "waiting"> {
    const c = this.#c;
    const { channelId, topic, id, message } = received;
    const keyIdHex = toHex(message.keyId);
    const verdict = unopenedVerdict(org, keyIdHex, c.p.identity.publicKey);
    if (verdict === "foreign") {
      if (pending !== undefined) return "waiting";
      await this.#keep(org, received, true);
      // A hint at most (anyone can write any key id): the keys topics' history may hold the
      // roster this member missed. Rate-limited per group, never a resync.
      if (org.role !== "owner") await c.recovery.probe(org, channelId);
      return "waiting";
    }
    if (verdict === "waiting") {
      if (pending === undefined) {
        await this.#keep(org, received, false);
      } else if (pending.foreign === true) {
        // Ours now (an owner-signed record names its epoch): announced and recovered from here on.
        await this.#keep(org, received, false, pending);
      }
      return "waiting";
    }
    // Never ours: its epoch's roster does not list this member (an epoch before it joined, or
    // after it left: Welcomes hold the joined epoch only, `historyPolicy` "joined"), or its epoch
    // is one this client has passed (retention over, or bridged): no resync brings it back.
    const reason = verdict === "not-entitled" ? "not-entitled" : "epoch-unavailable";
    c.report({ component, reason, topic });
    if (pending === undefined || pending.foreign === true) {
      c.sync.seen.add(id);
      if (pending !== undefined) await this.#dropPending(org, pending.id);
      return "done";
    }
    // Announced as waiting while its epoch's roster was unknown: end the wait now rather than
    // after `maxPendingAgeMs`.
    const txn = newTxn(org);
    this.#undecryptable(org, txn, pending, "epoch-unavailable");
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
   * (`message:waiting-for-key`) and recovered, or — `foreign`, a message whose key id no
   * owner-signed record names, or a restricted channel's that is not ours (yet) — kept silently
   * within the foreign buffer's limits (`foreign-buffer.ts`).
   * @param replacing - the foreign record of the same message, promoted to a waiting one
   */
  async #keep(
    org: Org,
    received: ReceivedGroupMessage,
    foreign: boolean,
    replacing?: PendingMessage,
  ): Promise<void> {
    const c = this.#c;
    const { channelId, topic, payload, id, message } = received;
    if (org.pending.has(id) && replacing === undefined) return;
    const keyId = toHex(message.keyId);
    const txn = newTxn(org);
    if (replacing !== undefined) {
      org.pending.delete(replacing.id);
      txn.ops.push({ type: "deleteEntries", log: pendingLog(org.hex), ids: [replacing.id] });
    }
    if (foreign) {
      const evict = foreignEvictions(org.pending.values(), { keyId, bytes: payload.length });
      if (evict === undefined) {
        c.report({ component, reason: "foreign-too-large", topic });
        return;
      }
      for (const old of evict) {
        const evicted = org.pending.get(old);
        org.pending.delete(old);
        c.report({ component, reason: "foreign-evicted", topic: evicted?.topic ?? topic });
      }
      if (evict.length > 0) {
        txn.ops.push({ type: "deleteEntries", log: pendingLog(org.hex), ids: evict });
      }
      if (![...org.pending.values()].some((p) => p.foreign === true) && this.#full(org)) {
        // Only genuine waiting messages left, and no room: junk never takes their place.
        c.report({ component, reason: "foreign-buffer-full", topic });
        if (evict.length > 0) await c.persistence.commit(org, txn);
        return;
      }
    }
    this.#makeRoom(org, txn);
    const pending: PendingMessage = {
      id,
      topic,
      channelId,
      keyId,
      payload,
      receivedAt: replacing?.receivedAt ?? c.sync.arrivalOf(id) ?? c.now(),
      ...(foreign ? { foreign: true as const } : {}),
    };
    org.pending.set(id, pending);
    txn.ops.push({
      type: "append",
      log: pendingLog(org.hex),
      entries: [{ id, sortKey: BigInt(pending.receivedAt), value: encodeStored(pending) }],
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
    if (org.role !== "owner") await c.recovery.onWaiting(org, channelId, keyId);
  }

  #full(org: Org): boolean {
    return org.pending.size >= this.#c.p.config.maxPendingMessages;
  }

  /** Frees one place in a full pending buffer: a foreign message first (silently), else the oldest. */
  #makeRoom(org: Org, txn: Txn): void {
    if (!this.#full(org)) return;
    const byAge = [...org.pending.values()].sort((a, b) => a.receivedAt - b.receivedAt);
    const foreign = byAge.find((p) => p.foreign === true);
    if (foreign !== undefined) {
      org.pending.delete(foreign.id);
      txn.ops.push({ type: "deleteEntries", log: pendingLog(org.hex), ids: [foreign.id] });
      this.#c.report({ component, reason: "foreign-evicted", topic: foreign.topic });
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

  /** The content topic of `channelId` (a channel of `org`'s state), computed once. */
  #topicOf(org: Org, channelId: string): string {
    let topics = this.#topics.get(org);
    if (topics === undefined) {
      topics = new Map();
      this.#topics.set(org, topics);
    }
    let topic = topics.get(channelId);
    if (topic === undefined) {
      topic = channelTopic(org.id, channelId);
      topics.set(channelId, topic);
    }
    return topic;
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
   * @throws {NotMemberError} / {ChannelAccessError} / {KeysNotReadyError} / {AbortError} /
   *   {OwnerForkDetectedError}
   */
  send(
    org: Org,
    channelId: string,
    signal: AbortSignal | undefined,
    body: ChannelBodyInit,
  ): Promise<string> {
    // No async function around a send: its frame held every register of the whole send (~1.3 KB
    // allocated per send). The checks and the work before a window's re-key run here, the rest in
    // `#finish`; a thrown error is the promise's rejection, as from an async function.
    try {
      const sending = this.#begin(org, channelId, signal, body);
      // Removals and adds wait in the group's windows: the owner runs them first (no call, no
      // await when neither waits).
      return sending.rekeyFirst
        ? this.#finishAfterRekey(org, sending, signal)
        : this.#finish(org, sending, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A send's checks, its message encoded, its unit of work (see {@link Messages.send}). */
  #begin(
    org: Org,
    channelId: string,
    signal: AbortSignal | undefined,
    body: ChannelBodyInit,
  ): Sending {
    const c = this.#c;
    checkSignal(signal);
    if (org.role !== "owner" && org.role !== "member") throw new NotMemberError(org.hex);
    // A halted owner device (another one writes as owner: owner-device.ts) posts nothing.
    if (org.role === "owner") c.ownerDevices.check(org);
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
    const topic = this.#topicOf(org, channelId);
    // Encoded once: the group message's content, and (decoded) the event the log keeps.
    const content = encodeChannelMessage(message);
    const encrypted = state.encrypted;
    const groupId = encrypted && isRestricted(state, channelId) ? channelId : "";
    return {
      message,
      topic,
      txn: newTxn(org),
      content,
      encrypted,
      groupId,
      rekeyFirst:
        encrypted &&
        org.role === "owner" &&
        (org.owner.pendingRemovals.has(groupId) || org.owner.pendingAdds.has(groupId)),
    };
  }

  /** {@link Messages.send} when a window waits in the message's group: its re-key first. */
  async #finishAfterRekey(
    org: Org,
    sending: Sending,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    if (org.role === "owner") {
      await this.#c.epochs.rekeyBeforeSend(org, sending.txn, sending.groupId);
    }
    return this.#finish(org, sending, signal);
  }

  /**
   * The rest of a send: seal, record, commit. @returns the commit's promise of the id
   * @throws as {@link Messages.send}, synchronously
   */
  #finish(org: Org, sending: Sending, signal: AbortSignal | undefined): Promise<string> {
    const c = this.#c;
    const { txn, content, groupId } = sending;
    let bytes: Uint8Array;
    if (sending.encrypted) {
      const group =
        org.role === "owner" ? org.owner.groups.get(groupId) : org.member.groups.get(groupId);
      if (group === undefined || (group instanceof MemberGroup && group.status !== "member")) {
        throw new KeysNotReadyError(org.hex, groupId);
      }
      c.restore.check(org, groupId, group.epoch);
      if (group instanceof MemberGroup && holdsDeparted(org, group.roster)) {
        // Removed or banned, and the owner's KeyUpdate not here yet: this epoch is still theirs.
        throw new FreshKeysPendingError(org.hex, groupId, "removal");
      }
      checkSignal(signal);
      bytes = group.encrypt({ contentType: channelContentType, content });
      // Saved only when the send changed its head (a new stretch of generations reserved, then
      // committed durably): 63 sends in 64 leave it byte-identical. A group left to rewrite by a
      // failed commit is saved by the next commit whatever it holds (`Persistence`).
      if (group.sendChangedHead) txn.groups.add(groupId);
    } else {
      checkSignal(signal);
      return this.#finishPublic(org, sending);
    }
    return this.#record(org, sending, bytes);
  }

  /** A public channel's message: sealed in a signed envelope (an await), then recorded. */
  async #finishPublic(org: Org, sending: Sending): Promise<string> {
    const c = this.#c;
    const { message } = sending;
    const bytes = await sealEnvelope(
      {
        type: "channel-message",
        organizationId: org.id,
        clock: message.clock,
        contentTopic: sending.topic,
        message,
      },
      org.role === "owner" ? org.owner.signer : c.identitySigner,
    );
    return this.#record(org, sending, bytes);
  }

  /** Records a sealed message in the send's unit of work and commits it. @returns the id, once committed */
  #record(org: Org, sending: Sending, bytes: Uint8Array): Promise<string> {
    const c = this.#c;
    const { txn, topic, message } = sending;
    // The same id as `hashId` (hex SHA-256), by the provider's hash (node:crypto under Node).
    const id = payloadId(c.p.provider, bytes);
    // Seen in memory only: the event log's record of it (its id applied) is what proves it sent
    // after a restart (`Sync`, after the durable seen log), so no durable seen mark is written.
    c.sync.seen.add(id);
    txn.outbox.push({ id, topic, bytes });
    // Recorded from the fields it encoded (what a receiver decodes), not by decoding `content`.
    const fields = sentChannelFields(message) ?? decodeChannelMessage(sending.content);
    // Encrypted in the group of its channel: proven like a received one (see `onChannel`).
    c.eventLog.applyChannelMessage(org, txn, fields, id, sending.encrypted);
    return c.persistence.commit(org, txn).then(() => id);
  }
}

/** A send between its checks and its seal ({@link Messages.send}). */
interface Sending {
  /** The `ChannelMessage` sent, as encoded. */
  readonly message: {
    readonly organizationId: Uint8Array;
    readonly channelId: string;
    readonly author: Uint8Array;
    readonly clock: bigint;
    readonly sentAt: bigint;
    readonly body: ChannelBodyInit;
  };
  readonly topic: string;
  readonly txn: Txn;
  /** The encoded `ChannelMessage`: a group message's content. */
  readonly content: Uint8Array;
  readonly encrypted: boolean;
  /** The message's group ("" for the organization's): encrypted organizations only. */
  readonly groupId: string;
  /** Whether the owner re-keys the group (a removal or add window waits) before sealing. */
  readonly rekeyFirst: boolean;
}
