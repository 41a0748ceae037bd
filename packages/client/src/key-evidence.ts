/**
 * What this client knows of a group message's key id when none of its groups opens the message
 * (docs/SECURITY.md, "Unknown key ids"). A key id is a public 8-byte commitment anyone can write
 * into a message: only an owner-signed record naming it (a roster, a roster delta or snapshot page,
 * an `epoch.changed` event, a KeyUpdate chunk, a Welcome) says that its epoch exists. A message
 * whose key id no such record names is foreign: kept silently in a small buffer
 * (`foreign-buffer.ts`), never announced, never a reason to ask the owner for anything.
 */
import type { Roster } from "@orgchat/crypto";
import { mayBeOurs } from "./member-controller.js";
import type { Org } from "./org.js";

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
 *   whose roster has not reached us yet): kept silently in the bounded foreign buffer;
 * - `not-entitled`: its epoch's roster does not list this member: never ours;
 * - `past`: an epoch of a group this client holds at that epoch or a later one (retention over, or
 *   bridged): its key is gone for good, no resync brings it back;
 * - `waiting`: a newer epoch this member is entitled to (or whose roster is not here yet): announced
 *   as waiting for its key, and recovered (once per key id: `Recovery.onWaiting`).
 */
export type UnopenedVerdict = "foreign" | "not-entitled" | "past" | "waiting";

/**
 * Judges a group message no group opened (pure).
 * @param input.evidence - what {@link epochEvidence} found for its key id
 * @param input.heldEpoch - the epoch of the group this client holds for the evidence's group, if any
 * @param input.roster - the roster of the message's epoch, if held
 * @param input.identityKey - this member's identity key (an owner passes no roster: every epoch
 *   it made lists it)
 */
export function judgeUnopened(input: {
  readonly evidence: EpochEvidence | undefined;
  readonly heldEpoch: bigint | undefined;
  readonly roster: Roster | undefined;
  readonly identityKey: Uint8Array;
}): UnopenedVerdict {
  const { evidence, heldEpoch } = input;
  if (evidence === undefined) return "foreign";
  if (!mayBeOurs(input.roster, input.identityKey)) return "not-entitled";
  if (heldEpoch !== undefined && evidence.epoch <= heldEpoch) return "past";
  return "waiting";
}

/** The epoch of the group `org` holds for `channelId` (as a member of it), if any. */
export function heldEpoch(org: Org, channelId: string): bigint | undefined {
  if (org.role === "owner") return org.owner.groups.get(channelId)?.epoch;
  const group = org.member.groups.get(channelId);
  return group?.status === "member" ? group.epoch : undefined;
}

/**
 * {@link judgeUnopened} for a key id, with what `org` holds. A member's "past" epoch that is a
 * sibling of a commit it followed (its roster here, its parent a fork point the group keeps: its
 * KeyUpdate chunk has not come yet) is kept like a foreign message instead (bounded, silent): it
 * opens once the sibling is entered (`CommitForks.afterEntry` retries what names it).
 */
export function unopenedVerdict(
  org: Org,
  keyIdHex: string,
  identityKey: Uint8Array,
): UnopenedVerdict {
  const evidence = epochEvidence(org, keyIdHex);
  const roster = org.role === "owner" ? undefined : org.rosters.get(keyIdHex);
  const verdict = judgeUnopened({
    evidence,
    heldEpoch: evidence === undefined ? undefined : heldEpoch(org, evidence.channelId),
    roster: roster?.roster,
    identityKey,
  });
  if (verdict !== "past" || org.role === "owner" || roster === undefined) return verdict;
  const group = org.member.groups.get(roster.channelId);
  return group?.keepsParent(roster.previousKeyId) === true ? "foreign" : verdict;
}
