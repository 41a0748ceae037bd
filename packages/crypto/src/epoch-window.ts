/**
 * The epochs one side of a group can read: the current epoch and the previous ones kept for late
 * messages (docs/PROTOCOL.md, "Group messages"). Decryption dispatches on the message's key_id.
 *
 * Internal: `OwnerGroup` and `MemberGroup` each own one; only {@link epochRetention} and
 * {@link GroupPlaintext} are public.
 *
 * @module
 */
import { toHex } from "@orgchat/base";
import { decodeGroupMessage, type GroupMessage } from "@orgchat/wire";
import { constantTimeEqual } from "./constant-time.js";
import { isDeferredRoster } from "./epoch-keys-state-encoding.js";
import { StateCorruptedError, UnknownEpochError } from "./errors.js";
import { checkNow } from "./group-checks.js";
import type { DecryptedGroupMessage, EpochKeys } from "./group-message.js";
import type { CryptoProvider } from "./provider.js";
import { knownRosterHash, rosterHashOf } from "./roster-hashes.js";
import { redactSecrets } from "./secret.js";

/**
 * How long previous epochs stay readable for late messages (docs/PROTOCOL.md, "Group messages"):
 * the last `previousEpochs` epochs, or every epoch replaced less than `windowMs` ago, whichever keeps
 * more, but never more than the newest `maxEpochs` (issue #14: an owner admitting members in add
 * windows can go through thousands of epochs a day, and each retained epoch holds its roster, one
 * pointer per leaf, and a saved record). The window counts from when this state processed the
 * change (`now` of the transition), not from when the owner made it, so a member returning after
 * days still reads what Store holds.
 */
export const epochRetention = {
  previousEpochs: 2,
  windowMs: 24 * 60 * 60 * 1000,
  /**
   * At most this many previous epochs, whatever their age: a message is late by fewer than 64
   * epochs (about 13 s of back-to-back 200 ms add windows), and 64 retained epochs of a
   * 10,000-member group hold about 5 MB of roster pointers and 1 KB of head.
   */
  maxEpochs: 64,
} as const;

/**
 * Generations one send reservation covers (docs/PROTOCOL.md, "Saved group state"): a group's saved
 * head holds its own chain at a bound up to this many generations past the last message sent, and
 * moves it (a durable commit) once per this many sends. After a crash the chain resumes at the
 * bound: receivers see a jump of fewer than 64 generations (well inside `maxForwardJump`, 1,000),
 * and keep at most 63 skipped keys for it. Smaller means more durable commits; larger, bigger jumps.
 */
export const sendReservation = 64;

/** What to encrypt. */
export interface GroupPlaintext {
  /** What the content is (message, edit, delete, …); bound by the AEAD. */
  readonly contentType: number;
  readonly content: Uint8Array;
}

/** An epoch a group holds keys of, and the roster it refers to (`heldEpochs()`). */
export interface HeldEpoch {
  readonly epoch: bigint;
  readonly keyId: Uint8Array;
  readonly rosterHash: Uint8Array;
}

/** A previous epoch kept for late messages, with the time it was replaced. */
export interface RetainedEpoch {
  readonly keys: EpochKeys;
  readonly retiredAt: number;
}

/** Why a member that was removed cannot send (the message of the `RangeError`). */
export const removedFromGroup =
  "group: we were removed from this group and can no longer send to it";

/**
 * The current epoch and the previous ones kept for late messages; decryption dispatches on key_id.
 */
export class EpochWindow {
  /** The epoch we send in; `undefined` once a member was removed. */
  current: EpochKeys | undefined;
  /** Previous epochs, oldest first. */
  retained: RetainedEpoch[];
  /** Set when a send moved the own chain's reservation (cleared by the group's `takeParts`). */
  reservationMoved = false;
  /**
   * Set when a decryption changed more than the current epoch's receive chains (it expired a
   * retained epoch, or read a message of one) since the group's last `takeParts`, which clears it.
   * See `MemberGroup.receivedBeyondChains`.
   */
  decryptedBeyondChains = false;
  /**
   * Retained epochs whose saved record may have changed (a late message decrypted in one) since the
   * group's last `takeParts`; epochs that became retained are found by key id there.
   */
  readonly touched = new Set<EpochKeys>();
  /**
   * Retained epochs restored without checking their roster against the hash their saved record
   * names ({@link EpochWindow.deferRosterCheck}): checked at first use, so that a restart does not
   * hash up to {@link epochRetention}.maxEpochs rosters that no late message may ever need.
   */
  readonly #unchecked = new Map<
    EpochKeys,
    { readonly provider: CryptoProvider; hash: Uint8Array }
  >();

