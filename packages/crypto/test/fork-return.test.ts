/**
 * Going back to a parent epoch (docs/DELEGATION.md, "An add step found invalid"): alice adds carol
 * while, out of alice's sight, carol was banned before; bob entered the add step, erin never did.
 * Bob goes back to the parent (`MemberGroup.returnTo`): he reads erin there and erin reads him, the
 * add step's messages stay readable to him, carol's Welcome opens nothing sent after, and bob's own
 * sender chain never uses a generation twice, across restarts too. Seeded: every run is the same.
 */
import { toHex } from "@orgchat/base";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { epochRetention } from "../src/epoch-window.js";
import { isNoForkPointError, isUnknownEpochError } from "../src/errors.js";
import type { GroupParts } from "../src/group-parts.js";
import type { Roster } from "../src/key-schedule.js";
import type { DelegateAdd } from "../src/member-commits.js";
import { MemberGroup } from "../src/member-group.js";
import { organization, provider, read, say, signedPerson } from "./delegation-fixtures.js";
import { joinFromWelcome } from "./fixtures.js";

type Org = ReturnType<typeof organization>;

/** The announced fields of an add step, as a member's `applyAdd` takes them. */
function announced(add: DelegateAdd, now: number) {
  const { roster, epoch, previousKeyId, keyId } = add;
  return { roster, epoch, previousKeyId, keyId, now };
}

/** Saves `member` in parts and restores it (a restart). */
function restart(member: MemberGroup, rosters: ReadonlyMap<string, Roster>): MemberGroup {
  const parts = member.takeParts({ all: true });
  const epochs = parts.epochs.filter(
    (entry): entry is [string, Uint8Array] => entry[1] !== undefined,
  );
  return MemberGroup.restore(provider, {
    head: parts.head,
    epochs,
    roster: (keyIdHex) => rosters.get(keyIdHex),
  });
}

/** Alice adds carol on the current epoch; bob enters the add step, erin does not. */
function invalidAdd(org: Org, now = 3) {
  const { alice, bob } = org.members;
  const parent = { keyId: alice.keyId, roster: alice.roster, epoch: alice.epoch };
  const joinerCarol = signedPerson(org.group);
  const add = alice.commitAdd([joinerCarol.keys], now);
  org.keep(add.keyId, add.roster);
  const carol = joinFromWelcome({
    provider,
    person: joinerCarol.person,
    welcome: add.joiners[0]?.welcome as never,
    roster: add.roster,
    now,
  });
  expect(bob.applyAdd(announced(add, now)).status).toBe("applied");
  return { parent, add, carol };
}

/**
 * What a store holds of bob's parts. Commits reach it in order; a power cut loses those made since
 * the last durable one, from any point on (`crash(kept)`: the first `kept` of them survive).
 */
class Disk {
  head: Uint8Array | undefined;
  readonly epochs = new Map<string, Uint8Array>();
  #unsynced: GroupParts[] = [];

