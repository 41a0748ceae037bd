/**
 * A commit hidden by a partition, older than the sweep's overlap (docs/PROTOCOL.md, "Delegated
 * management", "Not closed", session 15): a committer alone behind a partition publishes a roster
 * and KeyUpdate chunks; while the partition hides them, every member's history sweep moves its
 * mark past their time, and after the heal a sweep reads from the mark less `sweepOverlapMs` only.
 * A member that learns the roster (so it has placed the commit: `CommitForks`) and needs the commit
 * (it wins at its parent, or follows the member's epoch) but holds no chunk of it reads the keys
 * topic of its group back to the roster's time. When that brings no chunk (the roster read was a
 * copy published later than the commit: the chunk is older), the topic is read newest first until
 * each such commit holds a chunk (`Sync.readNewestFirst`, at most `maxBackfillPages` pages).
 *
 * Bounded (every byte from the network is hostile): only for a roster that opened (owner- or
 * delegate-signed: a forged or unsigned one places nothing); once per commit (`maxAsked` commits
 * remembered per organization); after `resyncInitialBackoffMs` (a chunk on its way comes first),
 * and at most one read per organization per step of a back-off doubling to `resyncMaxBackoffMs`
 * (the commits that came due meanwhile share that read, and its newest-first read). Nothing is read
 * per stranger.
 *
 * @module
 */
import { keysTopic } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { type ResyncBackoff, resyncStep } from "./member-controller.js";
import type { MemberOrg } from "./org.js";
import { sweepOverlapMs } from "./sync.js";

/**
 * Bounds: `maxAsked` commits read for (once each), `maxTimes` roster times, `maxDue` commits
 * waiting for the timer, per organization (the oldest go first).
 */
export const hiddenCommitLimits = { maxAsked: 256, maxTimes: 256, maxDue: 64 } as const;

/**
 * What a commit misses: its group's keys topic is read back to its roster's time, or from the
 * start of history when its parent is unknown too (`fromStart`: the parent's commit, older, was
 * hidden as well; only its own later roster came).
 */
export interface Missing {
  readonly channelId: string;
  readonly fromStart: boolean;
}

/** A commit to read for: its group and the time its roster came. */
interface Due {
  readonly channelId: string;
  readonly time: number;
}

/** The reads of hidden commits, per organization (one per client). */
export class HiddenCommits {
  readonly #c: ClientCore;
  /** Whether commit `keyIdHex` is placed, needed and without a chunk (asked again at the read). */
  readonly #missing: (org: MemberOrg, keyIdHex: string) => Missing | undefined;
  readonly #times = new WeakMap<MemberOrg, Map<string, number>>();
  readonly #asked = new WeakMap<MemberOrg, Set<string>>();
  readonly #due = new WeakMap<MemberOrg, Map<string, Due>>();
  readonly #armed = new WeakSet<MemberOrg>();
  readonly #backoff = new WeakMap<MemberOrg, ResyncBackoff>();

  /**
   * @param missing - what commit `keyIdHex` misses when this member has placed it, needs it and
   *   holds no chunk of it, or knows nothing of its parent; undefined otherwise
   */
  constructor(
    core: ClientCore,
    missing: (org: MemberOrg, keyIdHex: string) => Missing | undefined,
  ) {
    this.#c = core;
    this.#missing = missing;
  }

