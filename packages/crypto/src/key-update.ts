import { concatBytes, equalBytes } from "@orgchat/base";
import {
  type EnvelopeSigner,
  type EnvelopeVerifier,
  type KeyUpdate,
  keysTopic,
  openEnvelope,
  sealEnvelope,
  wireLimits,
} from "@orgchat/wire";
import { constantTimeEqual } from "./constant-time.js";
import { DecryptionFailedError, InvalidPublicKeyError } from "./errors.js";
import { labelInfo, u64 } from "./kdf.js";
import { deriveKeyId, type GroupId, groupContext } from "./key-schedule.js";
import type { CryptoProvider } from "./provider.js";
import { checkBytes } from "./providers/checks.js";
import { wipe } from "./secret.js";

/**
 * Sizes of FLAT KeyUpdates (docs/PROTOCOL.md, "Re-keying").
 *
 * - `maxEntriesPerChunk`: 3,400 entries × 36 bytes = 122,400 bytes, which with the KeyUpdate header
 *   and the signed envelope (about 400 bytes with a 64-character channel id) stays within
 *   `maxSealedChunkBytes`.
 * - `maxSealedChunkBytes`: 120 KiB, leaving 30 KiB of The Waku Network's 150 KiB cap for the Waku
 *   envelope and an RLN proof (research §7.5).
 */
export const keyUpdateLimits = {
  /** Largest number of entries in one chunk (`wireLimits.maxKeyUpdateEntries`). */
  maxEntriesPerChunk: wireLimits.maxKeyUpdateEntries,
  /** Largest sealed chunk (SignedEnvelope bytes): 120 KiB. */
  maxSealedChunkBytes: 120 * 1024,
  /** One entry: hint (4) ‖ wrapped epoch secret (32). */
  entryBytes: 36,
  /** The hint at the start of every entry. */
  hintBytes: 4,
  /**
   * Largest number of chunks of one KeyUpdate (`wireLimits.maxKeyUpdateChunks`, 30): full chunks of
   * 3,400 entries carry the largest roster the wire allows (99,999 recipients), and a decoder
   * refuses a larger `chunk_count`. It was 1,000 until session 8 of issue #14, when the wire had no
   * bound and only the client held chunks up to it.
   */
  maxChunks: wireLimits.maxKeyUpdateChunks,
} as const;

/** The KeyUpdate format version this library writes and reads. */
export const keyUpdateVersion = 1;

const entryBytes = keyUpdateLimits.entryBytes;
const hintBytes = keyUpdateLimits.hintBytes;
const secretBytes = 32;
const okmBytes = hintBytes + secretBytes;

/** One recipient of a KeyUpdate: a remaining member of the new epoch. */
export interface KeyUpdateRecipient {
  /** The member's roster leaf (bookkeeping only: it is not part of the derivation). */
  readonly leaf: number;
  /** The member's current X25519 prekey `P_m`. */
  readonly prekey: Uint8Array;
  /** The member's leaf secret `L_m`, already evolved to the KeyUpdate's epoch. */
  readonly leafSecret: Uint8Array;
}

/**
 * One chunk of a KeyUpdate as plain fields: what {@link buildKeyUpdate} returns and what
 * `encodeKeyUpdate` / `sealEnvelope({ type: "key-update" })` take. A decoded `KeyUpdate` has the same
 * fields, so {@link openKeyUpdate} accepts either.
 */
export interface KeyUpdateChunk {
  readonly version: number;
  /** `""` for the organization-wide group, else the restricted channel's id. */
  readonly channelId: string;
  /** The epoch this update starts. */
  readonly epoch: bigint;
  /** `key_id` of the epoch it replaces. */
  readonly previousKeyId: Uint8Array;
  /** `key_id` of the new epoch: the commitment every unwrap is checked against. */
  readonly keyId: Uint8Array;
  /** `roster_hash` of the new epoch. */
  readonly rosterHash: Uint8Array;
  /** This chunk's ephemeral X25519 public key `E_pub`. */
  readonly ephemeralPublicKey: Uint8Array;
  readonly chunkIndex: number;
  readonly chunkCount: number;
  /** Concatenated 36-byte entries `hint ‖ wrap`, sorted by hint. */
  readonly entries: Uint8Array;
}

