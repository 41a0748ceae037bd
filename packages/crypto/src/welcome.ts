/**
 * The Welcome (docs/PROTOCOL.md, "Re-keying"): what the owner sends a joiner, or a member it
 * resyncs, over their pairwise channel, with the epoch secret of the current epoch and, under the
 * "shared" history policy, the earlier epochs the owner keeps.
 *
 * @module
 */
import { wireLimits } from "@orgchat/wire";
import type { GroupId } from "./key-schedule.js";
import { checkBytes } from "./providers/checks.js";

/** The Welcome format version this library writes and reads. */
export const welcomeVersion = 1;

/** An earlier epoch a "shared" Welcome carries (and the owner keeps for the next ones). */
export interface WelcomeHistoryEntry {
  readonly epoch: bigint;
  readonly epochSecret: Uint8Array;
  readonly rosterHash: Uint8Array;
}

/** A Welcome as plain fields: what `encodeWelcome` takes and `decodeWelcome` returns. */
export interface WelcomeInit {
  readonly version: number;
  readonly organizationId: Uint8Array;
  readonly channelId: string;
  readonly epoch: bigint;
  readonly epochSecret: Uint8Array;
  readonly rosterHash: Uint8Array;
  readonly keyId: Uint8Array;
  readonly leafIndex: number;
  readonly leafSecret: Uint8Array;
  /** Earlier epochs ("shared" history only). */
  readonly history: WelcomeHistoryEntry[];
}

/**
 * Copies of history entries (a Welcome holds its own copies of the secrets).
 *
 * @param history - the entries the owner keeps
 * @param before - keep only the epochs before this one. @default every entry
 * @returns new entries with copied secrets
 */
export function copyHistory(
  history: readonly WelcomeHistoryEntry[],
  before?: bigint,
): WelcomeHistoryEntry[] {
  return history
    .filter((entry) => before === undefined || entry.epoch < before)
    .map((entry) => ({
      epoch: entry.epoch,
      epochSecret: entry.epochSecret.slice(),
      rosterHash: entry.rosterHash.slice(),
    }));
}

/**
 * What {@link makeWelcome} puts in a Welcome: the Welcome's fields but the version and the group,
 * with the group. Every byte string is copied except `history` (already copies).
 */
export type MakeWelcomeInit = Omit<WelcomeInit, "version" | "organizationId" | "channelId"> & {
  readonly group: GroupId;
};

/**
 * A Welcome of this library's version, holding its own copies of every secret.
 *
 * @param init - the epoch and the recipient's leaf
 * @returns the Welcome fields (encode with `encodeWelcome`; they hold secrets: encrypt at once)
 */
export function makeWelcome(init: MakeWelcomeInit): WelcomeInit {
  return {
    version: welcomeVersion,
    organizationId: init.group.organizationId.slice(),
    channelId: init.group.channelId,
    epoch: init.epoch,
    epochSecret: init.epochSecret.slice(),
    rosterHash: init.rosterHash.slice(),
    keyId: init.keyId.slice(),
    leafIndex: init.leafIndex,
    leafSecret: init.leafSecret.slice(),
    history: init.history,
  };
}

/**
 * Checks a received Welcome's version and field lengths (not yet its secrets against its roster).
 *
 * @param welcome - the Welcome
 * @throws {RangeError} / {TypeError} naming the field: an unknown version, a wrong length
 */
export function checkWelcome(welcome: WelcomeInit): void {
  if (welcome.version !== welcomeVersion) {
    throw new RangeError(`welcome.version: expected ${welcomeVersion}, got ${welcome.version}`);
  }
  checkBytes(welcome.organizationId, 32, "welcome.organizationId");
  checkBytes(welcome.epochSecret, 32, "welcome.epochSecret");
  checkBytes(welcome.rosterHash, 32, "welcome.rosterHash");
  checkBytes(welcome.keyId, wireLimits.keyIdBytes, "welcome.keyId");
  checkBytes(welcome.leafSecret, 32, "welcome.leafSecret");
}
