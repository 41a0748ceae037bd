/**
 * Kept rosters of the store's roster records built at their first use. A start walks every roster
 * record (`loadRosterRecords`) but builds only each group's newest kept roster; every older kept
 * one (an owner's retained epochs: up to 64 rosters of 10,000 leaves, ~5 MB of arrays a start
 * would otherwise build and keep) goes into the roster book as an entry whose `roster` is built
 * when first read: its records are decoded again from their stored bytes (the snapshot it chains
 * to and the deltas after it), and the result is checked against the roster hash its record names.
 * A record that does not build or hash as recorded is refused then, as `StoreCorruptedError`.
 *
 * @module
 */
import { toHex } from "@orgchat/base";
import { type CryptoProvider, type Roster, type RosterLeaf, rosterHashOnce } from "@orgchat/crypto";
import { applyRosterDeltaInPlace, type EpochRoster, type RosterDeltaInit } from "./epoch-roster.js";
import { StoreCorruptedError } from "./errors.js";
import type { RosterBook } from "./roster-book.js";
import { decodeRosterRecord } from "./roster-records.js";

/**
 * Kept rosters read by `loadRosterRecords` whose roster hash is not checked yet, by key id
 * (hex): the store key of the record, and the hash it records. {@link checkDeferredRosters} checks
 * them once the groups are restored.
 */
export type DeferredRosterChecks = Map<string, { readonly key: string; readonly hash: Uint8Array }>;

/**
 * Checks the kept rosters `loadRosterRecords` left unchecked: one that a restored group took
 * from the book (`handedOut`) and holds with the recorded roster hash is the group's to check —
 * checked by its restore, or (an owner's retained epochs, `retainedRosterChecks: "first-use"`)
 * before the group first uses it, which is before the client reads it (a late message's author is
 * looked up in the roster the group's decryption checked: the same frozen array); every other one
 * is hashed here. So a corrupted roster record is reported at start, or refused at first use.
 *
 * @param book - the roster book `loadRosterRecords` filled
 * @param space - the organization's store space
 * @param deferred - the rosters left unchecked (emptied here)
 * @param handedOut - the key ids (hex) the groups' restores were given rosters for
 * @param groups - the restored groups
 * @throws {StoreCorruptedError} naming the record of a roster that does not hash as recorded
 */
export function checkDeferredRosters(
  book: RosterBook,
  space: string,
  deferred: DeferredRosterChecks,
  handedOut: ReadonlySet<string>,
  groups: Iterable<{
    readonly heldEpochs?: () => ReadonlyArray<{
      readonly keyId: Uint8Array;
      readonly rosterHash?: Uint8Array;
    }>;
  }>,
): void {
  for (const group of groups) {
    if (typeof group.heldEpochs !== "function") continue;
    for (const held of group.heldEpochs()) {
      const keyIdHex = toHex(held.keyId);
      const pending = deferred.get(keyIdHex);
      if (pending === undefined || !handedOut.has(keyIdHex)) continue;
      if (held.rosterHash !== undefined && toHex(held.rosterHash) === toHex(pending.hash)) {
        deferred.delete(keyIdHex);
      }
    }
  }
  for (const [keyIdHex, { key, hash }] of deferred) {
    const roster = book.get(keyIdHex)?.roster;
    if (roster === undefined || toHex(rosterHashOnce(book.provider, roster)) !== toHex(hash)) {
      throw new StoreCorruptedError(`${space}/${key}`);
    }
  }
  deferred.clear();
}

/** One stored roster record: its store key and bytes (decoded again when a roster is built). */
interface Link {
  readonly key: string;
  readonly bytes: Uint8Array;
  /** The record a delta applies to (key id, hex); `undefined` for a snapshot. */
  readonly previousHex: string | undefined;
}

/** Builds the kept rosters of one organization's roster records at their first use. */
export class KeptRosters {
  readonly #provider: CryptoProvider;
  readonly #space: string;
  /** Rosters not in `#links` (JSON records of the earlier format, built at start) by key id. */
  readonly #other: (keyIdHex: string) => Roster | undefined;
  readonly #links = new Map<string, Link>();
  readonly #built = new Map<string, Roster>();