/** What {@link buildKeyUpdate} needs. */
export interface BuildKeyUpdateInit {
  readonly provider: CryptoProvider;
  readonly group: GroupId;
  /** The new epoch `e+1`. */
  readonly epoch: bigint;
  /** The fresh random `epoch_secret[e+1]` (32 bytes); not modified. */
  readonly epochSecret: Uint8Array;
  /** `key_id[e]` of the epoch being replaced (8 bytes). */
  readonly previousKeyId: Uint8Array;
  /** `roster_hash[e+1]` (32 bytes). */
  readonly rosterHash: Uint8Array;
  /** Every remaining member except the owner itself. */
  readonly recipients: readonly KeyUpdateRecipient[];
  /**
   * Entries per chunk, 1 to 3,400. A smaller size makes more chunks, at most
   * `keyUpdateLimits.maxChunks` (30): an update that needs more throws.
   * @default 3400
   */
  readonly maxEntriesPerChunk?: number;
}

const maxUint64 = (1n << 64n) - 1n;

function checkEpoch(epoch: unknown, argument: string): asserts epoch is bigint {
  if (typeof epoch !== "bigint") throw new TypeError(`${argument}: expected a bigint`);
  if (epoch < 0n || epoch > maxUint64) throw new RangeError(`${argument}: must be a uint64`);
}

/**
 * `labelInfo("key update", groupContext ‖ u64 epoch ‖ E_pub ‖ P_m, 36)` with `P_m` left as zeros:
 * the prefix is the same for every entry of a chunk, so it is built once and only the last 32 bytes
 * change per member.
 */
function keyUpdateInfo(group: GroupId, epoch: bigint, ephemeralPublicKey: Uint8Array): Uint8Array {
  const context = concatBytes(
    groupContext(group),
    u64(epoch),
    ephemeralPublicKey,
    new Uint8Array(32),
  );
  return labelInfo("key update", context, okmBytes);
}

/**
 * `okm = ExpandWithLabel(HKDF-Extract(salt = L_m, ikm = X25519(secret, public)), "key update", …, 36)`,
 * with `info` already holding `P_m` in its last 32 bytes.
 */
function keyUpdateOkm(
  provider: CryptoProvider,
  secretKey: Uint8Array,
  publicKey: Uint8Array,
  leafSecret: Uint8Array,
  info: Uint8Array,
): Uint8Array {
  const shared = provider.x25519(secretKey, publicKey);
  const prk = provider.hkdfExtract(leafSecret, shared);
  const okm = provider.hkdfExpand(prk, info, okmBytes);
  wipe(shared, prk);
  return okm;
}

function readHint(bytes: Uint8Array, offset: number): number {
  return (
    (((bytes[offset] ?? 0) << 24) |
      ((bytes[offset + 1] ?? 0) << 16) |
      ((bytes[offset + 2] ?? 0) << 8) |
      (bytes[offset + 3] ?? 0)) >>>
    0
  );
}

/**
 * Builds a FLAT KeyUpdate (docs/PROTOCOL.md, "Re-keying"): the new epoch secret wrapped for every
 * remaining member, in chunks of at most `maxEntriesPerChunk` entries, each with its own ephemeral
 * X25519 key `E`. Per recipient `m`:
 *
 * ```
 * ss    = X25519(E, P_m)
 * okm   = ExpandWithLabel(HKDF-Extract(salt = L_m[e+1], ikm = ss), "key update",
 *                         groupContext ‖ u64 (e+1) ‖ E_pub ‖ P_m, 36)
 * entry = okm[0..4] ‖ epoch_secret XOR okm[4..36]
 * ```
 *
 * Recipients are spread evenly over `ceil(N / maxEntriesPerChunk)` chunks; each chunk's entries are
 * sorted by hint. Cost: one X25519, one HKDF-Extract and one HKDF-Expand per recipient, one X25519
 * key generation per chunk and one sort per chunk; the `info` prefix is built once per chunk.
 *
 * @param init - the new epoch, its secret, the chain link and the recipients
 * @returns the chunks (empty when there are no recipients), ready for {@link sealKeyUpdate}
 * @throws {RangeError} / {TypeError} naming the argument for a malformed input (lengths, duplicate
 * *   leaves, a chunk size outside 1..3,400, more than 30 chunks: `keyUpdateLimits.maxChunks`)
 * @throws {@link InvalidPublicKeyError} when a recipient's prekey is of small order (refuse that
 *   member's keys before re-keying)
 * @example
 * ```ts
 * const chunks = buildKeyUpdate({
 *   provider, group, epoch: 8n, epochSecret, previousKeyId, rosterHash,
 *   recipients: [{ leaf: 1, prekey, leafSecret }],
 * });
 * const envelopes = await sealKeyUpdate({ group, chunks, clock: 42n, signer });
 * ```
 */
