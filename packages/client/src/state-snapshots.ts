import {
  decodeSnapshot,
  encodeSnapshot,
  type JoinRequest,
  type OrgEvent,
  type OrgState,
} from "@orgchat/state";
import type { StoreOp } from "@orgchat/store";
import type { ClientCore } from "./core.js";
import { StoreCorruptedError } from "./errors.js";
import type { Org } from "./org.js";
import { eventsLog, messagesLog, orgSpace } from "./persistence.js";

/** The state snapshot record (`encodeSnapshot`): the fold of the events no longer in the events log. */
export const snapshotKey = "snapshot";

/**
 * When the events log is compacted into a state snapshot (docs/SCALE.md, "State snapshot"): once
 * the events appended since the last snapshot reach `keep + max(minEvents, snapshot bytes /
 * bytesPerEvent)` (so snapshots cost at most `bytesPerEvent` bytes written per event appended,
 * amortised: 250 B, ~400–600 B per admission of 1.5–2.5 events; 400 B before, traded for 1.6 times
 * the events held between snapshots: at 3,000 members ~2,400 instead of ~1,500, +195 KB of events
 * in the store, restart CPU 250 → 263 ms), and at close once they reach twice
 * `keep`. The `keep` newest events stay in the log: the window in which a late event still
 * re-folds in its place (the log's checkpoint interval).
 */
export const snapshotPolicy = Object.freeze({
  minEvents: 1_024,
  bytesPerEvent: 250,
  keep: 256,
  /**
   * A compaction that is due waits until no event was appended for this long (the client at rest
   * between bursts), so that a burst of messages is not held up by the fold; past twice its due
   * count it runs at once, inside the commit that reached it (a stream that never pauses).
   */
  quietMs: 250,
});

/**
 * The events log's compaction into a state snapshot, and history retention (docs/SCALE.md,
 * "State snapshot"). Owned by `Persistence`: counts the events each commit appends, and when
 * {@link snapshotPolicy} says so folds the oldest into the snapshot (`OrgLog.compact`), written
 * with the deletes of the events it covers in one batch. Restart reads the snapshot, then the
 * events after it.
 */
export class StateSnapshots {
  readonly #c: ClientCore;
  /** Per organization: events appended since the last snapshot, and its size (0 without one). */
  readonly #since = new Map<string, { events: number; bytes: number }>();
  /**
   * Per organization, the events a failed snapshot write covered: the log dropped them, the store
   * still holds them; the next snapshot (whose floor folds them too) deletes them.
   */
  readonly #uncommitted = new Map<string, string[]>();
  /** Per organization, the timer of a compaction that waits for a quiet moment, and the last append. */
  readonly #quiet = new Map<string, { timer: unknown; lastAppend: number }>();

  constructor(core: ClientCore) {
    this.#c = core;
  }

  /**
   * Starts the organization's log from its stored snapshot, if any (before the description and
   * the events after it are applied).
   * @returns the snapshot's size in bytes (0 without one)
   * @throws {StoreCorruptedError} when the snapshot is unreadable (truncated, altered, another
   *   organization's, another version)
   */
  async restore(org: Org): Promise<number> {
    const space = orgSpace(org.hex);
    const bytes = await this.#c.p.store.get(space, snapshotKey);
    if (bytes === undefined) return 0;
    try {
      org.log.restore(decodeSnapshot(bytes, org.hex));
    } catch (cause) {
      throw new StoreCorruptedError(`${space}/${snapshotKey}`, { cause });
    }
    return bytes.length;
  }

  /** Notes what a start loaded: `events` replayed after a snapshot of `bytes` bytes. */
  loaded(org: Org, events: number, bytes: number): void {
    this.#since.set(org.hex, { events, bytes });
  }

  /**
   * Counts the events a commit appended to the events log, and compacts when due.
   * @param appended - how many events the commit appended
   */
  appended(org: Org, appended: number): Promise<void> | undefined {
    let since = this.#since.get(org.hex);
    if (since === undefined) {
      since = { events: 0, bytes: 0 };
      this.#since.set(org.hex, since);
    }
    // Counted in place: no record per commit.
    since.events += appended;
    const events = since.events;
    const due = this.#due(since.bytes, false);
    if (events < snapshotPolicy.keep + due) return undefined;
    // Past twice its due count: at once (the events log must not grow without bound).
    if (events >= snapshotPolicy.keep + 2 * due) return this.compact(org, false);
    this.#whenQuiet(org);
    return undefined;
  }

