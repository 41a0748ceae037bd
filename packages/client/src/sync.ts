import { equalBytes } from "@orgchat/base";
import type { Transport, TransportMessage } from "@orgchat/transport";
import {
  channelTopic,
  decodeSignedEnvelope,
  descriptionTopic,
  keysTopic,
  MessageType,
  requestsTopic,
} from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { receiveDelegateEvent } from "./delegate-events.js";
import { payloadId } from "./encoding.js";
import type { Org, Txn } from "./org.js";
import { describeAfterCatchUp, receiveOwnerKeys } from "./owner-follow.js";
import { seenLog } from "./persistence.js";
import { mayPruneSeenLog, pruneSeenLog, SeenIds } from "./seen-ids.js";

/**
 * A history sweep reads each topic from its mark less this much: a message stamped a little before
 * the mark (sender clock skew, a store that files late) is still read.
 */
export const sweepOverlapMs = 60_000;

/**
 * Live channel messages that arrived while the client was busy are processed together, this many
 * at most per batch: one commit for all of them (`Persistence.batched`). Bigger batches save fsyncs
 * and store calls; smaller ones tell the app sooner.
 */
export const maxReceiveBatch = 64;

/**
 * At most this many live channel messages wait for processing per organization (about 150 KiB
 * each at most: ~600 MiB in the worst case, ~1 MiB for chat-sized messages); beyond it a message is
 * dropped unprocessed, not marked seen, and the history sweep reads it again later.
 */
export const maxQueuedReceives = 4096;

/**
 * How many payloads this client published last are kept to recognise their own copies coming back
 * (self-delivery) by their bytes, before any hashing: an echo comes back soon after its publish, and
 * a miss only costs the hash and the seen lookup it would have cost anyway.
 */
export const maxEchoes = 8;

/** What a content topic carries, and for which organization (none for the inbox). */
export interface Route {
  readonly org: string | undefined;
  readonly kind: "description" | "requests" | "inbox" | "keys" | "channel";
  readonly channelId: string;
}

/** What reading history found. */
export interface BackfillResult {
  /** Messages processed that were not seen before. */
  readonly fresh: number;
  /** Whether every topic was read to its end. */
  readonly complete: boolean;
}

/**
 * Sync: the topic router (one route per content topic, the subscriptions each role needs), dedupe
 * (`seen`, in memory and the durable seen log), and history: backfill, catch-up after a restart
 * and the periodic sweep with persisted per-topic marks. Every network message enters through
 * `receive` (live) or `#read` (history) and reaches its component through `process`.
 * Owns: routes, `seen`, the inbox subscription, the sweep timer and back-off, `Org.marks`.
 */
export class Sync {
  readonly #c: ClientCore;
  readonly #routes = new Map<string, Route>();
  /** Ids (hex SHA-256 of the payload) processed or published by this client (the newest ones). */
  readonly seen = new SeenIds();
  /** The payloads published last (at most `maxEchoes`, oldest first), see {@link Sync.published}. */
  readonly #echoes: Uint8Array[] = [];
  /** When each message being processed reached the network or this client (see `arrivalOf`). */
  readonly #arrivals = new Map<string, number>();
  #inboxSubscription: { unsubscribe(): Promise<void> } | undefined;
  /** Whether the transport could carry publishes at its last status change. */
  #online = false;
  /** Whether the transport was online since start (only a later return is a reconnection). */
  #wasOnline = false;
  #offStatus: (() => void) | undefined;
  /** A reconnection's flush and catch-up is running; another return asked for one more after it. */
  #reconnecting = false;
  #reconnectAgain = false;
  #sweepTimer: unknown;
  #sweepDelay: number;
  /** The inbox's sweep mark (in memory: a start reads the whole inbox again). */
  #inboxMark: number | undefined;
  /** Per organization, live channel messages waiting for their batch (bounded, see above). */
  readonly #queued = new Map<
    string,
    Array<{ route: Route; message: TransportMessage; id: string; arrivedAt: number }>
  >();

  constructor(core: ClientCore) {
    this.#c = core;
    this.#sweepDelay = core.p.config.syncIntervalMs;
  }

