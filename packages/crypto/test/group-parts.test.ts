import { decodeGroupMessage } from "@orgchat/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { epochRetention, sendReservation } from "../src/epoch-window.js";
import { EpochKeys } from "../src/group-message.js";
import type { GroupParts } from "../src/group-parts.js";
import { EpochSecrets, type GroupId, type Roster, rosterHash } from "../src/key-schedule.js";
import { MemberGroup } from "../src/member-group.js";
import { OwnerGroup } from "../src/owner-group.js";
import type { CryptoProvider } from "../src/provider.js";
import { nodeProvider } from "../src/providers/node.js";
import {
  createOwner,
  errorNamed,
  hex,
  joiner,
  joinFromWelcome,
  person as newPerson,
  type Person,
  text,
} from "./fixtures.js";
import { seeded, seededBytes } from "./seeded-provider.js";

const provider = seeded(nodeProvider(), "group parts");
const random = seededBytes("group parts fixtures");
const utf8 = new TextDecoder();
const corrupted = errorNamed("StateCorruptedError");

function person(p: CryptoProvider = provider): Person {
  return newPerson(p, () => random(32));
}

const orgGroup: GroupId = { organizationId: provider.ed25519KeyPair().publicKey, channelId: "" };

/** The rosters a client keeps by key id: every roster the owner announced. */
class RosterStore {
  readonly byKeyId = new Map<string, Roster>();
  readonly lookups: string[] = [];
  keep(keyId: Uint8Array, roster: Roster): void {
    this.byKeyId.set(hex(keyId), roster);
  }
  readonly lookup = (keyIdHex: string): Roster | undefined => {
    this.lookups.push(keyIdHex);
    return this.byKeyId.get(keyIdHex);
  };
}

/** What a client stores of one group: the head and the member records, written from `takeParts`. */
class Saved {
  head: Uint8Array | undefined;
  readonly members = new Map<number, Uint8Array>();
  readonly epochs = new Map<string, Uint8Array>();
  /** Bytes written by the commits so far (head when changed, records). */
  written = 0;
  commit(parts: GroupParts): GroupParts {
    if (parts.headChanged) {
      this.head = parts.head;
      this.written += parts.head.length;
    }
    for (const [leaf, record] of parts.members) {
      if (record === undefined) this.members.delete(leaf);
      else this.members.set(leaf, record);
      this.written += record?.length ?? 0;
    }
    for (const [keyIdHex, record] of parts.epochs) {
      if (record === undefined) this.epochs.delete(keyIdHex);
      else this.epochs.set(keyIdHex, record);
      this.written += record?.length ?? 0;
    }
    return parts;
  }
  clone(): Saved {
    const copy = new Saved();
    copy.head = this.head;
    for (const [leaf, record] of this.members) copy.members.set(leaf, record);
    for (const [keyIdHex, record] of this.epochs) copy.epochs.set(keyIdHex, record);
    return copy;
  }
  restoreOwner(rosters: RosterStore): OwnerGroup {
    return OwnerGroup.restore(provider, {
      head: this.head as Uint8Array,
      members: this.members,
      epochs: this.epochs,
      roster: rosters.lookup,
    });
  }
  restoreMember(rosters: RosterStore): MemberGroup {
    return MemberGroup.restore(provider, {
      head: this.head as Uint8Array,
      epochs: this.epochs,
      roster: rosters.lookup,
    });
  }
}

function newOwner(historyPolicy: "joined" | "shared" = "joined") {
  const me = person();
  const owner = createOwner(me, { provider, group: orgGroup, now: 0, historyPolicy });
  const rosters = new RosterStore();
  rosters.keep(owner.keyId, owner.roster);
  return { owner, rosters, me };
}

/** A roster store for an owner made elsewhere. */
function rosters0(owner: OwnerGroup): RosterStore {
  const rosters = new RosterStore();
  rosters.keep(owner.keyId, owner.roster);
  return rosters;
}

function addPeople(owner: OwnerGroup, rosters: RosterStore, people: Person[], now: number) {
  const added = owner.add(people.map(joiner), now);
  rosters.keep(added.keyId, added.roster);
  const members = added.welcomes.map(({ welcome }, i) =>
    joinFromWelcome({ provider, person: people[i] as Person, welcome, roster: added.roster, now }),
  );
  return { added, members };
}

