import { concatBytes, toHex } from "@orgchat/base";
import { encodeGroupMessage, type GroupMessage, wireLimits } from "@orgchat/wire";
import { constantTimeEqual } from "./constant-time.js";
import {
  buildDeferredRoster,
  type DeferredRoster,
  type EpochKeysState,
  isDeferredRoster,
  type RosterSupplier,
  readEpochKeysState,
  writeEpochKeysState,
} from "./epoch-keys-state-encoding.js";
import {
  DecryptionFailedError,
  isStateCorruptedError,
  StateCorruptedError,
  UnknownEpochError,
} from "./errors.js";
import { type GroupLimits, groupLimits, resolveLimits } from "./group-limits.js";
import { framePlaintext, paddedPlaintextLength, unframePlaintext } from "./group-plaintext.js";
import { u32, u64 } from "./kdf.js";
import type { EpochSecrets, GroupId, Roster, RosterLeaf } from "./key-schedule.js";
import { groupContext } from "./key-schedule.js";
import type { CryptoProvider } from "./provider.js";
import { rosterSupplier } from "./roster-hashes.js";
import { redactSecrets, wipe } from "./secret.js";
import { SecretTree } from "./secret-tree.js";
import {
  type ChainCandidate,
  maxLookaheadChains,
  SenderChain,
  type SkippedKey,
} from "./sender-chain.js";
import { applyReuseGuard, openSenderData, sealSenderData, senderDataBytes } from "./sender-data.js";
import { putU32 } from "./state-bytes.js";

/** An authenticated group message. */
export interface DecryptedGroupMessage {
  /** The sender's roster leaf (its signature verified against that leaf's signing key). */
  senderLeaf: number;
  /** The generation in the sender's chain. */
  generation: number;
  contentType: number;
  /** A view into the decrypted plaintext (no copy): copy it before keeping its `buffer`. */
  content: Uint8Array;
  epoch: bigint;
  keyId: Uint8Array;
}

/**
 * Chains kept per epoch for leaves that never sent an authentic message but were named by one that
 * failed (see `EpochKeys.decrypt`): a cache of their first walk, at most this many (~1.2 KiB each
 * with a lookahead), the oldest dropped.
 */
export const maxUnverifiedChains = 1024;

/** Format version of `GroupMessage` this module writes and reads. */
export const groupMessageVersion = 1;
const encoder = new TextEncoder();
const signatureLabel = encoder.encode("orgchat v1 group message");
const aadLabel = encoder.encode("orgchat v1 group aad");

/**
 * The keys of one epoch of one group, for group messages (docs/PROTOCOL.md, "Group messages
 * (`GroupMessage`, version 1)"): the secret tree, every sender chain used so far, the kept skipped
 * keys, and the epoch's sender-data secret.
 *
 * **Sending** ({@link EpochKeys.encrypt}) steps the sender's chain before anything else, so a
 * generation is never used twice. Persist the state (or {@link EpochKeys.nextGeneration}) before the
 * message leaves; after restoring an older backup, {@link EpochKeys.advanceSendChain} by a margin.
 *
 * **Receiving** ({@link EpochKeys.decrypt}) follows the protocol's order: sender data → roster leaf →
 * candidate key without committing → AES-GCM → zero padding → Ed25519 against the roster → commit.
 * Every authentication failure is one {@link DecryptionFailedError} and leaves the state exactly as it
 * was. One's own messages, echoed back by the network, fail with `DuplicateMessageError` (their keys
 * are gone): recognise them before decrypting.
 *
 * Holds key material: it never prints it (see `redactSecrets`). Not safe for concurrent use from
 * several async contexts that serialize it in between: it is synchronous, so single calls are atomic.
 *
 * @example
 * ```ts
 * import { decodeGroupMessage } from "@orgchat/wire";
 *
 * const keys = EpochKeys.create({ provider, group, secrets, roster });
 * const bytes = keys.encrypt({ senderLeaf: 0, signingSecretKey, contentType: 1, content });
 * const message = peerKeys.decrypt(decodeGroupMessage(bytes));
 * // message.senderLeaf === 0, message.content equals content
 * ```
 */
