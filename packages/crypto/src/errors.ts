/**
 * Thrown when a ciphertext does not authenticate: wrong key, altered bytes, non-zero padding, a
 * signature that does not verify against the roster. It deliberately does not say which check failed
 * (no oracle for an attacker). Drop the message; if many fail for one epoch, ask for a resync.
 */
export class DecryptionFailedError extends Error {
  static readonly errorName = "DecryptionFailedError";
  override readonly name = "DecryptionFailedError";
  constructor(options?: { cause?: unknown }) {
    super(
      "Decryption failed: the message is not authentic for any key we hold. Drop it; if every message of an epoch fails, request a resync.",
      options,
    );
  }
}

/**
 * Thrown when a public key is unusable: wrong length, not a valid point, or an X25519 key of small
 * order (all-zero shared secret). Refuse the key (and the bundle or message that carried it).
 */
export class InvalidPublicKeyError extends Error {
  static readonly errorName = "InvalidPublicKeyError";
  override readonly name = "InvalidPublicKeyError";
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`Invalid public key: ${detail}. Refuse the key and whatever carried it.`, options);
  }
}

/** Thrown when a message for a key generation that was already consumed arrives again. Drop it. */
export class DuplicateMessageError extends Error {
  static readonly errorName = "DuplicateMessageError";
  override readonly name = "DuplicateMessageError";
  constructor(detail: string) {
    super(`Duplicate or replayed message: ${detail}. It was already decrypted once; drop it.`);
  }
}

/**
 * Thrown when a message would make a chain jump further ahead than the limit (1,000 for group chains):
 * too many messages were lost, or the message is hostile. Drop it; if it is genuine, a resync or the
 * next epoch restores delivery.
 */
export class GenerationTooFarError extends Error {
  static readonly errorName = "GenerationTooFarError";
  override readonly name = "GenerationTooFarError";
  constructor(detail: string) {
    super(
      `Message too far ahead in its chain: ${detail}. Drop it; resync if messages keep failing.`,
    );
  }
}

/**
 * Thrown when a message names an epoch (key_id) we no longer hold (older than the retention window)
 * or never held (we missed a KeyUpdate or Welcome). For an unknown future epoch, fetch the missing
 * control messages from Store or request a resync; an expired one cannot be decrypted any more.
 */
export class UnknownEpochError extends Error {
  static readonly errorName = "UnknownEpochError";
  override readonly name = "UnknownEpochError";
  readonly keyIdHex: string;
  constructor(keyIdHex: string, detail: string) {
    super(
      `No key for epoch ${keyIdHex}: ${detail}. Fetch missing KeyUpdates from Store or request a resync from the owner.`,
    );
    this.keyIdHex = keyIdHex;
  }
}

/** Thrown when serialized crypto state is corrupt or of an unknown version. Restore from a backup. */
export class StateCorruptedError extends Error {
  static readonly errorName = "StateCorruptedError";
  override readonly name = "StateCorruptedError";
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `Crypto state cannot be restored: ${detail}. Restore it from a backup or resync.`,
      options,
    );
  }
}

function hasName(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

/** True when `error` is a {@link DecryptionFailedError} (checked by `name`). */
export const isDecryptionFailedError = (error: unknown): error is DecryptionFailedError =>
  hasName(error, DecryptionFailedError.errorName);
/** True when `error` is an {@link InvalidPublicKeyError}. */
export const isInvalidPublicKeyError = (error: unknown): error is InvalidPublicKeyError =>
  hasName(error, InvalidPublicKeyError.errorName);
/** True when `error` is a {@link DuplicateMessageError}. */
export const isDuplicateMessageError = (error: unknown): error is DuplicateMessageError =>
  hasName(error, DuplicateMessageError.errorName);
/** True when `error` is a {@link GenerationTooFarError}. */
export const isGenerationTooFarError = (error: unknown): error is GenerationTooFarError =>
  hasName(error, GenerationTooFarError.errorName);
/** True when `error` is an {@link UnknownEpochError}. */
export const isUnknownEpochError = (error: unknown): error is UnknownEpochError =>
  hasName(error, UnknownEpochError.errorName);
/** True when `error` is a {@link StateCorruptedError}. */
export const isStateCorruptedError = (error: unknown): error is StateCorruptedError =>
  hasName(error, StateCorruptedError.errorName);
