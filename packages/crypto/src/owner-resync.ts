/**
 * The owner's resync Welcome (docs/PROTOCOL.md, "Re-keying"): the current epoch to a member that
 * lost its state or missed control messages, with a new leaf secret or the tracked one; and the
 * earlier epochs Welcomes carry under the "shared" policy.
 *
 * Internal: `OwnerGroup.resync` calls it with its state; deliberately not exported from the package.
 *
 * @module
 */
import { wireLimits } from "@orgchat/wire";
import type { OwnerGroupState } from "./group-state-encoding.js";
import type { Roster } from "./key-schedule.js";
import type { CryptoProvider } from "./provider.js";
import { checkBytes } from "./providers/checks.js";
import { rosterHashOf } from "./roster-hashes.js";
import { wipe } from "./secret.js";
import { copyHistory, makeWelcome, type WelcomeInit } from "./welcome.js";

/**
 * The Welcome `OwnerGroup.resync` returns, and whether the member's record changed (a new leaf
 * secret set at the current epoch).
 *
 * @throws {RangeError} when `leaf` is not a member, or `leafSecret` is not 32 bytes
 */
export function resyncWelcome(
  provider: CryptoProvider,
  state: OwnerGroupState,
  current: { readonly epoch: bigint; readonly keyId: Uint8Array; readonly roster: Roster },
  leaf: number,
  options: { leafSecret?: Uint8Array },
): { welcome: WelcomeInit; changed: boolean } {
  const record = state.members.get(leaf);
  if (record === undefined) throw new RangeError(`leaf: ${leaf} is not a member`);
  const { epoch } = current;
  let leafSecret: Uint8Array;
  if (options.leafSecret !== undefined) {
    checkBytes(options.leafSecret, 32, "options.leafSecret");
    leafSecret = options.leafSecret.slice();
    wipe(record.leafSecret);
    record.leafSecret = leafSecret;
    record.leafEpoch = epoch;
  } else {
    // The tracked one as it is: it is the salt of the member's next KeyUpdate entry, whatever the
    // epoch it was set at (no KeyUpdate since, or it would have moved), so a member that still
    // holds it (this Welcome overtaken by that KeyUpdate) opens the KeyUpdate all the same.
    leafSecret = record.leafSecret;
  }
  const welcome = makeWelcome({
    group: state.group,
    epoch,
    epochSecret: state.epochSecret,
    rosterHash: rosterHashOf(provider, current.roster),
    keyId: current.keyId,
    leafIndex: leaf,
    leafSecret,
    history: copyHistory(state.history, epoch),
  });
  return { welcome, changed: options.leafSecret !== undefined };
}

/** Keeps an epoch's secret for "shared" Welcomes (the newest `wireLimits.maxWelcomeHistory`). */
export function rememberEpoch(
  state: OwnerGroupState,
  epoch: bigint,
  epochSecret: Uint8Array,
  hash: Uint8Array,
): void {
  state.history.push({ epoch, epochSecret: epochSecret.slice(), rosterHash: hash.slice() });
  while (state.history.length > wireLimits.maxWelcomeHistory)
    wipe(state.history.shift()?.epochSecret);
}