export class EpochKeys {
  readonly group: GroupId;
  readonly epoch: bigint;
  /** The public 8-byte name of the epoch on the wire. */
  readonly keyId: Uint8Array;
  readonly limits: Readonly<GroupLimits>;
  /** The roster, or (a restored retained epoch) the one to build at its first use. */
  #roster: Roster | DeferredRoster;
  readonly #provider: CryptoProvider;
  readonly #randomBytes: (n: number) => Uint8Array;
  readonly #senderDataSecret: Uint8Array;
  readonly #tree: SecretTree;
  readonly #chains: Map<number, SenderChain>;
  /**
   * Chains of leaves with no authentic message yet that a received message named: kept (at
   * generation 0, with their lookahead) so that repeated forgeries in a leaf's name do not walk its
   * chain again. Not state: never serialized; at most `maxUnverifiedChains`, oldest dropped.
   */
  readonly #unverified = new Map<number, SenderChain>();
  /** Chains holding a lookahead, least recently walked first (at most `maxLookaheadChains`). */
  readonly #walked = new Map<number, SenderChain>();
  /** Every kept skipped key of every chain, oldest first: the epoch-wide eviction order. */
  readonly #skipped: Set<SkippedKey>;
  /** `"orgchat v1 group message" ‖ groupContext ‖ u64 e`: the constant head of every signed input. */
  readonly #signatureHead: Uint8Array;
  /** `"orgchat v1 group aad" ‖ u32 1 ‖ groupContext ‖ u64 e ‖ u32 t ‖ key_id`, `t` patched per message. */
  readonly #aad: Uint8Array;
  /** `key_id ‖ u32 t`, the sender data's associated data, `t` patched per message. */
  readonly #senderDataAad: Uint8Array;
  #destroyed = false;

