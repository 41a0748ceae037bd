import { toHex } from "@orgchat/base";
import { decodeGroupMessage, type GroupMessage, isChatId, wireLimits } from "@orgchat/wire";
import { constantTimeEqual } from "./constant-time.js";
import {
  DecryptionFailedError,
  isStateCorruptedError,
  StateCorruptedError,
  UnknownEpochError,
} from "./errors.js";
import { type DecryptedGroupMessage, EpochKeys, type GroupLimits } from "./group-message.js";
import {
  addStepEpochSecret,
  deriveKeyId,
  EpochSecrets,
  evolveLeafSecret,
  type GroupId,
  type Roster,
  type RosterLeaf,
  rosterHash,
} from "./key-schedule.js";
import {
  buildKeyUpdate,
  type KeyUpdateChunk,
  keyUpdateLimits,
  keyUpdateVersion,
  openKeyUpdate,
} from "./key-update.js";
import type { CryptoProvider } from "./provider.js";
import { checkBytes } from "./providers/checks.js";
import { redactSecrets, wipe } from "./secret.js";
import { StateReader, StateWriter } from "./state-bytes.js";

/**
 * Who may read a group's earlier epochs (docs/PROTOCOL.md, "Re-keying"):
 * - `"joined"` (default): a joiner gets no earlier epoch (backward secrecy: the add step is one-way);
 * - `"shared"` (explicit opt-in): the Welcome also carries the earlier epoch secrets the owner holds.
 */
export type HistoryPolicy = "joined" | "shared";

/**
 * Default interval of the periodic refresh: 48 hours (Status re-keys on the same period). A refresh
 * is a KeyUpdate with fresh randomness: the post-compromise security point of every member.
 */
export const refreshIntervalMs = 48 * 60 * 60 * 1000;

/**
 * How long previous epochs stay readable for late messages (docs/PROTOCOL.md, "Group messages"):
 * the last `previousEpochs` epochs, or every epoch replaced less than `windowMs` ago, whichever keeps
 * more. The window counts from when this state processed the change (`now` of the transition), not
 * from when the owner made it, so a member returning after days still reads what Store holds.
 */
export const epochRetention = {
  previousEpochs: 2,
  windowMs: 24 * 60 * 60 * 1000,
} as const;

/** Overrides of the per-epoch message-protection limits (`groupLimits`), as `EpochKeys.create` takes them. */
export type EpochLimits = Partial<GroupLimits>;

/**
 * Largest epoch gap a member bridges on its own (`acceptGap`): stepping its leaf secret costs one
 * HKDF per epoch, so this bounds the work a single KeyUpdate can cause (about 10 s with noble).
 */
const maxBridgedGap = 1n << 20n;
const maxStoredPrekeys = 3;
const maxUint64 = (1n << 64n) - 1n;

/** A Welcome as plain fields: what `encodeWelcome` takes and `decodeWelcome` returns. */
export interface WelcomeInit {
  readonly version: number;
  readonly organizationId: Uint8Array;
  readonly channelId: string;
  readonly epoch: bigint;
  readonly epochSecret: Uint8Array;
  readonly rosterHash: Uint8Array;
  readonly keyId: Uint8Array;
  readonly leafIndex: number;
  readonly leafSecret: Uint8Array;
  /** Earlier epochs ("shared" history only). */
  readonly history: Array<{
    readonly epoch: bigint;
    readonly epochSecret: Uint8Array;
    readonly rosterHash: Uint8Array;
  }>;
}

/** The Welcome format version this library writes and reads. */
export const welcomeVersion = 1;

/** A joiner of an add step. */
export interface Joiner {
  /** The joiner's public keys (identity, signing key `S_m`, prekey `P_m`). */
  readonly leaf: RosterLeaf;
  /**
   * The joiner's initial leaf secret `L_m` for the new epoch (32 bytes), e.g. derived from the X3DH
   * secret of the pairwise channel; the owner keeps a copy.
   */
  readonly leafSecret: Uint8Array;
}

/** What the owner publishes after an add step. */
export interface OwnerAdd {
  readonly epoch: bigint;
  readonly keyId: Uint8Array;
  readonly previousKeyId: Uint8Array;
  readonly rosterHash: Uint8Array;
  /** The roster of the new epoch: publish it owner-signed, members call `applyAdd` with it. */
  readonly roster: Roster;
  /**
   * One Welcome per joiner, to send over its pairwise channel (`encodeWelcome`). They hold secrets:
   * encrypt them at once and drop them.
   */
  readonly welcomes: ReadonlyArray<{ readonly leaf: number; readonly welcome: WelcomeInit }>;
}

/** What the owner publishes after a removal or a refresh. */
export interface OwnerKeyUpdate {
  readonly epoch: bigint;
  readonly keyId: Uint8Array;
  readonly previousKeyId: Uint8Array;
  readonly rosterHash: Uint8Array;
  /** The roster of the new epoch (removed leaves empty). */
  readonly roster: Roster;
  /** The KeyUpdate chunks: seal them with `sealKeyUpdate` (empty when the owner is alone). */
  readonly chunks: readonly KeyUpdateChunk[];
}

/**
 * The outcome of a member's epoch transition. Expected situations are statuses, not errors:
 *
 * - `applied`: the member is in `epoch` now;
 * - `stale`: the change is for an epoch we already reached (a duplicate or a replay): nothing to do;
 * - `gap`: the change does not follow our epoch (its previous key_id is not ours): fetch the missing
 *   control messages from Store, or request a resync; a KeyUpdate may be applied anyway with
 *   `acceptGap` (the epochs in between are lost);
 * - `not-in-chunk`: this chunk has no entry for us; look in `missingChunks`;
 * - `removed`: every chunk of the KeyUpdate was seen and none is for us: we are out of the group;
 * - `roster-mismatch`: the roster does not hash to the announced roster hash, or does not hold our
 *   leaf: pass the owner-signed roster of the new epoch;
 * - `key-mismatch`: the add step derived another key_id than the owner announced: request a resync.
 *
 * Nothing changes except on `applied` and `removed`.
 */
export type MemberTransition =
  | { readonly status: "applied"; readonly epoch: bigint; readonly keyId: Uint8Array }
  | { readonly status: "stale"; readonly epoch: bigint }
  | { readonly status: "gap"; readonly epoch: bigint; readonly currentEpoch: bigint }
  | {
      readonly status: "not-in-chunk";
      readonly epoch: bigint;
      readonly missingChunks: readonly number[];
    }
  | { readonly status: "removed"; readonly epoch: bigint }
  | { readonly status: "roster-mismatch"; readonly epoch: bigint }
  | { readonly status: "key-mismatch"; readonly epoch: bigint };

