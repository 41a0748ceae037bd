/**
 * The rosters a client holds for one organization, and the pieces that do not make one yet (docs/
 * CLIENT.md, "Epoch rosters"): pure bookkeeping, no I/O — the client persists what it learns.
 */

import { equalBytes, toHex } from "@orgchat/base";
import { type CryptoProvider, type Roster, type RosterLeaf, rosterHash } from "@orgchat/crypto";
import type { RosterDelta, RosterPage, EpochRoster as WireEpochRoster } from "@orgchat/wire";
import { delegateRosterAllows } from "./delegate-commits.js";
import {
  applyRosterDelta,
  applyRosterDeltaInPlace,
  assembleRosterPages,
  changeFromWire,
  type EpochRoster,
} from "./epoch-roster.js";

/** Why a received roster was refused (it was owner-signed, but does not hash as announced). */
export type RosterRefusal =
  /** A delta applied to the roster it names, or a complete snapshot, hashes to something else. */
  | "hash-mismatch"
  /** A complete set of pages does not tile the roster. */
  | "inconsistent-pages"
  /** A delegate's delta writes a leaf that was not empty, or removes one (docs/DELEGATION.md). */
  | "delegate-overreach";

/** What {@link RosterBook.receive} made of a roster message. */
export type RosterReceipt =
  /** New rosters (the one received, then any waiting delta it unlocked), and the ids that made them. */
  | { readonly status: "learned"; readonly rosters: EpochRoster[]; readonly ids: string[] }
  /** The epoch's roster is known already. */
  | { readonly status: "known" }
  /** A delta whose previous roster is not here, or a page of an incomplete snapshot. */
  | { readonly status: "waiting" }
  | { readonly status: "refused"; readonly reason: RosterRefusal };

/** Limits of the pieces a {@link RosterBook} keeps while waiting, and of what it remembers. */
export const rosterBookLimits = {
  /**
   * Deltas waiting for their previous roster. A newest-first catch-up (`KeySync.catchUp`) reads
   * every delta published after the newest snapshot before it reaches that snapshot: the owner
   * publishes a snapshot once the deltas since the last one weigh as much as a snapshot
   * (`snapshotDue`), so one snapshot's worth of deltas must fit — a 10,000-member roster is about
   * 1 MB, i.e. ~4,000 one-leaf deltas. A member subscribed to a restricted channel's keys topic
   * without being in that group never gets the base: the oldest are dropped. Only owner-signed
   * deltas get here (opened first).
   */
  maxWaitingDeltas: 16_384,
  /**
   * The same deltas' weight (estimated as 96 bytes per leaf written, 4 per leaf removed and 128 for
   * the rest): 4 MiB holds a snapshot's worth of deltas for rosters up to ~40,000 members.
   */
  maxWaitingDeltaBytes: 4 * 1024 * 1024,
  /** Snapshots being collected at once (each up to `wireLimits.maxRosterPages` pages). */
  maxPartialSnapshots: 4,
  /**
   * Epochs remembered by key id after their roster was dropped (pruned, or skipped inside a chain):
   * what {@link RosterBook.named} answers for a late message of such an epoch. ~100 bytes each.
   */
  maxNames: 4_096,
} as const;

/** The weight {@link rosterBookLimits.maxWaitingDeltaBytes} counts for one delta. */
export function waitingDeltaBytes(delta: RosterDelta): number {
  return 128 + 96 * delta.leaves.length + 4 * delta.removedLeaves.length;
}

/** Where the client's store holds one roster (`roster-records.ts` maintains it). */
export interface StoredRosterInfo {
  readonly channelId: string;
  readonly epoch: bigint;
  /** A full roster, a delta from `previousKeyIdHex`'s record, or a JSON record of the old format. */
  readonly kind: "snapshot" | "delta" | "legacy";
  readonly previousKeyIdHex: string;
  /** The record's size. */
  readonly bytes: number;
  /** The bytes of the deltas from the snapshot it chains to, this one included (0 for a snapshot). */
  readonly chainBytes: number;
  /** Read back into memory at load (else only a base the next delta needs). */
  readonly kept: boolean;
  /** A delta record's bytes (small: rewritten when it stops being kept). */
  readonly value?: Uint8Array;
}

/** A decides-per-epoch predicate: whether the roster of an epoch must be kept when learned. */
export type RosterWanted = (keyIdHex: string, channelId: string, epoch: bigint) => boolean;

