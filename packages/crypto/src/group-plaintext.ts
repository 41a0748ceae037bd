/**
 * The plaintext of a group message (docs/PROTOCOL.md, "Group messages", step 2):
 * `varint len(m) ‖ m ‖ signature (64) ‖ zero padding` up to a multiple of the padding block. The
 * length prefix is a minimal LEB128 varint and every padding byte must be zero, so that every content
 * has exactly one plaintext.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */
import { wireLimits } from "@orgchat/wire";
import { DecryptionFailedError } from "./errors.js";

const signatureBytes = 64;

/**
 * The padded plaintext length of a content, checked against the wire's message limit.
 *
 * @param contentType - the message's content type (its varint counts in the encoded size)
 * @param contentLength - bytes of content
 * @param block - the padding block
 * @returns the plaintext length: a multiple of `block`
 * @throws {RangeError} when the encoded message would exceed `wireLimits.maxMessageBytes`
 */
export function paddedPlaintextLength(
  contentType: number,
  contentLength: number,
  block: number,
): number {
  const prefix = varintLength(contentLength);
  const plaintextLength = Math.ceil((prefix + contentLength + signatureBytes) / block) * block;
  const size = encodedSize(contentType, plaintextLength + 16);
  if (size > wireLimits.maxMessageBytes) {
    throw new RangeError(
      `content: ${contentLength} bytes make a ${size}-byte message, more than ${wireLimits.maxMessageBytes}; split it`,
    );
  }
  return plaintextLength;
}

/**
 * Lays out a plaintext.
 *
 * @param content - the content
 * @param signature - the sender's 64-byte signature
 * @param plaintextLength - from {@link paddedPlaintextLength}
 * @returns `varint len(m) ‖ m ‖ signature ‖ zeros`
 */
export function framePlaintext(
  content: Uint8Array,
  signature: Uint8Array,
  plaintextLength: number,
): Uint8Array {
  // A fresh array is all zeros: the padding.
  const plaintext = new Uint8Array(plaintextLength);
  const prefix = putVarint(plaintext, content.length);
  plaintext.set(content, prefix);
  plaintext.set(signature, prefix + content.length);
  return plaintext;
}

/**
 * Splits a decrypted plaintext.
 *
 * @param plaintext - the decrypted plaintext
 * @returns views (no copies) of the content and the signature
 * @throws {@link DecryptionFailedError} for an overlong or non-minimal length, a length past the end,
 *   or a non-zero padding byte
 */
export function unframePlaintext(plaintext: Uint8Array): {
  content: Uint8Array;
  signature: Uint8Array;
} {
  const parsed = readVarint(plaintext);
  if (parsed === undefined) throw new DecryptionFailedError();
  const { value: length, size: prefix } = parsed;
  const end = prefix + length + signatureBytes;
  if (end > plaintext.length) throw new DecryptionFailedError();
  let nonZero = 0;
  for (let i = end; i < plaintext.length; i++) nonZero |= plaintext[i] as number;
  if (nonZero !== 0) throw new DecryptionFailedError();
  return {
    content: plaintext.subarray(prefix, prefix + length),
    signature: plaintext.subarray(prefix + length, end),
  };
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

/** Writes the minimal LEB128 encoding of `value` at the start of `out`; returns its length. */
function putVarint(out: Uint8Array, value: number): number {
  let rest = value;
  let at = 0;
  while (rest >= 0x80) {
    out[at++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  out[at] = rest;
  return at + 1;
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
