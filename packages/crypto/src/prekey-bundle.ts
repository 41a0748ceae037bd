/**
 * The owner's prekey bundle (docs/PROTOCOL.md, "Pairwise channel"): its fields, the bytes its
 * signature covers, and the check a member runs before using it.
 *
 * @module
 */
import { concatBytes } from "@orgchat/base";
import { constantTimeEqual } from "./constant-time.js";
import { InvalidPublicKeyError } from "./errors.js";
import { u32 } from "./kdf.js";
import type { CryptoProvider } from "./provider.js";
import { checkKey, checkU32, isU32 } from "./x3dh-checks.js";

const encoder = new TextEncoder();

/** Domain label that starts the prekey bundle signing input (docs/PROTOCOL.md). */
export const prekeyBundleSigningLabel = "orgchat v1 prekey bundle";
const bundleLabelBytes = encoder.encode(prekeyBundleSigningLabel);

/**
 * The fields of an owner's prekey bundle, as in `orgchat.v1.PrekeyBundle`: pass it to
 * `encodePrekeyBundle` from `@orgchat/wire`, and pass a decoded `PrekeyBundle` wherever this type is
 * expected.
 */
export interface PrekeyBundleFields {
  /** Ed25519 identity key `IK_O`: the organization key. */
  readonly identityKey: Uint8Array;
  /** X25519 identity DH key `IKdh_O`. */
  readonly identityDhKey: Uint8Array;
  /** X25519 signed prekey `SPK_O`. */
  readonly signedPrekey: Uint8Array;
  /** Id of the signed prekey (u32), echoed by initiators in their {@link X3dhHeaderFields}. */
  readonly signedPrekeyId: number;
  /** `Ed25519(IK_O, "orgchat v1 prekey bundle" ‖ IKdh_O ‖ SPK_O ‖ u32 id)`. */
  readonly signature: Uint8Array;
}

/**
 * The bytes the prekey bundle signature covers:
 * `"orgchat v1 prekey bundle" ‖ IKdh_O ‖ SPK_O ‖ u32 id` (docs/PROTOCOL.md).
 *
 * @param identityDhKey - `IKdh_O`, 32 bytes
 * @param signedPrekey - `SPK_O`, 32 bytes
 * @param signedPrekeyId - u32 id of the signed prekey
 * @returns the signing input
 * @throws {RangeError} when `signedPrekeyId` is not a u32
 * @example
 * ```ts
 * const input = prekeyBundleSigningInput(bundle.identityDhKey, bundle.signedPrekey, bundle.signedPrekeyId);
 * provider.ed25519Verify(bundle.identityKey, input, bundle.signature);
 * ```
 */
export function prekeyBundleSigningInput(
  identityDhKey: Uint8Array,
  signedPrekey: Uint8Array,
  signedPrekeyId: number,
): Uint8Array {
  checkU32(signedPrekeyId, "signedPrekeyId");
  return concatBytes(bundleLabelBytes, identityDhKey, signedPrekey, u32(signedPrekeyId));
}

/**
 * Checks that a prekey bundle is the organization's: the identity key is `expectedIdentityKey`,
 * every key is 32 bytes and the signature verifies (strict RFC 8032).
 *
 * A bad signature is reported as {@link InvalidPublicKeyError}: the signed prekey is then a key we
 * must not use, and the error's advice ("refuse the key and whatever carried it") is the right one.
 *
 * @param provider - crypto provider
 * @param bundle - the bundle as received (a decoded `PrekeyBundle` or {@link PrekeyBundleFields})
 * @param expectedIdentityKey - the organization key `IK_O` (32 bytes)
 * @throws {@link InvalidPublicKeyError} when the bundle is for another key, a key has the wrong
 *   length, or the signature does not verify
 * @throws {RangeError} when `expectedIdentityKey` is not 32 bytes
 * @example
 * ```ts
 * const bundle = decodePrekeyBundle(bytes);
 * verifyPrekeyBundle(provider, bundle, organizationKey); // throws if forged
 * ```
 */
export function verifyPrekeyBundle(
  provider: CryptoProvider,
  bundle: PrekeyBundleFields,
  expectedIdentityKey: Uint8Array,
): void {
  checkKey(expectedIdentityKey, "expectedIdentityKey");
  if (!constantTimeEqual(bundle.identityKey, expectedIdentityKey)) {
    throw new InvalidPublicKeyError("the prekey bundle is signed for another identity key");
  }
  if (bundle.identityDhKey.length !== 32 || bundle.signedPrekey.length !== 32) {
    throw new InvalidPublicKeyError("a prekey bundle key is not 32 bytes");
  }
  if (!isU32(bundle.signedPrekeyId)) {
    throw new InvalidPublicKeyError("the prekey bundle's signed prekey id is not a u32");
  }
  const input = prekeyBundleSigningInput(
    bundle.identityDhKey,
    bundle.signedPrekey,
    bundle.signedPrekeyId,
  );
  if (!provider.ed25519Verify(bundle.identityKey, input, bundle.signature)) {
    throw new InvalidPublicKeyError("the prekey bundle signature does not verify");
  }
}
