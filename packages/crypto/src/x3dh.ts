/**
 * X3DH key agreement of the owner ↔ member pairwise channel (docs/PROTOCOL.md, "Pairwise channel"):
 * 53/WAKU2-X3DH adapted to X25519/Ed25519, without one-time prekeys.
 *
 * The owner publishes a `PrekeyBundle`-shaped bundle signed by the organization key; a member
 * verifies it ({@link verifyPrekeyBundle}), runs {@link x3dhInitiate} and starts a Double Ratchet
 * (`PairwiseSession.initiate`); the owner answers with {@link OwnerPrekeys} (`PairwiseSession.respond`).
 *
 * Without one-time prekeys an initial message could be replayed to the owner; the replay defence is
 * that the owner remembers every ephemeral key it accepted for as long as the signed prekey it was
 * used with is held, and refuses a repeat with `DuplicateMessageError`.
 *
 * @module
 */

import { concatBytes, fromHex, toHex } from "@orgchat/base";
import { constantTimeEqual } from "./constant-time.js";
import {
  DecryptionFailedError,
  DuplicateMessageError,
  InvalidPublicKeyError,
  StateCorruptedError,
} from "./errors.js";
import { expandWithLabel, u32 } from "./kdf.js";
import type { CryptoProvider, KeyPair } from "./provider.js";
import { redactSecrets, wipe } from "./secret.js";
import { appendDigest, checkDigest, StateReader, StateWriter } from "./state-bytes.js";

const encoder = new TextEncoder();

/** Domain label that starts the prekey bundle signing input (docs/PROTOCOL.md). */
export const prekeyBundleSigningLabel = "orgchat v1 prekey bundle";
const bundleLabelBytes = encoder.encode(prekeyBundleSigningLabel);

/**
 * The fields of an owner's prekey bundle, as in `orgchat.v1.PrekeyBundle`: pass it to
 * `encodePrekeyBundle` from `@orgchat/wire`, and pass a decoded `PrekeyBundle` wherever this type is
 * expected.
 */
export interface PrekeyBundleFields {
  /** Ed25519 identity key `IK_O`: the organization key. */
  readonly identityKey: Uint8Array;
  /** X25519 identity DH key `IKdh_O`. */
  readonly identityDhKey: Uint8Array;
  /** X25519 signed prekey `SPK_O`. */
  readonly signedPrekey: Uint8Array;
  /** Id of the signed prekey (u32), echoed by initiators in their {@link X3dhHeaderFields}. */
  readonly signedPrekeyId: number;
  /** `Ed25519(IK_O, "orgchat v1 prekey bundle" ‖ IKdh_O ‖ SPK_O ‖ u32 id)`. */
  readonly signature: Uint8Array;
}

/**
 * The fields of an X3DH initial header, as in `orgchat.v1.X3dhHeader` (`PairwiseMessage.x3dh`).
 */
export interface X3dhHeaderFields {
  /** Ed25519 identity key `IK_M` of the initiator (the member id). */
  readonly initiatorIdentityKey: Uint8Array;
  /** X25519 identity DH key `IKdh_M` of the initiator. */
  readonly initiatorIdentityDhKey: Uint8Array;
  /** The initiator's ephemeral X25519 public key `EK`. */
  readonly ephemeralKey: Uint8Array;
  /** Id of the owner's signed prekey the initiator used. */
  readonly signedPrekeyId: number;
  /**
   * Ed25519 signature by `IK_M` over {@link x3dhInitiatorSigningInput}: proves the initiator holds the
   * identity it claims and binds `IKdh_M` and `EK` to it and to this owner.
   */
  readonly initiatorSignature: Uint8Array;
}

/** Domain label of the initiator's signature. */
export const x3dhInitiatorSigningLabel = "orgchat v1 x3dh initiator";

