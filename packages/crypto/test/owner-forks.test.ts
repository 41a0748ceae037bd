/**
 * The owner's fork points (`owner-forks.ts`; docs/PROTOCOL.md, "The owner's return"): an owner
 * that followed a delegate's commit, and made its own KeyUpdate on top of it, moves to a sibling
 * that wins at the same parent: its epoch secret from the point, the member records as they were
 * there (its KeyUpdate on the losing branch moved them), so that its next KeyUpdate reaches the
 * members who never left the winning branch. A seeded RNG makes every run the same.
 */
import { toHex } from "@orgchat/base";
import { describe, expect, it } from "vitest";
import { epochRetention } from "../src/epoch-window.js";
import type { KeyUpdateChunk } from "../src/key-update.js";
import type { DelegateAdd, DelegateKeyUpdate } from "../src/member-commits.js";
import type { MemberGroup } from "../src/member-group.js";
import {
  type OwnerForkPoint,
  ownerForkPointLimits,
  pruneOwnerForkPoints,
  readOwnerForkPoint,
  writeOwnerForkPoint,
} from "../src/owner-forks.js";
import type { OwnerGroup } from "../src/owner-group.js";
import { organization, read, say, signedPerson } from "./delegation-fixtures.js";
import { applyChunks, errorNamed } from "./fixtures.js";

type Org = ReturnType<typeof organization>;

const announced = (add: DelegateAdd) => ({
  roster: add.roster,
  epoch: add.epoch,
  previousKeyId: add.previousKeyId,
  keyId: add.keyId,
});

/** Enters `update` as a sibling on `point` from the first chunk holding the owner's entry. */
function enterKeyUpdate(org: Org, point: OwnerForkPoint, update: DelegateKeyUpdate, now: number) {
  let outcome: ReturnType<OwnerGroup["enterSibling"]> = { status: "not-in-chunk" };
  for (const chunk of update.chunks) {
    const init = { roster: update.roster, prekeySecret: org.me.prekeySecret };
    outcome = org.owner.enterSibling(point, { kind: "key-update", chunk, init }, now);
    if (outcome.status !== "not-in-chunk") break;
  }
  return outcome;
}

/**
 * Alice adds carol (the loser: the owner follows it first, then refreshes on top of it); erin
 * removes bob on the same parent (the winner; bob and alice are its members' view).
 */
function ownerOnLoser(org: Org) {
  const { alice, erin } = org.members;
  const loser = alice.commitAdd([signedPerson(org.group).keys], 3);
  const winner = erin.commitRemove([2], 3);
  const point = org.owner.forkPoint(3);
  expect(org.owner.followAdd(announced(loser), 3)).toMatchObject({ status: "applied" });
  // Its own KeyUpdate on the losing branch moves every member's leaf secret.
  const refresh = org.owner.refresh(4);
  expect(applyChunks(alice, refresh.chunks, 4, { roster: refresh.roster })).toBe("applied");
  const onLoser = say(alice, "sent on the losing branch");
  return { point, loser, winner, refresh, onLoser };
}

/** Erin (who committed the winner) follows the owner's next refresh, and reads the owner. */
function erinFollows(org: Org, erin: MemberGroup, now: number): string {
  const refresh = org.owner.refresh(now);
  expect(applyChunks(erin, refresh.chunks, now, { roster: refresh.roster })).toBe("applied");
  return read(erin, say(org.owner, "one chain"), now);
}

