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
 * @module
 */
import { equalBytes } from "@orgchat/base";
import type { WelcomeInit } from "@orgchat/crypto";
import { asideWelcomeLimits } from "./aside-welcomes.js";
import type { WelcomeFrom } from "./key-sync.js";
import type { MemberOrg } from "./org.js";

/**
 * Who sent each waiting Welcome (memory only). One read back from the store after a restart has
 * none: it is taken as the owner's (entered when its roster comes, as before).
 */
const sources = new WeakMap<WelcomeInit, WelcomeFrom>();

/** Notes who sent `welcome`, kept waiting for its roster. */
export function noteWaitingWelcome(welcome: WelcomeInit, from: WelcomeFrom): void {
  sources.set(welcome, from);
}

/** Who sent a waiting Welcome ("owner" when not known: read back after a restart). */
export function waitingWelcomeSource(welcome: WelcomeInit): WelcomeFrom {
  return sources.get(welcome) ?? "owner";
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
