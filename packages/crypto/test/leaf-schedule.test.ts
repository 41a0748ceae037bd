/**
 * The leaf-secret schedule (docs/PROTOCOL.md, "Re-keying"): a member's `L_m` is the salt of the
 * next KeyUpdate and moves one `evolve` step at each KeyUpdate (and resync), never at add steps. So a
 * removal costs the owner one HKDF per member whatever the number of add steps since, the salt a
 * KeyUpdate used is gone once it is applied, and a member that missed KeyUpdates steps over exactly
 * those it is told about.
 */
import { describe, expect, it } from "vitest";
import { labelInfo } from "../src/kdf.js";
import type { GroupId } from "../src/key-schedule.js";
import { openKeyUpdate } from "../src/key-update.js";
import { maxMissedKeyUpdates, maxPossibleKeyUpdates } from "../src/leaf-salts.js";
import type { MemberGroup } from "../src/member-group.js";
import type { OwnerGroup, OwnerKeyUpdate } from "../src/owner-group.js";
import type { CryptoProvider } from "../src/provider.js";
import { nodeProvider } from "../src/providers/node.js";
import {
  createOwner,
  joiner,
  joinFromWelcome,
  person as newPerson,
  type Person,
} from "./fixtures.js";
import { seeded, seededBytes } from "./seeded-provider.js";

const base = seeded(nodeProvider(), "leaf schedule");
const random = seededBytes("leaf schedule fixtures");
/** `labelInfo("evolve", u64 epoch, 32)` without the epoch: 24 bytes, then 8 of context. */
const evolveInfoPrefix = labelInfo("evolve", new Uint8Array(8), 32).subarray(0, 24);

/** The provider, counting the `evolve` expansions (their info starts with the label's prefix). */
function counting(inner: CryptoProvider) {
  const counter = { evolves: 0 };
  const provider: CryptoProvider = Object.create(inner, {
    hkdfExpand: {
      value: (prk: Uint8Array, info: Uint8Array, length: number) => {
        if (
          info.length === evolveInfoPrefix.length + 8 &&
          evolveInfoPrefix.every((byte, i) => info[i] === byte)
        ) {
          counter.evolves++;
        }
        return inner.hkdfExpand(prk, info, length);
      },
    },
  });
  return { provider, counter };
}

const person = (): Person => newPerson(base, () => random(32));
const orgKey = base.ed25519KeyPair();
const group: GroupId = { organizationId: orgKey.publicKey, channelId: "" };

function setup(provider: CryptoProvider, count: number) {
  const owner = createOwner(person(), { provider, group, now: 0 });
  const people = Array.from({ length: count }, person);
  const added = owner.add(people.map(joiner), 0);
  const members = added.welcomes.map(({ welcome }, i) =>
    joinFromWelcome({
      provider,
      person: people[i] as Person,
      welcome,
      roster: added.roster,
      now: 0,
    }),
  );
  return { owner, people, members };
}

function applyAll(
  member: MemberGroup,
  update: OwnerKeyUpdate,
  options: { acceptGap?: boolean; missedKeyUpdates?: bigint[]; possibleKeyUpdates?: bigint[] } = {},
) {
  let status = "";
  for (const chunk of update.chunks) {
    status = member.applyKeyUpdate(chunk, 1, { roster: update.roster, ...options }).status;
    if (status === "applied") break;
  }
  return status;
}

/** The owner's saved record of `leaf`: `u8 1 ‖ u32 leaf ‖ u64 leaf_epoch ‖ L_m ‖ P_m`. */
function savedLeafSecret(owner: OwnerGroup, leaf: number): Uint8Array {
  const record = owner.takeParts({ all: true }).members.find(([l]) => l === leaf)?.[1];
  if (record === undefined) throw new Error(`no record for leaf ${leaf}`);
  return record.slice(13, 45);
}

