/**
 * The rosters a client holds for one organization, and the pieces that do not make one yet (docs/
 * CLIENT.md, "Epoch rosters"): pure bookkeeping, no I/O — the client persists what it learns.
 */
import { equalBytes, toHex } from "@orgchat/base";
import { type CryptoProvider, type Roster, rosterHash } from "@orgchat/crypto";
import type { RosterDelta, RosterPage, EpochRoster as WireEpochRoster } from "@orgchat/wire";
import {
  applyRosterDelta,
  assembleRosterPages,
  changeFromWire,
  type EpochRoster,
} from "./epoch-roster.js";

/** Why a received roster was refused (it was owner-signed, but does not hash as announced). */
export type RosterRefusal =
  /** A delta applied to the roster it names, or a complete snapshot, hashes to something else. */
  | "hash-mismatch"
  /** A complete set of pages does not tile the roster. */
  | "inconsistent-pages";

/** What {@link RosterBook.receive} made of a roster message. */
export type RosterReceipt =
  /** New rosters (the one received, then any waiting delta it unlocked), and the ids that made them. */
  | { readonly status: "learned"; readonly rosters: EpochRoster[]; readonly ids: string[] }
  /** The epoch's roster is known already. */
  | { readonly status: "known" }
  /** A delta whose previous roster is not here, or a page of an incomplete snapshot. */
  | { readonly status: "waiting" }
  | { readonly status: "refused"; readonly reason: RosterRefusal };

/** Limits of the pieces a {@link RosterBook} keeps while waiting. */
export const rosterBookLimits = {
  /**
   * Deltas waiting for their previous roster. A member subscribed to a restricted channel's keys
   * topic without being in that group never gets the base; the oldest are dropped.
   */
  maxWaitingDeltas: 64,
  /** Snapshots being collected at once (each up to `wireLimits.maxRosterPages` pages). */
  maxPartialSnapshots: 4,
} as const;

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
  readonly #waitingDeltas = new Map<string, { message: WireEpochRoster; id: string }>();
  readonly #partial = new Map<string, PartialSnapshot>();

  constructor(provider: CryptoProvider) {
    this.#provider = provider;
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
    const known = this.#byKeyId.get(keyIdHex) ?? this.#waitingDeltas.get(keyIdHex)?.message;
    if (known !== undefined) return { channelId: known.channelId, epoch: known.epoch };
    for (const [key, partial] of this.#partial) {
      if (key.startsWith(`${keyIdHex}/`)) {
        return { channelId: partial.message.channelId, epoch: partial.message.epoch };
      }
    }
    return undefined;
  }

  /** Pieces waiting: for tests and diagnostics. */
  get waiting(): { readonly deltas: number; readonly snapshots: number } {
    return { deltas: this.#waitingDeltas.size, snapshots: this.#partial.size };
  }

  /**
   * Takes one opened roster message (`openEpochRoster`): applies a delta to the roster its
   * `previous_roster_hash` names, or files a snapshot page until every page is in. A result is
   * kept only if it hashes to `roster_hash`. Total: never throws on remote input.
   *
   * @param message - an opened, owner-signed roster message
   * @param id - the id of the envelope that carried it (reported back once it made a roster)
   */
  receive(message: WireEpochRoster, id: string): RosterReceipt {
    const keyIdHex = toHex(message.keyId);
    if (this.#byKeyId.has(keyIdHex)) return { status: "known" };
    const body = message.body;
    if (body.case === "delta") {
      const previous = this.#byHash.get(toHex(message.previousRosterHash));
      if (previous === undefined) {
        this.#waitingDeltas.delete(keyIdHex);
        this.#waitingDeltas.set(keyIdHex, { message, id });
        while (this.#waitingDeltas.size > rosterBookLimits.maxWaitingDeltas) {
          const oldest = this.#waitingDeltas.keys().next().value as string;
          this.#waitingDeltas.delete(oldest);
        }
        return { status: "waiting" };
      }
      const outcome = this.#fromDelta(message, body.value, previous.roster);
      if (outcome.status !== "ok") return { status: "refused", reason: outcome.reason };
      return this.#learn(outcome.record, [id]);
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
    return this.#learn(record, [...partial.ids]);
  }

  #fromDelta(
    message: WireEpochRoster,
    delta: RosterDelta,
    previous: Roster,
  ): { status: "ok"; record: EpochRoster } | { status: "refused"; reason: RosterRefusal } {
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
  #learn(first: EpochRoster, ids: string[]): RosterReceipt {
    const rosters: EpochRoster[] = [];
    const queue = [first];
    for (let record = queue.shift(); record !== undefined; record = queue.shift()) {
      const keyIdHex = toHex(record.keyId);
      if (this.#byKeyId.has(keyIdHex)) continue;
      this.add(record);
      rosters.push(record);
      this.#waitingDeltas.delete(keyIdHex);
      for (const key of [...this.#partial.keys()]) {
        if (key.startsWith(`${keyIdHex}/`)) this.#partial.delete(key);
      }
      const hash = toHex(record.rosterHash);
      for (const [waitingKeyId, waiting] of [...this.#waitingDeltas]) {
        if (toHex(waiting.message.previousRosterHash) !== hash) continue;
        if (waiting.message.body.case !== "delta") continue;
        this.#waitingDeltas.delete(waitingKeyId);
        const outcome = this.#fromDelta(waiting.message, waiting.message.body.value, record.roster);
        if (outcome.status === "ok") {
          queue.push(outcome.record);
          ids.push(waiting.id);
        }
      }
    }
    return { status: "learned", rosters, ids };
  }
}
