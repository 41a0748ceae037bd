/**
 * The owner's side of one group's epochs (docs/PROTOCOL.md, "Re-keying"): the add step for joins,
 * KeyUpdates for removals and periodic refreshes, Welcomes, resyncs and the owner's own messages.
 *
 * @module
 */
import { toHex } from "@orgchat/base";
import type { GroupMessage } from "@orgchat/wire";
import { constantTimeEqual } from "./constant-time.js";
import { type EpochLimits, enterEpoch } from "./epoch-entry.js";
import type { GroupPlaintext, HeldEpoch } from "./epoch-window.js";
import { checkNow, checkPrekey } from "./group-checks.js";
import type { DecryptedGroupMessage, EpochKeys } from "./group-message.js";
import { type GroupParts, PartsTracker } from "./group-parts.js";
import { readOwnerHead, writeMemberRecord, writeOwnerHead } from "./group-parts-encoding.js";
import {
  type OwnerGroupState,
  ownerMagic,
  readOwnerState,
  savedVersion,
  writeOwnerState,
} from "./group-state-encoding.js";
import {
  addStepEpochSecret,
  deriveKeyId,
  type GroupId,
  type Roster,
  type RosterLeaf,
  rosterHash,
} from "./key-schedule.js";
import type { KeyUpdateChunk } from "./key-update.js";
import {
  type FollowInit,
  followAddSecret,
  followKeyUpdateSecret,
  followMembers,
  followRefusal,
  type LeafHandoverInit,
  type OwnerFollow,
  recordHandover,
} from "./owner-follow.js";
import {
  type OwnerForkPoint,
  type OwnerSibling,
  openSibling,
  restoreForkPoint,
  takeForkPoint,
} from "./owner-forks.js";
import { genesisState, regenesisState } from "./owner-genesis.js";
import { rememberEpoch, resyncWelcome } from "./owner-resync.js";

export * from "./owner-group-types.js";

import {
  type HistoryPolicy,
  type Joiner,
  type OwnerAdd,
  type OwnerGroupInit,
  type OwnerGroupOptions,
  type OwnerGroupParts,
  type OwnerKeyUpdate,
  type OwnerRegenesisInit,
  refreshIntervalMs,
} from "./owner-group-types.js";
import {
  buildKeyUpdateOrWipe,
  commitKeyUpdate,
  keyUpdateRecipients,
  placeJoiners,
  recordJoiners,
  rosterIdentities,
} from "./owner-members.js";
import type { CryptoProvider } from "./provider.js";
import { checkBytes } from "./providers/checks.js";
import { rosterHashOf, rosterSupplier, type UncheckedRosters } from "./roster-hashes.js";
import { redactSecrets, wipe } from "./secret.js";
import { copyHistory, makeWelcome, type WelcomeInit } from "./welcome.js";

/**
 * The owner's side of one group's epochs (the organization, or a restricted channel with its own
 * chain): membership changes, KeyUpdates, Welcomes and the owner's own messages. Pure and
 * synchronous: time comes in as `now` arguments, randomness from the provider.
 *
 * The owner tracks every member's leaf secret `L_m` with the epoch it belongs to and steps it forward
 * lazily, by the gap, when the next KeyUpdate needs it.
 *
 * @example
 * ```ts
 * const owner = OwnerGroup.create({ provider, group, ownLeaf, signingSecretKey, now });
 * const { welcomes, roster } = owner.add([{ leaf: aliceLeaf, leafSecret: aliceL }], now);
 * const removal = owner.remove([1], now);
 * const envelopes = await sealKeyUpdate({ group, chunks: removal.chunks, clock, signer });
 * const bytes = owner.encrypt({ contentType: 1, content });
 * ```
 */
export class OwnerGroup {
  /** The crypto provider every operation uses. */
  readonly provider: CryptoProvider;
  /** The organization (`channelId` `""`) or the restricted channel. */
  readonly group: GroupId;
  /** Who may read earlier epochs (fixed at creation). */
  readonly historyPolicy: HistoryPolicy;
  /** The owner's own leaf index. */
  readonly leaf: number;
  readonly #limits: EpochLimits | undefined;
  readonly #maxEntriesPerChunk: number | undefined;
  /** Everything saved by {@link OwnerGroup.serialize} (group-state-encoding.ts). */
  readonly #state: OwnerGroupState;
  /** What changed since the last {@link OwnerGroup.takeParts}. */
  readonly #parts: PartsTracker;
  /**
   * The identity keys (hex) of the current roster's leaves, built at the first add step and kept up
   * to date, so that an add step checks its joiners in O(joiners), not O(roster).
   */
  #identities: Set<string> | undefined;

