/**
 * Forks (docs/DELEGATION.md, "Concurrent commits converge"): two committers on the same parent
 * epoch. A member keeps, for the retention window, what a sibling of the commit it followed needs
 * (`member-forks.ts`): it switches to the winner and keeps a loser readable, whichever came first.
 * A seeded RNG makes every run the same.
 */
import { toHex } from "@orgchat/base";
import { describe, expect, it } from "vitest";
import { epochRetention } from "../src/epoch-window.js";
import type { KeyUpdateChunk } from "../src/key-update.js";
import type { DelegateAdd, DelegateKeyUpdate } from "../src/member-commits.js";
import { forkPointLimits } from "../src/member-forks.js";
import { MemberGroup } from "../src/member-group.js";
import { organization, provider, read, say, signedPerson } from "./delegation-fixtures.js";
import { applyChunks } from "./fixtures.js";

type Org = ReturnType<typeof organization>;

/** The announced fields of an add step, as a member's `applyAdd` / `enterSiblingAdd` take them. */
function announced(add: DelegateAdd, now: number) {
  const { roster, epoch, previousKeyId, keyId } = add;
  return { roster, epoch, previousKeyId, keyId, now };
}

/** Enters a sibling KeyUpdate from its chunks (the first that holds our entry). */
function enterSiblingChunks(
  member: MemberGroup,
  update: DelegateKeyUpdate,
  now: number,
  makeCurrent: boolean,
  salt: "leaf" | "delegate",
): string {
  let status = "none";
  for (const chunk of update.chunks) {
    status = member.enterSiblingKeyUpdate(chunk, now, {
      makeCurrent,
      roster: update.roster,
      salt,
    }).status;
    if (status !== "not-in-chunk") break;
  }
  return status;
}

/** Alice adds carol and, on the same parent, erin adds dave: two delegate add steps. */
function twoAdds(org: Org) {
  const { alice, erin } = org.members;
  const carol = signedPerson(org.group);
  const dave = signedPerson(org.group);
  const fromAlice = alice.commitAdd([carol.keys], 3);
  const fromErin = erin.commitAdd([dave.keys], 3);
  expect(toHex(fromAlice.previousKeyId)).toBe(toHex(fromErin.previousKeyId));
  expect(fromAlice.epoch).toBe(fromErin.epoch);
  return { fromAlice, fromErin };
}

