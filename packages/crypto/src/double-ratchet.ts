/**
 * The Double Ratchet of the owner ↔ member pairwise channel (docs/PROTOCOL.md, "Pairwise channel"):
 * Signal's published algorithm (https://signal.org/docs/specifications/doubleratchet/, §3) on the
 * X3DH shared key, with orgchat's KDFs:
 *
 * ```
 * KDF_RK(rk, dh)  = ExpandWithLabel(HKDF-Extract(salt = rk, ikm = dh), "ratchet root", "", 64)
 *                   → rk' = [0..32], ck = [32..64]
 * KDF_CK(ck)      : mk = HMAC(ck, 0x01), ck' = HMAC(ck, 0x02)
 * key ‖ nonce     = ExpandWithLabel(mk, "ratchet message", "", 44)      (AES-256-GCM, 32 + 12)
 * associated data = AD ‖ header                                          (AD from X3DH, 128 bytes)
 * ```
 *
 * `header` is the fixed-layout encoding of the message's header fields, all integers big-endian
 * (every key is exactly 32 bytes, so the layout is unambiguous):
 *
 * ```
 * u32 version ‖ ratchet_key (32) ‖ u32 message_number ‖ u32 previous_chain_length ‖
 * u8 0                                                                 (no X3DH header)
 * | u8 1 ‖ initiator_identity_key ‖ initiator_identity_dh_key ‖ ephemeral_key ‖ u32 signed_prekey_id
 *   ‖ initiator_signature (64)
 * ```
 *
 * Receiving follows the spec's `RatchetDecrypt` but never mutates state before authentication: the
 * candidate keys are derived aside and committed only once AES-GCM accepted the message, so a forged
 * or altered message leaves the session exactly as it was.
 *
 * @module
 */

import { concatBytes, toHex } from "@orgchat/base";
import { decodePairwiseMessage, encodePairwiseMessage, type PairwiseMessage } from "@orgchat/wire";
import { constantTimeEqual } from "./constant-time.js";
import {
  DecryptionFailedError,
  DuplicateMessageError,
  GenerationTooFarError,
  isInvalidPublicKeyError,
  StateCorruptedError,
} from "./errors.js";
import { expandWithLabel, u32 } from "./kdf.js";
import type { CryptoProvider, KeyPair } from "./provider.js";
import { redactSecrets, wipe } from "./secret.js";
import { appendDigest, checkDigest, StateReader, StateWriter } from "./state-bytes.js";
import type { OwnerPrekeys, X3dhHeaderFields, X3dhInitiation } from "./x3dh.js";

/**
 * Limits of a pairwise session (docs/PROTOCOL.md).
 */
export const pairwiseLimits = {
  /** Messages one received message may skip in one chain (the spec's MAX_SKIP). */
  maxSkip: 1000,
  /** Skipped message keys kept per session; the oldest is evicted (and wiped) beyond it. */
  maxSkippedKeys: 2000,
  /**
   * Earlier receiving chains remembered (ratchet key and length) so that a late duplicate from one
   * is reported as `DuplicateMessageError`; older ones are forgotten and such a message then fails
   * as `DecryptionFailedError`. Skipped keys of a forgotten chain stay usable.
   */
  maxPreviousChains: 64,
} as const;

/** Version of `PairwiseMessage` this module writes and accepts. */
export const pairwiseMessageVersion = 1;

/** Which side of the X3DH a session is: the member initiates, the owner responds. */
export type PairwiseRole = "initiator" | "responder";

/** What {@link PairwiseSession.respond} returns. */
export interface PairwiseResponse {
  /** The owner's new session with the member. */
  readonly session: PairwiseSession;
  /** The plaintext of the initial message. */
  readonly plaintext: Uint8Array;
}

interface SkippedKey {
  readonly ratchetKey: Uint8Array;
  readonly messageNumber: number;
  readonly messageKey: Uint8Array;
}

interface PreviousChain {
  readonly ratchetKey: Uint8Array;
  readonly length: number;
}

