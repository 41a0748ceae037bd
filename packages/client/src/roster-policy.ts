/**
 * When the owner publishes a full roster snapshot on a group's keys topic rather than a delta alone
 * (docs/CLIENT.md, "Epoch rosters"). A reader that catches up newest first (`KeySync.catchUp`)
 * reads back to the newest snapshot: publishing one once the deltas since the last weigh as much as
 * a snapshot bounds that read to about two snapshots' worth of messages, and costs the network at
 * most one extra snapshot per snapshot's worth of deltas (twice the delta bytes, amortized).
 */
import type { Roster } from "@orgchat/crypto";
import { wireLimits } from "@orgchat/wire";
import type { RosterChange } from "./epoch-roster.js";

/** The numbers of the publication policy. */
export const rosterPublicationPolicy = {
  /** A snapshot once the delta bytes published since the last one reach this share of one. */
  deltaShare: 1,
  /**
   * …and at least this many bytes of deltas: a newest-first read costs a history page (100
   * messages, ~38 KB of one-leaf deltas) anyway, so a small group's snapshot (a few hundred bytes)
   * is not worth publishing every other epoch.
   */
  minDeltaBytes: 32 * 1024,
  /** Estimated sealed bytes per leaf of a snapshot page (three 32-byte keys, index, framing). */
  snapshotLeafBytes: 104,
  /** Estimated sealed bytes per snapshot page besides its leaves (envelope, header, signature). */
  snapshotPageBytes: 320,
} as const;

/**
 * The estimated sealed size of a snapshot of `roster` (pages of `wireLimits.maxRosterLeavesPerPage`
 * leaves): what {@link snapshotDue} compares the deltas with.
 * @param roster - the roster
 */
export function snapshotWireBytes(roster: Roster): number {
  let present = 0;
  for (const leaf of roster) if (leaf != null) present++;
  const pages = Math.max(1, Math.ceil(present / wireLimits.maxRosterLeavesPerPage));
  return (
    present * rosterPublicationPolicy.snapshotLeafBytes +
    pages * rosterPublicationPolicy.snapshotPageBytes
  );
}

/**
 * Whether an epoch's roster goes out as a paged snapshot (pure):
 * - genesis (nothing to apply a delta to), or a change too large for one delta;
 * - the delta bytes published since the last snapshot of the group unknown (after a start: one
 *   snapshot then, so that the bound holds across restarts);
 * - those bytes, this delta's included, reaching `deltaShare` of the snapshot's size (and at least
 *   `minDeltaBytes`).
 * Resync answers and periodic snapshots are decided elsewhere (`snapshotAllowed`).
 *
 * @param input.change - how the group entered the epoch
 * @param input.deltaFits - whether a delta message could be made (`rosterDeltaMessage`)
 * @param input.deltaBytesSinceSnapshot - sealed delta bytes published since the last snapshot
 * @param input.deltaBytes - this epoch's sealed delta
 * @param input.snapshotBytes - the snapshot's estimated size ({@link snapshotWireBytes})
 * @returns true to publish a snapshot (the delta, if any, goes out too: live members apply it)
 */
export function snapshotDue(input: {
  readonly change: RosterChange;
  readonly deltaFits: boolean;
  readonly deltaBytesSinceSnapshot: number | undefined;
  readonly deltaBytes: number;
  readonly snapshotBytes: number;
}): boolean {
  if (input.change === "genesis" || !input.deltaFits) return true;
  if (input.deltaBytesSinceSnapshot === undefined) return true;
  return (
    input.deltaBytesSinceSnapshot + input.deltaBytes >=
    Math.max(
      rosterPublicationPolicy.deltaShare * input.snapshotBytes,
      rosterPublicationPolicy.minDeltaBytes,
    )
  );
}

/**
 * The owner's running count of delta bytes published per group since its last snapshot (memory
 * only: unknown after a start, which {@link snapshotDue} answers with a snapshot).
 */
export class RosterCadence {
  readonly #since = new Map<string, number>();

  /** The delta bytes published since the last snapshot of `group` (org hex + channel), if known. */
  since(org: string, channelId: string): number | undefined {
    return this.#since.get(`${org}/${channelId}`);
  }

  /** A delta of `bytes` went out. */
  noteDelta(org: string, channelId: string, bytes: number): void {
    const key = `${org}/${channelId}`;
    const since = this.#since.get(key);
    if (since !== undefined) this.#since.set(key, since + bytes);
  }

  /** A snapshot went out: the count starts again. */
  noteSnapshot(org: string, channelId: string): void {
    this.#since.set(`${org}/${channelId}`, 0);
  }
}