  private constructor(
    fields: EpochKeysState & {
      provider: CryptoProvider;
      randomBytes: (n: number) => Uint8Array;
    },
  ) {
    this.#provider = fields.provider;
    this.#randomBytes = fields.randomBytes;
    this.group = fields.group;
    this.epoch = fields.epoch;
    this.keyId = fields.keyId;
    this.#roster = fields.roster;
    this.limits = Object.freeze(fields.limits);
    this.#senderDataSecret = fields.senderDataSecret;
    this.#tree = fields.tree;
    this.#chains = fields.chains;
    this.#skipped = fields.skipped;
    const context = groupContext(fields.group);
    const epochBytes = u64(fields.epoch);
    this.#signatureHead = concatBytes(signatureLabel, context, epochBytes);
    this.#aad = concatBytes(
      aadLabel,
      u32(groupMessageVersion),
      context,
      epochBytes,
      new Uint8Array(4),
      fields.keyId,
    );
    this.#senderDataAad = concatBytes(fields.keyId, new Uint8Array(4));
    redactSecrets(this, "EpochKeys");
  }

  /**
   * The group-message keys of an epoch. Copies what it needs from `secrets` (the tree root and the
   * sender-data secret); wipe or drop `secrets` once nothing else needs them, or pass `wipeInput`.
   *
   * @param init.provider - the primitives
   * @param init.group - the group (organization, or restricted channel)
   * @param init.secrets - the epoch's secrets (`EpochSecrets.derive`)
   * @param init.roster - the epoch's roster: leaf `i` is sender `i`; an `undefined` leaf never sends
   * @param init.limits - overrides of {@link groupLimits}
   * @param init.randomBytes - source of the 4-byte reuse guards. @default provider.randomBytes
   * @param init.wipeInput - overwrite `secrets.encryptionSecret` and `secrets.senderDataSecret` with
   *   zeros after copying them. @default false
   * @returns keys with no sender chain started yet (leaf secrets are derived on first use)
   * @throws {RangeError} on an empty roster, a roster leaf whose keys are not 32 bytes, an epoch that
   *   is not a u64, or a limit that is not a non-negative u32 (`paddingBlock`: a positive multiple of 64)
   *
   * @example
   * ```ts
   * const secrets = EpochSecrets.derive(provider, group, 0n, epochSecret);
   * const keys = EpochKeys.create({ provider, group, secrets, roster });
   * ```
   */
  static create(init: {
    provider: CryptoProvider;
    group: GroupId;
    secrets: EpochSecrets;
    roster: Roster;
    limits?: Partial<GroupLimits>;
    randomBytes?: (n: number) => Uint8Array;
    wipeInput?: boolean;
  }): EpochKeys {
    const { provider, secrets } = init;
    const limits = resolveLimits(init.limits);
    const epoch = secrets.epoch;
    if (epoch < 0n || epoch > 0xffff_ffff_ffff_ffffn)
      throw new RangeError("secrets.epoch: must be a u64");
    if (secrets.keyId.length !== wireLimits.keyIdBytes)
      throw new RangeError("secrets.keyId: expected 8 bytes");
    const roster = copyRoster(init.roster);
    const keys = new EpochKeys({
      provider,
      randomBytes: init.randomBytes ?? ((n) => provider.randomBytes(n)),
      group: Object.freeze({
        organizationId: init.group.organizationId.slice(),
        channelId: init.group.channelId,
      }),
      epoch,
      keyId: secrets.keyId.slice(),
      roster,
      limits,
      senderDataSecret: secrets.senderDataSecret.slice(),
      tree: SecretTree.create(provider, secrets.encryptionSecret.slice(), roster.length),
      chains: new Map(),
      skipped: new Set(),
    });
    if (init.wipeInput === true) wipe(secrets.encryptionSecret, secrets.senderDataSecret);
    return keys;
  }

  /**
   * The generation `senderLeaf`'s next message will use (0 before its first). Persist it (or the whole
   * state) before sending, so that a crash never leads to a generation being sent twice.
   *
   * @throws {RangeError} when `senderLeaf` is not a leaf of the roster
   */
  nextGeneration(senderLeaf: number): number {
    this.#checkLeaf(senderLeaf, "senderLeaf");
    return this.#chains.get(senderLeaf)?.nextGeneration ?? 0;
  }

  /**
   * Moves `senderLeaf`'s chain forward to `generation` without keeping any key: after restoring one's
   * own state from a backup, skip a margin so that no generation is ever sent twice (research §7.6).
   *
   * @throws {RangeError} when `senderLeaf` is not a non-empty roster leaf or `generation` is below
   *   {@link EpochKeys.nextGeneration} or above 2³²
   */
  advanceSendChain(senderLeaf: number, generation: number): void {
    this.#checkLive();
    this.#checkSender(senderLeaf);
    this.#chainFor(senderLeaf).advanceTo(generation);
  }

  /**
   * Keeps a send reservation on `senderLeaf`'s own chain (docs/PROTOCOL.md, "Saved group state"):
   * `serialize({ withRoster: false })` saves the chain at a bound at least `ahead` generations past
   * the last one sent when the reservation is set, so that a state restored after a crash resumes
   * past every generation that may have left. Call after each send; nothing to save until the bound
   * moves.
   *
   * @param senderLeaf - one's own leaf (its chain must have been used to send)
   * @param ahead - generations one reservation covers (at least 1)
   * @returns whether the bound moved: the saved state must then be committed durably before the
   *   message leaves
   * @throws {RangeError} when `senderLeaf` has sent nothing in this epoch or `ahead` is not a
   *   positive integer
   * @throws {@link UnknownEpochError} after {@link EpochKeys.destroy}
   */
  reserveSendGenerations(senderLeaf: number, ahead: number): boolean {
    this.#checkLive();
    this.#checkSender(senderLeaf);
    const chain = this.#chains.get(senderLeaf);
    if (chain === undefined) throw new RangeError(`senderLeaf: leaf ${senderLeaf} has not sent`);
    return chain.reserve(ahead);
  }

  /** How many skipped keys the epoch keeps now, all chains together. */
  get skippedKeyCount(): number {
    return this.#skipped.size;
  }

  /**
   * Encrypts a message as `senderLeaf`, on its own chain (docs/PROTOCOL.md, steps 1-5). The chain is
   * stepped first: the generation is consumed even if a later step throws.
   *
   * @param init.senderLeaf - the sender's roster leaf (non-empty)
   * @param init.signingSecretKey - the sender's per-organization Ed25519 signing key `S_m` (32-byte
   *   seed) whose public key is `roster[senderLeaf].signingKey` (not checked here: a wrong key makes
   *   every receiver drop the message)
   * @param init.contentType - u32, bound by the associated data
   * @param init.content - the content bytes
   * @returns the encoded `GroupMessage`
   * @throws {RangeError} when `senderLeaf` is not a non-empty roster leaf, `contentType` is not a u32,
   *   the message would exceed `wireLimits.maxMessageBytes`, or the chain is exhausted
   * @throws {TypeError} when `content` is not a Uint8Array
   * @throws {@link UnknownEpochError} after {@link EpochKeys.destroy}
   */
  encrypt(init: {
    senderLeaf: number;
    signingSecretKey: Uint8Array;
    contentType: number;
    content: Uint8Array;
  }): Uint8Array {
    const { senderLeaf: leaf, signingSecretKey, contentType, content } = init;
    this.#checkLive();
    this.#checkSender(leaf);
    if (!Number.isInteger(contentType) || contentType < 0 || contentType > 0xffff_ffff) {
      throw new RangeError(`contentType: must be a u32, got ${contentType}`);
    }
    if (!(content instanceof Uint8Array)) throw new TypeError("content: expected a Uint8Array");
    const plaintextLength = paddedPlaintextLength(
      contentType,
      content.length,
      this.limits.paddingBlock,
    );

    const p = this.#provider;
    const { generation, key, nonce } = this.#chainFor(leaf).nextSendKeys();
    try {
      // 1. Signature over the domain-separated context, ending with u32 len(m) ‖ m.
      const signature = p.ed25519Sign(
        signingSecretKey,
        this.#signedInput(leaf, generation, contentType, content),
      );

      // 2. plaintext = varint len(m) ‖ m ‖ sig ‖ zero padding.
      const plaintext = framePlaintext(content, signature, plaintextLength);

      // 3. Reuse guard XORed into the first four nonce bytes.
      const guard = this.#randomBytes(4);
      if (guard.length !== 4)
        throw new RangeError("randomBytes: returned the wrong number of bytes");
      applyReuseGuard(nonce, guard);

      // 4. Content AEAD.
      const ciphertext = p.aesGcmSeal(key, nonce, plaintext, this.#aadFor(contentType));

      // 5. Sender data, keyed by a sample of the ciphertext.
      const senderData = sealSenderData(
        p,
        this.#senderDataSecret,
        ciphertext,
        { leaf, generation, guard },
        this.#senderDataAadFor(contentType),
      );

      return encodeGroupMessage({
        version: groupMessageVersion,
        keyId: this.keyId,
        contentType,
        senderData,
        ciphertext,
      });
    } finally {
      wipe(key, nonce);
    }
  }

  /**
   * Decrypts and authenticates a decoded `GroupMessage` of this epoch, in the protocol's receive
   * order; only an authentic message changes the state (its chain advances, skipped keys are kept,
   * the used key is deleted).
   *
   * @param message - from `decodeGroupMessage`
   * @returns the sender, generation and content
   * @throws {@link UnknownEpochError} when `message.keyId` is not this epoch's (or after
   *   {@link EpochKeys.destroy})
   * @throws {@link DecryptionFailedError} on any authentication failure: sender data, an empty or
   *   unknown sender leaf, the ciphertext, non-zero padding, the signature, or an unknown version
   * @throws {@link DuplicateMessageError} when the sender's generation was already consumed
   * @throws {@link GenerationTooFarError} when the generation is too far ahead in the sender's chain
   */
  decrypt(message: GroupMessage): DecryptedGroupMessage {
    const keyId = message.keyId;
    if (!constantTimeEqual(keyId, this.keyId)) {
      throw new UnknownEpochError(toHex(keyId), "not the key_id of this epoch's keys");
    }
    this.#checkLive();
    const { senderData, ciphertext, contentType } = message;
    if (
      message.version !== groupMessageVersion ||
      senderData.length !== senderDataBytes ||
      ciphertext.length < wireLimits.minGroupCiphertextBytes ||
      !Number.isInteger(contentType) ||
      contentType < 0 ||
      contentType > 0xffff_ffff
    ) {
      throw new DecryptionFailedError();
    }
    const p = this.#provider;

    // Sender data.
    const { leaf, generation, guard } = openSenderData(
      p,
      this.#senderDataSecret,
      ciphertext,
      senderData,
      this.#senderDataAadFor(contentType),
    );

    // The leaf must be a member of this epoch: an empty or unknown leaf has no key to verify with.
    const member = leaf < this.roster.length ? this.roster[leaf] : undefined;
    if (member === undefined) throw new DecryptionFailedError();

    // Candidate key without committing. A first message from this leaf works on a chain that is not
    // registered yet, seeded from a peeked (not taken) leaf secret, and kept while unverified.
    let chain = this.#chains.get(leaf);
    const fresh = chain === undefined;
    if (chain === undefined) {
      chain = this.#unverified.get(leaf);
      if (chain === undefined) {
        chain = SenderChain.create(p, leaf, this.#tree.peekLeafSecret(leaf), this.limits);
        this.#unverified.set(leaf, chain);
        for (const [oldest, kept] of this.#unverified) {
          if (this.#unverified.size <= maxUnverifiedChains) break;
          kept.destroy();
          this.#unverified.delete(oldest);
          this.#walked.delete(oldest);
        }
      }
    }
    const candidate: ChainCandidate = chain.candidate(generation);
    this.#noteWalked(leaf, chain);

    let content: Uint8Array;
    try {
      const nonce = candidate.nonce.slice();
      applyReuseGuard(nonce, guard);
      const plaintext = p.aesGcmOpen(candidate.key, nonce, ciphertext, this.#aadFor(contentType));

      // Padding: varint len(m) ‖ m ‖ sig ‖ zeros, every padding byte zero.
      const framed = unframePlaintext(plaintext);

      // Signature against the roster's key for this leaf.
      const signed = this.#signedInput(leaf, generation, contentType, framed.content);
      if (!p.ed25519Verify(member.signingKey, signed, framed.signature)) {
        throw new DecryptionFailedError();
      }
      content = framed.content;
    } catch (error) {
      chain.discard(candidate);
      throw error;
    }

    // Authentic: commit.
    if (fresh) {
      wipe(this.#tree.takeLeafSecret(leaf));
      this.#unverified.delete(leaf);
      this.#chains.set(leaf, chain);
    }
    const used = candidate.fromSkipped;
    const { kept, evicted } = chain.commit(candidate);
    if (used !== undefined) this.#skipped.delete(used);
    for (const entry of evicted) this.#skipped.delete(entry);
    for (const entry of kept) this.#skipped.add(entry);
    this.#enforceEpochCap();

    return { senderLeaf: leaf, generation, contentType, content, epoch: this.epoch, keyId };
  }

  /**
   * The state as versioned bytes (the first byte is the format version). **Contains secrets**:
   * store it encrypted. Layout of format 1 (big-endian integers):
   *
   * ```
   * u8  1
   * u32 len(organization_id) ‖ organization_id ‖ u32 len(channel_id) ‖ channel_id (UTF-8)
   * u64 epoch ‖ key_id (8) ‖ sender_data_secret (32)
   * u32 maxForwardJump ‖ u32 maxSkippedPerChain ‖ u32 maxSkippedPerEpoch ‖ u32 paddingBlock
   * u32 leaves, then per leaf: u8 0 (empty) | u8 1 ‖ identity_key ‖ signing_key ‖ prekey (32 each)
   * u32 held tree nodes, then per node (ascending): u64 node index ‖ secret (32)
   * u32 chains, then per chain (ascending leaf): u32 leaf ‖ u64 next generation ‖ chain secret (32,
   *     absent when the next generation is 2³², the chain exhausted)
   * u32 skipped keys, then per key, oldest first (the epoch-wide eviction order):
   *     u32 leaf ‖ u32 generation ‖ key (32) ‖ nonce (12)
   * ```
   *
   * Format 2 (`withRoster: false`) starts with `u8 2`, replaces the roster by `u32 leaves ‖
   * roster_hash (32)` (the caller keeps rosters by key id: its size does not grow with the roster),
   * and saves a chain holding a send reservation ({@link EpochKeys.reserveSendGenerations}) at its
   * bound instead of its position.
   *
   * @param options.withRoster - format 1 (`true`) or format 2 (`false`). @default true
   * @returns the bytes
   * @throws {@link UnknownEpochError} after {@link EpochKeys.destroy}
   */
  serialize(options?: { readonly withRoster?: boolean }): Uint8Array {
    this.#checkLive();
    return writeEpochKeysState(
      {
        group: this.group,
        epoch: this.epoch,
        keyId: this.keyId,
        roster: this.roster,
        limits: this.limits,
        senderDataSecret: this.#senderDataSecret,
        tree: this.#tree,
        chains: this.#chains,
        skipped: this.#skipped,
      },
      this.#provider,
      options?.withRoster ?? true,
    );
  }

  /**
   * Restores keys saved by {@link EpochKeys.serialize}. Every secret is copied out of `bytes`: wipe
   * them afterwards if you like.
   *
   * @param provider - the primitives
   * @param bytes - the serialized state
   * @param options.randomBytes - source of reuse guards. @default provider.randomBytes
   * @param options.roster - the rosters by key id (lower-case hex): required for format 2, whose
   *   roster must have the saved length and hash
   * @returns the keys, exactly as they were (a chain saved at its reservation resumes at its bound)
   * @throws {@link StateCorruptedError} when the bytes are not a consistent state of a known version,
   *   or the roster of a format-2 state is missing or does not match
   */
  static deserialize(
    provider: CryptoProvider,
    bytes: Uint8Array,
    options?: {
      randomBytes?: (n: number) => Uint8Array;
      roster?: (keyIdHex: string) => Roster | undefined;
    },
  ): EpochKeys {
    const lookup = options?.roster;
    return EpochKeys.restoreState(
      provider,
      bytes,
      lookup === undefined ? undefined : rosterSupplier(provider, lookup),
      options?.randomBytes,
    );
  }

  /**
   * {@link EpochKeys.deserialize} with a roster supplier shared by every epoch of a group state.
   * Internal to the package (the group heads), not exported from it.
   *
   * @internal
   */
  static restoreState(
    provider: CryptoProvider,
    bytes: Uint8Array,
    rosterFor: RosterSupplier | undefined,
    randomBytes?: (n: number) => Uint8Array,
  ): EpochKeys {
    let state: EpochKeysState;
    try {
      state = readEpochKeysState(provider, bytes, rosterFor);
    } catch (cause) {
      if (isStateCorruptedError(cause)) throw cause;
      throw new StateCorruptedError("EpochKeys bytes are malformed or inconsistent", { cause });
    }
    return new EpochKeys({
      ...state,
      provider,
      randomBytes: randomBytes ?? ((n) => provider.randomBytes(n)),
    });
  }

  /** The epoch's roster (frozen): leaf `i` is sender `i`. A deferred one is built here, once. */
  get roster(): Roster {
    const roster = this.#roster;
    if (!isDeferredRoster(roster)) return roster;
    this.#roster = buildDeferredRoster(roster, this.epoch, this.#chains.keys());
    return this.#roster as Roster;
  }

  /** The roster as restored: a {@link DeferredRoster} until first read. @internal */
  get rosterSource(): Roster | DeferredRoster {
    return this.#roster;
  }

  /**
   * Wipes every secret of the epoch (end of its retention window). Afterwards every method but
   * `nextGeneration` throws {@link UnknownEpochError}.
   */
  destroy(): void {
    this.#destroyed = true;
    wipe(this.#senderDataSecret);
    this.#tree.destroy();
    for (const chain of this.#chains.values()) chain.destroy();
    this.#chains.clear();
    for (const chain of this.#unverified.values()) chain.destroy();
    this.#unverified.clear();
    this.#walked.clear();
    this.#skipped.clear();
  }

  #checkLive(): void {
    if (this.#destroyed)
      throw new UnknownEpochError(toHex(this.keyId), "this epoch's keys were destroyed");
  }

  #checkLeaf(leaf: number, argument: string): void {
    if (!Number.isInteger(leaf) || leaf < 0 || leaf >= this.roster.length) {
      throw new RangeError(
        `${argument}: must be a leaf index in 0..${this.roster.length - 1}, got ${leaf}`,
      );
    }
  }

  #checkSender(leaf: number): void {
    this.#checkLeaf(leaf, "senderLeaf");
    if (this.roster[leaf] === undefined) throw new RangeError(`senderLeaf: leaf ${leaf} is empty`);
  }

  #chainFor(leaf: number): SenderChain {
    let chain = this.#chains.get(leaf);
    if (chain === undefined) {
      // A chain kept for received messages in this leaf's name holds c[0]: gone once we send.
      this.#unverified.get(leaf)?.destroy();
      this.#unverified.delete(leaf);
      this.#walked.delete(leaf);
      chain = SenderChain.create(
        this.#provider,
        leaf,
        this.#tree.takeLeafSecret(leaf),
        this.limits,
      );
      this.#chains.set(leaf, chain);
    }
    return chain;
  }

  /**
   * What a sender signs: `"orgchat v1 group message" ‖ groupContext ‖ u64 e ‖ u32 leaf ‖
   * u32 generation ‖ u32 content_type ‖ key_id ‖ u32 len(m) ‖ m`.
   */
  #signedInput(
    leaf: number,
    generation: number,
    contentType: number,
    content: Uint8Array,
  ): Uint8Array {
    const head = this.#signatureHead;
    const signed = new Uint8Array(head.length + 24 + content.length);
    signed.set(head);
    const at = head.length;
    putU32(signed, at, leaf);
    putU32(signed, at + 4, generation);
    putU32(signed, at + 8, contentType);
    signed.set(this.keyId, at + 12);
    putU32(signed, at + 20, content.length);
    signed.set(content, at + 24);
    return signed;
  }

  #aadFor(contentType: number): Uint8Array {
    putU32(this.#aad, this.#aad.length - 12, contentType);
    return this.#aad;
  }

  #senderDataAadFor(contentType: number): Uint8Array {
    putU32(this.#senderDataAad, 8, contentType);
    return this.#senderDataAad;
  }

  /**
   * Keeps the lookahead of at most `maxLookaheadChains` chains, the most recently walked: `chain`
   * (just asked for a candidate) becomes the newest if it holds one, the oldest loses theirs.
   */
  #noteWalked(leaf: number, chain: SenderChain): void {
    this.#walked.delete(leaf);
    if (!chain.hasLookahead) return;
    this.#walked.set(leaf, chain);
    for (const [oldest, walked] of this.#walked) {
      if (this.#walked.size <= maxLookaheadChains) break;
      walked.dropLookahead();
      this.#walked.delete(oldest);
    }
  }

  /** Evicts the oldest skipped keys, whatever their chain, beyond `maxSkippedPerEpoch`. */
  #enforceEpochCap(): void {
    let excess = this.#skipped.size - this.limits.maxSkippedPerEpoch;
    if (excess <= 0) return;
    for (const entry of this.#skipped) {
      if (excess-- <= 0) break;
      this.#chains.get(entry.leaf)?.dropSkipped(entry.generation);
      this.#skipped.delete(entry);
    }
  }
}

const isKey = (value: unknown): boolean => value instanceof Uint8Array && value.length === 32;

/**
 * Checks the roster's keys and returns it frozen: a frozen roster as it is (epochs with the same
 * roster share one array), any other as a frozen copy.
 */
function copyRoster(roster: Roster): Roster {
  if (roster.length === 0) throw new RangeError("roster: must have at least one leaf");
  const shared = Object.isFrozen(roster);
  const copy: Array<RosterLeaf | undefined> = shared ? [] : new Array(roster.length);
  for (let i = 0; i < roster.length; i++) {
    const leaf = roster[i];
    if (
      leaf !== undefined &&
      !(isKey(leaf.identityKey) && isKey(leaf.signingKey) && isKey(leaf.prekey))
    ) {
      for (const name of ["identityKey", "signingKey", "prekey"] as const) {
        if (!isKey(leaf[name])) throw new RangeError(`roster[${i}].${name}: expected 32 bytes`);
      }
    }
    // Leaves are kept by reference: node's provider caches imported keys per array.
    if (!shared) copy[i] = leaf;
  }
  return shared ? roster : Object.freeze(copy);
}