interface WaitingDelta {
  readonly message: WireEpochRoster;
  readonly id: string;
  readonly bytes: number;
  readonly previousHashHex: string;
}

interface PartialSnapshot {
  readonly message: WireEpochRoster;
  readonly pages: Map<number, RosterPage>;
  readonly ids: Set<string>;
}

function recordOf(message: WireEpochRoster, roster: Roster): EpochRoster | undefined {
  const change = changeFromWire(message.change);
  if (change === undefined) return undefined;
  return {
    change,
    channelId: message.channelId,
    epoch: message.epoch,
    keyId: message.keyId,
    previousKeyId: message.previousKeyId,
    rosterHash: message.rosterHash,
    previousRosterHash: message.previousRosterHash,
    roster,
  };
}

/**
 * The epoch rosters one organization's client holds, by key id, and what it received that does not
 * make a roster yet: deltas waiting for the roster they apply to, and snapshots missing pages.
 * Holds no secrets; does no I/O (the client persists what `receive` reports as learned).
 */
export class RosterBook {
  readonly #provider: CryptoProvider;
  readonly #byKeyId = new Map<string, EpochRoster>();
  readonly #byHash = new Map<string, EpochRoster>();
  /** The roster of the highest epoch held, per group (channel id; "" for the organization's). */
  readonly #newest = new Map<string, EpochRoster>();
  readonly #waitingDeltas = new Map<string, WaitingDelta>();
  /** Waiting deltas by the roster hash they apply to (hex) → their key ids (hex). */
  readonly #waitingByPrevious = new Map<string, Set<string>>();
  #waitingBytes = 0;
  readonly #partial = new Map<string, PartialSnapshot>();
  /** Epochs whose roster is not held (dropped, or skipped in a chain), newest last. */
  readonly #names = new Map<string, { readonly channelId: string; readonly epoch: bigint }>();
  /** The store's roster records, by key id (hex): maintained by `roster-records.ts`. */
  readonly records = new Map<string, StoredRosterInfo>();

  constructor(provider: CryptoProvider) {
    this.#provider = provider;
  }

  /** The provider rosters are hashed with. */
  get provider(): CryptoProvider {
    return this.#provider;
  }

  /** The key ids (hex) of the rosters held. */
  keys(): IterableIterator<string> {
    return this.#byKeyId.keys();
  }

  /** The rosters held, by key id (hex). */
  entries(): IterableIterator<[string, EpochRoster]> {
    return this.#byKeyId.entries();
  }

  /** The roster of the epoch named by `keyId` (hex), if held. */
  get(keyIdHex: string): EpochRoster | undefined {
    return this.#byKeyId.get(keyIdHex);
  }

  has(keyIdHex: string): boolean {
    return this.#byKeyId.has(keyIdHex);
  }

  values(): IterableIterator<EpochRoster> {
    return this.#byKeyId.values();
  }

  /** The roster of the highest epoch of group `channelId` held ("" for the organization's). */
  newest(channelId: string): EpochRoster | undefined {
    return this.#newest.get(channelId);
  }

  /** Adds a roster this client made (owner) or stored earlier. */
  add(record: EpochRoster): void {
    this.#names.delete(toHex(record.keyId));
    this.#byKeyId.set(toHex(record.keyId), record);
    this.#byHash.set(toHex(record.rosterHash), record);
    const newest = this.#newest.get(record.channelId);
    if (newest === undefined || record.epoch > newest.epoch)
      this.#newest.set(record.channelId, record);
  }

  /**
   * The group and epoch an owner-signed roster message this book holds names by `keyIdHex`: a
   * roster, or a delta or snapshot page still waiting for its other pieces (each was opened, so
   * owner-signed, before {@link RosterBook.receive} took it). Evidence that the epoch exists.
   */
  named(keyIdHex: string): { readonly channelId: string; readonly epoch: bigint } | undefined {
    const known =
      this.#byKeyId.get(keyIdHex) ??
      this.#waitingDeltas.get(keyIdHex)?.message ??
      this.#names.get(keyIdHex);
    if (known !== undefined) return { channelId: known.channelId, epoch: known.epoch };
    for (const [key, partial] of this.#partial) {
      if (key.startsWith(`${keyIdHex}/`)) {
        return { channelId: partial.message.channelId, epoch: partial.message.epoch };
      }
    }
    return undefined;
  }