  /**
   * @param provider - hashes a built roster
   * @param space - the organization's store space (named in errors)
   * @param other - rosters built at start that a chain of records may start from
   */
  constructor(
    provider: CryptoProvider,
    space: string,
    other: (keyIdHex: string) => Roster | undefined,
  ) {
    this.#provider = provider;
    this.#space = space;
    this.#other = other;
  }

  /** Rosters handed out to build at first read, by key id (hex). */
  readonly #deferred = new Set<string>();

  /** Notes a stored record (every one: a kept roster may chain through records not kept). */
  link(keyIdHex: string, key: string, bytes: Uint8Array, previousHex: string | undefined): void {
    this.#links.set(keyIdHex, { key, bytes, previousHex });
  }

  /**
   * Lets go of the records no deferred roster chains through (called once every record is linked):
   * what stays in memory is the records of the deferred rosters' chains.
   */
  keepChainsOnly(): void {
    const needed = new Set<string>();
    for (const target of this.#deferred) {
      let at: string | undefined = target;
      while (at !== undefined && !needed.has(at) && needed.size <= this.#links.size) {
        needed.add(at);
        at = this.#links.get(at)?.previousHex;
      }
    }
    for (const keyIdHex of [...this.#links.keys()]) {
      if (!needed.has(keyIdHex)) this.#links.delete(keyIdHex);
    }
  }

  /**
   * The roster book's entry for a kept record: its `roster` built (and checked) when first read.
   *
   * @param header - the record's header
   * @returns the entry
   */
  entry(header: Omit<EpochRoster, "roster">): EpochRoster {
    const build = (keyIdHex: string) => this.build(keyIdHex);
    const keyIdHex = toHex(header.keyId);
    this.#deferred.add(keyIdHex);
    return {
      ...header,
      get roster(): Roster {
        return build(keyIdHex);
      },
    };
  }

  /** How many kept rosters were built so far: for tests and diagnostics. */
  get built(): number {
    return this.#built.size;
  }

  /**
   * Builds the roster of a linked record, once.
   *
   * @param keyIdHex - the record's key id (hex)
   * @returns the roster, frozen
   * @throws {StoreCorruptedError} naming the record when its chain does not build or its roster
   *   does not hash as recorded
   */
  build(keyIdHex: string): Roster {
    const known = this.#built.get(keyIdHex);
    if (known !== undefined) return known;
    const target = this.#links.get(keyIdHex);
    if (target === undefined) throw new StoreCorruptedError(`${this.#space}/rr/${keyIdHex}`);
    const corrupted = (key: string, cause?: unknown) =>
      new StoreCorruptedError(`${this.#space}/${key}`, cause === undefined ? {} : { cause });
    const deltas: RosterDeltaInit[] = [];
    let recorded: Uint8Array | undefined;
    let base: Array<RosterLeaf | undefined> | undefined;
    let at = keyIdHex;
    // Back to the snapshot the record chains to (or a roster built before): at most every record.
    for (let steps = 0; base === undefined; steps++) {
      const link = this.#links.get(at);
      const earlier =
        at === keyIdHex
          ? undefined
          : (this.#built.get(at) ?? (link === undefined ? this.#other(at) : undefined));
      if (earlier !== undefined) {
        base = earlier.slice();
        break;
      }
      if (link === undefined || steps > this.#links.size) throw corrupted(target.key);
      const record = decodeRosterRecord(link.bytes);
      if (record === undefined) throw corrupted(link.key);
      recorded ??= record.header.rosterHash;
      if (record.body.kind === "snapshot") base = record.body.roster.slice();
      else {
        deltas.push(record.body.delta);
        at = toHex(record.header.previousKeyId);
      }
    }
    let roster: Roster;
    try {
      for (let i = deltas.length - 1; i >= 0; i--) {
        base = applyRosterDeltaInPlace(base, deltas[i] as RosterDeltaInit);
      }
      roster = Object.freeze(base);
      if (toHex(rosterHashOnce(this.#provider, roster)) !== toHex(recorded as Uint8Array)) {
        throw corrupted(target.key);
      }
    } catch (cause) {
      if (cause instanceof StoreCorruptedError) throw cause;
      throw corrupted(target.key, cause);
    }
    this.#built.set(keyIdHex, roster);
    return roster;
  }
}