/**
 * An owner two epochs on (epochs 0 and 1 retained, saved), and a message its first member wrote in
 * epoch 1 that the owner has not read yet.
 */
function lateInRetainedEpoch() {
  const { owner, rosters } = newOwner();
  const { members } = addPeople(owner, rosters, [person()], 1);
  const late = say(members[0] as MemberGroup, "late");
  addPeople(owner, rosters, [person()], 2);
  const saved = new Saved();
  saved.commit(owner.takeParts());
  expect(saved.epochs.size).toBe(2);
  return { owner, rosters, late, saved };
}

const say = (sender: OwnerGroup | MemberGroup, message: string) =>
  sender.encrypt({ contentType: 1, content: text(message) });
const read = (receiver: OwnerGroup | MemberGroup, bytes: Uint8Array, now: number) =>
  utf8.decode(receiver.decrypt(bytes, now).content);

describe("takeParts: the state in pieces", () => {
  it("a new owner: the head and no member; then a join writes the joiner's record, durably", () => {
    const { owner, rosters } = newOwner();
    const saved = new Saved();
    const first = saved.commit(owner.takeParts());
    expect(first).toMatchObject({ headChanged: true, members: [], durable: true });
    expect(owner.takeParts()).toMatchObject({ headChanged: false, members: [], durable: false });
    const { added } = addPeople(owner, rosters, [person()], 1);
    const parts = saved.commit(owner.takeParts());
    expect(parts.headChanged).toBe(true);
    expect(parts.durable).toBe(true);
    expect(parts.members.map(([leaf]) => leaf)).toEqual([1]);
    expect(added.welcomes[0]?.leaf).toBe(1);
    expect(owner.takeParts()).toMatchObject({ headChanged: false, members: [], durable: false });
  });

  it("the head does not grow with the roster; an add of one writes one record", () => {
    const sizes: number[] = [];
    for (const count of [4, 200]) {
      const { owner, rosters } = newOwner();
      addPeople(
        owner,
        rosters,
        Array.from({ length: count }, () => person()),
        1,
      );
      owner.takeParts();
      addPeople(owner, rosters, [person()], 2);
      const parts = owner.takeParts();
      expect(parts.members).toHaveLength(1);
      sizes.push(parts.head.length);
      expect(owner.serialize().length).toBeGreaterThan(count * 96);
    }
    expect(sizes[1]).toBe(sizes[0]);
  });

  it("sends: the head changes once per reservation, and that commit is durable", () => {
    const { owner, rosters } = newOwner();
    const { members } = addPeople(owner, rosters, [person()], 1);
    const reader = members[0] as MemberGroup;
    owner.takeParts();
    const changes: number[] = [];
    const durable: number[] = [];
    for (let i = 0; i < 3 * sendReservation; i++) {
      expect(read(reader, say(owner, `m${i}`), 2)).toBe(`m${i}`);
      const parts = owner.takeParts();
      if (parts.headChanged) changes.push(i);
      if (parts.durable) durable.push(i);
    }
    expect(changes).toEqual([0, sendReservation, 2 * sendReservation]);
    expect(durable).toEqual(changes);
  });

  it("receives change the head but need no durable commit; a removal rewrites every record", () => {
    const { owner, rosters } = newOwner();
    const { members } = addPeople(owner, rosters, [person(), person(), person()], 1);
    owner.takeParts();
    read(owner, say(members[0] as MemberGroup, "hi"), 2);
    expect(owner.takeParts()).toMatchObject({ headChanged: true, members: [], durable: false });
    owner.remove([2], 3);
    const parts = owner.takeParts();
    expect(parts.durable).toBe(true);
    expect(parts.members.map(([leaf, record]) => [leaf, record === undefined])).toEqual([
      [1, false],
      [2, true],
      [3, false],
    ]);
  });

  it("heldEpochs names every epoch held with its roster hash; a refresh shares the roster array", () => {
    const { owner, rosters } = newOwner();
    addPeople(owner, rosters, [person()], 1);
    const before = owner.roster;
    const refresh = owner.refresh(2);
    rosters.keep(refresh.keyId, refresh.roster);
    expect(owner.roster).toBe(before);
    const held = owner.heldEpochs();
    expect(held.map((entry) => entry.epoch)).toEqual([0n, 1n, 2n]);
    for (const entry of held) {
      const roster = rosters.byKeyId.get(hex(entry.keyId)) as Roster;
      expect(hex(entry.rosterHash)).toBe(hex(rosterHash(provider, roster)));
    }
  });
});