/** What to encrypt. */
export interface GroupPlaintext {
  /** What the content is (message, edit, delete, …); bound by the AEAD. */
  readonly contentType: number;
  readonly content: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Shared machinery

function checkNow(now: unknown): asserts now is number {
  if (typeof now !== "number" || !Number.isFinite(now)) {
    throw new TypeError("now: expected a finite number of milliseconds");
  }
}

function checkRosterLeaf(leaf: RosterLeaf, argument: string): void {
  checkBytes(leaf.identityKey, 32, `${argument}.identityKey`);
  checkBytes(leaf.signingKey, 32, `${argument}.signingKey`);
  checkBytes(leaf.prekey, 32, `${argument}.prekey`);
}

/**
 * Refuses a small-order X25519 prekey now, rather than in the middle of the next KeyUpdate (one
 * throw-away agreement).
 * @throws {@link InvalidPublicKeyError}
 */
function checkPrekey(provider: CryptoProvider, prekey: Uint8Array, probe?: Uint8Array): void {
  const secretKey = probe ?? provider.x25519KeyPair().secretKey;
  wipe(provider.x25519(secretKey, prekey));
  if (probe === undefined) wipe(secretKey);
}

/** `L_m[to]` from `L_m[from]`: one `evolve` step per epoch. Returns a new array; `secret` is kept. */
function evolveTo(
  provider: CryptoProvider,
  secret: Uint8Array,
  from: bigint,
  to: bigint,
): Uint8Array {
  let current: Uint8Array = secret.slice();
  for (let epoch = from + 1n; epoch <= to; epoch++) {
    const next = evolveLeafSecret(provider, current, epoch);
    wipe(current);
    current = next;
  }
  return current;
}

/** A previous epoch kept for late messages, with the time it was replaced. */
interface RetainedEpoch {
  readonly keys: EpochKeys;
  readonly retiredAt: number;
}

const removedFromGroup = "group: we were removed from this group and can no longer send to it";

/**
 * The current epoch and the previous ones kept for late messages; decryption dispatches on key_id.
 */
class EpochWindow {
  current: EpochKeys | undefined;
  retained: RetainedEpoch[];

  constructor(current: EpochKeys | undefined, retained: RetainedEpoch[] = []) {
    this.current = current;
    this.retained = retained;
    redactSecrets(this, "EpochWindow");
  }

  /** Makes `next` current; the current one is kept for late messages from `now` on. */
  advance(next: EpochKeys | undefined, now: number): void {
    if (this.current !== undefined) this.retained.push({ keys: this.current, retiredAt: now });
    this.current = next;
    this.prune(now);
  }

  /** Inserts earlier epochs (a "shared" Welcome's history), oldest first. */
  addHistory(keys: EpochKeys, now: number): void {
    this.retained.push({ keys, retiredAt: now });
    this.retained.sort((a, b) =>
      a.keys.epoch < b.keys.epoch ? -1 : a.keys.epoch > b.keys.epoch ? 1 : 0,
    );
  }

  /** Drops previous epochs outside {@link epochRetention}. */
  prune(now: number): void {
    const keepFrom = this.retained.length - epochRetention.previousEpochs;
    const kept: RetainedEpoch[] = [];
    for (const [index, entry] of this.retained.entries()) {
      if (index >= keepFrom || now - entry.retiredAt < epochRetention.windowMs) kept.push(entry);
      else entry.keys.destroy();
    }
    this.retained = kept;
  }

  /** The epochs readable at `now`, oldest first (the current one last, when there is one). */
  readableEpochs(now: number): bigint[] {
    checkNow(now);
    this.prune(now);
    const epochs = this.retained.map((r) => r.keys.epoch);
    if (this.current !== undefined) epochs.push(this.current.epoch);
    return epochs;
  }

  /**
   * Encrypts as `leaf` in the current epoch.
   * @throws {RangeError} when there is no current epoch (a member that was removed)
   */
  encrypt(leaf: number, signingSecretKey: Uint8Array, plaintext: GroupPlaintext): Uint8Array {
    const current = this.current;
    if (current === undefined) {
      throw new RangeError(removedFromGroup);
    }
    return current.encrypt({
      senderLeaf: leaf,
      signingSecretKey,
      contentType: plaintext.contentType,
      content: plaintext.content,
    });
  }

  find(keyId: Uint8Array): EpochKeys | undefined {
    if (this.current !== undefined && constantTimeEqual(this.current.keyId, keyId))
      return this.current;
    for (const entry of this.retained)
      if (constantTimeEqual(entry.keys.keyId, keyId)) return entry.keys;
    return undefined;
  }

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
    return keys.decrypt(decoded);
  }

  write(writer: StateWriter): void {
    writer.u8(this.current === undefined ? 0 : 1);
    if (this.current !== undefined) writer.bytes(this.current.serialize());
    writer.u32(this.retained.length);
    for (const entry of this.retained) {
      writer.f64(entry.retiredAt);
      writer.bytes(entry.keys.serialize());
    }
  }

  static read(provider: CryptoProvider, reader: StateReader): EpochWindow {
    const current = reader.flag() ? EpochKeys.deserialize(provider, reader.bytes()) : undefined;
    const count = reader.count();
    const retained: RetainedEpoch[] = [];
    for (let i = 0; i < count; i++) {
      const retiredAt = reader.f64();
      retained.push({ retiredAt, keys: EpochKeys.deserialize(provider, reader.bytes()) });
    }
    return new EpochWindow(current, retained);
  }
}

/** Derives an epoch's keys; wipes `epochSecret` and returns a copy of `init_secret`. */
function enterEpoch(init: {
  provider: CryptoProvider;
  group: GroupId;
  epoch: bigint;
  epochSecret: Uint8Array;
  roster: Roster;
  limits: EpochLimits | undefined;
}): { keys: EpochKeys; initSecret: Uint8Array } {
  const secrets = EpochSecrets.derive(init.provider, init.group, init.epoch, init.epochSecret);
  const initSecret = (secrets.initSecret as Uint8Array).slice();
  const keys = EpochKeys.create({
    provider: init.provider,
    group: init.group,
    secrets,
    roster: init.roster,
    wipeInput: true,
    ...(init.limits === undefined ? {} : { limits: init.limits }),
  });
  wipe(secrets.initSecret);
  secrets.initSecret = undefined;
  return { keys, initSecret };
}

// ---------------------------------------------------------------------------------------------
// Versioned state encoding

const encoder = new TextEncoder();

/** Runs a deserializer; anything but a StateCorruptedError becomes one (with the cause). */
function restoring<T>(what: string, bytes: Uint8Array, read: (reader: StateReader) => T): T {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes: expected a Uint8Array");
  try {
    const reader = new StateReader(bytes);
    const value = read(reader);
    reader.end();
    return value;
  } catch (cause) {
    if (isStateCorruptedError(cause)) throw cause;
    throw new StateCorruptedError(`invalid ${what} state`, { cause });
  }
}

const ownerMagic = encoder.encode("orgchat/v1/owner-group");
const memberMagic = encoder.encode("orgchat/v1/member-group");
const stateVersion = 1;

/** How both group states start: `magic ‖ u8 version ‖ organization_id (32) ‖ u32 len ‖ channel_id`. */
function writeHead(writer: StateWriter, magic: Uint8Array, group: GroupId): void {
  writer.fixed(magic);
  writer.u8(stateVersion);
  writer.fixed(group.organizationId);
  writer.string(group.channelId);
}

/**
 * Reads what {@link writeHead} wrote.
 * @throws {@link StateCorruptedError} naming `what` for another magic or an unknown version
 */
function readHead(reader: StateReader, magic: Uint8Array, what: string): GroupId {
  reader.magic(magic, stateVersion, what);
  const organizationId = reader.fixed(32);
  const channelId = reader.string();
  return { organizationId, channelId };
}

// ---------------------------------------------------------------------------------------------
// Owner

/** A member as the owner tracks it: its leaf secret with the epoch it belongs to, and its prekey. */
interface MemberRecord {
  leafSecret: Uint8Array;
  leafEpoch: bigint;
  prekey: Uint8Array;
}