export function buildKeyUpdate(init: BuildKeyUpdateInit): KeyUpdateChunk[] {
  const { provider, group, epoch, epochSecret, previousKeyId, rosterHash, recipients } = init;
  const perChunk = init.maxEntriesPerChunk ?? keyUpdateLimits.maxEntriesPerChunk;
  checkEpoch(epoch, "epoch");
  checkBytes(epochSecret, 32, "epochSecret");
  checkBytes(previousKeyId, wireLimits.keyIdBytes, "previousKeyId");
  checkBytes(rosterHash, 32, "rosterHash");
  if (
    !Number.isInteger(perChunk) ||
    perChunk < 1 ||
    perChunk > keyUpdateLimits.maxEntriesPerChunk
  ) {
    throw new RangeError(
      `maxEntriesPerChunk: must be an integer 1..${keyUpdateLimits.maxEntriesPerChunk}, got ${perChunk}`,
    );
  }
  const seen = new Set<number>();
  for (const [index, recipient] of recipients.entries()) {
    checkBytes(recipient.prekey, 32, `recipients[${index}].prekey`);
    checkBytes(recipient.leafSecret, 32, `recipients[${index}].leafSecret`);
    if (!Number.isInteger(recipient.leaf) || recipient.leaf < 0 || recipient.leaf > 0xffffffff) {
      throw new RangeError(`recipients[${index}].leaf: must be a uint32`);
    }
    if (seen.has(recipient.leaf)) {
      throw new RangeError(`recipients[${index}].leaf: leaf ${recipient.leaf} is listed twice`);
    }
    seen.add(recipient.leaf);
  }
  const total = recipients.length;
  if (total === 0) return [];
  const chunkCount = Math.ceil(total / perChunk);
  if (chunkCount > keyUpdateLimits.maxChunks) {
    throw new RangeError(
      `recipients: ${total} members need more than ${keyUpdateLimits.maxChunks} chunks`,
    );
  }
  const keyId = deriveKeyId(provider, group, epoch, epochSecret);
  const chunks: KeyUpdateChunk[] = [];
  // Even split: the chunks differ in size by at most one entry.
  const base = Math.floor(total / chunkCount);
  const larger = total % chunkCount;
  let start = 0;
  for (let chunkIndex = 0; chunkIndex < chunkCount; chunkIndex++) {
    const size = base + (chunkIndex < larger ? 1 : 0);
    const ephemeral = provider.x25519KeyPair();
    const info = keyUpdateInfo(group, epoch, ephemeral.publicKey);
    const prekeyOffset = info.length - 32;
    const okms: Uint8Array[] = new Array(size);
    // hint × 4096 + position: sorts numerically as a Float64Array (exact below 2^53) without a
    // comparator callback, and carries the position along.
    const order = new Float64Array(size);
    try {
      for (let i = 0; i < size; i++) {
        const recipient = recipients[start + i] as KeyUpdateRecipient;
        info.set(recipient.prekey, prekeyOffset);
        let okm: Uint8Array;
        try {
          okm = keyUpdateOkm(
            provider,
            ephemeral.secretKey,
            recipient.prekey,
            recipient.leafSecret,
            info,
          );
        } catch (cause) {
          if (cause instanceof Error && cause.name === InvalidPublicKeyError.errorName) {
            throw new InvalidPublicKeyError(`prekey of leaf ${recipient.leaf} is of small order`, {
              cause,
            });
          }
          throw cause;
        }
        okms[i] = okm;
        order[i] = readHint(okm, 0) * 4096 + i;
      }
    } finally {
      wipe(ephemeral.secretKey);
    }
    order.sort();
    const entries = new Uint8Array(size * entryBytes);
    for (let position = 0; position < size; position++) {
      const i = (order[position] as number) % 4096;
      const okm = okms[i] as Uint8Array;
      const offset = position * entryBytes;
      entries[offset] = okm[0] as number;
      entries[offset + 1] = okm[1] as number;
      entries[offset + 2] = okm[2] as number;
      entries[offset + 3] = okm[3] as number;
      for (let b = 0; b < secretBytes; b++) {
        entries[offset + hintBytes + b] =
          (epochSecret[b] as number) ^ (okm[hintBytes + b] as number);
      }
      okm.fill(0);
    }
    chunks.push({
      version: keyUpdateVersion,
      channelId: group.channelId,
      epoch,
      previousKeyId: previousKeyId.slice(),
      keyId: keyId.slice(),
      rosterHash: rosterHash.slice(),
      ephemeralPublicKey: ephemeral.publicKey,
      chunkIndex,
      chunkCount,
      entries,
    });
    start += size;
  }
  return chunks;
}

