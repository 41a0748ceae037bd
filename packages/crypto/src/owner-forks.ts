/**
 * The owner's fork points (docs/PROTOCOL.md, "The owner's return"; docs/DELEGATION.md, "Concurrent
 * commits converge"): an owner that follows a delegate's commit on epoch e may learn later of a
 * sibling commit on e that wins (the winner order: `compareCommits`). To move to it, the owner keeps
 * what a child of e needs, as a member keeps its fork points (`member-forks.ts`), and more: the
 * owner goes on as the owner on the winner, so it keeps e's member records too (the leaf secrets
 * its next KeyUpdate salts with: its own KeyUpdates on the losing branch moved them).
 *
 * Kept outside the owner's head (the caller stores each point, encrypted): a point holds
 * O(members) bytes, and is taken only when the owner follows a delegate's commit. Bounded by
 * {@link ownerForkPointLimits}: count and age.
 *
 * @module
 */

import { constantTimeEqual } from "./constant-time.js";
import { epochRetention } from "./epoch-window.js";
import { checkNow } from "./group-checks.js";
import { type MemberRecord, type OwnerGroupState, restoring } from "./group-state-encoding.js";
import { deriveKeyId, type Roster } from "./key-schedule.js";
import type { KeyUpdateChunk } from "./key-update.js";
import {
  type FollowInit,
  followAddSecret,
  followKeyUpdateSecret,
  followRefusal,
  type OwnerFollow,
} from "./owner-follow.js";
import type { CryptoProvider } from "./provider.js";
import { rosterHashOf } from "./roster-hashes.js";
import { wipe } from "./secret.js";
import { StateWriter } from "./state-bytes.js";

/**
 * The bounds of the owner's fork points: at most `maxPoints` (the newest), each for `windowMs`
 * after the owner left its epoch (the retention window of epochs, 24 h). A sibling that arrives
 * later cannot be entered: the owner stays where it is (members then switch to its chain, as they
 * do for any commit of the owner's on a later epoch).
 */
export const ownerForkPointLimits = {
  maxPoints: 8,
  windowMs: epochRetention.windowMs,
} as const;

/** What the owner keeps of an epoch it left by following a delegate's commit (secrets: wipe). */
export interface OwnerForkPoint {
  readonly epoch: bigint;
  readonly keyId: Uint8Array;
  /** `init_secret[e]`: a sibling add step derives from it. */
  readonly initSecret: Uint8Array;
  /** `epoch_secret[e]`: a sibling KeyUpdate's entry for the owner is salted from its rekey secret. */
  readonly epochSecret: Uint8Array;
  /** The roster the next epoch started from. */
  readonly roster: Roster;
  /** Every member's record as it was in epoch e (copies), by leaf. */
  readonly members: ReadonlyMap<number, MemberRecord>;
  /** When the owner left the epoch (ms): the window counts from here. */
  readonly leftAt: number;
}

/** A sibling commit {@link OwnerGroup.enterSibling} enters: a delegate's add step or KeyUpdate. */
export type OwnerSibling =
  | { readonly kind: "add"; readonly init: FollowInit }
  | {
      readonly kind: "key-update";
      /** A chunk of the KeyUpdate (from a verified envelope): the owner's entry is tried. */
      readonly chunk: KeyUpdateChunk;
      readonly init: Pick<FollowInit, "roster" | "rosterHash"> & {
        readonly prekeySecret: Uint8Array;
      };
    };

/** Wipes every secret of a fork point (dropped, or replaced). */
export function wipeOwnerForkPoint(point: OwnerForkPoint): void {
  wipe(point.initSecret, point.epochSecret);
  for (const record of point.members.values()) wipe(record.leafSecret);
}

/** A copy of a member record (its secret copied). */
export function copyMemberRecord(record: MemberRecord): MemberRecord {
  return {
    leafSecret: record.leafSecret.slice(),
    leafEpoch: record.leafEpoch,
    prekey: record.prekey.slice(),
  };
}

/**
 * Of the points given, those to keep at `now` (the window, then the newest `maxPoints`); the
 * others are wiped.
 *
 * @param points - fork points, oldest first
 * @param now - current time in milliseconds
 * @returns the points kept, oldest first
 */
export function pruneOwnerForkPoints(
  points: readonly OwnerForkPoint[],
  now: number,
): OwnerForkPoint[] {
  const kept = points.filter((point) => now - point.leftAt < ownerForkPointLimits.windowMs);
  const over = Math.max(0, kept.length - ownerForkPointLimits.maxPoints);
  const dropped = [...points.filter((point) => !kept.includes(point)), ...kept.splice(0, over)];
  for (const point of dropped) wipeOwnerForkPoint(point);
  return kept;
}

const magic = new TextEncoder().encode("orgchat/v1/owner-fork-point");
const version = 1;

/**
 * `magic ‖ u8 version ‖ u64 epoch ‖ key_id (8) ‖ f64 left at ‖ init_secret (32) ‖ epoch_secret
 * (32) ‖ roster ‖ u32 count ‖ count × (u32 leaf ‖ u64 leaf epoch ‖ leaf secret (32) ‖ prekey (32))`.
 *
 * @param point - the fork point
 * @returns its bytes (secrets: store them encrypted)
 */