/** An earlier epoch secret the owner keeps for "shared" Welcomes. */
interface HistoryEntry {
  readonly epoch: bigint;
  readonly epochSecret: Uint8Array;
  readonly rosterHash: Uint8Array;
}

/** What {@link OwnerGroup.create} needs. */
export interface OwnerGroupInit {
  readonly provider: CryptoProvider;
  /** The organization (`channelId` `""`) or a restricted channel. */
  readonly group: GroupId;
  /** The owner's own roster leaf (leaf 0). */
  readonly ownLeaf: RosterLeaf;
  /** The secret of `ownLeaf.signingKey`: signs the owner's group messages. */
  readonly signingSecretKey: Uint8Array;
  /** @default "joined" */
  readonly historyPolicy?: HistoryPolicy;
  /** Current time in milliseconds (injected). */
  readonly now: number;
  /** Message-protection limits passed to every epoch's `EpochKeys`. @default groupLimits */
  readonly limits?: EpochLimits;
  /** Entries per KeyUpdate chunk (1 to 3,400). @default 3400 */
  readonly maxEntriesPerChunk?: number;
}

/** Options of {@link OwnerGroup.deserialize}: settings that are not part of the saved state. */
export interface OwnerGroupOptions {
  /** Limits for epochs created from now on (restored epochs keep theirs). @default groupLimits */
  readonly limits?: EpochLimits;
  /** Entries per KeyUpdate chunk. @default 3400 */
  readonly maxEntriesPerChunk?: number;
}

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
  readonly provider: CryptoProvider;
  readonly group: GroupId;
  readonly historyPolicy: HistoryPolicy;
  /** The owner's own leaf index. */
  readonly leaf: number;
  readonly #limits: EpochLimits | undefined;
  readonly #maxEntriesPerChunk: number | undefined;
  readonly #signingSecretKey: Uint8Array;
  #initSecret: Uint8Array;
  /**
   * The current epoch's secret. Only the owner keeps it (members delete theirs once derived): it is
   * what a resync Welcome carries to a member that lost or missed its keys.
   */
  #epochSecret: Uint8Array;
  /** When the current epoch started (ms, injected time): drives {@link OwnerGroup.refreshDue}. */
  #epochStartedAt: number;
  /** The roster the next epoch starts from (prekey rotations land here first). */
  #roster: Array<RosterLeaf | undefined>;
  readonly #members: Map<number, MemberRecord>;
  #history: HistoryEntry[];
  readonly #window: EpochWindow;

  private constructor(fields: {
    provider: CryptoProvider;
    group: GroupId;
    historyPolicy: HistoryPolicy;
    leaf: number;
    limits: EpochLimits | undefined;
    maxEntriesPerChunk: number | undefined;
    signingSecretKey: Uint8Array;
    initSecret: Uint8Array;
    epochSecret: Uint8Array;
    epochStartedAt: number;
    roster: Array<RosterLeaf | undefined>;
    members: Map<number, MemberRecord>;
    history: HistoryEntry[];
    window: EpochWindow;
  }) {
    this.provider = fields.provider;
    this.group = fields.group;
    this.historyPolicy = fields.historyPolicy;
    this.leaf = fields.leaf;
    this.#limits = fields.limits;
    this.#maxEntriesPerChunk = fields.maxEntriesPerChunk;
    this.#signingSecretKey = fields.signingSecretKey;
    this.#initSecret = fields.initSecret;
    this.#epochSecret = fields.epochSecret;
    this.#epochStartedAt = fields.epochStartedAt;
    this.#roster = fields.roster;
    this.#members = fields.members;
    this.#history = fields.history;
    this.#window = fields.window;
    redactSecrets(this, "OwnerGroup");
  }

  /**
   * Starts a group at epoch 0 with a fresh random epoch secret and the owner as its only member
   * (leaf 0); members join with {@link OwnerGroup.add}.
   *
   * @throws {RangeError} / {TypeError} naming the argument: key lengths, an invalid channel id, a
   *   signing secret that does not match `ownLeaf.signingKey`, an unknown history policy
   * @throws {@link InvalidPublicKeyError} when the owner's prekey is of small order
   */
  static create(init: OwnerGroupInit): OwnerGroup {
    const { provider, group } = init;
    checkNow(init.now);
    checkBytes(group.organizationId, 32, "group.organizationId");
    if (group.channelId !== "" && !isChatId(group.channelId)) {
      throw new RangeError(
        `group.channelId: expected "" or 1-${wireLimits.maxIdLength} characters of [A-Za-z0-9_-]`,
      );
    }
    checkRosterLeaf(init.ownLeaf, "ownLeaf");
    checkBytes(init.signingSecretKey, 32, "signingSecretKey");
    const historyPolicy = init.historyPolicy ?? "joined";
    if (historyPolicy !== "joined" && historyPolicy !== "shared") {
      throw new RangeError(
        `historyPolicy: expected "joined" or "shared", got ${String(historyPolicy)}`,
      );
    }
    const perChunk = init.maxEntriesPerChunk;
    if (
      perChunk !== undefined &&
      (!Number.isInteger(perChunk) || perChunk < 1 || perChunk > keyUpdateLimits.maxEntriesPerChunk)
    ) {
      throw new RangeError(
        `maxEntriesPerChunk: must be an integer 1..${keyUpdateLimits.maxEntriesPerChunk}, got ${perChunk}`,
      );
    }
    if (
      !constantTimeEqual(provider.ed25519PublicKey(init.signingSecretKey), init.ownLeaf.signingKey)
    ) {
      throw new RangeError("signingSecretKey: does not match ownLeaf.signingKey");
    }
    checkPrekey(provider, init.ownLeaf.prekey);
    const groupCopy: GroupId = {
      organizationId: group.organizationId.slice(),
      channelId: group.channelId,
    };
    const roster: Array<RosterLeaf | undefined> = [init.ownLeaf];
    const epochSecret = provider.randomBytes(32);
    const kept = epochSecret.slice();
    const history: HistoryEntry[] = [];
    if (historyPolicy === "shared") {
      history.push({
        epoch: 0n,
        epochSecret: epochSecret.slice(),
        rosterHash: rosterHash(provider, roster),
      });
    }
    const { keys, initSecret } = enterEpoch({
      provider,
      group: groupCopy,
      epoch: 0n,
      epochSecret,
      roster: [...roster],
      limits: init.limits,
    });
    return new OwnerGroup({
      provider,
      group: groupCopy,
      historyPolicy,
      leaf: 0,
      limits: init.limits,
      maxEntriesPerChunk: init.maxEntriesPerChunk,
      signingSecretKey: init.signingSecretKey.slice(),
      initSecret,
      epochSecret: kept,
      epochStartedAt: init.now,
      roster,
      members: new Map(),
      history,
      window: new EpochWindow(keys),
    });
  }

  get #current(): EpochKeys {
    return this.#window.current as EpochKeys;
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

  /** The leaves of the current members other than the owner, ascending. */
  memberLeaves(): number[] {
    return [...this.#members.keys()].sort((a, b) => a - b);
  }

  /** The epochs this state can decrypt now (current last). */
  readableEpochs(now: number): bigint[] {
    return this.#window.readableEpochs(now);
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
    const roster = [...this.#roster];
    const identities = new Set<string>();
    for (const leaf of roster) if (leaf !== undefined) identities.add(toHex(leaf.identityKey));
    const placed: Array<{ leaf: number; joiner: Joiner }> = [];
    let free = 0;
    const probe = provider.x25519KeyPair().secretKey;
    try {
      for (const [index, joiner] of joiners.entries()) {
        checkRosterLeaf(joiner.leaf, `joiners[${index}].leaf`);
        checkBytes(joiner.leafSecret, 32, `joiners[${index}].leafSecret`);
        const identity = toHex(joiner.leaf.identityKey);
        if (identities.has(identity)) {
          throw new RangeError(
            `joiners[${index}]: this identity key is already in the roster (or listed twice)`,
          );
        }
        identities.add(identity);
        checkPrekey(provider, joiner.leaf.prekey, probe);
        while (free < roster.length && roster[free] !== undefined) free++;
        roster[free] = joiner.leaf;
        placed.push({ leaf: free, joiner });
      }
    } finally {
      wipe(probe);
    }
    const epoch = this.epoch + 1n;
    const hash = rosterHash(provider, roster);
    const epochSecret = addStepEpochSecret(provider, this.#initSecret, hash, epoch);
    const previousKeyId = this.keyId;
    const earlier = this.#history.map((entry) => ({
      epoch: entry.epoch,
      epochSecret: entry.epochSecret.slice(),
      rosterHash: entry.rosterHash.slice(),
    }));
    const welcomeSecret = epochSecret.slice();
    const kept = epochSecret.slice();
    if (this.historyPolicy === "shared") this.#remember(epoch, epochSecret, hash);
    const { keys, initSecret } = enterEpoch({
      provider,
      group,
      epoch,
      epochSecret,
      roster: [...roster],
      limits: this.#limits,
    });
    const welcomes = placed.map(({ leaf, joiner }) => ({
      leaf,
      welcome: {
        version: welcomeVersion,
        organizationId: group.organizationId.slice(),
        channelId: group.channelId,
        epoch,
        epochSecret: welcomeSecret.slice(),
        rosterHash: hash.slice(),
        keyId: keys.keyId.slice(),
        leafIndex: leaf,
        leafSecret: joiner.leafSecret.slice(),
        history: earlier,
      } satisfies WelcomeInit,
    }));
    wipe(welcomeSecret);
    for (const { leaf, joiner } of placed) {
      this.#members.set(leaf, {
        leafSecret: joiner.leafSecret.slice(),
        leafEpoch: epoch,
        prekey: joiner.leaf.prekey,
      });
    }
    this.#roster = roster;
    this.#advance(keys, initSecret, kept, now);
    return {
      epoch,
      keyId: keys.keyId.slice(),
      previousKeyId,
      rosterHash: hash,
      roster: keys.roster,
      welcomes,
    };
  }

  /**
   * Removes (or bans: the crypto is the same) members: a fresh random epoch secret, sent in a
   * KeyUpdate to every remaining member; the removed leaves are emptied. The removed members' keys
   * open nothing of the new epoch.
   *
   * @param leaves - the leaves to remove (not the owner's)
   * @param now - current time in milliseconds
   * @throws {RangeError} naming the argument when a leaf is not a member, is the owner, or is listed
   *   twice
   */
  remove(leaves: readonly number[], now: number): OwnerKeyUpdate {
    checkNow(now);
    if (leaves.length === 0) throw new RangeError("leaves: expected at least one");
    const roster = [...this.#roster];
    const removed = new Set<number>();
    for (const [index, leaf] of leaves.entries()) {
      if (!this.#members.has(leaf) || removed.has(leaf)) {
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
   */
  refresh(now: number): OwnerKeyUpdate {
    checkNow(now);
    return this.#rekey([...this.#roster], new Set(), now);
  }

  /**
   * Records a member's new prekey `P_m'` (post-compromise security): the next KeyUpdate uses it, and
   * the next epoch's roster lists it.
   *
   * @throws {RangeError} when `leaf` is not a member; {@link InvalidPublicKeyError} for a
   *   small-order prekey
   */
  rotatePrekey(leaf: number, prekey: Uint8Array): void {
    checkBytes(prekey, 32, "prekey");
    const record = this.#members.get(leaf);
    const entry = this.#roster[leaf];
    if (record === undefined || entry === undefined) {
      throw new RangeError(`leaf: ${leaf} is not a member`);
    }
    checkPrekey(this.provider, prekey);
    const copy = prekey.slice();
    record.prekey = copy;
    this.#roster[leaf] = { ...entry, prekey: copy };
  }

  /**
   * Encrypts the owner's own message in the current epoch.
   * @returns the encoded `GroupMessage`
   */
  encrypt(plaintext: GroupPlaintext): Uint8Array {
    return this.#window.encrypt(this.leaf, this.#signingSecretKey, plaintext);
  }

  /**
   * Decrypts a group message of the current epoch or of one kept for late messages.
   *
   * @param message - the encoded or decoded `GroupMessage`
   * @param now - current time in milliseconds (expires old epochs first)
   * @throws {@link UnknownEpochError} for a key_id we do not hold (expired or never known)
   * @throws `DecodeError` for malformed bytes; {@link DecryptionFailedError} and the other errors of
   *   `EpochKeys.decrypt`
   */
  decrypt(message: Uint8Array | GroupMessage, now: number): DecryptedGroupMessage {
    return this.#window.decrypt(message, now);
  }

  #remember(epoch: bigint, epochSecret: Uint8Array, hash: Uint8Array): void {
    this.#history.push({ epoch, epochSecret: epochSecret.slice(), rosterHash: hash.slice() });
    while (this.#history.length > wireLimits.maxWelcomeHistory) {
      wipe(this.#history.shift()?.epochSecret);
    }
  }

  #advance(keys: EpochKeys, initSecret: Uint8Array, epochSecret: Uint8Array, now: number): void {
    wipe(this.#initSecret, this.#epochSecret);
    this.#initSecret = initSecret;
    this.#epochSecret = epochSecret;
    this.#epochStartedAt = now;
    this.#window.advance(keys, now);
  }

  /**
   * Whether the periodic refresh is due: the current epoch is at least `intervalMs` old. The caller
   * (the client's scheduler) then calls {@link OwnerGroup.refresh}; a refresh is also the point where
   * rotated prekeys take effect (post-compromise security).
   *
   * @param now - current time in milliseconds
   * @param intervalMs - @default refreshIntervalMs (48 h)
   */
  refreshDue(now: number, intervalMs: number = refreshIntervalMs): boolean {
    checkNow(now);
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new RangeError(`intervalMs: must be a positive number, got ${intervalMs}`);
    }
    return now - this.#epochStartedAt >= intervalMs;
  }

  /**
   * A Welcome for the current epoch to an existing member that lost its state or missed control
   * messages it can no longer fetch (resync), to send over the pairwise channel. Under the "shared"
   * policy it also carries the earlier epochs the owner keeps.
   *
   * @param leaf - the member's leaf
   * @param options.leafSecret - a new leaf secret `L_m` (for example from a fresh X3DH), which
   *   replaces the one the owner tracks; by default the tracked one, evolved to the current epoch
   * @returns the Welcome fields (encode with `encodeWelcome`)
   * @throws {RangeError} when `leaf` is not a member, or `leafSecret` is not 32 bytes
   */
  resync(leaf: number, options: { leafSecret?: Uint8Array } = {}): WelcomeInit {
    const { provider, group } = this;
    const record = this.#members.get(leaf);
    if (record === undefined) throw new RangeError(`leaf: ${leaf} is not a member`);
    const epoch = this.epoch;
    let leafSecret: Uint8Array;
    if (options.leafSecret !== undefined) {
      checkBytes(options.leafSecret, 32, "options.leafSecret");
      leafSecret = options.leafSecret.slice();
    } else {
      leafSecret = evolveTo(provider, record.leafSecret, record.leafEpoch, epoch);
    }
    wipe(record.leafSecret);
    record.leafSecret = leafSecret;
    record.leafEpoch = epoch;
    return {
      version: welcomeVersion,
      organizationId: group.organizationId.slice(),
      channelId: group.channelId,
      epoch,
      epochSecret: this.#epochSecret.slice(),
      rosterHash: rosterHash(provider, this.roster),
      keyId: this.keyId,
      leafIndex: leaf,
      leafSecret: leafSecret.slice(),
      history: this.#history
        .filter((entry) => entry.epoch < epoch)
        .map((entry) => ({
          epoch: entry.epoch,
          epochSecret: entry.epochSecret.slice(),
          rosterHash: entry.rosterHash.slice(),
        })),
    };
  }

  #rekey(
    roster: Array<RosterLeaf | undefined>,
    removed: ReadonlySet<number>,
    now: number,
  ): OwnerKeyUpdate {
    const { provider, group } = this;
    const epoch = this.epoch + 1n;
    const hash = rosterHash(provider, roster);
    const epochSecret = provider.randomBytes(32);
    const previousKeyId = this.keyId;
    const leaves = this.memberLeaves().filter((leaf) => !removed.has(leaf));
    const recipients = leaves.map((leaf) => {
      const record = this.#members.get(leaf) as MemberRecord;
      return {
        leaf,
        prekey: record.prekey,
        leafSecret: evolveTo(provider, record.leafSecret, record.leafEpoch, epoch),
      };
    });
    let chunks: KeyUpdateChunk[];
    try {
      chunks = buildKeyUpdate({
        provider,
        group,
        epoch,
        epochSecret,
        previousKeyId,
        rosterHash: hash,
        recipients,
        ...(this.#maxEntriesPerChunk === undefined
          ? {}
          : { maxEntriesPerChunk: this.#maxEntriesPerChunk }),
      });
    } catch (cause) {
      wipe(epochSecret, ...recipients.map((r) => r.leafSecret));
      throw cause;
    }
    // Commit only now: a refused KeyUpdate leaves the state as it was.
    for (const recipient of recipients) {
      const record = this.#members.get(recipient.leaf) as MemberRecord;
      wipe(record.leafSecret);
      record.leafSecret = recipient.leafSecret;
      record.leafEpoch = epoch;
    }
    for (const leaf of removed) {
      wipe(this.#members.get(leaf)?.leafSecret);
      this.#members.delete(leaf);
    }
    if (this.historyPolicy === "shared") this.#remember(epoch, epochSecret, hash);
    const kept = epochSecret.slice();
    const { keys, initSecret } = enterEpoch({
      provider,
      group,
      epoch,
      epochSecret,
      roster: [...roster],
      limits: this.#limits,
    });
    this.#roster = roster;
    this.#advance(keys, initSecret, kept, now);
    return {
      epoch,
      keyId: keys.keyId.slice(),
      previousKeyId,
      rosterHash: hash,
      roster: keys.roster,
      chunks,
    };
  }

  /**
   * The whole state as versioned bytes (they contain every secret: store them encrypted).
   */
  serialize(): Uint8Array {
    const writer = new StateWriter();
    writeHead(writer, ownerMagic, this.group);
    writer.u8(this.historyPolicy === "shared" ? 1 : 0);
    writer.u32(this.leaf);
    writer.fixed(this.#signingSecretKey);
    writer.fixed(this.#initSecret);
    writer.fixed(this.#epochSecret);
    // Two's complement in a u64: injected clocks may start anywhere, even below 0 in tests.
    writer.u64(BigInt.asUintN(64, BigInt(Math.trunc(this.#epochStartedAt))));
    writer.roster(this.#roster);
    writer.u32(this.#members.size);
    for (const [leaf, record] of this.#members) {
      writer.u32(leaf);
      writer.u64(record.leafEpoch);
      writer.fixed(record.leafSecret);
      writer.fixed(record.prekey);
    }
    writer.u32(this.#history.length);
    for (const entry of this.#history) {
      writer.u64(entry.epoch);
      writer.fixed(entry.epochSecret);
      writer.fixed(entry.rosterHash);
    }
    this.#window.write(writer);
    return writer.finish();
  }

  /**
   * Restores a state written by {@link OwnerGroup.serialize}.
   * @param options - settings that are not saved (limits of new epochs, KeyUpdate chunk size)
   * @throws {@link StateCorruptedError} for bytes that are not a valid owner state of a known version
   */
  static deserialize(
    provider: CryptoProvider,
    bytes: Uint8Array,
    options: OwnerGroupOptions = {},
  ): OwnerGroup {
    return restoring("owner group", bytes, (reader) => {
      const group = readHead(reader, ownerMagic, "owner group");
      const policy = reader.u8();
      if (policy > 1) throw new StateCorruptedError(`history policy ${policy}`);
      const leaf = reader.u32();
      const signingSecretKey = reader.fixed(32);
      const initSecret = reader.fixed(32);
      const epochSecret = reader.fixed(32);
      const epochStartedAt = Number(BigInt.asIntN(64, reader.u64()));
      const roster = [...reader.roster()];
      const members = new Map<number, MemberRecord>();
      const memberCount = reader.count();
      for (let i = 0; i < memberCount; i++) {
        const memberLeaf = reader.u32();
        const leafEpoch = reader.u64();
        members.set(memberLeaf, {
          leafEpoch,
          leafSecret: reader.fixed(32),
          prekey: reader.fixed(32),
        });
        if (roster[memberLeaf] === undefined || memberLeaf === leaf) {
          throw new StateCorruptedError(`member leaf ${memberLeaf} is not in the roster`);
        }
      }
      const history: HistoryEntry[] = [];
      const historyCount = reader.count();
      for (let i = 0; i < historyCount; i++) {
        history.push({
          epoch: reader.u64(),
          epochSecret: reader.fixed(32),
          rosterHash: reader.fixed(32),
        });
      }
      const window = EpochWindow.read(provider, reader);
      if (window.current === undefined) throw new StateCorruptedError("no current epoch");
      if (roster[leaf] === undefined) throw new StateCorruptedError("the owner's leaf is empty");
      const current = window.current;
      if (
        !constantTimeEqual(deriveKeyId(provider, group, current.epoch, epochSecret), current.keyId)
      ) {
        throw new StateCorruptedError("the kept epoch secret is not the current epoch's");
      }
      return new OwnerGroup({
        provider,
        group,
        historyPolicy: policy === 1 ? "shared" : "joined",
        leaf,
        limits: options.limits,
        maxEntriesPerChunk: options.maxEntriesPerChunk,
        signingSecretKey,
        initSecret,
        epochSecret,
        epochStartedAt,
        roster,
        members,
        history,
        window,
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Member

/** What {@link MemberGroup.fromWelcome} needs. */
export interface MemberGroupInit {
  readonly provider: CryptoProvider;
  /** The Welcome received over the pairwise channel (decoded, or as plain fields). */
  readonly welcome: WelcomeInit;
  /** The owner-signed roster of the Welcome's epoch (must hash to `welcome.rosterHash`). */
  readonly roster: Roster;
  /** The secret of our roster leaf's signing key `S_m`. */
  readonly signingSecretKey: Uint8Array;
  /** The secret of our roster leaf's prekey `P_m`. */
  readonly prekeySecret: Uint8Array;
  /** Current time in milliseconds (injected). */
  readonly now: number;
  /**
   * Rosters of earlier epochs, for a "shared" Welcome's history: an epoch whose roster is not
   * returned (or does not hash to the Welcome's) is left out, since its signatures cannot be checked.
   */
  readonly historyRoster?: (epoch: bigint, rosterHash: Uint8Array) => Roster | undefined;
  /** Message-protection limits. @default groupLimits */
  readonly limits?: EpochLimits;
}

/** What {@link MemberGroup.applyAdd} needs. */
export interface ApplyAddInit {
  /** The owner-signed roster of the new epoch. */
  readonly roster: Roster;
  /** Current time in milliseconds. */
  readonly now: number;
  /** The epoch the owner announced (chain check); when set it must be ours + 1. */
  readonly epoch?: bigint;
  /** The key_id of the epoch the change replaces, if announced (chain check). */
  readonly previousKeyId?: Uint8Array;
  /** The new key_id, if announced: the derived one must match. */
  readonly keyId?: Uint8Array;
}

/** Options of {@link MemberGroup.applyKeyUpdate}. */
export interface ApplyKeyUpdateOptions {
  /**
   * The owner-signed roster of the new epoch. @default the current roster (right for a refresh; a
   * removal changes the roster, and without it the outcome is `roster-mismatch`)
   */
  readonly roster?: Roster;
  /**
   * Apply a KeyUpdate that does not follow our epoch (after missing control messages could not be
   * fetched): our leaf secret steps over the gap, the skipped epochs stay unreadable.
   * @default false
   */
  readonly acceptGap?: boolean;
}

interface PrekeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** The chunks seen of a KeyUpdate that had no entry for us (yet). */
interface PendingUpdate {
  readonly keyId: Uint8Array;
  readonly epoch: bigint;
  readonly chunkCount: number;
  readonly seen: Set<number>;
}

/**
 * A member's side of one group's epochs: joins from a Welcome, follows add steps and KeyUpdates, and
 * encrypts and decrypts the group's messages. Pure and synchronous: time comes in as `now`
 * arguments, randomness from the provider.
 *
 * The member's leaf secret steps forward at every epoch it enters, so a device stolen later cannot
 * open KeyUpdates recorded earlier.
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
  readonly provider: CryptoProvider;
  readonly group: GroupId;
  /** Our leaf index. */
  readonly leaf: number;
  readonly #limits: EpochLimits | undefined;
  readonly #signingSecretKey: Uint8Array;
  readonly #identityKey: Uint8Array;
  /** Newest first; older ones are dropped once the owner has used a newer one. */
  #prekeys: PrekeyPair[];
  #leafSecret: Uint8Array;
  #leafEpoch: bigint;
  #initSecret: Uint8Array | undefined;
  #epoch: bigint;
  #keyId: Uint8Array;
  #roster: Roster;
  #removed: boolean;
  #pending: PendingUpdate | undefined;
  readonly #window: EpochWindow;

  private constructor(fields: {
    provider: CryptoProvider;
    group: GroupId;
    leaf: number;
    limits: EpochLimits | undefined;
    signingSecretKey: Uint8Array;
    identityKey: Uint8Array;
    prekeys: PrekeyPair[];
    leafSecret: Uint8Array;
    leafEpoch: bigint;
    initSecret: Uint8Array | undefined;
    epoch: bigint;
    keyId: Uint8Array;
    roster: Roster;
    removed: boolean;
    pending: PendingUpdate | undefined;
    window: EpochWindow;
  }) {
    this.provider = fields.provider;
    this.group = fields.group;
    this.leaf = fields.leaf;
    this.#limits = fields.limits;
    this.#signingSecretKey = fields.signingSecretKey;
    this.#identityKey = fields.identityKey;
    this.#prekeys = fields.prekeys;
    this.#leafSecret = fields.leafSecret;
    this.#leafEpoch = fields.leafEpoch;
    this.#initSecret = fields.initSecret;
    this.#epoch = fields.epoch;
    this.#keyId = fields.keyId;
    this.#roster = fields.roster;
    this.#removed = fields.removed;
    this.#pending = fields.pending;
    this.#window = fields.window;
    redactSecrets(this, "MemberGroup");
  }

  /**
   * Joins from a Welcome (or resyncs: a Welcome for the current epoch replaces the state).
   *
   * @returns the member's state at the Welcome's epoch (with the earlier epochs of a "shared" Welcome
   *   whose rosters `historyRoster` returned)
   * @throws {RangeError} / {TypeError} naming the argument: field lengths, an unknown Welcome version,
   *   a roster that does not hash to `welcome.rosterHash`, our leaf empty or holding other keys than
   *   `signingSecretKey` / `prekeySecret`
   * @throws {@link DecryptionFailedError} when the Welcome's epoch secret does not derive its key_id
   */
  static fromWelcome(init: MemberGroupInit): MemberGroup {
    const { provider, welcome, roster, now } = init;
    checkNow(now);
    if (welcome.version !== welcomeVersion) {
      throw new RangeError(`welcome.version: expected ${welcomeVersion}, got ${welcome.version}`);
    }
    checkBytes(welcome.organizationId, 32, "welcome.organizationId");
    checkBytes(welcome.epochSecret, 32, "welcome.epochSecret");
    checkBytes(welcome.rosterHash, 32, "welcome.rosterHash");
    checkBytes(welcome.keyId, wireLimits.keyIdBytes, "welcome.keyId");
    checkBytes(welcome.leafSecret, 32, "welcome.leafSecret");
    checkBytes(init.signingSecretKey, 32, "signingSecretKey");
    checkBytes(init.prekeySecret, 32, "prekeySecret");
    if (welcome.epoch < 0n || welcome.epoch > maxUint64) {
      throw new RangeError("welcome.epoch: must be a uint64");
    }
    const group: GroupId = {
      organizationId: welcome.organizationId.slice(),
      channelId: welcome.channelId,
    };
    if (!constantTimeEqual(rosterHash(provider, roster), welcome.rosterHash)) {
      throw new RangeError("roster: does not hash to the Welcome's roster_hash");
    }
    const own = roster[welcome.leafIndex];
    if (own === undefined)
      throw new RangeError("welcome.leafIndex: names an empty leaf of the roster");
    if (!constantTimeEqual(provider.ed25519PublicKey(init.signingSecretKey), own.signingKey)) {
      throw new RangeError("signingSecretKey: does not match our leaf's signing key");
    }
    const prekey = provider.x25519PublicKey(init.prekeySecret);
    if (!constantTimeEqual(prekey, own.prekey)) {
      throw new RangeError("prekeySecret: does not match our leaf's prekey");
    }
    const epochSecret = welcome.epochSecret.slice();
    const { keys, initSecret } = enterEpoch({
      provider,
      group,
      epoch: welcome.epoch,
      epochSecret,
      roster: [...roster],
      limits: init.limits,
    });
    if (!constantTimeEqual(keys.keyId, welcome.keyId)) {
      keys.destroy();
      wipe(initSecret);
      throw new DecryptionFailedError();
    }
    const window = new EpochWindow(keys);
    for (const [index, entry] of welcome.history.entries()) {
      checkBytes(entry.epochSecret, 32, `welcome.history[${index}].epochSecret`);
      checkBytes(entry.rosterHash, 32, `welcome.history[${index}].rosterHash`);
      if (entry.epoch >= welcome.epoch) continue;
      const earlierRoster = init.historyRoster?.(entry.epoch, entry.rosterHash);
      if (earlierRoster === undefined) continue;
      if (!constantTimeEqual(rosterHash(provider, earlierRoster), entry.rosterHash)) continue;
      const earlier = enterEpoch({
        provider,
        group,
        epoch: entry.epoch,
        epochSecret: entry.epochSecret.slice(),
        roster: [...earlierRoster],
        limits: init.limits,
      });
      wipe(earlier.initSecret);
      window.addHistory(earlier.keys, now);
    }
    return new MemberGroup({
      provider,
      group,
      leaf: welcome.leafIndex,
      limits: init.limits,
      signingSecretKey: init.signingSecretKey.slice(),
      identityKey: own.identityKey,
      prekeys: [{ secretKey: init.prekeySecret.slice(), publicKey: prekey }],
      leafSecret: welcome.leafSecret.slice(),
      leafEpoch: welcome.epoch,
      initSecret,
      epoch: welcome.epoch,
      keyId: keys.keyId.slice(),
      roster: keys.roster,
      removed: false,
      pending: undefined,
      window,
    });
  }

  /** The current epoch (the last one reached, once removed). */
  get epoch(): bigint {
    return this.#epoch;
  }

  /** The current epoch's key_id. */
  get keyId(): Uint8Array {
    return this.#keyId.slice();
  }

  /** The current epoch's roster. */
  get roster(): Roster {
    return this.#roster;
  }

  /** `"removed"` once a KeyUpdate left us out; old epochs stay readable until they expire. */
  get status(): "member" | "removed" {
    return this.#removed ? "removed" : "member";
  }

  /** Our current public prekey (the newest). */
  get prekey(): Uint8Array {
    return (this.#prekeys[0] as PrekeyPair).publicKey.slice();
  }

  /** The epochs this state can decrypt now. */
  readableEpochs(now: number): bigint[] {
    return this.#window.readableEpochs(now);
  }

  /**
   * Adds a new prekey (post-compromise security); the old one is kept until a KeyUpdate opens with the
   * new one (at most three are kept). Send the public key to the owner (`MemberKeys`).
   *
   * @param prekeySecret - the new X25519 secret key
   * @returns the new public prekey
   */
  rotatePrekey(prekeySecret: Uint8Array): Uint8Array {
    checkBytes(prekeySecret, 32, "prekeySecret");
    const publicKey = this.provider.x25519PublicKey(prekeySecret);
    this.#prekeys.unshift({ secretKey: prekeySecret.slice(), publicKey });
    while (this.#prekeys.length > maxStoredPrekeys) wipe(this.#prekeys.pop()?.secretKey);
    return publicKey.slice();
  }

  #chain(epoch: bigint, previousKeyId: Uint8Array | undefined): MemberTransition | undefined {
    if (this.#removed) return { status: "removed", epoch: this.#epoch };
    if (epoch <= this.#epoch) return { status: "stale", epoch };
    if (
      epoch !== this.#epoch + 1n ||
      (previousKeyId !== undefined && !constantTimeEqual(previousKeyId, this.#keyId))
    ) {
      return { status: "gap", epoch, currentEpoch: this.#epoch };
    }
    return undefined;
  }

  #holdsOwnLeaf(roster: Roster): boolean {
    const own = roster[this.leaf];
    return own !== undefined && constantTimeEqual(own.identityKey, this.#identityKey);
  }

  /**
   * Follows an add step: derives epoch e+1 from `init_secret[e]` and the new roster's hash.
   *
   * @returns `applied`, or `stale` / `gap` (chain check on `epoch` and `previousKeyId` when given),
   *   `key-mismatch` (the derived key_id is not `keyId`), `roster-mismatch` (our leaf is not in the
   *   roster), `removed` (we were removed earlier)
   */
  applyAdd(init: ApplyAddInit): MemberTransition {
    const { provider, group } = this;
    checkNow(init.now);
    const epoch = init.epoch ?? this.#epoch + 1n;
    const refused = this.#chain(epoch, init.previousKeyId);
    if (refused !== undefined) return refused;
    if (!this.#holdsOwnLeaf(init.roster)) return { status: "roster-mismatch", epoch };
    const initSecret = this.#initSecret;
    if (initSecret === undefined) return { status: "gap", epoch, currentEpoch: this.#epoch };
    const hash = rosterHash(provider, init.roster);
    const epochSecret = addStepEpochSecret(provider, initSecret, hash, epoch);
    const entered = enterEpoch({
      provider,
      group,
      epoch,
      epochSecret,
      roster: [...init.roster],
      limits: this.#limits,
    });
    if (init.keyId !== undefined && !constantTimeEqual(entered.keys.keyId, init.keyId)) {
      entered.keys.destroy();
      wipe(entered.initSecret);
      return { status: "key-mismatch", epoch };
    }
    this.#enter(
      entered.keys,
      entered.initSecret,
      evolveTo(provider, this.#leafSecret, this.#leafEpoch, epoch),
      init.now,
    );
    return { status: "applied", epoch, keyId: entered.keys.keyId.slice() };
  }

  /**
   * Follows a KeyUpdate chunk (from a verified envelope: see `openKeyUpdateEnvelope`). A KeyUpdate may
   * come in several chunks: the outcome is `not-in-chunk` until our entry is found (`applied`) or every
   * chunk was seen without it (`removed`).
   *
   * @param chunk - one chunk of the KeyUpdate
   * @param now - current time in milliseconds
   * @param options - the new epoch's roster (when it changed) and `acceptGap`
   * @returns the outcome (see {@link MemberTransition}); the state changes only on `applied` and
   *   `removed`
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
    if (refused !== undefined) {
      const bridgeable =
        refused.status === "gap" &&
        options.acceptGap === true &&
        epoch - this.#epoch <= maxBridgedGap;
      if (!bridgeable) return refused;
    }
    const leafSecret = evolveTo(provider, this.#leafSecret, this.#leafEpoch, epoch);
    let epochSecret: Uint8Array | undefined;
    let used = -1;
    try {
      for (const [index, prekey] of this.#prekeys.entries()) {
        epochSecret = openKeyUpdate({
          provider,
          group,
          chunk,
          prekeySecret: prekey.secretKey,
          prekey: prekey.publicKey,
          leafSecret,
        });
        if (epochSecret !== undefined) {
          used = index;
          break;
        }
      }
    } catch (cause) {
      wipe(leafSecret);
      throw cause;
    }
    if (epochSecret === undefined) {
      wipe(leafSecret);
      return this.#notInChunk(chunk, now);
    }
    const roster = options.roster ?? this.#roster;
    if (
      !constantTimeEqual(rosterHash(provider, roster), chunk.rosterHash) ||
      !this.#holdsOwnLeaf(roster)
    ) {
      wipe(leafSecret, epochSecret);
      return { status: "roster-mismatch", epoch };
    }
    const entered = enterEpoch({
      provider,
      group,
      epoch,
      epochSecret,
      roster: [...roster],
      limits: this.#limits,
    });
    for (const stale of this.#prekeys.splice(used + 1)) wipe(stale.secretKey);
    this.#enter(entered.keys, entered.initSecret, leafSecret, now);
    return { status: "applied", epoch, keyId: entered.keys.keyId.slice() };
  }

  #notInChunk(chunk: KeyUpdateChunk, now: number): MemberTransition {
    let pending = this.#pending;
    if (
      pending === undefined ||
      pending.epoch !== chunk.epoch ||
      !constantTimeEqual(pending.keyId, chunk.keyId) ||
      pending.chunkCount !== chunk.chunkCount
    ) {
      pending = {
        keyId: chunk.keyId.slice(),
        epoch: chunk.epoch,
        chunkCount: chunk.chunkCount,
        seen: new Set(),
      };
      this.#pending = pending;
    }
    if (
      Number.isInteger(chunk.chunkIndex) &&
      chunk.chunkIndex >= 0 &&
      chunk.chunkIndex < chunk.chunkCount
    ) {
      pending.seen.add(chunk.chunkIndex);
    }
    if (pending.seen.size < pending.chunkCount) {
      const missingChunks: number[] = [];
      for (let i = 0; i < pending.chunkCount; i++) if (!pending.seen.has(i)) missingChunks.push(i);
      return { status: "not-in-chunk", epoch: chunk.epoch, missingChunks };
    }
    // Every chunk seen, none for us: we were removed.
    this.#leave(now);
    return { status: "removed", epoch: chunk.epoch };
  }

  /**
   * Marks us as out of the group when the owner-signed roster no longer lists us (or we left): needed
   * when no KeyUpdate tells us, e.g. the owner removed its last member and so published no chunk. Our
   * last epoch stays readable for late messages until it expires; we can no longer send.
   *
   * @param now - current time in milliseconds (starts the retention of our last epoch)
   */
  markRemoved(now: number): void {
    checkNow(now);
    if (!this.#removed) this.#leave(now);
  }

  #leave(now: number): void {
    this.#removed = true;
    this.#pending = undefined;
    wipe(this.#initSecret, this.#leafSecret);
    this.#initSecret = undefined;
    this.#window.advance(undefined, now);
  }

  #enter(keys: EpochKeys, initSecret: Uint8Array, leafSecret: Uint8Array, now: number): void {
    wipe(this.#initSecret, this.#leafSecret);
    this.#initSecret = initSecret;
    this.#leafSecret = leafSecret;
    this.#leafEpoch = keys.epoch;
    this.#epoch = keys.epoch;
    this.#keyId = keys.keyId.slice();
    this.#roster = keys.roster;
    this.#pending = undefined;
    this.#window.advance(keys, now);
  }

  /**
   * Encrypts our message in the current epoch.
   * @returns the encoded `GroupMessage`
   * @throws {RangeError} once we were removed from the group
   */
  encrypt(plaintext: GroupPlaintext): Uint8Array {
    if (this.#removed) {
      throw new RangeError(removedFromGroup);
    }
    return this.#window.encrypt(this.leaf, this.#signingSecretKey, plaintext);
  }

  /**
   * Decrypts a group message of the current epoch or of one kept for late messages.
   *
   * @param message - the encoded or decoded `GroupMessage`
   * @param now - current time in milliseconds (expires old epochs first)
   * @throws {@link UnknownEpochError} for a key_id we do not hold: an expired epoch, an epoch before
   *   we joined ("joined" history), or one we have not reached (fetch control messages or resync)
   * @throws `DecodeError` for malformed bytes; {@link DecryptionFailedError} and the other errors of
   *   `EpochKeys.decrypt`
   */
  decrypt(message: Uint8Array | GroupMessage, now: number): DecryptedGroupMessage {
    return this.#window.decrypt(message, now);
  }

  /** The whole state as versioned bytes (they contain every secret: store them encrypted). */
  serialize(): Uint8Array {
    const writer = new StateWriter();
    writeHead(writer, memberMagic, this.group);
    writer.u32(this.leaf);
    writer.u8(this.#removed ? 1 : 0);
    writer.fixed(this.#signingSecretKey);
    writer.fixed(this.#identityKey);
    writer.u32(this.#prekeys.length);
    for (const prekey of this.#prekeys) {
      writer.fixed(prekey.secretKey);
      writer.fixed(prekey.publicKey);
    }
    writer.u64(this.#leafEpoch);
    writer.fixed(this.#leafSecret);
    writer.u8(this.#initSecret === undefined ? 0 : 1);
    if (this.#initSecret !== undefined) writer.fixed(this.#initSecret);
    writer.u64(this.#epoch);
    writer.fixed(this.#keyId);
    writer.roster(this.#roster);
    writer.u8(this.#pending === undefined ? 0 : 1);
    if (this.#pending !== undefined) {
      writer.fixed(this.#pending.keyId);
      writer.u64(this.#pending.epoch);
      writer.u32(this.#pending.chunkCount);
      writer.u32(this.#pending.seen.size);
      for (const index of this.#pending.seen) writer.u32(index);
    }
    this.#window.write(writer);
    return writer.finish();
  }

  /**
   * Restores a state written by {@link MemberGroup.serialize}.
   * @param limits - the limits to give epochs created from now on (restored epochs keep theirs)
   * @throws {@link StateCorruptedError} for bytes that are not a valid member state of a known version
   */
  static deserialize(
    provider: CryptoProvider,
    bytes: Uint8Array,
    limits?: EpochLimits,
  ): MemberGroup {
    return restoring("member group", bytes, (reader) => {
      const group = readHead(reader, memberMagic, "member group");
      const leaf = reader.u32();
      const removed = reader.flag();
      const signingSecretKey = reader.fixed(32);
      const identityKey = reader.fixed(32);
      const prekeyCount = reader.count();
      if (prekeyCount < 1 || prekeyCount > maxStoredPrekeys) {
        throw new StateCorruptedError(`${prekeyCount} prekeys`);
      }
      const prekeys: PrekeyPair[] = [];
      for (let i = 0; i < prekeyCount; i++)
        prekeys.push({ secretKey: reader.fixed(32), publicKey: reader.fixed(32) });
      const leafEpoch = reader.u64();
      const leafSecret = reader.fixed(32);
      const initSecret = reader.flag() ? reader.fixed(32) : undefined;
      const epoch = reader.u64();
      const keyId = reader.fixed(wireLimits.keyIdBytes);
      const roster = reader.roster();
      let pending: PendingUpdate | undefined;
      if (reader.flag()) {
        const pendingKeyId = reader.fixed(wireLimits.keyIdBytes);
        const pendingEpoch = reader.u64();
        const chunkCount = reader.u32();
        const seenCount = reader.count();
        const seen = new Set<number>();
        for (let i = 0; i < seenCount; i++) seen.add(reader.u32());
        pending = { keyId: pendingKeyId, epoch: pendingEpoch, chunkCount, seen };
      }
      const window = EpochWindow.read(provider, reader);
      if (!removed && (window.current === undefined || initSecret === undefined)) {
        throw new StateCorruptedError("an active member without a current epoch");
      }
      return new MemberGroup({
        provider,
        group,
        leaf,
        limits,
        signingSecretKey,
        identityKey,
        prekeys,
        leafSecret,
        leafEpoch,
        initSecret,
        epoch,
        keyId,
        roster,
        removed,
        pending,
        window,
      });
    });
  }
}