  /**
   * @param current - the current epoch's keys (`undefined` for a removed member)
   * @param retained - previous epochs, oldest first
   */
  constructor(current: EpochKeys | undefined, retained: RetainedEpoch[] = []) {
    this.current = current;
    this.retained = retained;
    redactSecrets(this, "EpochWindow");
  }

  /**
   * Makes `next` current; the current one is kept for late messages from `now` on.
   *
   * @param next - the new epoch's keys (`undefined` when leaving the group)
   * @param now - current time in milliseconds
   */
  advance(next: EpochKeys | undefined, now: number): void {
    if (this.current !== undefined) this.retained.push({ keys: this.current, retiredAt: now });
    this.current = next;
    this.prune(now);
  }

  /**
   * Inserts an earlier epoch (a "shared" Welcome's history), kept sorted oldest first.
   *
   * @param keys - the earlier epoch's keys
   * @param now - current time in milliseconds (starts its retention)
   */
  addHistory(keys: EpochKeys, now: number): void {
    this.retained.push({ keys, retiredAt: now });
    this.retained.sort((a, b) =>
      a.keys.epoch < b.keys.epoch ? -1 : a.keys.epoch > b.keys.epoch ? 1 : 0,
    );
  }

  /**
   * Drops (and destroys) previous epochs outside {@link epochRetention}.
   *
   * @param now - current time in milliseconds
   */
  prune(now: number): void {
    const keepFrom = this.retained.length - epochRetention.previousEpochs;
    const capFrom = this.retained.length - epochRetention.maxEpochs;
    let expired = false;
    for (let index = 0; index < this.retained.length && !expired; index++) {
      const entry = this.retained[index] as RetainedEpoch;
      const recent = index >= capFrom && now - entry.retiredAt < epochRetention.windowMs;
      if (!(index >= keepFrom || recent)) expired = true;
    }
    // Nothing to drop (every decryption asks): no new list.
    if (!expired) return;
    const kept: RetainedEpoch[] = [];
    for (const [index, entry] of this.retained.entries()) {
      const recent = index >= capFrom && now - entry.retiredAt < epochRetention.windowMs;
      if (index >= keepFrom || recent) kept.push(entry);
      else {
        entry.keys.destroy();
        this.touched.delete(entry.keys);
        this.#unchecked.delete(entry.keys);
      }
    }
    this.retained = kept;
    this.decryptedBeyondChains = true;
  }

  /**
   * The epochs readable at `now`.
   *
   * @param now - current time in milliseconds (expires old epochs first)
   * @returns epoch numbers, oldest first (the current one last, when there is one)
   * @throws {TypeError} when `now` is not a finite number
   */
  readableEpochs(now: number): bigint[] {
    checkNow(now);
    this.prune(now);
    const epochs = this.retained.map((r) => r.keys.epoch);
    if (this.current !== undefined) epochs.push(this.current.epoch);
    return epochs;
  }

  /**
   * Encrypts as `leaf` in the current epoch.
   *
   * @param leaf - the sender's leaf
   * @param signingSecretKey - the sender's signing secret key
   * @param plaintext - what to encrypt
   * @returns the encoded `GroupMessage`
   * @throws {RangeError} when there is no current epoch (a member that was removed)
   */
  encrypt(leaf: number, signingSecretKey: Uint8Array, plaintext: GroupPlaintext): Uint8Array {
    const current = this.current;
    if (current === undefined) {
      throw new RangeError(removedFromGroup);
    }
    const bytes = current.encrypt({
      senderLeaf: leaf,
      signingSecretKey,
      contentType: plaintext.contentType,
      content: plaintext.content,
    });
    if (current.reserveSendGenerations(leaf, sendReservation)) this.reservationMoved = true;
    return bytes;
  }