describe("the owner on a losing sibling (OwnerGroup.forkPoint / enterSibling)", () => {
  it("moves to a winning KeyUpdate, its member records as they were: erin reads its next refresh", () => {
    const org = organization();
    const { erin } = org.members;
    const { point, winner, onLoser } = ownerOnLoser(org);
    expect(enterKeyUpdate(org, point, winner, 5)).toMatchObject({
      status: "applied",
      epoch: winner.epoch,
    });
    expect(toHex(org.owner.keyId)).toBe(toHex(winner.keyId));
    expect(org.owner.roster[2]).toBeUndefined();
    expect(org.owner.memberLeaves()).toEqual([1, 4]);
    // The epoch it left stays readable; the winner's messages open.
    expect(read(org.owner, onLoser, 5)).toBe("sent on the losing branch");
    expect(read(org.owner, say(erin, "on the winner"), 5)).toBe("on the winner");
    expect(erinFollows(org, erin, 6)).toBe("one chain");
  });

  it("moves to a winning add step; the point survives its bytes (a restart)", () => {
    const org = organization();
    const { alice, erin } = org.members;
    const loser = erin.commitRemove([2], 3);
    const winner = alice.commitAdd([signedPerson(org.group).keys], 3);
    const point = org.owner.forkPoint(3);
    let outcome: ReturnType<OwnerGroup["followKeyUpdate"]> = { status: "not-in-chunk" };
    for (const chunk of loser.chunks) {
      const init = { roster: loser.roster, prekeySecret: org.me.prekeySecret };
      outcome = org.owner.followKeyUpdate(chunk, init, 3);
      if (outcome.status !== "not-in-chunk") break;
    }
    expect(outcome.status).toBe("applied");
    org.owner.refresh(4);
    const bytes = writeOwnerForkPoint(point);
    const again = readOwnerForkPoint(bytes);
    expect(toHex(again.keyId)).toBe(toHex(point.keyId));
    const sibling = { kind: "add" as const, init: announced(winner) };
    expect(org.owner.enterSibling(again, sibling, 5)).toMatchObject({
      status: "applied",
      awaitingLeafSecret: [3],
    });
    expect(toHex(org.owner.keyId)).toBe(toHex(winner.keyId));
    expect(org.owner.memberLeaves()).toEqual([1, 2, 3, 4]);
    // Erin never followed its own losing removal's rival: it enters the winner as members do.
    expect(
      erin.enterSiblingAdd({ ...announced(winner), now: 5 }, { makeCurrent: true }).status,
    ).toBe("applied");
    // Leaf 3 (the joiner) awaits its handover: the refresh is for the others.
    org.owner.recordLeafSecret({
      leaf: 3,
      member: winner.roster[3]?.identityKey as Uint8Array,
      epoch: winner.epoch,
      leafSecret: new Uint8Array(32).fill(7),
    });
    expect(erinFollows(org, erin, 6)).toBe("one chain");
  });

  it("refuses, changing nothing, a sibling off the point, a wrong key id, a roster without it", () => {
    const org = organization();
    const { point, loser, winner } = ownerOnLoser(org);
    const before = toHex(org.owner.keyId);
    const add = (init: ReturnType<typeof announced>) =>
      org.owner.enterSibling(point, { kind: "add", init }, 5);
    // The child it took there, altered (whether a sibling wins is the caller's decision).
    const other = loser;
    expect(add({ ...announced(other), keyId: other.keyId.map((b) => b ^ 1) }).status).toBe(
      "key-mismatch",
    );
    expect(add({ ...announced(other), epoch: other.epoch + 1n }).status).toBe("gap");
    expect(add({ ...announced(other), roster: [undefined, ...other.roster.slice(1)] }).status).toBe(
      "roster-mismatch",
    );
    const chunk = winner.chunks[0] as KeyUpdateChunk;
    const init = { roster: loser.roster, prekeySecret: org.me.prekeySecret };
    expect(org.owner.enterSibling(point, { kind: "key-update", chunk, init }, 5).status).toBe(
      "roster-mismatch",
    );
    expect(toHex(org.owner.keyId)).toBe(before);
  });

  it("reads no forged point bytes", () => {
    const org = organization();
    const bytes = writeOwnerForkPoint(org.owner.forkPoint(3));
    expect(() => readOwnerForkPoint(bytes.subarray(0, bytes.length - 1))).toThrowError(
      errorNamed("StateCorruptedError"),
    );
    const extra = new Uint8Array(bytes.length + 1);
    extra.set(bytes);
    expect(() => readOwnerForkPoint(extra)).toThrowError(errorNamed("StateCorruptedError"));
  });

  it("keeps at most maxPoints fork points, each for the retention window", () => {
    const org = organization();
    const points = Array.from({ length: ownerForkPointLimits.maxPoints + 3 }, (_, i) =>
      org.owner.forkPoint(10 + i),
    );
    const kept = pruneOwnerForkPoints(points, 20);
    expect(kept.length).toBe(ownerForkPointLimits.maxPoints);
    expect(kept[0]?.leftAt).toBe(13);
    // The dropped ones are wiped.
    expect(points[0]?.initSecret.every((b) => b === 0)).toBe(true);
    expect(pruneOwnerForkPoints(kept, 13 + epochRetention.windowMs).length).toBe(
      ownerForkPointLimits.maxPoints - 1,
    );
  });
});
