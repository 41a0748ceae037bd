import { inspect } from "node:util";
import { keysTopic } from "@orgchat/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sendReservation } from "../src/epoch-window.js";
import type { GroupId, Roster } from "../src/key-schedule.js";
import { evolveLeafSecret, rosterHash } from "../src/key-schedule.js";
import {
  ed25519EnvelopeSigner,
  type KeyUpdateChunk,
  openKeyUpdateEnvelope,
  sealKeyUpdate,
} from "../src/key-update.js";
import { MemberGroup, type MemberTransition } from "../src/member-group.js";
import {
  OwnerGroup,
  type OwnerGroupInit,
  type OwnerKeyUpdate,
  refreshIntervalMs,
} from "../src/owner-group.js";
import type { CryptoProvider } from "../src/provider.js";
import { nobleProvider } from "../src/providers/noble.js";
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

const provider = seeded(nodeProvider(), "group");
const random = seededBytes("group fixtures");
const hour = 60 * 60 * 1000;
const utf8 = new TextDecoder();

/** A new person with keys from `p` and a leaf secret from the fixtures stream. */
function person(p: CryptoProvider = provider): Person {
  return newPerson(p, () => random(32));
}

const orgKey = provider.ed25519KeyPair();
const orgGroup: GroupId = { organizationId: orgKey.publicKey, channelId: "" };

function newOwner(init: Partial<Omit<OwnerGroupInit, "ownLeaf" | "signingSecretKey">> = {}) {
  const me = person();
  const owner = createOwner(me, { provider, group: orgGroup, now: 0, ...init });
  return { owner, me };
}

/** Adds `people` and makes their member states from the Welcomes (encoded and decoded on the way). */
function addMembers(
  owner: OwnerGroup,
  people: Person[],
  now: number,
  p: CryptoProvider = provider,
) {
  const added = owner.add(people.map(joiner), now);
  const members = added.welcomes.map(({ welcome }, i) =>
    joinFromWelcome({
      provider: p,
      person: people[i] as Person,
      welcome,
      roster: added.roster,
      now,
    }),
  );
  return { added, members };
}

function applyAll(member: MemberGroup, update: OwnerKeyUpdate, now: number): MemberTransition {
  let last: MemberTransition | undefined;
  for (const chunk of update.chunks) {
    last = member.applyKeyUpdate(chunk, now, { roster: update.roster });
    if (last.status === "applied") return last;
  }
  return last as MemberTransition;
}

function say(sender: OwnerGroup | MemberGroup, message: string): Uint8Array {
  return sender.encrypt({ contentType: 1, content: text(message) });
}

function read(receiver: OwnerGroup | MemberGroup, bytes: Uint8Array, now: number): string {
  return utf8.decode(receiver.decrypt(bytes, now).content);
}

function first<T>(items: readonly T[]): T {
  expect(items.length).toBeGreaterThan(0);
  return items[0] as T;
}

function chunk(update: OwnerKeyUpdate, index: number): KeyUpdateChunk {
  const found = update.chunks[index];
  if (found === undefined) throw new Error(`no chunk ${index}`);
  return found;
}