  /** Events beyond the re-fold window after which a compaction is due. */
  #due(snapshotBytes: number, closing: boolean): number {
    const { minEvents, bytesPerEvent, keep } = snapshotPolicy;
    return closing ? keep : Math.max(minEvents, Math.ceil(snapshotBytes / bytesPerEvent));
  }

  /**
   * Compacts `org` once no event was appended for `snapshotPolicy.quietMs` (one timer per
   * organization, re-armed while events keep coming), as a background task of the queue.
   */
  #whenQuiet(org: Org): void {
    const c = this.#c;
    const now = c.now();
    const quiet = this.#quiet.get(org.hex);
    if (quiet !== undefined) {
      quiet.lastAppend = now;
      return;
    }
    const arm = (delay: number): unknown =>
      c.p.timers.setTimeout(() => {
        const entry = this.#quiet.get(org.hex);
        if (entry === undefined || c.runtime.closed) return;
        // An organization left or replaced since (its records deleted or rewritten): nothing to do.
        if (c.orgs.get(org.hex) !== org) {
          this.#quiet.delete(org.hex);
          return;
        }
        const waited = c.now() - entry.lastAppend;
        if (waited < snapshotPolicy.quietMs) {
          entry.timer = arm(snapshotPolicy.quietMs - waited);
          return;
        }
        this.#quiet.delete(org.hex);
        c.runtime.background(org.hex, async () => {
          if (c.orgs.get(org.hex) === org) await this.compact(org, false);
        });
      }, delay);
    this.#quiet.set(org.hex, { timer: arm(snapshotPolicy.quietMs), lastAppend: now });
  }

  /** Stops the compactions waiting for a quiet moment (at close: `compact(org, true)` follows). */
  stopWaiting(): void {
    for (const { timer } of this.#quiet.values()) this.#c.p.timers.clearTimeout(timer);
    this.#quiet.clear();
  }

  /**
   * Compacts when {@link snapshotPolicy} says so: the log folds its oldest events into its floor;
   * the floor (history retention applied) is written with the deletes of the events it covers in
   * one batch, so a crash leaves the old snapshot and every event, or the new snapshot and the
   * rest. A failed write is reported (`error`) and changes nothing stored: the events stay in the
   * events log until the next snapshot, which folds them too, deletes them (a start before it
   * replays them after the old snapshot).
   * @param closing - at close: due once `keep` events beyond the re-fold window were appended
   */
  async compact(org: Org, closing: boolean): Promise<void> {
    const since = this.#since.get(org.hex) ?? { events: 0, bytes: 0 };
    const { keep } = snapshotPolicy;
    const due = this.#due(since.bytes, closing);
    if (since.events < keep + due) return;
    const compaction = org.log.compact(keep);
    if (compaction === undefined) return;
    const pruned = this.#pruneMessages(org, this.#pruneRequests(org, compaction.state));
    const bytes = encodeSnapshot(pruned.state);
    const covered = [...(this.#uncommitted.get(org.hex) ?? []), ...compaction.covered];
    const ops: StoreOp[] = [
      { type: "put", space: orgSpace(org.hex), key: snapshotKey, value: bytes },
      { type: "deleteEntries", log: eventsLog(org.hex), ids: covered },
      ...pruned.ops,
    ];
    try {
      await this.#c.p.store.batch(ops);
    } catch (error) {
      this.#uncommitted.set(org.hex, covered);
      this.#c.emitter.emit("error", { organizationId: org.hex, error });
      return;
    }
    this.#uncommitted.delete(org.hex);
    this.#since.set(org.hex, { events: org.log.size, bytes: bytes.length });
  }

  /**
   * Strangers' ended requests leave the saved state (as their events leave the events log when
   * they end, `OwnerRequests`): a request rejected or cancelled whose requester is not a member,
   * once its re-request cool-down (counted from the decision's `sentAt`) is over at the client's
   * clock. Their ids stay applied (a re-delivered copy is a duplicate). The state in memory keeps
   * them until the next start.
   */
  #pruneRequests(org: Org, state: OrgState): OrgState {
    const cutoff = this.#c.now() - org.log.config.reRequestCooldownMs;
    const ended = (request: JoinRequest) =>
      (request.status === "rejected" || request.status === "cancelled") &&
      !state.members.has(request.requester) &&
      (request.decidedSentAt ?? request.sentAt) < cutoff;
    let any = false;
    for (const request of state.requests.values()) {
      if (ended(request)) {
        any = true;
        break;
      }
    }
    if (!any) return state;
    return { ...state, requests: state.requests.filter((request) => !ended(request)) };
  }

  /**
   * History retention in the snapshot (`config.maxMessagesPerChannel`, as {@link expireHistory} at
   * start): the posts of each channel but the newest that many leave the saved state, and their
   * records the messages log. The state in memory keeps them until the next start.
   */
  #pruneMessages(org: Org, state: OrgState): { state: OrgState; ops: StoreOp[] } {
    const keep = this.#c.p.config.maxMessagesPerChannel;
    if (keep <= 0 || state.messages.size <= keep) return { state, ops: [] };
    const byChannel = new Map<string, Array<{ id: string; clock: bigint }>>();
    for (const [id, message] of state.messages) {
      const list = byChannel.get(message.channelId) ?? [];
      list.push({ id, clock: message.clock });
      byChannel.set(message.channelId, list);
    }
    const ops: StoreOp[] = [];
    const gone: string[] = [];
    for (const [channelId, list] of byChannel) {
      if (list.length <= keep) continue;
      list.sort((a, b) => (a.clock < b.clock ? -1 : a.clock > b.clock ? 1 : a.id < b.id ? -1 : 1));
      const old = list.slice(0, list.length - keep).map((entry) => entry.id);
      gone.push(...old);
      ops.push({ type: "deleteEntries", log: messagesLog(org.hex, channelId), ids: old });
    }
    if (gone.length === 0) return { state, ops };
    const messages = state.messages.withMutations((map) => {
      for (const id of gone) map.delete(id);
    });
    return { state: { ...state, messages }, ops };
  }

  /**
   * History retention at start (`config.maxMessagesPerChannel`): the posts of each channel but the
   * newest that many, with the edits, deletions and pins that target them, are deleted from the
   * events and messages logs (one batch). Posts already in the snapshot count from the newest
   * events only (the snapshot itself was pruned when written).
   * @param stored - the events log, in its order (clock, then id)
   * @returns the ids of the events deleted
   */
  async expireHistory(
    org: Org,
    stored: ReadonlyArray<{ readonly event: OrgEvent }>,
  ): Promise<Set<string>> {
    const keep = this.#c.p.config.maxMessagesPerChannel;
    const expired = new Set<string>();
    if (keep <= 0) return expired;
    const posts = new Map<string, string[]>();
    for (const { event } of stored) {
      if (event.type !== "message.posted") continue;
      const ids = posts.get(event.body.channelId) ?? [];
      ids.push(event.id);
      posts.set(event.body.channelId, ids);
    }
    const ops: StoreOp[] = [];
    for (const [channelId, ids] of posts) {
      if (ids.length <= keep) continue;
      const old = ids.slice(0, ids.length - keep);
      for (const id of old) expired.add(id);
      ops.push({ type: "deleteEntries", log: messagesLog(org.hex, channelId), ids: old });
    }
    if (expired.size === 0) return expired;
    for (const { event } of stored) {
      if (
        (event.type === "message.edited" ||
          event.type === "message.deleted" ||
          event.type === "message.pinned") &&
        expired.has(event.body.messageId)
      ) {
        expired.add(event.id);
      }
    }
    ops.push({ type: "deleteEntries", log: eventsLog(org.hex), ids: [...expired] });
    await this.#c.p.store.batch(ops);
    return expired;
  }
}
