/**
 * The types of `MemberGroup`'s inputs and outcomes (re-exported from `member-group.ts`).
 *
 * @module
 */
import type { EpochLimits } from "./epoch-entry.js";
import type { Roster } from "./key-schedule.js";
import type { CryptoProvider } from "./provider.js";
import type { WelcomeInit } from "./welcome.js";

/**
 * The outcome of a member's epoch transition. Expected situations are statuses, not errors:
 *
 * - `applied`: the member is in `epoch` now;
 * - `stale`: the change is for an epoch we already reached (a duplicate or a replay): nothing to do;
 * - `gap`: the change does not follow our epoch (its previous key_id is not ours): fetch the missing
 *   control messages from Store, or request a resync; a KeyUpdate may be applied anyway with
 *   `acceptGap` (the epochs in between are lost);
 * - `not-in-chunk`: this chunk has no entry for us; look in `missingChunks`;
 * - `removed`: every chunk of the KeyUpdate was seen and none is for us: we are out of the group;
 * - `roster-mismatch`: the roster does not hash to the announced roster hash, or does not hold our
 *   leaf: pass the owner-signed roster of the new epoch;
 * - `key-mismatch`: the add step derived another key_id than the owner announced: request a resync.
 *
 * Nothing changes except on `applied` and `removed`.
 */
export type MemberTransition =
  | { readonly status: "applied"; readonly epoch: bigint; readonly keyId: Uint8Array }
  | { readonly status: "stale"; readonly epoch: bigint }
  | { readonly status: "gap"; readonly epoch: bigint; readonly currentEpoch: bigint }
  | {
      readonly status: "not-in-chunk";
      readonly epoch: bigint;
      readonly missingChunks: readonly number[];
    }
  | { readonly status: "removed"; readonly epoch: bigint }
  | { readonly status: "roster-mismatch"; readonly epoch: bigint }
  | { readonly status: "key-mismatch"; readonly epoch: bigint };

/** What {@link MemberGroup.fromWelcome} needs. */
export interface MemberGroupInit {
  readonly provider: CryptoProvider;
  /** The Welcome received over the pairwise channel (decoded, or as plain fields). */
  readonly welcome: WelcomeInit;
  /** The owner-signed roster of the Welcome's epoch (must hash to `welcome.rosterHash`). */
  readonly roster: Roster;
  /** The secret of our roster leaf's signing key `S_m`. */
  readonly signingSecretKey: Uint8Array;
  /** The secret of our roster leaf's prekey `P_m`. */
  readonly prekeySecret: Uint8Array;
  /** Current time in milliseconds (injected). */
  readonly now: number;
  /**
   * Rosters of earlier epochs, for a "shared" Welcome's history: an epoch whose roster is not
   * returned (or does not hash to the Welcome's) is left out, since its signatures cannot be checked.
   */
  readonly historyRoster?: (epoch: bigint, rosterHash: Uint8Array) => Roster | undefined;
  /** Message-protection limits. @default groupLimits */
  readonly limits?: EpochLimits;
  /**
   * `rosterHash(roster)`, when the caller already checked that the roster hashes to it (a client
   * keeps an owner-signed roster only once it does): saves hashing the whole roster again, O(N) per
   * Welcome. Trusted, not recomputed; still compared with the Welcome's `rosterHash`.
   * @default computed from `roster`
   */
  readonly rosterHash?: Uint8Array;
}

/** What {@link MemberGroup.applyAdd} needs. */
export interface ApplyAddInit {
  /** The owner-signed roster of the new epoch. */
  readonly roster: Roster;
  /** Current time in milliseconds. */
  readonly now: number;
  /** The epoch the owner announced (chain check); when set it must be ours + 1. */
  readonly epoch?: bigint;
  /** The key_id of the epoch the change replaces, if announced (chain check). */
  readonly previousKeyId?: Uint8Array;
  /** The new key_id, if announced: the derived one must match. */
  readonly keyId?: Uint8Array;
  /**
   * `rosterHash(roster)`, when the caller already checked that the roster hashes to it (a client
   * keeps an owner-signed roster only once it does): saves hashing the whole roster again, O(N) per
   * epoch. Trusted, not checked: pass `keyId` too, so that a wrong one ends in `key-mismatch`.
   * @default computed from `roster`
   */
  readonly rosterHash?: Uint8Array;
}

/** What {@link MemberGroup.restore} needs: the head {@link MemberGroup.takeParts} returned, and the rosters. */
export interface MemberGroupParts {
  /** The last head saved (or a whole state written by {@link MemberGroup.serialize}). */
  readonly head: Uint8Array;
  /** Every retained epoch's record saved, by key id (lower-case hex). @default none */
  readonly epochs?: Iterable<readonly [keyIdHex: string, record: Uint8Array]>;
  /** The roster of an epoch by key id (lower-case hex): those {@link MemberGroup.heldEpochs} named. */
  readonly roster: (keyIdHex: string) => Roster | undefined;
}