/**
 * What the initiator signs with its identity key:
 * `"orgchat v1 x3dh initiator" ‖ IK_M ‖ IKdh_M ‖ EK ‖ IK_O ‖ IKdh_O ‖ u32 spk_id`.
 *
 * Without it nothing would tie `IKdh_M` to `IK_M`: anyone could claim any member id with their own
 * DH key (X3DH authenticates DH keys, and the member's identity is an Ed25519 key).
 */
export function x3dhInitiatorSigningInput(
  header: Omit<X3dhHeaderFields, "initiatorSignature">,
  ownerIdentityKey: Uint8Array,
  ownerIdentityDhKey: Uint8Array,
): Uint8Array {
  return concatBytes(
    initiatorLabelBytes,
    header.initiatorIdentityKey,
    header.initiatorIdentityDhKey,
    header.ephemeralKey,
    ownerIdentityKey,
    ownerIdentityDhKey,
    u32(header.signedPrekeyId),
  );
}

const initiatorLabelBytes = new TextEncoder().encode(x3dhInitiatorSigningLabel);

/** What {@link x3dhInitiate} needs. */
export interface X3dhInitiatorInit {
  /** The member's Ed25519 identity key pair `IK_M`: its secret key signs the X3DH header. */
  readonly identityKeyPair: KeyPair;
  /** The member's X25519 identity DH key pair `IKdh_M`. */
  readonly identityDhKeyPair: KeyPair;
  /** The owner's bundle, as fetched (it is verified here). */
  readonly bundle: PrekeyBundleFields;
  /** The organization key the bundle must be signed by (`IK_O`), known from the invitation. */
  readonly organizationKey: Uint8Array;
}

/**
 * Result of the initiator's half of X3DH. Holds the shared key: it never prints it.
 * `PairwiseSession.initiate` consumes it (and wipes `sharedKey`).
 */
export interface X3dhInitiation {
  /** Goes in `PairwiseMessage.x3dh` of every message until the owner replies. */
  readonly header: X3dhHeaderFields;
  /** `SK`, 32 bytes: the Double Ratchet's first root key. */
  readonly sharedKey: Uint8Array;
  /** `AD = IK_M ‖ IKdh_M ‖ IK_O ‖ IKdh_O` (128 bytes): bound to every pairwise message. */
  readonly associatedData: Uint8Array;
  /** The owner's signed prekey `SPK_O`: the Double Ratchet's first remote ratchet key. */
  readonly signedPrekey: Uint8Array;
}

/**
 * Result of the responder's half of X3DH ({@link OwnerPrekeys.agree}). Holds secrets: it never
 * prints them. `PairwiseSession.respond` consumes it (and wipes the secrets).
 */
export interface X3dhAgreement {
  readonly header: X3dhHeaderFields;
  /** `SK`, 32 bytes. */
  readonly sharedKey: Uint8Array;
  /** `AD = IK_M ‖ IKdh_M ‖ IK_O ‖ IKdh_O` (128 bytes). */
  readonly associatedData: Uint8Array;
  /** A copy of the signed prekey pair: the responder's first ratchet key pair. */
  readonly signedPrekeyPair: KeyPair;
}

/**
 * The bytes the prekey bundle signature covers:
 * `"orgchat v1 prekey bundle" ‖ IKdh_O ‖ SPK_O ‖ u32 id` (docs/PROTOCOL.md).
 *
 * @param identityDhKey - `IKdh_O`, 32 bytes
 * @param signedPrekey - `SPK_O`, 32 bytes
 * @param signedPrekeyId - u32 id of the signed prekey
 * @returns the signing input
 * @throws {RangeError} when `signedPrekeyId` is not a u32
 * @example
 * ```ts
 * const input = prekeyBundleSigningInput(bundle.identityDhKey, bundle.signedPrekey, bundle.signedPrekeyId);
 * provider.ed25519Verify(bundle.identityKey, input, bundle.signature);
 * ```
 */