  /**
   * The epochs held (current and retained), with the roster each refers to.
   *
   * @param provider - hashes a roster whose hash was not noted when its epoch was entered
   * @returns one entry per epoch, oldest first
   */
  held(provider: CryptoProvider): HeldEpoch[] {
    const all = this.retained.map((entry) => entry.keys);
    if (this.current !== undefined) all.push(this.current);
    return all.map((keys) => ({
      epoch: keys.epoch,
      keyId: keys.keyId.slice(),
      // A roster not checked yet is named by the hash its epoch must have (never by its own).
      rosterHash: this.#unchecked.get(keys)?.hash.slice() ?? rosterHashOf(provider, keys.roster),
    }));
  }

  /**
   * Defers the check of a retained epoch's roster against `hash` to the epoch's first use
   * ({@link EpochWindow.checkRoster}): a restore that is handed the rosters of many retained epochs
   * hashes none of them. Checked at once when the roster's hash is already known.
   *
   * @param keys - a retained epoch's keys
   * @param provider - hashes the roster when it is checked
   * @param hash - the roster hash the epoch's saved record names
   * @throws {@link StateCorruptedError} when the roster's hash is known and is another
   */
  deferRosterCheck(keys: EpochKeys, provider: CryptoProvider, hash: Uint8Array): void {
    this.#unchecked.set(keys, { provider, hash: hash.slice() });
    // A deferred roster is not built here: its check waits for its first use.
    const source = keys.rosterSource;
    if (!isDeferredRoster(source) && knownRosterHash(source) !== undefined) this.checkRoster(keys);
  }

  /**
   * Checks the roster of `keys` against the hash its saved record names, if that was deferred
   * ({@link EpochWindow.deferRosterCheck}); nothing to do otherwise. Called before a retained
   * epoch's roster is used (a late message's sender) or its record is written again.
   *
   * @param keys - an epoch's keys
   * @throws {@link StateCorruptedError} when the roster does not hash as its epoch says (the keys
   *   stay unchecked: every later use throws too)
   */
  checkRoster(keys: EpochKeys): void {
    const pending = this.#unchecked.get(keys);
    if (pending === undefined) return;
    let matches: boolean;
    try {
      matches = constantTimeEqual(rosterHashOf(pending.provider, keys.roster), pending.hash);
    } catch {
      matches = false; // keys of the wrong length
    }
    if (!matches) {
      throw new StateCorruptedError(
        `the roster given for epoch ${keys.epoch} (key id ${toHex(keys.keyId)}) does not hash to the saved roster hash`,
      );
    }
    this.#unchecked.delete(keys);
  }

  /** How many retained epochs' rosters are not checked yet (deferred at restore). */
  get uncheckedRosters(): number {
    return this.#unchecked.size;
  }

  /**
   * The keys of the epoch named by `keyId`, current or retained.
   *
   * @param keyId - a message's key_id
   * @returns the epoch's keys, or `undefined` when we hold none for it
   */
  find(keyId: Uint8Array): EpochKeys | undefined {
    if (this.current !== undefined && constantTimeEqual(this.current.keyId, keyId)) {
      return this.current;
    }
    for (const entry of this.retained) {
      if (constantTimeEqual(entry.keys.keyId, keyId)) return entry.keys;
    }
    return undefined;
  }

  /**
   * Decrypts a group message of the current epoch or of one kept for late messages.
   *
   * @param message - the encoded or decoded `GroupMessage`
   * @param now - current time in milliseconds (expires old epochs first)
   * @returns the decrypted message
   * @throws {@link UnknownEpochError} for a key_id we do not hold
   * @throws `DecodeError` for malformed bytes; the errors of `EpochKeys.decrypt`
   */
  decrypt(message: Uint8Array | GroupMessage, now: number): DecryptedGroupMessage {
    checkNow(now);
    this.prune(now);
    const decoded = message instanceof Uint8Array ? decodeGroupMessage(message) : message;
    const keys = this.find(decoded.keyId);
    if (keys === undefined) {
      throw new UnknownEpochError(
        toHex(decoded.keyId),
        "neither the current epoch nor one kept for late messages",
      );
    }
    // A roster restored unchecked is checked before its first use (the sender's signing key).
    if (keys !== this.current) this.checkRoster(keys);
    const decrypted = keys.decrypt(decoded);
    if (keys !== this.current) {
      this.touched.add(keys);
      this.decryptedBeyondChains = true;
    }
    return decrypted;
  }
}