  private constructor(
    provider: CryptoProvider,
    state: OwnerGroupState,
    options: OwnerGroupOptions,
    saved?: { readonly head: Uint8Array; readonly epochs: Iterable<string> },
  ) {
    this.provider = provider;
    this.group = state.group;
    this.historyPolicy = state.historyPolicy;
    this.leaf = state.leaf;
    this.#limits = options.limits;
    this.#maxEntriesPerChunk = options.maxEntriesPerChunk;
    this.#state = state;
    this.#parts = new PartsTracker(provider, saved);
    if (saved === undefined) this.#parts.noteMembers(state.members.keys());
    redactSecrets(this, "OwnerGroup");
  }

  /**
   * Starts a group at epoch 0 with a fresh random epoch secret and the owner as its only member
   * (leaf 0); members join with {@link OwnerGroup.add}.
   *
   * @param init - the provider, the group, the owner's leaf and signing secret, the time, options
   * @returns the owner's side of the new group
   * @throws {RangeError} / {TypeError} naming the argument: key lengths, an invalid channel id, a
   *   signing secret that does not match `ownLeaf.signingKey`, an unknown history policy
   * @throws {@link InvalidPublicKeyError} when the owner's prekey is of small order
   *
   * @example
   * ```ts
   * const owner = OwnerGroup.create({
   *   provider: defaultProvider(),
   *   group: { organizationId, channelId: "" },
   *   ownLeaf: { identityKey, signingKey, prekey },
   *   signingSecretKey,
   *   now: clock.now(),
   * });
   * ```
   */
  static create(init: OwnerGroupInit): OwnerGroup {
    return new OwnerGroup(init.provider, genesisState(init), init);
  }

  /**
   * A restored owner's new start of a group (docs/RESTORE.md, "Owner continuity"): epoch
   * `init.epoch` (above every one seen), the roster taken over, a fresh epoch secret and a fresh
   * leaf secret per member; each member enters it from {@link OwnerGroup.resync}'s Welcome.
   * @throws {RangeError} / {TypeError} as {@link OwnerGroup.create}, and naming `epoch` (not
   *   1..2⁶⁴ − 1) or `roster` (empty, too long, leaf 0 not the owner's, an identity twice)
   * @throws {@link InvalidPublicKeyError} for a prekey of small order
   */
  static regenesis(init: OwnerRegenesisInit): OwnerGroup {
    return new OwnerGroup(init.provider, regenesisState(init), init);
  }

