/**
 * What a group hands its caller to save (`takeParts`): the head, the member records changed since
 * the last call, and whether the commit must be durable. Shared by `OwnerGroup` and `MemberGroup`.
 *
 * @module
 */
import { constantTimeEqual } from "./constant-time.js";
import type { EpochWindow } from "./epoch-window.js";
import type { CryptoProvider } from "./provider.js";

/**
 * A group's state in pieces, to save in one commit (docs/PROTOCOL.md, "Saved group state").
 * Every byte string holds secrets: store them encrypted.
 */
export interface GroupParts {
  /**
   * Everything but rosters and the owner's per-member records. Its size does not grow with the
   * roster (only with started sender chains, kept skipped keys, retained epochs and — "shared"
   * history — the epoch secrets a Welcome may carry).
   */
  readonly head: Uint8Array;
  /** False when the head is byte for byte the one returned last time: skip the write. */
  readonly headChanged: boolean;
  /**
   * Owner only: the member records (leaf secret, leaf epoch, prekey) changed since the last
   * `takeParts()`, ascending by leaf; `undefined` = deleted. Empty for a member. After
   * `deserialize` (the older whole-state format): all of them, so that the caller rewrites the
   * state in pieces; after `restore`: none.
   */
  readonly members: ReadonlyArray<readonly [leaf: number, record: Uint8Array | undefined]>;
  /**
   * Commit these parts durably (`BatchOptions.durable`): the head reserves a new stretch of the own
   * sender chain's generations, or (owner) a new epoch or member records that the published
   * messages depend on. Any other commit may be lost by a power cut without harm: the own chain then
   * resumes at a durable reservation, never below it, and the rest comes again from the network.
   */
  readonly durable: boolean;
}

/** Tracks, between two `takeParts()`, what changed that the head digest does not show. */
export class PartsTracker {
  /** SHA-256 of the head returned last (not the head: it would keep wiped secrets alive). */
  #digest: Uint8Array | undefined;
  #durable: boolean;
  readonly #members = new Set<number>();

  /**
   * @param savedHead - the head the state was restored from (nothing to write until it changes),
   *   or undefined for a new state or one read from the whole-state format (all of it to write)
   * @param provider - hashes the head
   */
  constructor(provider: CryptoProvider, savedHead: Uint8Array | undefined) {
    this.#digest = savedHead === undefined ? undefined : provider.sha256(savedHead);
    this.#durable = savedHead === undefined;
  }

  /** The member records of `leaves` changed (added, stepped, rotated, deleted). */
  noteMembers(leaves: Iterable<number>): void {
    for (const leaf of leaves) this.#members.add(leaf);
  }

  /** The next parts must be committed durably. */
  noteDurable(): void {
    this.#durable = true;
  }

  /**
   * The parts to save now; resets the tracking.
   *
   * @param provider - hashes the head
   * @param head - the head as it is now
   * @param window - the group's epochs (whether a send moved the reservation)
   * @param record - the bytes of a member record, or undefined when the leaf has none any more
   * @param all - every member leaf, to return all of them and the head as changed (a rewrite)
   */
  take(
    provider: CryptoProvider,
    head: Uint8Array,
    window: EpochWindow,
    record: (leaf: number) => Uint8Array | undefined,
    all?: Iterable<number>,
  ): GroupParts {
    const digest = provider.sha256(head);
    const headChanged =
      all !== undefined || this.#digest === undefined || !constantTimeEqual(digest, this.#digest);
    if (all !== undefined) this.noteMembers(all);
    this.#digest = digest;
    const members = [...this.#members]
      .sort((a, b) => a - b)
      .map((leaf) => [leaf, record(leaf)] as const);
    const durable = this.#durable || window.reservationMoved || members.length > 0;
    this.#members.clear();
    this.#durable = false;
    window.reservationMoved = false;
    return { head, headChanged, members, durable };
  }
}
