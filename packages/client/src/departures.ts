import { toHex } from "@orgchat/base";
import type { Roster } from "@orgchat/crypto";
import { canPost, diffMap, type Member, type MemberId, type OrgState } from "@orgchat/state";
import type { Org } from "./org.js";
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

function lists(roster: Roster, member: MemberId): boolean {
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
 * @param org - the organization, as this client knows it now
 * @param author - the post's author (member id)
 * @param channelId - the channel it was posted in
 * @returns true when the post must be dropped
 */
export function hasDeparted(org: Org, author: MemberId, channelId: string): boolean {
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
  const newest = org.rosters.newest(groupId);
  return newest !== undefined && !lists(newest.roster, author);
}

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
  for (const id of state.banned.keys()) if (lists(roster, id)) holds = true;
  if (!holds) {
    for (const id of org.departed) if (!state.members.has(id) && lists(roster, id)) holds = true;
  }
  departedChecks.set(roster, { members: state.members, banned: state.banned, holds });
  return holds;
}

/** The last {@link holdsDeparted} answer per roster, with the state maps it was computed from. */
const departedChecks = new WeakMap<
  Roster,
  { members: OrgState["members"]; banned: OrgState["banned"]; holds: boolean }
>();