export function prekeyBundleSigningInput(
  identityDhKey: Uint8Array,
  signedPrekey: Uint8Array,
  signedPrekeyId: number,
): Uint8Array {
  checkU32(signedPrekeyId, "signedPrekeyId");
  return concatBytes(bundleLabelBytes, identityDhKey, signedPrekey, u32(signedPrekeyId));
}

/**
 * Checks that a prekey bundle is the organization's: the identity key is `expectedIdentityKey`,
 * every key is 32 bytes and the signature verifies (strict RFC 8032).
 *
 * A bad signature is reported as {@link InvalidPublicKeyError}: the signed prekey is then a key we
 * must not use, and the error's advice ("refuse the key and whatever carried it") is the right one.
 *
 * @param provider - crypto provider
 * @param bundle - the bundle as received (a decoded `PrekeyBundle` or {@link PrekeyBundleFields})
 * @param expectedIdentityKey - the organization key `IK_O` (32 bytes)
 * @throws {@link InvalidPublicKeyError} when the bundle is for another key, a key has the wrong
 *   length, or the signature does not verify
 * @throws {RangeError} when `expectedIdentityKey` is not 32 bytes
 * @example
 * ```ts
 * const bundle = decodePrekeyBundle(bytes);
 * verifyPrekeyBundle(provider, bundle, organizationKey); // throws if forged
 * ```
 */
export function verifyPrekeyBundle(
  provider: CryptoProvider,
  bundle: PrekeyBundleFields,
  expectedIdentityKey: Uint8Array,
): void {
  checkKey(expectedIdentityKey, "expectedIdentityKey");
  if (!constantTimeEqual(bundle.identityKey, expectedIdentityKey)) {
    throw new InvalidPublicKeyError("the prekey bundle is signed for another identity key");
  }
  if (bundle.identityDhKey.length !== 32 || bundle.signedPrekey.length !== 32) {
    throw new InvalidPublicKeyError("a prekey bundle key is not 32 bytes");
  }
  if (!isU32(bundle.signedPrekeyId)) {
    throw new InvalidPublicKeyError("the prekey bundle's signed prekey id is not a u32");
  }
  const input = prekeyBundleSigningInput(
    bundle.identityDhKey,
    bundle.signedPrekey,
    bundle.signedPrekeyId,
  );
  if (!provider.ed25519Verify(bundle.identityKey, input, bundle.signature)) {
    throw new InvalidPublicKeyError("the prekey bundle signature does not verify");
  }
}

/**
 * The initiator's (member's) half of X3DH: verifies the bundle, makes an ephemeral key `EK` and
 * derives `SK` (docs/PROTOCOL.md):
 *
 * ```
 * DH1 = X25519(IKdh_M, SPK_O)   DH2 = X25519(EK, IKdh_O)   DH3 = X25519(EK, SPK_O)
 * AD  = IK_M ‖ IKdh_M ‖ IK_O ‖ IKdh_O
 * SK  = ExpandWithLabel(HKDF-Extract(32 zero bytes, 32×0xFF ‖ DH1 ‖ DH2 ‖ DH3), "x3dh", AD, 32)
 * ```
 *
 * `EK`'s secret is wiped before returning. Usually followed by `PairwiseSession.initiate`.
 *
 * @param provider - crypto provider (its RNG makes `EK`)
 * @param init - the member's keys, the bundle and the organization key
 * @returns the header to send, `SK`, `AD` and the signed prekey (a redacted object)
 * @throws {@link InvalidPublicKeyError} when the bundle does not verify or a DH output is all zero
 * @throws {RangeError} when one of the member's keys is not 32 bytes
 * @example
 * ```ts
 * const x3dh = x3dhInitiate(provider, {
 *   identityKey: member.identityKey,
 *   identityDhKeyPair: member.identityDhKeyPair,
 *   bundle: decodePrekeyBundle(bundleBytes),
 *   organizationKey,
 * });
 * const session = PairwiseSession.initiate(provider, x3dh);
 * ```
 */