/** The spec's state variables (§3.2), named in words. */
interface RatchetState {
  /** RK */
  rootKey: Uint8Array;
  /** DHs */
  sendingKeyPair: KeyPair;
  /** DHr */
  receivingKey: Uint8Array | undefined;
  /** CKs (absent only for a responder before its first message, which never escapes `respond`) */
  sendingChainKey: Uint8Array | undefined;
  /** CKr */
  receivingChainKey: Uint8Array | undefined;
  /** Ns */
  sendCount: number;
  /** Nr */
  receiveCount: number;
  /** PN */
  previousSendCount: number;
  /** MKSKIPPED, insertion-ordered (oldest first), keyed by `hex(ratchet key):n`. */
  skipped: Map<string, SkippedKey>;
  previousChains: PreviousChain[];
  /** Initiator only: the X3DH signed prekey id while `PairwiseMessage.x3dh` is still attached. */
  pendingSignedPrekeyId: number | undefined;
  /** Initiator only: the X3DH header's initiator signature, attached with it. */
  pendingInitiatorSignature: Uint8Array | undefined;
}

/** A received message's parsed header. */
interface ReceivedHeader {
  readonly ratchetKey: Uint8Array;
  readonly messageNumber: number;
  readonly previousChainLength: number;
}

/** Keys derived for a received message, applied by `commit` only after authentication. */
interface DecryptPlan {
  readonly plaintext: Uint8Array;
  commit(): void;
}

const stateVersion = 1;
const roles = ["initiator", "responder"] as const;
const constant01 = Uint8Array.of(0x01);
const constant02 = Uint8Array.of(0x02);
const empty = new Uint8Array(0);

/**
 * One end of the owner ↔ member pairwise channel: a Double Ratchet session on the X3DH shared key.
 * Holds secrets: `String()`, `JSON.stringify` and `util.inspect` show `[redacted secret]`.
 *
 * Not safe for concurrent use from two places that each persist the result: serialize after every
 * `encrypt`/`decrypt` and keep one copy.
 *
 * @example
 * ```ts
 * // member
 * const alice = PairwiseSession.initiate(provider, x3dhInitiate(provider, { ...memberKeys, bundle, organizationKey }));
 * const first = alice.encrypt(requestBytes);
 * // owner
 * const { session: owner, plaintext } = PairwiseSession.respond(provider, prekeys, first);
 * const reply = owner.encrypt(welcomeBytes);
 * alice.decrypt(reply);
 * ```
 */
export class PairwiseSession {
  /** `"initiator"` (member) or `"responder"` (owner). */
  readonly role: PairwiseRole;
  /** `AD = IK_M ‖ IKdh_M ‖ IK_O ‖ IKdh_O` (public). */
  readonly associatedData: Uint8Array;
  /**
   * The initiator's X3DH ephemeral key `EK` (public). The owner routes later messages that still
   * carry the same `x3dh` header to this session rather than to {@link PairwiseSession.respond}.
   */
  readonly initialEphemeralKey: Uint8Array;
  readonly #provider: CryptoProvider;
  #state: RatchetState;

  private constructor(
    provider: CryptoProvider,
    role: PairwiseRole,
    associatedData: Uint8Array,
    initialEphemeralKey: Uint8Array,
    state: RatchetState,
  ) {
    this.role = role;
    this.associatedData = associatedData;
    this.initialEphemeralKey = initialEphemeralKey;
    this.#provider = provider;
    this.#state = state;
    redactSecrets(this, "PairwiseSession");
  }

  /**
   * Starts the member's session after X3DH (`x3dhInitiate`). Every message it sends carries the
   * X3DH header until it has decrypted one message from the owner. Consumes `x3dh`: its
   * `sharedKey` is wiped.
   *
   * @param provider - crypto provider (its RNG makes ratchet keys)
   * @param x3dh - the result of `x3dhInitiate`
   * @returns the session, ready to `encrypt`
   * @throws `InvalidPublicKeyError` when the signed prekey gives an all-zero DH
   * @example
   * ```ts
   * const session = PairwiseSession.initiate(provider, x3dhInitiate(provider, init));
   * publish(session.encrypt(new TextEncoder().encode("hello")));
   * ```
   */
  static initiate(provider: CryptoProvider, x3dh: X3dhInitiation): PairwiseSession {
    const sendingKeyPair = provider.x25519KeyPair();
    const dh = provider.x25519(sendingKeyPair.secretKey, x3dh.signedPrekey);
    const [rootKey, sendingChainKey] = kdfRk(provider, x3dh.sharedKey, dh);
    wipe(dh, x3dh.sharedKey);
    return new PairwiseSession(
      provider,
      "initiator",
      x3dh.associatedData.slice(),
      x3dh.header.ephemeralKey.slice(),
      initialState({
        rootKey,
        sendingKeyPair,
        receivingKey: x3dh.signedPrekey.slice(),
        sendingChainKey,
        pendingSignedPrekeyId: x3dh.header.signedPrekeyId,
        pendingInitiatorSignature: x3dh.header.initiatorSignature.slice(),
      }),
    );
  }

