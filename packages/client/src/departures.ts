import { equalBytes, toHex } from "@orgchat/base";
import type { Roster } from "@orgchat/crypto";
import { canPost, diffMap, type Member, type MemberId, type OrgState } from "@orgchat/state";
import type { EpochRoster } from "./epoch-roster.js";
import type { MemberOrg, Org } from "./org.js";
import { isRestricted } from "./views.js";

/**
 * At most this many departed members are remembered per organization (`Org.departed`, about
 * 67 bytes each in the organization's `departed` record, written when it changes); beyond it the oldest are forgotten, and a post of theirs
 * is held (bounded) instead of dropped.
 */
export const maxDepartedRemembered = 10_000;

/**
 * Remembers who left the state between `before` and now, and forgets who is back (a unit of work's
 * change, before it is committed). Costs what the unit of work changed (`diffMap` of the member
 * maps), not the size of the organization nor of `Org.departed`.
 * @param org - the organization, its state after the unit of work
 * @param before - its state before
 * @returns whether `Org.departed` changed (the `departed` record is written then)
 */
export function noteDepartures(org: Org, before: OrgState): boolean {
  const after = org.log.state;
  if (after.members === before.members) return false;
  let changed = false;
  const { joined, departed } = memberChanges(before.members, after.members);
  for (const id of departed) {
    // Re-inserted: the newest departures are the last forgotten.
    org.departed.delete(id);
    org.departed.add(id);
    changed = true;
  }
  for (const id of joined) changed = org.departed.delete(id) || changed;
  for (const id of org.departed) {
    if (org.departed.size <= maxDepartedRemembered) break;
    org.departed.delete(id);
  }
  return changed;
}

/** Who joined, departed or changed between two member maps (see {@link memberChanges}). */
export interface MemberChanges {
  readonly joined: readonly MemberId[];
  readonly departed: readonly MemberId[];
  /** Members in both whose record changed: before and after. */
  readonly changed: readonly (readonly [before: Member, after: Member])[];
}

/** The last pair diffed: a commit asks twice (`noteDepartures`, `EventLog.emitDiff`). */
let lastChanges:
  | { before: OrgState["members"]; after: OrgState["members"]; changes: MemberChanges }
  | undefined;

/**
 * The members that joined, departed or changed between two member maps (a unit of work's change):
 * a structural diff (`diffMap`), so it costs what changed, not the organization's size; the last
 * answer is remembered for the same pair of maps.
 * @param before - the member map before
 * @param after - the member map after
 * @returns the ids joined and departed, and the changed records
 */
export function memberChanges(
  before: OrgState["members"],
  after: OrgState["members"],
): MemberChanges {
  if (lastChanges?.before === before && lastChanges.after === after) return lastChanges.changes;
  const joined: MemberId[] = [];
  const departed: MemberId[] = [];
  const changed: (readonly [Member, Member])[] = [];
  diffMap(before, after, {
    added: (id) => joined.push(id),
    removed: (id) => departed.push(id),
    changed: (_, was, member) => changed.push([was, member]),
  });
  const changes = { joined, departed, changed };
  lastChanges = { before, after, changes };
  return changes;
}

/** Per roster, the member ids it lists (rosters never change once built). */
const listedIds = new WeakMap<Roster, ReadonlySet<string>>();

/**
 * Whether `roster` lists `member`: the roster's ids are built once per roster (rosters never change
 * once built), so asking again costs a set lookup, not a walk of every leaf.
 */
export function rosterLists(roster: Roster, member: MemberId): boolean {
  let ids = listedIds.get(roster);
  if (ids === undefined) {
    const built = new Set<string>();
    for (const leaf of roster) if (leaf !== undefined) built.add(toHex(leaf.identityKey));
    listedIds.set(roster, built);
    ids = built;
  }
  return ids.has(member);
}

/**
 * Whether what this client knows now says `author` may no longer post in `channelId`: banned,
 * removed, gone (its leave accepted) or taken off the channel (docs/CLIENT.md, "Posts of departed
 * members"). A channel message of such an author that arrives now is dropped, whatever epoch it was
 * encrypted in and whatever clock or `sentAt` it claims: the epoch roster that proves it a member
 * when the epoch began says nothing about now, and a removed member keeps its old group state.
 *
 * - The owner decides membership and channel access: its state is the truth, so an author that is
 *   not a member there now (or has no access to the channel) has departed (or never joined).
 * - A member's state is the newest description's: it may lag behind the owner both ways. So the
 *   ban list and accepted leaves of its state count, the members it saw leave its state
 *   (`Org.departed`), and the owner-signed roster of the
 *   newest epoch it holds of the channel's group (the organization's for an open channel): an
 *   author it does not list has been taken out since (an author it lists but the description does
 *   not yet is a newcomer: its post is kept). A removal that happened before this member
 *   joined, in a public organization (no rosters), cannot be told from an author not described
 *   yet: such a post is held (bounded) until a description lists its author.
 *
 * The roster judged is the newest one on the member's branch ({@link departureRoster}): a roster
 * of a losing branch (a commit that lost at a fork point, and what was committed on top of it) says
 * nothing of who is a member now.
 *
 * @param org - the organization, as this client knows it now
 * @param author - the post's author (member id)
 * @param channelId - the channel it was posted in
 * @param forks - the winner order of branches (`CommitForks`); without it the newest roster held is
 *   judged, whatever its branch
 * @returns true when the post must be dropped
 */