  /** Listens to this identity's inbox. */
  async start(): Promise<void> {
    const c = this.#c;
    this.#routes.set(c.inbox, { org: undefined, kind: "inbox", channelId: "" });
    this.#inboxSubscription = await c.p.transport.subscribe([c.inbox], (message) =>
      this.receive(message),
    );
    this.#online = c.p.transport.status === "online";
    this.#wasOnline = this.#online;
    this.#offStatus = c.p.transport.on("status:changed", ({ status }) => this.#onStatus(status));
  }

  /**
   * Back online after losing every peer (not the first connection after start): what the outbox kept (publishes that failed meanwhile) goes
   * out now, not at the next tick, and each organization reads what it missed from history (a live
   * subscription delivers nothing that was published while it was away). Only on the change from
   * offline to online: one background task per reconnection, whatever the network sends.
   */
  #onStatus(status: string): void {
    const c = this.#c;
    const was = this.#online;
    this.#online = status === "online";
    if (this.#online && !this.#wasOnline) {
      // The first connection after start: the start's own catch-up covers it.
      this.#wasOnline = true;
      return;
    }
    if (!this.#online || was || c.runtime.closed) return;
    // A connection that flaps (a peer dropping and coming back every few hundred ms) must not queue
    // one catch-up of every organization per return: at most one runs, and one more after it.
    if (this.#reconnecting) {
      this.#reconnectAgain = true;
      return;
    }
    this.#reconnecting = true;
    c.runtime.background(undefined, async () => {
      try {
        do {
          this.#reconnectAgain = false;
          for (const org of c.orgs.values()) await c.persistence.flushOutbox(org);
          for (const org of c.orgs.values()) await this.catchUp(org);
        } while (this.#reconnectAgain && !c.runtime.closed);
      } finally {
        this.#reconnecting = false;
      }
    });
  }

  /** The topics this client listens to for `org`, for its role and the channels it knows. */
  #topicsOf(org: Org): Map<string, Route> {
    const topics = new Map<string, Route>();
    const state = org.log.state;
    const add = (topic: string, kind: Route["kind"], channelId = "") =>
      topics.set(topic, { org: org.hex, kind, channelId });
    if (org.role === "owner") {
      add(requestsTopic(org.id), "requests");
      // Delegates' decisions (docs/DELEGATION.md, "Decisions reach everyone"), then their commits
      // of the organization's group ("The owner returns"): read in this order from history.
      add(descriptionTopic(org.id), "description");
      add(keysTopic(org.id), "keys");
    } else {
      add(descriptionTopic(org.id), "description");
      add(keysTopic(org.id), "keys");
    }
    const member = org.role === "owner" || org.role === "member" || org.role === "requester";
    for (const channelId of state.channels.keys()) {
      if (member || !state.encrypted) add(channelTopic(org.id, channelId), "channel", channelId);
      if (org.role !== "owner") add(keysTopic(org.id, channelId), "keys", channelId);
    }
    return topics;
  }

  /** Subscribes to the topics `org` needs now and drops the others. @returns the topics added */
  async syncSubscriptions(org: Org): Promise<string[]> {
    if (this.#c.runtime.closed) return [];
    const wanted = this.#topicsOf(org);
    const added: string[] = [];
    for (const [topic, route] of wanted) {
      this.#routes.set(topic, route);
      if (org.subscriptions.has(topic)) continue;
      const subscription = await this.#c.p.transport.subscribe([topic], (message) =>
        this.receive(message),
      );
      org.subscriptions.set(topic, subscription);
      added.push(topic);
    }
    for (const [topic, subscription] of org.subscriptions) {
      if (wanted.has(topic)) continue;
      org.subscriptions.delete(topic);
      await subscription.unsubscribe().catch(() => undefined);
    }
    return added;
  }

  /**
   * Notes a payload this client just published (its id is marked seen): its own copy, if the
   * transport delivers one back, is dropped on its bytes alone.
   */
  published(payload: Uint8Array): void {
    const echoes = this.#echoes;
    if (echoes.length >= maxEchoes) echoes.shift();
    echoes.push(payload);
  }

  /** Whether `payload` is one just published (forgotten once matched: one echo each). */
  #isEcho(payload: Uint8Array): boolean {
    const echoes = this.#echoes;
    for (let i = 0; i < echoes.length; i++) {
      const echo = echoes[i] as Uint8Array;
      if (echo.length === payload.length && equalBytes(echo, payload)) {
        echoes.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  /** A live message: dropped if seen or not routed, else queued for `process`. */
  receive(message: TransportMessage): void {
    const c = this.#c;
    if (c.runtime.closed) return;
    // Our own copy (self-delivery): its id was marked seen when it was published.
    if (this.#echoes.length > 0 && this.#isEcho(message.payload)) return;
    // The message id (`hashId`), by the provider's SHA-256 (node:crypto under Node).
    const id = payloadId(c.p.provider, message.payload);
    if (this.seen.has(id)) return;
    const route = this.#routes.get(message.contentTopic);
    if (route === undefined) return;
    const arrivedAt = c.now();
    const org = route.org;
    if (route.kind !== "channel" || org === undefined) {
      c.runtime.background(org, () => this.process(route, message, id, arrivedAt));
      return;
    }
    let queue = this.#queued.get(org);
    if (queue === undefined) {
      queue = [];
      this.#queued.set(org, queue);
      c.runtime.background(org, () => this.#drain(org));
    }
    if (queue.length >= maxQueuedReceives) {
      c.report({
        component: "client/sync",
        reason: "receive-queue-full",
        topic: message.contentTopic,
      });
      return;
    }
    queue.push({ route, message, id, arrivedAt });
  }

  /**
   * Processes the live channel messages queued for `orgHex`, `maxReceiveBatch` at a time, each
   * batch one commit; what arrives meanwhile waits for the next batch.
   */
  async #drain(orgHex: string): Promise<void> {
    const c = this.#c;
    const queue = this.#queued.get(orgHex);
    if (queue === undefined) return;
    const batch = queue.splice(0, maxReceiveBatch);
    if (queue.length === 0) this.#queued.delete(orgHex);
    else c.runtime.background(orgHex, () => this.#drain(orgHex));
    const org = c.orgs.get(orgHex);
    if (org === undefined) return;
    await c.persistence.batched(org, async () => {
      for (const { route, message, id, arrivedAt } of batch) {
        await this.process(route, message, id, arrivedAt);
      }
    });
  }

  /**
   * When a message being processed arrived: the local clock when it came live; for one read from
   * history, the time its store archived it (the transport's timestamp), never later than the local
   * clock. `undefined` outside `process`. A post's claimed `sentAt` is shown only when it agrees
   * with this (docs/CLIENT.md, "Post times").
   */
  arrivalOf(id: string): number | undefined {
    return this.#arrivals.get(id);
  }

  /**
   * Retries the messages waiting for a key (`Messages.retryPending`), each with the time it first
   * arrived, so that a post that waited shows when it was received, not when its key came.
   */
  async retryPending(org: Org): Promise<void> {
    const registered: string[] = [];
    for (const pending of org.pending.values()) {
      if (this.#arrivals.has(pending.id)) continue;
      this.#arrivals.set(pending.id, pending.receivedAt);
      registered.push(pending.id);
    }
    try {
      await this.#c.messages.retryPending(org);
    } finally {
      for (const id of registered) this.#arrivals.delete(id);
    }
  }

  /**
   * Hands a message not seen yet to the component its route names (inside the queue).
   * @param arrivedAt - when it came live (local clock); absent for history reads
   */
  async process(
    route: Route,
    message: TransportMessage,
    id: string,
    arrivedAt?: number,
  ): Promise<void> {
    if (this.seen.has(id)) return;
    const now = this.#c.now();
    const archived = message.timestamp;
    this.#arrivals.set(
      id,
      arrivedAt ??
        (Number.isFinite(archived) && archived > 0 ? Math.min(Math.trunc(archived), now) : now),
    );
    try {
      await this.#dispatch(route, message, id);
    } finally {
      this.#arrivals.delete(id);
    }
  }

  async #dispatch(route: Route, message: TransportMessage, id: string): Promise<void> {
    const c = this.#c;
    if (route.kind === "inbox") {
      await c.pairwise.onInbox(message, id);
      return;
    }
    const org = route.org === undefined ? undefined : c.orgs.get(route.org);
    if (org === undefined) return;
    if (await c.p.store.getEntry(seenLog(org.hex), id)) {
      this.seen.add(id);
      return;
    }
    // A channel message's id is its event's: one the state applied was processed. An own send has
    // no durable seen mark: the events log and the state snapshot prove it.
    if (route.kind === "channel" && org.log.state.applied.has(id)) {
      this.seen.add(id);
      return;
    }
    org.lastSeen = Math.max(org.lastSeen, message.timestamp);
    switch (route.kind) {
      case "description":
        if (org.role !== "owner") await c.descriptionSync.onDescription(org, message, id);
        else await this.#onOwnerDescription(org, message, id);
        break;
      case "requests":
        // A halted owner (another device writes as owner) leaves requests unread: the device kept
        // reads them from history.
        if (org.role === "owner" && org.owner.device.fork === undefined) {
          await c.ownerRequests.onRequestsTopic(org, message, id);
        }
        break;
      case "keys":
        if (org.role !== "owner") await c.keySync.onKeys(org, route.channelId, message, id);
        else if (route.channelId === "") await receiveOwnerKeys(c, org, message, id);
        break;
      case "channel":
        await c.messages.onChannel(org, route.channelId, message.contentTopic, message.payload, id);
        break;
    }
  }

  /**
   * The owner reads its description topic for delegates' decisions only (its own descriptions and
   * the delegates' bundles are of no use to it): the envelope type is read before anything else.
   */
  async #onOwnerDescription(org: Org, message: TransportMessage, id: string): Promise<void> {
    let type: number;
    try {
      type = decodeSignedEnvelope(message.payload).type;
    } catch {
      return;
    }
    // Another owner device's bundle (docs/RESTORE.md, "Two owner devices at once").
    if (type === MessageType.PREKEY_BUNDLE && org.role === "owner") {
      await this.#c.ownerDevices.onBundle(org, message.payload, message.contentTopic, id);
      return;
    }
    if (type !== MessageType.DELEGATE_EVENT) return;
    // A halted owner ratifies nothing: the device kept reads the decisions from history.
    if (org.role === "owner" && org.owner.device.fork !== undefined) return;
    await receiveDelegateEvent(this.#c, org, message.payload, message.contentTopic, id);
  }

  /** Marks a processed message as seen, durably, in the transaction's batch. */
  markSeen(_org: Org, txn: Txn, id: string): void {
    this.seen.add(id);
    txn.seen.push(id);
  }

  /**
   * Keeps a processed message seen in memory only: what it carried was dropped or held, and a
   * durable mark would cost bytes per junk message (docs/SECURITY.md, row 5). A restart may read it
   * again from history (from the sweep mark less the overlap: bounded), and judge it again.
   */
  seenInMemoryOnly(txn: Txn, id: string): void {
    const at = txn.seen.indexOf(id);
    if (at >= 0) txn.seen.splice(at, 1);
  }

  /**
   * Reads one topic from history (oldest first) and processes what was not seen yet.
   * @returns how many messages it committed, and whether the topic was read to its end
   */
  async #read(
    topic: string,
    route: Route,
    since: number | undefined,
    organizationId: string | undefined,
    newestFirst?: { readonly enough: () => boolean },
  ): Promise<{ fresh: number; ended: boolean; oldest: number | undefined }> {
    const c = this.#c;
    let fresh = 0;
    let oldest: number | undefined;
    let cursor: string | undefined;
    for (let page = 0; page < c.p.config.maxBackfillPages; page++) {
      let result: Awaited<ReturnType<Transport["queryHistory"]>>;
      try {
        result = await c.p.transport.queryHistory({
          contentTopics: [topic],
          direction: newestFirst === undefined ? "forward" : "backward",
          pageSize: 100,
          ...(since === undefined ? {} : { from: since }),
          ...(cursor === undefined ? {} : { cursor }),
        });
      } catch (error) {
        c.emitter.emit(
          "error",
          organizationId === undefined ? { error } : { organizationId, error },
        );
        return { fresh, ended: false, oldest };
      }
      const page = async () => {
        for (const message of result.messages) {
          if (oldest === undefined || message.timestamp < oldest) oldest = message.timestamp;
          const id = payloadId(this.#c.p.provider, message.payload);
          if (this.seen.has(id)) continue;
          await this.process(route, message, id);
          if (this.seen.has(id)) fresh++;
        }
      };
      // A page of a channel: one commit for what it brings (`Persistence.batched`).
      const org =
        route.kind === "channel" && route.org !== undefined ? c.orgs.get(route.org) : undefined;
      if (org === undefined) await page();
      else await c.persistence.batched(org, page);
      if (result.cursor === undefined) return { fresh, ended: true, oldest };
      if (newestFirst?.enough() === true) return { fresh, ended: false, oldest };
      cursor = result.cursor;
    }
    return { fresh, ended: false, oldest };
  }

  /**
   * Reads one topic of `org` newest first, processing what was not seen yet, page by page (100
   * messages) until `enough()` says so after a page, history ends, or `maxBackfillPages` pages were
   * read. For a reader that needs only the latest state (the newest description, the newest roster
   * snapshot and the deltas after it) instead of replaying the topic from its start: what it costs
   * depends on how far back that state is, not on the length of history. Messages are processed in
   * the order read (newest first): the component must accept pieces before their base (deltas wait).
   *
   * @returns how many messages it committed, whether history was read to its start (`ended`), and
   *   the oldest timestamp read (to read forward from there later)
   */
  async readNewestFirst(
    org: Org,
    topic: string,
    enough: () => boolean,
  ): Promise<{ fresh: number; ended: boolean; oldest: number | undefined }> {
    if (!this.#c.p.transport.capabilities.history) {
      return { fresh: 0, ended: false, oldest: undefined };
    }
    const route = this.#routes.get(topic);
    if (route === undefined) return { fresh: 0, ended: false, oldest: undefined };
    return this.#read(topic, route, undefined, org.hex, { enough });
  }

  /**
   * Reads topics of `org` from history and processes what was not seen yet.
   * @param from - per topic, the time to read from (all of history when absent)
   */
  async backfill(
    org: Org,
    topics: readonly string[],
    from?: number | ((topic: string) => number | undefined),
  ): Promise<BackfillResult> {
    if (!this.#c.p.transport.capabilities.history) return { fresh: 0, complete: false };
    let fresh = 0;
    let complete = true;
    for (const topic of topics) {
      const route = this.#routes.get(topic);
      if (route === undefined) continue;
      const since = typeof from === "function" ? from(topic) : from;
      const read = await this.#read(topic, route, since, org.hex);
      fresh += read.fresh;
      if (!read.ended) complete = false;
    }
    return { fresh, complete };
  }

  /** The inbox from history (from `from`, or all of it). */
  async backfillInbox(from?: number): Promise<BackfillResult> {
    const c = this.#c;
    if (!c.p.transport.capabilities.history) return { fresh: 0, complete: false };
    const route: Route = { org: undefined, kind: "inbox", channelId: "" };
    const read = await this.#read(c.inbox, route, from, undefined);
    return { fresh: read.fresh, complete: read.ended };
  }

  /** Member: the keys topics' history, for the rosters a waiting Welcome or KeyUpdate needs. */
  async backfillKeys(org: Org): Promise<BackfillResult> {
    const topics = [keysTopic(org.id)];
    for (const id of org.log.state.channels.keys()) topics.push(keysTopic(org.id, id));
    return this.backfill(org, topics);
  }

  /**
   * After a restart: every topic from its sweep mark (less the overlap), or from the beginning of
   * history when no sweep completed yet.
   */
  async catchUp(org: Org): Promise<void> {
    this.catchingUp.add(org.hex);
    try {
      await this.backfill(org, [...org.subscriptions.keys()], (topic) =>
        this.#sinceMark(org, topic),
      );
    } finally {
      this.catchingUp.delete(org.hex);
    }
    if (org.role === "owner") await describeAfterCatchUp(this.#c, org);
    await this.retryPending(org);
  }

  /**
   * Organizations whose history {@link Sync.catchUp} is reading now: an owner describes what it
   * folded from there once, after it (owner-follow.ts, `describeSoon`).
   */
  readonly catchingUp = new Set<string>();

  #sinceMark(org: Org, topic: string): number | undefined {
    const mark = org.marks.get(topic);
    return mark === undefined ? undefined : Math.max(0, mark - sweepOverlapMs);
  }

  /**
   * (Re)arms the history sweep in `delay` ms (an earlier sweep already armed wins). 0 means a gap
   * was seen: sweep now, and start the back-off again from `syncIntervalMs`.
   */
  scheduleSweep(delay: number = this.#sweepDelay): void {
    const c = this.#c;
    const config = c.p.config;
    if (config.syncIntervalMs <= 0 || c.runtime.closed || !c.p.transport.capabilities.history) {
      return;
    }
    if (delay === 0) this.#sweepDelay = config.syncIntervalMs;
    if (this.#sweepTimer !== undefined) {
      if (delay !== 0) return;
      c.p.timers.clearTimeout(this.#sweepTimer);
    }
    this.#sweepTimer = c.p.timers.setTimeout(() => {
      this.#sweepTimer = undefined;
      c.runtime.background(undefined, () => this.#sweep());
    }, delay);
  }

  /**
   * Anti-entropy (docs/CLIENT.md, "No missing keys"): reads every topic of every organization, and
   * the inbox, from history since its mark, so that what the network lost on the way (a channel
   * message, a request to join, a resync answer) is found while the client runs. Marks move to
   * the sweep's start once a topic was read to its end; the interval doubles while nothing new
   * turns up.
   */
  async #sweep(): Promise<void> {
    const c = this.#c;
    if (c.runtime.closed) return;
    const startedAt = c.now();
    let fresh = 0;
    const inbox = await this.backfillInbox(
      this.#inboxMark === undefined ? undefined : Math.max(0, this.#inboxMark - sweepOverlapMs),
    );
    fresh += inbox.fresh;
    if (inbox.complete) this.#inboxMark = startedAt;
    for (const org of [...c.orgs.values()]) {
      for (const topic of [...org.marks.keys()]) {
        if (!org.subscriptions.has(topic)) org.marks.delete(topic);
      }
      for (const topic of [...org.subscriptions.keys()]) {
        const result = await this.backfill(org, [topic], this.#sinceMark(org, topic));
        fresh += result.fresh;
        if (result.complete) org.marks.set(topic, startedAt);
      }
      await this.retryPending(org);
      // The marks, durably (a restart reads from them), when they moved.
      const meta = c.persistence.changedMetaOps(org);
      if (meta.ops.length > 0) {
        await c.p.store.batch(meta.ops);
        meta.done();
      }
      await c.recovery.recoverBehind(org);
      // Seen marks past the horizon (docs/SECURITY.md, "The seen log"): a batch a sweep.
      if (mayPruneSeenLog(c.p.config.maxMessagesPerChannel)) {
        await pruneSeenLog(c.p.store, seenLog(org.hex), c.now());
      }
    }
    const config = c.p.config;
    this.#sweepDelay =
      fresh > 0 ? config.syncIntervalMs : Math.min(this.#sweepDelay * 2, config.syncMaxIntervalMs);
    this.scheduleSweep(this.#sweepDelay);
  }

  /** Stops the sweep and every subscription (after the runtime closed). */
  /**
   * Stops listening to a forgotten organization: its subscriptions end, its topics route nowhere,
   * and what waited to be processed for it is dropped (`forgetOrganization`).
   */
  async forget(org: Org): Promise<void> {
    const c = this.#c;
    for (const [topic, route] of this.#routes)
      if (route.org === org.hex) this.#routes.delete(topic);
    this.#queued.delete(org.hex);
    if (org.role !== "owner" && org.member.resyncTimer !== undefined) {
      c.p.timers.clearTimeout(org.member.resyncTimer);
    }
    for (const subscription of org.subscriptions.values()) {
      await subscription.unsubscribe().catch(() => undefined);
    }
    org.subscriptions.clear();
  }

  async close(): Promise<void> {
    const c = this.#c;
    this.#offStatus?.();
    if (this.#sweepTimer !== undefined) c.p.timers.clearTimeout(this.#sweepTimer);
    for (const org of c.orgs.values()) {
      if (org.role === "owner") {
        if (org.owner.rekeyTimer !== undefined) c.p.timers.clearTimeout(org.owner.rekeyTimer);
      } else if (org.member.resyncTimer !== undefined) {
        c.p.timers.clearTimeout(org.member.resyncTimer);
      }
      for (const subscription of org.subscriptions.values()) {
        await subscription.unsubscribe().catch(() => undefined);
      }
      org.subscriptions.clear();
    }
    await this.#inboxSubscription?.unsubscribe().catch(() => undefined);
  }
}
