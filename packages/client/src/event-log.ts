import { toHex } from "@orgchat/base";
import type { MemberId, MessageRecord, OrgEvent, OrgEventOf } from "@orgchat/state";
import type { ChannelMessage } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { encodeJson, hashId } from "./encoding.js";
import type { ClientEventEntry, Org, Txn } from "./org.js";
import { provenLog } from "./persistence.js";
import type { MessageView } from "./types.js";

/**
 * Event-log bridge: adds events to an organization's `OrgLog` inside a unit of work, keeps what the
 * state refuses for now (held) or judges by its epoch instead (proven), and turns state changes and
 * message events into client events. Owns: `Org.heldEvents`, `Org.proven`, `Org.messageMeta`.
 */
export class EventLog {
  readonly #c: ClientCore;

  constructor(core: ClientCore) {
    this.#c = core;
  }

  /** Builds a local event of this identity (or the organization) with a content-hash id. */
  event<K extends OrgEvent["type"]>(
    org: Org,
    type: K,
    body: OrgEventOf<K>["body"],
    author: MemberId,
  ): OrgEventOf<K> {
    const draft = { type, author, clock: org.log.nextClock(), sentAt: this.#c.now(), body };
    return { id: hashId(encodeJson(draft)), ...draft } as unknown as OrgEventOf<K>;
  }

  /**
   * Adds an event to the log; remembers it for the batch, and the message events the app must hear
   * about (now, or when a later event or description explains them).
   * @returns the rejection reason, if refused in its place
   */
  add(org: Org, txn: Txn, event: OrgEvent, proven = false): string | undefined {
    const result = org.log.add(event);
    if (result.rejected?.reason === "duplicate") return "duplicate";
    txn.events.push(event);
    if (proven) {
      org.proven.set(event.id, event);
      txn.ops.push({
        type: "append",
        log: provenLog(org.hex),
        entries: [{ id: event.id, sortKey: event.clock, value: new Uint8Array(0) }],
      });
    }
    this.noteExplained(org, txn, result.explained ?? []);
    if (result.rejected !== undefined) {
      if (proven && this.record(org, event.id) !== undefined) {
        // Its epoch proves the author was a member when it was sent: removed or banned since, as
        // far as this member's state knows, it is still read (docs/CLIENT.md, "No missing keys").
        this.#noteMessageEvent(org, txn, event);
      } else if (event.type.startsWith("message.")) {
        org.heldEvents.set(event.id, event);
      }
      return result.rejected.reason;
    }
    this.#noteMessageEvent(org, txn, event);
    return undefined;
  }

  /**
   * A message as the state holds it or, when the state refuses it (its author removed or banned
   * since), as its proven events make it: the post and its author's own edits and deletion.
   */
  record(org: Org, id: string): MessageRecord | undefined {
    const state = org.log.state;
    const record = state.messages.get(id);
    if (record !== undefined) return record;
    const posted = org.proven.get(id);
    if (posted?.type !== "message.posted" || !state.channels.has(posted.body.channelId)) {
      return undefined;
    }
    let out: MessageRecord = {
      id,
      channelId: posted.body.channelId,
      author: posted.author,
      clock: posted.clock,
      text: posted.body.text,
      deleted: false,
      pinned: false,
    };
    const later = [...org.proven.values()]
      .filter(
        (event) =>
          event.author === posted.author &&
          (event.type === "message.edited" || event.type === "message.deleted") &&
          event.body.messageId === id,
      )
      .sort((a, b) => (a.clock < b.clock ? -1 : a.clock > b.clock ? 1 : 0));
    for (const event of later) {
      if (out.deleted) break;
      if (event.type === "message.edited") {
        out = { ...out, text: event.body.text, editedAt: event.clock };
      } else if (event.type === "message.deleted") {
        out = { ...out, text: "", deleted: true, deletedBy: event.author };
      }
    }
    return out;
  }

  #noteMessageEvent(org: Org, txn: Txn, event: OrgEvent): void {
    const entry = (name: MessageEventName, target: string): ClientEventEntry => [
      name,
      { message: this.view(org, target) },
    ];
    switch (event.type) {
      case "message.posted":
        txn.emits.push(entry("message:received", event.id));
        break;
      case "message.edited":
        txn.emits.push(entry("message:edited", event.body.messageId));
        break;
      case "message.deleted":
        txn.emits.push(entry("message:deleted", event.body.messageId));
        break;
      case "message.pinned":
        txn.emits.push(entry("message:pinned", event.body.messageId));
        break;
      default:
        break;
    }
  }

