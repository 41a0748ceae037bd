/**
 * A member's side of one group's epochs (docs/PROTOCOL.md, "Re-keying"): joining from a Welcome,
 * following add steps and KeyUpdates, and the member's group messages.
 *
 * @module
 */
import type { GroupMessage } from "@orgchat/wire";
import { constantTimeEqual } from "./constant-time.js";
import { type EpochLimits, enterEpoch } from "./epoch-entry.js";
import { type GroupPlaintext, type HeldEpoch, removedFromGroup } from "./epoch-window.js";
import { DecryptionFailedError } from "./errors.js";
import { checkNow } from "./group-checks.js";
import type { DecryptedGroupMessage } from "./group-message.js";
import { type GroupParts, PartsTracker } from "./group-parts.js";
import { readMemberHead, writeMemberHead } from "./group-parts-encoding.js";
import {
  type MemberGroupState,
  maxStoredPrekeys,
  memberMagic,
  type PrekeyPair,
  readMemberState,
  savedVersion,
  writeMemberState,
} from "./group-state-encoding.js";
import {
  addStepEpochSecret,
  evolveLeafSecret,
  type GroupId,
  type Roster,
  rosterHash,
} from "./key-schedule.js";
import {
  type KeyUpdateChunk,
  keyUpdateHoldsHint,
  keyUpdateLimits,
  keyUpdateVersion,
  openKeyUpdate,
} from "./key-update.js";
import {
  applyKeyUpdateEnvelopes,
  type KeyUpdateEnvelopesOptions,
  type KeyUpdateEnvelopesOutcome,
} from "./key-update-envelopes.js";
import { chunksNotSeen, noteChunkWithoutEntry } from "./key-update-progress.js";
import { type ApplyKeyUpdateOptions, deriveRekeySecret } from "./leaf-salts.js";
import {
  type Committer,
  commitAdd,
  commitRemove,
  type DelegateAdd,
  type DelegateKeyUpdate,
} from "./member-commits.js";
import {
  type ChildAddInit,
  type EnterChildOptions,
  enterChildAdd,
  enterChildKeyUpdate,
  enterNext,
  type ForkHost,
  findEntry,
  findForkPoint,
  holdsEpoch,
  holdsOwnLeaf,
  keepForkPoint,
  returnToEpoch,
} from "./member-forks.js";
import type {
  ApplyAddInit,
  MemberGroupInit,
  MemberGroupParts,
  MemberTransition,
} from "./member-group-types.js";
import type { SignedMemberKeys } from "./member-keys.js";
import { memberStateFromWelcome } from "./member-welcome.js";
import type { CryptoProvider } from "./provider.js";
import { checkBytes } from "./providers/checks.js";
import { rosterHashOf, rosterSupplier } from "./roster-hashes.js";
import { redactSecrets, wipe } from "./secret.js";

/**
 * Largest epoch gap a member bridges on its own (`acceptGap`). Stepping the leaf secret no longer
 * costs one HKDF per epoch (only per missed KeyUpdate): kept as a sanity bound on a hostile epoch.
 */
const maxBridgedGap = 1n << 20n;

export type { ApplyKeyUpdateOptions } from "./leaf-salts.js";
export type {
  ApplyAddInit,
  MemberGroupInit,
  MemberGroupParts,
  MemberTransition,
} from "./member-group-types.js";

/**
 * A member's side of one group's epochs: joins from a Welcome, follows add steps and KeyUpdates, and
 * encrypts and decrypts the group's messages. Pure and synchronous: time comes in as `now`
 * arguments, randomness from the provider.
 *
 * The member's leaf secret steps forward at every KeyUpdate it applies (the salt it used is wiped),
 * so a device stolen later cannot open KeyUpdates recorded earlier.
 *
 * @example
 * ```ts
 * const member = MemberGroup.fromWelcome({ provider, welcome, roster, signingSecretKey, prekeySecret, now });
 * member.applyAdd({ roster: nextRoster, now, keyId: announcedKeyId });
 * const outcome = member.applyKeyUpdate(await openKeyUpdateEnvelope({ provider, group, bytes }), now);
 * if (outcome.status === "gap") requestResync();
 * const { content } = member.decrypt(bytes, now);
 * ```
 */
