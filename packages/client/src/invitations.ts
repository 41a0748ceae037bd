import { toHex } from "@orgchat/base";
import { defaultReducerConfig, type OrgEventOf } from "@orgchat/state";
import { invitationFromWire } from "@orgchat/state/wire";
import type { LogEntry, StoreOp } from "@orgchat/store";
import type { OpenedEnvelope } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { eventContentId } from "./delegate-events.js";
import { isDelegate } from "./delegates.js";
import { decodeJson, encodeJson } from "./encoding.js";
import { UnknownTargetError } from "./errors.js";
import type { InvitationView } from "./types.js";

const component = "client/invitations";

/** Pending invitations: one record per inviting organization, keyed by its id (hex). */
export const invitationsSpace = "invitations";

/**
 * Ids of dismissed invitations (declined by the user, or evicted by the bound), each sorted by when
 * it expires: every start reads the inbox's history again, and a dismissed invitation must not come
 * back (nor, evicted, evict another one in turn on every start).
 */
export const dismissedInvitationsLog = "invitations-dismissed";

/**
 * Dismissed invitation ids remembered (the soonest to expire is forgotten first). Each is
 * remembered only until it expires (`invitationExpiryMs` after it was issued, when it would be
 * dropped as expired anyway); one forgotten early can show up again as pending if the inbox's
 * history still holds it.
 */
export const maxDismissedInvitations = 1_000;

/** An invitation waiting for this identity's answer. */
interface PendingInvitation {
  readonly event: OrgEventOf<"invitation.issued">;
  readonly receivedAt: number;
  /** Arrival order (many arrive in the same millisecond when the inbox's history is read). */
  readonly seq: number;
}

interface StoredInvitation extends PendingInvitation {
  readonly v: 1;
  /** The organization (hex), when the invitation is a delegate's (its author is the delegate). */
  readonly organizationId?: string;
}

/**
 * Invitations (issue #13, row 7): an invitation is an offer, not an adoption. Anyone can make an
 * organization key and sign an invitation to any inbox, so an incoming invitation is only kept as
 * pending (bounded by `maxPendingInvitations`, the oldest evicted, persisted) and shown
 * (`invitation:received`); no organization is adopted, stored or subscribed until the user accepts
 * it (`Membership.acceptInvitation`). Declining forgets it; a declined or evicted invitation's id is
 * remembered until it expires, so that reading the inbox's history again (every start) does not
 * bring it back. Owns: the pending invitations and the dismissed ids, in memory and in the store.
 */
export class Invitations {
  readonly #c: ClientCore;
  /** By organization id (hex), oldest arrival first. */
  readonly #pending = new Map<string, PendingInvitation>();
  /** Dismissed (declined or evicted) invitation id → when it expires. */
  readonly #dismissed = new Map<string, number>();
  #nextSeq = 0;

  constructor(core: ClientCore) {
    this.#c = core;
  }

