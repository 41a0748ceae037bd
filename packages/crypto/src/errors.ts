/**
 * Typed errors of `@orgchat/crypto`. Each extends `OrgchatError` (`@orgchat/base`): its `name` is the
 * class name, `cause` keeps the underlying error, and `hint` (the end of the message) says what to
 * do. Branch on the `isX()` guards, which check `name`, never on `instanceof` or message text.
 *
 * @module
 */
import { errorGuard, OrgchatError } from "@orgchat/base";

/** The `cause` an error of this package may carry. */
interface CauseOption {
  readonly cause?: unknown;
}

/**
 * Thrown when a ciphertext does not authenticate: wrong key, altered bytes, non-zero padding, a
 * signature that does not verify against the roster. It deliberately does not say which check failed
 * (no oracle for an attacker). Drop the message; if many fail for one epoch, ask for a resync.
 */
export class DecryptionFailedError extends OrgchatError {
  static readonly errorName = "DecryptionFailedError";
  /** @param options - `cause`: the underlying failure (kept for debugging, never shown to peers) */
  constructor(options?: CauseOption) {
    super(
      DecryptionFailedError.errorName,
      "Decryption failed: the message is not authentic for any key we hold.",
      { ...options, hint: "Drop it; if every message of an epoch fails, request a resync." },
    );
  }
}

/**
 * Thrown when a public key is unusable: wrong length, not a valid point, or an X25519 key of small
 * order (all-zero shared secret). Refuse the key (and the bundle or message that carried it).
 */
export class InvalidPublicKeyError extends OrgchatError {
  static readonly errorName = "InvalidPublicKeyError";
  /**
   * @param detail - what is wrong with the key
   * @param options - `cause`: the library error behind it
   */
  constructor(detail: string, options?: CauseOption) {
    super(InvalidPublicKeyError.errorName, `Invalid public key: ${detail}.`, {
      ...options,
      hint: "Refuse the key and whatever carried it.",
    });
  }
}

/** Thrown when a message for a key generation that was already consumed arrives again. Drop it. */
export class DuplicateMessageError extends OrgchatError {
  static readonly errorName = "DuplicateMessageError";
  /** @param detail - which chain and generation */
  constructor(detail: string) {
    super(DuplicateMessageError.errorName, `Duplicate or replayed message: ${detail}.`, {
      hint: "It was already decrypted once; drop it.",
    });
  }
}

/**
 * Thrown when a message would make a chain jump further ahead than the limit (1,000 for group chains):
 * too many messages were lost, or the message is hostile. Drop it; if it is genuine, a resync or the
 * next epoch restores delivery.
 */
export class GenerationTooFarError extends OrgchatError {
  static readonly errorName = "GenerationTooFarError";
  /** @param detail - how far ahead, and the limit */
  constructor(detail: string) {
    super(GenerationTooFarError.errorName, `Message too far ahead in its chain: ${detail}.`, {
      hint: "Drop it; resync if messages keep failing.",
    });
  }
}

/**
 * Thrown when a message names an epoch (key_id) we no longer hold (older than the retention window)
 * or never held (we missed a KeyUpdate or Welcome). For an unknown future epoch, fetch the missing
 * control messages from Store or request a resync; an expired one cannot be decrypted any more.
 */
export class UnknownEpochError extends OrgchatError {
  static readonly errorName = "UnknownEpochError";
  /** The key_id the message named, in hex. */
  readonly keyIdHex: string;
  /**
   * @param keyIdHex - the key_id the message named, in hex
   * @param detail - why we hold no key for it
   */
  constructor(keyIdHex: string, detail: string) {
    super(UnknownEpochError.errorName, `No key for epoch ${keyIdHex}: ${detail}.`, {
      hint: "Fetch missing KeyUpdates from Store or request a resync from the owner.",
    });
    this.keyIdHex = keyIdHex;
  }
}

/** Thrown when serialized crypto state is corrupt or of an unknown version. Restore from a backup. */
export class StateCorruptedError extends OrgchatError {
  static readonly errorName = "StateCorruptedError";
  /**
   * @param detail - what does not parse or check out
   * @param options - `cause`: the error met while reading
   */
  constructor(detail: string, options?: CauseOption) {
    super(StateCorruptedError.errorName, `Crypto state cannot be restored: ${detail}.`, {
      ...options,
      hint: "Restore it from a backup or resync.",
    });
  }
}

/**
 * Thrown when a member cannot go back to an epoch it left (`MemberGroup.returnTo`): it keeps no
 * fork point of it, or no longer its keys (both end with the retention window: 24 h, at most 16
 * fork points). Nothing changed.
 */
export class NoForkPointError extends OrgchatError {
  static readonly errorName = "NoForkPointError";
  /** The key_id of the epoch asked for, in hex. */
  readonly keyIdHex: string;
  /**
   * @param keyIdHex - the key_id of the epoch asked for, in hex
   * @param detail - what is missing
   */
  constructor(keyIdHex: string, detail: string) {
    super(NoForkPointError.errorName, `Cannot go back to epoch ${keyIdHex}: ${detail}.`, {
      hint: "The epoch is past its retention window: request a resync from the owner.",
    });
    this.keyIdHex = keyIdHex;
  }
}

/** True when `error` is a {@link DecryptionFailedError} (checked by `name`). */
export const isDecryptionFailedError = errorGuard<DecryptionFailedError>(
  DecryptionFailedError.errorName,
);
/** True when `error` is an {@link InvalidPublicKeyError} (checked by `name`). */
export const isInvalidPublicKeyError = errorGuard<InvalidPublicKeyError>(
  InvalidPublicKeyError.errorName,
);
/** True when `error` is a {@link DuplicateMessageError} (checked by `name`). */
export const isDuplicateMessageError = errorGuard<DuplicateMessageError>(
  DuplicateMessageError.errorName,
);
/** True when `error` is a {@link GenerationTooFarError} (checked by `name`). */
export const isGenerationTooFarError = errorGuard<GenerationTooFarError>(
  GenerationTooFarError.errorName,
);
/** True when `error` is an {@link UnknownEpochError} (checked by `name`). */
export const isUnknownEpochError = errorGuard<UnknownEpochError>(UnknownEpochError.errorName);
/** True when `error` is a {@link StateCorruptedError} (checked by `name`). */
export const isStateCorruptedError = errorGuard<StateCorruptedError>(StateCorruptedError.errorName);
/** True when `error` is a {@link NoForkPointError} (checked by `name`). */
export const isNoForkPointError = errorGuard<NoForkPointError>(NoForkPointError.errorName);