/** What {@link openKeyUpdate} needs. */
export interface OpenKeyUpdateInit {
  readonly provider: CryptoProvider;
  readonly group: GroupId;
  /** One chunk, decoded from a verified envelope (see {@link openKeyUpdateEnvelope}). */
  readonly chunk: KeyUpdateChunk | KeyUpdate;
  /** The member's X25519 prekey secret (the key whose public half the owner used). */
  readonly prekeySecret: Uint8Array;
  /** The public prekey `P_m`; computed from `prekeySecret` when omitted (one more scalar multiplication). */
  readonly prekey?: Uint8Array;
  /** The member's leaf secret `L_m`, evolved to `chunk.epoch`. */
  readonly leafSecret: Uint8Array;
}

/**
 * Opens the member's entry of one KeyUpdate chunk: recomputes its hint, unwraps every entry carrying
 * that hint (hints are 4 bytes, so two members may share one) and keeps the secret whose `key_id`
 * equals the chunk's (docs/PROTOCOL.md, "Re-keying").
 *
 * Returns `undefined` when no entry carries our hint (the entry is in another chunk, or we are not a
 * recipient), and also when the chunk is for another channel (`chunk.channelId` ≠ `group.channelId`).
 * A chunk for another organization derives other hints, so it reads as "not for us" as well.
 *
 * @param init - the chunk and the member's keys
 * @returns the new epoch secret (32 bytes; the caller derives and then wipes it), or `undefined`
 * @throws {@link DecryptionFailedError} when entries carry our hint but none unwraps to a secret whose
 *   `key_id` is the chunk's (a tampered entry or `key_id`, or the wrong leaf secret on a hint collision)
 * @throws {@link InvalidPublicKeyError} when the chunk's ephemeral key is of small order
 * @throws {RangeError} / {TypeError} naming the argument for a malformed input
 * @example
 * ```ts
 * const epochSecret = openKeyUpdate({ provider, group, chunk, prekeySecret, leafSecret });
 * if (epochSecret !== undefined) secrets = EpochSecrets.derive(provider, group, chunk.epoch, epochSecret);
 * ```
 */
export function openKeyUpdate(init: OpenKeyUpdateInit): Uint8Array | undefined {
  const { provider, group, chunk } = init;
  const found = findHint(init);
  if (found === undefined) return undefined;
  const { okm, hint } = found;
  const entries = chunk.entries;
  try {
    let candidates = 0;
    for (let index = found.first; index < entries.length / entryBytes; index++) {
      const offset = index * entryBytes;
      if (readHint(entries, offset) !== hint) break;
      candidates++;
      const secret = new Uint8Array(secretBytes);
      for (let b = 0; b < secretBytes; b++) {
        secret[b] = (entries[offset + hintBytes + b] as number) ^ (okm[hintBytes + b] as number);
      }
      if (constantTimeEqual(deriveKeyId(provider, group, chunk.epoch, secret), chunk.keyId))
        return secret;
      wipe(secret);
    }
    if (candidates > 0) throw new DecryptionFailedError();
    return undefined;
  } finally {
    wipe(okm);
  }
}