describe("leaf-secret schedule", () => {
  it("a removal costs one evolve per remaining member, whatever the add steps since", () => {
    const { provider, counter } = counting(base);
    const { owner, members } = setup(provider, 6);
    for (let i = 0; i < 30; i++) {
      const add = owner.add([joiner(person())], 0);
      for (const member of members) member.applyAdd({ roster: add.roster, now: 0 });
    }
    // The members followed 30 add steps without moving their leaf secrets.
    expect(counter.evolves).toBe(0);
    const removal = owner.remove([2], 1);
    // 35 remaining members (5 of the first 6 and the 30 joiners): one step each (per epoch: 35 × 31).
    expect(counter.evolves).toBe(35);
    for (const [i, member] of members.entries()) {
      expect(applyAll(member, removal)).toBe(i === 1 ? "removed" : "applied");
    }
  });

  it("the salt a KeyUpdate used is gone once applied: the saved leaf secret does not open it", () => {
    const { owner, people, members } = setup(base, 2);
    const before = savedLeafSecret(owner, 1);
    const refresh = owner.refresh(1);
    const chunk = refresh.chunks[0];
    if (chunk === undefined) throw new Error("no chunk");
    const me = people[0] as Person;
    const open = (leafSecret: Uint8Array) =>
      openKeyUpdate({
        provider: base,
        group,
        chunk,
        prekeySecret: me.prekeySecret,
        prekey: me.leaf.prekey,
        leafSecret,
      });
    expect(open(before)).toBeDefined();
    const after = savedLeafSecret(owner, 1);
    expect(open(after)).toBeUndefined();
    expect(applyAll(members[0] as MemberGroup, refresh)).toBe("applied");
    // The member moved to the same leaf secret: the next KeyUpdate opens for it.
    expect(applyAll(members[0] as MemberGroup, owner.refresh(2))).toBe("applied");
  });

  it("a member that missed KeyUpdates opens the next one only when told their epochs", () => {
    const { owner, members } = setup(base, 3);
    const [a, b, c] = members as [MemberGroup, MemberGroup, MemberGroup];
    const first = owner.refresh(1);
    expect(applyAll(c, first)).toBe("applied");
    const add = owner.add([joiner(person())], 1);
    expect(c.applyAdd({ roster: add.roster, now: 1 }).status).toBe("applied");
    const second = owner.refresh(2);
    // a and b missed the first KeyUpdate and the add step; c followed everything.
    expect(applyAll(c, second)).toBe("applied");
    expect(
      applyAll(a, second, { acceptGap: true, missedKeyUpdates: [first.epoch, second.epoch + 5n] }),
    ).toBe("applied");
    expect(a.keyId).toEqual(owner.keyId);
    // Not told: b's salt is not the one the owner used, so no entry is for it.
    expect(applyAll(b, second, { acceptGap: true })).toBe("removed");
  });

  it("epochs of unknown change: every combination is tried, up to maxPossibleKeyUpdates", () => {
    const { owner, members } = setup(base, 3);
    const [a, b, c] = members as [MemberGroup, MemberGroup, MemberGroup];
    const adds: bigint[] = [];
    for (let i = 0; i < 2; i++) adds.push(owner.add([joiner(person())], 1).epoch);
    const first = owner.refresh(1);
    adds.push(owner.add([joiner(person())], 1).epoch);
    const second = owner.refresh(2);
    // a, b and c missed two add steps, a KeyUpdate, an add step: four epochs they know nothing of.
    const unknown = [...adds.slice(0, 2), first.epoch, adds[2] as bigint];
    expect(unknown).toHaveLength(maxPossibleKeyUpdates);
    expect(applyAll(a, second, { acceptGap: true, possibleKeyUpdates: unknown })).toBe("applied");
    expect(a.keyId).toEqual(owner.keyId);
    // Knowing which one was the KeyUpdate is as good.
    expect(applyAll(b, second, { acceptGap: true, missedKeyUpdates: [first.epoch] })).toBe(
      "applied",
    );
    // One too many is refused before any attempt, and nothing changes.
    const five = [0n, ...unknown];
    const chunk = second.chunks[0];
    if (chunk === undefined) throw new Error("no chunk");
    expect(() =>
      c.applyKeyUpdate(chunk, 2, { acceptGap: true, possibleKeyUpdates: five }),
    ).toThrowError(RangeError);
    expect(c.epoch).toBe(1n);
  });

  it("a resync without a new leaf secret keeps it: a KeyUpdate overtaking the Welcome still opens", () => {
    const { owner, members } = setup(base, 2);
    const a = members[0] as MemberGroup;
    const add = owner.add([joiner(person())], 1);
    expect(a.applyAdd({ roster: add.roster, now: 1 }).status).toBe("applied");
    const welcome = owner.resync(1);
    expect(welcome.epoch).toBe(add.epoch);
    // The Welcome is on its way when the next KeyUpdate comes: a applies it with what it holds.
    expect(applyAll(a, owner.refresh(2))).toBe("applied");
    expect(a.keyId).toEqual(owner.keyId);
  });

  it("refuses more than maxMissedKeyUpdates, or epochs out of order, and changes nothing", () => {
    const { owner, members } = setup(base, 1);
    const a = members[0] as MemberGroup;
    const refresh = owner.refresh(1);
    const chunk = refresh.chunks[0];
    if (chunk === undefined) throw new Error("no chunk");
    const tooMany = Array.from({ length: maxMissedKeyUpdates + 1 }, (_, i) => BigInt(i + 1));
    expect(() => a.applyKeyUpdate(chunk, 1, { missedKeyUpdates: tooMany })).toThrowError(
      RangeError,
    );
    expect(() => a.applyKeyUpdate(chunk, 1, { missedKeyUpdates: [3n, 2n] })).toThrowError(
      RangeError,
    );
    expect(a.epoch).toBe(1n);
    expect(applyAll(a, refresh, { missedKeyUpdates: tooMany.slice(1) })).toBe("applied");
  });
});