describe("OwnerGroup and MemberGroup", () => {
  it("add: joiners start from their Welcome and every member reads every other", () => {
    const { owner } = newOwner();
    const [alice, bob] = [person(), person()];
    const { added, members } = addMembers(owner, [alice, bob], 1);
    const [a, b] = members as [MemberGroup, MemberGroup];
    expect(added.epoch).toBe(1n);
    expect(added.welcomes.map((w) => w.leaf)).toEqual([1, 2]);
    expect(a.epoch).toBe(1n);
    expect(a.keyId).toEqual(owner.keyId);
    expect(read(b, say(a, "hi from alice"), 2)).toBe("hi from alice");
    expect(read(owner, say(b, "hi from bob"), 2)).toBe("hi from bob");
    const fromOwner = say(owner, "welcome");
    expect(read(a, fromOwner, 2)).toBe("welcome");
    expect(read(b, fromOwner, 2)).toBe("welcome");
    expect(b.decrypt(say(a, "x"), 2)).toMatchObject({ senderLeaf: 1, epoch: 1n });
  });

  it("works across providers: a node owner and noble members agree byte for byte", () => {
    const noble = seeded(nobleProvider(), "group noble");
    const { owner } = newOwner();
    const alice = person(noble);
    const { members } = addMembers(owner, [alice], 1, noble);
    const a = members[0] as MemberGroup;
    expect(read(a, say(owner, "node → noble"), 1)).toBe("node → noble");
    const removal = owner.refresh(2);
    expect(applyAll(a, removal, 2)).toMatchObject({ status: "applied", epoch: 2n });
    expect(read(owner, say(a, "noble → node"), 2)).toBe("noble → node");
  });

  it("applyAdd: existing members follow an add step; a joiner under 'joined' cannot read earlier epochs", () => {
    const { owner } = newOwner();
    const { members } = addMembers(owner, [person()], 1);
    const a = members[0] as MemberGroup;
    const before = say(a, "before carol");
    const carol = person();
    const { added, members: joined } = addMembers(owner, [carol], 2);
    const c = joined[0] as MemberGroup;
    // A wrong announced key_id changes nothing.
    expect(a.applyAdd({ roster: added.roster, now: 2, keyId: random(8) })).toMatchObject({
      status: "key-mismatch",
    });
    expect(a.epoch).toBe(1n);
    expect(
      a.applyAdd({
        roster: added.roster,
        now: 2,
        keyId: added.keyId,
        epoch: 2n,
        previousKeyId: added.previousKeyId,
      }),
    ).toEqual({ status: "applied", epoch: 2n, keyId: added.keyId });
    expect(a.applyAdd({ roster: added.roster, now: 2, epoch: 2n })).toMatchObject({
      status: "stale",
    });
    expect(read(c, say(a, "hello carol"), 3)).toBe("hello carol");
    expect(read(a, say(c, "hello alice"), 3)).toBe("hello alice");
    expect(() => c.decrypt(before, 3)).toThrowError(errorNamed("UnknownEpochError"));
    expect(read(owner, before, 3)).toBe("before carol");
  });

  it("'shared' history: the Welcome carries earlier epochs and the joiner reads them", () => {
    const { owner } = newOwner({ historyPolicy: "shared" });
    const rosters = new Map<bigint, Roster>([[0n, owner.roster]]);
    const epoch0 = say(owner, "epoch 0");
    const { added, members } = addMembers(owner, [person()], 1);
    rosters.set(added.epoch, added.roster);
    const a = members[0] as MemberGroup;
    const epoch1 = say(a, "epoch 1");
    const refresh = owner.refresh(2);
    rosters.set(refresh.epoch, refresh.roster);
    applyAll(a, refresh, 2);
    const epoch2 = say(owner, "epoch 2");
    const carol = person();
    const add = owner.add([joiner(carol)], 3);
    expect(add.welcomes[0]?.welcome.history.map((h) => h.epoch)).toEqual([0n, 1n, 2n]);
    // The group's current roster hash is the add's, and the roster's own (after a refresh too).
    expect(owner.rosterHash).toEqual(add.rosterHash);
    expect(owner.rosterHash).toEqual(rosterHash(provider, add.roster));
    expect(refresh.rosterHash).toEqual(rosterHash(provider, refresh.roster));
    const c = joinFromWelcome({
      provider,
      person: carol,
      welcome: first(add.welcomes).welcome,
      roster: add.roster,
      now: 3,
      historyRoster: (epoch) => rosters.get(epoch),
    });
    expect(c.readableEpochs(3)).toEqual([0n, 1n, 2n, 3n]);
    expect([epoch0, epoch1, epoch2].map((m) => read(c, m, 3))).toEqual([
      "epoch 0",
      "epoch 1",
      "epoch 2",
    ]);
    // An epoch whose roster is not known is left out (its signatures could not be checked).
    const d = person();
    const add2 = owner.add([joiner(d)], 4);
    const partial = MemberGroup.fromWelcome({
      provider,
      welcome: first(add2.welcomes).welcome,
      roster: add2.roster,
      signingSecretKey: d.signingSecretKey,
      prekeySecret: d.prekeySecret,
      now: 4,
      historyRoster: (epoch) => (epoch === 1n ? rosters.get(1n) : undefined),
    });
    expect(partial.readableEpochs(4)).toEqual([1n, 4n]);
  });

  it("remove: the remaining members move on, the removed one reads nothing of the new epoch", () => {
    const { owner } = newOwner();
    const { members } = addMembers(owner, [person(), person(), person()], 1);
    const [a, b, c] = members as [MemberGroup, MemberGroup, MemberGroup];
    const late = say(a, "sent before the removal");
    const removal = owner.remove([2], 2 * hour);
    expect(removal.roster[2]).toBeUndefined();
    expect(removal.chunks).toHaveLength(1);
    expect(owner.memberLeaves()).toEqual([1, 3]);
    // Without the new roster the member cannot check the roster hash.
    expect(a.applyKeyUpdate(chunk(removal, 0), 2 * hour)).toMatchObject({
      status: "roster-mismatch",
    });
    expect(applyAll(a, removal, 2 * hour)).toMatchObject({ status: "applied", epoch: 2n });
    expect(applyAll(c, removal, 2 * hour)).toMatchObject({ status: "applied", epoch: 2n });
    expect(applyAll(b, removal, 2 * hour)).toEqual({ status: "removed", epoch: 2n });
    expect(b.status).toBe("removed");
    const after = say(a, "after the removal");
    expect(read(c, after, 2 * hour)).toBe("after the removal");
    expect(read(owner, after, 2 * hour)).toBe("after the removal");
    expect(() => b.decrypt(after, 2 * hour)).toThrowError(errorNamed("UnknownEpochError"));
    expect(() => say(b, "still here?")).toThrow(RangeError);
    expect(b.applyKeyUpdate(chunk(removal, 0), 2 * hour)).toMatchObject({
      status: "removed",
    });
    // Late messages of the epoch they shared are still readable, within retention.
    expect(read(b, late, 2 * hour)).toBe("sent before the removal");
    expect(read(c, late, 2 * hour)).toBe("sent before the removal");
    // A duplicate chunk is stale.
    expect(a.applyKeyUpdate(chunk(removal, 0), 2 * hour)).toMatchObject({
      status: "stale",
    });
  });

  it("resync: a member that lost its state rejoins the current epoch from a Welcome and follows the next KeyUpdate", () => {
    const { owner } = newOwner();
    const people = [person(), person()];
    const { members } = addMembers(owner, people, 1);
    const [a] = members as [MemberGroup, MemberGroup];
    // Two epochs pass that the lost member never sees.
    owner.refresh(2);
    const lostLeaf = 2;
    owner.refresh(3);
    const current = say(owner, "current epoch");
    // Resync with a fresh leaf secret (e.g. from a new X3DH): the owner replaces the one it tracks.
    const fresh = random(32);
    const welcome = owner.resync(lostLeaf, { leafSecret: fresh });
    expect(welcome.epoch).toBe(owner.epoch);
    expect(welcome.history).toEqual([]);
    const restored = joinFromWelcome({
      provider,
      person: people[1] as Person,
      welcome,
      roster: owner.roster,
      now: 4,
    });
    expect(read(restored, current, 4)).toBe("current epoch");
    // The next KeyUpdate is wrapped with the new leaf secret, and the restored member opens it.
    const next = owner.refresh(5);
    expect(applyAll(restored, next, 5)).toMatchObject({ status: "applied", epoch: owner.epoch });
    expect(read(restored, say(owner, "after"), 5)).toBe("after");
    // Without a new leaf secret the Welcome carries the tracked one, evolved to the current epoch.
    const again = owner.resync(lostLeaf);
    expect(again.leafSecret).toEqual(evolveLeafSecret(provider, fresh, owner.epoch));
    expect(() => owner.resync(7)).toThrow(RangeError);
    expect(() => owner.resync(1, { leafSecret: random(31) })).toThrow(RangeError);
    expect(a.epoch).toBe(1n);
    // The kept epoch secret survives a save/restore and is checked against the current key_id.
    const copy = OwnerGroup.deserialize(provider, owner.serialize());
    expect(copy.resync(lostLeaf).epochSecret).toEqual(owner.resync(lostLeaf).epochSecret);
  });

  it("continueOwnChain: a member entered again at its epoch goes on past its sends (no generation twice)", () => {
    const { owner } = newOwner();
    const people = [person(), person()];
    const { members } = addMembers(owner, people, 1);
    const [a, b] = members as [MemberGroup, MemberGroup];
    const sent = [say(a, "one"), say(a, "two")];
    for (const bytes of sent) read(b, bytes, 1);
    expect(a.ownNextGeneration).toBe(2);
    // A resync Welcome of the same epoch: a new group whose own chain starts over at 0.
    const again = joinFromWelcome({
      provider,
      person: people[0] as Person,
      welcome: owner.resync(a.leaf),
      roster: owner.roster,
      now: 2,
    });
    expect(again.epoch).toBe(a.epoch);
    expect(again.ownNextGeneration).toBe(0);
    // Starting over, the receiver refuses generation 0 again (its key was used for "one").
    const reused = say(again, "three (reused)");
    expect(() => read(b, reused, 2)).toThrow();
    const fixed = joinFromWelcome({
      provider,
      person: people[0] as Person,
      welcome: owner.resync(a.leaf),
      roster: owner.roster,
      now: 2,
    });
    fixed.continueOwnChain((a.ownNextGeneration ?? 0) + sendReservation);
    expect(fixed.ownNextGeneration).toBe(2 + sendReservation);
    expect(fixed.sendChangedHead).toBe(true);
    expect(read(b, say(fixed, "three"), 2)).toBe("three");
    expect(() => fixed.continueOwnChain(0)).toThrow(RangeError);
    fixed.continueOwnChain(fixed.ownNextGeneration ?? 0); // already there: nothing to do
  });

  it("refreshDue: the periodic refresh falls due 48 h after the current epoch started, and survives a restore", () => {
    const { owner } = newOwner({ now: -5 });
    addMembers(owner, [person()], 10);
    expect(owner.refreshDue(10 + refreshIntervalMs - 1)).toBe(false);
    expect(owner.refreshDue(10 + refreshIntervalMs)).toBe(true);
    expect(owner.refreshDue(10 + 1000, 1000)).toBe(true);
    owner.refresh(10 + refreshIntervalMs);
    expect(owner.refreshDue(10 + refreshIntervalMs + 1)).toBe(false);
    const copy = OwnerGroup.deserialize(provider, owner.serialize());
    expect(copy.refreshDue(10 + 2 * refreshIntervalMs - 1)).toBe(false);
    expect(copy.refreshDue(10 + 2 * refreshIntervalMs)).toBe(true);
    expect(
      OwnerGroup.deserialize(provider, newOwner({ now: -5 }).owner.serialize()).refreshDue(
        refreshIntervalMs - 5,
      ),
    ).toBe(true);
    expect(() => owner.refreshDue(0, 0)).toThrow(RangeError);
  });

  it("multi-chunk KeyUpdates: not-in-chunk until the entry is found, removed once every chunk was seen", () => {
    const { owner } = newOwner({ maxEntriesPerChunk: 2 });
    const { members } = addMembers(owner, [person(), person(), person(), person(), person()], 1);
    const removal = owner.remove([3], 2);
    expect(removal.chunks).toHaveLength(2);
    const removed = members[2] as MemberGroup;
    expect(removed.missingKeyUpdateChunks(chunk(removal, 1))).toEqual([0, 1]);
    const first = removed.applyKeyUpdate(chunk(removal, 1), 2, { roster: removal.roster });
    expect(first).toEqual({ status: "not-in-chunk", epoch: 2n, missingChunks: [0] });
    // Asking changes nothing; another update (key id, count) starts from none seen.
    expect(removed.missingKeyUpdateChunks(chunk(removal, 0))).toEqual([0]);
    expect(removed.missingKeyUpdateChunks({ ...chunk(removal, 0), chunkCount: 3 })).toEqual([
      0, 1, 2,
    ]);
    expect(() =>
      removed.missingKeyUpdateChunks({ ...chunk(removal, 0), chunkCount: 1001 }),
    ).toThrow(RangeError);
    expect(removed.applyKeyUpdate(chunk(removal, 1), 2, { roster: removal.roster })).toMatchObject({
      status: "not-in-chunk",
    });
    expect(removed.applyKeyUpdate(chunk(removal, 0), 2, { roster: removal.roster })).toMatchObject({
      status: "removed",
    });
    for (const [i, member] of members.entries()) {
      if (i === 2) continue;
      const outcomes = removal.chunks.map(
        (chunk) => member.applyKeyUpdate(chunk, 2, { roster: removal.roster }).status,
      );
      expect(outcomes).toContain("applied");
      expect(member.keyId).toEqual(owner.keyId);
    }
  });

  it("chain checks: a KeyUpdate after a missed add is a gap; acceptGap bridges it", () => {
    const { owner } = newOwner();
    const { members } = addMembers(owner, [person(), person()], 1);
    const [a, b] = members as [MemberGroup, MemberGroup];
    const add = owner.add([joiner(person())], 2);
    expect(b.applyAdd({ roster: add.roster, now: 2, keyId: add.keyId })).toMatchObject({
      status: "applied",
    });
    const refresh = owner.refresh(3);
    // a missed the add step.
    expect(a.applyKeyUpdate(chunk(refresh, 0), 3, { roster: refresh.roster })).toEqual({
      status: "gap",
      epoch: 3n,
      currentEpoch: 1n,
    });
    expect(a.epoch).toBe(1n);
    expect(
      a.applyKeyUpdate(chunk(refresh, 0), 3, { roster: refresh.roster, acceptGap: true }),
    ).toMatchObject({ status: "applied", epoch: 3n });
    expect(applyAll(b, refresh, 3)).toMatchObject({ status: "applied", epoch: 3n });
    expect(read(a, say(b, "after the gap"), 3)).toBe("after the gap");
    // An add announced two epochs ahead is a gap too.
    expect(a.applyAdd({ roster: refresh.roster, now: 3, epoch: 5n })).toMatchObject({
      status: "gap",
    });
  });

  it("retention: the last 2 previous epochs or those replaced within 24 h, whichever keeps more", () => {
    const { owner } = newOwner();
    const { members } = addMembers(owner, [person()], 0);
    const a = members[0] as MemberGroup;
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) {
      sent.push(say(owner, `epoch ${a.epoch}`));
      applyAll(a, owner.refresh(i * hour), i * hour);
    }
    // Epochs 1..4 were replaced within the last 24 h: all readable, plus the current epoch 5.
    expect(a.readableEpochs(4 * hour)).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect(read(a, sent[0] as Uint8Array, 4 * hour)).toBe("epoch 1");
    // 26 h later only the last two previous epochs are left.
    const later = 26 * hour;
    expect(() => a.decrypt(sent[1] as Uint8Array, later)).toThrowError(
      errorNamed("UnknownEpochError"),
    );
    expect(a.readableEpochs(later)).toEqual([3n, 4n, 5n]);
    expect(owner.readableEpochs(later)).toEqual([3n, 4n, 5n]);
    expect(read(a, sent[2] as Uint8Array, later)).toBe("epoch 3");
    expect(read(owner, say(a, "now"), later)).toBe("now");
  });

  it("prekey rotation: the next KeyUpdate uses the new prekey and the old one is dropped", () => {
    const { owner } = newOwner();
    const alice = person();
    const { members } = addMembers(owner, [alice], 1);
    const a = members[0] as MemberGroup;
    const fresh = provider.x25519KeyPair();
    const prekey = a.rotatePrekey(fresh.secretKey);
    expect(prekey).toEqual(fresh.publicKey);
    owner.rotatePrekey(1, prekey);
    const refresh = owner.refresh(2);
    expect(refresh.roster[1]?.prekey).toEqual(prekey);
    expect(applyAll(a, refresh, 2)).toMatchObject({ status: "applied" });
    expect(a.prekey).toEqual(prekey);
    expect(() => owner.rotatePrekey(1, new Uint8Array(32))).toThrowError(
      errorNamed("InvalidPublicKeyError"),
    );
    expect(() => owner.rotatePrekey(7, prekey)).toThrow(/not a member/);
  });

  it("a restricted channel is a group of its own, with its own keys topic", async () => {
    const { owner: org } = newOwner();
    const alice = person();
    const bob = person();
    const { members } = addMembers(org, [alice, bob], 1);
    const channel: GroupId = { organizationId: orgKey.publicKey, channelId: "ops" };
    const me = person();
    const ops = OwnerGroup.create({
      provider,
      group: channel,
      ownLeaf: me.leaf,
      signingSecretKey: me.signingSecretKey,
      now: 1,
    });
    const { members: opsMembers } = addMembers(ops, [alice], 1);
    const opsAlice = opsMembers[0] as MemberGroup;
    expect(opsAlice.group.channelId).toBe("ops");
    const secret = say(opsAlice, "ops only");
    expect(read(ops, secret, 1)).toBe("ops only");
    // Bob is in the organization but not in the channel.
    expect(() => (members[1] as MemberGroup).decrypt(secret, 1)).toThrowError(
      errorNamed("UnknownEpochError"),
    );

    const refresh = ops.refresh(2);
    const signer = ed25519EnvelopeSigner(provider, orgKey.secretKey);
    const [sealed] = (await sealKeyUpdate({
      group: channel,
      chunks: refresh.chunks,
      clock: 9n,
      signer,
    })) as [Uint8Array];
    await expect(
      openKeyUpdateEnvelope({ provider, group: orgGroup, bytes: sealed }),
    ).rejects.toMatchObject({
      name: "EnvelopeMismatchError",
    });
    const chunk = await openKeyUpdateEnvelope({ provider, group: channel, bytes: sealed });
    expect(keysTopic(orgKey.publicKey, "ops")).not.toBe(keysTopic(orgKey.publicKey));
    expect(() => (members[0] as MemberGroup).applyKeyUpdate(chunk, 2)).toThrow(/another group/);
    expect(opsAlice.applyKeyUpdate(chunk, 2)).toMatchObject({ status: "applied", epoch: 2n });
    expect(read(ops, say(opsAlice, "still ops"), 2)).toBe("still ops");
  });

  it("refuses bad input with errors naming it, leaving the state as it was", () => {
    const { owner, me } = newOwner();
    const alice = person();
    addMembers(owner, [alice], 1);
    const epoch = owner.epoch;
    expect(() => owner.add([], 2)).toThrow(/joiners/);
    expect(() => owner.add([joiner(alice)], 2)).toThrow(/already in the roster/);
    const bad = person();
    expect(() =>
      owner.add([{ ...joiner(bad), leaf: { ...bad.leaf, prekey: new Uint8Array(32) } }], 2),
    ).toThrowError(errorNamed("InvalidPublicKeyError"));
    expect(() => owner.remove([0], 2)).toThrow(/the owner/);
    expect(() => owner.remove([5], 2)).toThrow(/not a member/);
    expect(() => owner.remove([1, 1], 2)).toThrow(/listed twice/);
    expect(() => owner.refresh(Number.NaN)).toThrow(/now/);
    expect(owner.epoch).toBe(epoch);
    expect(() =>
      OwnerGroup.create({
        provider,
        group: orgGroup,
        ownLeaf: me.leaf,
        signingSecretKey: random(32),
        now: 0,
      }),
    ).toThrow(/signingSecretKey/);
    expect(() => newOwner({ historyPolicy: "everyone" as never })).toThrow(/historyPolicy/);
    expect(() => newOwner({ maxEntriesPerChunk: 0 })).toThrow(/maxEntriesPerChunk/);
    expect(() => newOwner({ group: { ...orgGroup, channelId: "no spaces" } })).toThrow(/channelId/);
  });

  it("fromWelcome refuses a Welcome that does not fit: key_id, roster, keys", () => {
    const { owner } = newOwner();
    const alice = person();
    const { welcomes, roster } = owner.add([joiner(alice)], 1);
    const welcome = welcomes[0]?.welcome as Parameters<
      typeof MemberGroup.fromWelcome
    >[0]["welcome"];
    const init = {
      provider,
      welcome,
      roster,
      signingSecretKey: alice.signingSecretKey,
      prekeySecret: alice.prekeySecret,
      now: 1,
    };
    expect(() =>
      MemberGroup.fromWelcome({ ...init, welcome: { ...welcome, keyId: random(8) } }),
    ).toThrowError(errorNamed("DecryptionFailedError"));
    expect(() =>
      MemberGroup.fromWelcome({ ...init, welcome: { ...welcome, epochSecret: random(32) } }),
    ).toThrowError(errorNamed("DecryptionFailedError"));
    expect(() => MemberGroup.fromWelcome({ ...init, roster: roster.slice(0, 1) })).toThrow(
      /roster_hash/,
    );
    expect(() =>
      MemberGroup.fromWelcome({ ...init, welcome: { ...welcome, leafIndex: 0 } }),
    ).toThrow(/signing key/);
    expect(() => MemberGroup.fromWelcome({ ...init, prekeySecret: random(32) })).toThrow(/prekey/);
    expect(() => MemberGroup.fromWelcome({ ...init, welcome: { ...welcome, version: 2 } })).toThrow(
      /version/,
    );
    expect(MemberGroup.fromWelcome(init).epoch).toBe(1n);
    // A roster hash the caller checked is taken as the roster's, and still held to the Welcome's.
    const hash = rosterHash(provider, roster);
    expect(MemberGroup.fromWelcome({ ...init, rosterHash: hash }).epoch).toBe(1n);
    expect(() => MemberGroup.fromWelcome({ ...init, rosterHash: random(32) })).toThrow(
      /roster_hash/,
    );
  });

  it("prints no secret: String, JSON and util.inspect are redacted", () => {
    const { owner, me } = newOwner();
    const alice = person();
    const { members } = addMembers(owner, [alice], 1);
    const secrets = [
      me.signingSecretKey,
      alice.signingSecretKey,
      alice.prekeySecret,
      alice.leafSecret,
    ].map((s) => Buffer.from(s).toString("hex"));
    for (const state of [owner, members[0] as MemberGroup]) {
      for (const printed of [
        String(state),
        JSON.stringify(state),
        inspect(state, { depth: 10, showHidden: true }),
        `${state}`,
      ]) {
        expect(printed).toMatch(/\[redacted secret\]/);
        for (const secret of secrets) expect(printed).not.toContain(secret);
      }
      expect(Object.keys(state)).not.toContain("signingSecretKey");
    }
  });
});