/**
 * Whether an entry of `init.chunk` carries the member's hint: what {@link openKeyUpdate} would look
 * at, without unwrapping. One X25519 and two HKDF steps, then a binary search of the sorted hints; the
 * chunk need not be verified yet (a hint says where to look, never what the secret is).
 *
 * @param init - the chunk and the member's keys
 * @returns `true` when at least one entry carries our hint (it may still be another member's)
 * @throws {RangeError} / {TypeError} / {@link InvalidPublicKeyError} as {@link openKeyUpdate}
 */
export function keyUpdateHoldsHint(init: OpenKeyUpdateInit): boolean {
  const found = findHint(init);
  if (found === undefined) return false;
  wipe(found.okm);
  return (
    found.first < init.chunk.entries.length / entryBytes &&
    readHint(init.chunk.entries, found.first * entryBytes) === found.hint
  );
}

/**
 * Checks `init`, derives the member's okm for the chunk and finds the lower bound of its hint among
 * the sorted hints; `undefined` when the chunk is for another channel. The caller wipes `okm`.
 */
function findHint(
  init: OpenKeyUpdateInit,
): { okm: Uint8Array; hint: number; first: number } | undefined {
  const { provider, group, chunk, prekeySecret, leafSecret } = init;
  checkBytes(prekeySecret, 32, "prekeySecret");
  checkBytes(leafSecret, 32, "leafSecret");
  checkEpoch(chunk.epoch, "chunk.epoch");
  checkBytes(chunk.ephemeralPublicKey, 32, "chunk.ephemeralPublicKey");
  checkBytes(chunk.keyId, wireLimits.keyIdBytes, "chunk.keyId");
  if (chunk.version !== keyUpdateVersion) {
    throw new RangeError(`chunk.version: expected ${keyUpdateVersion}, got ${chunk.version}`);
  }
  const entries = chunk.entries;
  if (!(entries instanceof Uint8Array) || entries.length % entryBytes !== 0) {
    throw new RangeError(`chunk.entries: length must be a multiple of ${entryBytes}`);
  }
  if (chunk.channelId !== group.channelId) return undefined;
  const prekey = init.prekey ?? provider.x25519PublicKey(prekeySecret);
  checkBytes(prekey, 32, "prekey");
  const info = keyUpdateInfo(group, chunk.epoch, chunk.ephemeralPublicKey);
  info.set(prekey, info.length - 32);
  const okm = keyUpdateOkm(provider, prekeySecret, chunk.ephemeralPublicKey, leafSecret, info);
  const hint = readHint(okm, 0);
  // Lower bound of `hint` among the sorted hints.
  let low = 0;
  let high = entries.length / entryBytes;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (readHint(entries, middle * entryBytes) < hint) low = middle + 1;
    else high = middle;
  }
  return { okm, hint, first: low };
}

/** The `keys` content topic of a group: the organization's, or a restricted channel's. */
export function keyUpdateTopic(group: GroupId): string {
  return keysTopic(group.organizationId, group.channelId === "" ? undefined : group.channelId);
}

/** What {@link sealKeyUpdate} needs. */
export interface SealKeyUpdateInit {
  readonly group: GroupId;
  readonly chunks: readonly KeyUpdateChunk[];
  /** The envelope's Lamport clock (the same for every chunk of one update). */
  readonly clock: bigint;
  /** The organization key (see {@link ed25519EnvelopeSigner}), or a delegate's identity key. */
  readonly signer: EnvelopeSigner;
  /**
   * The signer is a delegate's identity key (docs/DELEGATION.md), not the organization key:
   * receivers accept it only when their state names the delegate (`committers`).
   * @default false: the signer must be the organization key
   */
  readonly delegate?: boolean;
}

/**
 * Seals every chunk in a `SignedEnvelope` of type `key-update` on the group's `keys` topic, signed by
 * the organization key, and checks each sealed chunk fits in 120 KiB.
 *
 * @returns one envelope per chunk, in chunk order, ready to publish on {@link keyUpdateTopic}
 * @throws {RangeError} when a sealed chunk exceeds 120 KiB, a chunk names another channel than
 *   `group`, or the envelope is refused by `sealEnvelope` (e.g. a signer that is not the
 *   organization key)
 * @example
 * ```ts
 * const signer = ed25519EnvelopeSigner(provider, organizationSecretKey);
 * const envelopes = await sealKeyUpdate({ group, chunks: removal.chunks, clock, signer });
 * for (const bytes of envelopes) await transport.publish(keyUpdateTopic(group), bytes);
 * ```
 */
