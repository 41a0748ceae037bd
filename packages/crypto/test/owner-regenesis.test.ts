/**
 * `OwnerGroup.regenesis`: a restored owner starts a group again at an epoch above every one seen,
 * with the roster it takes over (docs/RESTORE.md, "Owner continuity"). Members enter it from a
 * resync Welcome and follow its KeyUpdates; a leaf left out (a member gone since the backup) gets
 * nothing and opens nothing.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { GroupId, Roster } from "../src/key-schedule.js";
import type { MemberGroup } from "../src/member-group.js";
import { OwnerGroup, type OwnerKeyUpdate } from "../src/owner-group.js";
import type { CryptoProvider } from "../src/provider.js";
import { nodeProvider } from "../src/providers/node.js";
import {
  createOwner,
  errorNamed,
  joiner,
  joinFromWelcome,
  person as newPerson,
  type Person,
  text,
} from "./fixtures.js";
import { seeded, seededBytes } from "./seeded-provider.js";

const provider = seeded(nodeProvider(), "owner regenesis");
const random = seededBytes("owner regenesis fixtures");
const utf8 = new TextDecoder();

function person(p: CryptoProvider = provider): Person {
  return newPerson(p, () => random(32));
}

const orgKey = provider.ed25519KeyPair();
const group: GroupId = { organizationId: orgKey.publicKey, channelId: "" };

function say(sender: OwnerGroup | MemberGroup, message: string): Uint8Array {
  return sender.encrypt({ contentType: 1, content: text(message) });
}

function read(receiver: OwnerGroup | MemberGroup, bytes: Uint8Array, now: number): string {
  return utf8.decode(receiver.decrypt(bytes, now).content);
}

function applyAll(member: MemberGroup, update: OwnerKeyUpdate, now: number): string {
  let status = "none";
  for (const chunk of update.chunks) {
    status = member.applyKeyUpdate(chunk, now, { roster: update.roster }).status;
    if (status !== "not-in-chunk") break;
  }
  return status;
}

/**
 * The original owner's group with `count` members, re-keyed `refreshes` times; the members' states
 * and the people behind them.
 */
function original(count: number, refreshes: number) {
  const me = person();
  const owner = createOwner(me, { provider, group, now: 0 });
  const people = Array.from({ length: count }, () => person());
  const added = owner.add(people.map(joiner), 1);
  const members = added.welcomes.map(({ welcome }, i) =>
    joinFromWelcome({
      provider,
      person: people[i] as Person,
      welcome,
      roster: added.roster,
      now: 1,
    }),
  );
  for (let i = 0; i < refreshes; i += 1) {
    const update = owner.refresh(2 + i);
    for (const member of members) expect(applyAll(member, update, 2 + i)).toBe("applied");
  }
  return { me, owner, people, members };
}