  commit(parts: GroupParts): void {
    this.#unsynced.push(parts);
    if (!parts.durable) return;
    for (const each of this.#unsynced) this.#write(each);
    this.#unsynced = [];
  }

  crash(kept: number, rosters: ReadonlyMap<string, Roster>): MemberGroup {
    for (const each of this.#unsynced.slice(0, kept)) this.#write(each);
    this.#unsynced = [];
    return MemberGroup.restore(provider, {
      head: this.head as Uint8Array,
      epochs: [...this.epochs],
      roster: (keyIdHex) => rosters.get(keyIdHex),
    });
  }

  #write(parts: GroupParts): void {
    if (parts.headChanged) this.head = parts.head;
    for (const [keyIdHex, record] of parts.epochs) {
      if (record === undefined) this.epochs.delete(keyIdHex);
      else this.epochs.set(keyIdHex, record);
    }
  }
}

/** The generation of a message (read by `receiver`). */
function generationOf(receiver: MemberGroup, bytes: Uint8Array, now: number): number {
  return receiver.decrypt(bytes, now).generation;
}

describe("MemberGroup.returnTo", () => {
  it("bob goes back: he and erin read each other, the add step stays readable, carol reads nothing after", () => {
    const org = organization();
    const { alice, erin } = org.members;
    let bob = org.members.bob;
    const fromErinBefore = say(erin, "erin on the parent, before");
    const { parent, add, carol } = invalidAdd(org);
    const onAdd = say(alice, "alice on the add step");
    const fromCarol = say(carol, "carol on the add step");
    const outcome = bob.returnTo(parent.keyId, parent.roster, 4);
    expect(outcome).toMatchObject({ status: "applied", epoch: parent.epoch });
    expect(toHex(bob.keyId)).toBe(toHex(parent.keyId));
    expect(bob.status).toBe("member");
    expect(bob.readableEpochs(4)).toContain(add.epoch);
    expect(read(bob, fromErinBefore, 4)).toBe("erin on the parent, before");
    expect(read(bob, say(erin, "erin on the parent, after"), 4)).toBe("erin on the parent, after");
    const fromBob = say(bob, "bob back on the parent");
    expect(read(erin, fromBob, 4)).toBe("bob back on the parent");
    // The left add step (a loser now) stays readable.
    expect(read(bob, onAdd, 4)).toBe("alice on the add step");
    expect(read(bob, fromCarol, 4)).toBe("carol on the add step");
    // Carol's Welcome gave her the add step's secrets only: nothing sent on the parent opens.
    for (const bytes of [fromBob, say(erin, "erin, later")]) {
      let error: unknown;
      try {
        carol.decrypt(bytes, 4);
      } catch (caught) {
        error = caught;
      }
      expect(isUnknownEpochError(error)).toBe(true);
    }
    // The add step is never entered again; its author goes back too.
    expect(bob.applyAdd(announced(add, 5)).status).toBe("stale");
    expect(alice.returnTo(parent.keyId, parent.roster, 5).status).toBe("applied");
    expect(read(bob, say(alice, "alice back"), 5)).toBe("alice back");
    // Saved and restored: the parent is current, the add step readable and a fork point.
    bob = restart(bob, org.rosters);
    expect(toHex(bob.keyId)).toBe(toHex(parent.keyId));
    expect(bob.keepsParent(add.keyId)).toBe(true);
    expect(read(bob, say(alice, "on the add step, late"), 6)).not.toBe(undefined);
    expect(read(erin, say(bob, "after the restart"), 6)).toBe("after the restart");
  });

  it("refuses with a hint: an epoch never held, one past the window; a wrong roster changes nothing", () => {
    const org = organization();
    const { bob, erin } = org.members;
    const { parent, add } = invalidAdd(org);
    let error: unknown;
    try {
      bob.returnTo(new Uint8Array(8).fill(9), parent.roster, 4);
    } catch (caught) {
      error = caught;
    }
    expect(isNoForkPointError(error)).toBe(true);
    expect((error as { hint?: string }).hint).toMatch(/resync/);
    // Another epoch's roster: refused, bob still on the add step.
    expect(bob.returnTo(parent.keyId, add.roster, 4).status).toBe("roster-mismatch");
    expect(toHex(bob.keyId)).toBe(toHex(add.keyId));
    expect(bob.returnTo(add.keyId, add.roster, 4).status).toBe("stale");
    // Past the retention window: the parent's fork point and keys are gone.
    error = undefined;
    try {
      bob.returnTo(parent.keyId, parent.roster, 4 + epochRetention.windowMs);
    } catch (caught) {
      error = caught;
    }
    expect(isNoForkPointError(error)).toBe(true);
    expect(toHex(bob.keyId)).toBe(toHex(add.keyId));
    expect(read(bob, say(org.members.alice, "still on the add step"), 5)).toBe(
      "still on the add step",
    );
    expect(erin.epoch).toBe(parent.epoch);
  });

  it("bob's generations on the parent are never used twice, whatever the sends and crashes", () => {
    const plan = fc.record({
      before: fc.integer({ min: 0, max: 70 }),
      onAdd: fc.integer({ min: 0, max: 3 }),
      after: fc.integer({ min: 1, max: 140 }),
      // Where bob crashes, and how many commits since the last durable one survive each crash.
      crashes: fc.uniqueArray(fc.integer({ min: 0, max: 140 }), { maxLength: 3 }),
      kept: fc.array(fc.nat({ max: 70 }), { minLength: 4, maxLength: 4 }),
      crashOnAdd: fc.boolean(),
    });
    fc.assert(
      fc.property(plan, (p) => {
        const org = organization();
        const { erin } = org.members;
        const disk = new Disk();
        let bob = org.members.bob;
        let crashes = 0;
        const crash = () => disk.crash(p.kept[crashes++] ?? 0, org.rosters);
        // Every unit of work saves bob's parts.
        const save = () => disk.commit(bob.takeParts());
        const used: number[] = [];
        const send = (now: number) => {
          const bytes = say(bob, "m");
          save();
          used.push(generationOf(erin, bytes, now));
        };
        save();
        for (let i = 0; i < p.before; i++) send(3);
        const { parent, add, carol } = invalidAdd(org);
        const onAdd = say(org.members.alice, "alice on the add step");
        save();
        for (let i = 0; i < p.onAdd; i++) {
          say(bob, "on the add step");
          save();
        }
        const back = () => {
          // After a crash bob may be on the add step again (or never entered it): he goes back.
          if (toHex(bob.keyId) === toHex(parent.keyId)) return;
          expect(bob.returnTo(parent.keyId, parent.roster, 4).status).toBe("applied");
          save();
        };
        if (p.crashOnAdd) bob = crash();
        back();
        for (let i = 0; i < p.after; i++) {
          if (p.crashes.includes(i)) {
            bob = crash();
            back();
          }
          send(4);
        }
        // Every message opened for erin (none a duplicate), each on its own generation.
        expect(new Set(used).size).toBe(used.length);
        // Bob reads erin on the parent; carol's Welcome opens nothing bob sent there.
        expect(read(bob, say(erin, "erin"), 5)).toBe("erin");
        expect(() => carol.decrypt(say(bob, "after"), 5)).toThrow(/No key for epoch/);
        // The add step stays readable (unless a crash took bob back to before he entered it).
        if (bob.readableEpochs(5).includes(add.epoch)) {
          expect(read(bob, onAdd, 5)).toBe("alice on the add step");
        }
      }),
      { seed: 17, numRuns: 40 },
    );
  });
});
