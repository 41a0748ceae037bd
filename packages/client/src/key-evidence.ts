/**
 * What this client knows of a group message's key id when none of its groups opens the message
 * (docs/SECURITY.md, "Unknown key ids"). A key id is a public 8-byte commitment anyone can write
 * into a message: only an owner-signed record naming it (a roster, a roster delta or snapshot page,
 * an `epoch.changed` event, a KeyUpdate chunk, a Welcome) says that its epoch exists. A message
 * whose key id no such record names is foreign: kept silently in a small buffer
 * (`foreign-buffer.ts`), never announced, never a reason to ask the owner for anything.
 */
import { toHex } from "@orgchat/base";
import type { MemberGroup, Roster } from "@orgchat/crypto";
import type { EpochRoster } from "./epoch-roster.js";
import { mayBeOurs } from "./member-controller.js";
import type { MemberOrg, Org } from "./org.js";

/**
 * Most epochs walked back from a message's epoch to a fork point its group keeps (a branch that
 * went on past the sibling: docs/PROTOCOL.md, "Forks").
 */
export const maxBranchSteps = 16;

/** An epoch an owner-signed record names: its group ("" = the organization's) and number. */
export interface EpochEvidence {
  readonly channelId: string;
  readonly epoch: bigint;
}

/**
 * The owner-signed record this client holds that names `keyIdHex`, if any: the roster book
 * (rosters, and deltas or snapshot pages waiting for their other pieces), the state's
 * `epoch.changed` events, and (member) Welcomes and KeyUpdate chunks waiting for their roster.
 */
export function epochEvidence(org: Org, keyIdHex: string): EpochEvidence | undefined {
  const roster = org.rosters.named(keyIdHex);
  if (roster !== undefined) return roster;
  const changed = org.log.state.epochs.find((info) => info.keyId === keyIdHex);
  if (changed !== undefined) return { channelId: changed.channelId, epoch: changed.epoch };
  if (org.role === "owner") return undefined;
  const welcome = org.member.waitingWelcomes.get(keyIdHex);
  if (welcome !== undefined) return { channelId: welcome.channelId, epoch: welcome.epoch };
  const chunk = org.member.waitingChunks.get(keyIdHex)?.[0]?.chunk;
  if (chunk !== undefined) return { channelId: chunk.channelId, epoch: chunk.epoch };
  return undefined;
}

/**
 * What becomes of a group message that no group held here opens:
 * - `foreign`: no owner-signed record names its key id (an outsider's junk, or an honest message
 *   whose roster has not reached us yet): kept silently in the bounded foreign buffer. So is a
 *   message of an epoch not above the one held that only pieces waiting for their other pieces
 *   name (a roster delta waiting for its parent's roster, a snapshot page, a Welcome or chunk
 *   waiting for its roster): its branch cannot be told before its roster is here (strict script
 *   114); learning that roster judges it again (`Messages.promoteNamed`);
 * - `not-entitled`: its epoch's roster does not list this member: never ours;
 * - `past`: an epoch of a group this client holds at that epoch or a later one (retention over, or
 *   bridged): its key is gone for good, no resync brings it back — unless it is a sibling (below);
 * - `waiting`: a newer epoch this member is entitled to (or whose roster is not here yet): announced
 *   as waiting for its key, and recovered (once per key id: `Recovery.onWaiting`). Also an epoch
 *   not above the one held whose roster lists this member and whose branch starts at a fork point
 *   its group keeps (a sibling of a commit it followed, made by another delegate at the same
 *   moment, or an epoch on top of such a sibling: docs/PROTOCOL.md, "Forks"): its commit's chunk
 *   may still come, and switching to that branch opens the message (`CommitForks` retries what it
 *   names).
 */
export type UnopenedVerdict = "foreign" | "not-entitled" | "past" | "waiting";