  /**
   * Whether this book holds the roster of the epoch `keyIdHex` names, or held it (pruned since:
   * still named): unlike {@link RosterBook.named}, a delta or snapshot page waiting for its other
   * pieces does not count.
   */
  placed(keyIdHex: string): boolean {
    return this.#byKeyId.has(keyIdHex) || this.#names.has(keyIdHex);
  }

  /** Pieces waiting: for tests and diagnostics. */
  get waiting(): { readonly deltas: number; readonly snapshots: number } {
    return { deltas: this.#waitingDeltas.size, snapshots: this.#partial.size };
  }

  /** The estimated weight of the deltas waiting (see {@link rosterBookLimits}). */
  get waitingBytes(): number {
    return this.#waitingBytes;
  }

  /**
   * The highest epoch of group `channelId` this book knows to exist: held, waiting (a delta) or
   * named. A catch-up has read enough once it holds a roster that recent.
   */
  highestEpoch(channelId: string): bigint | undefined {
    let highest = this.#newest.get(channelId)?.epoch;
    for (const waiting of this.#waitingDeltas.values()) {
      const { message } = waiting;
      if (message.channelId === channelId && (highest === undefined || message.epoch > highest)) {
        highest = message.epoch;
      }
    }
    return highest;
  }

  /**
   * What this book knows of the epochs of group `channelId` strictly between `after` and `before`
   * (a gap a member bridges with a KeyUpdate of epoch `before`), from the rosters held and the
   * pieces waiting (each owner-signed): which ones a KeyUpdate started (`change` "rekey"), and which
   * ones it knows nothing of. A member's leaf secret steps over the KeyUpdates it missed
   * (`MemberGroup.applyKeyUpdate`; docs/PROTOCOL.md, "Re-keying").
   *
   * @param channelId - the group ("" for the organization's)
   * @param after - the member's current epoch
   * @param before - the epoch of the KeyUpdate it applies
   * @param limits - at most `rekeys` KeyUpdates (the oldest), and unknown epochs only when there are
   *   at most `unknown` of them
   * @returns ascending epochs: `rekeys`, and `unknown` (empty when there are more than the limit)
   */
  gapChanges(
    channelId: string,
    after: bigint,
    before: bigint,
    limits: { readonly rekeys: number; readonly unknown: number },
  ): { rekeys: bigint[]; unknown: bigint[] } {
    const known = new Map<bigint, string | undefined>();
    const note = (group: string, epoch: bigint, change: string | undefined) => {
      if (group === channelId && epoch > after && epoch < before) known.set(epoch, change);
    };
    for (const record of this.#byKeyId.values())
      note(record.channelId, record.epoch, record.change);
    for (const { message } of this.#waitingDeltas.values()) {
      note(message.channelId, message.epoch, changeFromWire(message.change));
    }
    for (const { message } of this.#partial.values()) {
      note(message.channelId, message.epoch, changeFromWire(message.change));
    }
    const byEpoch = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
    const rekeys = [...known]
      .filter(([, change]) => change === "rekey")
      .map(([epoch]) => epoch)
      .sort(byEpoch)
      .slice(0, limits.rekeys);
    const unknown: bigint[] = [];
    const span = before - after - 1n;
    if (span > 0n && span <= BigInt(known.size + limits.unknown)) {
      for (let epoch = after + 1n; epoch < before; epoch++) {
        if (!known.has(epoch)) unknown.push(epoch);
      }
    }
    return { rekeys, unknown: unknown.length <= limits.unknown ? unknown : [] };
  }

  /**
   * Forgets the roster of one epoch (pruning, `roster-records.ts`); the epoch stays named (a late
   * message of it is told from a foreign one). The newest roster of its group is never dropped.
   * @returns whether it was held and dropped
   */
  drop(keyIdHex: string): boolean {
    const record = this.#byKeyId.get(keyIdHex);
    if (record === undefined || this.#newest.get(record.channelId) === record) return false;
    this.#byKeyId.delete(keyIdHex);
    const hash = toHex(record.rosterHash);
    if (this.#byHash.get(hash) === record) this.#byHash.delete(hash);
    this.#name(keyIdHex, record);
    return true;
  }

  #name(keyIdHex: string, named: { readonly channelId: string; readonly epoch: bigint }): void {
    this.#names.delete(keyIdHex);
    this.#names.set(keyIdHex, { channelId: named.channelId, epoch: named.epoch });
    while (this.#names.size > rosterBookLimits.maxNames) {
      this.#names.delete(this.#names.keys().next().value as string);
    }
  }

  #wait(keyIdHex: string, waiting: WaitingDelta): void {
    this.#unwait(keyIdHex);
    this.#waitingDeltas.set(keyIdHex, waiting);
    this.#waitingBytes += waiting.bytes;
    const set = this.#waitingByPrevious.get(waiting.previousHashHex) ?? new Set<string>();
    set.add(keyIdHex);
    this.#waitingByPrevious.set(waiting.previousHashHex, set);
    while (
      this.#waitingDeltas.size > rosterBookLimits.maxWaitingDeltas ||
      this.#waitingBytes > rosterBookLimits.maxWaitingDeltaBytes
    ) {
      this.#unwait(this.#waitingDeltas.keys().next().value as string);
    }
  }

  #unwait(keyIdHex: string): WaitingDelta | undefined {
    const waiting = this.#waitingDeltas.get(keyIdHex);
    if (waiting === undefined) return undefined;
    this.#waitingDeltas.delete(keyIdHex);
    this.#waitingBytes -= waiting.bytes;
    const set = this.#waitingByPrevious.get(waiting.previousHashHex);
    set?.delete(keyIdHex);
    if (set?.size === 0) this.#waitingByPrevious.delete(waiting.previousHashHex);
    return waiting;
  }

  /**
   * Takes one opened roster message (`openEpochRoster`): applies a delta to the roster its
   * `previous_roster_hash` names, or files a snapshot page until every page is in. A result is
   * kept only if it hashes to `roster_hash`. Total: never throws on remote input.
   *
   * @param message - an opened, owner-signed roster message
   * @param id - the id of the envelope that carried it (reported back once it made a roster)
   * @param wanted - which epochs' rosters to keep when a chain of waiting deltas unlocks (all when
   *   absent): an epoch inside a chain that is not wanted is applied in place and never hashed nor
   *   kept — the chain's end is (it commits to the whole result), so a catch-up through thousands
   *   of deltas costs one copy and one hash of the roster, not one per delta
   */
  receive(message: WireEpochRoster, id: string, wanted?: RosterWanted): RosterReceipt {
    const keyIdHex = toHex(message.keyId);
    if (this.#byKeyId.has(keyIdHex)) return { status: "known" };
    const body = message.body;
    if (body.case === "delta") {
      const previous = this.#byHash.get(toHex(message.previousRosterHash));
      if (previous === undefined) {
        this.#wait(keyIdHex, {
          message,
          id,
          bytes: waitingDeltaBytes(body.value),
          previousHashHex: toHex(message.previousRosterHash),
        });
        return { status: "waiting" };
      }
      const outcome = this.#fromDelta(message, body.value, previous.roster);
      if (outcome.status !== "ok") return { status: "refused", reason: outcome.reason };
      return this.#learn(outcome.record, [id], wanted);
    }
    if (body.case !== "page") return { status: "refused", reason: "inconsistent-pages" };
    const page = body.value;
    const snapshotKey = `${keyIdHex}/${toHex(message.rosterHash)}/${page.pageCount}/${page.leafCount}`;
    let partial = this.#partial.get(snapshotKey);
    if (partial === undefined) {
      partial = { message, pages: new Map(), ids: new Set() };
      this.#partial.set(snapshotKey, partial);
      while (this.#partial.size > rosterBookLimits.maxPartialSnapshots) {
        const oldest = this.#partial.keys().next().value as string;
        this.#partial.delete(oldest);
      }
    }
    // A page index seen twice with other content (the owner re-paged) keeps the first: the hash
    // check below refuses a mix that does not fit, and the next snapshot starts afresh.
    if (!partial.pages.has(page.pageIndex)) partial.pages.set(page.pageIndex, page);
    partial.ids.add(id);
    if (partial.pages.size < page.pageCount) return { status: "waiting" };
    this.#partial.delete(snapshotKey);
    const roster = assembleRosterPages([...partial.pages.values()]);
    if (roster === undefined) return { status: "refused", reason: "inconsistent-pages" };
    if (!equalBytes(rosterHash(this.#provider, roster), message.rosterHash)) {
      return { status: "refused", reason: "hash-mismatch" };
    }
    const record = recordOf(partial.message, roster);
    if (record === undefined) return { status: "refused", reason: "inconsistent-pages" };
    return this.#learn(record, [...partial.ids], wanted);
  }

  #fromDelta(
    message: WireEpochRoster,
    delta: RosterDelta,
    previous: Roster,
  ): { status: "ok"; record: EpochRoster } | { status: "refused"; reason: RosterRefusal } {
    if (!delegateRosterAllows(message, previous)) {
      return { status: "refused", reason: "delegate-overreach" };
    }
    const roster = applyRosterDelta(previous, delta);
    const record = recordOf(message, roster);
    if (
      record === undefined ||
      !equalBytes(rosterHash(this.#provider, roster), message.rosterHash)
    ) {
      return { status: "refused", reason: "hash-mismatch" };
    }
    return { status: "ok", record };
  }

  /** Keeps a new roster, then applies every waiting delta it (transitively) unlocks. */
  #learn(first: EpochRoster, ids: string[], wanted?: RosterWanted): RosterReceipt {
    const rosters: EpochRoster[] = [];
    const queue = [first];
    for (let record = queue.shift(); record !== undefined; record = queue.shift()) {
      const keyIdHex = toHex(record.keyId);
      if (this.#byKeyId.has(keyIdHex)) continue;
      this.add(record);
      rosters.push(record);
      this.#unwait(keyIdHex);
      for (const key of [...this.#partial.keys()]) {
        if (key.startsWith(`${keyIdHex}/`)) this.#partial.delete(key);
      }
      for (const next of this.#successors(toHex(record.rosterHash))) {
        const chained = this.#chain(record, next, wanted);
        if (chained === undefined) continue;
        queue.push(chained.record);
        ids.push(...chained.ids);
      }
    }
    return { status: "learned", rosters, ids };
  }

  /** The waiting deltas that apply to the roster hashed `hashHex`, taken out of the buffer. */
  #successors(hashHex: string): WaitingDelta[] {
    const keyIds = this.#waitingByPrevious.get(hashHex);
    if (keyIds === undefined) return [];
    const out: WaitingDelta[] = [];
    for (const keyIdHex of [...keyIds]) {
      const waiting = this.#unwait(keyIdHex);
      if (waiting !== undefined && waiting.message.body.case === "delta") out.push(waiting);
    }
    return out;
  }

  /**
   * Applies `first` to `base`, then, while the result is not wanted and exactly one waiting delta
   * follows it, that one too, in place: one copy of the roster for the whole run. The run's last
   * roster (a wanted one, or one that no single waiting delta follows) is hashed and returned;
   * the epochs it went through are named. Refused as a whole when the last one does not hash as
   * announced (every delta of it was owner-signed: an owner bug or a damaged history).
   */
  #chain(
    base: EpochRoster,
    first: WaitingDelta,
    wanted: RosterWanted | undefined,
  ): { record: EpochRoster; ids: string[] } | undefined {
    let roster: Array<RosterLeaf | undefined> | undefined;
    let current = first;
    const ids: string[] = [];
    const skipped: WireEpochRoster[] = [];
    for (;;) {
      const { message } = current;
      if (message.body.case !== "delta") return undefined;
      const before = roster ?? base.roster;
      if (!delegateRosterAllows(message, before)) {
        return undefined;
      }
      roster =
        roster === undefined
          ? (applyRosterDelta(base.roster, message.body.value) as Array<RosterLeaf | undefined>)
          : applyRosterDeltaInPlace(roster, message.body.value);
      ids.push(current.id);
      const keyIdHex = toHex(message.keyId);
      if (wanted === undefined || wanted(keyIdHex, message.channelId, message.epoch)) break;
      const after = this.#waitingByPrevious.get(toHex(message.rosterHash));
      if (after === undefined || after.size !== 1) break;
      const nextKeyIdHex = after.values().next().value as string;
      const next = this.#unwait(nextKeyIdHex);
      if (next === undefined) break;
      skipped.push(message);
      current = next;
    }
    const record = recordOf(current.message, roster);
    if (
      record === undefined ||
      !equalBytes(rosterHash(this.#provider, roster), current.message.rosterHash)
    ) {
      return undefined;
    }
    for (const message of skipped) this.#name(toHex(message.keyId), message);
    return { record, ids };
  }
}