  /**
   * Starts the owner's session from a member's initial message (one carrying `x3dh`) and decrypts
   * it. The message's `EK` is recorded in `prekeys` only once the message authenticated, and a
   * second initial message with the same `EK` is refused: route later messages of the same member
   * (same `x3dh.ephemeralKey`, see {@link PairwiseSession.initialEphemeralKey}) to the session's
   * `decrypt`.
   *
   * The initiator's `IKdh_M` is bound to its claimed `IK_M` by nothing in X3DH itself: check that
   * `session.associatedData` names the member's registered keys before trusting who it is.
   *
   * @param provider - crypto provider
   * @param prekeys - the owner's prekeys (updated: `EK` recorded)
   * @param bytes - the encoded `PairwiseMessage`
   * @returns the session and the plaintext
   * @throws {@link DuplicateMessageError} when the initial message was already accepted (a replay)
   * @throws {@link DecryptionFailedError} when the message is malformed, has no `x3dh`, names a
   *   signed prekey we no longer hold, or does not authenticate
   * @throws {@link GenerationTooFarError} when its message number is over the skip limit
   * @throws `InvalidPublicKeyError` when an X3DH DH output is all zero
   * @example
   * ```ts
   * const { session, plaintext } = PairwiseSession.respond(provider, prekeys, bytes);
   * ```
   */
  static respond(
    provider: CryptoProvider,
    prekeys: OwnerPrekeys,
    bytes: Uint8Array,
  ): PairwiseResponse {
    const message = parseMessage(bytes);
    const x3dh = message.x3dh;
    if (x3dh === undefined) {
      throw new DecryptionFailedError({
        cause: new TypeError("bytes: not an initial message (no x3dh header)"),
      });
    }
    const agreement = prekeys.agree(x3dh);
    const state = initialState({
      rootKey: agreement.sharedKey,
      sendingKeyPair: agreement.signedPrekeyPair,
      receivingKey: undefined,
      sendingChainKey: undefined,
      pendingSignedPrekeyId: undefined,
      pendingInitiatorSignature: undefined,
    });
    let plan: DecryptPlan;
    try {
      plan = planDecrypt(provider, state, agreement.associatedData, message);
    } catch (error) {
      wipe(agreement.sharedKey, agreement.signedPrekeyPair.secretKey);
      throw error;
    }
    prekeys.acceptEphemeralKey(agreement.header);
    plan.commit();
    const session = new PairwiseSession(
      provider,
      "responder",
      agreement.associatedData,
      agreement.header.ephemeralKey,
      state,
    );
    return { session, plaintext: plan.plaintext };
  }

  /** The peer's Ed25519 identity key: the organization key for a member, the member id for the owner. */
  get remoteIdentityKey(): Uint8Array {
    return this.role === "initiator"
      ? this.associatedData.slice(64, 96)
      : this.associatedData.slice(0, 32);
  }

  /** True while the initiator still attaches the X3DH header (no message from the owner yet). */
  get awaitingReply(): boolean {
    return this.#state.pendingSignedPrekeyId !== undefined;
  }

  /** Skipped message keys held for messages not yet received (at most 2,000). */
  get skippedKeyCount(): number {
    return this.#state.skipped.size;
  }

