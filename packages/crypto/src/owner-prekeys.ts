/**
 * The owner's side of X3DH (docs/PROTOCOL.md, "Pairwise channel"): the organization key, the
 * identity DH key, the signed prekeys with their rotation, the responder's agreement, and the replay
 * defence (every accepted ephemeral key, kept with its signed prekey).
 *
 * @module
 */
import { concatBytes, fromHex, toHex } from "@orgchat/base";
import {
  DecryptionFailedError,
  DuplicateMessageError,
  InvalidPublicKeyError,
  StateCorruptedError,
} from "./errors.js";
import { type PrekeyBundleFields, prekeyBundleSigningInput } from "./prekey-bundle.js";
import type { CryptoProvider, KeyPair } from "./provider.js";
import { redactSecrets, wipe } from "./secret.js";
import { appendDigest, checkDigest, StateReader, StateWriter } from "./state-bytes.js";
import {
  deriveSharedKey,
  type X3dhAgreement,
  type X3dhHeaderFields,
  x3dhInitiatorSigningInput,
} from "./x3dh.js";
import { checkKey, checkNow, checkU32 } from "./x3dh-checks.js";

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
  /**
   * Hex of the `EK`s accepted with this prekey that this object still holds: all of them, unless
   * the caller stores them elsewhere ({@link OwnerPrekeys.markEphemeralKeysStored}).
   */
  readonly acceptedEphemeralKeys: Set<string>;
  /**
   * How many `EK`s were accepted with this prekey in all (held here or stored elsewhere); after
   * {@link OwnerPrekeys.deserialize} of a reserving record, the count it reserved (an upper bound).
   */
  accepted: number;
  /**
   * The count in the last record marked stored ({@link OwnerPrekeys.serializeKeysReserving}), or
   * undefined when no stored record holds this prekey yet.
   */
  stored: number | undefined;
}

/** Version of {@link OwnerPrekeys.serialize}: the keys and every accepted `EK`. */
const ownerPrekeysVersion = 1;
/** Version of {@link OwnerPrekeys.serializeKeys}: the keys and a count per signed prekey. */
const ownerPrekeysKeysVersion = 2;

/** One accepted X3DH ephemeral key and the signed prekey it was accepted with. */
export interface AcceptedEphemeralKey {
  readonly signedPrekeyId: number;
  readonly ephemeralKey: Uint8Array;
}

