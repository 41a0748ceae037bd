/**
 * What a delegate whose own commit lost re-commits on the winner (`CommitForks`, docs/DELEGATION.md,
 * "Concurrent commits converge"): the joiners and departures its lost commits made that the active
 * roster lacks, as the state says now.
 *
 * @module
 */
import { toHex } from "@orgchat/base";
import type { MemberGroup } from "@orgchat/crypto";
import type { EpochRoster } from "./epoch-roster.js";
import type { MemberOrg } from "./org.js";

/** A roster leaf's member id, or none for an empty leaf. */
const leafId = (leaf: EpochRoster["roster"][number]): string[] =>
  leaf === undefined ? [] : [toHex(leaf.identityKey)];

/**
 * What a delegate re-commits after its commits `lost` lost: members its lost rosters held and the
 * active roster lacks, that the state still lists (joiners); members the active roster holds and
 * its lost rosters did not, that the state no longer lists and the lost commit's parent held
 * (departures; all of them when that parent's roster is not here). Never the owner, never
 * itself (the state and `commitRemove` refuse those anyway).
 */
export function recommitPlan(
  org: MemberOrg,
  group: Pick<MemberGroup, "roster">,
  lost: readonly EpochRoster[],
): { joiners: string[]; departures: string[] } {
  const active = new Set<string>();
  for (const leaf of group.roster) if (leaf !== undefined) active.add(toHex(leaf.identityKey));
  const members = org.log.state.members;
  const joiners = new Set<string>();
  const departures = new Set<string>();
  for (const roster of lost) {
    const held = new Set<string>();
    for (const leaf of roster.roster) if (leaf !== undefined) held.add(toHex(leaf.identityKey));
    for (const id of held) if (!active.has(id) && members.has(id)) joiners.add(id);
    // Only members of the lost commit's parent: one the winning branch added since (its
    // acceptance maybe not here yet) is not this commit's to remove.
    const parent = org.rosters.get(toHex(roster.previousKeyId))?.roster;
    const before = parent === undefined ? undefined : new Set(parent.flatMap(leafId));
    for (const id of active) {
      if (before !== undefined && !before.has(id)) continue;
      if (!held.has(id) && !members.has(id) && id !== org.hex) departures.add(id);
    }
  }
  return { joiners: [...joiners], departures: [...departures] };
}
