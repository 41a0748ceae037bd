/**
 * The member's key-sync rules as pure functions (no I/O, no clock, no randomness of their own):
 * which add step follows a group's epoch, what to do with a KeyUpdate chunk, whether the owner's
 * rosters show this member behind, and the resync back-off. `KeySync` and `Recovery` apply the
 * decisions; tests drive them directly (test/member-controller.test.ts).
 */
import { equalBytes, toHex } from "@orgchat/base";
import type { Roster } from "@orgchat/crypto";
import type { OrgState } from "@orgchat/state";
import type { EpochRoster } from "./epoch-roster.js";
import type { MemberOrg } from "./org.js";
import type { RosterBook } from "./roster-book.js";
import { isRestricted } from "./views.js";

/** What a member knows of one of its groups. */
export interface GroupPosition {
  readonly epoch: bigint;
  readonly keyId: Uint8Array;
  readonly status: "member" | "removed";
}

/**
 * The add-step roster that follows `group`'s epoch, if one is known: of several (a fork), the one
 * `pick` chooses (the winner order: `CommitForks.pickAddStep`). @default the first
 */
export function nextAddStep(
  rosters: Iterable<EpochRoster>,
  channelId: string,
  group: GroupPosition,
  pick: (candidates: readonly EpochRoster[]) => EpochRoster | undefined = (c) => c[0],
): EpochRoster | undefined {
  const candidates: EpochRoster[] = [];
  for (const r of rosters) {
    if (
      r.channelId === channelId &&
      r.change === "add" &&
      r.epoch === group.epoch + 1n &&
      equalBytes(r.previousKeyId, group.keyId)
    ) {
      candidates.push(r);
    }
  }
  return pick(candidates);
}

/**
 * What to do with a KeyUpdate chunk:
 * - `wait`: its group (a late Welcome) or its epoch's roster is not here: keep it;
 * - `check-gap`: it skips epochs and history was not searched for their add steps yet (bridging an
 *   add step would lose its epoch's messages): keep it, and search (`search` true the first time);
 * - `apply`: apply it (bridging what is still missing).
 */
export type ChunkDecision =
  | { readonly action: "wait" }
  | { readonly action: "check-gap"; readonly search: boolean }
  | { readonly action: "apply" };

/**
 * @param gapChecked - the chunk's key id in `MemberSide.gapChecked`: undefined (never looked),
 *   false (looking), true (looked)
 */
export function chunkDecision(input: {
  readonly group: GroupPosition | undefined;
  readonly rosterKnown: boolean;
  readonly chunkEpoch: bigint;
  readonly gapChecked: boolean | undefined;
  /** A delegate's commit on a branch this member never was on: kept for a switch to its parent. */
  readonly otherBranch?: boolean;
}): ChunkDecision {
  const { group } = input;
  if (group === undefined || !input.rosterKnown || input.otherBranch === true) {
    return { action: "wait" };
  }
  if (
    group.status === "member" &&
    input.chunkEpoch > group.epoch + 1n &&
    input.gapChecked !== true
  ) {
    return { action: "check-gap", search: input.gapChecked === undefined };
  }
  return { action: "apply" };
}

/**
 * Answers of {@link mayBeOurs} per identity key and roster. Rosters are built once and never changed
 * afterwards (a delta or snapshot makes a new array), so an answer holds for the roster's lifetime:
 * every received message of an epoch not ours, a stranger's replays included, then costs a lookup,
 * not a scan of up to 10,000 leaves.
 */
const listed = new WeakMap<Uint8Array, WeakMap<Roster, boolean>>();

/** Whether an epoch may be ours: its roster is not known yet, or lists this identity. */
export function mayBeOurs(roster: Roster | undefined, identityKey: Uint8Array): boolean {
  if (roster === undefined) return true;
  let answers = listed.get(identityKey);
  if (answers === undefined) {
    answers = new WeakMap();
    listed.set(identityKey, answers);
  }
  let answer = answers.get(roster);
  if (answer === undefined) {
    answer = roster.some((leaf) => leaf !== undefined && equalBytes(leaf.identityKey, identityKey));
    answers.set(roster, answer);
  }
  return answer;
}