export async function sealKeyUpdate(init: SealKeyUpdateInit): Promise<Uint8Array[]> {
  const contentTopic = keyUpdateTopic(init.group);
  if (init.delegate !== true && !equalBytes(init.signer.publicKey, init.group.organizationId)) {
    throw new RangeError(
      "signer: a KeyUpdate is signed by the organization key (or pass `delegate: true` for a delegate's)",
    );
  }
  const sealed: Uint8Array[] = [];
  for (const [index, chunk] of init.chunks.entries()) {
    if (chunk.channelId !== init.group.channelId) {
      throw new RangeError(`chunks[${index}].channelId: differs from the group's channel`);
    }
    const bytes = await sealEnvelope(
      {
        type: "key-update",
        organizationId: init.group.organizationId,
        clock: init.clock,
        contentTopic,
        message: chunk,
      },
      init.signer,
    );
    if (bytes.length > keyUpdateLimits.maxSealedChunkBytes) {
      throw new RangeError(
        `chunks[${index}]: sealed chunk is ${bytes.length} bytes, over the ${keyUpdateLimits.maxSealedChunkBytes}-byte limit; use fewer entries per chunk`,
      );
    }
    sealed.push(bytes);
  }
  return sealed;
}

/**
 * Opens a sealed KeyUpdate chunk received on the group's `keys` topic: checks the envelope (type
 * `key-update`, this organization, signed by the organization key or a delegate in
 * `committers`, this topic) and that the chunk
 * names this group's channel.
 *
 * @returns the decoded chunk, for `MemberGroup.applyKeyUpdate` or {@link openKeyUpdate}
 * @throws `DecodeError`, `EnvelopeMismatchError`, `InvalidSignatureError` from `openEnvelope`
 * @throws {RangeError} when the chunk names another channel than the topic it was signed for
 * @example
 * ```ts
 * const chunk = await openKeyUpdateEnvelope({ provider, group, bytes });
 * const outcome = member.applyKeyUpdate(chunk, now, { roster });
 * ```
 */
export async function openKeyUpdateEnvelope(init: {
  readonly provider: CryptoProvider;
  readonly group: GroupId;
  readonly bytes: Uint8Array;
  /** Delegates whose KeyUpdates the receiver accepts (`OpenEnvelopeOptions.committers`). @default none */
  readonly committers?: (signer: Uint8Array) => boolean;
}): Promise<KeyUpdate> {
  const opened = await openEnvelope(init.bytes, {
    contentTopic: keyUpdateTopic(init.group),
    organizationId: init.group.organizationId,
    accept: ["key-update"],
    verify: ed25519EnvelopeVerifier(init.provider),
    ...(init.committers === undefined ? {} : { committers: init.committers }),
  });
  if (opened.type !== "key-update") throw new RangeError("bytes: not a key-update envelope");
  if (opened.message.channelId !== init.group.channelId) {
    throw new RangeError("bytes: the KeyUpdate names another channel than its keys topic");
  }
  return opened.message;
}

/**
 * An envelope signer over the provider's Ed25519. The secret key stays in a closure: the returned
 * object prints only its public key.
 *
 * @param provider - the crypto provider
 * @param secretKey - the 32-byte Ed25519 secret key (for KeyUpdates: the organization key)
 */
export function ed25519EnvelopeSigner(
  provider: CryptoProvider,
  secretKey: Uint8Array,
): EnvelopeSigner {
  checkBytes(secretKey, 32, "secretKey");
  const key = secretKey.slice();
  return {
    scheme: "ed25519",
    publicKey: provider.ed25519PublicKey(key),
    // The envelope contract can wait: a provider's async signing (Web Crypto in browsers) if any.
    sign: (message) =>
      provider.ed25519SignAsync?.(key, message) ?? provider.ed25519Sign(key, message),
  };
}

/** An envelope verifier over the provider's strict Ed25519 verification. */
export function ed25519EnvelopeVerifier(provider: CryptoProvider): EnvelopeVerifier {
  return ({ scheme, publicKey, message, signature }) =>
    scheme === "ed25519" &&
    (provider.ed25519VerifyAsync?.(publicKey, message, signature) ??
      provider.ed25519Verify(publicKey, message, signature));
}