export function x3dhInitiate(provider: CryptoProvider, init: X3dhInitiatorInit): X3dhInitiation {
  checkKey(init.identityKeyPair.secretKey, "identityKeyPair.secretKey");
  checkKey(init.identityKeyPair.publicKey, "identityKeyPair.publicKey");
  const identityKey = init.identityKeyPair.publicKey;
  checkKey(init.identityDhKeyPair.secretKey, "identityDhKeyPair.secretKey");
  checkKey(init.identityDhKeyPair.publicKey, "identityDhKeyPair.publicKey");
  verifyPrekeyBundle(provider, init.bundle, init.organizationKey);
  const { bundle } = init;
  const ephemeral = provider.x25519KeyPair();
  const dhs: Uint8Array[] = [];
  try {
    dhs.push(provider.x25519(init.identityDhKeyPair.secretKey, bundle.signedPrekey));
    dhs.push(provider.x25519(ephemeral.secretKey, bundle.identityDhKey));
    dhs.push(provider.x25519(ephemeral.secretKey, bundle.signedPrekey));
    const associatedData = concatBytes(
      identityKey,
      init.identityDhKeyPair.publicKey,
      bundle.identityKey,
      bundle.identityDhKey,
    );
    const sharedKey = deriveSharedKey(provider, dhs, associatedData);
    const unsigned = {
      initiatorIdentityKey: identityKey.slice(),
      initiatorIdentityDhKey: init.identityDhKeyPair.publicKey.slice(),
      ephemeralKey: ephemeral.publicKey,
      signedPrekeyId: bundle.signedPrekeyId,
    };
    const initiatorSignature = provider.ed25519Sign(
      init.identityKeyPair.secretKey,
      x3dhInitiatorSigningInput(unsigned, bundle.identityKey, bundle.identityDhKey),
    );
    const result: X3dhInitiation = {
      header: { ...unsigned, initiatorSignature },
      sharedKey,
      associatedData,
      signedPrekey: bundle.signedPrekey.slice(),
    };
    redactSecrets(result, "X3dhInitiation");
    return result;
  } finally {
    wipe(ephemeral.secretKey, ...dhs);
  }
}

const ffPrefix = new Uint8Array(32).fill(0xff);
const zeroSalt = new Uint8Array(32);

function deriveSharedKey(
  provider: CryptoProvider,
  dhs: Uint8Array[],
  associatedData: Uint8Array,
): Uint8Array {
  const ikm = concatBytes(ffPrefix, ...dhs);
  const prk = provider.hkdfExtract(zeroSalt, ikm);
  try {
    return expandWithLabel(provider, prk, "x3dh", associatedData, 32);
  } finally {
    wipe(ikm, prk);
  }
}

/** What {@link OwnerPrekeys.create} needs. */
export interface OwnerPrekeysInit {
  /** The organization key's Ed25519 secret key (32-byte seed): signs the bundles. */
  readonly identitySecretKey: Uint8Array;
  /**
   * The owner's X25519 identity DH secret key `IKdh_O`; a new one is made when absent. It must stay
   * the same for the organization's lifetime (members bind it into `AD`), so persist the state with
   * {@link OwnerPrekeys.serialize}.
   */
  readonly identityDhSecretKey?: Uint8Array;
  /** Current time in milliseconds (injected clock): when the first signed prekey was made. */
  readonly now: number;
  /**
   * Id of the first signed prekey; later ones count up from it (mod 2^32).
   * @default 1
   */
  readonly firstSignedPrekeyId?: number;
}

/** One held signed prekey and the ephemeral keys accepted with it. */
interface SignedPrekey {
  readonly id: number;
  readonly createdAt: number;
  readonly keyPair: KeyPair;
  readonly signature: Uint8Array;
  /** Hex of every `EK` accepted with this prekey: the replay defence. */
  readonly acceptedEphemeralKeys: Set<string>;
}

