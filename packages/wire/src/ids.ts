import { fromHex, toHex } from "@orgchat/base";
import { wireLimits } from "./limits.js";

const memberIdPattern = /^[0-9a-f]{64}$/;
const chatIdPattern = /^[A-Za-z0-9_-]+$/;

/**
 * True when `value` is a member id: the lowercase hex (no `0x`) of a 32-byte public key.
 *
 * Spec 55 keys `members` maps and `ban_list` by "the public key" as a string without saying how it
 * is written; orgchat fixes one spelling so two members never disagree on whether a key is listed.
 */
export function isMemberId(value: string): boolean {
  return memberIdPattern.test(value);
}

/**
 * True when `value` is a chat (channel) or category id: 1 to 64 characters of `[A-Za-z0-9_-]`.
 * The format keeps ids safe in content topics, file names and URLs.
 */
export function isChatId(value: string): boolean {
  return value.length > 0 && value.length <= wireLimits.maxIdLength && chatIdPattern.test(value);
}

/**
 * The member id (map key) of a 32-byte public key.
 *
 * @param publicKey - a 32-byte Ed25519 public key
 * @returns the key as 64 lowercase hex characters
 * @throws {RangeError} when `publicKey` is not 32 bytes
 * @example
 * ```ts
 * const id = memberIdFromPublicKey(new Uint8Array(32)); // "0000…0000"
 * ```
 */
export function memberIdFromPublicKey(publicKey: Uint8Array): string {
  assertPublicKey(publicKey, "publicKey");
  return toHex(publicKey);
}

/**
 * The 32-byte public key named by a member id.
 *
 * @param memberId - 64 lowercase hex characters
 * @returns the 32 bytes the id spells
 * @throws {RangeError} when `memberId` is not a member id
 * @example
 * ```ts
 * const key = publicKeyFromMemberId(memberIdFromPublicKey(publicKey)); // the same 32 bytes
 * ```
 */
export function publicKeyFromMemberId(memberId: string): Uint8Array {
  if (!isMemberId(memberId)) {
    throw new RangeError(
      `memberId: expected 64 lowercase hex characters (a 32-byte public key), got ${JSON.stringify(
        memberId.slice(0, 80),
      )}`,
    );
  }
  return fromHex(memberId);
}

/**
 * @throws {TypeError} when `value` is not a Uint8Array
 * @throws {RangeError} when it is not 32 bytes long
 * @internal
 */
export function assertPublicKey(value: unknown, argument: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${argument}: expected a Uint8Array, got ${typeof value}`);
  }
  if (value.length !== wireLimits.publicKeyBytes) {
    throw new RangeError(
      `${argument}: expected a ${wireLimits.publicKeyBytes}-byte public key, got ${value.length} bytes`,
    );
  }
}
