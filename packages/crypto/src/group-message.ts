import { concatBytes, toHex } from "@orgchat/base";
import { encodeGroupMessage, type GroupMessage, wireLimits } from "@orgchat/wire";
import { constantTimeEqual } from "./constant-time.js";
import {
  DecryptionFailedError,
  isStateCorruptedError,
  StateCorruptedError,
  UnknownEpochError,
} from "./errors.js";
import { labelInfo, u32, u64 } from "./kdf.js";
import type { EpochSecrets, GroupId, Roster, RosterLeaf } from "./key-schedule.js";
import { groupContext } from "./key-schedule.js";
import type { CryptoProvider } from "./provider.js";
import { redactSecrets, wipe } from "./secret.js";
import { SecretTree } from "./secret-tree.js";
import {
  type ChainCandidate,
  maxGeneration,
  SenderChain,
  type SkippedKey,
} from "./sender-chain.js";
import { getU32, putU32, StateReader, StateWriter } from "./state-bytes.js";

/**
 * The receive limits of group messages (docs/PROTOCOL.md, "Group messages", limits table) and the
 * padding block. Why these numbers (group-crypto research §7.7): a bogus future generation costs a
 * receiver at most 1,000 chain steps before the signature check rejects it; 10,000 skipped keys
 * (about 440 KB) are what a 10,000-member epoch needs.
 */
export const groupLimits = {
  /** Generations one message may skip over in its sender's chain (`GenerationTooFarError` beyond). */
  maxForwardJump: 1000,
  /** Skipped keys kept per sender chain, oldest evicted. */
  maxSkippedPerChain: 256,
  /** Skipped keys kept per epoch across all sender chains, oldest evicted. */
  maxSkippedPerEpoch: 10_000,
  /** The plaintext is zero-padded to a multiple of this many bytes. */
  paddingBlock: 64,
} as const;

/** Limits of one {@link EpochKeys}; see {@link groupLimits} for the defaults. */
export interface GroupLimits {
  /** @default 1000 */
  maxForwardJump: number;
  /** @default 256 */
  maxSkippedPerChain: number;
  /** @default 10_000 */
  maxSkippedPerEpoch: number;
  /** A positive multiple of 64 (the protocol's block), so every message meets the wire minimum. @default 64 */
  paddingBlock: number;
}

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

/** Format version of `GroupMessage` this module writes and reads. */
export const groupMessageVersion = 1;
/** Format version of {@link EpochKeys.serialize}. */
const stateVersion = 1;

