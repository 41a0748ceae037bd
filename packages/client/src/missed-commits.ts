/**
 * Member side, forks: a commit lost on the way (docs/DELEGATION.md, "A commit missed"). Live
 * delivery may drop a delegate's commit for good, and nothing else may name it: the member that
 * missed it stays on a losing sibling, and commits on it, while the others stay on the winner. What
 * it does see is the decision the commit carried out: the state lists a departure (a removal or a
 * ban) that its current epoch's roster still holds, so it sends nothing there
 * (`FreshKeysPendingError`). When that still holds at a second periodic tick (a re-key in flight has
 * come by then), the member reads the keys topic newest first from Store until its epoch holds no
 * departed member (a missed commit found and switched to), or the read's bound (`maxBackfillPages`).
 * Then again on a back-off that doubles up to {@link missedCommitLimits}.maxBackoffMs while it
 * holds: a re-key that never comes (its committer gone) costs one bounded read per interval.
 *
 * @module
 */
import { keysTopic } from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { holdsDeparted } from "./departures.js";
import type { MemberOrg } from "./org.js";

/** The longest interval between two reads while a departure's re-key does not come (6 h). */
export const missedCommitLimits = { maxBackoffMs: 6 * 60 * 60 * 1000 } as const;

interface Watch {
  /** When the next read may run (ms, the client's clock). */
  next: number;
  /** The interval after the next read. */
  backoffMs: number;
}

const watches = new WeakMap<MemberOrg, Watch>();

/**
 * At each periodic tick of a member's organization: reads the organization group's keys topic back
 * when its current epoch has held a departed member since the previous tick (see the module).
 *
 * @param c - the client's core
 * @param org - a member's organization
 * @param tickMs - the periodic tick's interval (the first back-off)
 * @returns whether it read
 */
export async function lookForMissedCommits(
  c: ClientCore,
  org: MemberOrg,
  tickMs: number,
): Promise<boolean> {
  const held = () => {
    const group = org.member.groups.get("");
    return group?.status === "member" && holdsDeparted(org, group.roster);
  };
  if (!held()) {
    watches.delete(org);
    return false;
  }
  const now = c.p.now();
  const watch = watches.get(org);
  if (watch === undefined) {
    // First seen: its re-key may be on the way (an owner batches removals).
    watches.set(org, { next: now + tickMs, backoffMs: tickMs });
    return false;
  }
  if (now < watch.next) return false;
  watch.backoffMs = Math.min(watch.backoffMs * 2, missedCommitLimits.maxBackoffMs);
  watch.next = now + watch.backoffMs;
  await c.sync.readNewestFirst(org, keysTopic(org.id), () => !held());
  return true;
}
