/**
 * The owner's protocol rules as pure functions (no I/O, no clock, no randomness of their own):
 * which groups an organization needs, who joins and leaves each group, which leaves a batched
 * re-key removes, whether a resync is answered or a snapshot published, and how a request to join
 * is judged. `OwnerEpochs` and `OwnerRequests` apply the decisions; tests drive them directly
 * (test/owner-controller.test.ts).
 */
import { toHex } from "@orgchat/base";
import type { Roster } from "@orgchat/crypto";
import { canPost, type Invitation, type OrgState } from "@orgchat/state";
import { isRestricted } from "./views.js";

/** Member id → leaf index of a roster. */
export function rosterMembers(roster: Roster): Map<string, number> {
  const out = new Map<string, number>();
  roster.forEach((leaf, index) => {
    if (leaf !== undefined) out.set(toHex(leaf.identityKey), index);
  });
  return out;
}

/** The groups an encrypted organization runs: its own ("") and one per restricted channel. */
export function wantedGroups(state: OrgState): Set<string> {
  const wanted = new Set<string>([""]);
  for (const channelId of state.channels.keys()) {
    if (isRestricted(state, channelId)) wanted.add(channelId);
  }
  return wanted;
}

/**
 * Who a group's membership must follow now: joiners (members the state lists, with access to the
 * group's channel, whose keys and pairwise session the owner holds; sorted) and leavers (on the
 * roster, no longer wanted). The owner's own leaf is neither.
 */
export function membershipChange(input: {
  readonly state: OrgState;
  readonly owner: string;
  readonly channelId: string;
  readonly roster: Roster;
  readonly ready: (member: string) => boolean;
}): { readonly joiners: string[]; readonly leavers: string[] } {
  const { state, owner, channelId } = input;
  const current = rosterMembers(input.roster);
  current.delete(owner);
  const wanted = new Set<string>();
  for (const member of state.members.keys()) {
    if (member === owner) continue;
    if (channelId !== "" && !canPost(state, member, channelId)) continue;
    wanted.add(member);
  }
  const joiners = [...wanted].filter((m) => !current.has(m) && input.ready(m)).sort();
  const leavers = [...current.keys()].filter((m) => !wanted.has(m));
  return { joiners, leavers };
}

/**
 * {@link membershipChange} for the members an operation changed only (an admission, a removal, a
 * role or grant change): joiners (wanted, not on the roster, ready; sorted) and leavers (on the
 * roster, no longer wanted) among `members`, through look-ups. Its cost does not grow with the
 * group, so that an admission does not scan every member.
 */
export function memberChange(input: {
  readonly state: OrgState;
  readonly owner: string;
  readonly channelId: string;
  readonly members: Iterable<string>;
  readonly onRoster: (member: string) => boolean;
  readonly ready: (member: string) => boolean;
}): { readonly joiners: string[]; readonly leavers: string[] } {
  const { state, owner, channelId } = input;
  const joiners: string[] = [];
  const leavers: string[] = [];
  for (const member of new Set(input.members)) {
    if (member === owner) continue;
    const wanted =
      state.members.has(member) && (channelId === "" || canPost(state, member, channelId));
    const on = input.onRoster(member);
    if (wanted && !on && input.ready(member)) joiners.push(member);
    if (!wanted && on) leavers.push(member);
  }
  return { joiners: joiners.sort(), leavers };
}

/** The leaves a batched re-key removes: members still on the roster, never the owner's leaf. */
export function removedLeaves(
  roster: Roster,
  members: Iterable<string>,
  ownLeaf: number,
): number[] {
  const leaves = rosterMembers(roster);
  return [...members]
    .map((m) => leaves.get(m))
    .filter((leaf): leaf is number => leaf !== undefined && leaf !== ownLeaf);
}

/**
 * When removals are waiting: re-key `now` (no window), `arm` a re-key at `dueAt` (a window opens),
 * or `keep` the window already open.
 */
export function rekeyTiming(input: {
  readonly windowMs: number;
  readonly dueAt: number | undefined;
  readonly now: number;
}):
  | { readonly action: "now" }
  | { readonly action: "arm"; readonly dueAt: number }
  | { readonly action: "keep" } {
  if (input.windowMs <= 0) return { action: "now" };
  if (input.dueAt === undefined) return { action: "arm", dueAt: input.now + input.windowMs };
  return { action: "keep" };
}

