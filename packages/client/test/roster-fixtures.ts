/** Roster fixtures shared by the roster tests: seeded leaves and owner-made epochs. */
import { defaultProvider, type Roster, type RosterLeaf, rosterHash } from "@orgchat/crypto";
import type { EpochRoster, RosterChange } from "../src/epoch-roster.js";
import { seededRandom } from "./helpers.js";

const provider = defaultProvider();

/** `count` leaves with seeded keys. */
export function seededLeaves(count: number, seed: number): RosterLeaf[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => ({
    identityKey: random(32),
    signingKey: random(32),
    prekey: random(32),
  }));
}

/**
 * The epoch after `previous` (a genesis without it) with `roster`, as the owner records it.
 * @param keyId - the new epoch's key id
 */
export function nextEpoch(
  previous: EpochRoster | undefined,
  roster: Roster,
  keyId: Uint8Array,
  change: RosterChange = previous === undefined ? "genesis" : "add",
  channelId = "",
): EpochRoster {
  return {
    change,
    channelId,
    epoch: previous === undefined ? 0n : previous.epoch + 1n,
    keyId,
    previousKeyId: previous?.keyId ?? new Uint8Array(0),
    rosterHash: rosterHash(provider, roster),
    previousRosterHash: previous?.rosterHash ?? new Uint8Array(0),
    roster,
  };
}
