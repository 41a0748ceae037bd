/**
 * Joining from a Welcome (docs/PROTOCOL.md, "Re-keying"): the checks of `MemberGroup.fromWelcome`
 * and the member state they give.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */
import { constantTimeEqual } from "./constant-time.js";
import { enterEpoch } from "./epoch-entry.js";
import { EpochWindow } from "./epoch-window.js";
import { DecryptionFailedError } from "./errors.js";
import { checkNow } from "./group-checks.js";
import type { MemberGroupState } from "./group-state-encoding.js";
import { type GroupId, rosterHash } from "./key-schedule.js";
import { deriveRekeySecret } from "./leaf-salts.js";
import type { MemberGroupInit } from "./member-group-types.js";
import { checkBytes } from "./providers/checks.js";
import { wipe } from "./secret.js";
import { checkWelcome } from "./welcome.js";

const maxUint64 = (1n << 64n) - 1n;

/**
 * The state a Welcome gives (see `MemberGroup.fromWelcome` for the checks and what they throw).
 *
 * @param init - the Welcome, its roster, our secrets, the time
 * @returns the member's state at the Welcome's epoch
 */
export function memberStateFromWelcome(init: MemberGroupInit): MemberGroupState {
  const { provider, welcome, roster, now } = init;
  checkNow(now);
  checkWelcome(welcome);
  checkBytes(init.signingSecretKey, 32, "signingSecretKey");
  checkBytes(init.prekeySecret, 32, "prekeySecret");
  if (welcome.epoch < 0n || welcome.epoch > maxUint64) {
    throw new RangeError("welcome.epoch: must be a uint64");
  }
  const group: GroupId = {
    organizationId: welcome.organizationId.slice(),
    channelId: welcome.channelId,
  };
  const hash = init.rosterHash ?? rosterHash(provider, roster);
  if (!constantTimeEqual(hash, welcome.rosterHash)) {
    throw new RangeError("roster: does not hash to the Welcome's roster_hash");
  }
  const own = roster[welcome.leafIndex];
  if (own === undefined)
    throw new RangeError("welcome.leafIndex: names an empty leaf of the roster");
  if (!constantTimeEqual(provider.ed25519PublicKey(init.signingSecretKey), own.signingKey)) {
    throw new RangeError("signingSecretKey: does not match our leaf's signing key");
  }
  const prekey = provider.x25519PublicKey(init.prekeySecret);
  if (!constantTimeEqual(prekey, own.prekey)) {
    throw new RangeError("prekeySecret: does not match our leaf's prekey");
  }
  const epochSecret = welcome.epochSecret.slice();
  const rekeySecret = deriveRekeySecret(provider, epochSecret);
  const { keys, initSecret } = enterEpoch({
    provider,
    group,
    epoch: welcome.epoch,
    epochSecret,
    roster,
    rosterHash: welcome.rosterHash,
    limits: init.limits,
  });
  if (!constantTimeEqual(keys.keyId, welcome.keyId)) {
    keys.destroy();
    wipe(initSecret, rekeySecret);
    throw new DecryptionFailedError();
  }
  const window = new EpochWindow(keys);
  for (const [index, entry] of welcome.history.entries()) {
    checkBytes(entry.epochSecret, 32, `welcome.history[${index}].epochSecret`);
    checkBytes(entry.rosterHash, 32, `welcome.history[${index}].rosterHash`);
    if (entry.epoch >= welcome.epoch) continue;
    const earlierRoster = init.historyRoster?.(entry.epoch, entry.rosterHash);
    if (earlierRoster === undefined) continue;
    if (!constantTimeEqual(rosterHash(provider, earlierRoster), entry.rosterHash)) continue;
    const earlier = enterEpoch({
      provider,
      group,
      epoch: entry.epoch,
      epochSecret: entry.epochSecret.slice(),
      roster: earlierRoster,
      rosterHash: entry.rosterHash,
      limits: init.limits,
    });
    wipe(earlier.initSecret);
    window.addHistory(earlier.keys, now);
  }
  return {
    group,
    leaf: welcome.leafIndex,
    signingSecretKey: init.signingSecretKey.slice(),
    identityKey: own.identityKey,
    prekeys: [{ secretKey: init.prekeySecret.slice(), publicKey: prekey }],
    leafSecret: welcome.leafSecret.slice(),
    leafEpoch: welcome.epoch,
    initSecret,
    epoch: welcome.epoch,
    keyId: keys.keyId.slice(),
    roster: keys.roster,
    removed: false,
    pending: undefined,
    window,
    rekeySecret,
    forkPoints: [],
  };
}