describe("restore", () => {
  it("owner round trip: the restored owner carries on; nothing to write until something changes", () => {
    const { owner, rosters } = newOwner("shared");
    const { members } = addPeople(owner, rosters, [person(), person(), person()], 1);
    const [a, b] = members as [MemberGroup, MemberGroup];
    const saved = new Saved();
    const early = say(a, "early");
    saved.commit(owner.takeParts());
    const removal = owner.remove([3], 2);
    rosters.keep(removal.keyId, removal.roster);
    for (const member of [a, b]) {
      for (const chunk of removal.chunks)
        member.applyKeyUpdate(chunk, 2, { roster: removal.roster });
    }
    const rotated = provider.x25519KeyPair();
    owner.rotatePrekey(1, rotated.publicKey);
    saved.commit(owner.takeParts());
    expect(saved.members.size).toBe(2);

    rosters.lookups.length = 0;
    const copy = saved.restoreOwner(rosters);
    // One look-up per epoch held (each epoch has its own roster here).
    expect(new Set(rosters.lookups).size).toBe(rosters.lookups.length);
    expect(copy.takeParts()).toMatchObject({ headChanged: false, members: [], durable: false });
    // A rewrite (after a failed commit): the head and every record.
    const all = copy.takeParts({ all: true });
    expect(all).toMatchObject({ headChanged: true, durable: true });
    expect(all.members.map(([leaf]) => leaf)).toEqual([1, 2]);
    expect(copy.epoch).toBe(owner.epoch);
    expect(hex(copy.keyId)).toBe(hex(owner.keyId));
    expect(copy.memberLeaves()).toEqual([1, 2]);
    expect(read(copy, early, 3)).toBe("early");
    expect(read(b, say(copy, "restored"), 3)).toBe("restored");
    // The rotation survived: the next epoch's roster lists the new prekey.
    const next = copy.refresh(4);
    expect(hex(next.roster[1]?.prekey as Uint8Array)).toBe(hex(rotated.publicKey));
  });

  it("restored member records are the group's own copies: the input may be reused, a removal wipes only its member's", () => {
    const { owner, rosters } = newOwner();
    const { members } = addPeople(owner, rosters, [person(), person(), person()], 1);
    const saved = new Saved();
    saved.commit(owner.takeParts());
    const before = new Map([...saved.members].map(([leaf, record]) => [leaf, hex(record)]));
    // Records read from one buffer (as a store's listing hands them), then that buffer reused.
    const buffer = new Uint8Array([...saved.members.values()].reduce((n, r) => n + r.length, 0));
    const records = new Map<number, Uint8Array>();
    let at = 0;
    for (const [leaf, record] of saved.members) {
      buffer.set(record, at);
      records.set(leaf, buffer.subarray(at, at + record.length));
      at += record.length;
    }
    const copy = OwnerGroup.restore(provider, {
      head: saved.head as Uint8Array,
      members: records,
      epochs: saved.epochs,
      roster: rosters.lookup,
    });
    buffer.fill(0xee);
    const all = copy.takeParts({ all: true });
    expect(new Map(all.members.map(([leaf, record]) => [leaf, hex(record as Uint8Array)]))).toEqual(
      before,
    );
    // A prekey rotated after the restore replaces that member's only.
    const rotated = provider.x25519KeyPair();
    copy.rotatePrekey(1, rotated.publicKey);
    const rewritten = new Map(
      copy.takeParts({ all: true }).members.map(([leaf, r]) => [leaf, hex(r as Uint8Array)]),
    );
    // A record is `version ‖ leaf ‖ leaf epoch ‖ leaf secret ‖ prekey`: the prekey is its last 32 bytes.
    expect(rewritten.get(1)?.slice(-64)).toBe(hex(rotated.publicKey));
    expect(rewritten.get(1)?.slice(0, -64)).toBe(before.get(1)?.slice(0, -64));
    expect(rewritten.get(3)).toBe(before.get(3));
    // A removal wipes the removed member's secret; a member re-keys with its own (leaf 3: leaf 1's
    // KeyUpdate goes to its rotated prekey, whose secret this test does not hold).
    const removal = copy.remove([2], 2);
    const c = members[2] as MemberGroup;
    for (const chunk of removal.chunks) c.applyKeyUpdate(chunk, 2, { roster: removal.roster });
    expect(read(c, say(copy, "after"), 3)).toBe("after");
    expect(copy.memberLeaves()).toEqual([1, 3]);
    // The KeyUpdate moved the leaf secrets on: a second one is keyed from the new ones.
    const refresh = copy.refresh(4);
    for (const chunk of refresh.chunks) c.applyKeyUpdate(chunk, 4, { roster: refresh.roster });
    expect(read(c, say(copy, "again"), 5)).toBe("again");
  });

  it("member round trip, also once removed", () => {
    const { owner, rosters } = newOwner();
    const { members } = addPeople(owner, rosters, [person(), person()], 1);
    const [a, b] = members as [MemberGroup, MemberGroup];
    const restoredA = MemberGroup.restore(provider, {
      head: a.takeParts().head,
      roster: rosters.lookup,
    });
    expect(restoredA.takeParts()).toMatchObject({
      headChanged: false,
      members: [],
      durable: false,
    });
    expect(read(restoredA, say(owner, "hello"), 2)).toBe("hello");
    const removal = owner.remove([2], 3);
    rosters.keep(removal.keyId, removal.roster);
    for (const chunk of removal.chunks) b.applyKeyUpdate(chunk, 3);
    expect(b.status).toBe("removed");
    const savedB = new Saved();
    savedB.commit(b.takeParts());
    expect(savedB.epochs.size).toBe(1);
    const restoredB = savedB.restoreMember(rosters);
    expect(restoredB.status).toBe("removed");
    expect(read(restoredB, say(a, "late"), 3)).toBe("late");
    expect(restoredB.heldEpochs().map((entry) => entry.epoch)).toEqual([1n]);
  });

  it("a whole state from serialize() restores, and is then written in pieces entirely", () => {
    const { owner, rosters } = newOwner();
    const { members } = addPeople(owner, rosters, [person(), person()], 1);
    const copy = OwnerGroup.restore(provider, {
      head: owner.serialize(),
      members: [],
      roster: () => undefined,
    });
    const parts = copy.takeParts();
    expect(parts).toMatchObject({ headChanged: true, durable: true });
    expect(parts.members.map(([leaf]) => leaf)).toEqual([1, 2]);
    const member = MemberGroup.restore(provider, {
      head: (members[0] as MemberGroup).serialize(),
      roster: () => undefined,
    });
    expect(member.takeParts()).toMatchObject({ headChanged: true, durable: true });
  });

  it("StateCorruptedError naming what does not hang together", () => {
    const { owner, rosters } = newOwner();
    addPeople(owner, rosters, [person(), person()], 1);
    const saved = new Saved();
    saved.commit(owner.takeParts());
    const head = saved.head as Uint8Array;
    const restoreWith =
      (
        members: Iterable<readonly [number, Uint8Array]>,
        roster: (keyIdHex: string) => Roster | undefined = rosters.lookup,
        bytes = head,
      ) =>
      () =>
        OwnerGroup.restore(provider, { head: bytes, members, epochs, roster });
    let epochs: Iterable<readonly [string, Uint8Array]> = saved.epochs;
    const records = [...saved.members];
    const [one, two] = records as [[number, Uint8Array], [number, Uint8Array]];
    expect(restoreWith(records)).not.toThrow();
    expect(restoreWith(records, () => undefined)).toThrowError(
      expect.objectContaining({
        name: "StateCorruptedError",
        message: expect.stringMatching(/roster of epoch 1 .* is missing/),
      }),
    );
    const other = [...owner.roster];
    other[1] = other[2];
    expect(restoreWith(records, () => other)).toThrowError(
      expect.objectContaining({
        message: expect.stringMatching(/does not hash to the saved roster hash/),
      }),
    );
    expect(restoreWith([one])).toThrowError(
      expect.objectContaining({
        message: expect.stringMatching(/1 member records, the head counts 2/),
      }),
    );
    expect(restoreWith([one, [2, one[1]]])).toThrowError(
      expect.objectContaining({ message: expect.stringMatching(/stored for leaf 2 names leaf 1/) }),
    );
    // A leaf's record twice (the second another one: not silently taken), or from a later epoch.
    const again = one[1].slice();
    again[20] = (again[20] as number) ^ 1;
    expect(restoreWith([one, [one[0], again], two])).toThrowError(
      expect.objectContaining({ message: expect.stringMatching(/two member records for leaf 1/) }),
    );
    const later = two[1].slice();
    later.set([0, 0, 0, 1, 0, 0, 0, 0], 5);
    expect(restoreWith([one, [two[0], later]])).toThrowError(
      expect.objectContaining({ message: expect.stringMatching(/leaf 2 is from a later epoch/) }),
    );
    // A member record truncated, with a byte more, or of another version.
    for (const bad of [two[1].subarray(0, 76), new Uint8Array([...two[1], 0]), two[1].slice()]) {
      if (bad.length === two[1].length) bad[0] = 2;
      expect(restoreWith([one, [two[0], bad]])).toThrowError(corrupted);
    }
    expect(restoreWith([one, [two[0], new Uint8Array(0)]])).toThrowError(corrupted);
    const forEmpty = two[1].slice();
    forEmpty.set([0, 0, 0, 7], 1);
    expect(restoreWith([one, two, [7, forEmpty]])).toThrowError(
      expect.objectContaining({ message: expect.stringMatching(/leaf 7, an empty leaf/) }),
    );
    const forOwner = two[1].slice();
    forOwner.set([0, 0, 0, 0], 1);
    expect(restoreWith([[0, forOwner], one, two])).toThrowError(
      expect.objectContaining({ message: expect.stringMatching(/leaf 0, the owner's/) }),
    );
    for (let length = 0; length < head.length; length += 11) {
      expect(restoreWith(records, rosters.lookup, head.subarray(0, length))).toThrowError(
        corrupted,
      );
    }
    expect(restoreWith(records, rosters.lookup, new Uint8Array([...head, 0]))).toThrowError(
      corrupted,
    );
    expect(() => MemberGroup.restore(provider, { head, roster: rosters.lookup })).toThrowError(
      corrupted,
    );
    // The retained epoch 0 is a record of its own.
    const [[keyIdHex, record]] = [...saved.epochs] as [[string, Uint8Array]];
    epochs = [];
    expect(restoreWith(records)).toThrowError(
      expect.objectContaining({
        message: expect.stringMatching(/0 epoch records, the head names 1/),
      }),
    );
    epochs = [["0000000000000000", record]];
    expect(restoreWith(records)).toThrowError(
      expect.objectContaining({
        message: expect.stringMatching(`the record of retained epoch ${keyIdHex} is missing`),
      }),
    );
    const current = owner.takeParts({ all: true }).head;
    epochs = [[keyIdHex, current]];
    expect(restoreWith(records)).toThrowError(corrupted);
  });

  it("a late message in a retained epoch rewrites that epoch's record only", () => {
    const { owner, rosters, late, saved } = lateInRetainedEpoch();
    expect(read(owner, late, 3)).toBe("late");
    const parts = saved.commit(owner.takeParts());
    expect(parts.headChanged).toBe(false);
    expect(parts.epochs.map(([keyIdHex, record]) => [keyIdHex, record !== undefined])).toEqual([
      [hex(rosterKeyIdOf(rosters, 1)), true],
    ]);
    expect(read(saved.restoreOwner(rosters), say(owner, "after"), 3)).toBeDefined();
  });

  it('retainedRosterChecks "first-use": retained rosters hashed at their first use, a forged one refused there', () => {
    const { owner, rosters, late, saved } = lateInRetainedEpoch();
    // Fresh (unfrozen) arrays each time: no hash is remembered from an earlier restore.
    const fresh = (keyIdHex: string) => {
      const roster = rosters.byKeyId.get(keyIdHex);
      return roster === undefined ? undefined : [...roster];
    };
    let hashes = 0;
    const counting: CryptoProvider = {
      ...provider,
      sha256: (data) => {
        hashes++;
        return provider.sha256(data);
      },
    };
    const restore = (roster: typeof fresh, checks?: "restore" | "first-use") =>
      OwnerGroup.restore(counting, {
        head: saved.head as Uint8Array,
        members: saved.members,
        epochs: saved.epochs,
        roster,
        ...(checks === undefined ? {} : { retainedRosterChecks: checks }),
      });
    hashes = 0;
    const eager = restore(fresh);
    const eagerHashes = hashes;
    hashes = 0;
    const lazy = restore(fresh, "first-use");
    // The two retained epochs' rosters are not hashed at restore.
    expect(eagerHashes - hashes).toBe(2);
    expect(lazy.heldEpochs()).toEqual(eager.heldEpochs());
    hashes = 0;
    expect(read(lazy, late, 3)).toBe("late");
    expect(hashes).toBeGreaterThan(0);
    expect(saved.clone().commit(lazy.takeParts({ all: true })).epochs).toHaveLength(2);

    // A roster that does not hash as the retained epoch's record says: restored, never used.
    const retainedHex = hex(rosterKeyIdOf(rosters, 1));
    const forged = (keyIdHex: string) => {
      const roster = fresh(keyIdHex);
      if (keyIdHex !== retainedHex || roster === undefined) return roster;
      return [roster[1], roster[0]];
    };
    expect(() => restore(forged)).toThrowError(corrupted);
    const refused = restore(forged, "first-use");
    expect(refused.heldEpochs()).toEqual(eager.heldEpochs());
    for (let i = 0; i < 2; i++) expect(() => refused.decrypt(late, 3)).toThrowError(corrupted);
    expect(() => refused.takeParts({ all: true })).toThrowError(corrupted);
    expect(read(refused, say(owner, "current"), 3)).toBe("current");
    // A roster of the wrong length: refused at restore when checked there, at first use when not.
    const shorter = (keyIdHex: string) =>
      keyIdHex === retainedHex ? fresh(keyIdHex)?.slice(1) : fresh(keyIdHex);
    expect(() => restore(shorter)).toThrowError(corrupted);
    const short = restore(shorter, "first-use");
    expect(() => short.decrypt(late, 3)).toThrowError(corrupted);
    expect(read(short, say(owner, "current"), 3)).toBe("current");
  });

  it('retainedRosterChecks "first-use": a retained epoch\'s roster is looked up (built) at its first use, not at restore', () => {
    const { owner, rosters, late, saved } = lateInRetainedEpoch();
    const looked: string[] = [];
    const lookup = (keyIdHex: string) => {
      looked.push(keyIdHex);
      const roster = rosters.byKeyId.get(keyIdHex);
      return roster === undefined ? undefined : [...roster];
    };
    const lazy = OwnerGroup.restore(provider, {
      head: saved.head as Uint8Array,
      members: saved.members,
      epochs: saved.epochs,
      roster: lookup,
      retainedRosterChecks: "first-use",
    });
    const currentHex = hex(owner.heldEpochs().at(-1)?.keyId as Uint8Array);
    // Only the current epoch's roster is looked up at restore.
    expect(looked).toEqual([currentHex]);
    const retainedHex = hex(rosterKeyIdOf(rosters, 1));
    const opened = lazy.decrypt(late, 3);
    expect(utf8.decode(opened.content)).toBe("late");
    expect(hex(opened.keyId)).toBe(retainedHex);
    expect(looked).toEqual([currentHex, retainedHex]);
    // The built roster is the retained epoch's: held now by its own hash, as the live owner's.
    expect(lazy.heldEpochs()).toEqual(owner.heldEpochs());
    // Writing every record again builds (and checks) the other retained roster: each once.
    expect(lazy.takeParts({ all: true }).epochs).toHaveLength(2);
    expect(looked).toHaveLength(3);
    expect(new Set(looked).size).toBe(3);
    // A retained roster missing from the caller: refused at its first use, not at restore.
    const missing = OwnerGroup.restore(provider, {
      head: saved.head as Uint8Array,
      members: saved.members,
      epochs: saved.epochs,
      roster: (keyIdHex) => (keyIdHex === retainedHex ? undefined : lookup(keyIdHex)),
      retainedRosterChecks: "first-use",
    });
    expect(() => missing.decrypt(late, 3)).toThrowError(corrupted);
    expect(read(missing, say(owner, "current"), 3)).toBe("current");
  });

  it("EpochKeys without its roster: format 2 needs the roster, with the saved hash", () => {
    const roster: Roster = [person().leaf, person().leaf];
    const secrets = EpochSecrets.derive(provider, orgGroup, 5n, random(32));
    const keys = EpochKeys.create({ provider, group: orgGroup, secrets, roster });
    const bytes = keys.serialize({ withRoster: false });
    expect(bytes[0]).toBe(2);
    expect(bytes.length).toBeLessThan(keys.serialize().length);
    const keyId = hex(keys.keyId);
    const copy = EpochKeys.deserialize(provider, bytes, {
      roster: (id) => (id === keyId ? roster : undefined),
    });
    expect(copy.roster).toEqual(roster);
    expect(() => EpochKeys.deserialize(provider, bytes)).toThrowError(corrupted);
    expect(() =>
      EpochKeys.deserialize(provider, bytes, { roster: () => [roster[1], roster[0]] }),
    ).toThrowError(corrupted);
  });
});

describe("retention cap", () => {
  it("at most epochRetention.maxEpochs previous epochs, even inside the 24 h window", () => {
    const { owner } = newOwner();
    const { members } = addPeople(owner, rosters0(owner), [person()], 0);
    const a = members[0] as MemberGroup;
    const first = say(owner, "first");
    expect(epochRetention.maxEpochs).toBe(64);
    const total = 70;
    for (let i = 0; i < total; i++) {
      const refresh = owner.refresh(i + 1);
      for (const chunk of refresh.chunks) a.applyKeyUpdate(chunk, i + 1);
    }
    const now = total + 1;
    expect(owner.readableEpochs(now)).toHaveLength(65);
    expect(a.readableEpochs(now)).toHaveLength(65);
    expect(owner.heldEpochs()).toHaveLength(65);
    expect(() => a.decrypt(first, now)).toThrowError(errorNamed("UnknownEpochError"));
  });
});

describe("the own chain's reservation across crashes", () => {
  it("a restored head resumes at the bound: no generation sent before is used again", () => {
    const { owner, rosters } = newOwner();
    const { members } = addPeople(owner, rosters, [person()], 1);
    const reader = members[0] as MemberGroup;
    const saved = new Saved();
    saved.commit(owner.takeParts());
    for (let i = 0; i < 5; i++) {
      say(owner, "x");
      saved.commit(owner.takeParts());
    }
    const restored = saved.restoreOwner(rosters);
    const { generation } = reader.decrypt(say(restored, "after"), 2);
    expect(generation).toBe(sendReservation);
  });

  it("property: whatever suffix of non-durable commits a crash loses, no generation is used twice", () => {
    const { owner: first, rosters } = newOwner();
    const { members } = addPeople(first, rosters, [person()], 1);
    const startMember = members[0] as MemberGroup;
    const baseSaved = new Saved();
    baseSaved.commit(first.takeParts());
    const baseMember = startMember.takeParts().head;
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ sends: fc.integer({ min: 1, max: 150 }) }),
            fc.record({ crashBack: fc.nat() }),
          ),
          { minLength: 1, maxLength: 8 },
        ),
        (steps) => {
          // Every commit of the run, and the index of the last durable one: a power cut keeps a
          // prefix of the commits that includes every durable one.
          const commits: Saved[] = [baseSaved.clone()];
          let lastDurable = 0;
          let owner = commits[0]?.restoreOwner(rosters) as OwnerGroup;
          const reader = MemberGroup.restore(provider, {
            head: baseMember,
            roster: rosters.lookup,
          });
          const used = new Set<number>();
          for (const step of steps) {
            if ("sends" in step) {
              for (let i = 0; i < step.sends; i++) {
                const bytes = say(owner, "m");
                const saved = (commits.at(-1) as Saved).clone();
                const parts = saved.commit(owner.takeParts());
                commits.push(saved);
                if (parts.durable) lastDurable = commits.length - 1;
                // Persist before send: the message leaves once its commit returned.
                const { generation } = decodeGroupMessageGeneration(reader, bytes);
                expect(used.has(generation)).toBe(false);
                used.add(generation);
              }
            } else {
              const keep = lastDurable + (step.crashBack % (commits.length - lastDurable));
              commits.length = keep + 1;
              owner = (commits[keep] as Saved).restoreOwner(rosters);
            }
          }
        },
      ),
      { seed: 0x70617274, numRuns: 40 },
    );
  });
});

