/**
 * The header of a `PairwiseMessage` as the Double Ratchet binds it (layout in double-ratchet.ts's
 * module comment): the version this library speaks, the header bytes that go into the associated
 * data, and the one way a received message is parsed.
 *
 * @module
 */
import { concatBytes } from "@orgchat/base";
import { decodePairwiseMessage, type PairwiseMessage } from "@orgchat/wire";
import { DecryptionFailedError } from "./errors.js";
import { u32 } from "./kdf.js";
import type { X3dhHeaderFields } from "./x3dh.js";

/** Version of `PairwiseMessage` this module writes and accepts. */
export const pairwiseMessageVersion = 1;

/** The header part of the associated data (layout in the module comment). */
export function headerBytes(header: {
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

/**
 * Decodes a `PairwiseMessage`; everything that is not a version-1 message is a
 * `DecryptionFailedError` (the one error for "not a message of this session").
 */
export function parsePairwiseMessage(bytes: Uint8Array): PairwiseMessage {
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
