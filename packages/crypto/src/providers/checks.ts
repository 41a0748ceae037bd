import { ed25519 } from "@noble/curves/ed25519.js";

/** @throws {TypeError} / {RangeError} naming `argument` when `value` is not `length` bytes. */
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

export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i] ?? 0;
  return acc === 0;
}

/**
 * The pinned Ed25519 public-key rule shared by both providers: a canonical encoding of a point that is
 * not of small order. Checked before verification so that OpenSSL and noble agree on every key.
 */
export function isStrictEd25519PublicKey(publicKey: Uint8Array): boolean {
  try {
    const point = ed25519.Point.fromBytes(publicKey, false);
    return !point.isSmallOrder() && bytesEqual(point.toBytes(), publicKey);
  } catch {
    return false;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