  /** Applies the events a description leaves out and the rebase explained, after a rebase. */
  noteExplained(org: Org, txn: Txn, ids: readonly string[]): void {
    for (const id of ids) {
      const held = org.heldEvents.get(id);
      if (held !== undefined) {
        org.heldEvents.delete(id);
        this.#noteMessageEvent(org, txn, held);
      }
    }
  }

  /** A message as the app sees it. */
  view(org: Org, id: string): MessageView {
    const record = this.record(org, id);
    const meta = org.messageMeta.get(id);
    return {
      id,
      organizationId: org.hex,
      channelId: record?.channelId ?? "",
      author: record?.author ?? "",
      text: record?.text ?? "",
      sentAt: meta?.sentAt ?? 0,
      clock: record?.clock ?? 0n,
      ...(meta?.replyTo === undefined || meta.replyTo === "" ? {} : { replyTo: meta.replyTo }),
      edited: record?.editedAt !== undefined,
      deleted: record?.deleted ?? false,
      pinned: record?.pinned ?? false,
      own:
        record !== undefined &&
        (record.author === this.#c.memberId || (org.role === "owner" && record.author === org.hex)),
    };
  }

  /**
   * @param proven - the epoch roster of its group message shows its author a member then, with
   *   access to the channel
   */
  applyChannelMessage(
    org: Org,
    txn: Txn,
    message: ChannelMessage,
    id: string,
    proven = false,
  ): void {
    const event = channelEvent(message, id);
    if (event === undefined) return;
    if (event.type === "message.posted") {
      const replyTo = message.body.case === "post" ? message.body.value.replyTo : "";
      org.messageMeta.set(id, {
        sentAt: event.sentAt,
        ...(replyTo === "" ? {} : { replyTo }),
      });
    }
    this.add(org, txn, event, proven);
  }

  /** Membership and organization events from the state's change within `txn`. */
  emitDiff(org: Org, txn: Txn): void {
    const before = txn.before;
    const after = org.log.state;
    if (before === after) return;
    const emit = this.#c.emitter;
    const organizationId = org.hex;
    for (const id of after.members.keys()) {
      if (!before.members.has(id)) emit.emit("member:joined", { organizationId, member: id });
    }
    for (const id of before.members.keys()) {
      if (after.members.has(id)) continue;
      if (after.banned.has(id)) emit.emit("member:banned", { organizationId, member: id });
      else if (
        [...after.leaveRequests.values()].some((r) => r.member === id && r.status === "accepted")
      )
        emit.emit("member:left", { organizationId, member: id });
      else emit.emit("member:removed", { organizationId, member: id });
    }
    for (const id of before.banned.keys()) {
      if (!after.banned.has(id)) emit.emit("member:unbanned", { organizationId, member: id });
    }
    for (const [id, member] of after.members) {
      const previous = before.members.get(id);
      if (previous !== undefined && !previous.roles.equals(member.roles)) {
        emit.emit("member:roles-changed", { organizationId, member: id, roles: [...member.roles] });
      }
    }
    if (after.clock !== before.clock)
      emit.emit("org:updated", { organizationId, clock: after.clock });
  }
}

type MessageEventName =
  | "message:received"
  | "message:edited"
  | "message:deleted"
  | "message:pinned";

/** The state event of a channel message (wire → state). */
function channelEvent(message: ChannelMessage, id: string): OrgEvent | undefined {
  const base = {
    id,
    author: toHex(message.author),
    clock: message.clock,
    sentAt: Number(message.sentAt),
  };
  const body = message.body;
  switch (body.case) {
    case "post":
      return {
        ...base,
        type: "message.posted",
        body: { channelId: message.channelId, text: body.value.text },
      };
    case "edit":
      return {
        ...base,
        type: "message.edited",
        body: { messageId: body.value.messageId, text: body.value.text },
      };
    case "delete":
      return { ...base, type: "message.deleted", body: { messageId: body.value.messageId } };
    case "pin":
      return {
        ...base,
        type: "message.pinned",
        body: { messageId: body.value.messageId, pinned: body.value.pinned },
      };
    default:
      return undefined;
  }
}