/**
 * The owner's X3DH keys: the organization key (Ed25519, signs bundles), the X25519 identity DH key
 * `IKdh_O`, and the signed prekeys: the current one and at most one previous one, so that a member
 * who fetched the bundle just before a rotation still gets through. Holds secrets: never prints them.
 *
 * It also holds the replay defence: every `EK` accepted per signed prekey, deleted with the prekey,
 * or, for a caller that keeps them in its own log (an owner of many members), only those not
 * stored yet ({@link OwnerPrekeys.unstoredEphemeralKeys}, {@link OwnerPrekeys.serializeKeys}).
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
    return this.#find(signedPrekeyId)?.accepted ?? 0;
  }

  /**
   * The accepted ephemeral keys this object holds that were not marked stored elsewhere, oldest
   * first per prekey: what a caller that keeps the replay defence in its own log appends (in the
   * same atomic write as the session each one opened), then passes to
   * {@link OwnerPrekeys.markEphemeralKeysStored}.
   *
   * @returns copies of the keys, with their signed prekey id
   */
  unstoredEphemeralKeys(): AcceptedEphemeralKey[] {
    const keys: AcceptedEphemeralKey[] = [];
    for (const prekey of this.#prekeys) {
      for (const key of prekey.acceptedEphemeralKeys) {
        keys.push({ signedPrekeyId: prekey.id, ephemeralKey: fromHex(key) });
      }
    }
    return keys;
  }

  /**
   * Drops accepted ephemeral keys from memory once the caller stored them in its own log (see
   * {@link OwnerPrekeys.unstoredEphemeralKeys}). From then on {@link OwnerPrekeys.agree} no longer
   * refuses them by itself: the caller checks its log first. Keys of prekeys no longer held, or not
   * held here, are ignored.
   *
   * @param keys - keys returned by {@link OwnerPrekeys.unstoredEphemeralKeys} and now stored
   */
  markEphemeralKeysStored(keys: readonly AcceptedEphemeralKey[]): void {
    for (const key of keys) {
      this.#find(key.signedPrekeyId)?.acceptedEphemeralKeys.delete(toHex(key.ephemeralKey));
    }
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
   * replayed `EK` (among those it holds: a caller that stores them elsewhere, see
   * {@link OwnerPrekeys.markEphemeralKeysStored}, checks its log first), and derives `SK` and
   * `AD`. It does **not** record `EK`: call
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
    prekey.accepted++;
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
    const writer = this.#writeSecrets(ownerPrekeysVersion);
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
   * Versioned bytes of the keys alone, secrets included: a size that does not grow with the
   * number of accepted ephemeral keys, for a caller that keeps those in its own log (see
   * {@link OwnerPrekeys.unstoredEphemeralKeys}). Keys held and not yet marked stored are not in
   * these bytes: store them with them. Layout, version 2 (integers big-endian):
   *
   * ```
   * u8  version = 2
   * 32  organization key secret (Ed25519 seed)
   * 32  identity DH secret key
   * u8  number of signed prekeys n (1 or 2), current first; for each:
   *     u32 id ‖ f64 createdAt ‖ 32 secret key ‖ u32 number of EKs accepted with it
   * 32  SHA-256 of all the bytes above
   * ```
   *
   * @returns the serialized keys (read back by {@link OwnerPrekeys.deserialize})
   */
  serializeKeys(): Uint8Array {
    return this.#serializeCounts(this.#prekeys.map((prekey) => prekey.accepted));
  }

  /**
   * Whether the keys record must be stored again: a held signed prekey is in no stored record yet
   * (made or rotated since), or more `EK`s were accepted with one than the stored record reserved.
   * Only meaningful for a caller that stores {@link OwnerPrekeys.serializeKeysReserving}.
   *
   * @returns true when {@link OwnerPrekeys.serializeKeysReserving} should be stored in this commit
   */
  keysRecordDue(): boolean {
    return this.#prekeys.some(
      (prekey) => prekey.stored === undefined || prekey.accepted > prekey.stored,
    );
  }

  /**
   * {@link OwnerPrekeys.serializeKeys} with each count raised by `headroom`: the record reserves
   * `headroom` more acceptances, so it need not be stored again until they are used
   * ({@link OwnerPrekeys.keysRecordDue}). Read back, the count is the reservation: an upper bound
   * of the real one (a rotation bound on it rotates at most `headroom` acceptances early per
   * restart, never late). Call `stored` once the bytes are committed.
   *
   * @param headroom - acceptances reserved beyond the current count (a non-negative integer)
   * @returns the bytes (version 2), and `stored` to call after the commit
   * @throws {RangeError} when `headroom` is not a non-negative safe integer
   */
  serializeKeysReserving(headroom: number): { bytes: Uint8Array; stored: () => void } {
    if (!Number.isSafeInteger(headroom) || headroom < 0) {
      throw new RangeError(`headroom: expected a non-negative integer, got ${headroom}`);
    }
    const counts = this.#prekeys.map((prekey) => Math.min(prekey.accepted + headroom, 0xffff_ffff));
    const prekeys = [...this.#prekeys];
    return {
      bytes: this.#serializeCounts(counts),
      stored: () => {
        prekeys.forEach((prekey, i) => {
          prekey.stored = counts[i];
        });
      },
    };
  }

  #serializeCounts(counts: readonly number[]): Uint8Array {
    const writer = this.#writeSecrets(ownerPrekeysKeysVersion);
    this.#prekeys.forEach((prekey, i) => {
      writer.u32(prekey.id);
      writer.f64(prekey.createdAt);
      writer.fixed(prekey.keyPair.secretKey);
      writer.u32(counts[i] ?? prekey.accepted);
    });
    return appendDigest(this.#provider, writer.finish());
  }

  #writeSecrets(version: number): StateWriter {
    const writer = new StateWriter();
    writer.u8(version);
    writer.fixed(this.#identitySecretKey);
    writer.fixed(this.#identityDhSecretKey);
    writer.u8(this.#prekeys.length);
    return writer;
  }

  /**
   * Restores state made by {@link OwnerPrekeys.serialize} (version 1, with the accepted ephemeral
   * keys, held in memory again) or {@link OwnerPrekeys.serializeKeys} (version 2, the counts only).
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
    if (version !== ownerPrekeysVersion && version !== ownerPrekeysKeysVersion) {
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
      prekey.accepted = accepted;
      prekey.stored = accepted;
      if (version === ownerPrekeysVersion) {
        for (let j = 0; j < accepted; j++) {
          prekey.acceptedEphemeralKeys.add(toHex(reader.fixed(32)));
        }
      }
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
  return {
    id,
    createdAt,
    keyPair,
    signature,
    acceptedEphemeralKeys: new Set(),
    accepted: 0,
    stored: undefined,
  };
}
