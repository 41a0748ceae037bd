/**
 * Argument checks shared by the owner's and the members' side of a group (`OwnerGroup`,
 * `MemberGroup`) and their epoch window: injected time, roster leaves, prekeys, the owner's init.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */
import { isChatId, wireLimits } from "@orgchat/wire";
import { constantTimeEqual } from "./constant-time.js";
import type { RosterLeaf } from "./key-schedule.js";
import { keyUpdateLimits } from "./key-update.js";
import type { HistoryPolicy, OwnerGroupInit } from "./owner-group-types.js";
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

/**
 * Checks what `OwnerGroup.create` was given, in this order: time, group, own leaf, signing
 * secret, history policy, chunk size, the signing secret against the leaf, the owner's prekey.
 *
 * @returns the history policy (`"joined"` when not given)
 * @throws as `OwnerGroup.create` documents
 */
export function checkOwnerGroupInit(init: OwnerGroupInit): HistoryPolicy {
  const { provider, group } = init;
  checkNow(init.now);
  checkBytes(group.organizationId, 32, "group.organizationId");
  if (group.channelId !== "" && !isChatId(group.channelId)) {
    throw new RangeError(
      `group.channelId: expected "" or 1-${wireLimits.maxIdLength} characters of [A-Za-z0-9_-]`,
    );
  }
  checkRosterLeaf(init.ownLeaf, "ownLeaf");
  checkBytes(init.signingSecretKey, 32, "signingSecretKey");
  const historyPolicy = init.historyPolicy ?? "joined";
  if (historyPolicy !== "joined" && historyPolicy !== "shared") {
    throw new RangeError(
      `historyPolicy: expected "joined" or "shared", got ${String(historyPolicy)}`,
    );
  }
  const perChunk = init.maxEntriesPerChunk;
  if (
    perChunk !== undefined &&
    (!Number.isInteger(perChunk) || perChunk < 1 || perChunk > keyUpdateLimits.maxEntriesPerChunk)
  ) {
    throw new RangeError(
      `maxEntriesPerChunk: must be an integer 1..${keyUpdateLimits.maxEntriesPerChunk}, got ${perChunk}`,
    );
  }
  if (
    !constantTimeEqual(provider.ed25519PublicKey(init.signingSecretKey), init.ownLeaf.signingKey)
  ) {
    throw new RangeError("signingSecretKey: does not match ownLeaf.signingKey");
  }
  checkPrekey(provider, init.ownLeaf.prekey);
  return historyPolicy;
}