  /** When an invitation can no longer be used: judged from the earlier of its claimed and received times. */
  #expiresAt(pending: PendingInvitation): number {
    return (
      Math.min(pending.event.sentAt, pending.receivedAt) + defaultReducerConfig.invitationExpiryMs
    );
  }

  /**
   * Reads the pending invitations and dismissed ids from the store; drops the expired ones and, if
   * the store holds more than the limits allow (a lower `maxPendingInvitations`), the oldest.
   * @throws the store's errors
   */
  async load(): Promise<void> {
    const c = this.#c;
    const now = c.now();
    const ops: StoreOp[] = [];
    const loaded: Array<PendingInvitation & { readonly key: string }> = [];
    for (const key of await c.p.store.keys(invitationsSpace)) {
      const bytes = await c.p.store.get(invitationsSpace, key);
      let stored: StoredInvitation | undefined;
      try {
        stored = bytes === undefined ? undefined : decodeJson<StoredInvitation>(bytes);
      } catch (error) {
        c.report({ component, reason: "unreadable-record", error });
      }
      if (
        stored?.v !== 1 ||
        (stored.organizationId ?? stored.event.author) !== key ||
        !Number.isSafeInteger(stored.seq) ||
        this.#expiresAt(stored) <= now
      ) {
        ops.push({ type: "delete", space: invitationsSpace, key });
        continue;
      }
      loaded.push({ key, event: stored.event, receivedAt: stored.receivedAt, seq: stored.seq });
    }
    loaded.sort((a, b) => a.seq - b.seq);
    this.#nextSeq = (loaded.at(-1)?.seq ?? -1) + 1;
    const excess = loaded.length - c.p.config.maxPendingInvitations;
    for (const [index, { key, ...pending }] of loaded.entries()) {
      if (index < excess) {
        ops.push({ type: "delete", space: invitationsSpace, key });
      } else {
        this.#pending.set(key, pending);
      }
    }
    const dismissed = await c.p.store.range(dismissedInvitationsLog);
    const gone: string[] = [];
    for (const [index, entry] of dismissed.entries()) {
      if (entry.sortKey <= BigInt(now) || index < dismissed.length - maxDismissedInvitations) {
        gone.push(entry.id);
      } else {
        this.#dismissed.set(entry.id, Number(entry.sortKey));
      }
    }
    if (gone.length > 0)
      ops.push({ type: "deleteEntries", log: dismissedInvitationsLog, ids: gone });
    if (ops.length > 0) await c.p.store.batch(ops);
  }

  /**
   * An invitation from this identity's inbox (the envelope is open and signed by the organization
   * key): kept as pending and announced, or dropped with a diagnostic. Adopts nothing.
   */
  async receive(
    opened: Extract<OpenedEnvelope, { type: "organization-invitation" }>,
    id: string,
    topic: string,
  ): Promise<void> {
    const c = this.#c;
    c.sync.seen.add(id);
    const hex = toHex(opened.organizationId);
    // The organization key's, or a delegate's (docs/DELEGATION.md, "Invitations by a delegate"):
    // the signer is the author; a delegate's is named by its content, as its issuer named it.
    const author = toHex(opened.signer);
    const byDelegate = author !== hex;
    const now = c.now();
    const mapped = invitationFromWire(
      opened.message,
      { id, author, clock: opened.clock, sentAt: now },
      c.memberId,
    );
    if (!mapped.ok) {
      c.report({ component, reason: "malformed", topic });
      return;
    }
    const event = byDelegate ? { ...mapped.value, id: eventContentId(mapped.value) } : mapped.value;
    if (event.body.invitee !== c.memberId) {
      c.report({ component, reason: "not-for-us", topic });
      return;
    }
    const org = c.orgs.get(hex);
    const unknownDelegate = org?.discovered === true && !isDelegate(org.log.state, author);
    if (byDelegate && (event.body.chatId !== "" || unknownDelegate)) {
      // Only the owner invites into a channel; a known organization says who its delegates are.
      c.report({ component, reason: "not-a-delegate", topic });
      return;
    }
    // Already in (or asked to be), or already in the organization's log (it was answered).
    if (org?.role === "owner" || org?.role === "member" || org?.role === "requester") return;
    if (org?.log.state.invitations.has(event.id) === true || this.#dismissed.has(event.id)) return;
    const pending: PendingInvitation = { event, receivedAt: now, seq: this.#nextSeq };
    if (this.#expiresAt(pending) <= now) {
      c.report({ component, reason: "expired", topic });
      return;
    }
    const previous = this.#pending.get(hex);
    if (previous?.event.id === event.id) return;
    const ops: StoreOp[] = [];
    // One invitation per organization, the newest by clock (the owner's before any delegate's);
    // the other is dismissed, so that a start reading the inbox's history again drops it without
    // a word.
    const previousOwners = previous?.event.author === hex;
    const keepPrevious =
      previous !== undefined &&
      (previousOwners === byDelegate ? previousOwners : previous.event.clock >= event.clock);
    if (previous !== undefined && keepPrevious) {
      c.report({ component, reason: "superseded", topic });
      this.#dismiss(pending, ops);
      await c.p.store.batch(ops);
      return;
    }
    if (previous !== undefined) this.#dismiss(previous, ops);
    this.#pending.delete(hex);
    for (const key of this.#overflow(now, ops)) {
      this.#pending.delete(key);
      ops.push({ type: "delete", space: invitationsSpace, key });
    }
    this.#pending.set(hex, pending);
    this.#nextSeq++;
    const stored: StoredInvitation = {
      v: 1,
      ...pending,
      ...(byDelegate ? { organizationId: hex } : {}),
    };
    ops.push({ type: "put", space: invitationsSpace, key: hex, value: encodeJson(stored) });
    await c.p.store.batch(ops);
    c.emitter.emit("invitation:received", {
      organizationId: hex,
      invitationId: id,
      chatId: event.body.chatId,
    });
  }

  /**
   * The pending invitations to drop so that one more fits: the expired ones, then the oldest one
   * from an organization this client does not know (a throwaway key), else the oldest one. Each
   * eviction of one that could still be used is reported and dismissed (in `ops`).
   */
  #overflow(now: number, ops: StoreOp[]): string[] {
    const c = this.#c;
    const drop = [...this.#pending]
      .filter(([, pending]) => this.#expiresAt(pending) <= now)
      .map(([hex]) => hex);
    const live = [...this.#pending.keys()].filter((hex) => !drop.includes(hex));
    const excess = live.length + 1 - c.p.config.maxPendingInvitations;
    if (excess <= 0) return drop;
    const unknown = live.filter((hex) => !c.orgs.has(hex));
    const known = live.filter((hex) => c.orgs.has(hex));
    for (const hex of [...unknown, ...known].slice(0, excess)) {
      const evicted = this.#pending.get(hex);
      if (evicted !== undefined) this.#dismiss(evicted, ops);
      drop.push(hex);
      c.report({ component, reason: "evicted", topic: c.inbox });
    }
    return drop;
  }

  /** The pending invitation of an organization (hex), if it can still be used. */
  get(organizationId: string): OrgEventOf<"invitation.issued"> | undefined {
    const pending = this.#pending.get(organizationId.toLowerCase());
    if (pending === undefined || this.#expiresAt(pending) <= this.#c.now()) return undefined;
    return pending.event;
  }

  /** The pending invitations that can still be used, oldest first. */
  list(): InvitationView[] {
    const c = this.#c;
    const now = c.now();
    const views: InvitationView[] = [];
    for (const [hex, pending] of this.#pending) {
      const expiresAt = this.#expiresAt(pending);
      if (expiresAt <= now) continue;
      const org = c.orgs.get(hex);
      views.push({
        organizationId: hex,
        invitationId: pending.event.id,
        chatId: pending.event.body.chatId,
        sentAt: pending.event.sentAt,
        receivedAt: pending.receivedAt,
        expiresAt,
        ...(org?.discovered === true ? { name: org.log.state.identity.displayName } : {}),
      });
    }
    return views;
  }

  /** Forgets the pending invitation of an organization (it was answered). */
  async forget(organizationId: string): Promise<void> {
    const hex = organizationId.toLowerCase();
    if (!this.#pending.delete(hex)) return;
    await this.#c.p.store.delete(invitationsSpace, hex);
  }

  /**
   * Declines the pending invitation of an organization: forgets it, and remembers its id until it
   * expires so that the inbox's history does not bring it back.
   * @returns the declined invitation's id
   * @throws {UnknownTargetError} when no invitation from that organization is pending
   */
  async decline(organizationId: string): Promise<string> {
    const hex = organizationId.toLowerCase();
    const pending = this.#pending.get(hex);
    if (pending === undefined) throw new UnknownTargetError("invitation", hex);
    const ops: StoreOp[] = [{ type: "delete", space: invitationsSpace, key: hex }];
    this.#dismiss(pending, ops);
    await this.#c.p.store.batch(ops);
    this.#pending.delete(hex);
    return pending.event.id;
  }

  /** Remembers an invitation's id until it expires (in `ops`), forgetting the soonest beyond the cap. */
  #dismiss(pending: PendingInvitation, ops: StoreOp[]): void {
    const expiresAt = this.#expiresAt(pending);
    const entry: LogEntry = {
      id: pending.event.id,
      sortKey: BigInt(Math.max(0, expiresAt)),
      value: new Uint8Array(0),
    };
    ops.push({ type: "append", log: dismissedInvitationsLog, entries: [entry] });
    this.#dismissed.set(entry.id, expiresAt);
    if (this.#dismissed.size <= maxDismissedInvitations) return;
    let soonest: [string, number] | undefined;
    for (const dismissed of this.#dismissed) {
      if (soonest === undefined || dismissed[1] < soonest[1]) soonest = dismissed;
    }
    if (soonest === undefined) return;
    this.#dismissed.delete(soonest[0]);
    ops.push({ type: "deleteEntries", log: dismissedInvitationsLog, ids: [soonest[0]] });
  }
}
