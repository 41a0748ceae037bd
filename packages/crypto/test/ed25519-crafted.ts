/**
 * Ed25519 signatures crafted against the pinned cofactorless rule (provider.ts): a signer's key with a
 * small-order component (A = aB + T, T of order 8) or a nonce point with one (R = rB + T). The
 * cofactored equation [8][S]B = [8]R + [8][k]A accepts all of them; the pinned [S]B = R + [k]A only
 * the one whose challenge k kills T. Shared by the Node provider tests and the Chromium ones.
 */
import { ED25519_TORSION_SUBGROUP, ed25519 } from "@noble/curves/ed25519.js";
import { bytesToNumberLE, concatBytes, numberToBytesLE } from "@noble/curves/utils.js";
import { sha512 } from "@noble/hashes/sha2.js";

const { Point } = ed25519;
const L = Point.Fn.ORDER;
const torsion = Point.fromHex(ED25519_TORSION_SUBGROUP[1] ?? ""); // a point of order 8
const a = 0x5eed_0123_4567_89ab_cdefn; // the signer's secret scalar
const r = 0x0fed_cba9_8765_4321n; // the signer's nonce

/** An Ed25519 signature by scalar `a` with nonce point `nonce` (= [r]B + optional torsion). */
function signWith(publicKey: Uint8Array, nonce: typeof Point.BASE, message: Uint8Array) {
  const encodedR = nonce.toBytes();
  const k = bytesToNumberLE(sha512(concatBytes(encodedR, publicKey, message))) % L;
  return { k, signature: concatBytes(encodedR, numberToBytesLE((r + k * a) % L, 32)) };
}

/** The first one-byte message whose challenge k satisfies `accept` (deterministic). */
function messageWhere(
  publicKey: Uint8Array,
  nonce: typeof Point.BASE,
  accept: (k: bigint) => boolean,
) {
  for (let i = 0; i < 256; i++) {
    const message = Uint8Array.of(i);
    const { k, signature } = signWith(publicKey, nonce, message);
    if (accept(k)) return { message, signature };
  }
  throw new Error("no message found");
}

/** The key [a]B + T: canonical and not of small order, so it passes the strict key check. */
export const mixedOrderKey = Point.BASE.multiply(a).add(torsion).toBytes();
const primeOrderKey = Point.BASE.multiply(a).toBytes();

/** One crafted signature and the pinned rule's verdict on it. */
export interface CraftedSignature {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
  readonly valid: boolean;
}

/** The mixed-order key's signature when [k]T = 0 (k ≡ 0 mod 8): both equations hold. */
export const mixedKeyBothHold = (): CraftedSignature => ({
  publicKey: mixedOrderKey,
  ...messageWhere(mixedOrderKey, Point.BASE.multiply(r), (k) => k % 8n === 0n),
  valid: true,
});

/** The mixed-order key's signature when [k]T ≠ 0: only the cofactored equation holds. */
export const mixedKeyCofactoredOnly = (): CraftedSignature => ({
  publicKey: mixedOrderKey,
  ...messageWhere(mixedOrderKey, Point.BASE.multiply(r), (k) => k % 8n !== 0n),
  valid: false,
});

/** A prime-order key's signature whose R has a small-order component: only the cofactored holds. */
export const mixedNonceCofactoredOnly = (): CraftedSignature => {
  const message = Uint8Array.of(1);
  const { signature } = signWith(primeOrderKey, Point.BASE.multiply(r).add(torsion), message);
  return { publicKey: primeOrderKey, message, signature, valid: false };
};
