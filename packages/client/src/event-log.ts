import { toHex } from "@orgchat/base";
import {
  diffMap,
  type EvictedEvent,
  type LeaveRequest,
  type MemberId,
  type MessageRecord,
  type OrgEvent,
  type OrgEventOf,
  type RejectionReason,
} from "@orgchat/state";
import { channelTopic } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { hasDeparted, memberChanges } from "./departures.js";
import { encodeJson, hashId } from "./encoding.js";
import type { MessageMeta } from "./held-events.js";
import type { Org, Txn } from "./org.js";
import { heldLog } from "./persistence.js";
import { shownTime } from "./post-time.js";
import type { MessageView } from "./types.js";

const component = "client/event-log";

/**
 * The refusals a proven post overrides: its epoch's roster (owner-signed) shows its author a
 * member with access to the channel when the epoch began, and the description this member's state
 * comes from may not list the author or its access yet. Nothing else (a departure is checked on
 * arrival, `hasDeparted`).
 */
const provable: ReadonlySet<RejectionReason> = new Set(["unknown-member", "unauthorized"]);

/**
 * The fields of a channel message the log reads (a decoded `ChannelMessage` is one): a message this
 * client sends is recorded from the fields it encoded, without decoding its own bytes again
 * (`sentChannelFields` in messages.ts).
 */
export interface ChannelMessageFields {
  readonly channelId: string;
  readonly author: Uint8Array;
  readonly clock: bigint;
  readonly sentAt: bigint;
  readonly body:
    | { readonly case: "post"; readonly value: { readonly text: string; readonly replyTo: string } }
    | {
        readonly case: "edit";
        readonly value: { readonly messageId: string; readonly text: string };
      }
    | { readonly case: "delete"; readonly value: { readonly messageId: string } }
    | {
        readonly case: "pin";
        readonly value: { readonly messageId: string; readonly pinned: boolean };
      }
    | { readonly case: undefined; readonly value?: undefined };
}

/** An empty list, shared (what most adds evict or explain: nothing). */
const none: readonly never[] = Object.freeze([]);

