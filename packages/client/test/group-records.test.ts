import { toHex } from "@orgchat/base";
import {
  type CryptoProvider,
  defaultProvider,
  MemberGroup,
  OwnerGroup,
  type Roster,
  type RosterLeaf,
} from "@orgchat/crypto";
import { memoryStore, type Store, type StoreOp } from "@orgchat/store";
import { describe, expect, it } from "vitest";
import {
  groupEpochKey,
  groupHeadKey,
  groupMemberKey,
  groupRecordOps,
  loadGroupRecords,
  StoredGroupRecords,
} from "../src/group-records.js";
import { Vault } from "../src/vault.js";
import { seededRandom } from "./helpers.js";

const provider: CryptoProvider = defaultProvider();
const random = seededRandom(14);
const space = "org/test";
const organizationId = provider.ed25519KeyPair().publicKey;

interface Person {
  leaf: RosterLeaf;
  signingSecretKey: Uint8Array;
  prekeySecret: Uint8Array;
}

function person(): Person {
  const signing = provider.ed25519KeyPair();
  const prekey = provider.x25519KeyPair();
  return {
    leaf: {
      identityKey: provider.ed25519KeyPair().publicKey,
      signingKey: signing.publicKey,
      prekey: prekey.publicKey,
    },
    signingSecretKey: signing.secretKey,
    prekeySecret: prekey.secretKey,
  };
}

async function sealedVault(): Promise<Vault> {
  const { vault } = await Vault.open({
    provider,
    random,
    passphrase: "correct horse",
    stored: undefined,
    scryptN: 16,
  });
  return vault;
}

/** An owner's group, the rosters it announced (by key id) and its members' states. */
function world(channelId = "") {
  const me = person();
  const owner = OwnerGroup.create({
    provider,
    group: { organizationId, channelId },
    ownLeaf: me.leaf,
    signingSecretKey: me.signingSecretKey,
    now: 0,
  });
  const rosters = new Map<string, Roster>([[toHex(owner.keyId), owner.roster]]);
  const add = (count: number, now: number): MemberGroup[] => {
    const people = Array.from({ length: count }, person);
    const added = owner.add(
      people.map((p) => ({ leaf: p.leaf, leafSecret: random(32) })),
      now,
    );
    rosters.set(toHex(added.keyId), added.roster);
    return added.welcomes.map(({ welcome }, i) =>
      MemberGroup.fromWelcome({
        provider,
        welcome,
        roster: added.roster,
        signingSecretKey: (people[i] as Person).signingSecretKey,
        prekeySecret: (people[i] as Person).prekeySecret,
        now,
      }),
    );
  };
  /** Key id (hex) of the `index`-th epoch (0 = genesis). */
  const epochKeyId = (index: number) => [...rosters.keys()][index] as string;
  return { owner, rosters, add, epochKeyId, lookup: (hex: string) => rosters.get(hex) };
}

/** Bytes a batch writes (put values). */
const written = (ops: readonly StoreOp[]) =>
  ops.reduce((sum, op) => sum + (op.type === "put" ? op.value.length : 0), 0);

async function commit(
  store: Store,
  vault: Vault,
  stored: StoredGroupRecords,
  channelId: string,
  group: OwnerGroup | MemberGroup | undefined,
) {
  const result = groupRecordOps(space, channelId, group, vault, stored);
  await store.batch(result.ops);
  return result;
}

/** The owner's groups `store` holds, restored. */
function load(
  store: Store,
  vault: Vault,
  roster: (keyIdHex: string) => Roster | undefined,
  stored = new StoredGroupRecords(),
) {
  return loadGroupRecords({ store, provider, vault, space, role: "owner", roster, stored });
}