describe("receivedBeyondChains: when a head may be written later", () => {
  it("in-order receives move only the chains: a head saved before them restores a group that reads them again, and what follows", () => {
    const { owner, rosters } = newOwner();
    const { members } = addPeople(owner, rosters, [person(), person()], 1);
    const [a, b] = members as [MemberGroup, MemberGroup];
    const saved = new Saved();
    saved.commit(a.takeParts());
    expect(a.receivedBeyondChains).toBe(false);
    const sent = Array.from({ length: 10 }, (_, i) => say(owner, `m${i}`));
    const fromB = say(b, "from b");
    for (const [i, bytes] of sent.entries()) {
      expect(read(a, bytes, 2)).toBe(`m${i}`);
      expect(a.receivedBeyondChains).toBe(false);
    }
    expect(read(a, fromB, 2)).toBe("from b");
    expect(a.receivedBeyondChains).toBe(false);
    // The head moved (chain positions) though nothing beyond the chains did.
    const parts = a.takeParts();
    expect(parts.headChanged).toBe(true);
    expect(parts.durable).toBe(false);
    // The head saved before the receives is an older state of the same chains: it derives the
    // same keys again (a crash before the head was written loses nothing it needs).
    const older = saved.restoreMember(rosters);
    for (const [i, bytes] of sent.entries()) expect(read(older, bytes, 2)).toBe(`m${i}`);
    expect(read(older, say(owner, "next"), 2)).toBe("next");
    expect(read(older, fromB, 2)).toBe("from b");
  });

  it("a late message of a retained epoch is beyond the chains; takeParts clears it", () => {
    const { owner, late } = lateInRetainedEpoch();
    expect(owner.receivedBeyondChains).toBe(false);
    expect(read(owner, late, 3)).toBe("late");
    expect(owner.receivedBeyondChains).toBe(true);
    owner.takeParts();
    expect(owner.receivedBeyondChains).toBe(false);
  });

  it("a receive that expires a retained epoch (erasing its keys) is beyond the chains", () => {
    const { owner, rosters } = newOwner();
    let newest: MemberGroup | undefined;
    for (let now = 1; now <= 3; now++)
      newest = addPeople(owner, rosters, [person()], now).members[0];
    owner.takeParts();
    expect(owner.readableEpochs(3)).toHaveLength(4);
    owner.takeParts();
    // Within the window nothing expires.
    expect(read(owner, say(newest as MemberGroup, "soon"), 4)).toBe("soon");
    expect(owner.receivedBeyondChains).toBe(false);
    // A day later the oldest of three retained epochs goes with the next receive.
    const later = 3 + epochRetention.windowMs;
    expect(read(owner, say(newest as MemberGroup, "later"), later)).toBe("later");
    expect(owner.receivedBeyondChains).toBe(true);
    expect(owner.readableEpochs(later)).toHaveLength(3);
    expect(owner.takeParts().epochs.some(([, record]) => record === undefined)).toBe(true);
    expect(owner.receivedBeyondChains).toBe(false);
  });
});

/** The key id of the epoch whose roster was kept `index`-th (0 = genesis). */
function rosterKeyIdOf(rosters: RosterStore, index: number): Uint8Array {
  const keyIdHex = [...rosters.byKeyId.keys()][index] as string;
  return Uint8Array.from(Buffer.from(keyIdHex, "hex"));
}

/** The generation of one of the owner's messages, as the member reads it (duplicates throw). */
function decodeGroupMessageGeneration(reader: MemberGroup, bytes: Uint8Array) {
  return reader.decrypt(decodeGroupMessage(bytes), 2);
}