const ownerPrekeysVersion = 1;

/**
 * The owner's X3DH keys: the organization key (Ed25519, signs bundles), the X25519 identity DH key
 * `IKdh_O`, and the signed prekeys: the current one and at most one previous one, so that a member
 * who fetched the bundle just before a rotation still gets through. Holds secrets: never prints them.
 *
 * It also holds the replay defence: every `EK` accepted per signed prekey, deleted with the prekey.
 *
 * @example
 * ```ts
 * const prekeys = OwnerPrekeys.create(provider, { identitySecretKey: orgSecret, now: clock.now() });
 * publish(encodePrekeyBundle(prekeys.bundle()));
 * // later, on the clock's schedule:
 * prekeys.rotate(clock.now());
 * // on an initial PairwiseMessage:
 * const { session, plaintext } = PairwiseSession.respond(provider, prekeys, bytes);
 * ```
 */
export class OwnerPrekeys {
  /** The organization key `IK_O` (Ed25519 public key). */
  readonly identityKey: Uint8Array;
  /** `IKdh_O` (X25519 public key). */
  readonly identityDhKey: Uint8Array;
  readonly #provider: CryptoProvider;
  readonly #identitySecretKey: Uint8Array;
  readonly #identityDhSecretKey: Uint8Array;
  /** Current first, then at most one previous. */
  #prekeys: SignedPrekey[];

  private constructor(
    provider: CryptoProvider,
    identitySecretKey: Uint8Array,
    identityDhSecretKey: Uint8Array,
    prekeys: SignedPrekey[],
  ) {
    this.#provider = provider;
    this.#identitySecretKey = identitySecretKey;
    this.#identityDhSecretKey = identityDhSecretKey;
    this.identityKey = provider.ed25519PublicKey(identitySecretKey);
    this.identityDhKey = provider.x25519PublicKey(identityDhSecretKey);
    this.#prekeys = prekeys;
    redactSecrets(this, "OwnerPrekeys");
  }

  /**
   * Makes the owner's prekeys with a first signed prekey. The secret keys passed in are copied.
   *
   * @param provider - crypto provider
   * @param init - the organization key, optionally the identity DH key, the time
   * @returns the owner's prekeys
   * @throws {RangeError} when a key is not 32 bytes, `now` is not finite or the id is not a u32
   * @example
   * ```ts
   * const prekeys = OwnerPrekeys.create(provider, { identitySecretKey: orgSecret, now: 0 });
   * ```
   */
  static create(provider: CryptoProvider, init: OwnerPrekeysInit): OwnerPrekeys {
    checkKey(init.identitySecretKey, "identitySecretKey");
    checkNow(init.now);
    const firstId = init.firstSignedPrekeyId ?? 1;
    checkU32(firstId, "firstSignedPrekeyId");
    let identityDhSecretKey: Uint8Array;
    if (init.identityDhSecretKey === undefined) {
      identityDhSecretKey = provider.x25519KeyPair().secretKey;
    } else {
      checkKey(init.identityDhSecretKey, "identityDhSecretKey");
      identityDhSecretKey = init.identityDhSecretKey.slice();
    }
    const identitySecretKey = init.identitySecretKey.slice();
    const first = makeSignedPrekey(
      provider,
      identitySecretKey,
      provider.x25519PublicKey(identityDhSecretKey),
      firstId,
      init.now,
      provider.x25519KeyPair(),
    );
    return new OwnerPrekeys(provider, identitySecretKey, identityDhSecretKey, [first]);
  }

  /** Id of the current signed prekey (the one {@link OwnerPrekeys.bundle} publishes). */
  get signedPrekeyId(): number {
    return this.#current().id;
  }

  /** When the current signed prekey was made (ms, from the injected clock). */
  get signedPrekeyCreatedAt(): number {
    return this.#current().createdAt;
  }