  /**
   * The time commit `keyIdHex`'s roster came (for one read from history, the time its store
   * archived it: `Sync.arrivalOf`).
   */
  noteTime(org: MemberOrg, keyIdHex: string, time: number): void {
    const times = mapOf(this.#times, org);
    if (times.has(keyIdHex)) return;
    times.set(keyIdHex, time);
    trim(times, hiddenCommitLimits.maxTimes);
  }

  /** How many commits of `org` were read for (each once). */
  asked(org: MemberOrg): number {
    return this.#asked.get(org)?.size ?? 0;
  }

  /**
   * Commit `keyIdHex`'s roster is here: if it is missing its chunk now, a read back to its time is
   * armed (after `resyncInitialBackoffMs`; judged again then).
   */
  want(org: MemberOrg, keyIdHex: string): void {
    if (this.#asked.get(org)?.has(keyIdHex) === true) return;
    const time = this.#times.get(org)?.get(keyIdHex);
    if (time === undefined) return; // our own commit, or its roster not read from the network
    const missing = this.#missing(org, keyIdHex);
    if (missing === undefined) return;
    const due = mapOf(this.#due, org);
    due.set(keyIdHex, { channelId: missing.channelId, time: missing.fromStart ? 0 : time });
    trim(due, hiddenCommitLimits.maxDue);
    this.#arm(org, this.#c.p.config.resyncInitialBackoffMs);
  }

  #arm(org: MemberOrg, delay: number): void {
    const c = this.#c;
    if (this.#armed.has(org) || c.runtime.closed) return;
    this.#armed.add(org);
    c.p.timers.setTimeout(() => {
      this.#armed.delete(org);
      c.runtime.background(org.hex, () => this.#read(org));
    }, delay);
  }

  /** One read of the keys topics, back to the oldest commit still missing its chunk. */
  async #read(org: MemberOrg): Promise<void> {
    const c = this.#c;
    const due = this.#due.get(org);
    if (due === undefined) return;
    const missing = [...due].filter(([keyIdHex]) => this.#missing(org, keyIdHex) !== undefined);
    if (missing.length === 0) {
      due.clear();
      return;
    }
    const step = resyncStep({
      backoff: this.#backoff.get(org),
      now: c.now(),
      initialBackoffMs: c.p.config.resyncInitialBackoffMs,
      maxBackoffMs: c.p.config.resyncMaxBackoffMs,
      jitterByte: () => 0,
    });
    if (step.action === "wait") {
      this.#arm(org, step.retryIn);
      return;
    }
    this.#backoff.set(org, step.backoff);
    const asked = mapOfSet(this.#asked, org);
    const from = new Map<string, number>();
    for (const [keyIdHex, { channelId, time }] of missing) {
      asked.add(keyIdHex);
      const topic = topicOf(org, channelId);
      from.set(topic, Math.min(from.get(topic) ?? time, time));
    }
    due.clear();
    trim(asked, hiddenCommitLimits.maxAsked);
    for (const [topic, time] of from) {
      await c.sync.backfill(org, [topic], Math.max(0, time - sweepOverlapMs));
    }
    // Still no chunk: the roster came later than its commit (a copy published again after the
    // partition that hid both, e.g. owner seed 1, script 26): its chunk is older than that. Read
    // newest first (at most `maxBackfillPages` pages) until each such commit holds one.
    const older = missing.filter(([keyIdHex, { time }]) => {
      return time > 0 && this.#missing(org, keyIdHex) !== undefined;
    });
    const enough = () => older.every(([keyIdHex]) => this.#missing(org, keyIdHex) === undefined);
    for (const topic of new Set(older.map(([, due]) => topicOf(org, due.channelId)))) {
      if (enough()) return;
      await c.sync.readNewestFirst(org, topic, enough);
    }
  }
}

/** The keys topic of group `channelId` ("" for the organization's). */
function topicOf(org: MemberOrg, channelId: string): string {
  return channelId === "" ? keysTopic(org.id) : keysTopic(org.id, channelId);
}

function mapOf<V>(maps: WeakMap<MemberOrg, Map<string, V>>, org: MemberOrg): Map<string, V> {
  let map = maps.get(org);
  if (map === undefined) {
    map = new Map();
    maps.set(org, map);
  }
  return map;
}

function mapOfSet(sets: WeakMap<MemberOrg, Set<string>>, org: MemberOrg): Set<string> {
  let set = sets.get(org);
  if (set === undefined) {
    set = new Set();
    sets.set(org, set);
  }
  return set;
}

/** Drops the oldest entries past `max`. */
function trim(entries: Map<string, unknown> | Set<string>, max: number): void {
  for (const key of [...entries.keys()]) {
    if (entries.size <= max) return;
    entries.delete(key);
  }
}
