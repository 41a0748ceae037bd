/**
 * The owner following a delegate's commit (docs/DELEGATION.md, "The owner returns"): the epoch
 * secret of a delegate's add step or KeyUpdate, and what changes in the owner's member records —
 * a placeholder leaf secret for each member a delegate added (until its `LeafHandover` arrives),
 * the departed members forgotten, every other record unchanged (a delegate KeyUpdate moves no
 * `L_m`).
 *
 * Internal: `OwnerGroup` owns the member map; deliberately not exported from the package.
 *
 * @module
 */
import { constantTimeEqual } from "./constant-time.js";
import { checkNow } from "./group-checks.js";
import type { MemberRecord, OwnerGroupState } from "./group-state-encoding.js";
import { addStepEpochSecret, type Roster, type RosterLeaf } from "./key-schedule.js";
import { type KeyUpdateChunk, keyUpdateVersion, openKeyUpdate } from "./key-update.js";
import { delegateSalt, deriveRekeySecret } from "./leaf-salts.js";
import type { CryptoProvider } from "./provider.js";
import { checkBytes } from "./providers/checks.js";
import { rosterHashOf } from "./roster-hashes.js";
import { wipe } from "./secret.js";

/** A delegate's `LeafHandover`, as `OwnerGroup.recordLeafSecret` takes it. */
export interface LeafHandoverInit {
  /** The member's leaf in the add step's roster. */
  readonly leaf: number;
  /** The member's identity key. */
  readonly member: Uint8Array;
  /** The add step's epoch. */
  readonly epoch: bigint;
  /** `L_m` as set at `epoch` (copied). */
  readonly leafSecret: Uint8Array;
}

/** What the owner is told about a delegate's commit. */
export interface FollowInit {
  /** The delegate-signed roster of the new epoch (its delta applied). */
  readonly roster: Roster;
  /** `rosterHash(roster)` when the caller checked it already. @default computed */
  readonly rosterHash?: Uint8Array;
  /** The new epoch: must be the owner's + 1. */
  readonly epoch: bigint;
  /** The key_id of the epoch the commit replaces: must be the owner's current one. */
  readonly previousKeyId: Uint8Array;
  /** The new epoch's key_id: the secret the owner derives or unwraps must give it. */
  readonly keyId: Uint8Array;
}

/**
 * The outcome of following a delegate's commit. Nothing changes unless `applied`:
 * - `stale` / `gap`: the commit is not on the owner's current epoch;
 * - `roster-mismatch`: the roster lost the owner's leaf, or does not hash to the KeyUpdate's;
 * - `key-mismatch`: the derived key_id is not the announced one (add step);
 * - `not-in-chunk`: this KeyUpdate chunk has no entry for the owner (try the others).
 */
export type OwnerFollow =
  | {
      readonly status: "applied";
      readonly epoch: bigint;
      /**
       * Leaves a delegate added whose leaf secret the owner does not hold: record it from the
       * delegate's `LeafHandover` (`recordLeafSecret`), or give the member a fresh one with a resync
       * Welcome, before the owner's next KeyUpdate (which can otherwise not reach them).
       */
      readonly awaitingLeafSecret: readonly number[];
    }
  | { readonly status: "stale" | "gap" | "roster-mismatch" | "key-mismatch" | "not-in-chunk" };

/** The checks every follow runs first: the chain, and the owner's leaf still there. */
export function followRefusal(
  state: OwnerGroupState,
  currentKeyId: Uint8Array,
  currentEpoch: bigint,
  init: FollowInit,
  now: number,
): OwnerFollow | undefined {
  checkNow(now);
  checkBytes(init.previousKeyId, 8, "init.previousKeyId");
  checkBytes(init.keyId, 8, "init.keyId");
  if (init.epoch <= currentEpoch) return { status: "stale" };
  if (init.epoch !== currentEpoch + 1n || !constantTimeEqual(init.previousKeyId, currentKeyId)) {
    return { status: "gap" };
  }
  const own = init.roster[state.leaf];
  const ownNow = state.roster[state.leaf];
  if (
    own === undefined ||
    ownNow === undefined ||
    !constantTimeEqual(own.identityKey, ownNow.identityKey)
  ) {
    return { status: "roster-mismatch" };
  }
  return undefined;
}