const encoder = new TextEncoder();
const signatureLabel = encoder.encode("orgchat v1 group message");
const aadLabel = encoder.encode("orgchat v1 group aad");
const sampleBytes = 16;
const signatureBytes = 64;
const senderDataPlainBytes = 12;
// Sender-data key and nonce: ExpandWithLabel(sender_data_secret, "key"/"nonce", sample, L). Only the
// 16-byte sample at the end changes: templates built once by kdf.labelInfo and patched per message
// (every provider call is synchronous and keeps no reference to `info`).
const senderKeyInfo = labelInfo("key", new Uint8Array(sampleBytes), 32);
const senderNonceInfo = labelInfo("nonce", new Uint8Array(sampleBytes), 12);

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
  readonly roster: Roster;
  readonly limits: Readonly<GroupLimits>;
  readonly #provider: CryptoProvider;
  readonly #randomBytes: (n: number) => Uint8Array;
  readonly #senderDataSecret: Uint8Array;
  readonly #tree: SecretTree;
  readonly #chains: Map<number, SenderChain>;
  /** Every kept skipped key of every chain, oldest first: the epoch-wide eviction order. */
  readonly #skipped: Set<SkippedKey>;
  /** `"orgchat v1 group message" ‖ groupContext ‖ u64 e`: the constant head of every signed input. */
  readonly #signatureHead: Uint8Array;
  /** `"orgchat v1 group aad" ‖ u32 1 ‖ groupContext ‖ u64 e ‖ u32 t ‖ key_id`, `t` patched per message. */
  readonly #aad: Uint8Array;
  /** `key_id ‖ u32 t`, the sender data's associated data, `t` patched per message. */
  readonly #senderDataAad: Uint8Array;
  #destroyed = false;

  private constructor(fields: {
    provider: CryptoProvider;
    randomBytes: (n: number) => Uint8Array;
    group: GroupId;
    epoch: bigint;
    keyId: Uint8Array;
    roster: Roster;
    limits: GroupLimits;
    senderDataSecret: Uint8Array;
    tree: SecretTree;
    chains: Map<number, SenderChain>;
    skipped: Set<SkippedKey>;
  }) {
    this.#provider = fields.provider;
    this.#randomBytes = fields.randomBytes;
    this.group = fields.group;
    this.epoch = fields.epoch;
    this.keyId = fields.keyId;
    this.roster = fields.roster;
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
    const length = content.length;
    const block = this.limits.paddingBlock;
    const prefix = varintLength(length);
    const plaintextLength = Math.ceil((prefix + length + signatureBytes) / block) * block;
    const size = encodedSize(contentType, plaintextLength + 16);
    if (size > wireLimits.maxMessageBytes) {
      throw new RangeError(
        `content: ${length} bytes make a ${size}-byte message, more than ${wireLimits.maxMessageBytes}; split it`,
      );
    }

    const p = this.#provider;
    const { generation, key, nonce } = this.#chainFor(leaf).nextSendKeys();
    let senderKey: Uint8Array | undefined;
    let senderNonce: Uint8Array | undefined;
    try {
      // 1. Signature over the domain-separated context, ending with u32 len(m) ‖ m.
      const signature = p.ed25519Sign(
        signingSecretKey,
        this.#signedInput(leaf, generation, contentType, content),
      );

      // 2. plaintext = varint len(m) ‖ m ‖ sig ‖ zero padding (a fresh array is all zeros).
      const plaintext = new Uint8Array(plaintextLength);
      putVarint(plaintext, length);
      plaintext.set(content, prefix);
      plaintext.set(signature, prefix + length);

      // 3. Reuse guard XORed into the first four nonce bytes.
      const guard = this.#randomBytes(4);
      if (guard.length !== 4)
        throw new RangeError("randomBytes: returned the wrong number of bytes");
      nonce[0] = (nonce[0] as number) ^ (guard[0] as number);
      nonce[1] = (nonce[1] as number) ^ (guard[1] as number);
      nonce[2] = (nonce[2] as number) ^ (guard[2] as number);
      nonce[3] = (nonce[3] as number) ^ (guard[3] as number);

      // 4. Content AEAD.
      const ciphertext = p.aesGcmSeal(key, nonce, plaintext, this.#aadFor(contentType));

      // 5. Sender data, keyed by a sample of the ciphertext.
      const sample = ciphertext.subarray(0, sampleBytes);
      senderKey = p.hkdfExpand(this.#senderDataSecret, withSample(senderKeyInfo, sample), 32);
      senderNonce = p.hkdfExpand(this.#senderDataSecret, withSample(senderNonceInfo, sample), 12);
      const senderPlain = new Uint8Array(senderDataPlainBytes);
      putU32(senderPlain, 0, leaf);
      putU32(senderPlain, 4, generation);
      senderPlain.set(guard, 8);
      const senderData = p.aesGcmSeal(
        senderKey,
        senderNonce,
        senderPlain,
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
      wipe(key, nonce, senderKey, senderNonce);
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
      senderData.length !== senderDataPlainBytes + 16 ||
      ciphertext.length < wireLimits.minGroupCiphertextBytes ||
      !Number.isInteger(contentType) ||
      contentType < 0 ||
      contentType > 0xffff_ffff
    ) {
      throw new DecryptionFailedError();
    }
    const p = this.#provider;

    // Sender data.
    const sample = ciphertext.subarray(0, sampleBytes);
    const senderKey = p.hkdfExpand(this.#senderDataSecret, withSample(senderKeyInfo, sample), 32);
    const senderNonce = p.hkdfExpand(
      this.#senderDataSecret,
      withSample(senderNonceInfo, sample),
      12,
    );
    let sender: Uint8Array;
    try {
      sender = p.aesGcmOpen(
        senderKey,
        senderNonce,
        senderData,
        this.#senderDataAadFor(contentType),
      );
    } finally {
      wipe(senderKey, senderNonce);
    }
    const leaf = getU32(sender, 0);
    const generation = getU32(sender, 4);

    // The leaf must be a member of this epoch: an empty or unknown leaf has no key to verify with.
    const member = leaf < this.roster.length ? this.roster[leaf] : undefined;
    if (member === undefined) throw new DecryptionFailedError();

    // Candidate key without committing. A first message from this leaf works on a chain that is not
    // registered yet, seeded from a peeked (not taken) leaf secret.
    let chain = this.#chains.get(leaf);
    const fresh = chain === undefined;
    if (chain === undefined) {
      chain = SenderChain.create(p, leaf, this.#tree.peekLeafSecret(leaf), this.limits);
    }
    let candidate: ChainCandidate;
    try {
      candidate = chain.candidate(generation);
    } catch (error) {
      if (fresh) chain.destroy();
      throw error;
    }

    let content: Uint8Array;
    try {
      const nonce = candidate.nonce.slice();
      nonce[0] = (nonce[0] as number) ^ (sender[8] as number);
      nonce[1] = (nonce[1] as number) ^ (sender[9] as number);
      nonce[2] = (nonce[2] as number) ^ (sender[10] as number);
      nonce[3] = (nonce[3] as number) ^ (sender[11] as number);
      const plaintext = p.aesGcmOpen(candidate.key, nonce, ciphertext, this.#aadFor(contentType));

      // Padding: varint len(m) ‖ m ‖ sig ‖ zeros, every padding byte zero.
      const parsed = readVarint(plaintext);
      if (parsed === undefined) throw new DecryptionFailedError();
      const { value: length, size: prefix } = parsed;
      const end = prefix + length + signatureBytes;
      if (end > plaintext.length) throw new DecryptionFailedError();
      let nonZero = 0;
      for (let i = end; i < plaintext.length; i++) nonZero |= plaintext[i] as number;
      if (nonZero !== 0) throw new DecryptionFailedError();

      // Signature against the roster's key for this leaf.
      const signed = this.#signedInput(
        leaf,
        generation,
        contentType,
        plaintext.subarray(prefix, prefix + length),
      );
      if (!p.ed25519Verify(member.signingKey, signed, plaintext.subarray(prefix + length, end))) {
        throw new DecryptionFailedError();
      }
      content = plaintext.subarray(prefix, prefix + length);
    } catch (error) {
      chain.discard(candidate);
      if (fresh) chain.destroy();
      throw error;
    }

    // Authentic: commit.
    if (fresh) {
      wipe(this.#tree.takeLeafSecret(leaf));
      this.#chains.set(leaf, chain);
    }
    const used = candidate.fromSkipped;
    const evicted = chain.commit(candidate);
    if (used !== undefined) this.#skipped.delete(used);
    for (const entry of evicted) this.#skipped.delete(entry);
    for (const entry of candidate.skipped) this.#skipped.add(entry);
    this.#enforceEpochCap();

    return { senderLeaf: leaf, generation, contentType, content, epoch: this.epoch, keyId };
  }

  /**
   * The state as versioned bytes (the first byte is the format version, 1). **Contains secrets**:
   * store it encrypted. Layout (big-endian integers):
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
   * @throws {@link UnknownEpochError} after {@link EpochKeys.destroy}
   */
  serialize(): Uint8Array {
    this.#checkLive();
    const out = new StateWriter();
    out.u8(stateVersion);
    out.fixed(groupContext(this.group));
    out.u64(this.epoch);
    out.fixed(this.keyId);
    out.fixed(this.#senderDataSecret);
    out.u32(this.limits.maxForwardJump);
    out.u32(this.limits.maxSkippedPerChain);
    out.u32(this.limits.maxSkippedPerEpoch);
    out.u32(this.limits.paddingBlock);
    out.roster(this.roster);
    const nodes = this.#tree.heldNodes();
    out.u32(nodes.length);
    for (const [node, secret] of nodes) {
      out.u64(BigInt(node));
      out.fixed(secret);
    }
    const leaves = [...this.#chains.keys()].sort((a, b) => a - b);
    out.u32(leaves.length);
    for (const leaf of leaves) {
      const chain = this.#chains.get(leaf) as SenderChain;
      out.u32(leaf);
      out.u64(BigInt(chain.nextGeneration));
      const secret = chain.currentSecret();
      if (secret !== undefined) out.fixed(secret);
    }
    out.u32(this.#skipped.size);
    for (const entry of this.#skipped) {
      out.u32(entry.leaf);
      out.u32(entry.generation);
      out.fixed(entry.key);
      out.fixed(entry.nonce);
    }
    return out.finish();
  }

  /**
   * Restores keys saved by {@link EpochKeys.serialize}. Every secret is copied out of `bytes`: wipe
   * them afterwards if you like.
   *
   * @param provider - the primitives
   * @param bytes - the serialized state
   * @param options.randomBytes - source of reuse guards. @default provider.randomBytes
   * @returns the keys, exactly as they were
   * @throws {@link StateCorruptedError} when the bytes are not a consistent state of a known version
   */
  static deserialize(
    provider: CryptoProvider,
    bytes: Uint8Array,
    options?: { randomBytes?: (n: number) => Uint8Array },
  ): EpochKeys {
    try {
      return EpochKeys.#read(
        provider,
        bytes,
        options?.randomBytes ?? ((n) => provider.randomBytes(n)),
      );
    } catch (cause) {
      if (isStateCorruptedError(cause)) throw cause;
      throw new StateCorruptedError("EpochKeys bytes are malformed or inconsistent", { cause });
    }
  }

  static #read(
    provider: CryptoProvider,
    bytes: Uint8Array,
    randomBytes: (n: number) => Uint8Array,
  ): EpochKeys {
    if (!(bytes instanceof Uint8Array))
      throw new StateCorruptedError("EpochKeys state is not a Uint8Array");
    const input = new StateReader(bytes);
    const version = input.u8();
    if (version !== stateVersion) {
      throw new StateCorruptedError(
        `EpochKeys state version ${version} is unknown (expected ${stateVersion})`,
      );
    }
    // groupContext: u32 len ‖ organization_id ‖ u32 len ‖ channel_id (UTF-8).
    const organizationId = input.bytes();
    const channelId = input.string();
    const epoch = input.u64();
    const keyId = input.fixed(wireLimits.keyIdBytes);
    const senderDataSecret = input.fixed(32);
    const limits = resolveLimits({
      maxForwardJump: input.u32(),
      maxSkippedPerChain: input.u32(),
      maxSkippedPerEpoch: input.u32(),
      paddingBlock: input.u32(),
    });
    const roster = input.roster();
    const leafCount = roster.length;
    if (leafCount === 0) throw new RangeError("roster: bad leaf count");
    for (const leaf of roster) if (leaf !== undefined) Object.freeze(leaf);
    const nodeCount = input.u32();
    const nodes: Array<[number, Uint8Array]> = [];
    let previousNode = -1;
    for (let i = 0; i < nodeCount; i++) {
      const node = Number(input.u64());
      if (node <= previousNode) throw new RangeError("tree: nodes not ascending");
      previousNode = node;
      nodes.push([node, input.fixed(32)]);
    }
    const tree = SecretTree.restore(provider, leafCount, nodes);
    const chainCount = input.u32();
    const chainParts: Array<{
      leaf: number;
      nextGeneration: number;
      secret: Uint8Array | undefined;
    }> = [];
    let previousLeaf = -1;
    for (let i = 0; i < chainCount; i++) {
      const leaf = input.u32();
      if (leaf <= previousLeaf || leaf >= leafCount || roster[leaf] === undefined) {
        throw new RangeError(`chains: bad leaf ${leaf}`);
      }
      previousLeaf = leaf;
      const nextGeneration = Number(input.u64());
      const secret = nextGeneration > maxGeneration ? undefined : input.fixed(32);
      chainParts.push({ leaf, nextGeneration, secret });
    }
    const skippedCount = input.u32();
    if (skippedCount > limits.maxSkippedPerEpoch)
      throw new RangeError("skipped: more than maxSkippedPerEpoch");
    const order: SkippedKey[] = [];
    const byLeaf = new Map<number, SkippedKey[]>();
    for (let i = 0; i < skippedCount; i++) {
      const entry: SkippedKey = {
        leaf: input.u32(),
        generation: input.u32(),
        key: input.fixed(32),
        nonce: input.fixed(12),
      };
      order.push(entry);
      const list = byLeaf.get(entry.leaf);
      if (list === undefined) byLeaf.set(entry.leaf, [entry]);
      else list.push(entry);
    }
    input.end();

    const chains = new Map<number, SenderChain>();
    for (const part of chainParts) {
      chains.set(
        part.leaf,
        SenderChain.restore(provider, { ...part, limits, skipped: byLeaf.get(part.leaf) ?? [] }),
      );
      byLeaf.delete(part.leaf);
    }
    if (byLeaf.size !== 0) throw new RangeError("skipped: keys of a leaf without a chain");
    // Every leaf's chain is either started or still derivable from the tree, never both.
    for (let leaf = 0; leaf < leafCount; leaf++) {
      if (chains.has(leaf) === tree.hasLeaf(leaf))
        throw new RangeError(`tree: leaf ${leaf} is inconsistent`);
    }
    return new EpochKeys({
      provider,
      randomBytes,
      group: Object.freeze({ organizationId, channelId }),
      epoch,
      keyId,
      roster: Object.freeze(roster),
      limits,
      senderDataSecret,
      tree,
      chains,
      skipped: new Set(order),
    });
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

function resolveLimits(overrides: Partial<GroupLimits> | undefined): GroupLimits {
  const limits: GroupLimits = { ...groupLimits };
  if (overrides !== undefined) {
    for (const name of Object.keys(groupLimits) as Array<keyof GroupLimits>) {
      const value = overrides[name];
      if (value !== undefined) limits[name] = value;
    }
  }
  for (const name of Object.keys(limits) as Array<keyof GroupLimits>) {
    const value = limits[name];
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
      throw new RangeError(`limits.${name}: must be an integer in 0..2^32-1, got ${value}`);
    }
  }
  if (limits.paddingBlock === 0 || limits.paddingBlock % 64 !== 0) {
    throw new RangeError(
      `limits.paddingBlock: must be a positive multiple of 64, got ${limits.paddingBlock}`,
    );
  }
  return limits;
}

function copyRoster(roster: Roster): Roster {
  if (roster.length === 0) throw new RangeError("roster: must have at least one leaf");
  const copy: Array<RosterLeaf | undefined> = new Array(roster.length);
  for (let i = 0; i < roster.length; i++) {
    const leaf = roster[i];
    if (leaf !== undefined) {
      for (const name of ["identityKey", "signingKey", "prekey"] as const) {
        if (!(leaf[name] instanceof Uint8Array) || leaf[name].length !== 32) {
          throw new RangeError(`roster[${i}].${name}: expected 32 bytes`);
        }
      }
    }
    // Leaves are kept by reference: node's provider caches imported keys per array.
    copy[i] = leaf;
  }
  return Object.freeze(copy);
}

/** Protobuf size of a GroupMessage with version 1, an 8-byte key_id and 28-byte sender data. */
function encodedSize(contentType: number, ciphertextLength: number): number {
  const typeField = contentType === 0 ? 0 : 1 + varintLength(contentType);
  return 2 + 10 + typeField + 30 + 1 + varintLength(ciphertextLength) + ciphertextLength;
}

function varintLength(value: number): number {
  let length = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 128)) length++;
  return length;
}

function withSample(info: Uint8Array, sample: Uint8Array): Uint8Array {
  info.set(sample, info.length - sampleBytes);
  return info;
}

/** Writes the minimal LEB128 encoding of `value` at the start of `out`. */
function putVarint(out: Uint8Array, value: number): void {
  let rest = value;
  let at = 0;
  while (rest >= 0x80) {
    out[at++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  out[at] = rest;
}

/**
 * Reads a minimal LEB128 length (at most 4 bytes) from the start of `bytes`; `undefined` for an
 * overlong or non-minimal encoding, so that every content has exactly one plaintext.
 */
function readVarint(bytes: Uint8Array): { value: number; size: number } | undefined {
  let value = 0;
  for (let i = 0; i < 4 && i < bytes.length; i++) {
    const byte = bytes[i] as number;
    value |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) === 0) {
      if (i > 0 && byte === 0) return undefined;
      return { value, size: i + 1 };
    }
  }
  return undefined;
}