  /**
   * Encrypts one message (the spec's `RatchetEncrypt`).
   *
   * @param plaintext - the bytes to send
   * @returns the encoded `PairwiseMessage`
   * @throws {RangeError} when the message would exceed the wire size limit, or the sending chain
   *   reached 2^32 - 1 messages (the state is unchanged)
   * @throws {TypeError} when `plaintext` is not a Uint8Array
   * @example
   * ```ts
   * const bytes = session.encrypt(new TextEncoder().encode("hi"));
   * ```
   */
  encrypt(plaintext: Uint8Array): Uint8Array {
    if (!(plaintext instanceof Uint8Array)) throw new TypeError("plaintext: expected a Uint8Array");
    const provider = this.#provider;
    const state = this.#state;
    const chainKey = state.sendingChainKey;
    if (chainKey === undefined) throw new StateCorruptedError("no sending chain");
    if (state.sendCount >= 0xffffffff) {
      throw new RangeError("plaintext: the sending chain is exhausted; wait for a reply");
    }
    const messageKey = provider.hmacSha256(chainKey, constant01);
    const header = {
      version: pairwiseMessageVersion,
      ...(state.pendingSignedPrekeyId === undefined
        ? {}
        : { x3dh: this.#pendingX3dh(state.pendingSignedPrekeyId) }),
      ratchetKey: state.sendingKeyPair.publicKey,
      messageNumber: state.sendCount,
      previousChainLength: state.previousSendCount,
    };
    const { key, nonce } = messageKeys(provider, messageKey);
    try {
      const aad = concatBytes(this.associatedData, headerBytes(header));
      const ciphertext = provider.aesGcmSeal(key, nonce, plaintext, aad);
      const bytes = encodePairwiseMessage({ ...header, ciphertext });
      const nextChainKey = provider.hmacSha256(chainKey, constant02);
      wipe(chainKey);
      state.sendingChainKey = nextChainKey;
      state.sendCount += 1;
      return bytes;
    } finally {
      wipe(messageKey, key, nonce);
    }
  }

  /**
   * Decrypts one message (the spec's `RatchetDecrypt`), in any order within the limits. On any
   * error the session is left exactly as it was.
   *
   * @param bytes - an encoded `PairwiseMessage`
   * @returns the plaintext
   * @throws {@link DecryptionFailedError} when the bytes are malformed, of another version, or do
   *   not authenticate (altered, forged, for another session)
   * @throws {@link DuplicateMessageError} when this message was already decrypted (or its skipped
   *   key was evicted, which cannot be told apart)
   * @throws {@link GenerationTooFarError} when it would skip more than 1,000 messages in a chain
   * @throws {TypeError} when `bytes` is not a Uint8Array
   * @example
   * ```ts
   * const plaintext = session.decrypt(bytes);
   * ```
   */
  decrypt(bytes: Uint8Array): Uint8Array {
    const message = parseMessage(bytes);
    const plan = planDecrypt(this.#provider, this.#state, this.associatedData, message);
    plan.commit();
    // The spec's "until a reply is received": the owner has the session, stop sending X3DH.
    this.#state.pendingSignedPrekeyId = undefined;
    this.#state.pendingInitiatorSignature = undefined;
    return plan.plaintext;
  }

  /**
   * Versioned bytes of the session, secrets included: store them encrypted. Layout, version 1
   * (integers big-endian, `[…]` present when its flag is set):
   *
   * ```
   * u8   version = 1
   * u8   role (0 initiator, 1 responder)
   * u8   flags: 1 DHr, 2 CKs, 4 CKr, 8 X3DH header pending
   * 128  AD
   * 32   initial ephemeral key EK
   * 32   RK
   * 32   DHs secret key (its public key is recomputed)
   * [32  DHr] [32 CKs] [32 CKr]
   * u32  Ns ‖ u32 Nr ‖ u32 PN
   * [u32 pending X3DH signed prekey id]          (the rest of the header is AD and EK)
   * u16  previous chains p; p × (32 ratchet key ‖ u32 length)
   * u16  skipped keys s (oldest first); s × (32 ratchet key ‖ u32 n ‖ 32 message key)
   * 32   SHA-256 of all the bytes above
   * ```
   *
   * @returns the serialized session
   * @example
   * ```ts
   * await store.put(peerId, session.serialize());
   * ```
   */
  serialize(): Uint8Array {
    const state = this.#state;
    const flags =
      (state.receivingKey ? 1 : 0) |
      (state.sendingChainKey ? 2 : 0) |
      (state.receivingChainKey ? 4 : 0) |
      (state.pendingSignedPrekeyId === undefined ? 0 : 8);
    const writer = new StateWriter();
    writer.u8(stateVersion);
    writer.u8(roles.indexOf(this.role));
    writer.u8(flags);
    writer.fixed(this.associatedData);
    writer.fixed(this.initialEphemeralKey);
    writer.fixed(state.rootKey);
    writer.fixed(state.sendingKeyPair.secretKey);
    if (state.receivingKey) writer.fixed(state.receivingKey);
    if (state.sendingChainKey) writer.fixed(state.sendingChainKey);
    if (state.receivingChainKey) writer.fixed(state.receivingChainKey);
    writer.u32(state.sendCount);
    writer.u32(state.receiveCount);
    writer.u32(state.previousSendCount);
    if (state.pendingSignedPrekeyId !== undefined) {
      writer.u32(state.pendingSignedPrekeyId);
      writer.fixed(state.pendingInitiatorSignature ?? new Uint8Array(64));
    }
    writer.u16(state.previousChains.length);
    for (const chain of state.previousChains) {
      writer.fixed(chain.ratchetKey);
      writer.u32(chain.length);
    }
    writer.u16(state.skipped.size);
    for (const skipped of state.skipped.values()) {
      writer.fixed(skipped.ratchetKey);
      writer.u32(skipped.messageNumber);
      writer.fixed(skipped.messageKey);
    }
    return appendDigest(this.#provider, writer.finish());
  }

  /**
   * Restores a session made by {@link PairwiseSession.serialize}.
   *
   * @param provider - crypto provider
   * @param bytes - the serialized session
   * @returns the session
   * @throws {@link StateCorruptedError} when the bytes are truncated, altered, inconsistent or of an
   *   unknown version
   * @throws {TypeError} when `bytes` is not a Uint8Array
   * @example
   * ```ts
   * const session = PairwiseSession.deserialize(provider, await store.get(peerId));
   * ```
   */
  static deserialize(provider: CryptoProvider, bytes: Uint8Array): PairwiseSession {
    if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes: expected a Uint8Array");
    if (bytes.length > 0 && bytes[0] !== stateVersion) {
      throw new StateCorruptedError(`unknown PairwiseSession state version ${bytes[0]}`);
    }
    const reader = new StateReader(checkDigest(provider, bytes, "PairwiseSession"));
    reader.u8();
    const role = roles[reader.u8()];
    if (role === undefined) throw new StateCorruptedError("unknown session role");
    const flags = reader.u8();
    if ((flags & ~0x0f) !== 0) throw new StateCorruptedError("unknown state flags");
    const associatedData = reader.fixed(128);
    const initialEphemeralKey = reader.fixed(32);
    const rootKey = reader.fixed(32);
    const sendingSecretKey = reader.fixed(32);
    const receivingKey = flags & 1 ? reader.fixed(32) : undefined;
    const sendingChainKey = flags & 2 ? reader.fixed(32) : undefined;
    const receivingChainKey = flags & 4 ? reader.fixed(32) : undefined;
    const sendCount = reader.u32();
    const receiveCount = reader.u32();
    const previousSendCount = reader.u32();
    const pendingSignedPrekeyId = flags & 8 ? reader.u32() : undefined;
    const pendingInitiatorSignature = flags & 8 ? reader.fixed(64) : undefined;
    if (sendingChainKey === undefined) throw new StateCorruptedError("no sending chain");
    if (receivingChainKey !== undefined && receivingKey === undefined) {
      throw new StateCorruptedError("a receiving chain without its ratchet key");
    }
    if (pendingSignedPrekeyId !== undefined && role !== "initiator") {
      throw new StateCorruptedError("a responder with a pending X3DH header");
    }
    const previousCount = reader.u16();
    if (previousCount > pairwiseLimits.maxPreviousChains) {
      throw new StateCorruptedError(`${previousCount} previous chains`);
    }
    const previousChains: PreviousChain[] = [];
    for (let i = 0; i < previousCount; i++) {
      previousChains.push({ ratchetKey: reader.fixed(32), length: reader.u32() });
    }
    const skippedCount = reader.u16();
    if (skippedCount > pairwiseLimits.maxSkippedKeys) {
      throw new StateCorruptedError(`${skippedCount} skipped keys`);
    }
    const skipped = new Map<string, SkippedKey>();
    for (let i = 0; i < skippedCount; i++) {
      const entry = {
        ratchetKey: reader.fixed(32),
        messageNumber: reader.u32(),
        messageKey: reader.fixed(32),
      };
      const id = skippedId(entry.ratchetKey, entry.messageNumber);
      if (skipped.has(id)) throw new StateCorruptedError("a skipped key is listed twice");
      skipped.set(id, entry);
    }
    reader.end();
    return new PairwiseSession(provider, role, associatedData, initialEphemeralKey, {
      rootKey,
      sendingKeyPair: {
        secretKey: sendingSecretKey,
        publicKey: provider.x25519PublicKey(sendingSecretKey),
      },
      receivingKey,
      sendingChainKey,
      receivingChainKey,
      sendCount,
      receiveCount,
      previousSendCount,
      skipped,
      previousChains,
      pendingSignedPrekeyId,
      pendingInitiatorSignature,
    });
  }

  #pendingX3dh(signedPrekeyId: number): X3dhHeaderFields {
    return {
      initiatorIdentityKey: this.associatedData.slice(0, 32),
      initiatorIdentityDhKey: this.associatedData.slice(32, 64),
      ephemeralKey: this.initialEphemeralKey,
      signedPrekeyId,
      initiatorSignature: this.#state.pendingInitiatorSignature ?? new Uint8Array(64),
    };
  }
}

/**
 * A session's state before its first message (§3.3 `RatchetInitAlice` / `RatchetInitBob`): the
 * given keys, no receiving chain, every counter at zero, nothing skipped.
 */
function initialState(
  keys: Pick<
    RatchetState,
    | "rootKey"
    | "sendingKeyPair"
    | "receivingKey"
    | "sendingChainKey"
    | "pendingSignedPrekeyId"
    | "pendingInitiatorSignature"
  >,
): RatchetState {
  return {
    ...keys,
    receivingChainKey: undefined,
    sendCount: 0,
    receiveCount: 0,
    previousSendCount: 0,
    skipped: new Map(),
    previousChains: [],
  };
}

/**
 * Decodes a `PairwiseMessage`; everything that is not a version-1 message is a
 * `DecryptionFailedError` (the one error for "not a message of this session").
 */
function parseMessage(bytes: Uint8Array): PairwiseMessage {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes: expected a Uint8Array");
  let message: PairwiseMessage;
  try {
    message = decodePairwiseMessage(bytes);
  } catch (cause) {
    throw new DecryptionFailedError({ cause });
  }
  if (message.version !== pairwiseMessageVersion) {
    throw new DecryptionFailedError({
      cause: new RangeError(`version: unsupported PairwiseMessage version ${message.version}`),
    });
  }
  return message;
}

/**
 * The receive side of the spec's `RatchetDecrypt` (with `TrySkippedMessageKeys`, `SkipMessageKeys`
 * and `DHRatchet`) computed aside from `state`: nothing in `state` changes until `commit()`.
 */
function planDecrypt(
  provider: CryptoProvider,
  state: RatchetState,
  associatedData: Uint8Array,
  message: PairwiseMessage,
): DecryptPlan {
  const header: ReceivedHeader = message;
  const aad = concatBytes(associatedData, headerBytes(message));
  const n = header.messageNumber;

  // TrySkippedMessageKeys
  const id = skippedId(header.ratchetKey, n);
  const stored = state.skipped.get(id);
  if (stored !== undefined) {
    const plaintext = open(provider, stored.messageKey, message.ciphertext, aad);
    return {
      plaintext,
      commit() {
        state.skipped.delete(id);
        wipe(stored.messageKey);
      },
    };
  }

  // Current receiving chain
  if (
    state.receivingKey !== undefined &&
    constantTimeEqual(header.ratchetKey, state.receivingKey)
  ) {
    if (n < state.receiveCount) {
      throw new DuplicateMessageError(`pairwise message ${n} of the current chain`);
    }
    const chainKey = state.receivingChainKey;
    // A receiving key with no chain is the initiator's placeholder (the owner's signed prekey):
    // the owner never sends under it.
    if (chainKey === undefined) throw new DecryptionFailedError();
    const walk = walkChain(provider, chainKey, state.receiveCount, n, header.ratchetKey);
    const plaintext = openOrWipe(provider, walk, message.ciphertext, aad);
    return {
      plaintext,
      commit() {
        wipe(chainKey);
        state.receivingChainKey = walk.chainKey;
        state.receiveCount = n + 1;
        storeSkipped(state, walk.skipped);
      },
    };
  }

  // An earlier receiving chain: its keys were used or are held as skipped keys.
  const previous = state.previousChains.find((chain) =>
    constantTimeEqual(chain.ratchetKey, header.ratchetKey),
  );
  if (previous !== undefined) {
    if (n < previous.length) {
      throw new DuplicateMessageError(`pairwise message ${n} of an earlier chain`);
    }
    throw new DecryptionFailedError();
  }

  // A new ratchet key: DHRatchet, after skipping the rest of the current receiving chain.
  const oldChainKey = state.receivingChainKey;
  const oldEnd = Math.max(state.receiveCount, header.previousChainLength);
  if (oldChainKey !== undefined && oldEnd - state.receiveCount > pairwiseLimits.maxSkip) {
    throw new GenerationTooFarError(
      `previous chain length ${header.previousChainLength}, ${state.receiveCount} received`,
    );
  }
  if (n > pairwiseLimits.maxSkip) {
    throw new GenerationTooFarError(`message ${n} opens a new chain`);
  }
  const secrets: Uint8Array[] = [];
  let oldSkipped: SkippedKey[] = [];
  let oldChainEndKey: Uint8Array | undefined;
  try {
    if (oldChainKey !== undefined && state.receivingKey !== undefined) {
      const old = skipOnly(provider, oldChainKey, state.receiveCount, oldEnd, state.receivingKey);
      oldSkipped = old.skipped;
      oldChainEndKey = old.chainKey;
      secrets.push(old.chainKey, ...old.skipped.map((key) => key.messageKey));
    }
    const receiveDh = ratchetDh(provider, state.sendingKeyPair.secretKey, header.ratchetKey);
    secrets.push(receiveDh);
    const [rootKey1, receivingChainKey] = kdfRk(provider, state.rootKey, receiveDh);
    secrets.push(rootKey1, receivingChainKey);
    const nextKeyPair = provider.x25519KeyPair();
    secrets.push(nextKeyPair.secretKey);
    const sendDh = ratchetDh(provider, nextKeyPair.secretKey, header.ratchetKey);
    secrets.push(sendDh);
    const [rootKey2, sendingChainKey] = kdfRk(provider, rootKey1, sendDh);
    secrets.push(rootKey2, sendingChainKey);
    const walk = walkChain(provider, receivingChainKey, 0, n, header.ratchetKey);
    secrets.push(walk.chainKey, walk.messageKey, ...walk.skipped.map((key) => key.messageKey));
    const plaintext = open(provider, walk.messageKey, message.ciphertext, aad);
    wipe(walk.messageKey, receiveDh, sendDh, rootKey1, receivingChainKey, oldChainEndKey);
    return {
      plaintext,
      commit() {
        if (state.receivingKey !== undefined && oldChainKey !== undefined) {
          state.previousChains.push({ ratchetKey: state.receivingKey, length: oldEnd });
          if (state.previousChains.length > pairwiseLimits.maxPreviousChains) {
            state.previousChains.shift();
          }
        }
        wipe(state.rootKey, state.sendingKeyPair.secretKey, state.sendingChainKey, oldChainKey);
        state.previousSendCount = state.sendCount;
        state.sendCount = 0;
        state.receiveCount = n + 1;
        state.receivingKey = header.ratchetKey.slice();
        state.receivingChainKey = walk.chainKey;
        state.rootKey = rootKey2;
        state.sendingKeyPair = nextKeyPair;
        state.sendingChainKey = sendingChainKey;
        storeSkipped(state, [...oldSkipped, ...walk.skipped]);
      },
    };
  } catch (error) {
    wipe(...secrets);
    throw error;
  }
}

/** X25519 on a received ratchet key; a small-order key cannot come from an honest peer. */
function ratchetDh(provider: CryptoProvider, secretKey: Uint8Array, publicKey: Uint8Array) {
  try {
    return provider.x25519(secretKey, publicKey);
  } catch (cause) {
    if (isInvalidPublicKeyError(cause)) throw new DecryptionFailedError({ cause });
    throw cause;
  }
}

interface ChainWalk {
  /** Chain key after the target message. */
  readonly chainKey: Uint8Array;
  /** Message key of the target message. */
  readonly messageKey: Uint8Array;
  /** Keys of the messages skipped on the way. */
  readonly skipped: SkippedKey[];
}

/**
 * KDF_CK from generation `from` (chain key `chainKey`) to message `to`, keeping the skipped keys.
 * `chainKey` itself is left untouched (the caller wipes it on commit).
 */
function walkChain(
  provider: CryptoProvider,
  chainKey: Uint8Array,
  from: number,
  to: number,
  ratchetKey: Uint8Array,
): ChainWalk {
  if (to - from > pairwiseLimits.maxSkip) {
    throw new GenerationTooFarError(`message ${to}, ${from} received in its chain`);
  }
  const head = skipOnly(provider, chainKey, from, to, ratchetKey);
  const messageKey = provider.hmacSha256(head.chainKey, constant01);
  const next = provider.hmacSha256(head.chainKey, constant02);
  if (head.chainKey !== chainKey) wipe(head.chainKey);
  return { chainKey: next, messageKey, skipped: head.skipped };
}

/** KDF_CK from `from` to `to` (exclusive), keeping every message key: `SkipMessageKeys`. */
function skipOnly(
  provider: CryptoProvider,
  chainKey: Uint8Array,
  from: number,
  to: number,
  ratchetKey: Uint8Array,
): { chainKey: Uint8Array; skipped: SkippedKey[] } {
  const skipped: SkippedKey[] = [];
  let current = chainKey;
  for (let i = from; i < to; i++) {
    skipped.push({
      ratchetKey: ratchetKey.slice(),
      messageNumber: i,
      messageKey: provider.hmacSha256(current, constant01),
    });
    const next = provider.hmacSha256(current, constant02);
    if (current !== chainKey) wipe(current);
    current = next;
  }
  return { chainKey: current === chainKey ? chainKey.slice() : current, skipped };
}

function openOrWipe(
  provider: CryptoProvider,
  walk: ChainWalk,
  ciphertext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  try {
    return open(provider, walk.messageKey, ciphertext, aad);
  } catch (error) {
    wipe(walk.chainKey, ...walk.skipped.map((key) => key.messageKey));
    throw error;
  } finally {
    wipe(walk.messageKey);
  }
}

function open(
  provider: CryptoProvider,
  messageKey: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  const { key, nonce } = messageKeys(provider, messageKey);
  try {
    return provider.aesGcmOpen(key, nonce, ciphertext, aad);
  } finally {
    wipe(key, nonce);
  }
}

/** Adds skipped keys (oldest first) and evicts the oldest beyond the session limit. */
function storeSkipped(state: RatchetState, keys: SkippedKey[]): void {
  for (const key of keys) state.skipped.set(skippedId(key.ratchetKey, key.messageNumber), key);
  for (const [id, key] of state.skipped) {
    if (state.skipped.size <= pairwiseLimits.maxSkippedKeys) break;
    wipe(key.messageKey);
    state.skipped.delete(id);
  }
}

/** `KDF_RK(rk, dh) = ExpandWithLabel(HKDF-Extract(rk, dh), "ratchet root", "", 64)`. */
function kdfRk(
  provider: CryptoProvider,
  rootKey: Uint8Array,
  dh: Uint8Array,
): [Uint8Array, Uint8Array] {
  const prk = provider.hkdfExtract(rootKey, dh);
  const out = expandWithLabel(provider, prk, "ratchet root", empty, 64);
  const result: [Uint8Array, Uint8Array] = [out.slice(0, 32), out.slice(32, 64)];
  wipe(prk, out);
  return result;
}

/** `key ‖ nonce = ExpandWithLabel(mk, "ratchet message", "", 44)`. */
function messageKeys(
  provider: CryptoProvider,
  messageKey: Uint8Array,
): { key: Uint8Array; nonce: Uint8Array } {
  const out = expandWithLabel(provider, messageKey, "ratchet message", empty, 44);
  const result = { key: out.slice(0, 32), nonce: out.slice(32, 44) };
  wipe(out);
  return result;
}

/** The header part of the associated data (layout in the module comment). */
function headerBytes(header: {
  readonly version: number;
  readonly x3dh?: X3dhHeaderFields | undefined;
  readonly ratchetKey: Uint8Array;
  readonly messageNumber: number;
  readonly previousChainLength: number;
}): Uint8Array {
  const parts = [
    u32(header.version),
    header.ratchetKey,
    u32(header.messageNumber),
    u32(header.previousChainLength),
  ];
  const x3dh = header.x3dh;
  if (x3dh === undefined) {
    parts.push(Uint8Array.of(0));
  } else {
    parts.push(
      Uint8Array.of(1),
      x3dh.initiatorIdentityKey,
      x3dh.initiatorIdentityDhKey,
      x3dh.ephemeralKey,
      u32(x3dh.signedPrekeyId),
      x3dh.initiatorSignature,
    );
  }
  return concatBytes(...parts);
}

function skippedId(ratchetKey: Uint8Array, messageNumber: number): string {
  return `${toHex(ratchetKey)}:${messageNumber}`;
}