export class MemberGroup {
  /** The crypto provider every operation uses. */
  readonly provider: CryptoProvider;
  /** The organization (`channelId` `""`) or the restricted channel. */
  readonly group: GroupId;
  /** Our leaf index. */
  readonly leaf: number;
  readonly #limits: EpochLimits | undefined;
  /** Everything saved by {@link MemberGroup.serialize} (group-state-encoding.ts). */
  readonly #state: MemberGroupState;
  /** What changed since the last {@link MemberGroup.takeParts}. */
  readonly #parts: PartsTracker;

  private constructor(
    provider: CryptoProvider,
    state: MemberGroupState,
    limits: EpochLimits | undefined,
    saved?: { readonly head: Uint8Array; readonly epochs: Iterable<string> },
  ) {
    this.provider = provider;
    this.group = state.group;
    this.leaf = state.leaf;
    this.#limits = limits;
    this.#state = state;
    this.#parts = new PartsTracker(provider, saved);
    redactSecrets(this, "MemberGroup");
  }

  /**
   * Joins from a Welcome (or resyncs: a Welcome for the current epoch replaces the state).
   *
   * @param init - the provider, the Welcome, its epoch's owner-signed roster, our signing and prekey
   *   secrets, the time, options
   * @returns the member's state at the Welcome's epoch (with the earlier epochs of a "shared" Welcome
   *   whose rosters `historyRoster` returned)
   * @throws {RangeError} / {TypeError} naming the argument: field lengths, an unknown Welcome version,
   *   a roster that does not hash to `welcome.rosterHash`, our leaf empty or holding other keys than
   *   `signingSecretKey` / `prekeySecret`
   * @throws {@link DecryptionFailedError} when the Welcome's epoch secret does not derive its key_id
   */
  static fromWelcome(init: MemberGroupInit): MemberGroup {
    return new MemberGroup(init.provider, memberStateFromWelcome(init), init.limits);
  }

  /** The current epoch (the last one reached, once removed). */
  get epoch(): bigint {
    return this.#state.epoch;
  }

  /** The current epoch's key_id. */
  get keyId(): Uint8Array {
    return this.#state.keyId.slice();
  }

  /** The current epoch's roster. */
  get roster(): Roster {
    return this.#state.roster;
  }

  /** `"removed"` once a KeyUpdate left us out; old epochs stay readable until they expire. */
  get status(): "member" | "removed" {
    return this.#state.removed ? "removed" : "member";
  }