/** The epoch secret of a delegate's add step (the owner holds `init_secret[e]` too). */
export function followAddSecret(
  provider: CryptoProvider,
  state: OwnerGroupState,
  init: FollowInit,
): { epochSecret: Uint8Array; hash: Uint8Array } {
  const hash = init.rosterHash ?? rosterHashOf(provider, init.roster);
  return { epochSecret: addStepEpochSecret(provider, state.initSecret, hash, init.epoch), hash };
}

/**
 * The epoch secret of a delegate's KeyUpdate chunk, from the owner's own entry (salted with the
 * delegate salt of its leaf), or `undefined` when the chunk has none.
 *
 * @throws {@link DecryptionFailedError} for a tampered entry carrying the owner's hint
 */
export function followKeyUpdateSecret(
  provider: CryptoProvider,
  state: OwnerGroupState,
  chunk: KeyUpdateChunk,
  prekeySecret: Uint8Array,
): Uint8Array | undefined {
  if (chunk.channelId !== state.group.channelId) {
    throw new RangeError("chunk.channelId: this KeyUpdate is for another group");
  }
  if (chunk.version !== keyUpdateVersion) {
    throw new RangeError(`chunk.version: expected ${keyUpdateVersion}, got ${chunk.version}`);
  }
  checkBytes(prekeySecret, 32, "prekeySecret");
  const rekeySecret = deriveRekeySecret(provider, state.epochSecret);
  const salt = delegateSalt(provider, rekeySecret, state.leaf);
  try {
    return openKeyUpdate({ provider, group: state.group, chunk, prekeySecret, leafSecret: salt });
  } finally {
    wipe(rekeySecret, salt);
  }
}

/**
 * Brings the member records in line with the new roster: members gone are forgotten (secrets
 * wiped), members a delegate added get a random placeholder leaf secret set at `epoch` (so that
 * every member leaf has a record, as a restart requires), and the records' rotated prekeys go
 * back into the next epoch's roster.
 *
 * @returns the roster the next epoch starts from, and the leaves awaiting their leaf secret
 */
export function followMembers(
  provider: CryptoProvider,
  state: OwnerGroupState,
  roster: Roster,
  epoch: bigint,
): { next: Roster; added: number[]; gone: number[] } {
  const added: number[] = [];
  const gone: number[] = [];
  for (const [leaf, record] of state.members) {
    const entry = roster[leaf];
    const before = state.roster[leaf];
    if (entry !== undefined && before !== undefined) {
      if (constantTimeEqual(entry.identityKey, before.identityKey)) continue;
    }
    wipe(record.leafSecret);
    state.members.delete(leaf);
    gone.push(leaf);
  }
  let next: Array<RosterLeaf | undefined> | undefined;
  for (const [leaf, entry] of roster.entries()) {
    if (entry === undefined || leaf === state.leaf) continue;
    const record = state.members.get(leaf);
    if (record === undefined) {
      const placeholder: MemberRecord = {
        leafSecret: provider.randomBytes(32),
        leafEpoch: epoch,
        prekey: entry.prekey,
      };
      state.members.set(leaf, placeholder);
      added.push(leaf);
    } else if (!constantTimeEqual(record.prekey, entry.prekey)) {
      next ??= [...roster];
      next[leaf] = { ...entry, prekey: record.prekey };
    }
  }
  return { next: next ?? roster, added, gone };
}

/**
 * Puts a delegate's handover of `L_m` in place of the placeholder (see
 * `OwnerGroup.recordLeafSecret` for the checks and what they throw).
 */
export function recordHandover(state: OwnerGroupState, handover: LeafHandoverInit): void {
  checkBytes(handover.leafSecret, 32, "handover.leafSecret");
  const record = state.members.get(handover.leaf);
  const entry = state.roster[handover.leaf];
  if (
    record === undefined ||
    entry === undefined ||
    !constantTimeEqual(entry.identityKey, handover.member)
  ) {
    throw new RangeError(`handover.leaf: ${handover.leaf} is not that member's leaf`);
  }
  if (record.leafEpoch !== handover.epoch) {
    throw new RangeError(
      "handover.epoch: the owner re-keyed this member since; resync it with a fresh leaf secret",
    );
  }
  wipe(record.leafSecret);
  record.leafSecret = handover.leafSecret.slice();
}