  /** Ids of the signed prekeys held, current first (one or two). */
  get signedPrekeyIds(): readonly number[] {
    return this.#prekeys.map((prekey) => prekey.id);
  }

  /**
   * How many ephemeral keys were accepted with a held signed prekey (0 for an unknown id). Every
   * one is kept until the prekey is deleted: rotate sooner if this grows large.
   *
   * @param signedPrekeyId - id of a held signed prekey
   */
  acceptedEphemeralKeyCount(signedPrekeyId: number): number {
    return this.#find(signedPrekeyId)?.acceptedEphemeralKeys.size ?? 0;
  }

  /**
   * The current bundle to publish (for `encodePrekeyBundle`).
   *
   * @returns the bundle fields, signature included
   * @example
   * ```ts
   * const bytes = encodePrekeyBundle(prekeys.bundle());
   * ```
   */
  bundle(): PrekeyBundleFields {
    const current = this.#current();
    return {
      identityKey: this.identityKey.slice(),
      identityDhKey: this.identityDhKey.slice(),
      signedPrekey: current.keyPair.publicKey.slice(),
      signedPrekeyId: current.id,
      signature: current.signature.slice(),
    };
  }

  /**
   * Makes a new signed prekey and keeps exactly one old one (the one current until now). Older
   * prekeys are deleted (their secrets wiped) and their accepted-ephemeral-key caches with them:
   * initial messages to them fail from now on.
   *
   * @param now - current time in ms (injected clock)
   * @returns the new bundle to publish
   * @throws {RangeError} when `now` is not a finite number
   * @example
   * ```ts
   * publish(encodePrekeyBundle(prekeys.rotate(clock.now())));
   * ```
   */
  rotate(now: number): PrekeyBundleFields {
    checkNow(now);
    const current = this.#current();
    const next = makeSignedPrekey(
      this.#provider,
      this.#identitySecretKey,
      this.identityDhKey,
      (current.id + 1) >>> 0,
      now,
      this.#provider.x25519KeyPair(),
    );
    for (const old of this.#prekeys.slice(1)) {
      wipe(old.keyPair.secretKey);
      old.acceptedEphemeralKeys.clear();
    }
    this.#prekeys = [next, current];
    return this.bundle();
  }

