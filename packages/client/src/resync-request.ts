/**
 * The owner's answer to a member's resync request (docs/CLIENT.md, "No missing keys"): a Welcome of
 * the group's current epoch with a fresh leaf secret, a roster snapshot unless one just went out,
 * and for a member restored from a backup (docs/RESTORE.md) a fresh epoch first, at most one per
 * group per {@link restoreRefreshIntervalMs}. Rate limits: `resync-answers.ts`.
 *
 * @module
 */
import type { ClientCore } from "./core.js";
import type { OwnerOrg, OwnerSide, Txn } from "./org.js";
import { resyncAnswerAllowed } from "./owner-controller.js";
import { noteResyncAnswer } from "./resync-answers.js";

/**
 * The shortest time between two fresh epochs of one group made for restored members (resync
 * requests flagged `restored`, docs/RESTORE.md): each is a KeyUpdate to every member (~0.6 s of the
 * owner's CPU and 36 B per member at 10,000), so members asking in a loop cost at most one per group
 * per this interval. A member refused one asks again on its resync back-off.
 */
export const restoreRefreshIntervalMs = 10 * 60 * 1000;

/** Per organization, when each group last had a fresh epoch for a restored member (memory only). */
const refreshes = new WeakMap<OwnerSide, Map<string, number>>();

function restoreRefreshes(org: OwnerOrg): Map<string, number> {
  let map = refreshes.get(org.owner);
  if (map === undefined) {
    map = new Map();
    refreshes.set(org.owner, map);
  }
  return map;
}

/**
 * Answers `member`'s resync request for one group (nothing when over the rate, or when the member
 * has no leaf in the group).
 *
 * @param c - the client's core
 * @param org - an organization this client owns
 * @param txn - the unit of work (gets the Welcome, maybe a snapshot and a fresh epoch)
 * @param member - who asks
 * @param request - the group and whether the member was restored from a backup
 */
export async function answerResyncRequest(
  c: ClientCore,
  org: OwnerOrg,
  txn: Txn,
  member: string,
  request: { readonly channelId: string; readonly restored: boolean },
): Promise<void> {
  const { channelId, restored } = request;
  const owner = org.owner;
  const now = c.now();
  if (
    !resyncAnswerAllowed(owner.resyncAnswered.get(member), now, c.p.config.resyncAnswerIntervalMs)
  ) {
    return;
  }
  const group = owner.groups.get(channelId);
  const leaf = c.epochs.leafOf(org, channelId, member);
  if (group === undefined || leaf === undefined || leaf === group.leaf) return;
  noteResyncAnswer(owner.resyncAnswered, member, now, c.p.config.resyncAnswerIntervalMs);
  // A member restored from a backup sends only in an epoch made after its request: one now, unless
  // this group had one for a restore lately (each costs a KeyUpdate to every member; the member asks
  // again on its back-off, and any later epoch serves it too).
  const refreshed = restoreRefreshes(org);
  const lastRefresh = refreshed.get(channelId);
  const fresh =
    restored &&
    (lastRefresh === undefined || now - lastRefresh >= restoreRefreshIntervalMs) &&
    (await c.epochs.refresh(org, txn, channelId));
  if (fresh) refreshed.set(channelId, now);
  const welcome = {
    ...group.resync(leaf, { leafSecret: c.p.random(32) }),
    ...(fresh ? { freshEpoch: true } : {}),
  };
  txn.groups.add(channelId);
  // The Welcome names its epoch's roster, which a member that asks may lack (it missed a delta,
  // or never had the roster it applies to): a snapshot of it, unless one went out just now.
  await c.epochs.publishSnapshot(org, txn, channelId, "resync");
  await c.pairwise.toMember(org, txn, member, { case: "welcome", value: welcome });
  txn.emits.push(["resync:requested", { organizationId: org.hex, channelId, member }]);
}