export function writeOwnerForkPoint(point: OwnerForkPoint): Uint8Array {
  const writer = new StateWriter();
  writer.fixed(magic);
  writer.u8(version);
  writer.u64(point.epoch);
  writer.fixed(point.keyId);
  writer.f64(point.leftAt);
  writer.fixed(point.initSecret);
  writer.fixed(point.epochSecret);
  writer.roster(point.roster);
  writer.u32(point.members.size);
  for (const [leaf, record] of point.members) {
    writer.u32(leaf);
    writer.u64(record.leafEpoch);
    writer.fixed(record.leafSecret);
    writer.fixed(record.prekey);
  }
  return writer.finish();
}

/**
 * Reads what {@link writeOwnerForkPoint} wrote.
 *
 * @param bytes - the point's bytes
 * @returns the fork point
 * @throws {@link StateCorruptedError} for bytes that are not one (a member record for an empty
 *   leaf or outside the roster, a leaf twice, a truncated record)
 */
export function readOwnerForkPoint(bytes: Uint8Array): OwnerForkPoint {
  return restoring("owner fork point", bytes, (reader) => {
    reader.magic(magic, version, "owner fork point");
    const epoch = reader.u64();
    const keyId = reader.fixed(8);
    const leftAt = reader.f64();
    const initSecret = reader.fixed(32);
    const epochSecret = reader.fixed(32);
    const roster = reader.roster();
    const count = reader.u32();
    if (count > roster.length)
      throw new RangeError(`${count} member records, ${roster.length} leaves`);
    const members = new Map<number, MemberRecord>();
    for (let i = 0; i < count; i++) {
      const leaf = reader.u32();
      const leafEpoch = reader.u64();
      const leafSecret = reader.fixed(32);
      const prekey = reader.fixed(32);
      if (roster[leaf] === undefined || members.has(leaf)) {
        throw new RangeError(`member record of leaf ${leaf}: not a member leaf, or twice`);
      }
      members.set(leaf, { leafEpoch, leafSecret, prekey });
    }
    return { epoch, keyId, leftAt, initSecret, epochSecret, roster, members };
  });
}

/** The fork point of the owner's current epoch (copies of its secrets and member records). */
export function takeForkPoint(
  state: OwnerGroupState,
  epoch: bigint,
  keyId: Uint8Array,
  now: number,
): OwnerForkPoint {
  checkNow(now);
  const members = new Map<number, MemberRecord>();
  for (const [leaf, record] of state.members) members.set(leaf, copyMemberRecord(record));
  return {
    epoch,
    keyId,
    initSecret: state.initSecret.slice(),
    epochSecret: state.epochSecret.slice(),
    roster: [...state.roster],
    members,
    leftAt: now,
  };
}

/**
 * The epoch secret of a sibling commit on `point`, with the checks of a follow (`followRefusal`)
 * run against the point instead of the current epoch.
 */
export function openSibling(
  provider: CryptoProvider,
  state: OwnerGroupState,
  point: OwnerForkPoint,
  sibling: OwnerSibling,
  now: number,
): OwnerFollow | { follow: FollowInit; epochSecret: Uint8Array; hash: Uint8Array } {
  const parent: OwnerGroupState = { ...state, ...point, members: new Map(point.members) };
  const follow: FollowInit =
    sibling.kind === "add"
      ? sibling.init
      : {
          ...sibling.init,
          epoch: sibling.chunk.epoch,
          previousKeyId: sibling.chunk.previousKeyId,
          keyId: sibling.chunk.keyId,
        };
  const refused = followRefusal(parent, point.keyId, point.epoch, follow, now);
  if (refused !== undefined) return refused;
  if (sibling.kind === "add") {
    const { epochSecret, hash } = followAddSecret(provider, parent, follow);
    const keyId = deriveKeyId(provider, state.group, follow.epoch, epochSecret);
    if (constantTimeEqual(keyId, follow.keyId)) return { follow, epochSecret, hash };
    wipe(epochSecret);
    return { status: "key-mismatch" };
  }
  const hash = follow.rosterHash ?? rosterHashOf(provider, follow.roster);
  if (!constantTimeEqual(hash, sibling.chunk.rosterHash)) return { status: "roster-mismatch" };
  const { chunk, init } = sibling;
  const epochSecret = followKeyUpdateSecret(provider, parent, chunk, init.prekeySecret);
  return epochSecret === undefined ? { status: "not-in-chunk" } : { follow, epochSecret, hash };
}

/**
 * Puts the point's secrets, roster and member records (copies) back into the owner's state (the
 * sibling is entered next); the history's epochs of the losing branch go (no Welcome carries them).
 *
 * @returns the leaves whose record changed (every leaf of either)
 */
export function restoreForkPoint(state: OwnerGroupState, point: OwnerForkPoint): number[] {
  const leaves = [...state.members.keys(), ...point.members.keys()];
  for (const record of state.members.values()) wipe(record.leafSecret);
  state.members.clear();
  for (const [leaf, record] of point.members) state.members.set(leaf, copyMemberRecord(record));
  wipe(state.initSecret, state.epochSecret);
  state.initSecret = point.initSecret.slice();
  state.epochSecret = point.epochSecret.slice();
  state.roster = point.roster;
  for (const entry of state.history) if (entry.epoch > point.epoch) wipe(entry.epochSecret);
  state.history = state.history.filter((entry) => entry.epoch <= point.epoch);
  return leaves;
}