  get #current(): EpochKeys {
    return this.#state.window.current as EpochKeys;
  }

  /** The current epoch number. */
  get epoch(): bigint {
    return this.#current.epoch;
  }

  /** The current epoch's public key_id. */
  get keyId(): Uint8Array {
    return this.#current.keyId.slice();
  }

  /** The current epoch's roster. */
  get roster(): Roster {
    return this.#current.roster;
  }

  /** The current epoch's roster hash (noted when the epoch was entered: no hashing). */
  get rosterHash(): Uint8Array {
    return rosterHashOf(this.provider, this.#current.roster);
  }

  /**
   * The leaves of the current members other than the owner.
   *
   * @returns leaf indexes, ascending
   */
  memberLeaves(): number[] {
    return [...this.#state.members.keys()].sort((a, b) => a - b);
  }

  /**
   * The epochs this state can decrypt now.
   *
   * @param now - current time in milliseconds (expires old epochs first)
   * @returns epoch numbers, oldest first, the current one last
   * @throws {TypeError} when `now` is not a finite number
   */
  readableEpochs(now: number): bigint[] {
    return this.#state.window.readableEpochs(now);
  }

  /**
   * The add step: new members join at epoch e+1, whose secret is derived one way from `init_secret[e]`
   * and the new roster hash (no new randomness, nothing broadcast but the owner-signed roster).
   * Joiners fill the lowest empty leaves, then extend the roster.
   *
   * @param joiners - the new members' keys and initial leaf secrets
   * @param now - current time in milliseconds (starts the retention of epoch e)
   * @returns the new epoch, its roster, and one Welcome per joiner
   * @throws {RangeError} / {TypeError} naming the argument: no joiners, key lengths, a joiner
   *   already in the roster or listed twice
   * @throws {@link InvalidPublicKeyError} when a joiner's prekey is of small order
   */
  add(joiners: readonly Joiner[], now: number): OwnerAdd {
    const { provider, group } = this;
    checkNow(now);
    if (joiners.length === 0) throw new RangeError("joiners: expected at least one");
    const identities = this.#identities ?? rosterIdentities(this.#state.roster);
    this.#identities = identities;
    const { roster, placed } = placeJoiners(provider, this.#state.roster, joiners, identities);
    const epoch = this.epoch + 1n;
    const hash = rosterHash(provider, roster);
    const epochSecret = addStepEpochSecret(provider, this.#state.initSecret, hash, epoch);
    const earlier = copyHistory(this.#state.history);
    const welcomeSecret = epochSecret.slice();
    const { keys, announced } = this.#enterNext(epoch, epochSecret, hash, roster, now);
    const welcomes = placed.map(({ leaf, joiner }) => ({
      leaf,
      welcome: makeWelcome({
        group,
        epoch,
        epochSecret: welcomeSecret,
        rosterHash: hash,
        keyId: keys.keyId,
        leafIndex: leaf,
        leafSecret: joiner.leafSecret,
        history: earlier,
      }),
    }));
    wipe(welcomeSecret);
    recordJoiners(this.#state.members, placed, epoch);
    for (const { joiner } of placed) identities.add(toHex(joiner.leaf.identityKey));
    this.#parts.noteMembers(placed.map(({ leaf }) => leaf));
    return { ...announced, welcomes };
  }

  /**
   * Removes (or bans: the crypto is the same) members: a fresh random epoch secret, sent in a
   * KeyUpdate to every remaining member; the removed leaves are emptied. The removed members' keys
   * open nothing of the new epoch.
   *
   * @param leaves - the leaves to remove (not the owner's)
   * @param now - current time in milliseconds
   * @returns the new epoch, its roster and the KeyUpdate chunks to seal and publish
   * @throws {RangeError} naming the argument when a leaf is not a member, is the owner, or is listed
   *   twice; from `buildKeyUpdate` when the KeyUpdate cannot be built (the state is then unchanged)
   */
  remove(leaves: readonly number[], now: number): OwnerKeyUpdate {
    checkNow(now);
    if (leaves.length === 0) throw new RangeError("leaves: expected at least one");
    const roster = [...this.#state.roster];
    const removed = new Set<number>();
    for (const [index, leaf] of leaves.entries()) {
      if (!this.#state.members.has(leaf) || removed.has(leaf)) {
        throw new RangeError(
          `leaves[${index}]: ${leaf} is ${leaf === this.leaf ? "the owner" : "not a member (or listed twice)"}`,
        );
      }
      removed.add(leaf);
      roster[leaf] = undefined;
    }
    return this.#rekey(roster, removed, now);
  }

  /**
   * The periodic refresh (default every 48 h; the caller schedules it): a fresh random epoch secret
   * to every member's latest prekey. Also the point where rotated prekeys take effect.
   *
   * @param now - current time in milliseconds
   * @returns the new epoch, its roster and the KeyUpdate chunks (none when the owner is alone)
   * @throws {TypeError} when `now` is not a finite number
   */
  refresh(now: number): OwnerKeyUpdate {
    checkNow(now);
    return this.#rekey(this.#state.roster, new Set(), now);
  }

  /**
   * Records a member's new prekey `P_m'` (post-compromise security): the next KeyUpdate uses it, and
   * the next epoch's roster lists it.
   *
   * @param leaf - the member's leaf
   * @param prekey - its new X25519 public prekey (copied)
   * @throws {RangeError} when `leaf` is not a member or `prekey` is not 32 bytes;
   *   {@link InvalidPublicKeyError} for a small-order prekey
   */
  rotatePrekey(leaf: number, prekey: Uint8Array): void {
    checkBytes(prekey, 32, "prekey");
    const record = this.#state.members.get(leaf);
    const entry = this.#state.roster[leaf];
    if (record === undefined || entry === undefined) {
      throw new RangeError(`leaf: ${leaf} is not a member`);
    }
    checkPrekey(this.provider, prekey);
    const copy = prekey.slice();
    record.prekey = copy;
    // The current epoch's roster is shared (frozen): the first rotation makes the next one a copy.
    const next = Object.isFrozen(this.#state.roster)
      ? [...this.#state.roster]
      : (this.#state.roster as Array<RosterLeaf | undefined>);
    next[leaf] = { ...entry, prekey: copy };
    this.#state.roster = next;
    this.#parts.noteMembers([leaf]);
  }

  /**
   * Follows a delegate's add step (docs/DELEGATION.md, "The owner returns"): derives epoch e+1 from
   * `init_secret[e]` and the delegate-signed roster, enters it and stays the owner. Each member the
   * delegate added gets a placeholder leaf secret until {@link OwnerGroup.recordLeafSecret}.
   * Whether the delegate could commit it is the caller's check (the state at its canonical place).
   *
   * @param init - the new epoch's roster, epoch, previous key_id and key_id
   * @param now - current time in milliseconds
   * @returns `applied` with the leaves awaiting a leaf secret, or why not (nothing changed)
   * @throws {TypeError} / {RangeError} for a malformed key_id or time
   */
  followAdd(init: FollowInit, now: number): OwnerFollow {
    const refused = followRefusal(this.#state, this.keyId, this.epoch, init, now);
    if (refused !== undefined) return refused;
    const { epochSecret, hash } = followAddSecret(this.provider, this.#state, init);
    const keyId = deriveKeyId(this.provider, this.group, init.epoch, epochSecret);
    if (!constantTimeEqual(keyId, init.keyId)) {
      wipe(epochSecret);
      return { status: "key-mismatch" };
    }
    return this.#follow(init, epochSecret, hash, now);
  }

  /**
   * Follows a delegate's KeyUpdate from one chunk (docs/DELEGATION.md): opens the owner's own entry,
   * salted with the delegate salt of its leaf, enters the new epoch and forgets the departed
   * members; no member's leaf secret moves.
   *
   * @param chunk - a chunk of the delegate's KeyUpdate (from a verified envelope)
   * @param init - the new epoch's roster (and its hash), and the owner's prekey secret
   * @param now - current time in milliseconds
   * @returns `applied`, `not-in-chunk` (try the other chunks), or why not (nothing changed)
   * @throws {@link DecryptionFailedError} for a tampered entry carrying the owner's hint;
   *   {RangeError} for a chunk of another group or version
   */
  followKeyUpdate(
    chunk: KeyUpdateChunk,
    init: Pick<FollowInit, "roster" | "rosterHash"> & { readonly prekeySecret: Uint8Array },
    now: number,
  ): OwnerFollow {
    const follow: FollowInit = {
      ...init,
      epoch: chunk.epoch,
      previousKeyId: chunk.previousKeyId,
      keyId: chunk.keyId,
    };
    const refused = followRefusal(this.#state, this.keyId, this.epoch, follow, now);
    if (refused !== undefined) return refused;
    const hash = init.rosterHash ?? rosterHashOf(this.provider, init.roster);
    if (!constantTimeEqual(hash, chunk.rosterHash)) return { status: "roster-mismatch" };
    const epochSecret = followKeyUpdateSecret(this.provider, this.#state, chunk, init.prekeySecret);
    if (epochSecret === undefined) return { status: "not-in-chunk" };
    return this.#follow(follow, epochSecret, hash, now);
  }

  /**
   * The current epoch's fork point (docs/PROTOCOL.md, "The owner's return"), taken before following
   * a delegate's commit, for {@link OwnerGroup.enterSibling} (secrets: `wipeOwnerForkPoint`).
   */
  forkPoint(now: number): OwnerForkPoint {
    return takeForkPoint(this.#state, this.epoch, this.keyId, now);
  }

  /**
   * Moves to a delegate's commit on a fork point that wins there (the caller's decision): its epoch
   * secret and the point's member records (its own KeyUpdates since moved them) from the point, the
   * sibling entered as the current epoch, the epoch left readable. The point is not consumed.
   * @returns as {@link OwnerGroup.followAdd} (nothing changed unless `applied`)
   */
  enterSibling(point: OwnerForkPoint, sibling: OwnerSibling, now: number): OwnerFollow {
    const opened = openSibling(this.provider, this.#state, point, sibling, now);
    if (!("epochSecret" in opened)) return opened;
    this.#parts.noteMembers(restoreForkPoint(this.#state, point));
    return this.#follow(opened.follow, opened.epochSecret, opened.hash, now);
  }

  #follow(init: FollowInit, epochSecret: Uint8Array, hash: Uint8Array, now: number): OwnerFollow {
    const { next, added, gone } = followMembers(
      this.provider,
      this.#state,
      init.roster,
      init.epoch,
    );
    this.#identities = undefined;
    this.#enterNext(init.epoch, epochSecret, hash, init.roster, now);
    this.#state.roster = next;
    this.#parts.noteMembers([...added, ...gone]);
    return { status: "applied", epoch: init.epoch, awaitingLeafSecret: added };
  }

  /**
   * Records the leaf secret a delegate gave a member it added (`LeafHandover`), in place of the
   * placeholder {@link OwnerGroup.followAdd} set. The caller checks that the handover comes from the
   * delegate whose add step wrote that leaf.
   *
   * @param handover - the leaf, the member's identity key, the add step's epoch and `L_m` (copied)
   * @throws {RangeError} naming the field: not that member's leaf, a leaf secret of 32 bytes, or a
   *   stale handover (the owner re-keyed since: give the member a fresh one with `resync`)
   */
  recordLeafSecret(handover: LeafHandoverInit): void {
    recordHandover(this.#state, handover);
    this.#parts.noteMembers([handover.leaf]);
  }

  /**
   * Whether a send since the last {@link OwnerGroup.takeParts} changed the saved head: it started the own
   * sender chain or moved its reservation (the head then reserves a new stretch of generations and
   * must be committed durably before the message leaves). Any other send leaves the head
   * `takeParts()` would return byte-identical (it saves the reservation's bound, not the chain's
   * position): a caller may skip saving the group after such a send.
   */
  get sendChangedHead(): boolean {
    return this.#state.window.reservationMoved;
  }

  /**
   * Whether a decryption since the last {@link OwnerGroup.takeParts} changed more than the receive
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
   * Encrypts the owner's own message in the current epoch.
   *
   * @param plaintext - the content type and content
   * @returns the encoded `GroupMessage`
   * @throws {RangeError} / {TypeError} from `EpochKeys.encrypt` (content too large, bad content type)
   */
  encrypt(plaintext: GroupPlaintext): Uint8Array {
    return this.#state.window.encrypt(this.leaf, this.#state.signingSecretKey, plaintext);
  }

  /**
   * Decrypts a group message of the current epoch or of one kept for late messages.
   *
   * @param message - the encoded or decoded `GroupMessage`
   * @param now - current time in milliseconds (expires old epochs first)
   * @returns the sender, generation and content
   * @throws {@link UnknownEpochError} for a key_id we do not hold (expired or never known)
   * @throws `DecodeError` for malformed bytes; {@link DecryptionFailedError} and the other errors of
   *   `EpochKeys.decrypt`
   */
  decrypt(message: Uint8Array | GroupMessage, now: number): DecryptedGroupMessage {
    return this.#state.window.decrypt(message, now);
  }

  /**
   * Makes epoch `epoch` current: remembers its secret for "shared" Welcomes, derives its keys (wiping
   * `epochSecret`, of which the owner keeps a copy for resyncs), replaces the previous epoch's secrets
   * and keeps that epoch readable for late messages from `now` on.
   *
   * @returns the new epoch's keys, and what the owner announces about the transition
   */
  #enterNext(
    epoch: bigint,
    epochSecret: Uint8Array,
    hash: Uint8Array,
    roster: Roster,
    now: number,
  ): { keys: EpochKeys; announced: Omit<OwnerKeyUpdate, "chunks"> } {
    const previousKeyId = this.keyId;
    if (this.historyPolicy === "shared") rememberEpoch(this.#state, epoch, epochSecret, hash);
    const kept = epochSecret.slice();
    const { keys, initSecret } = enterEpoch({
      provider: this.provider,
      group: this.group,
      epoch,
      epochSecret,
      roster,
      rosterHash: hash,
      limits: this.#limits,
    });
    const state = this.#state;
    wipe(state.initSecret, state.epochSecret);
    state.initSecret = initSecret;
    state.epochSecret = kept;
    state.epochStartedAt = now;
    state.roster = keys.roster;
    state.window.advance(keys, now);
    this.#parts.noteDurable();
    const announced = {
      epoch,
      keyId: keys.keyId.slice(),
      previousKeyId,
      rosterHash: hash,
      roster: keys.roster,
    };
    return { keys, announced };
  }

  /**
   * Whether the periodic refresh is due: the current epoch is at least `intervalMs` old. The caller
   * (the client's scheduler) then calls {@link OwnerGroup.refresh}; a refresh is also the point where
   * rotated prekeys take effect (post-compromise security).
   *
   * @param now - current time in milliseconds
   * @param intervalMs - the refresh interval. @default refreshIntervalMs (48 h)
   * @returns whether the current epoch is at least `intervalMs` old
   * @throws {TypeError} when `now` is not a finite number; {RangeError} when `intervalMs` is not a
   *   positive number
   */
  refreshDue(now: number, intervalMs: number = refreshIntervalMs): boolean {
    checkNow(now);
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new RangeError(`intervalMs: must be a positive number, got ${intervalMs}`);
    }
    return now - this.#state.epochStartedAt >= intervalMs;
  }

  /**
   * A Welcome for the current epoch to an existing member that lost its state or missed control
   * messages it can no longer fetch (resync), to send over the pairwise channel. Under the "shared"
   * policy it also carries the earlier epochs the owner keeps.
   *
   * @param leaf - the member's leaf
   * @param options.leafSecret - a new leaf secret `L_m` (for example from a fresh X3DH), which
   *   replaces the one the owner tracks; by default the tracked one, unchanged (docs/PROTOCOL.md,
   *   "Re-keying": it moves only at KeyUpdates)
   * @returns the Welcome fields (encode with `encodeWelcome`)
   * @throws {RangeError} when `leaf` is not a member, or `leafSecret` is not 32 bytes
   */
  resync(leaf: number, options: { leafSecret?: Uint8Array } = {}): WelcomeInit {
    const current = { epoch: this.epoch, keyId: this.#current.keyId, roster: this.roster };
    const { welcome, changed } = resyncWelcome(this.provider, this.#state, current, leaf, options);
    if (changed) this.#parts.noteMembers([leaf]);
    return welcome;
  }

  #rekey(roster: Roster, removed: ReadonlySet<number>, now: number): OwnerKeyUpdate {
    const { provider, group } = this;
    const epoch = this.epoch + 1n;
    const hash = rosterHashOf(provider, roster);
    const epochSecret = provider.randomBytes(32);
    const previousKeyId = this.keyId;
    const recipients = keyUpdateRecipients(this.#state.members, removed);
    const chunks = buildKeyUpdateOrWipe({
      provider,
      group,
      epoch,
      epochSecret,
      previousKeyId,
      rosterHash: hash,
      recipients,
      maxEntriesPerChunk: this.#maxEntriesPerChunk,
    });
    // Commit only now: a refused KeyUpdate leaves the state as it was.
    for (const leaf of removed) {
      const gone = this.#state.roster[leaf];
      if (gone !== undefined) this.#identities?.delete(toHex(gone.identityKey));
    }
    commitKeyUpdate(provider, this.#state.members, recipients, removed, epoch);
    this.#parts.noteMembers(recipients.map(({ leaf }) => leaf));
    this.#parts.noteMembers(removed);
    const { announced } = this.#enterNext(epoch, epochSecret, hash, roster, now);
    return { ...announced, chunks };
  }

  /**
   * The whole state as versioned bytes (they contain every secret: store them encrypted). Its size
   * grows with the roster: save {@link OwnerGroup.takeParts} instead.
   *
   * @returns the serialized state (layout in group-state-encoding.ts)
   */
  serialize(): Uint8Array {
    return writeOwnerState(this.#state);
  }

  /**
   * The state in pieces to save in one commit (docs/PROTOCOL.md, "Saved group state"): the head
   * (no roster, no member record), the member records changed since the last call, and whether the
   * commit must be durable. Call it at every commit that touches the group.
   *
   * @param options.all - return the head as changed and every member record (after a commit that
   *   failed, or to write a group into a store that does not hold it yet). @default false
   * @returns the parts (secrets: store them encrypted)
   *
   * @example
   * ```ts
   * const { head, headChanged, members, durable } = owner.takeParts();
   * if (headChanged) ops.push(put("group/", head));
   * for (const [leaf, record] of members) ops.push(record ? put(leaf, record) : del(leaf));
   * await store.batch(ops, { durable });
   * ```
   */
  takeParts(options?: { readonly all?: boolean }): GroupParts {
    const members = this.#state.members;
    return this.#parts.take(
      this.provider,
      writeOwnerHead(this.#state),
      this.#state.window,
      (leaf) => {
        const record = members.get(leaf);
        return record === undefined ? undefined : writeMemberRecord(leaf, record);
      },
      options?.all === true ? members.keys() : undefined,
    );
  }

  /**
   * The epochs whose keys this state holds (current and retained), and the roster each refers to:
   * keep these rosters, {@link OwnerGroup.restore} asks for them by key id.
   *
   * @returns one entry per epoch, oldest first
   */
  heldEpochs(): HeldEpoch[] {
    return this.#state.window.held(this.provider);
  }

  /**
   * Restores a state saved with {@link OwnerGroup.takeParts}: the last head, every member record,
   * and the rosters the head refers to (each checked against its saved length and hash). Also takes
   * a whole state written by {@link OwnerGroup.serialize} as `head` (then `members` and `roster` are
   * not used, and the next `takeParts()` returns everything, to rewrite in pieces). The own sender
   * chain resumes at its reservation: no generation that may have been sent is used again.
   *
   * @param provider - the crypto provider
   * @param parts - the head, the member records, the rosters by key id
   * @param options - settings that are not saved (limits of new epochs, KeyUpdate chunk size)
   * @returns the owner's side of the group
   * @throws {TypeError} when `parts.head` is not a `Uint8Array`
   * @throws {@link StateCorruptedError} naming what does not hang together: a roster missing or
   *   with another hash, a member record for an empty leaf or missing, bytes of an unknown version
   */
  static restore(
    provider: CryptoProvider,
    parts: OwnerGroupParts,
    options: OwnerGroupOptions = {},
  ): OwnerGroup {
    const { head } = parts;
    if (savedVersion(head, ownerMagic) === 1)
      return OwnerGroup.deserialize(provider, head, options);
    const epochs = new Map(parts.epochs);
    const rosters = rosterSupplier(provider, parts.roster);
    const unchecked: UncheckedRosters = new Map();
    const retained =
      parts.retainedRosterChecks === "first-use"
        ? { supplier: rosterSupplier(provider, parts.roster, unchecked), unchecked }
        : undefined;
    const state = readOwnerHead(provider, head, parts.members, rosters, epochs, retained);
    return new OwnerGroup(provider, state, options, { head, epochs: epochs.keys() });
  }

  /**
   * Restores a state written by {@link OwnerGroup.serialize}.
   *
   * @param provider - the crypto provider
   * @param bytes - the serialized state
   * @param options - settings that are not saved (limits of new epochs, KeyUpdate chunk size)
   * @returns the owner's side of the group, as it was
   * @throws {TypeError} when `bytes` is not a `Uint8Array`
   * @throws {@link StateCorruptedError} for bytes that are not a valid owner state of a known version
   */
  static deserialize(
    provider: CryptoProvider,
    bytes: Uint8Array,
    options: OwnerGroupOptions = {},
  ): OwnerGroup {
    return new OwnerGroup(provider, readOwnerState(provider, bytes), options);
  }
}
