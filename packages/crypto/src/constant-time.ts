/**
 * The package's one constant-time byte comparison. `@orgchat/base`'s `equalBytes` stops at the first
 * difference, which leaks where two secrets differ through timing; everything in this package that
 * compares key material, digests or MACs uses {@link constantTimeEqual} instead.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */

/**
 * Equality of two byte strings that does not stop at the first difference: the time taken depends on
 * the length only (lengths are public; a length mismatch returns at once).
 *
 * @param a - the first byte string
 * @param b - the second byte string
 * @returns true when `a` and `b` hold the same bytes
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
