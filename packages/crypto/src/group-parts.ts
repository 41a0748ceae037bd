/**
 * What a group hands its caller to save (`takeParts`): the head, the member records changed since
 * the last call, and whether the commit must be durable. Shared by `OwnerGroup` and `MemberGroup`.
 *
 * @module
 */
import { toHex } from "@orgchat/base";
import { constantTimeEqual } from "./constant-time.js";
import type { EpochWindow } from "./epoch-window.js";
import type { EpochKeys } from "./group-message.js";
import { epochRecord } from "./group-parts-encoding.js";
import type { CryptoProvider } from "./provider.js";

/**
 * A group's state in pieces, to save in one commit (docs/PROTOCOL.md, "Saved group state").
 * Every byte string holds secrets: store them encrypted.
 */
export interface GroupParts {
  /**
   * Everything but rosters, retained epochs and the owner's per-member records: the group's
   * secrets, the current epoch's keys and the list of retained epochs. Its size does not grow with
   * the roster (only with the current epoch's started sender chains and kept skipped keys, the
   * number of retained epochs at 16 bytes each, and — "shared" history — the epoch secrets a
   * Welcome may carry).
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
   * The records of retained epochs (kept for late messages) new or changed since the last
   * `takeParts()`, by key id (lower-case hex); `undefined` = no longer held. An epoch is written
   * when it retires and when a late message in it changes its keys.
   */
  readonly epochs: ReadonlyArray<readonly [keyIdHex: string, record: Uint8Array | undefined]>;
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
  /** Key ids of the retained epochs whose records were returned (or restored from). */
  #epochs: Set<string>;

  /**
   * @param provider - hashes the head
   * @param saved - the head and epoch records the state was restored from (nothing to write until
   *   they change), or undefined for a new state or one read from the whole-state format (all of it
   *   to write)
   */
  constructor(
    provider: CryptoProvider,
    saved: { readonly head: Uint8Array; readonly epochs: Iterable<string> } | undefined,
  ) {
    this.#digest = saved === undefined ? undefined : provider.sha256(saved.head);
    this.#durable = saved === undefined;
    this.#epochs = new Set(saved?.epochs);
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
    window.decryptedBeyondChains = false;
    const retained = new Map<string, EpochKeys>();
    for (const entry of window.retained) retained.set(toHex(entry.keys.keyId), entry.keys);
    const epochs: Array<readonly [string, Uint8Array | undefined]> = [];
    for (const keyIdHex of this.#epochs) {
      if (!retained.has(keyIdHex)) epochs.push([keyIdHex, undefined]);
    }
    for (const [keyIdHex, keys] of retained) {
      if (all !== undefined || !this.#epochs.has(keyIdHex) || window.touched.has(keys)) {
        // A record names its roster's hash: never one of a roster restored and not checked yet.
        window.checkRoster(keys);
        epochs.push([keyIdHex, epochRecord(keys)]);
      }
    }
    this.#epochs = new Set(retained.keys());
    window.touched.clear();
    return { head, headChanged, members, epochs, durable };
  }
}
