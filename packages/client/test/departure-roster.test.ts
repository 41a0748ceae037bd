/**
 * The roster a member judges a post's author by (`departures.ts`, `hasDeparted`): the newest epoch's
 * it holds, unless that epoch is on a branch that loses to the group's current epoch. Owner seed 1,
 * script 8 of the fork profile (`fork-convergence.test.ts`): admin a1's removal of n2 (epoch 11)
 * was on the admins' branch, which lost to the owner's at epoch 8; the winning chain's epoch 11
 * listed n2, the state too, yet a1 dropped n2's last post as a departed member's. A real roster
 * book (its newest roster is the first one held of the highest epoch) and a real `CommitForks`
 * (the winner order, from the commit references).
 */
import { toHex } from "@orgchat/base";
import { defaultProvider, type Roster } from "@orgchat/crypto";
import { describe, expect, it } from "vitest";
import { CommitForks } from "../src/commit-forks.js";
import type { ClientCore } from "../src/core.js";
import { departureRoster, hasDeparted } from "../src/departures.js";
import type { EpochRoster } from "../src/epoch-roster.js";
import type { MemberOrg } from "../src/org.js";
import { RosterBook } from "../src/roster-book.js";
import { commitPlace, key, keyId } from "./add-step-fixtures.js";
import { nextEpoch } from "./roster-fixtures.js";

const orgId = new Uint8Array(32).fill(0xab);
const leaf = (n: number) => ({ identityKey: key(n), signingKey: key(n), prekey: key(n) });
const id = (n: number) => toHex(key(n));
const a1 = key(9);

/**
 * Root epoch 0 (key id 1, members 1, 2, 3). The admins' branch: 2 on the root (a1, clock 5), 3 on
 * 2 (a1, clock 6: member 3 removed). The owner's 4 on the root (clock 7): it wins there (the owner
 * first). a2's 6 on the root (clock 8) loses to both. Member 3 stays in the state. The member's
 * group is at `current`.
 */
function forked(current: number) {
  const book = new RosterBook(defaultProvider());
  const all = [leaf(1), leaf(2), leaf(3)] as Roster;
  const root = nextEpoch(undefined, all, keyId(1));
  const lost = nextEpoch(root, all, keyId(2), "rekey");
  const removed = nextEpoch(lost, [leaf(1), leaf(2)] as Roster, keyId(3), "rekey");
  const won = nextEpoch(root, all, keyId(4), "rekey");
  const third = nextEpoch(root, all, keyId(6), "rekey");
  for (const record of [root, lost, removed, won, third]) book.add(record);
  const forks = new CommitForks({} as ClientCore, {
    entered: () => undefined,
    followRosters: () => undefined,
    retryNamed: () => undefined,
    applyWaiting: () => undefined,
  });
  const members = new Map([1, 2, 3].map((n) => [id(n), {}]));
  const org = {
    role: "member",
    hex: toHex(orgId),
    id: orgId,
    rosters: book,
    departed: new Set<string>(),
    log: { state: { banned: new Map(), members, leaveRequests: new Map(), channels: new Map() } },
    member: { groups: new Map([["", { status: "member", keyId: keyId(current) }]]) },
  } as unknown as MemberOrg;
  forks.note(org, undefined, commitPlace(2, 1, 1n), a1, 5n);
  forks.note(org, undefined, commitPlace(3, 2, 2n), a1, 6n);
  forks.note(org, undefined, commitPlace(4, 1, 1n), orgId, 7n);
  forks.note(org, undefined, commitPlace(6, 1, 1n), key(8), 8n);
  return { org, forks, book, removed, won };
}

const keyOf = (roster: EpochRoster | undefined) =>
  roster === undefined ? undefined : toHex(roster.keyId);

describe("the roster a member judges departures by", () => {
  it("is not a losing branch's, even its newest epoch: the current epoch's then", () => {
    const { org, forks, book, removed, won } = forked(4);
    // The newest roster held is the losing branch's epoch 2, without member 3.
    expect(keyOf(book.newest(""))).toBe(keyOf(removed));
    expect(keyOf(departureRoster(org, "", forks))).toBe(keyOf(won));
    expect(hasDeparted(org, id(3), "general", forks)).toBe(false);
    // Judged by the newest roster whatever its branch (before the fix), member 3 had departed.
    expect(hasDeparted(org, id(3), "general")).toBe(true);
    // The verdict is remembered for that current epoch only: on a2's epoch 1 (6, clock 8), which
    // loses to the admins' branch at the root, the newest roster counts.
    (org.member.groups.get("") as unknown as { keyId: Uint8Array }).keyId = keyId(6);
    expect(keyOf(departureRoster(org, "", forks))).toBe(keyOf(removed));
  });

  it("is the newest one when that is on the member's own branch", () => {
    // On the admins' branch (epoch 2 is its own): member 3 was taken out there.
    const own = forked(3);
    expect(keyOf(departureRoster(own.org, "", own.forks))).toBe(keyOf(own.removed));
    expect(hasDeparted(own.org, id(3), "general", own.forks)).toBe(true);
    // On the losing epoch 1, the newest ahead of it on the same branch: judged by the newest.
    const behind = forked(2);
    expect(keyOf(departureRoster(behind.org, "", behind.forks))).toBe(keyOf(behind.removed));
    expect(hasDeparted(behind.org, id(3), "general", behind.forks)).toBe(true);
    // Members 1 and 2 are on every roster.
    expect(hasDeparted(own.org, id(1), "general", own.forks)).toBe(false);
  });

  it("is the newest one when its commit cannot be placed (no reference)", () => {
    const { org, book, forks } = forked(4);
    // Epoch 3 on the winner, its commit unknown to the references: never judged to lose.
    const unplaced = nextEpoch(book.get(toHex(keyId(4))), [leaf(1)] as Roster, keyId(5), "rekey");
    book.add({ ...unplaced, epoch: 3n });
    expect(keyOf(departureRoster(org, "", forks))).toBe(toHex(keyId(5)));
    expect(hasDeparted(org, id(2), "general", forks)).toBe(true);
    // Two epochs ahead (a member behind): judged once, then remembered while the current epoch
    // and the bans stay: later posts walk no commit references.
    const ahead = nextEpoch(book.get(toHex(keyId(5))), [leaf(1)] as Roster, keyId(9), "rekey");
    book.add({ ...ahead, epoch: 4n });
    let walks = 0;
    const counting = {
      branchLoses: (...args: Parameters<CommitForks["branchLoses"]>) => {
        walks++;
        return forks.branchLoses(...args);
      },
    };
    for (let i = 0; i < 5; i++) {
      expect(keyOf(departureRoster(org, "", counting))).toBe(toHex(keyId(9)));
    }
    expect(walks).toBe(1);
  });
});
