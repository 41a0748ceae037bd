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

import { concatBytes } from "@orgchat/base";
import { expandWithLabel, u32 } from "./kdf.js";
import { type PrekeyBundleFields, verifyPrekeyBundle } from "./prekey-bundle.js";
import type { CryptoProvider, KeyPair } from "./provider.js";
import { redactSecrets, wipe } from "./secret.js";
import { checkKey } from "./x3dh-checks.js";

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

/**
 * `SK = ExpandWithLabel(HKDF-Extract(32 zero bytes, 32×0xFF ‖ DH1 ‖ DH2 ‖ DH3), "x3dh", AD, 32)`.
 *
 * @param provider - crypto provider
 * @param dhs - `DH1`, `DH2`, `DH3` (not wiped)
 * @param associatedData - `AD`
 * @returns `SK`, 32 bytes
 */
export function deriveSharedKey(
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