/**
 * The groups whose owner-signed roster of a later epoch lists this member (same identity and
 * signing key) while its own state is older, removed, or missing: a KeyUpdate it could not open
 * (its leaf secret changed with a resync answer still on the way) or a Welcome that was lost. No
 * message need wait for the new epoch for the member to notice.
 *
 * @param waitingWelcomes - key ids (hex) of Welcomes kept until their roster arrives
 */
export function groupsBehind(input: {
  readonly rosters: Iterable<EpochRoster>;
  readonly groups: ReadonlyMap<string, { readonly epoch: bigint }>;
  readonly waitingWelcomes: { has(keyIdHex: string): boolean };
  readonly identityKey: Uint8Array;
  readonly signingKey: Uint8Array;
}): Set<string> {
  const out = new Set<string>();
  // The newest roster of each group is enough (and a roster may hold 100,000 leaves).
  const newest = new Map<string, EpochRoster>();
  for (const record of input.rosters) {
    const known = newest.get(record.channelId);
    if (known === undefined || record.epoch > known.epoch) newest.set(record.channelId, record);
  }
  for (const record of newest.values()) {
    const group = input.groups.get(record.channelId);
    if (group !== undefined && record.epoch <= group.epoch) continue;
    if (group === undefined && input.waitingWelcomes.has(toHex(record.keyId))) continue;
    const listed = record.roster.some(
      (leaf) =>
        leaf !== undefined &&
        equalBytes(leaf.identityKey, input.identityKey) &&
        equalBytes(leaf.signingKey, input.signingKey),
    );
    if (listed) out.add(record.channelId);
  }
  return out;
}

/** The group a channel's messages are sealed in: its own (restricted, or held), else the org's. */
export function groupOfChannel(state: OrgState, hasGroup: boolean, channelId: string): string {
  return hasGroup || isRestricted(state, channelId) ? channelId : "";
}

/** A member's resync back-off for one group. */
export interface ResyncBackoff {
  readonly delay: number;
  readonly nextAt: number;
}

/**
 * The resync step: ask now (and when to ask again) or wait out the back-off.
 * @param jitterByte - draws one random byte, only when asking: up to 25 % more delay, so that
 *   members that lost the same answer do not all ask again at once
 */
export function resyncStep(input: {
  readonly backoff: ResyncBackoff | undefined;
  readonly now: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly jitterByte: () => number;
}):
  | { readonly action: "wait"; readonly retryIn: number }
  | { readonly action: "ask"; readonly retryIn: number; readonly backoff: ResyncBackoff } {
  const backoff = input.backoff ?? { delay: input.initialBackoffMs, nextAt: 0 };
  if (input.now < backoff.nextAt) return { action: "wait", retryIn: backoff.nextAt - input.now };
  const jitter = (input.jitterByte() / 255) * 0.25;
  const wait = Math.round(backoff.delay * (1 + jitter));
  return {
    action: "ask",
    retryIn: wait,
    backoff: { delay: Math.min(backoff.delay * 2, input.maxBackoffMs), nextAt: input.now + wait },
  };
}

/**
 * Whether `org` holds the rosters a newest-first catch-up of group `channelId`'s keys topic looks
 * for: a roster of the group, none older than the newest epoch named there (a delta waiting for
 * its base), and the roster of every epoch of the group a Welcome or KeyUpdate waits for.
 *
 * @param org - the organization
 * @param channelId - the group ("" for the organization's)
 */
export function rostersCaughtUp(
  org: { readonly rosters: RosterBook; readonly member: MemberOrg["member"] },
  channelId: string,
): boolean {
  const book = org.rosters;
  const newest = book.newest(channelId);
  if (newest === undefined) return false;
  const highest = book.highestEpoch(channelId);
  if (highest !== undefined && highest > newest.epoch) return false;
  for (const [keyIdHex, welcome] of org.member.waitingWelcomes) {
    if (welcome.channelId === channelId && !book.has(keyIdHex)) return false;
  }
  for (const [keyIdHex, chunks] of org.member.waitingChunks) {
    if (chunks[0]?.chunk.channelId === channelId && !book.has(keyIdHex)) return false;
  }
  return true;
}