/**
 * Judges a group message no group opened (pure).
 * @param input.evidence - what {@link epochEvidence} found for its key id
 * @param input.heldEpoch - the epoch of the group this client holds for the evidence's group, if any
 * @param input.roster - the roster of the message's epoch, if held
 * @param input.identityKey - this member's identity key (an owner passes no roster: every epoch
 *   it made lists it)
 * @param input.sibling - the epoch's roster is here and its branch starts at a fork point the group
 *   keeps ({@link onKeptBranch})
 * @param input.unplaced - (member) only pieces waiting for their other pieces name the epoch: its
 *   roster was never held here ({@link isUnplaced})
 */
export function judgeUnopened(input: {
  readonly evidence: EpochEvidence | undefined;
  readonly heldEpoch: bigint | undefined;
  readonly roster: Roster | undefined;
  readonly identityKey: Uint8Array;
  readonly sibling?: boolean;
  readonly unplaced?: boolean;
}): UnopenedVerdict {
  const { evidence, heldEpoch } = input;
  if (evidence === undefined) return "foreign";
  if (!mayBeOurs(input.roster, input.identityKey)) return "not-entitled";
  if (heldEpoch !== undefined && evidence.epoch <= heldEpoch) {
    if (input.unplaced === true && input.roster === undefined) return "foreign";
    return input.sibling === true && input.roster !== undefined ? "waiting" : "past";
  }
  return "waiting";
}

/** The epoch of the group `org` holds for `channelId` (as a member of it), if any. */
export function heldEpoch(org: Org, channelId: string): bigint | undefined {
  if (org.role === "owner") return org.owner.groups.get(channelId)?.epoch;
  const group = org.member.groups.get(channelId);
  return group?.status === "member" ? group.epoch : undefined;
}

/** {@link judgeUnopened} for a key id, with what `org` holds. */
export function unopenedVerdict(
  org: Org,
  keyIdHex: string,
  identityKey: Uint8Array,
): UnopenedVerdict {
  const evidence = epochEvidence(org, keyIdHex);
  if (org.role === "owner") {
    return judgeUnopened({
      evidence,
      heldEpoch: evidence === undefined ? undefined : heldEpoch(org, evidence.channelId),
      roster: undefined,
      identityKey,
    });
  }
  const record = org.rosters.get(keyIdHex);
  const group = evidence === undefined ? undefined : org.member.groups.get(evidence.channelId);
  return judgeUnopened({
    evidence,
    heldEpoch: evidence === undefined ? undefined : heldEpoch(org, evidence.channelId),
    roster: record?.roster,
    identityKey,
    sibling: record !== undefined && group?.status === "member" && onKeptBranch(org, group, record),
    unplaced: evidence !== undefined && isUnplaced(org, keyIdHex),
  });
}

/**
 * Whether only pieces waiting for their other pieces name epoch `keyIdHex` here: no roster of it is
 * held or was held (a pruned roster stays named: `RosterBook.placed`), and no `epoch.changed` event
 * names it. A message of such an epoch may be on a branch this member has not learned yet; one of
 * an epoch whose roster was pruned is past for good (kept as foreign, it would wait forever: a
 * member's messages of epochs before it joined, `convergence.test.ts` seed 0xc0ffee, script 5).
 */
export function isUnplaced(org: MemberOrg, keyIdHex: string): boolean {
  return (
    !org.rosters.placed(keyIdHex) && !org.log.state.epochs.some((info) => info.keyId === keyIdHex)
  );
}

/**
 * Whether epoch `record` is on a branch that starts at a fork point `group` keeps: its parent is
 * one, or, walking back its rosters held here (at most {@link maxBranchSteps} epochs, each lower),
 * an ancestor's is. A message of an epoch on top of a sibling the group has not entered yet (script
 * 71 of the strict fork profile) waits for the switch to that branch like one of the sibling.
 */
export function onKeptBranch(org: MemberOrg, group: MemberGroup, record: EpochRoster): boolean {
  let at = record;
  for (let step = 0; step < maxBranchSteps; step++) {
    if (group.keepsParent(at.previousKeyId)) return true;
    const parent = org.rosters.get(toHex(at.previousKeyId));
    if (parent === undefined || parent.epoch >= at.epoch) return false;
    at = parent;
  }
  return false;
}