  /**
   * The responder's half of X3DH for an initial header: finds the signed prekey, refuses a
   * replayed `EK`, and derives `SK` and `AD`. It does **not** record `EK`: call
   * {@link OwnerPrekeys.acceptEphemeralKey} once the first message has authenticated, so that a
   * forged message carrying someone's `EK` cannot block the genuine one. `PairwiseSession.respond`
   * does both.
   *
   * @param header - `PairwiseMessage.x3dh` of the received message
   * @returns `SK`, `AD` and a copy of the signed prekey pair (a redacted object)
   * @throws {@link DuplicateMessageError} when this `EK` was already accepted with that prekey
   * @throws {@link DecryptionFailedError} when no held signed prekey has the header's id (rotated
   *   out or never issued): the message cannot be decrypted with any key we hold
   * @throws {@link InvalidPublicKeyError} when a header key is not 32 bytes or a DH output is all zero
   */
  agree(header: X3dhHeaderFields): X3dhAgreement {
    const prekey = this.#find(header.signedPrekeyId);
    if (prekey === undefined) {
      throw new DecryptionFailedError({
        cause: new RangeError(
          `signedPrekeyId: no signed prekey ${header.signedPrekeyId} is held (rotated out or never issued)`,
        ),
      });
    }
    if (
      header.initiatorIdentityKey.length !== 32 ||
      header.initiatorIdentityDhKey.length !== 32 ||
      header.ephemeralKey.length !== 32
    ) {
      throw new InvalidPublicKeyError("an X3DH header key is not 32 bytes");
    }
    if (
      header.initiatorSignature?.length !== 64 ||
      !this.#provider.ed25519Verify(
        header.initiatorIdentityKey,
        x3dhInitiatorSigningInput(header, this.identityKey, this.identityDhKey),
        header.initiatorSignature,
      )
    ) {
      // Someone claims an identity it cannot sign for (or altered the header): an authentication
      // failure of an incoming message.
      throw new DecryptionFailedError();
    }
    if (prekey.acceptedEphemeralKeys.has(toHex(header.ephemeralKey))) {
      throw new DuplicateMessageError(
        `X3DH ephemeral key already accepted with signed prekey ${prekey.id}`,
      );
    }
    const provider = this.#provider;
    const dhs: Uint8Array[] = [];
    try {
      dhs.push(provider.x25519(prekey.keyPair.secretKey, header.initiatorIdentityDhKey));
      dhs.push(provider.x25519(this.#identityDhSecretKey, header.ephemeralKey));
      dhs.push(provider.x25519(prekey.keyPair.secretKey, header.ephemeralKey));
      const associatedData = concatBytes(
        header.initiatorIdentityKey,
        header.initiatorIdentityDhKey,
        this.identityKey,
        this.identityDhKey,
      );
      const agreement: X3dhAgreement = {
        header: {
          initiatorIdentityKey: header.initiatorIdentityKey.slice(),
          initiatorIdentityDhKey: header.initiatorIdentityDhKey.slice(),
          ephemeralKey: header.ephemeralKey.slice(),
          signedPrekeyId: header.signedPrekeyId,
          initiatorSignature: header.initiatorSignature.slice(),
        },
        sharedKey: deriveSharedKey(provider, dhs, associatedData),
        associatedData,
        signedPrekeyPair: {
          secretKey: prekey.keyPair.secretKey.slice(),
          publicKey: prekey.keyPair.publicKey.slice(),
        },
      };
      redactSecrets(agreement, "X3dhAgreement");
      return agreement;
    } finally {
      wipe(...dhs);
    }
  }

  /**
   * Records `EK` as accepted with the header's signed prekey, after the first message under it
   * authenticated. From now on the same initial header is refused with `DuplicateMessageError`.
   *
   * @param header - the header that was accepted
   * @throws {@link DuplicateMessageError} when it was already recorded
   * @throws {@link DecryptionFailedError} when the signed prekey is no longer held
   */
  acceptEphemeralKey(header: X3dhHeaderFields): void {
    const prekey = this.#find(header.signedPrekeyId);
    if (prekey === undefined) {
      throw new DecryptionFailedError({
        cause: new RangeError(`signedPrekeyId: no signed prekey ${header.signedPrekeyId} is held`),
      });
    }
    const key = toHex(header.ephemeralKey);
    if (prekey.acceptedEphemeralKeys.has(key)) {
      throw new DuplicateMessageError(
        `X3DH ephemeral key already accepted with signed prekey ${prekey.id}`,
      );
    }
    prekey.acceptedEphemeralKeys.add(key);
  }

  /**
   * Versioned bytes of the whole state, secrets included (the organization key too): store them
   * encrypted. Layout, version 1 (integers big-endian):
   *
   * ```
   * u8  version = 1
   * 32  organization key secret (Ed25519 seed)
   * 32  identity DH secret key
   * u8  number of signed prekeys n (1 or 2), current first; for each:
   *     u32 id ‖ f64 createdAt ‖ 32 secret key ‖ u32 count ‖ count × 32 accepted EK
   * 32  SHA-256 of all the bytes above
   * ```
   *
   * Public keys and signatures are recomputed on {@link OwnerPrekeys.deserialize}.
   *
   * @returns the serialized state
   */
  serialize(): Uint8Array {
    const writer = new StateWriter();
    writer.u8(ownerPrekeysVersion);
    writer.fixed(this.#identitySecretKey);
    writer.fixed(this.#identityDhSecretKey);
    writer.u8(this.#prekeys.length);
    for (const prekey of this.#prekeys) {
      writer.u32(prekey.id);
      writer.f64(prekey.createdAt);
      writer.fixed(prekey.keyPair.secretKey);
      writer.u32(prekey.acceptedEphemeralKeys.size);
      for (const key of prekey.acceptedEphemeralKeys) writer.fixed(fromHex(key));
    }
    return appendDigest(this.#provider, writer.finish());
  }

  /**
   * Restores state made by {@link OwnerPrekeys.serialize}.
   *
   * @param provider - crypto provider
   * @param bytes - the serialized state
   * @returns the owner's prekeys
   * @throws {@link StateCorruptedError} when the bytes are truncated, altered or of an unknown version
   * @example
   * ```ts
   * const prekeys = OwnerPrekeys.deserialize(provider, await store.get("prekeys"));
   * ```
   */
  static deserialize(provider: CryptoProvider, bytes: Uint8Array): OwnerPrekeys {
    if (!(bytes instanceof Uint8Array)) throw new TypeError("bytes: expected a Uint8Array");
    const reader = new StateReader(checkDigest(provider, bytes, "OwnerPrekeys"));
    const version = reader.u8();
    if (version !== ownerPrekeysVersion) {
      throw new StateCorruptedError(`unknown OwnerPrekeys state version ${version}`);
    }
    const identitySecretKey = reader.fixed(32);
    const identityDhSecretKey = reader.fixed(32);
    const identityDhKey = provider.x25519PublicKey(identityDhSecretKey);
    const count = reader.u8();
    if (count < 1 || count > 2) throw new StateCorruptedError(`${count} signed prekeys`);
    const prekeys: SignedPrekey[] = [];
    for (let i = 0; i < count; i++) {
      const id = reader.u32();
      const createdAt = reader.f64();
      const secretKey = reader.fixed(32);
      const accepted = reader.u32();
      const prekey = makeSignedPrekey(provider, identitySecretKey, identityDhKey, id, createdAt, {
        secretKey,
        publicKey: provider.x25519PublicKey(secretKey),
      });
      for (let j = 0; j < accepted; j++) prekey.acceptedEphemeralKeys.add(toHex(reader.fixed(32)));
      prekeys.push(prekey);
    }
    if (prekeys.length === 2 && prekeys[0]?.id === prekeys[1]?.id) {
      throw new StateCorruptedError("two signed prekeys with the same id");
    }
    reader.end();
    return new OwnerPrekeys(provider, identitySecretKey, identityDhSecretKey, prekeys);
  }

  #current(): SignedPrekey {
    const current = this.#prekeys[0];
    // Every constructor path installs at least one prekey.
    if (current === undefined) throw new StateCorruptedError("no signed prekey");
    return current;
  }

  #find(id: number): SignedPrekey | undefined {
    return this.#prekeys.find((prekey) => prekey.id === id);
  }
}

function makeSignedPrekey(
  provider: CryptoProvider,
  identitySecretKey: Uint8Array,
  identityDhKey: Uint8Array,
  id: number,
  createdAt: number,
  keyPair: KeyPair,
): SignedPrekey {
  const signature = provider.ed25519Sign(
    identitySecretKey,
    prekeyBundleSigningInput(identityDhKey, keyPair.publicKey, id),
  );
  return { id, createdAt, keyPair, signature, acceptedEphemeralKeys: new Set() };
}

function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

function checkU32(value: number, argument: string): void {
  if (!isU32(value))
    throw new RangeError(`${argument}: expected an integer 0..2^32-1, got ${value}`);
}

function checkKey(value: Uint8Array, argument: string): void {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${argument}: expected a Uint8Array`);
  if (value.length !== 32) {
    throw new RangeError(`${argument}: expected 32 bytes, got ${value.length}`);
  }
}

function checkNow(now: number): void {
  if (typeof now !== "number" || !Number.isFinite(now)) {
    throw new RangeError(`now: expected a finite time in milliseconds, got ${String(now)}`);
  }
}
