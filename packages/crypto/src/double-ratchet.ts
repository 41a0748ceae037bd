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

import { concatBytes } from "@orgchat/base";
import { encodePairwiseMessage } from "@orgchat/wire";
import { constantTimeEqual } from "./constant-time.js";
import { DecryptionFailedError, StateCorruptedError } from "./errors.js";
import type { OwnerPrekeys } from "./owner-prekeys.js";
import { headerBytes, pairwiseMessageVersion, parsePairwiseMessage } from "./pairwise-header.js";
import {
  applyPairwiseChain,
  type PairwiseSessionState,
  pairwiseStaticDigest,
  readPairwiseState,
  writePairwiseChain,
  writePairwiseState,
} from "./pairwise-state-encoding.js";
import type { CryptoProvider } from "./provider.js";
import { chainMessageKey, kdfRk, messageKeys, nextChainKey } from "./ratchet-keys.js";
import { type DecryptPlan, planDecrypt } from "./ratchet-receive.js";
import { initialState, type RatchetState } from "./ratchet-state.js";
import { redactSecrets, wipe } from "./secret.js";
import type { X3dhHeaderFields, X3dhInitiation } from "./x3dh.js";

/** Which side of the X3DH a session is: the member initiates, the owner responds. */
export type PairwiseRole = "initiator" | "responder";

/** What {@link PairwiseSession.respond} returns. */
export interface PairwiseResponse {
  /** The owner's new session with the member. */
  readonly session: PairwiseSession;
  /** The plaintext of the initial message. */
  readonly plaintext: Uint8Array;
}

/**
 * The parts of a pairwise session's AD that a version 2 state leaves out, supplied by its reader
 * ({@link PairwiseSession.deserialize}).
 */
export interface KnownSessionKeys {
  /** `IK_M`, the member's identity key (32 bytes): AD's first 32 bytes. */
  readonly initiatorIdentityKey: Uint8Array;
  /** `IK_O ‖ IKdh_O` (64 bytes): AD's last 64 bytes. */
  readonly ownerKeys: Uint8Array;
}

/**
 * What to store after a change of a session kept as a base and chain records
 * ({@link PairwiseSession.serializeParts}): either `base`, or the chain records that moved (none,
 * one or both).
 */
export interface PairwiseSessionParts {
  /**
   * The whole state (version 1, or 2 with `omitKnownKeys`) when more than the chains changed since
   * the stored base (or none is known stored): store it and delete both chain records, in one batch.
   */
  readonly base: Uint8Array | undefined;
  /** Otherwise the sending chain's record (version 3) when it moved: store it beside the base. */
  readonly sending: Uint8Array | undefined;
  /** Otherwise the receiving chain's record (version 3) when it moved: store it beside the base. */
  readonly receiving: Uint8Array | undefined;
  /** Call once the batch holding these bytes committed (a base then becomes the stored one). */
  readonly stored: () => void;
}

/** The chain records of a stored session ({@link PairwiseSession.deserializeParts}). */
export interface PairwiseChainRecords {
  readonly sending?: Uint8Array | undefined;
  readonly receiving?: Uint8Array | undefined;
}