describe("the owner's identity index (add steps in O(joiners))", () => {
  it("refuses a joiner already in the roster, and takes back one that was removed", () => {
    const { owner, people } = setup(base, 3);
    const [, second, third] = people as [Person, Person, Person];
    expect(() => owner.add([joiner(second)], 1)).toThrowError(/already in the roster/);
    owner.remove([3], 1);
    const again = owner.add([joiner(third)], 2);
    expect(again.welcomes.map(({ leaf }) => leaf)).toEqual([3]);
    expect(() => owner.add([joiner(third)], 2)).toThrowError(/already in the roster/);
    // A refused add changed nothing: the next one still sees the same roster.
    const fresh = person();
    expect(() => owner.add([joiner(fresh), joiner(second)], 3)).toThrowError(/already/);
    expect(owner.add([joiner(fresh)], 3).welcomes.map(({ leaf }) => leaf)).toEqual([4]);
  });
});

describe("a roster hash the caller already checked", () => {
  /** The provider, counting SHA-256 calls over a whole roster (the "orgchat v1 roster" input). */
  function hashing(inner: CryptoProvider) {
    const counter = { rosters: 0 };
    const label = new TextEncoder().encode("orgchat v1 roster");
    const provider: CryptoProvider = Object.create(inner, {
      sha256: {
        value: (data: Uint8Array) => {
          if (label.every((byte, i) => data[i] === byte)) counter.rosters++;
          return inner.sha256(data);
        },
      },
    });
    return { provider, counter };
  }

  it("is not hashed again by applyAdd and applyKeyUpdate; a wrong one is a key-mismatch", () => {
    const { provider, counter } = hashing(base);
    const { owner, members } = setup(provider, 2);
    const [a, b] = members as [MemberGroup, MemberGroup];
    const add = owner.add([joiner(person())], 1);
    const wrong = add.rosterHash.slice();
    wrong[0] = (wrong[0] as number) ^ 1;
    const before = counter.rosters;
    expect(
      a.applyAdd({ roster: add.roster, now: 1, keyId: add.keyId, rosterHash: wrong }).status,
    ).toBe("key-mismatch");
    expect(
      a.applyAdd({ roster: add.roster, now: 1, keyId: add.keyId, rosterHash: add.rosterHash })
        .status,
    ).toBe("applied");
    expect(counter.rosters).toBe(before);
    // Without it, the member hashes the roster itself.
    expect(b.applyAdd({ roster: add.roster, now: 1, keyId: add.keyId }).status).toBe("applied");
    expect(counter.rosters).toBe(before + 1);
    const removal = owner.remove([2], 2);
    const hashed = counter.rosters;
    const chunk = removal.chunks[0];
    if (chunk === undefined) throw new Error("no chunk");
    const options = { roster: removal.roster, rosterHash: removal.rosterHash };
    expect(a.applyKeyUpdate(chunk, 2, options).status).toBe("applied");
    expect(counter.rosters).toBe(hashed);
  });
});