export function hasDeparted(
  org: Org,
  author: MemberId,
  channelId: string,
  forks?: BranchOrder,
): boolean {
  if (author === org.hex) return false;
  const state = org.log.state;
  if (state.banned.has(author)) return true;
  if (org.role === "owner") {
    return (
      !state.members.has(author) ||
      (state.channels.has(channelId) && !canPost(state, author, channelId))
    );
  }
  if (!state.members.has(author)) {
    if (org.departed.has(author)) return true;
    for (const leave of state.leaveRequests.values()) {
      if (leave.member === author && leave.status === "accepted") return true;
    }
  }
  const groupId = isRestricted(state, channelId) ? channelId : "";
  const roster = departureRoster(org, groupId, forks);
  return roster !== undefined && !rosterLists(roster.roster, author);
}

/** The winner order of branches (`CommitForks`). */
export interface BranchOrder {
  /** Whether commit `a`'s branch loses to commit `b`'s (key ids, hex). */
  branchLoses(org: MemberOrg, a: string, b: string): boolean;
}

/**
 * The roster a member judges departures by in group `groupId` ({@link hasDeparted}): the newest
 * epoch's it holds, unless that epoch is on a branch that loses to the group's current epoch; then
 * the current epoch's. The newest roster may be a losing commit's, or one on top of it: owner seed 1,
 * script 8 of the fork profile, where admin a1's removal of n2 (epoch 11) was on the admins' branch
 * that lost to the owner's at epoch 8; the winning chain's epoch 11 lists n2, and a1 dropped n2's
 * posts as a departed member's. One walk of the commit references (at most `commitForkLimits.maxRefs`
 * steps each) when the newest roster is neither the current epoch's nor the next one on it, then
 * a lookup while the current epoch and the bans stay.
 *
 * @param org - the organization (a member's; an owner's newest roster is its own chain's)
 * @param groupId - the group ("" for the organization's)
 * @param forks - the winner order of branches; without it the newest roster held
 * @returns the roster, or undefined when none is held
 */
export function departureRoster(
  org: Org,
  groupId: string,
  forks?: BranchOrder,
): EpochRoster | undefined {
  const newest = org.rosters.newest(groupId);
  if (newest === undefined || forks === undefined || org.role === "owner") return newest;
  const group = org.member.groups.get(groupId);
  // The current epoch's, or the next one on it (its roster before its chunk): no walk.
  if (group?.status !== "member" || equalBytes(newest.keyId, group.keyId)) return newest;
  if (equalBytes(newest.previousKeyId, group.keyId)) return newest;
  const current = toHex(group.keyId);
  const banned = org.log.state.banned;
  let known = branchVerdicts.get(newest);
  if (known?.current !== current || known.banned !== banned) {
    // The verdict stays while the current epoch and the bans (invalid add steps) do.
    known = { current, banned, loses: forks.branchLoses(org, toHex(newest.keyId), current) };
    branchVerdicts.set(newest, known);
  }
  return known.loses ? org.rosters.get(current) : newest;
}

/**
 * Whether each newest roster judged is on a branch that loses, with the current epoch (hex) and ban
 * list it was judged against: a post costs one lookup while both stay (the walk is up to twice
 * `commitForkLimits.maxRefs` steps, ~20 µs), whether the roster loses or is ahead on our branch.
 */
const branchVerdicts = new WeakMap<
  EpochRoster,
  { readonly current: string; readonly banned: OrgState["banned"]; readonly loses: boolean }
>();

/**
 * Whether an epoch's roster still holds a member this client knows was removed, banned or left (the
 * state's ban list, `Org.departed`): its KeyUpdate has not arrived yet (the owner batches removals
 * for up to `rekeyWindowMs`), so the departed member still holds this epoch's keys. A member sends
 * nothing in such an epoch. O(bans + departed) when the members or the ban list changed, else one lookup.
 * @param org - the organization
 * @param roster - the epoch's roster (a group's current one)
 * @returns true when a departed member is on it
 */
export function holdsDeparted(org: Org, roster: Roster): boolean {
  const state = org.log.state;
  if (state.banned.size === 0 && org.departed.size === 0) return false;
  // A departure changes the members map (a persistent map: a new object), a ban the ban list: the
  // answer for a roster holds while both are the same objects, so a send costs one lookup.
  const cached = departedChecks.get(roster);
  if (cached?.members === state.members && cached.banned === state.banned) return cached.holds;
  let holds = false;
  for (const id of state.banned.keys()) if (rosterLists(roster, id)) holds = true;
  if (!holds) {
    for (const id of org.departed)
      if (!state.members.has(id) && rosterLists(roster, id)) holds = true;
  }
  departedChecks.set(roster, { members: state.members, banned: state.banned, holds });
  return holds;
}

/** The last {@link holdsDeparted} answer per roster, with the state maps it was computed from. */
const departedChecks = new WeakMap<
  Roster,
  { members: OrgState["members"]; banned: OrgState["banned"]; holds: boolean }
>();