/** What the transport knew of a channel message (see `EventLog.applyChannelMessage`). */
export interface ChannelMessageFacts {
  /** When it reached the network or this client (ms). */
  readonly receivedAt?: number;
}

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

  /**
   * Builds a local event of this identity (or the organization) with a content-hash id, stamped
   * with the log's next clock — and, for a decision on a request to join, after the request's own
   * clock (a stranger's request does not move the state's clock, yet the decision must sort after
   * it: docs/PROTOCOL.md, "Clocks").
   * @throws {ClockLimitError} (`@orgchat/state`) when no clock is left to stamp
   */
  event<K extends OrgEvent["type"]>(
    org: Org,
    type: K,
    body: OrgEventOf<K>["body"],
    author: MemberId,
  ): OrgEventOf<K> {
    let after: bigint | undefined;
    if (
      (type === "request.accepted" ||
        type === "request.rejected" ||
        type === "request.cancelled") &&
      "requestId" in body
    ) {
      after = org.log.state.requests.get(body.requestId)?.clock;
    }
    const draft = { type, author, clock: org.log.nextClock(after), sentAt: this.#c.now(), body };
    return { id: hashId(encodeJson(draft)), ...draft } as unknown as OrgEventOf<K>;
  }

  /**
   * Adds an event to the log in a unit of work. What the state applies (or, `proven` on a member's
   * side, refuses only because the description lags: its author or its channel access not listed
   * yet) is kept: stored
   * in the events log, and the message events the app must hear about are emitted (now, or when a
   * later event or description explains them). What the state refuses otherwise is held: bounded
   * (`heldEventLimits`, oldest evicted), in the `held/<id>` log, never in the events log.
   * @param meta - a post's times and reply link (kept with it)
   * @returns the rejection reason, if refused in its place
   */
  add(org: Org, txn: Txn, event: OrgEvent, proven = false, meta?: MessageMeta): string | undefined {
    const result = org.log.add(event);
    const refused = result.rejected;
    if (refused?.reason === "duplicate") return "duplicate";
    this.#forgetEvicted(org, txn, result.evicted ?? none);
    // The owner's state is the truth (it admits every member before its keys exist): nothing
    // lags there, so a post its state refuses in its place — e.g. a current member's post clocked
    // before it joined — is held, never shown by proof of epoch (issue #13 row 9).
    const overrides = proven && org.role !== "owner";
    if (refused !== undefined && !org.log.has(event.id)) {
      // Refused for good (malformed, e.g. a clock above the limit): the log keeps nothing to re-judge,
      // so neither does the held quota.
      this.#c.report({ component, reason: `refused-${refused.reason}` });
      if (event.type.startsWith("message.")) this.#c.sync.seenInMemoryOnly(txn, event.id);
      return refused.reason;
    }
    if (refused !== undefined && !(overrides && provable.has(refused.reason))) {
      this.#hold(org, txn, event, meta);
      // A held post is kept under the quota: a durable seen mark would outlive it (R5). Other
      // events keep theirs (their flows, e.g. a pairwise request's handshake, are not replayable).
      if (event.type.startsWith("message.")) this.#c.sync.seenInMemoryOnly(txn, event.id);
      this.noteExplained(org, txn, result.explained ?? none);
      return refused.reason;
    }
    if (meta !== undefined) org.messageMeta.set(event.id, meta);
    txn.events.push(event);
    // Proven: a flag on the event's own record in the events log (`Persistence.commit`).
    if (overrides) org.proven.set(event.id, event);
    this.noteExplained(org, txn, result.explained ?? none);
    if (refused !== undefined) {
      // Its epoch's roster proves the author a member (with access to the channel) when it was
      // sent, and nothing this member knows says it departed since (`hasDeparted`, checked on
      // arrival): read now, not when the description catches up (docs/CLIENT.md, "No missing keys").
      if (this.record(org, event.id) !== undefined) this.#noteMessageEvent(org, txn, event);
      return refused.reason;
    }
    this.#noteMessageEvent(org, txn, event);
    return undefined;
  }

  /** Holds a refused event under the quota (memory and `held/<id>`), evicting the oldest. */
  #hold(org: Org, txn: Txn, event: OrgEvent, meta: MessageMeta | undefined): void {
    const value = encodeJson(meta === undefined ? { event } : { event, meta });
    const evicted = org.heldEvents.add({
      event,
      ...(meta === undefined ? {} : { meta }),
      bytes: value.length,
    });
    const log = heldLog(org.hex);
    txn.ops.push({
      type: "append",
      log,
      entries: [{ id: event.id, sortKey: BigInt(this.#c.now()), value }],
    });
    if (evicted.length === 0) return;
    txn.ops.push({ type: "deleteEntries", log, ids: evicted });
    for (const _ of evicted) this.#c.report({ component, reason: "held-evicted" });
  }

  /** Forgets the held events the state's own buffer evicted (they can no longer apply). */
  #forgetEvicted(org: Org, txn: Txn, evicted: readonly EvictedEvent[]): void {
    if (evicted.length === 0) return;
    const ids = evicted.map((entry) => entry.event.id).filter((id) => org.heldEvents.has(id));
    if (ids.length === 0) return;
    for (const id of ids) org.heldEvents.delete(id);
    txn.ops.push({ type: "deleteEntries", log: heldLog(org.hex), ids });
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

  /**
   * Queues the message event of `event` for after the commit, with the message as it is now — when
   * the app listens to it (a view costs a record and an object per message: not built for nobody).
   */
  #noteMessageEvent(org: Org, txn: Txn, event: OrgEvent): void {
    let name: MessageEventName;
    let target: string;
    switch (event.type) {
      case "message.posted":
        name = "message:received";
        target = event.id;
        break;
      case "message.edited":
        name = "message:edited";
        target = event.body.messageId;
        break;
      case "message.deleted":
        name = "message:deleted";
        target = event.body.messageId;
        break;
      case "message.pinned":
        name = "message:pinned";
        target = event.body.messageId;
        break;
      default:
        return;
    }
    if (this.#c.emitter.has(name)) txn.emits.push([name, { message: this.view(org, target) }]);
  }

  /**
   * Keeps the held events that apply now (a later event or a description explained them): stored
   * in the events log from here, and their message events emitted.
   */
  noteExplained(org: Org, txn: Txn, ids: readonly string[]): void {
    if (ids.length === 0) return;
    const moved: string[] = [];
    for (const id of ids) {
      const held = org.heldEvents.delete(id);
      if (held === undefined) continue;
      moved.push(id);
      if (held.meta !== undefined) org.messageMeta.set(id, held.meta);
      txn.events.push(held.event);
      this.#noteMessageEvent(org, txn, held.event);
    }
    if (moved.length > 0)
      txn.ops.push({ type: "deleteEntries", log: heldLog(org.hex), ids: moved });
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
      receivedAt: meta?.receivedAt ?? meta?.sentAt ?? 0,
      shownAt: meta === undefined ? 0 : shownTime(meta.sentAt, meta.receivedAt),
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
   * Adds a channel message (received or own) to the log — unless what this client knows now says
   * its author departed (`hasDeparted`): then it is dropped, neither shown nor stored, whatever
   * epoch, clock or `sentAt` it carries (reported as `not-a-member`).
   * @param proven - the epoch roster of its group message shows its author a member then, with
   *   access to the channel
   * @param facts - what the transport knew of it: `receivedAt`, when it reached the network (a
   *   message that waited for its key: when it first arrived); by default when it arrived here
   */
  applyChannelMessage(
    org: Org,
    txn: Txn,
    message: ChannelMessageFields,
    id: string,
    proven = false,
    facts: ChannelMessageFacts = {},
  ): void {
    // An own send carries the key this client holds (the same bytes object): its hex is known.
    const c = this.#c;
    const author =
      message.author === org.id
        ? org.hex
        : message.author === c.p.identity.publicKey
          ? c.memberId
          : toHex(message.author);
    const event = channelEvent(message, id, author);
    if (event === undefined) return;
    // A member judges by the roster of its branch: `CommitForks` knows which branches lose.
    if (hasDeparted(org, event.author, message.channelId, c.keySync.forks)) {
      this.#c.report({
        component,
        reason: "not-a-member",
        topic: channelTopic(org.id, message.channelId),
      });
      this.#c.sync.seenInMemoryOnly(txn, id);
      return;
    }
    let meta: MessageMeta | undefined;
    if (event.type === "message.posted") {
      const replyTo = message.body.case === "post" ? message.body.value.replyTo : "";
      meta = {
        sentAt: event.sentAt,
        receivedAt: facts.receivedAt ?? c.sync.arrivalOf(id) ?? c.now(),
        ...(replyTo === "" ? {} : { replyTo }),
      };
    }
    this.add(org, txn, event, proven, meta);
  }

  /**
   * Membership and organization events from the state's change within `txn`: a structural diff of
   * the member, ban and leave maps (`diffMap`), so a commit costs what it changed, not the size of
   * the organization. A departed member "left" when a leave of theirs was accepted within `txn`.
   */
  emitDiff(org: Org, txn: Txn): void {
    const before = txn.before;
    const after = org.log.state;
    if (before === after) return;
    const emit = this.#c.emitter;
    const organizationId = org.hex;
    if (
      before.members === after.members &&
      before.banned === after.banned &&
      before.leaveRequests === after.leaveRequests
    ) {
      // A message (the common case): no member, ban or leave changed, nothing to diff.
      if (after.clock !== before.clock && emit.has("org:updated")) {
        emit.emit("org:updated", { organizationId, clock: after.clock });
      }
      return;
    }
    const left = new Set<MemberId>();
    const noteLeave = (_: string, leave: LeaveRequest) => {
      if (leave.status === "accepted") left.add(leave.member);
    };
    diffMap(before.leaveRequests, after.leaveRequests, {
      added: noteLeave,
      changed: (id, _, leave) => noteLeave(id, leave),
    });
    const { joined, departed, changed } = memberChanges(before.members, after.members);
    for (const member of joined) emit.emit("member:joined", { organizationId, member });
    for (const member of departed) {
      if (after.banned.has(member)) emit.emit("member:banned", { organizationId, member });
      else if (left.has(member)) emit.emit("member:left", { organizationId, member });
      else emit.emit("member:removed", { organizationId, member });
    }
    diffMap(before.banned, after.banned, {
      removed: (member) => emit.emit("member:unbanned", { organizationId, member }),
    });
    for (const [previous, member] of changed) {
      if (previous.roles.equals(member.roles)) continue;
      emit.emit("member:roles-changed", {
        organizationId,
        member: member.id,
        roles: [...member.roles],
      });
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

/** The state event of a channel message (wire → state), its author's hex given. */
function channelEvent(
  message: ChannelMessageFields,
  id: string,
  author: string,
): OrgEvent | undefined {
  // One literal per case (no base object spread into it), keys in the stored record's order.
  const clock = message.clock;
  const sentAt = Number(message.sentAt);
  const body = message.body;
  switch (body.case) {
    case "post":
      return {
        id,
        author,
        clock,
        sentAt,
        type: "message.posted",
        body: { channelId: message.channelId, text: body.value.text },
      };
    case "edit":
      return {
        id,
        author,
        clock,
        sentAt,
        type: "message.edited",
        body: { messageId: body.value.messageId, text: body.value.text },
      };
    case "delete":
      return {
        id,
        author,
        clock,
        sentAt,
        type: "message.deleted",
        body: { messageId: body.value.messageId },
      };
    case "pin":
      return {
        id,
        author,
        clock,
        sentAt,
        type: "message.pinned",
        body: { messageId: body.value.messageId, pinned: body.value.pinned },
      };
    default:
      return undefined;
  }
}