describe("OwnerGroup.regenesis", () => {
  it("starts at the given epoch with the roster taken over: members enter from a Welcome, read and are read, and follow its KeyUpdates", () => {
    const { me, owner, people, members } = original(3, 2);
    const seen = owner.epoch;
    // Leaf 2 departed since the backup: the roster taken over leaves it empty.
    const roster: Roster = owner.roster.map((leaf, i) => (i === 2 ? undefined : leaf));
    const restored = OwnerGroup.regenesis({
      provider,
      group,
      ownLeaf: me.leaf,
      signingSecretKey: me.signingSecretKey,
      now: 10,
      epoch: seen + 1n,
      roster,
    });
    expect(restored.epoch).toBe(seen + 1n);
    expect(restored.memberLeaves()).toEqual([1, 3]);
    expect(restored.keyId).not.toEqual(owner.keyId);
    expect(() => restored.resync(2)).toThrow(RangeError);
    const entered = [1, 3].map((leaf) =>
      joinFromWelcome({
        provider,
        person: people[leaf - 1] as Person,
        welcome: restored.resync(leaf),
        roster: restored.roster,
        now: 10,
      }),
    );
    const [a, c] = entered as [MemberGroup, MemberGroup];
    expect(a.epoch).toBe(seen + 1n);
    expect(read(a, say(restored, "back"), 10)).toBe("back");
    expect(read(c, say(restored, "back again"), 10)).toBe("back again");
    expect(read(restored, say(a, "hello owner"), 10)).toBe("hello owner");
    expect(read(c, say(a, "hello c"), 10)).toBe("hello c");
    // The departed member's old state opens nothing of the new epoch.
    const gone = members[1] as MemberGroup;
    expect(() => gone.decrypt(say(restored, "not for you"), 10)).toThrow();
    // The next KeyUpdate is wrapped with the leaf secrets the Welcomes gave.
    const next = restored.refresh(11);
    expect(applyAll(a, next, 11)).toBe("applied");
    expect(applyAll(c, next, 11)).toBe("applied");
    expect(applyAll(gone, next, 11)).not.toBe("applied");
    expect(read(c, say(restored, "after"), 11)).toBe("after");
    // Saved and restored, the group is the same.
    const copy = OwnerGroup.deserialize(provider, restored.serialize());
    expect(copy.epoch).toBe(restored.epoch);
    expect(read(a, say(copy, "copy"), 11)).toBe("copy");
  });

  it("refuses what it cannot start from", () => {
    const { me, owner } = original(2, 0);
    const base = {
      provider,
      group,
      ownLeaf: me.leaf,
      signingSecretKey: me.signingSecretKey,
      now: 10,
      epoch: 5n,
      roster: owner.roster,
    };
    expect(() => OwnerGroup.regenesis({ ...base, epoch: 0n })).toThrow(/epoch/);
    expect(() => OwnerGroup.regenesis({ ...base, epoch: 1n << 64n })).toThrow(/epoch/);
    expect(() => OwnerGroup.regenesis({ ...base, roster: [] })).toThrow(/roster/);
    const stranger = person();
    expect(() =>
      OwnerGroup.regenesis({ ...base, roster: [stranger.leaf, ...owner.roster.slice(1)] }),
    ).toThrow(/roster\[0\]/);
    const twice = [...owner.roster, owner.roster[1]];
    expect(() => OwnerGroup.regenesis({ ...base, roster: twice })).toThrow(/twice/);
    const smallOrder = { ...(owner.roster[1] as Person["leaf"]), prekey: new Uint8Array(32) };
    expect(() =>
      OwnerGroup.regenesis({ ...base, roster: [owner.roster[0], smallOrder] }),
    ).toThrowError(errorNamed("InvalidPublicKeyError"));
    expect(() =>
      OwnerGroup.regenesis({ ...base, signingSecretKey: stranger.signingSecretKey }),
    ).toThrow(/signingSecretKey/);
  });

  it("property: any start epoch and any set of leaves kept, every kept member reads the owner and no left-out one does", () => {
    const { me, owner, people, members } = original(4, 1);
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: (1n << 64n) - 2n }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        (epoch, keep) => {
          const roster: Roster = owner.roster.map((leaf, i) =>
            i === 0 || keep[i - 1] === true ? leaf : undefined,
          );
          const restored = OwnerGroup.regenesis({
            provider,
            group,
            ownLeaf: me.leaf,
            signingSecretKey: me.signingSecretKey,
            now: 20,
            epoch,
            roster,
          });
          expect(restored.epoch).toBe(epoch);
          const bytes = say(restored, "m");
          for (let leaf = 1; leaf <= 4; leaf += 1) {
            if (keep[leaf - 1] === true) {
              const m = joinFromWelcome({
                provider,
                person: people[leaf - 1] as Person,
                welcome: restored.resync(leaf),
                roster: restored.roster,
                now: 20,
              });
              expect(read(m, bytes, 20)).toBe("m");
            } else {
              expect(() => restored.resync(leaf)).toThrow(RangeError);
              expect(() => (members[leaf - 1] as MemberGroup).decrypt(bytes, 20)).toThrow();
            }
          }
        },
      ),
      { numRuns: 25, seed: 1713 },
    );
  });
});