  /** Our current public prekey (the newest). */
  get prekey(): Uint8Array {
    return (this.#state.prekeys[0] as PrekeyPair).publicKey.slice();
  }

  /**
   * The epochs this state can decrypt now.
   *
   * @param now - current time in milliseconds (expires old epochs first)
   * @returns epoch numbers, oldest first (the current one last while we are a member)
   * @throws {TypeError} when `now` is not a finite number
   */
  readableEpochs(now: number): bigint[] {
    return this.#state.window.readableEpochs(now);
  }

  /**
   * Adds a new prekey (post-compromise security); the old one is kept until a KeyUpdate opens with the
   * new one (at most three are kept). Send the public key to the owner (`MemberKeys`).
   *
   * @param prekeySecret - the new X25519 secret key (copied)
   * @returns the new public prekey
   * @throws {TypeError} / {RangeError} when `prekeySecret` is not 32 bytes
   */
  rotatePrekey(prekeySecret: Uint8Array): Uint8Array {
    checkBytes(prekeySecret, 32, "prekeySecret");
    const publicKey = this.provider.x25519PublicKey(prekeySecret);
    this.#state.prekeys.unshift({ secretKey: prekeySecret.slice(), publicKey });
    while (this.#state.prekeys.length > maxStoredPrekeys)
      wipe(this.#state.prekeys.pop()?.secretKey);
    // The owner will use the new prekey: losing its secret would lock us out of the next KeyUpdate.
    this.#parts.noteDurable();
    return publicKey.slice();
  }

  #chain(epoch: bigint, previousKeyId: Uint8Array | undefined): MemberTransition | undefined {
    if (this.#state.removed) return { status: "removed", epoch: this.#state.epoch };
    if (epoch <= this.#state.epoch) return { status: "stale", epoch };
    if (
      epoch !== this.#state.epoch + 1n ||
      (previousKeyId !== undefined && !constantTimeEqual(previousKeyId, this.#state.keyId))
    ) {
      return { status: "gap", epoch, currentEpoch: this.#state.epoch };
    }
    return undefined;
  }

  /** Whether a commit on parent `keyId` can be entered from a kept fork point (member-forks.ts). */
  keepsParent(keyId: Uint8Array): boolean {
    return findForkPoint(this.#state, keyId) !== undefined;
  }

  /**
   * Enters an add step made on an epoch we left (a fork point): a sibling of the commit we followed
   * from it, or a commit on top of a sibling entered as a loser. `makeCurrent`: the winner (we send
   * in it; the epoch we were in stays readable); else it is kept readable only.
   * @returns `applied`, or `stale` / `gap` / `roster-mismatch` / `key-mismatch` (nothing changed)
   */
  enterSiblingAdd(init: ChildAddInit, options: EnterChildOptions): MemberTransition {
    return enterChildAdd(this.#forkHost(), init, options);
  }

  /**
   * Enters a KeyUpdate chunk made on an epoch we left, as {@link MemberGroup.enterSiblingAdd}: our
   * entry opens with the parent's salt.
   * @returns `applied`, `not-in-chunk` (no entry of ours here: another chunk, or it removed us),
   *   or `stale` / `gap` / `roster-mismatch` (nothing changed)
   * @throws {RangeError} for a chunk of another group
   */
  enterSiblingKeyUpdate(
    chunk: KeyUpdateChunk,
    now: number,
    options: EnterChildOptions & Pick<ApplyKeyUpdateOptions, "roster" | "rosterHash" | "salt">,
  ): MemberTransition {
    return enterChildKeyUpdate(this.#forkHost(), chunk, now, options);
  }

  /**
   * Goes back to epoch `keyId`, one we left (an add step found invalid: docs/DELEGATION.md): it is
   * the current epoch again, the one left stays readable; our chain goes on past every generation
   * sent in it. The next `takeParts` is `durable`.
   * @returns `applied`, or `stale` / `roster-mismatch` (nothing changed)
   * @throws {@link NoForkPointError} when no fork point or no retained keys of `keyId` are kept
   */
  returnTo(keyId: Uint8Array, roster: Roster, now: number): MemberTransition {
    const outcome = returnToEpoch(this.#forkHost(), keyId, roster, now);
    if (outcome.status === "applied") this.#parts.noteDurable();
    return outcome;
  }

  #forkHost(): ForkHost {
    return { provider: this.provider, group: this.group, state: this.#state, limits: this.#limits };
  }

  /**
   * Follows an add step: derives epoch e+1 from `init_secret[e]` and the new roster's hash.
   *
   * @param init - the new epoch's owner-signed roster, the time, and what the owner announced
   * @returns `applied`, or `stale` / `gap` (chain check on `epoch` and `previousKeyId` when given),
   *   `key-mismatch` (the derived key_id is not `keyId`), `roster-mismatch` (our leaf is not in the
   *   roster), `removed` (we were removed earlier)
   * @throws {TypeError} when `init.now` is not a finite number
   */
  applyAdd(init: ApplyAddInit): MemberTransition {
    const { provider, group } = this;
    checkNow(init.now);
    const epoch = init.epoch ?? this.#state.epoch + 1n;
    const refused = this.#chain(epoch, init.previousKeyId);
    if (refused !== undefined) return refused;
    // An epoch we hold (one we went back from: `returnTo`) is never entered again.
    if (init.keyId !== undefined && holdsEpoch(this.#state, init.keyId)) {
      return { status: "stale", epoch };
    }
    if (!holdsOwnLeaf(this.#state, init.roster)) return { status: "roster-mismatch", epoch };
    const initSecret = this.#state.initSecret;
    if (initSecret === undefined) return { status: "gap", epoch, currentEpoch: this.#state.epoch };
    const hash = init.rosterHash?.slice() ?? rosterHash(provider, init.roster);
    const epochSecret = addStepEpochSecret(provider, initSecret, hash, epoch);
    const rekeySecret = deriveRekeySecret(provider, epochSecret);
    const entered = enterEpoch({
      provider,
      group,
      epoch,
      epochSecret,
      roster: init.roster,
      rosterHash: hash,
      limits: this.#limits,
    });
    if (init.keyId !== undefined && !constantTimeEqual(entered.keys.keyId, init.keyId)) {
      entered.keys.destroy();
      wipe(entered.initSecret, rekeySecret);
      return { status: "key-mismatch", epoch };
    }
    // The leaf secret stays as it is: it moves only at owner KeyUpdates and resyncs.
    enterNext(this.#state, entered.keys, entered.initSecret, undefined, rekeySecret, init.now);
    return { status: "applied", epoch, keyId: entered.keys.keyId.slice() };
  }

  /**
   * Follows a KeyUpdate chunk (from a verified envelope: see `openKeyUpdateEnvelope`). A KeyUpdate may
   * come in several chunks: the outcome is `not-in-chunk` until our entry is found (`applied`) or every
   * chunk was seen without it (`removed`).
   *
   * @param chunk - one chunk of the KeyUpdate
   * @param now - current time in milliseconds
   * @param options - the new epoch's roster (when it changed), `acceptGap`, the salt mode
   * @returns the outcome (see {@link MemberTransition}); the state changes only on `applied` and
   *   `removed`; `gap` for a delegate KeyUpdate this state holds no rekey secret for (resync)
   * @throws {RangeError} when the chunk is for another channel than this group's
   * @throws {@link DecryptionFailedError} when an entry carries our hint but does not unwrap to the
   *   chunk's key_id (a tampered chunk): state unchanged
   */
  applyKeyUpdate(
    chunk: KeyUpdateChunk,
    now: number,
    options: ApplyKeyUpdateOptions = {},
  ): MemberTransition {
    const { provider, group } = this;
    checkNow(now);
    if (chunk.channelId !== group.channelId) {
      throw new RangeError("chunk.channelId: this KeyUpdate is for another group");
    }
    if (chunk.version !== keyUpdateVersion) {
      throw new RangeError(`chunk.version: expected ${keyUpdateVersion}, got ${chunk.version}`);
    }
    const epoch = chunk.epoch;
    const refused = this.#chain(epoch, chunk.previousKeyId);
    const delegate = options.salt === "delegate";
    if (refused !== undefined) {
      // A delegate's salts exist only from the epoch before it: no gap is bridged.
      const bridgeable =
        refused.status === "gap" &&
        options.acceptGap === true &&
        !delegate &&
        epoch - this.#state.epoch <= maxBridgedGap;
      if (!bridgeable) return refused;
    }
    // Without the epoch's rekey secret (an older saved head) no entry can be found: not a removal.
    if (delegate && this.#state.rekeySecret === undefined) {
      return { status: "gap", epoch, currentEpoch: this.#state.epoch };
    }
    const found = findEntry(provider, group, this.#state, chunk, options, openKeyUpdate);
    if (found === undefined) return this.#notInChunk(chunk, now);
    const { leafSecret, found: epochSecret, used } = found;
    const roster = options.roster ?? this.#state.roster;
    const hash =
      options.roster !== undefined && options.rosterHash !== undefined
        ? options.rosterHash
        : rosterHashOf(provider, roster);
    if (!constantTimeEqual(hash, chunk.rosterHash) || !holdsOwnLeaf(this.#state, roster)) {
      wipe(leafSecret, epochSecret);
      return { status: "roster-mismatch", epoch };
    }
    const rekeySecret = deriveRekeySecret(provider, epochSecret);
    const entered = enterEpoch({
      provider,
      group,
      epoch,
      epochSecret,
      roster,
      rosterHash: chunk.rosterHash,
      limits: this.#limits,
    });
    for (const stale of this.#state.prekeys.splice(used + 1)) wipe(stale.secretKey);
    // The salt just used goes: a later compromise cannot open this KeyUpdate again. A delegate's
    // salt was not L_m, which stays (docs/DELEGATION.md); the rekey secret it came from is replaced.
    const next =
      options.salt === "delegate" ? undefined : evolveLeafSecret(provider, leafSecret, epoch);
    wipe(leafSecret);
    enterNext(this.#state, entered.keys, entered.initSecret, next, rekeySecret, now);
    return { status: "applied", epoch, keyId: entered.keys.keyId.slice() };
  }

  /**
   * Whether `chunk` has an entry with one of our hints (for every leaf secret and prekey
   * `applyKeyUpdate` would try): where to look first. The chunk need not be verified: nothing is
   * unwrapped.
   *
   * @param chunk - one chunk of a KeyUpdate, verified or not
   * @param options - as for {@link MemberGroup.applyKeyUpdate} (the leaf secrets to try)
   * @returns `true` when an entry carries one of our hints
   * @throws {RangeError} / {@link InvalidPublicKeyError} for a malformed chunk
   */
  holdsKeyUpdateEntry(chunk: KeyUpdateChunk, options: ApplyKeyUpdateOptions = {}): boolean {
    const found = findEntry(
      this.provider,
      this.group,
      this.#state,
      chunk,
      options,
      (init) => keyUpdateHoldsHint(init) || undefined,
    );
    if (found !== undefined) wipe(found.leafSecret);
    return found !== undefined;
  }

  /**
   * The chunks of `chunk`'s KeyUpdate not yet applied without an entry for us: once these are
   * seen (verified) and none holds our entry, `applyKeyUpdate` concludes `removed`. A client that
   * holds unverified chunks verifies them all only when they cover these indexes.
   *
   * @param chunk - any chunk of the KeyUpdate (its epoch, key_id and chunk count; verified or not)
   * @returns the chunk indexes, ascending (every index of an update not started)
   * @throws {RangeError} when `chunk.chunkCount` is over `keyUpdateLimits.maxChunks` (30)
   */
  missingKeyUpdateChunks(chunk: Pick<KeyUpdateChunk, "epoch" | "keyId" | "chunkCount">): number[] {
    if (chunk.chunkCount > keyUpdateLimits.maxChunks) {
      throw new RangeError(`chunk.chunkCount: over the ${keyUpdateLimits.maxChunks}-chunk limit`);
    }
    return chunksNotSeen(this.#state.pending, chunk);
  }

  /**
   * Follows a KeyUpdate from all its sealed chunks (as received on the group's keys topic): finds
   * the chunk holding our entry before checking any signature, verifies and applies that one, and
   * verifies the other chunks only before concluding `removed`. A member whose entry is in the last
   * of 3 chunks checks one Ed25519 signature (over ~120 KiB), not 3. Forged or undecodable
   * envelopes are dropped and counted; only verified chunks reach {@link MemberGroup.applyKeyUpdate}.
   *
   * @param envelopes - the sealed chunks, at most 30 (`keyUpdateLimits.maxChunks`)
   * @param now - current time in milliseconds
   * @param options - as for `applyKeyUpdate` (salt mode: each signer's), and `committers`
   * @returns the last transition, and how many chunks were verified and refused
   * @throws {RangeError} for more than 30 envelopes; what `applyKeyUpdate` throws for a verified chunk
   */
  applyKeyUpdateEnvelopes(
    envelopes: readonly Uint8Array[],
    now: number,
    options: KeyUpdateEnvelopesOptions = {},
  ): Promise<KeyUpdateEnvelopesOutcome> {
    return applyKeyUpdateEnvelopes(this, envelopes, now, options);
  }

  #notInChunk(chunk: KeyUpdateChunk, now: number): MemberTransition {
    const { pending, missingChunks } = noteChunkWithoutEntry(this.#state.pending, chunk);
    this.#state.pending = pending;
    if (missingChunks.length > 0) {
      return { status: "not-in-chunk", epoch: chunk.epoch, missingChunks };
    }
    // Every chunk seen, none for us: we were removed.
    this.#leave(now);
    return { status: "removed", epoch: chunk.epoch };
  }

  /**
   * A delegate's add step (docs/DELEGATION.md): places the joiners as the owner does, enters epoch
   * e+1 from our `init_secret[e]`, makes each a Welcome with a fresh random leaf secret. The keys
   * signatures are checked first; nothing changes on a refusal.
   *
   * @param joiners - the admitted members' signed keys (`MemberKeys` with `keys_signature`)
   * @param now - current time in milliseconds
   * @returns the new epoch and roster; per joiner its leaf, Welcome and leaf secret (to hand over);
   *   the next `takeParts` is `durable`
   * @throws {@link InvalidPublicKeyError} for a keys signature that does not verify or a bad prekey;
   *   {RangeError} naming the argument: none, one already in, a repeat; a removed member
   */
  commitAdd(joiners: readonly SignedMemberKeys[], now: number): DelegateAdd {
    return commitAdd(this.#committer(), joiners, now);
  }

  /**
   * A delegate's removal (docs/DELEGATION.md): a fresh epoch secret in a FLAT KeyUpdate salted with
   * delegate salts of this epoch's `rekey_secret` (no `L_m` moves); we enter the new epoch.
   *
   * @param leaves - the leaves to empty (never the owner's or our own)
   * @param now - current time in milliseconds
   * @param perChunk - entries per KeyUpdate chunk. @default 3400
   * @returns the new epoch, its roster and the chunks (seal with `sealKeyUpdate({ delegate: true })`)
   * @throws {RangeError} naming the argument: an empty leaf, the owner's, ours, a repeat; a member
   *   removed or without the epoch's `rekey_secret` (restored from a format-2 head)
   */
  commitRemove(leaves: readonly number[], now: number, perChunk?: number): DelegateKeyUpdate {
    return commitRemove(this.#committer(), leaves, now, perChunk);
  }

  #committer(): Committer {
    return {
      provider: this.provider,
      group: this.group,
      state: this.#state,
      limits: this.#limits,
      // Durable: a delegate has no entry in its own KeyUpdate, so a lost commit cannot be re-followed.
      enter: (keys, initSecret, rekeySecret, now) => {
        enterNext(this.#state, keys, initSecret, undefined, rekeySecret, now);
        this.#parts.noteDurable();
      },
    };
  }

  /**
   * Marks us as out of the group when the owner-signed roster no longer lists us (or we left): needed
   * when no KeyUpdate tells us, e.g. the owner removed its last member and so published no chunk. Our
   * last epoch stays readable for late messages until it expires; we can no longer send.
   *
   * @param now - current time in milliseconds (starts the retention of our last epoch)
   * @throws {TypeError} when `now` is not a finite number
   */
  markRemoved(now: number): void {
    checkNow(now);
    if (!this.#state.removed) this.#leave(now);
  }

  #leave(now: number): void {
    // A sibling of the commit that removed us may win (docs/DELEGATION.md, "Concurrent commits").
    keepForkPoint(this.#state, now);
    this.#state.removed = true;
    this.#state.pending = undefined;
    wipe(this.#state.initSecret, this.#state.leafSecret, this.#state.rekeySecret);
    this.#state.initSecret = undefined;
    this.#state.rekeySecret = undefined;
    this.#state.window.advance(undefined, now);
  }

  /**
   * Whether a send since the last {@link MemberGroup.takeParts} changed the saved head: it started the own
   * sender chain or moved its reservation (the head then reserves a new stretch of generations and
   * must be committed durably before the message leaves). Any other send leaves the head
   * `takeParts()` would return byte-identical (it saves the reservation's bound, not the chain's
   * position): a caller may skip saving the group after such a send.
   */
  get sendChangedHead(): boolean {
    return this.#state.window.reservationMoved;
  }

  /**
   * Whether a decryption since the last {@link MemberGroup.takeParts} changed more than the receive
   * chains of the current epoch (the keys derived, kept as skipped or consumed along them): it
   * expired a retained epoch (erasing its keys) or read a message of one. When false, a saved head
   * older than the state in memory differs from it only by positions on those chains: from it the
   * same keys can be derived again, so a caller may write the head later (what the messages opened
   * since must not be processed again: commit their ids). Other changes are the caller's to save
   * as it makes them.
   */
  get receivedBeyondChains(): boolean {
    return this.#state.window.decryptedBeyondChains;
  }

  /**
   * The generation our next message in the current epoch will use (0 before the first); undefined
   * once we were removed.
   */
  get ownNextGeneration(): number | undefined {
    const current = this.#state.removed ? undefined : this.#state.window.current;
    return current?.nextGeneration(this.leaf);
  }

  /**
   * Moves our own sender chain of the current epoch forward to `generation`, keeping no key: for a
   * group entered again at the epoch it was in (a resync Welcome of that epoch), whose chain would
   * otherwise start over at generations already sent — the same key and nonce for another
   * plaintext. Pass the previous group's {@link MemberGroup.ownNextGeneration} plus
   * `sendReservation`: that is past every generation it sent or reserved (its saved head may be up
   * to that far ahead), and receivers take the jump (inside `groupLimits.maxForwardJump`). The next
   * `takeParts` saves the head, to be committed durably ({@link MemberGroup.sendChangedHead}).
   *
   * @param generation - the first generation to send with; not below {@link MemberGroup.ownNextGeneration}
   * @throws {RangeError} once we were removed, or when `generation` is below the next one or above 2³²
   */
  continueOwnChain(generation: number): void {
    const current = this.#state.removed ? undefined : this.#state.window.current;
    if (current === undefined) throw new RangeError(removedFromGroup);
    if (generation === current.nextGeneration(this.leaf)) return;
    current.advanceSendChain(this.leaf, generation);
    this.#state.window.reservationMoved = true;
  }

  /**
   * Encrypts our message in the current epoch.
   *
   * @param plaintext - the content type and content
   * @returns the encoded `GroupMessage`
   * @throws {RangeError} once we were removed from the group; {RangeError} / {TypeError} from
   *   `EpochKeys.encrypt` (content too large, bad content type)
   */
  encrypt(plaintext: GroupPlaintext): Uint8Array {
    if (this.#state.removed) {
      throw new RangeError(removedFromGroup);
    }
    return this.#state.window.encrypt(this.leaf, this.#state.signingSecretKey, plaintext);
  }

  /**
   * Decrypts a group message of the current epoch or of one kept for late messages.
   *
   * @param message - the encoded or decoded `GroupMessage`
   * @param now - current time in milliseconds (expires old epochs first)
   * @returns the sender, generation and content
   * @throws {@link UnknownEpochError} for a key_id we do not hold: an expired epoch, an epoch before
   *   we joined ("joined" history), or one we have not reached (fetch control messages or resync)
   * @throws `DecodeError` for malformed bytes; {@link DecryptionFailedError} and the other errors of
   *   `EpochKeys.decrypt`
   */
  decrypt(message: Uint8Array | GroupMessage, now: number): DecryptedGroupMessage {
    return this.#state.window.decrypt(message, now);
  }

  /**
   * The whole state as versioned bytes (they contain every secret: store them encrypted).
   *
   * @returns the serialized state (layout in group-state-encoding.ts)
   */
  serialize(): Uint8Array {
    return writeMemberState(this.#state);
  }

  /**
   * The state in pieces to save in one commit (docs/PROTOCOL.md, "Saved group state"): the head
   * (no roster) and whether the commit must be durable; `members` is always empty for a member.
   * Call it at every commit that touches the group.
   *
   * @param options.all - return the head as changed (after a commit that failed, or to write a
   *   group into a store that does not hold it yet). @default false
   * @returns the parts (secrets: store them encrypted)
   */
  takeParts(options?: { readonly all?: boolean }): GroupParts {
    const head = writeMemberHead(this.provider, this.#state);
    const all = options?.all === true ? [] : undefined;
    return this.#parts.take(this.provider, head, this.#state.window, () => undefined, all);
  }

  /**
   * The epochs whose keys this state holds (current and retained; once removed, also the last
   * epoch reached), and the roster each refers to: keep these rosters, {@link MemberGroup.restore}
   * asks for them by key id.
   *
   * @returns one entry per epoch, oldest first
   */
  heldEpochs(): HeldEpoch[] {
    const held = this.#state.window.held(this.provider);
    const { keyId, epoch, roster } = this.#state;
    if (!held.some((entry) => constantTimeEqual(entry.keyId, keyId))) {
      held.push({ epoch, keyId: keyId.slice(), rosterHash: rosterHashOf(this.provider, roster) });
    }
    return held;
  }

  /**
   * Restores a state saved with {@link MemberGroup.takeParts}: the last head and the rosters it
   * refers to (each checked against its saved length and hash). Also takes a whole state written by
   * {@link MemberGroup.serialize} as `head` (then `roster` is not used). The own sender chain
   * resumes at its reservation: no generation that may have been sent is used again.
   *
   * @param provider - the crypto provider
   * @param parts - the head and the rosters by key id
   * @param options.limits - the limits of epochs created from now on (restored epochs keep theirs)
   * @returns the member's side of the group
   * @throws {TypeError} when `parts.head` is not a `Uint8Array`
   * @throws {@link StateCorruptedError} naming what does not hang together: a roster missing or
   *   with another hash, bytes of an unknown version
   */
  static restore(
    provider: CryptoProvider,
    parts: MemberGroupParts,
    options: { readonly limits?: EpochLimits } = {},
  ): MemberGroup {
    const { head } = parts;
    if (savedVersion(head, memberMagic) === 1) {
      return MemberGroup.deserialize(provider, head, options.limits);
    }
    const epochs = new Map(parts.epochs);
    const state = readMemberHead(provider, head, rosterSupplier(provider, parts.roster), epochs);
    return new MemberGroup(provider, state, options.limits, { head, epochs: epochs.keys() });
  }

  /**
   * Restores a state written by {@link MemberGroup.serialize}.
   *
   * @param provider - the crypto provider
   * @param bytes - the serialized state
   * @param limits - the limits to give epochs created from now on (restored epochs keep theirs)
   * @returns the member's side of the group, as it was
   * @throws {TypeError} when `bytes` is not a `Uint8Array`
   * @throws {@link StateCorruptedError} for bytes that are not a valid member state of a known version
   */
  static deserialize(
    provider: CryptoProvider,
    bytes: Uint8Array,
    limits?: EpochLimits,
  ): MemberGroup {
    return new MemberGroup(provider, readMemberState(provider, bytes), limits);
  }
}