describe("serialize / deserialize", () => {
  it("round trip mid-conversation: the restored states carry on as if nothing happened", () => {
    const { owner } = newOwner({ historyPolicy: "shared" });
    const { members } = addMembers(owner, [person(), person()], 1);
    const [a, b] = members as [MemberGroup, MemberGroup];
    const early = say(a, "early");
    const removal = owner.remove([2], 2);
    applyAll(a, removal, 2);
    applyAll(b, removal, 2);
    const owner2 = OwnerGroup.deserialize(provider, owner.serialize());
    const a2 = MemberGroup.deserialize(provider, a.serialize());
    const b2 = MemberGroup.deserialize(provider, b.serialize());
    expect(owner2.serialize()).toEqual(owner.serialize());
    expect(a2.serialize()).toEqual(a.serialize());
    expect(b2.status).toBe("removed");
    expect(read(a2, say(owner2, "restored"), 3)).toBe("restored");
    expect(read(owner2, early, 3)).toBe("early");
    expect(read(b2, early, 3)).toBe("early");
    const next = owner2.refresh(4);
    expect(applyAll(a2, next, 4)).toMatchObject({ status: "applied", epoch: 3n });
    expect(read(owner2, say(a2, "next"), 4)).toBe("next");
  });

  it("StateCorruptedError for truncated, extended, mislabelled or newer states", () => {
    const { owner } = newOwner();
    const { members } = addMembers(owner, [person()], 1);
    const corrupted = errorNamed("StateCorruptedError");
    for (const [bytes, magic, restore] of [
      [
        owner.serialize(),
        "orgchat/v1/owner-group",
        (x: Uint8Array) => OwnerGroup.deserialize(provider, x),
      ],
      [
        (members[0] as MemberGroup).serialize(),
        "orgchat/v1/member-group",
        (x: Uint8Array) => MemberGroup.deserialize(provider, x),
      ],
    ] as const) {
      expect(utf8.decode(bytes.subarray(0, magic.length))).toBe(magic);
      for (let length = 0; length < bytes.length; length += 7) {
        expect(() => restore(bytes.subarray(0, length))).toThrowError(corrupted);
      }
      expect(() => restore(new Uint8Array([...bytes, 0]))).toThrowError(corrupted);
      const newer = bytes.slice();
      expect(newer[magic.length]).toBe(1);
      newer[magic.length] = 2;
      expect(() => restore(newer)).toThrowError(corrupted);
    }
    expect(() => MemberGroup.deserialize(provider, owner.serialize())).toThrowError(corrupted);
    expect(() =>
      OwnerGroup.deserialize(provider, (members[0] as MemberGroup).serialize()),
    ).toThrowError(corrupted);
  });

  it("property: any byte string restores to a state or fails with StateCorruptedError only", () => {
    const { owner } = newOwner();
    const { members } = addMembers(owner, [person()], 1);
    const valid = [owner.serialize(), (members[0] as MemberGroup).serialize()];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (which, edits) => {
          const bytes = (valid[which] as Uint8Array).slice();
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          try {
            if (which === 0) OwnerGroup.deserialize(provider, bytes);
            else MemberGroup.deserialize(provider, bytes);
          } catch (error) {
            expect(error).toMatchObject({ name: "StateCorruptedError" });
          }
        },
      ),
      { seed: 0x67726f75, numRuns: 300 },
    );
  });
});