describe("two add steps on one parent", () => {
  for (const order of ["winner first", "loser first"] as const) {
    it(`bob sees both (${order}): he ends in the winner, reads both branches; alice switches`, () => {
      const org = organization();
      const { alice, bob, erin } = org.members;
      const { fromAlice: loser, fromErin: winner } = twoAdds(org);
      const inLoser = say(alice, "sent on the losing branch");
      const inWinner = say(erin, "sent on the winning branch");
      if (order === "winner first") {
        expect(bob.applyAdd(announced(winner, 4)).status).toBe("applied");
        expect(bob.keepsParent(loser.previousKeyId)).toBe(true);
        const entered = bob.enterSiblingAdd(announced(loser, 5), { makeCurrent: false });
        expect(entered).toMatchObject({ status: "applied", epoch: loser.epoch });
      } else {
        expect(bob.applyAdd(announced(loser, 4)).status).toBe("applied");
        const entered = bob.enterSiblingAdd(announced(winner, 5), { makeCurrent: true });
        expect(entered).toMatchObject({ status: "applied", epoch: winner.epoch });
      }
      expect(toHex(bob.keyId)).toBe(toHex(winner.keyId));
      expect(read(bob, inLoser, 5)).toBe("sent on the losing branch");
      expect(read(bob, inWinner, 5)).toBe("sent on the winning branch");
      // The losing committer switches to the winner; the winner's committer reads the loser.
      expect(alice.enterSiblingAdd(announced(winner, 5), { makeCurrent: true }).status).toBe(
        "applied",
      );
      expect(erin.enterSiblingAdd(announced(loser, 5), { makeCurrent: false }).status).toBe(
        "applied",
      );
      expect(toHex(alice.keyId)).toBe(toHex(winner.keyId));
      expect(read(erin, inLoser, 5)).toBe("sent on the losing branch");
      expect(read(alice, say(bob, "one chain"), 6)).toBe("one chain");
      expect(read(erin, say(alice, "again"), 6)).toBe("again");
      // Entering it again is stale; nothing changes.
      expect(bob.enterSiblingAdd(announced(loser, 7), { makeCurrent: true }).status).toBe("stale");
      expect(toHex(bob.keyId)).toBe(toHex(winner.keyId));
    });
  }

  it("a commit made on top of the loser (before its committer saw the winner) is readable too", () => {
    const org = organization();
    const { alice, bob } = org.members;
    const { fromAlice: loser, fromErin: winner } = twoAdds(org);
    const onTop = alice.commitAdd([signedPerson(org.group).keys], 4);
    const late = say(alice, "two steps down the losing branch");
    expect(bob.applyAdd(announced(winner, 4)).status).toBe("applied");
    expect(bob.enterSiblingAdd(announced(onTop, 5), { makeCurrent: false }).status).toBe("gap");
    expect(bob.enterSiblingAdd(announced(loser, 5), { makeCurrent: false }).status).toBe("applied");
    expect(bob.enterSiblingAdd(announced(onTop, 5), { makeCurrent: false }).status).toBe("applied");
    expect(read(bob, late, 5)).toBe("two steps down the losing branch");
    // Alice, two steps down the loser, goes back to the winner.
    expect(alice.enterSiblingAdd(announced(winner, 6), { makeCurrent: true }).status).toBe(
      "applied",
    );
    expect(alice.epoch).toBe(winner.epoch);
    expect(read(bob, say(alice, "back"), 6)).toBe("back");
  });

  it("refuses a roster without our leaf and a key_id that does not derive; nothing changes", () => {
    const org = organization();
    const { bob } = org.members;
    const { fromAlice: loser, fromErin: winner } = twoAdds(org);
    expect(bob.applyAdd(announced(winner, 4)).status).toBe("applied");
    const without = [...loser.roster];
    without[bob.leaf] = undefined;
    const options = { makeCurrent: true } as const;
    expect(bob.enterSiblingAdd({ ...announced(loser, 5), roster: without }, options).status).toBe(
      "roster-mismatch",
    );
    const forged = { ...announced(loser, 5), keyId: new Uint8Array(winner.keyId.length).fill(7) };
    expect(bob.enterSiblingAdd(forged, options).status).toBe("key-mismatch");
    expect(toHex(bob.keyId)).toBe(toHex(winner.keyId));
  });
});

describe("a removal and an add step on one parent", () => {
  /** Alice removes bob (delegate KeyUpdate); erin adds carol on the same parent. */
  function removalAndAdd(org: Org) {
    const removal = org.members.alice.commitRemove([2], 3);
    const add = org.members.erin.commitAdd([signedPerson(org.group).keys], 3);
    return { removal, add };
  }

  it("the removal wins: the adder switches with the parent's delegate salt; bob finds no entry", () => {
    const org = organization();
    const { alice, bob, erin } = org.members;
    const { removal, add } = removalAndAdd(org);
    const onAdd = say(erin, "on the add");
    expect(enterSiblingChunks(erin, removal, 4, true, "delegate")).toBe("applied");
    expect(toHex(erin.keyId)).toBe(toHex(removal.keyId));
    expect(read(erin, say(alice, "bob is out"), 4)).toBe("bob is out");
    // Bob followed the add; the removal's chunks hold nothing for him.
    expect(bob.applyAdd(announced(add, 4)).status).toBe("applied");
    expect(enterSiblingChunks(bob, removal, 4, true, "delegate")).toBe("not-in-chunk");
    expect(alice.enterSiblingAdd(announced(add, 4), { makeCurrent: false }).status).toBe("applied");
    expect(read(alice, onAdd, 4)).toBe("on the add");
  });

  it("the add wins: bob, removed on the losing branch, is a member again in the winner", () => {
    const org = organization();
    const { alice, bob } = org.members;
    const { removal, add } = removalAndAdd(org);
    expect(applyChunks(bob, removal.chunks, 4, { roster: removal.roster, salt: "delegate" })).toBe(
      "removed",
    );
    expect(bob.status).toBe("removed");
    expect(bob.enterSiblingAdd(announced(add, 5), { makeCurrent: true }).status).toBe("applied");
    expect(bob.status).toBe("member");
    expect(read(bob, say(org.members.erin, "hi bob"), 5)).toBe("hi bob");
    expect(alice.enterSiblingAdd(announced(add, 5), { makeCurrent: true }).status).toBe("applied");
    expect(read(bob, say(alice, "until my re-commit"), 5)).toBe("until my re-commit");
  });
});

