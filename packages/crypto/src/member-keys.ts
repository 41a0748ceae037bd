/**
 * A member's signature over its own group keys (docs/DELEGATION.md, "Wire additions"): what lets a
 * delegate write a joiner's leaf into a roster while every receiver checks that the joiner, not
 * the delegate, chose the keys.
 *
 * @module
 */
import { concatBytes } from "@orgchat/base";
import { constantTimeEqual } from "./constant-time.js";
import { InvalidPublicKeyError } from "./errors.js";
import { u64 } from "./kdf.js";
import { type GroupId, groupContext } from "./key-schedule.js";
import type { CryptoProvider } from "./provider.js";
import { checkKey } from "./x3dh-checks.js";

const encoder = new TextEncoder();

/** Domain label that starts the member keys signing input (docs/DELEGATION.md). */
export const memberKeysSigningLabel = "orgchat v1 member keys";
const labelBytes = encoder.encode(memberKeysSigningLabel);
const maxUint64 = (1n << 64n) - 1n;

/**
 * A member's keys for one group with its signature over them, as in `orgchat.v1.MemberKeys` (and a
 * `RosterLeaf` a delegate writes): pass a decoded message wherever this type is expected.
 */
export interface SignedMemberKeys {
  /** Ed25519 identity key `IK_m` (the member id): the key that signs. */
  readonly identityKey: Uint8Array;
  /** Ed25519 per-organization signing key `S_m`. */
  readonly signingKey: Uint8Array;
  /** X25519 prekey `P_m`. */
  readonly prekey: Uint8Array;
  /** The prekey's version (u64), which the signature covers. */
  readonly prekeyVersion: bigint;
  /** `Ed25519(IK_m, memberKeysSigningInput(...))`, 64 bytes. */
  readonly keysSignature: Uint8Array;
}

/**
 * The bytes a member's keys signature covers:
 * `"orgchat v1 member keys" ‖ groupContext ‖ S_m ‖ P_m ‖ u64 prekey_version` (docs/DELEGATION.md).
 * `groupContext` binds the signature to one organization and one group, so keys signed for one
 * cannot be written into another's roster.
 *
 * @param group - the group whose roster the keys go into
 * @param signingKey - `S_m`, 32 bytes
 * @param prekey - `P_m`, 32 bytes
 * @param prekeyVersion - the prekey's version (u64)
 * @returns the signing input
 * @throws {TypeError} / {RangeError} naming the argument: a key that is not 32 bytes, a version
 *   outside u64
 * @example
 * ```ts
 * const input = memberKeysSigningInput(group, keys.signingKey, keys.prekey, keys.prekeyVersion);
 * const keysSignature = provider.ed25519Sign(identitySecretKey, input);
 * ```
 */
export function memberKeysSigningInput(
  group: GroupId,
  signingKey: Uint8Array,
  prekey: Uint8Array,
  prekeyVersion: bigint,
): Uint8Array {
  checkKey(group.organizationId, "group.organizationId");
  checkKey(signingKey, "signingKey");
  checkKey(prekey, "prekey");
  if (typeof prekeyVersion !== "bigint" || prekeyVersion < 0n || prekeyVersion > maxUint64) {
    throw new RangeError(`prekeyVersion: expected a u64, got ${String(prekeyVersion)}`);
  }
  return concatBytes(labelBytes, groupContext(group), signingKey, prekey, u64(prekeyVersion));
}

/**
 * Signs a member's keys for one group with its identity key (the member side of
 * `MemberKeys.keys_signature`).
 *
 * @param provider - crypto provider
 * @param init - the group, the identity secret key (its public key is the member id), the keys
 * @returns the keys with `identityKey` and the 64-byte `keysSignature`
 * @throws {TypeError} / {RangeError} as {@link memberKeysSigningInput}, or an identity secret key
 *   that is not 32 bytes
 * @example
 * ```ts
 * const keys = signMemberKeys(provider, { group, identitySecretKey, signingKey, prekey, prekeyVersion: 1n });
 * encodeMemberKeys(keys);
 * ```
 */
export function signMemberKeys(
  provider: CryptoProvider,
  init: {
    readonly group: GroupId;
    readonly identitySecretKey: Uint8Array;
    readonly signingKey: Uint8Array;
    readonly prekey: Uint8Array;
    readonly prekeyVersion: bigint;
  },
): SignedMemberKeys {
  checkKey(init.identitySecretKey, "identitySecretKey");
  const input = memberKeysSigningInput(
    init.group,
    init.signingKey,
    init.prekey,
    init.prekeyVersion,
  );
  return {
    identityKey: provider.ed25519PublicKey(init.identitySecretKey),
    signingKey: init.signingKey.slice(),
    prekey: init.prekey.slice(),
    prekeyVersion: init.prekeyVersion,
    keysSignature: provider.ed25519Sign(init.identitySecretKey, input),
  };
}

/**
 * Checks a member's keys signature for one group (strict RFC 8032): what a delegate checks before
 * it writes a joiner's leaf, and what every receiver checks on each leaf a delegate's commit
 * writes.
 *
 * @param provider - crypto provider
 * @param group - the group whose roster the keys go into
 * @param keys - the keys and signature as received (a decoded `MemberKeys` or `RosterLeaf`)
 * @param expectedIdentityKey - when given, the member id the keys must belong to
 * @throws {@link InvalidPublicKeyError} when a key is not 32 bytes, the signature is missing or
 *   does not verify, the version is outside u64, or the identity is not `expectedIdentityKey`
 * @example
 * ```ts
 * verifyMemberKeys(provider, group, decodeMemberKeys(bytes), requesterId); // throws if forged
 * ```
 */
export function verifyMemberKeys(
  provider: CryptoProvider,
  group: GroupId,
  keys: SignedMemberKeys,
  expectedIdentityKey?: Uint8Array,
): void {
  const { identityKey, signingKey, prekey, prekeyVersion, keysSignature } = keys;
  if (identityKey.length !== 32 || signingKey.length !== 32 || prekey.length !== 32) {
    throw new InvalidPublicKeyError("a member key is not 32 bytes");
  }
  if (expectedIdentityKey !== undefined && !constantTimeEqual(identityKey, expectedIdentityKey)) {
    throw new InvalidPublicKeyError("the member keys are signed for another identity");
  }
  if (keysSignature.length !== 64) {
    throw new InvalidPublicKeyError("the member keys carry no 64-byte signature");
  }
  if (typeof prekeyVersion !== "bigint" || prekeyVersion < 0n || prekeyVersion > maxUint64) {
    throw new InvalidPublicKeyError("the member keys' prekey version is not a u64");
  }
  const input = memberKeysSigningInput(group, signingKey, prekey, prekeyVersion);
  if (!provider.ed25519Verify(identityKey, input, keysSignature)) {
    throw new InvalidPublicKeyError("the member keys signature does not verify");
  }
}
