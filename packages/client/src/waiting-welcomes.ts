/**
 * Welcomes waiting for their epoch's roster (`MemberSide.waitingWelcomes`), when the member holds
 * the group already: which are stale, and which are judged again once their roster comes.
 *
 * Strict script 139 of `fork-convergence.test.ts`: n2, added by a1 on a1's losing branch (e8) and
 * again by a1's re-commit on the winner (another e8), got both Welcomes before either roster. The
 * loser's roster came first and n2 entered it; the winner's Welcome, of the same epoch, was then
 * dropped as stale, and n2 stayed on the losing branch for good. A waiting Welcome of another
 * commit of the group's epoch is no longer stale: when its roster comes it is judged as a Welcome
 * that arrives then would be (`KeySync.onWelcome`: dropped when its branch loses, entered when
 * ours does, else kept aside until its place is known).
 *
 * Who sent a waiting Welcome (the owner, a delegate, or the member's own kept-aside list) decides
 * how it is judged then: a delegate's of a branch not placed yet is kept aside
 * (`AddStepJudge.keepsUnplaced`). It is stored with the Welcome (`welcome/<key id>`, sealed:
 * `{ v: 2, from, welcome }`), so that one read back after a restart is judged as it would have
 * been. A record of before (the bare Welcome) is read as the owner's, as it was.
 *
 * @module
 */
import { equalBytes, toHex } from "@orgchat/base";
import type { WelcomeInit } from "@orgchat/crypto";
import type { StoreOp } from "@orgchat/store";
import { asideWelcomeLimits } from "./aside-welcomes.js";
import { StoreCorruptedError } from "./errors.js";
import type { WelcomeFrom } from "./key-sync.js";
import type { MemberOrg } from "./org.js";
import { orgSpace } from "./persistence.js";
import type { Vault } from "./vault.js";

/** Who sent each waiting Welcome, as noted on arrival or read back with it from the store. */
const sources = new WeakMap<WelcomeInit, WelcomeFrom>();

/** The stored record of a waiting Welcome (`welcome/<key id>`, sealed). */
interface WaitingRecord {
  readonly v: 2;
  readonly from: WelcomeFrom;
  readonly welcome: WelcomeInit;
}

const senders: readonly WelcomeFrom[] = ["owner", "delegate", "aside"];

/** Notes who sent `welcome`, kept waiting for its roster. */
export function noteWaitingWelcome(welcome: WelcomeInit, from: WelcomeFrom): void {
  sources.set(welcome, from);
}

/**
 * Who sent a waiting Welcome: noted on arrival, or stored with it. "owner" when neither (a record
 * stored before the sender was).
 */
export function waitingWelcomeSource(welcome: WelcomeInit): WelcomeFrom {
  return sources.get(welcome) ?? "owner";
}

/**
 * Notes who sent `welcome` and returns the put that stores it with its sender (in the unit of
 * work that keeps it waiting).
 *
 * @param vault - the client's vault (the record holds the epoch and leaf secrets: sealed)
 * @param org - the organization
 * @param welcome - the Welcome, waiting for its roster
 * @param from - who sent it
 * @returns the `welcome/<key id>` put
 */
export function waitingWelcomeOp(
  vault: Vault,
  org: MemberOrg,
  welcome: WelcomeInit,
  from: WelcomeFrom,
): StoreOp {
  noteWaitingWelcome(welcome, from);
  const space = orgSpace(org.hex);
  const key = `welcome/${toHex(welcome.keyId)}`;
  const record: WaitingRecord = { v: 2, from, welcome };
  return { type: "put", space, key, value: vault.sealJson(space, key, record) };
}

/**
 * A stored waiting Welcome, opened: its sender noted ({@link waitingWelcomeSource}). A record of
 * before (the bare Welcome) has no sender: the owner's, as before.
 *
 * @param record - the opened JSON value of a `welcome/<key id>` record
 * @param where - the record's space and key (for the error)
 * @returns the Welcome
 * @throws StoreCorruptedError when a record of this form names no known sender or no Welcome
 */
export function readWaitingWelcome(record: unknown, where: string): WelcomeInit {
  if (typeof record !== "object" || record === null) throw new StoreCorruptedError(where);
  if (!("v" in record)) return record as WelcomeInit;
  const stored = record as Partial<WaitingRecord>;
  const welcome = stored.welcome;
  const from = senders.find((sender) => sender === stored.from);
  if (stored.v !== 2 || from === undefined || typeof welcome !== "object" || welcome === null) {
    throw new StoreCorruptedError(where);
  }
  noteWaitingWelcome(welcome, from);
  return welcome;
}

/**
 * The waiting Welcomes of `channelId` the member's group has made stale (key ids, hex): that of
 * the group's own epoch, and those of a lower epoch past the newest
 * {@link asideWelcomeLimits}`.maxPerOrg`. One of another commit of the group's epoch (a sibling)
 * stays: its branch may win. So do the newest of a lower epoch (owner strict seed 0x0c5f, script
 * 3): n1, with no group yet, got a1's Welcome of its losing branch (e10) and a1's re-commit's on
 * the winner (e9) before either roster; it entered the e10 one when its roster came, and the e9 one
 * was dropped as stale: n1 stayed on the losing branch for good. When its roster comes, a lower
 * one is judged as on arrival (`AddStepJudge.takesLowerWelcome`: entered when the group's branch
 * loses to it).
 */
export function staleWaitingWelcomes(org: MemberOrg, channelId: string): string[] {
  const group = org.member.groups.get(channelId);
  if (group === undefined) return [];
  const stale: string[] = [];
  const newestFirst = [...org.member.waitingWelcomes].sort(([, a], [, b]) =>
    a.epoch > b.epoch ? -1 : a.epoch < b.epoch ? 1 : 0,
  );
  let lower = 0;
  for (const [keyIdHex, waiting] of newestFirst) {
    if (waiting.channelId !== channelId || waiting.epoch > group.epoch) continue;
    if (equalBytes(waiting.keyId, group.keyId)) stale.push(keyIdHex);
    else if (waiting.epoch < group.epoch && ++lower > asideWelcomeLimits.maxPerOrg) {
      stale.push(keyIdHex);
    }
  }
  return stale;
}

/**
 * Whether a waiting Welcome whose roster came is judged again (`KeySync.onWelcome`) rather than
 * entered: the member holds its group already, on another commit.
 */
export function rejudgesWaitingWelcome(org: MemberOrg, welcome: WelcomeInit): boolean {
  const group = org.member.groups.get(welcome.channelId);
  return group?.status === "member" && !equalBytes(group.keyId, welcome.keyId);
}
