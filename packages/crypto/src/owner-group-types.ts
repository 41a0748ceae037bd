/**
 * The types of `OwnerGroup`'s inputs and outcomes (re-exported from `owner-group.ts`).
 *
 * @module
 */
import type { EpochLimits } from "./epoch-entry.js";
import type { GroupId, Roster, RosterLeaf } from "./key-schedule.js";
import type { KeyUpdateChunk } from "./key-update.js";
import type { CryptoProvider } from "./provider.js";
import type { WelcomeInit } from "./welcome.js";

/**
 * Who may read a group's earlier epochs (docs/PROTOCOL.md, "Re-keying"):
 * - `"joined"` (default): a joiner gets no earlier epoch (backward secrecy: the add step is one-way);
 * - `"shared"` (explicit opt-in): the Welcome also carries the earlier epoch secrets the owner holds.
 */
export type HistoryPolicy = "joined" | "shared";

/**
 * Default interval of the periodic refresh: 48 hours (Status re-keys on the same period). A refresh
 * is a KeyUpdate with fresh randomness: the post-compromise security point of every member.
 */
export const refreshIntervalMs = 48 * 60 * 60 * 1000;

/** A joiner of an add step. */
export interface Joiner {
  /** The joiner's public keys (identity, signing key `S_m`, prekey `P_m`). */
  readonly leaf: RosterLeaf;
  /** Initial leaf secret `L_m` (32 bytes, e.g. from the X3DH secret); the owner keeps a copy. */
  readonly leafSecret: Uint8Array;
}

/** What the owner publishes after an add step. */
export interface OwnerAdd {
  readonly epoch: bigint;
  readonly keyId: Uint8Array;
  readonly previousKeyId: Uint8Array;
  readonly rosterHash: Uint8Array;
  /** The roster of the new epoch: publish it owner-signed, members call `applyAdd` with it. */
  readonly roster: Roster;
  /** One Welcome per joiner, for its pairwise channel (`encodeWelcome`): encrypt at once, drop. */
  readonly welcomes: ReadonlyArray<{ readonly leaf: number; readonly welcome: WelcomeInit }>;
}

/** What the owner publishes after a removal or a refresh. */
export interface OwnerKeyUpdate {
  readonly epoch: bigint;
  readonly keyId: Uint8Array;
  readonly previousKeyId: Uint8Array;
  readonly rosterHash: Uint8Array;
  /** The roster of the new epoch (removed leaves empty). */
  readonly roster: Roster;
  /** The KeyUpdate chunks: seal them with `sealKeyUpdate` (empty when the owner is alone). */
  readonly chunks: readonly KeyUpdateChunk[];
}

/** What {@link OwnerGroup.create} needs. */
export interface OwnerGroupInit {
  readonly provider: CryptoProvider;
  /** The organization (`channelId` `""`) or a restricted channel. */
  readonly group: GroupId;
  /** The owner's own roster leaf (leaf 0). */
  readonly ownLeaf: RosterLeaf;
  /** The secret of `ownLeaf.signingKey`: signs the owner's group messages. */
  readonly signingSecretKey: Uint8Array;
  /** @default "joined" */
  readonly historyPolicy?: HistoryPolicy;
  /** Current time in milliseconds (injected). */
  readonly now: number;
  /** Message-protection limits passed to every epoch's `EpochKeys`. @default groupLimits */
  readonly limits?: EpochLimits;
  /** Entries per KeyUpdate chunk (1 to 3,400). @default 3400 */
  readonly maxEntriesPerChunk?: number;
}

/**
 * What {@link OwnerGroup.regenesis} needs: a restored owner's new start of a group
 * (docs/RESTORE.md, "Owner continuity"), at an epoch above every one seen, with the roster it takes
 * over. Leaf 0 is the owner's (`ownLeaf`); the other leaves keep their places.
 */
export interface OwnerRegenesisInit extends OwnerGroupInit {
  /** The first epoch: above every epoch of the group seen anywhere (1 to 2⁶⁴ − 1). */
  readonly epoch: bigint;
  /**
   * The roster taken over (e.g. the newest verified one, minus the members who left): leaf 0 must
   * carry `ownLeaf`'s identity key (its keys are replaced by `ownLeaf`'s); at most
   * `wireLimits.maxRosterLeaves` leaves, no identity key twice.
   */
  readonly roster: Roster;
}

/** Options of {@link OwnerGroup.deserialize}: settings that are not part of the saved state. */
export interface OwnerGroupOptions {
  /** Limits for epochs created from now on (restored epochs keep theirs). @default groupLimits */
  readonly limits?: EpochLimits;
  /** Entries per KeyUpdate chunk. @default 3400 */
  readonly maxEntriesPerChunk?: number;
}

/** What {@link OwnerGroup.restore} needs: the parts {@link OwnerGroup.takeParts} returned, and the rosters. */
export interface OwnerGroupParts {
  /** The last head saved (or a whole state written by {@link OwnerGroup.serialize}). */
  readonly head: Uint8Array;
  /** Every member record saved, by leaf (ignored for a whole state). */
  readonly members: Iterable<readonly [leaf: number, record: Uint8Array]>;
  /** Every retained epoch's record saved, by key id (lower-case hex). @default none */
  readonly epochs?: Iterable<readonly [keyIdHex: string, record: Uint8Array]>;
  /** The roster of an epoch by key id (lower-case hex): those {@link OwnerGroup.heldEpochs} named. */
  readonly roster: (keyIdHex: string) => Roster | undefined;
  /**
   * Retained epochs' rosters checked against their records' hashes at `restore`, or at each one's
   * first use (a late message, its record rewritten: a mismatch throws {@link StateCorruptedError}
   * there; a restart hashes ~1.7 ms less per retained epoch at 10,000 members). @default "restore"
   */
  readonly retainedRosterChecks?: "restore" | "first-use";
}
