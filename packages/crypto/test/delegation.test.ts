/**
 * Delegated management (docs/DELEGATION.md): a member's add step and KeyUpdate with delegate salts
 * (`MemberGroup.commitAdd` / `commitRemove`), members and the owner following them, the owner's
 * leaf handover, the saved rekey secret, and the refusals. A seeded RNG makes every run the same.
 */
import { toHex } from "@orgchat/base";
import { describe, expect, it } from "vitest";
import { ed25519EnvelopeSigner, type KeyUpdateChunk, sealKeyUpdate } from "../src/key-update.js";
import type { DelegateAdd, DelegateKeyUpdate } from "../src/member-commits.js";
import { MemberGroup } from "../src/member-group.js";
import type { SignedMemberKeys } from "../src/member-keys.js";
import { organization, provider, read, say, signedPerson } from "./delegation-fixtures.js";
import { applyChunks, errorNamed, joinFromWelcome } from "./fixtures.js";

/** The delegate add of `carol` by alice, followed by bob and the owner; carol joined. */
function addCarol(org: ReturnType<typeof organization>) {
  const { alice, bob } = org.members;
  const carol = signedPerson(org.group);
  const add: DelegateAdd = alice.commitAdd([carol.keys], 3);
  org.keep(add.keyId, add.roster);
  const announced = {
    roster: add.roster,
    epoch: add.epoch,
    previousKeyId: add.previousKeyId,
    keyId: add.keyId,
  };
  for (const member of [bob, org.members.erin]) {
    expect(member.applyAdd({ ...announced, now: 3 }).status).toBe("applied");
  }
  const followed = org.owner.followAdd(announced, 3);
  const joined = add.joiners[0];
  if (joined === undefined) throw new Error("no joiner");
  const member = joinFromWelcome({
    provider,
    person: carol.person,
    welcome: joined.welcome,
    roster: add.roster,
    now: 3,
  });
  return { add, followed, joined, carol: member, carolKeys: carol.keys };
}

