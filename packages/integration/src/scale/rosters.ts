import { type CryptoProvider, type Roster, type RosterLeaf, rosterHash } from "@orgchat/crypto";
import type { EpochRoster, RosterPage } from "@orgchat/wire";
import { hex as toHex } from "./bytes.js";

/**
 * Epochs whose rosters a {@link SharedRosters} keeps (the newest ones). A lean member needs the
 * roster of the epoch its Welcome names, or of the KeyUpdate it applies: both are among the newest
 * few when it needs them.
 */
export const keptRosterEpochs = 8;

/** Announcements kept while the roster they build on has not arrived (bounded: hostile input). */
export const maxWaitingAnnouncements = 64;

/** A roster the owner announced, once it hashed to what the announcement says. */
export interface KnownRoster {
  readonly epoch: bigint;
  readonly keyId: Uint8Array;
  readonly previousKeyId: Uint8Array;
  readonly change: EpochRoster["change"];
  readonly roster: Roster;
  /** `rosterHash(roster)`, checked against the announcement's (a Welcome may take it as checked). */
  readonly rosterHash: Uint8Array;
}

/**
 * The epoch rosters of one group, rebuilt from the owner's `epoch-roster` announcements (deltas and
 * snapshot pages, docs/PROTOCOL.md "Epoch rosters") and kept once for every lean member of a
 * crowd: a real member does the same bookkeeping once for itself, so sharing it keeps 10,000 lean
 * members in memory without changing what each one's cryptography costs. Consecutive epochs share
 * leaf objects. The caller opens (verifies) the envelopes; this checks every roster's hash.
 */
export class SharedRosters {
  readonly #provider: CryptoProvider;
  readonly #byKeyId = new Map<string, KnownRoster>();
  /** Deltas whose previous roster is not known yet, by the previous key id. */
  readonly #waiting = new Map<string, EpochRoster>();
  /** Snapshot pages being collected, by key id. */
  readonly #pages = new Map<string, Map<number, RosterPage>>();
  readonly #listeners = new Set<(roster: KnownRoster) => void>();
  /** Announcements refused (a hash that does not match, pages that do not tile). */
  refused = 0;

  constructor(provider: CryptoProvider) {
    this.#provider = provider;
  }

  /** The roster of `keyId`, when known and still kept. */
  get(keyId: Uint8Array): KnownRoster | undefined {
    return this.#byKeyId.get(toHex(keyId));
  }

  /** Every roster kept (at most {@link keptRosterEpochs}). */
  all(): Iterable<KnownRoster> {
    return this.#byKeyId.values();
  }

  /** The newest roster known. */
  newest(): KnownRoster | undefined {
    let best: KnownRoster | undefined;
    for (const roster of this.#byKeyId.values())
      if (!best || roster.epoch > best.epoch) best = roster;
    return best;
  }

  /** Calls `listener` with every roster that becomes known. @returns a function that stops it */
  onRoster(listener: (roster: KnownRoster) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** One opened announcement (a delta, or one page of a snapshot). */
  add(message: EpochRoster): void {
    const keyIdHex = toHex(message.keyId);
    if (this.#byKeyId.has(keyIdHex)) return;
    if (message.body.case === "page") {
      const pages = this.#pages.get(keyIdHex) ?? new Map<number, RosterPage>();
      if (pages.size === 0) {
        if (this.#pages.size >= maxWaitingAnnouncements) return;
        this.#pages.set(keyIdHex, pages);
      }
      pages.set(message.body.value.pageIndex, message.body.value);
      if (pages.size < message.body.value.pageCount) return;
      this.#pages.delete(keyIdHex);
      const leaves = fromPages([...pages.values()]);
      if (leaves !== undefined) this.#accept(message, leaves);
      else this.refused++;
      return;
    }
    if (message.body.case !== "delta") return;
    const previous = this.#byKeyId.get(toHex(message.previousKeyId));
    if (previous === undefined) {
      if (this.#waiting.size < maxWaitingAnnouncements)
        this.#waiting.set(toHex(message.previousKeyId), message);
      return;
    }
    const delta = message.body.value;
    const leaves: Array<RosterLeaf | undefined> = previous.roster.slice(0, delta.leafCount);
    leaves.length = delta.leafCount;
    for (const index of delta.removedLeaves) leaves[index] = undefined;
    for (const { index, identityKey, signingKey, prekey } of delta.leaves) {
      leaves[index] = { identityKey, signingKey, prekey };
    }
    this.#accept(message, leaves);
  }

  #accept(message: EpochRoster, leaves: Array<RosterLeaf | undefined>): void {
    // Array.prototype.slice and `length =` leave holes: the group code expects `undefined` leaves.
    for (let i = 0; i < leaves.length; i++) if (!(i in leaves)) leaves[i] = undefined;
    const hash = rosterHash(this.#provider, leaves);
    if (toHex(hash) !== toHex(message.rosterHash)) {
      this.refused++;
      return;
    }
    const known: KnownRoster = {
      epoch: message.epoch,
      keyId: message.keyId,
      previousKeyId: message.previousKeyId,
      change: message.change,
      // Frozen, as a client's roster book holds them: `copyRoster` then checks without copying.
      roster: Object.freeze(leaves),
      rosterHash: hash,
    };
    const keyIdHex = toHex(message.keyId);
    this.#byKeyId.set(keyIdHex, known);
    while (this.#byKeyId.size > keptRosterEpochs) {
      let oldest: string | undefined;
      let epoch: bigint | undefined;
      for (const [key, roster] of this.#byKeyId) {
        if (epoch === undefined || roster.epoch < epoch) [oldest, epoch] = [key, roster.epoch];
      }
      this.#byKeyId.delete(oldest as string);
    }
    for (const listener of this.#listeners) listener(known);
    const next = this.#waiting.get(keyIdHex);
    if (next !== undefined) {
      this.#waiting.delete(keyIdHex);
      this.add(next);
    }
  }
}

/** The leaves of a complete snapshot (pages in any order), or undefined when they do not tile. */
function fromPages(pages: readonly RosterPage[]): Array<RosterLeaf | undefined> | undefined {
  const first = pages[0];
  if (first === undefined) return undefined;
  const leaves = new Array<RosterLeaf | undefined>(first.leafCount).fill(undefined);
  for (const page of pages) {
    if (page.leafCount !== first.leafCount || page.pageCount !== first.pageCount) return undefined;
    for (const { index, identityKey, signingKey, prekey } of page.leaves) {
      if (index >= first.leafCount) return undefined;
      leaves[index] = { identityKey, signingKey, prekey };
    }
  }
  return leaves;
}