describe("the owner's KeyUpdate and a delegate's add step on one parent", () => {
  it("L_m as it was at the parent opens the owner's entry; the owner's next KeyUpdate opens after", () => {
    const org = organization();
    const { alice, bob, erin } = org.members;
    const ownerUpdate = org.owner.remove([4], 3);
    const delegateAdd = alice.commitAdd([signedPerson(org.group).keys], 3);
    // bob took the delegate's add first, then the owner's KeyUpdate (the winner: owner-signed).
    expect(bob.applyAdd(announced(delegateAdd, 4)).status).toBe("applied");
    const switched = bob.enterSiblingKeyUpdate(ownerUpdate.chunks[0] as KeyUpdateChunk, 4, {
      makeCurrent: true,
      roster: ownerUpdate.roster,
      salt: "leaf",
    });
    expect(switched.status).toBe("applied");
    // erin took the owner's KeyUpdate: it removed her; alice switches to it too.
    expect(applyChunks(erin, ownerUpdate.chunks, 4, { roster: ownerUpdate.roster })).toBe(
      "removed",
    );
    const alicesSwitch = alice.enterSiblingKeyUpdate(ownerUpdate.chunks[0] as KeyUpdateChunk, 4, {
      makeCurrent: true,
      roster: ownerUpdate.roster,
      salt: "leaf",
    });
    expect(alicesSwitch.status).toBe("applied");
    // The owner's next KeyUpdate is salted with each one's L_m moved one step: both open it.
    const next = org.owner.remove([2], 5);
    expect(applyChunks(alice, next.chunks, 5, { roster: next.roster })).toBe("applied");
    expect(applyChunks(bob, next.chunks, 5, { roster: next.roster })).toBe("removed");
    expect(read(alice, say(org.owner, "owner again"), 6)).toBe("owner again");
  });
});

describe("kept, saved and bounded", () => {
  it("a restart keeps the fork points (format 4 head): the sibling is entered after it", () => {
    const org = organization();
    const { bob } = org.members;
    const { fromAlice: loser, fromErin: winner } = twoAdds(org);
    expect(bob.applyAdd(announced(loser, 4)).status).toBe("applied");
    const parts = bob.takeParts({ all: true });
    const epochs = parts.epochs.filter(
      (entry): entry is [string, Uint8Array] => entry[1] !== undefined,
    );
    const rosters = new Map(org.rosters);
    rosters.set(toHex(loser.keyId), loser.roster);
    const restored = MemberGroup.restore(provider, {
      head: parts.head,
      epochs,
      roster: (keyIdHex) => rosters.get(keyIdHex),
    });
    expect(restored.keepsParent(winner.previousKeyId)).toBe(true);
    expect(restored.enterSiblingAdd(announced(winner, 5), { makeCurrent: true }).status).toBe(
      "applied",
    );
    expect(read(restored, say(org.members.erin, "after the restart"), 5)).toBe("after the restart");
  });

  it(`keeps at most ${forkPointLimits.maxPoints} parents, for the retention window`, () => {
    const org = organization();
    const { alice, bob } = org.members;
    const first = alice.keyId;
    let now = 3;
    for (let step = 0; step < forkPointLimits.maxPoints; step++) {
      const add = alice.commitAdd([signedPerson(org.group).keys], now);
      expect(bob.applyAdd(announced(add, now)).status).toBe("applied");
      now++;
    }
    // 16 parents left: the first is the oldest kept; one more step pushes it out.
    expect(bob.keepsParent(first)).toBe(true);
    const more = alice.commitAdd([signedPerson(org.group).keys], now);
    expect(bob.applyAdd(announced(more, now)).status).toBe("applied");
    expect(bob.keepsParent(first)).toBe(false);
    expect(bob.keepsParent(more.previousKeyId)).toBe(true);
    // The retention window ends: the next epoch change wipes every older parent.
    now += epochRetention.windowMs;
    const last = alice.commitAdd([signedPerson(org.group).keys], now);
    expect(bob.applyAdd(announced(last, now)).status).toBe("applied");
    expect(bob.keepsParent(more.previousKeyId)).toBe(false);
    expect(bob.keepsParent(last.previousKeyId)).toBe(true);
  });
});
