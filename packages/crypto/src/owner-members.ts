/**
 * What the owner tracks per member (docs/PROTOCOL.md, "Re-keying"): each member's leaf secret `L_m`
 * with the epoch it was set at (its join, its last KeyUpdate or resync), and its latest prekey.
 * Joiners are placed in the lowest empty leaves; a KeyUpdate wraps for every remaining member with
 * its `L_m` as the salt, then moves each `L_m` one `evolve` step to the KeyUpdate's epoch (one HKDF
 * per member, whatever the number of add steps since), committed only once the KeyUpdate was built.
 *
 * Internal: `OwnerGroup` owns the member map; deliberately not exported from the package.
 *
 * @module
 */
import { toHex } from "@orgchat/base";
import { checkPrekey, checkRosterLeaf } from "./group-checks.js";
import type { MemberRecord } from "./group-state-encoding.js";
import type { RosterLeaf } from "./key-schedule.js";
import { evolveLeafSecret } from "./key-schedule.js";
import {
  type BuildKeyUpdateInit,
  buildKeyUpdate,
  type KeyUpdateChunk,
  type KeyUpdateRecipient,
} from "./key-update.js";
import type { Joiner } from "./owner-group-types.js";
import type { CryptoProvider } from "./provider.js";
import { checkBytes } from "./providers/checks.js";
import { wipe } from "./secret.js";

/** A joiner and the leaf it was given. */
export interface PlacedJoiner {
  readonly leaf: number;
  readonly joiner: Joiner;
}

/**
 * Places joiners in the lowest empty leaves of a copy of the roster, then extends it.
 *
 * @param provider - crypto provider (checks each prekey with one throw-away agreement)
 * @param current - the roster the next epoch starts from (not changed)
 * @param joiners - the joiners, in order
 * @param inRoster - the identity keys (hex) of `current`'s leaves, when the caller keeps them (see
 *   {@link rosterIdentities}; not changed): without it they are computed, O(roster) per call
 * @returns the new roster and where each joiner went
 * @throws {RangeError} / {TypeError} naming the argument: key lengths, a joiner already in the
 *   roster or listed twice
 * @throws {@link InvalidPublicKeyError} when a joiner's prekey is of small order
 */
export function placeJoiners(
  provider: CryptoProvider,
  current: ReadonlyArray<RosterLeaf | undefined>,
  joiners: readonly Joiner[],
  inRoster: ReadonlySet<string> = rosterIdentities(current),
): { roster: Array<RosterLeaf | undefined>; placed: PlacedJoiner[] } {
  const roster = [...current];
  const identities = new Set<string>();
  const placed: PlacedJoiner[] = [];
  let free = 0;
  const probe = provider.x25519KeyPair().secretKey;
  try {
    for (const [index, joiner] of joiners.entries()) {
      checkRosterLeaf(joiner.leaf, `joiners[${index}].leaf`);
      checkBytes(joiner.leafSecret, 32, `joiners[${index}].leafSecret`);
      const identity = toHex(joiner.leaf.identityKey);
      if (identities.has(identity) || inRoster.has(identity)) {
        throw new RangeError(
          `joiners[${index}]: this identity key is already in the roster (or listed twice)`,
        );
      }
      identities.add(identity);
      checkPrekey(provider, joiner.leaf.prekey, probe);
      while (free < roster.length && roster[free] !== undefined) free++;
      roster[free] = joiner.leaf;
      placed.push({ leaf: free, joiner });
    }
  } finally {
    wipe(probe);
  }
  return { roster, placed };
}

/**
 * The identity keys (hex) of a roster's leaves: what {@link placeJoiners} checks joiners against.
 *
 * @param roster - the roster
 * @returns a new set
 */
export function rosterIdentities(roster: ReadonlyArray<RosterLeaf | undefined>): Set<string> {
  const identities = new Set<string>();
  for (const leaf of roster) if (leaf !== undefined) identities.add(toHex(leaf.identityKey));
  return identities;
}

/**
 * Starts tracking the joiners of an add step.
 *
 * @param members - the owner's member map (changed)
 * @param placed - the joiners and their leaves
 * @param epoch - the epoch their leaf secrets belong to
 */
export function recordJoiners(
  members: Map<number, MemberRecord>,
  placed: readonly PlacedJoiner[],
  epoch: bigint,
): void {
  for (const { leaf, joiner } of placed) {
    members.set(leaf, {
      leafSecret: joiner.leafSecret.slice(),
      leafEpoch: epoch,
      prekey: joiner.leaf.prekey,
    });
  }
}

/**
 * The recipients of a KeyUpdate: every member not removed, ascending by leaf, with its leaf secret
 * as tracked (the KeyUpdate's salt; new arrays: nothing in `members` changes).
 *
 * @param members - the owner's member map
 * @param removed - the leaves the KeyUpdate removes
 * @returns the recipients
 */
export function keyUpdateRecipients(
  members: ReadonlyMap<number, MemberRecord>,
  removed: ReadonlySet<number>,
): KeyUpdateRecipient[] {
  const recipients: KeyUpdateRecipient[] = [];
  for (const [leaf, record] of members) {
    if (removed.has(leaf)) continue;
    recipients.push({ leaf, prekey: record.prekey, leafSecret: record.leafSecret.slice() });
  }
  return recipients.sort((a, b) => a.leaf - b.leaf);
}

/**
 * Commits a built KeyUpdate: every recipient's leaf secret moves one `evolve` step to `epoch` (the
 * salt just used is wiped: forward secrecy of this KeyUpdate against a later compromise), removed
 * members are forgotten (their secrets wiped).
 *
 * @param provider - crypto provider
 * @param members - the owner's member map (changed)
 * @param recipients - from {@link keyUpdateRecipients} (their secrets are wiped)
 * @param removed - the removed leaves
 * @param epoch - the KeyUpdate's epoch
 */
export function commitKeyUpdate(
  provider: CryptoProvider,
  members: Map<number, MemberRecord>,
  recipients: readonly KeyUpdateRecipient[],
  removed: ReadonlySet<number>,
  epoch: bigint,
): void {
  for (const recipient of recipients) {
    const record = members.get(recipient.leaf) as MemberRecord;
    const next = evolveLeafSecret(provider, record.leafSecret, epoch);
    wipe(record.leafSecret, recipient.leafSecret);
    record.leafSecret = next;
    record.leafEpoch = epoch;
  }
  for (const leaf of removed) {
    wipe(members.get(leaf)?.leafSecret);
    members.delete(leaf);
  }
}

/**
 * `buildKeyUpdate`, wiping the fresh epoch secret and every recipient's salt when it throws (the
 * owner's and a delegate's KeyUpdate alike): a refused KeyUpdate leaves no secret behind.
 *
 * @param init - as `buildKeyUpdate`, with `maxEntriesPerChunk` possibly undefined (the default)
 * @returns the chunks
 * @throws what `buildKeyUpdate` throws
 */
export function buildKeyUpdateOrWipe(
  init: Omit<BuildKeyUpdateInit, "maxEntriesPerChunk"> & {
    readonly maxEntriesPerChunk: number | undefined;
  },
): KeyUpdateChunk[] {
  const { maxEntriesPerChunk, ...rest } = init;
  try {
    return buildKeyUpdate({
      ...rest,
      ...(maxEntriesPerChunk === undefined ? {} : { maxEntriesPerChunk }),
    });
  } catch (cause) {
    wipe(init.epochSecret, ...init.recipients.map((r) => r.leafSecret));
    throw cause;
  }
}