/** The base a session knows stored, and the counts its chain records are known stored at. */
interface StoredBase {
  /** SHA-256 of the base's state with its chains zeroed (`pairwiseStaticDigest`). */
  readonly staticDigest: Uint8Array;
  /** The base's own digest (its last 32 bytes). */
  readonly digest: Uint8Array;
  readonly omitKnownKeys: boolean;
  /** The serialization that produced it (0: read from the store). */
  readonly serial: number;
  /** `Ns` and `Nr` as stored (in the base or a chain record over it). */
  sendCount: number;
  receiveCount: number;
}

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
  /** The base known stored ({@link PairwiseSession.serializeParts}). */
  #storedBase: StoredBase | undefined;
  /** The last base serialized by `serializeParts`, stored or not. */
  #lastBaseSerial = 0;

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
    const message = parsePairwiseMessage(bytes);
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
    const messageKey = chainMessageKey(provider, chainKey);
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
      const next = nextChainKey(provider, chainKey);
      wipe(chainKey);
      state.sendingChainKey = next;
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
    const message = parsePairwiseMessage(bytes);
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
   * Version 2 (`omitKnownKeys`) is the same with `version = 2` and, instead of AD, only `IKdh_M`
   * (32 bytes): `IK_M` (the member's id) and `IK_O ‖ IKdh_O` (the same in every session of an
   * organization) are known to the owner that stores it, and supplied on
   * {@link PairwiseSession.deserialize}.
   *
   * @param options - `omitKnownKeys`: write version 2 (96 bytes fewer)
   * @returns the serialized session
   * @example
   * ```ts
   * await store.put(peerId, session.serialize());
   * ```
   */
  serialize(options?: { readonly omitKnownKeys?: boolean }): Uint8Array {
    return writePairwiseState(
      this.#provider,
      {
        role: this.role,
        associatedData: this.associatedData,
        initialEphemeralKey: this.initialEphemeralKey,
        ratchet: this.#state,
      },
      options?.omitKnownKeys === true,
    );
  }

  /**
   * The session as a base and two chain records, for a store that writes often: while only the
   * chains moved (`CKs`/`Ns` at every send, `CKr`/`Nr` at every receive in a chain), only the record
   * of each chain that moved (version 3, 46 bytes); after a DH ratchet step, a skipped key or a
   * change of the pending X3DH header, the whole state (the base). Layout of version 3 (integers
   * big-endian):
   *
   * ```
   * u8   version = 3
   * u8   chain: 0 sending (CKs, Ns), 1 receiving (CKr, Nr)
   * 32   chain key
   * u32  count (Ns or Nr)
   * 8    SHA-256(the 38 bytes above ‖ the base's last 32 bytes (its SHA-256))[0..8]
   * ```
   *
   * A chain record is bound to the base it was written over: the caller writes a base and deletes
   * both chain records in one batch, and calls `stored` once a batch committed. Chain records are
   * written only over a base known stored and when no later base is pending, so a failed or
   * reordered batch leads to a base write, never to a record over the wrong base; a chain is
   * written again until a batch holding it is known committed.
   *
   * @param options - `omitKnownKeys`: bases of version 2 (see {@link PairwiseSession.serialize})
   * @returns the bytes to store and the `stored` callback
   * @example
   * ```ts
   * const parts = session.serializeParts({ omitKnownKeys: true });
   * await store.batch(parts.base ? [put(base), del(sending), del(receiving)] : [...puts of the records]);
   * parts.stored();
   * ```
   */
  serializeParts(options?: { readonly omitKnownKeys?: boolean }): PairwiseSessionParts {
    const omitKnownKeys = options?.omitKnownKeys === true;
    const state = this.#asState();
    const ratchet = this.#state;
    const staticDigest = pairwiseStaticDigest(this.#provider, state, omitKnownKeys);
    const known = this.#storedBase;
    if (
      known !== undefined &&
      known.serial === this.#lastBaseSerial &&
      known.omitKnownKeys === omitKnownKeys &&
      constantTimeEqual(known.staticDigest, staticDigest)
    ) {
      const { sendCount, receiveCount } = ratchet;
      const sending =
        sendCount === known.sendCount
          ? undefined
          : writePairwiseChain(this.#provider, ratchet, "sending", known.digest);
      const receiving =
        receiveCount === known.receiveCount
          ? undefined
          : writePairwiseChain(this.#provider, ratchet, "receiving", known.digest);
      const stored = () => {
        // Counts only grow within a base: a batch committed late does not move them back.
        if (this.#storedBase !== known) return;
        known.sendCount = Math.max(known.sendCount, sendCount);
        known.receiveCount = Math.max(known.receiveCount, receiveCount);
      };
      return { base: undefined, sending, receiving, stored };
    }
    const base = writePairwiseState(this.#provider, state, omitKnownKeys);
    const serial = ++this.#lastBaseSerial;
    const digest = base.slice(base.length - 32);
    const { sendCount, receiveCount } = ratchet;
    const stored = () => {
      if (this.#storedBase !== undefined && this.#storedBase.serial >= serial) return;
      this.#storedBase = { staticDigest, digest, omitKnownKeys, serial, sendCount, receiveCount };
    };
    return { base, sending: undefined, receiving: undefined, stored };
  }

  /**
   * Restores a session stored by {@link PairwiseSession.serializeParts}: its base, and the chain
   * records over it. The base is known stored: the next `serializeParts` writes chain records when
   * only the chains moved.
   *
   * @param provider - crypto provider
   * @param base - the stored base (version 1 or 2)
   * @param chains - the stored chain records (version 3), those there are
   * @param known - `IK_M` and `IK_O ‖ IKdh_O`, needed for a version 2 base
   * @returns the session
   * @throws {@link StateCorruptedError} when any is truncated, altered, inconsistent or of an
   *   unknown version, or a chain record was not written over this base or is of the other chain
   * @throws {TypeError} when the bytes are not Uint8Arrays, or `known` holds keys of the wrong size
   * @example
   * ```ts
   * const session = PairwiseSession.deserializeParts(provider, base, { sending, receiving }, known);
   * ```
   */
  static deserializeParts(
    provider: CryptoProvider,
    base: Uint8Array,
    chains: PairwiseChainRecords,
    known?: KnownSessionKeys,
  ): PairwiseSession {
    const state = readPairwiseState(provider, base, known);
    const { sending, receiving } = chains;
    if (sending !== undefined)
      applyPairwiseChain(provider, state.ratchet, base, "sending", sending);
    if (receiving !== undefined) {
      applyPairwiseChain(provider, state.ratchet, base, "receiving", receiving);
    }
    const session = new PairwiseSession(
      provider,
      state.role,
      state.associatedData,
      state.initialEphemeralKey,
      state.ratchet,
    );
    const omitKnownKeys = base[0] === 2;
    session.#storedBase = {
      staticDigest: pairwiseStaticDigest(provider, state, omitKnownKeys),
      digest: base.slice(base.length - 32),
      omitKnownKeys,
      serial: 0,
      sendCount: state.ratchet.sendCount,
      receiveCount: state.ratchet.receiveCount,
    };
    return session;
  }

  #asState(): PairwiseSessionState {
    return {
      role: this.role,
      associatedData: this.associatedData,
      initialEphemeralKey: this.initialEphemeralKey,
      ratchet: this.#state,
    };
  }

  /**
   * Restores a session made by {@link PairwiseSession.serialize} (either version).
   *
   * @param provider - crypto provider
   * @param bytes - the serialized session
   * @param known - `IK_M` and `IK_O ‖ IKdh_O`, needed for version 2 bytes (ignored for version 1,
   *   which holds them)
   * @returns the session
   * @throws {@link StateCorruptedError} when the bytes are truncated, altered, inconsistent or of an
   *   unknown version, or of version 2 without `known`
   * @throws {TypeError} when `bytes` is not a Uint8Array, or `known` holds keys of the wrong size
   * @example
   * ```ts
   * const session = PairwiseSession.deserialize(provider, await store.get(peerId));
   * ```
   */
  static deserialize(
    provider: CryptoProvider,
    bytes: Uint8Array,
    known?: KnownSessionKeys,
  ): PairwiseSession {
    const state = readPairwiseState(provider, bytes, known);
    return new PairwiseSession(
      provider,
      state.role,
      state.associatedData,
      state.initialEphemeralKey,
      state.ratchet,
    );
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
