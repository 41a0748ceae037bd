import type { CallOptions, Store } from "@orgchat/store";

/**
 * How many message ids the client remembers in memory as seen (about 150 bytes each: ~10 MB at
 * most). Beyond it the oldest are forgotten: a message whose id was forgotten costs one lookup in
 * the durable seen log when it comes again, and a dropped one (never stored) is judged again, which
 * ends the same way. Without a bound, a flood of distinct junk grows the set for as long as the
 * client runs (docs/SECURITY.md, row 5).
 */
export const maxSeenIds = 65_536;

/**
 * The ids of messages processed or published (hex SHA-256 of the payload), the newest `capacity`
 * of them: adding past it forgets the oldest. `has` does not refresh an id (a message is processed
 * once; re-deliveries come soon after).
 */
export class SeenIds {
  readonly #ids = new Set<string>();
  readonly #capacity: number;

  /**
   * @param capacity - how many ids to remember @default maxSeenIds
   * @throws {RangeError} when `capacity` is not a positive integer
   */
  constructor(capacity: number = maxSeenIds) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity: expected a positive integer, got ${capacity}`);
    }
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#ids.size;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  add(id: string): this {
    if (this.#ids.has(id)) return this;
    this.#ids.add(id);
    if (this.#ids.size > this.#capacity) {
      const oldest = this.#ids.values().next();
      if (oldest.done !== true) this.#ids.delete(oldest.value);
    }
    return this;
  }

  delete(id: string): boolean {
    return this.#ids.delete(id);
  }
}

/**
 * Bounds of the durable seen log (`seen/<org>`, one entry of about 72 bytes per message that
 * authenticated, its sort key the local time it was committed): marks older than `horizonMs` are
 * deleted, `pruneBatch` at a time (docs/SECURITY.md, "The seen log").
 *
 * Why a mark may go: it is an early, cheap refusal, not the only one. A message whose mark was
 * pruned and that comes again is judged again and refused where it was first accepted: a group
 * message's generation was consumed (`DuplicateMessageError`) or its epoch's keys are erased; a
 * pairwise message's ratchet key was consumed (the X3DH initial message's ephemeral key is
 * recorded); a signed channel message's event id is held by the event log (`duplicate`); a
 * KeyUpdate chunk or roster of an epoch already reached changes nothing. What the mark saves is
 * that work for honest re-deliveries: history reads overlap the last sweep by a minute, and a start
 * reads the whole inbox again from the store. A store keeps a message at most its retention (30
 * days at an orgchat service node), and a message is archived no later than it was processed (plus
 * the node's 20-second skew): `horizonMs` = 35 days is past both with 5 days for clocks that disagree,
 * so an honest re-delivery finds its
 * mark, and the log holds the marks of 35 days of traffic, not of all time.
 */
export const seenLogLimits = {
  /** Marks committed longer ago than this are pruned: 35 days. */
  horizonMs: 35 * 24 * 60 * 60 * 1000,
  /** Marks deleted by one {@link pruneSeenLog} call (one range read and one delete). */
  pruneBatch: 1024,
} as const;

/**
 * Whether a client may prune its seen logs: not while history retention is on
 * (`maxMessagesPerChannel` > 0). A post trimmed at a start leaves the state with its event id, so
 * for a signed post (a public organization) the seen mark is then the only thing that refuses its
 * replay: a replay after the mark was pruned would be shown again. (A group message is refused by
 * its consumed generation either way.)
 *
 * @param maxMessagesPerChannel - the client's `config.maxMessagesPerChannel`
 * @returns true when {@link pruneSeenLog} keeps the guarantee that no message is accepted twice
 */
export function mayPruneSeenLog(maxMessagesPerChannel: number): boolean {
  return maxMessagesPerChannel === 0;
}

/** What {@link pruneSeenLog} may change from {@link seenLogLimits}. */
export interface PruneSeenLogOptions extends CallOptions {
  /** @default seenLogLimits.horizonMs */
  readonly horizonMs?: number;
  /** @default seenLogLimits.pruneBatch */
  readonly maxEntries?: number;
}

/**
 * Deletes up to `maxEntries` marks of a durable seen log committed before `now - horizonMs`, oldest
 * first (see {@link seenLogLimits}): one `range` and one `deleteEntries`, so a call costs what it
 * deletes, whatever the log's size. Call it again while it returns `maxEntries`. Safe at any point
 * of a crash: it deletes only marks past the horizon, which nothing needs.
 *
 * @param store - the client's store
 * @param log - the seen log (`seen/<org>`)
 * @param now - the local clock (ms), as the marks' sort keys were written
 * @param options - horizon and batch size (defaults: `seenLogLimits`), an abort signal
 * @returns how many marks were deleted
 * @throws {RangeError} when `now`, `horizonMs` or `maxEntries` is not a non-negative safe integer
 * @throws what the store's `range` or `deleteEntries` throws
 * @example
 * ```ts
 * while ((await pruneSeenLog(store, `seen/${orgHex}`, Date.now())) === seenLogLimits.pruneBatch);
 * ```
 */
export async function pruneSeenLog(
  store: Store,
  log: string,
  now: number,
  options: PruneSeenLogOptions = {},
): Promise<number> {
  const horizonMs = options.horizonMs ?? seenLogLimits.horizonMs;
  const maxEntries = options.maxEntries ?? seenLogLimits.pruneBatch;
  for (const [name, value] of [
    ["now", now],
    ["horizonMs", horizonMs],
    ["maxEntries", maxEntries],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${name}: expected a non-negative safe integer, got ${value}`);
    }
  }
  const cutoff = now - horizonMs;
  if (cutoff <= 0 || maxEntries === 0) return 0;
  const call = options.signal === undefined ? undefined : { signal: options.signal };
  const old = await store.range(log, { before: BigInt(cutoff), limit: maxEntries }, call);
  if (old.length === 0) return 0;
  return store.deleteEntries(
    log,
    old.map((entry) => entry.id),
    call,
  );
}