describe("group records", () => {
  it("the owner's group round trip: a head, one sealed record per member, a restore that carries on", async () => {
    const store = memoryStore();
    const vault = await sealedVault();
    const stored = new StoredGroupRecords();
    const w = world();
    const [alice] = w.add(3, 1) as [MemberGroup];
    const first = await commit(store, vault, stored, "", w.owner);
    expect(first.durable).toBe(true);
    expect([...(await store.keys(space))].sort()).toEqual(
      [
        groupHeadKey(""),
        groupMemberKey("", 1),
        groupMemberKey("", 2),
        groupMemberKey("", 3),
        groupEpochKey("", w.epochKeyId(0)),
      ].sort(),
    );
    expect(groupMemberKey("", 1)).toBe("gm//00000001");
    // Nothing changed: nothing to write.
    expect((await commit(store, vault, stored, "", w.owner)).ops).toEqual([]);

    const restoredStored = new StoredGroupRecords();
    const loaded = await load(store, vault, w.lookup, restoredStored);
    const owner = loaded.get("") as OwnerGroup;
    expect(owner.memberLeaves()).toEqual([1, 2, 3]);
    const bytes = owner.encrypt({ contentType: 1, content: new Uint8Array([7]) });
    expect(alice.decrypt(bytes, 2).content).toEqual(new Uint8Array([7]));
    // The first send after a restore reserves generations: the head only, durably.
    const after = groupRecordOps(space, "", owner, vault, restoredStored);
    expect(after.durable).toBe(true);
    expect(after.ops.map((op) => (op.type === "put" ? op.key : ""))).toEqual([groupHeadKey("")]);
  });

  it("an admission writes one head and one record, whatever the size of the group", async () => {
    const store = memoryStore();
    const vault = await sealedVault();
    const stored = new StoredGroupRecords();
    const w = world();
    w.add(300, 1);
    await commit(store, vault, stored, "", w.owner);
    w.add(1, 2);
    const { ops, durable } = await commit(store, vault, stored, "", w.owner);
    expect(durable).toBe(true);
    // The head, the joiner's record and the epoch the add retired.
    expect(ops.map((op) => op.type === "put" && op.key)).toEqual([
      groupHeadKey(""),
      groupMemberKey("", 301),
      groupEpochKey("", w.epochKeyId(1)),
    ]);
    expect(written(ops)).toBeLessThan(4096);
  });

  it("a group deleted, or replaced by another object, takes its records with it", async () => {
    const store = memoryStore();
    const vault = await sealedVault();
    const stored = new StoredGroupRecords();
    const w = world("team");
    w.add(2, 1);
    await commit(store, vault, stored, "team", w.owner);
    const other = world("team");
    other.add(1, 1);
    const replaced = await commit(store, vault, stored, "team", other.owner);
    expect(
      replaced.ops.filter((op) => op.type === "delete").map((op) => "key" in op && op.key),
    ).toEqual([groupMemberKey("team", 2), groupEpochKey("team", w.epochKeyId(0))]);
    expect([...(await store.keys(space))].sort()).toEqual(
      [
        groupHeadKey("team"),
        groupMemberKey("team", 1),
        groupEpochKey("team", other.epochKeyId(0)),
      ].sort(),
    );
    await commit(store, vault, stored, "team", undefined);
    expect(await store.keys(space)).toEqual([]);
  });

  it("after a failed commit, the next ops rewrite the group whole", async () => {
    const store = memoryStore();
    const vault = await sealedVault();
    const stored = new StoredGroupRecords();
    const w = world();
    w.add(2, 1);
    await commit(store, vault, stored, "", w.owner);
    w.add(1, 2);
    groupRecordOps(space, "", w.owner, vault, stored); // its batch "failed": never applied
    stored.forget([""]);
    await commit(store, vault, stored, "", w.owner);
    const loaded = await load(store, vault, w.lookup);
    expect(loaded.get("")?.memberLeaves()).toEqual([1, 2, 3]);
  });

  it("reads the whole state an older client stored, and rewrites it in pieces at the next commit", async () => {
    const store = memoryStore();
    const vault = await sealedVault();
    const w = world();
    const [alice] = w.add(2, 1) as [MemberGroup];
    await store.put(
      space,
      groupHeadKey(""),
      vault.seal(space, groupHeadKey(""), w.owner.serialize()),
    );
    const stored = new StoredGroupRecords();
    const loaded = await load(store, vault, () => undefined, stored);
    const owner = loaded.get("") as OwnerGroup;
    const { ops, durable } = await commit(store, vault, stored, "", owner);
    expect(durable).toBe(true);
    expect(ops.map((op) => op.type === "put" && op.key)).toEqual([
      groupHeadKey(""),
      groupMemberKey("", 1),
      groupMemberKey("", 2),
      groupEpochKey("", w.epochKeyId(0)),
    ]);
    const again = await load(store, vault, w.lookup);
    expect(again.get("")?.memberLeaves()).toEqual([1, 2]);

    // A member's whole state, too.
    const memberStore = memoryStore();
    await memberStore.put(
      space,
      groupHeadKey(""),
      vault.seal(space, groupHeadKey(""), alice.serialize()),
    );
    const members = await loadGroupRecords({
      store: memberStore,
      provider,
      vault,
      space,
      role: "member",
      roster: () => undefined,
      stored: new StoredGroupRecords(),
    });
    expect(members.get("")?.epoch).toBe(1n);
  });

  it("StoreCorruptedError for a missing roster, a stray record or a record sealed for another key", async () => {
    const store = memoryStore();
    const vault = await sealedVault();
    const w = world();
    w.add(2, 1);
    await commit(store, vault, new StoredGroupRecords(), "", w.owner);
    const reload = (roster: (hex: string) => Roster | undefined = w.lookup) =>
      load(store, vault, roster);
    await expect(reload()).resolves.toBeDefined();
    await expect(reload(() => undefined)).rejects.toMatchObject({
      name: "StoreCorruptedError",
      cause: { name: "StateCorruptedError" },
    });
    const record = (await store.get(space, groupMemberKey("", 2))) as Uint8Array;
    const original = (await store.get(space, groupMemberKey("", 1))) as Uint8Array;
    await store.put(space, groupMemberKey("", 1), record);
    await expect(reload()).rejects.toMatchObject({
      name: "StoreCorruptedError",
      record: `${space}/${groupMemberKey("", 1)}`,
    });
    await store.put(space, groupMemberKey("", 1), original);
    await expect(reload()).resolves.toBeDefined();
    await store.put(space, "gm//xyz", record);
    await expect(reload()).rejects.toMatchObject({
      name: "StoreCorruptedError",
      record: `${space}/gm//xyz`,
    });
  });
});