describe("a delegate's add step (MemberGroup.commitAdd)", () => {
  it("puts the joiner in the first empty leaf; members, the owner and the joiner reach the same epoch", () => {
    const org = organization();
    const { alice, bob } = org.members;
    const before = alice.epoch;
    const { add, followed, joined, carol } = addCarol(org);
    expect(joined.leaf).toBe(3);
    expect(add.roster).toHaveLength(5);
    expect(add.epoch).toBe(before + 1n);
    expect(alice.epoch).toBe(add.epoch);
    expect(followed).toEqual({ status: "applied", epoch: add.epoch, awaitingLeafSecret: [3] });
    for (const group of [bob, org.owner, carol]) expect(group.keyId).toEqual(add.keyId);
    const hello = say(carol, "hello from carol");
    for (const group of [alice, bob, org.owner])
      expect(read(group, hello, 4)).toBe("hello from carol");
    expect(read(carol, say(org.owner, "welcome"), 4)).toBe("welcome");
  });

  it("gives the owner the joiner's leaf secret by handover: the owner's next KeyUpdate reaches it", () => {
    const org = organization();
    const { add, joined, carol } = addCarol(org);
    org.owner.recordLeafSecret({
      leaf: joined.leaf,
      member: joined.keys.identityKey,
      epoch: add.epoch,
      leafSecret: joined.leafSecret,
    });
    const refresh = org.owner.refresh(5);
    expect(applyChunks(carol, refresh.chunks, 5, {})).toBe("applied");
    expect(applyChunks(org.members.bob, refresh.chunks, 5, {})).toBe("applied");
  });

  it("without the handover the owner's KeyUpdate cannot reach the joiner (it resyncs), and a stale handover is refused", () => {
    const org = organization();
    const { add, joined, carol } = addCarol(org);
    const refresh = org.owner.refresh(5);
    expect(applyChunks(carol, refresh.chunks, 5, {})).toBe("removed");
    expect(() =>
      org.owner.recordLeafSecret({
        leaf: joined.leaf,
        member: joined.keys.identityKey,
        epoch: add.epoch,
        leafSecret: joined.leafSecret,
      }),
    ).toThrowError(/re-keyed this member since/);
    expect(() =>
      org.owner.recordLeafSecret({
        leaf: 1,
        member: joined.keys.identityKey,
        epoch: add.epoch,
        leafSecret: joined.leafSecret,
      }),
    ).toThrowError(/not that member's leaf/);
  });

  it("refuses a joiner whose keys signature does not verify, before anything changes", () => {
    const org = organization();
    const { alice } = org.members;
    const carol = signedPerson(org.group).keys;
    const other = provider.x25519KeyPair().publicKey;
    const forged: SignedMemberKeys[] = [
      { ...carol, prekey: other },
      { ...carol, keysSignature: new Uint8Array(0) },
      signedPerson({ ...org.group, channelId: "core" }).keys,
    ];
    const epoch = alice.epoch;
    for (const keys of forged) {
      expect(() => alice.commitAdd([keys], 3)).toThrowError(errorNamed("InvalidPublicKeyError"));
      expect(() => alice.commitAdd([carol, keys], 3)).toThrowError(
        errorNamed("InvalidPublicKeyError"),
      );
    }
    expect(alice.epoch).toBe(epoch);
    expect(() => alice.commitAdd([], 3)).toThrowError(/joiners/);
    const bobKeys = org.bob.keys;
    expect(() => alice.commitAdd([bobKeys], 3)).toThrowError(/already in the roster/);
    expect(alice.epoch).toBe(epoch);
  });

  it("refuses a removed member (it holds no init secret)", () => {
    const org = organization();
    const { bob } = org.members;
    bob.markRemoved(3);
    expect(() => bob.commitAdd([signedPerson(org.group).keys], 3)).toThrowError(/removed/);
    expect(() => bob.commitRemove([1], 3)).toThrowError(/removed/);
  });
});

describe("the owner following a delegate (OwnerGroup.followAdd / followKeyUpdate)", () => {
  it("refuses, changing nothing, a commit off its epoch, a wrong key id, a roster without its leaf", () => {
    const org = organization();
    const { alice } = org.members;
    const add = alice.commitAdd([signedPerson(org.group).keys], 3);
    const { owner } = org;
    const epoch = owner.epoch;
    const announced = {
      roster: add.roster,
      epoch: add.epoch,
      previousKeyId: add.previousKeyId,
      keyId: add.keyId,
    };
    const wrongKeyId = add.keyId.map((b) => b ^ 1);
    expect(owner.followAdd({ ...announced, keyId: wrongKeyId }, 3)).toEqual({
      status: "key-mismatch",
    });
    expect(owner.followAdd({ ...announced, epoch: add.epoch + 1n }, 3)).toEqual({ status: "gap" });
    expect(owner.followAdd({ ...announced, previousKeyId: wrongKeyId }, 3)).toEqual({
      status: "gap",
    });
    expect(owner.followAdd({ ...announced, epoch: epoch }, 3)).toEqual({ status: "stale" });
    const withoutOwner = [undefined, ...add.roster.slice(1)];
    expect(owner.followAdd({ ...announced, roster: withoutOwner }, 3)).toEqual({
      status: "roster-mismatch",
    });
    expect(owner.epoch).toBe(epoch);
    expect(owner.followAdd(announced, 3)).toMatchObject({ status: "applied" });
    expect(owner.followAdd(announced, 3)).toEqual({ status: "stale" });
  });

  it("refuses a KeyUpdate whose roster does not hash to its roster hash", () => {
    const org = organization();
    const update = org.members.alice.commitRemove([2], 3);
    const chunk = update.chunks[0] as KeyUpdateChunk;
    const init = { roster: org.owner.roster, prekeySecret: org.me.prekeySecret };
    expect(org.owner.followKeyUpdate(chunk, init, 4)).toEqual({ status: "roster-mismatch" });
    const tampered = {
      ...chunk,
      entries: chunk.entries.map((b, i) => (i % 36 === 20 ? b ^ 1 : b)),
    };
    expect(() =>
      org.owner.followKeyUpdate(tampered, { ...init, roster: update.roster }, 4),
    ).toThrowError(errorNamed("DecryptionFailedError"));
    expect(org.owner.followKeyUpdate(chunk, { ...init, roster: update.roster }, 4)).toMatchObject({
      status: "applied",
      awaitingLeafSecret: [],
    });
    expect(org.owner.memberLeaves()).toEqual([1, 4]);
  });
});

describe("a delegate's KeyUpdate (MemberGroup.commitRemove)", () => {
  function aliceRemovesBob(org: ReturnType<typeof organization>) {
    const update: DelegateKeyUpdate = org.members.alice.commitRemove([2], 3);
    org.keep(update.keyId, update.roster);
    return update;
  }

  it("re-keys everyone but the removed member, with delegate salts; no leaf secret moves", () => {
    const org = organization();
    const { carol } = addCarol(org);
    const { alice, bob } = org.members;
    const update = aliceRemovesBob(org);
    expect(update.roster[2]).toBeUndefined();
    expect(alice.epoch).toBe(update.epoch);
    const delegate = { roster: update.roster, salt: "delegate" } as const;
    expect(applyChunks(carol, update.chunks, 4, delegate)).toBe("applied");
    expect(applyChunks(bob, update.chunks, 4, delegate)).toBe("removed");
    let owner = "none";
    for (const chunk of update.chunks) {
      owner = org.owner.followKeyUpdate(
        chunk,
        { roster: update.roster, prekeySecret: org.me.prekeySecret },
        4,
      ).status;
      if (owner !== "not-in-chunk") break;
    }
    expect(owner).toBe("applied");
    const after = say(alice, "bob is gone");
    expect(read(carol, after, 5)).toBe("bob is gone");
    expect(read(org.owner, after, 5)).toBe("bob is gone");
    expect(() => bob.decrypt(after, 5)).toThrowError(errorNamed("UnknownEpochError"));
    // The owner's next KeyUpdate is salted with the L_m both sides still hold.
    const { erin } = org.members;
    expect(applyChunks(erin, update.chunks, 4, delegate)).toBe("applied");
    const refresh = org.owner.refresh(6);
    expect(applyChunks(alice, refresh.chunks, 6, {})).toBe("applied");
    expect(applyChunks(erin, refresh.chunks, 6, {})).toBe("applied");
  });

  it("is found only in the delegate salt mode, never across a gap, never without the rekey secret", () => {
    const org = organization();
    const { alice, bob } = org.members;
    const carol = signedPerson(org.group);
    // bob misses alice's add of carol, then alice removes carol again.
    const add = alice.commitAdd([carol.keys], 3);
    const update = alice.commitRemove([add.joiners[0]?.leaf as number], 4);
    const chunk = update.chunks[0] as KeyUpdateChunk;
    const options = { roster: update.roster, salt: "delegate", acceptGap: true } as const;
    expect(bob.applyKeyUpdate(chunk, 5, options)).toMatchObject({ status: "gap" });
    expect(bob.status).toBe("member");
    // A member on the parent epoch finds its entry in the delegate mode only.
    const org2 = organization();
    const second = org2.members.alice.commitRemove([2], 3);
    const { bob: removed } = org2.members;
    const ownerView = org2.owner;
    expect(ownerView.epoch + 1n).toBe(second.epoch);
    const first = second.chunks[0] as KeyUpdateChunk;
    // A whole state (format 1) has no rekey secret: no delegate KeyUpdate until the next epoch.
    const restored = MemberGroup.deserialize(provider, org.members.alice.serialize());
    expect(() => restored.commitRemove([2], 3)).toThrowError(/rekey_secret/);
    expect(removed.holdsKeyUpdateEntry(first, { salt: "delegate" })).toBe(false);
    const followedLeaf = ownerView.followKeyUpdate(
      first,
      { roster: second.roster, prekeySecret: org2.me.prekeySecret },
      4,
    );
    expect(followedLeaf.status).toBe("applied");
  });

  it("the owner's leaf-salt mode finds no entry in a delegate KeyUpdate; a format-1 state answers gap", () => {
    const org = organization();
    const { carol } = addCarol(org);
    const update = org.members.alice.commitRemove([2], 4);
    const chunk = update.chunks[0] as KeyUpdateChunk;
    expect(carol.holdsKeyUpdateEntry(chunk, { salt: "leaf" })).toBe(false);
    expect(carol.holdsKeyUpdateEntry(chunk, {})).toBe(false);
    expect(carol.holdsKeyUpdateEntry(chunk, { salt: "delegate" })).toBe(true);
    const old = MemberGroup.deserialize(provider, carol.serialize());
    expect(old.applyKeyUpdate(chunk, 5, { roster: update.roster, salt: "delegate" })).toMatchObject(
      {
        status: "gap",
      },
    );
    expect(
      carol.applyKeyUpdate(chunk, 5, { roster: update.roster, salt: "delegate" }),
    ).toMatchObject({ status: "applied", epoch: update.epoch });
  });

  it("keeps the rekey secret in the saved head (format 4) and reads format-3 and format-2 heads", () => {
    const org = organization();
    const { carol } = addCarol(org);
    const lookup = (keyIdHex: string) => org.rosters.get(keyIdHex);
    const head = carol.takeParts({ all: true }).head;
    const restored = MemberGroup.restore(provider, { head, roster: lookup });
    const update = restored.commitRemove([2], 4);
    org.keep(update.keyId, update.roster);
    const delegate = { roster: update.roster, salt: "delegate" } as const;
    expect(applyChunks(org.members.alice, update.chunks, 4, delegate)).toBe("applied");
    // A format-3 head is the format-4 head without its fork points (u8 0: none kept here); a
    // format-2 head is that without its last field (u8 1 ‖ the rekey secret).
    const magic = new TextEncoder().encode("orgchat/v1/member-group").length;
    const v4 = carol.takeParts({ all: true }).head;
    expect([v4[magic], v4.at(-1)]).toEqual([4, 0]);
    const v3 = v4.slice(0, v4.length - 1);
    v3[magic] = 3;
    expect(
      MemberGroup.restore(provider, { head: v3, roster: lookup }).commitRemove([2], 5),
    ).toBeDefined();
    const v2 = v3.slice(0, v3.length - 33);
    v2[magic] = 2;
    const older = MemberGroup.restore(provider, { head: v2, roster: lookup });
    expect(older.epoch).toBe(carol.epoch);
    expect(() => older.commitRemove([1], 5)).toThrowError(/rekey_secret/);
    expect(older.takeParts({ all: true }).head[magic]).toBe(4);
  });

  it("is followed from sealed envelopes: the salt mode from the signer, delegates named by the receiver", async () => {
    const org = organization();
    const update = aliceRemovesBob(org);
    const key = provider.ed25519KeyPair();
    const signer = ed25519EnvelopeSigner(provider, key.secretKey);
    const sealed = await sealKeyUpdate({
      group: org.group,
      chunks: update.chunks,
      clock: 9n,
      signer,
      delegate: true,
    });
    const { erin } = org.members;
    const unnamed = await erin.applyKeyUpdateEnvelopes(sealed, 4, { roster: update.roster });
    expect(unnamed).toMatchObject({ transition: undefined, refusedChunks: sealed.length });
    const committers = (signer: Uint8Array) => toHex(signer) === toHex(key.publicKey);
    const named = await erin.applyKeyUpdateEnvelopes(sealed, 4, {
      roster: update.roster,
      committers,
    });
    expect(named.transition).toMatchObject({ status: "applied", epoch: update.epoch });
  });

  it("asks for a durable commit after either commit (the delegate has no entry in its own KeyUpdate)", () => {
    const org = organization();
    const { alice } = org.members;
    alice.takeParts();
    expect(alice.takeParts().durable).toBe(false);
    alice.commitRemove([2], 3);
    expect(alice.takeParts()).toMatchObject({ headChanged: true, durable: true });
    alice.commitAdd([signedPerson(org.group).keys], 4);
    expect(alice.takeParts()).toMatchObject({ headChanged: true, durable: true });
  });

  it("refuses the owner's leaf, our own, an empty leaf, a repeat", () => {
    const org = organization();
    const { alice } = org.members;
    expect(() => alice.commitRemove([0], 3)).toThrowError(/owner's leaf/);
    expect(() => alice.commitRemove([1], 3)).toThrowError(/our own leaf/);
    expect(() => alice.commitRemove([3], 3)).toThrowError(/empty leaf/);
    expect(() => alice.commitRemove([9], 3)).toThrowError(/empty leaf/);
    expect(() => alice.commitRemove([2, 2], 3)).toThrowError(/listed twice/);
    expect(() => alice.commitRemove([], 3)).toThrowError(/leaves/);
  });
});
