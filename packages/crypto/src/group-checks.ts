/**
 * Argument checks shared by the owner's and the members' side of a group (`OwnerGroup`,
 * `MemberGroup`) and their epoch window: injected time, roster leaves, prekeys.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */
import type { RosterLeaf } from "./key-schedule.js";
import type { CryptoProvider } from "./provider.js";
import { checkBytes } from "./providers/checks.js";
import { wipe } from "./secret.js";

/**
 * Checks an injected time.
 *
 * @param now - the time argument
 * @throws {TypeError} when `now` is not a finite number
 */
export function checkNow(now: unknown): asserts now is number {
  if (typeof now !== "number" || !Number.isFinite(now)) {
    throw new TypeError("now: expected a finite number of milliseconds");
  }
}

/**
 * Checks the key lengths of a roster leaf.
 *
 * @param leaf - the leaf
 * @param argument - its name, for the error (`ownLeaf`, `joiners[2].leaf`)
 * @throws {TypeError} / {RangeError} naming the key when it is not 32 bytes
 */
export function checkRosterLeaf(leaf: RosterLeaf, argument: string): void {
  checkBytes(leaf.identityKey, 32, `${argument}.identityKey`);
  checkBytes(leaf.signingKey, 32, `${argument}.signingKey`);
  checkBytes(leaf.prekey, 32, `${argument}.prekey`);
}

/**
 * Refuses a small-order X25519 prekey now, rather than in the middle of the next KeyUpdate (one
 * throw-away agreement).
 *
 * @param provider - the crypto provider
 * @param prekey - the X25519 public prekey
 * @param probe - a throw-away secret key to reuse across several checks (not wiped); a fresh one by
 *   default (wiped)
 * @throws {@link InvalidPublicKeyError} when the prekey is of small order
 */
export function checkPrekey(
  provider: CryptoProvider,
  prekey: Uint8Array,
  probe?: Uint8Array,
): void {
  const secretKey = probe ?? provider.x25519KeyPair().secretKey;
  wipe(provider.x25519(secretKey, prekey));
  if (probe === undefined) wipe(secretKey);
}