/** Whether a member's resync request is answered (at most one per member per interval). */
export function resyncAnswerAllowed(
  last: number | undefined,
  now: number,
  intervalMs: number,
): boolean {
  return last === undefined || now - last >= intervalMs;
}

/**
 * Whether a roster snapshot of a group's epoch goes out: a resync answer shares the snapshot of
 * the same epoch published less than `intervalMs` ago; epoch and periodic snapshots always go.
 */
export function snapshotAllowed(input: {
  readonly reason: "epoch" | "resync" | "periodic";
  readonly last: { readonly keyId: string; readonly at: number } | undefined;
  readonly keyIdHex: string;
  readonly now: number;
  readonly intervalMs: number;
}): boolean {
  const { last } = input;
  return !(
    input.reason === "resync" &&
    last?.keyId === input.keyIdHex &&
    input.now - last.at < input.intervalMs
  );
}

/** What a request to join is judged by when it may redeem an invitation. */
export interface RedeemQuery {
  readonly state: OrgState;
  readonly requester: string;
  readonly chatId: string;
  readonly now: number;
  readonly invitationExpiryMs: number;
}

/** Whether `invitation` is unused, unrevoked, unexpired, for the requester and its chat. */
function redeems(invitation: Invitation, query: RedeemQuery): boolean {
  return (
    invitation.invitee === query.requester &&
    !invitation.used &&
    invitation.revokedAt === undefined &&
    invitation.chatId === query.chatId &&
    query.now < invitation.sentAt + query.invitationExpiryMs
  );
}

/** The unused, unrevoked, unexpired invitation a request to join redeems, if any (a walk). */
export function redeemedInvitation(input: RedeemQuery): Invitation | undefined {
  for (const invitation of input.state.invitations.values()) {
    if (redeems(invitation, input)) return invitation;
  }
  return undefined;
}

/**
 * {@link redeemedInvitation} through an index invitee → invitation ids, so that a request costs a
 * look-up rather than a walk of every invitation the state keeps (used ones stay). The state only
 * grows its invitations (issued by the owner; used, revoked and voided ones keep their entry), so
 * the index is rebuilt when their count differs from what it saw, and {@link InvitationIndex.note}
 * keeps it current for the owner's own issues without one. Ids are checked against the state.
 */
export class InvitationIndex {
  readonly #byInvitee = new Map<string, string[]>();
  #size = -1;

  /** Records an invitation the state just gained (the owner issued it). */
  note(state: OrgState, invitation: { readonly id: string; readonly invitee: string }): void {
    if (this.#size !== state.invitations.size - 1) {
      this.#size = -1; // (rebuilt at the next look-up)
      return;
    }
    this.#add(invitation.invitee, invitation.id);
    this.#size = state.invitations.size;
  }

  /** The invitation a request redeems, as {@link redeemedInvitation} finds it. */
  find(query: RedeemQuery): Invitation | undefined {
    const invitations = query.state.invitations;
    if (invitations.size !== this.#size) {
      this.#byInvitee.clear();
      for (const invitation of invitations.values()) this.#add(invitation.invitee, invitation.id);
      this.#size = invitations.size;
    }
    for (const id of this.#byInvitee.get(query.requester) ?? []) {
      const invitation = invitations.get(id);
      if (invitation !== undefined && redeems(invitation, query)) return invitation;
    }
    return undefined;
  }

  #add(invitee: string, id: string): void {
    const ids = this.#byInvitee.get(invitee);
    if (ids === undefined) this.#byInvitee.set(invitee, [id]);
    else if (!ids.includes(id)) ids.push(id);
  }
}

/**
 * Whether a request refused as `conflict` in its place came from someone the state no longer
 * holds as a member and who has no pending request: a member then, gone since (it is told to ask
 * again: docs/CLIENT.md, "Rejoin after leave").
 */
export function predatesDeparture(state: OrgState, member: string): boolean {
  if (state.members.has(member) || state.banned.has(member)) return false;
  for (const request of state.requests.values()) {
    if (request.requester === member && request.status === "pending") return false;
  }
  return true;
}
