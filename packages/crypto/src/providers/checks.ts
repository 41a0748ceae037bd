/**
 * The input checks and pinned rules both providers share, so that `nodeProvider()` and
 * `nobleProvider()` refuse the same inputs with the same errors and reach the same verdicts.
 *
 * Internal: deliberately not exported from the package (`common.ts`). Browser-safe: no `node:`
 * import (the browser entry reaches this module through `noble.ts`).
 *
 * @module
 */

import { ed25519 } from "@noble/curves/ed25519.js";
import { fromHex } from "@orgchat/base";
import { constantTimeEqual } from "../constant-time.js";
import { InvalidPublicKeyError } from "../errors.js";

/**
 * Checks a byte-string argument.
 *
 * @param value - the argument
 * @param length - the byte length it must have
 * @param argument - its name, for the error
 * @throws {TypeError} naming `argument` when `value` is not a `Uint8Array`
 * @throws {RangeError} naming `argument` when it is not `length` bytes
 */
export function checkBytes(
  value: unknown,
  length: number,
  argument: string,
): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${argument}: expected a Uint8Array, got ${typeof value}`);
  }
  if (value.length !== length) {
    throw new RangeError(`${argument}: expected ${length} bytes, got ${value.length}`);
  }
}

/**
 * Whether every byte is zero, without stopping early (the bytes may be a shared secret).
 *
 * @param bytes - the bytes to test
 * @returns true when all of `bytes` are zero (or `bytes` is empty)
 */
export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i] ?? 0;
  return acc === 0;
}

const smallOrderPoint = "X25519 shared secret is all zero (small-order point)";

/**
 * The pinned X25519 rule (RFC 7748 §6.1) around a provider's own agreement: a derivation that fails
 * (OpenSSL and noble both refuse a small-order point themselves) or yields an all-zero secret is an
 * {@link InvalidPublicKeyError}. The result is checked again here so that the rule does not rest on
 * one library's behaviour.
 *
 * @param derive - the provider's X25519 agreement, run once
 * @returns the shared secret
 * @throws {@link InvalidPublicKeyError} when `derive` throws (kept as `cause`) or returns all zeros
 */
export function pinnedX25519(derive: () => Uint8Array): Uint8Array {
  let shared: Uint8Array;
  try {
    shared = derive();
  } catch (cause) {
    throw new InvalidPublicKeyError(smallOrderPoint, { cause });
  }
  if (isAllZero(shared)) throw new InvalidPublicKeyError(smallOrderPoint);
  return shared;
}

/**
 * The pinned Ed25519 public-key rule shared by both providers: a canonical encoding of a point that is
 * not of small order. Checked before verification so that OpenSSL and noble agree on every key.
 *
 * @param publicKey - the encoded key (any bytes: a peer's input)
 * @returns whether the key is acceptable; never throws
 */
export function isStrictEd25519PublicKey(publicKey: Uint8Array): boolean {
  let point: ReturnType<typeof ed25519.Point.fromBytes>;
  try {
    point = ed25519.Point.fromBytes(publicKey, false);
  } catch {
    // Not 32 bytes or not a point on the curve: a peer's bad key is a "no", not an error.
    return false;
  }
  return !point.isSmallOrder() && constantTimeEqual(point.toBytes(), publicKey);
}

/** The Ed25519 group order L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const ED25519_ORDER = fromHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");

/**
 * RFC 8032 §5.1.7 step 1: whether the signature half `s` is canonical (S < L, little-endian).
 * Public data: not constant-time.
 *
 * @param s - the last 32 bytes of a signature
 * @returns true when S < L
 */
export function isCanonicalScalar(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const byte = s[i] ?? 0;
    const limit = ED25519_ORDER[i] ?? 0;
    if (byte !== limit) return byte < limit;
  }
  return false;
}

/**
 * Whether `value` is a `Uint8Array` of `length` bytes (a peer's input: a verdict, never a throw).
 *
 * @param value - anything
 * @param length - the byte length it must have
 * @returns true when it is a `Uint8Array` of that length
 */
export function isBytesOfLength(value: unknown, length: number): value is Uint8Array {
  return value instanceof Uint8Array && value.length === length;
}
