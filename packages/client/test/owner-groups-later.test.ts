/**
 * An owner's groups restored after the start (`owner-groups-later.ts`): `createClient` reads each
 * group's head only (the view shows its epoch), and the member records are opened by the first
 * task of the client's queue, in slices. An operation made right after the start waits for them
 * (the queue), a corrupted member record is an `error` event that takes the organization out of
 * the active ones, and a group stored whole by an older client is still restored at start.
 */
import { toHex } from "@orgchat/base";
import {
  defaultProvider,
  ed25519EnvelopeSigner,
  OwnerGroup,
  OwnerPrekeys,
  type Roster,
} from "@orgchat/crypto";
import { memoryStore, type Store } from "@orgchat/store";
import { afterEach, describe, expect, it } from "vitest";
import { groupHeadKey, StoredGroupRecords } from "../src/group-records.js";
import { createClient, isStoreCorruptedError, isUnknownOrganizationError } from "../src/index.js";
import { newOwnerOrg } from "../src/org.js";
import { pendingGroupEpoch, readOwnerGroupHeads } from "../src/owner-groups-later.js";
import { Vault } from "../src/vault.js";
import { orgWithMembers, type Peer, received, seededRandom, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world?.close();
});

/** A store that counts the owner group's member records (`gm/`) read, as values or in listings. */
function countingStore(base: Store): { store: Store; memberReads: () => number } {
  let reads = 0;
  const isMember = (key: string) => key.startsWith("gm/");
  const get: Store["get"] = async (space, key) => {
    if (isMember(key)) reads++;
    return base.get(space, key);
  };
  const entries: Store["entries"] = async (space, options) => {
    const found = await (base.entries as NonNullable<Store["entries"]>).call(base, space, options);
    for (const [key] of found) if (isMember(key)) reads++;
    return found;
  };
  const store = new Proxy(base, {
    get(target, name) {
      if (name === "get") return get;
      if (name === "entries") return target.entries === undefined ? undefined : entries;
      const value = Reflect.get(target, name, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store, memberReads: () => reads };
}

describe("owner groups restored after the start", () => {
  it("the first view shows the epoch before any member record is read; the records are read by the first task", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, ["alice", "bob", "carol"]);
    const epoch = owner.client.getOrganization(orgId).epoch;
    expect(epoch).toBeGreaterThan(0n);
    await world.stop(owner);
    const { store, memberReads } = countingStore(owner.store);
    const client = await createClient({
      transport: world.network.transport({ name: "owner-again" }),
      store,
      now: world.time.now,
      timers: world.time.timers,
      config: world.config,
    });
    const view = client.getOrganization(orgId);
    expect(view.epoch).toBe(epoch);
    expect(view.members.size).toBe(4);
    expect(memberReads()).toBe(0);
    await client.idle();
    expect(memberReads()).toBe(3);
    expect(client.getOrganization(orgId).epoch).toBe(epoch);
    await client.close();
  });

  it("a removal and a post right after the start wait for the groups: the others re-key and read it", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob", "carol"]);
    const [alice, bob, carol] = members as [Peer, Peer, Peer];
    const epoch = owner.client.getOrganization(orgId).epoch as bigint;
    await world.stop(owner);
    owner.client = await createClient({
      transport: owner.transport,
      store: owner.store,
      now: world.time.now,
      timers: world.time.timers,
      config: world.config,
    });
    // No await in between: both are queued behind the groups' restore.
    const removal = owner.client.removeMember(orgId, carol.client.memberId);
    const post = owner.client.sendMessage(orgId, "general", "after the restart");
    await removal;
    await post;
    await world.settle();
    expect(owner.client.getOrganization(orgId).epoch).toBe(epoch + 1n);
    expect(owner.client.getOrganization(orgId).members.has(carol.client.memberId)).toBe(false);
    for (const reader of [alice, bob]) {
      expect(reader.client.getOrganization(orgId).epoch).toBe(epoch + 1n);
      expect(received(reader, orgId)).toContain("after the restart");
    }
    expect(received(carol, orgId)).not.toContain("after the restart");
  });

  it("a corrupted member record: the start succeeds, the restore is StoreCorruptedError and the organization leaves the active ones", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    await world.stop(owner);
    const space = `org/${orgId}`;
    const [key] = await owner.store.keys(space, { prefix: "gm/" });
    const bytes = (await owner.store.get(space, key as string)) as Uint8Array;
    // Every byte flipped: refused whether the vault seals (no passphrase: it does not) or not.
    await owner.store.put(
      space,
      key as string,
      bytes.map((byte) => byte ^ 0xff),
    );
    const client = await createClient({
      transport: world.network.transport({ name: "owner-again" }),
      store: owner.store,
      now: world.time.now,
      timers: world.time.timers,
      config: world.config,
    });
    const errors: unknown[] = [];
    client.on("error", ({ error }) => void errors.push(error));
    expect(client.getOrganization(orgId).members.size).toBe(3);
    await client.idle();
    expect(errors).toHaveLength(1);
    expect(isStoreCorruptedError(errors[0])).toBe(true);
    expect(String((errors[0] as Error).message)).toContain(`${space}/group/`);
    expect(() => client.getOrganization(orgId)).toThrow();
    await expect(client.removeMember(orgId, "00".repeat(32))).rejects.toSatisfy(
      isUnknownOrganizationError,
    );
    await client.close();
  });

  it("a group stored whole by an older client is restored at start; a head in pieces waits", async () => {
    const provider = defaultProvider();
    const random = seededRandom(18);
    const { vault } = await Vault.open({
      provider,
      random,
      passphrase: "correct horse",
      stored: undefined,
      scryptN: 16,
    });
    const organization = provider.ed25519KeyPair();
    const signing = provider.ed25519KeyPair();
    const prekey = provider.x25519KeyPair();
    const org = newOwnerOrg(
      provider,
      organization.publicKey,
      {
        signingSecret: signing.secretKey,
        signingKey: signing.publicKey,
        prekeySecret: prekey.secretKey,
        prekey: prekey.publicKey,
      },
      {
        orgSecret: organization.secretKey,
        signer: ed25519EnvelopeSigner(provider, organization.secretKey),
        prekeys: OwnerPrekeys.create(provider, {
          identitySecretKey: organization.secretKey,
          now: 1_000,
        }),
      },
    );
    const group = OwnerGroup.create({
      provider,
      group: { organizationId: organization.publicKey, channelId: "" },
      ownLeaf: {
        identityKey: organization.publicKey,
        signingKey: signing.publicKey,
        prekey: prekey.publicKey,
      },
      signingSecretKey: signing.secretKey,
      now: 0,
    });
    // A restricted channel's group, in pieces, beside it.
    const channel = OwnerGroup.create({
      provider,
      group: { organizationId: organization.publicKey, channelId: "c" },
      ownLeaf: {
        identityKey: organization.publicKey,
        signingKey: signing.publicKey,
        prekey: prekey.publicKey,
      },
      signingSecretKey: signing.secretKey,
      now: 0,
    });
    const rosters = new Map<string, Roster>([
      [toHex(group.keyId), group.roster],
      [toHex(channel.keyId), channel.roster],
    ]);
    const joiner = provider.ed25519KeyPair();
    const added = group.add(
      [
        {
          leaf: {
            identityKey: joiner.publicKey,
            signingKey: provider.ed25519KeyPair().publicKey,
            prekey: provider.x25519KeyPair().publicKey,
          },
          leafSecret: random(32),
        },
      ],
      1,
    );
    rosters.set(toHex(added.keyId), added.roster);
    const space = `org/${org.hex}`;
    const init = (store: Store) => ({
      store,
      provider,
      vault,
      space,
      roster: (keyIdHex: string) => rosters.get(keyIdHex),
      stored: new StoredGroupRecords(),
    });
    // The whole state (`serialize`, an older client's record): restored before the call returns.
    const whole = memoryStore();
    await whole.put(
      space,
      groupHeadKey(""),
      vault.seal(space, groupHeadKey(""), group.serialize()),
    );
    const channelHead = channel.takeParts({ all: true }).head;
    await whole.put(space, groupHeadKey("c"), vault.seal(space, groupHeadKey("c"), channelHead));
    await readOwnerGroupHeads(org, init(whole));
    expect(org.owner.groups.get("")?.epoch).toBe(group.epoch);
    expect(org.owner.groups.get("c")?.epoch).toBe(channel.epoch);
    expect(pendingGroupEpoch(org, "")).toBeUndefined();
    // A head in pieces: nothing restored yet, its epoch known.
    org.owner.groups.clear();
    const pieces = memoryStore();
    const parts = group.takeParts({ all: true });
    await pieces.put(space, groupHeadKey(""), vault.seal(space, groupHeadKey(""), parts.head));
    await pieces.put(space, groupHeadKey("c"), vault.seal(space, groupHeadKey("c"), channelHead));
    await readOwnerGroupHeads(org, init(pieces));
    expect(org.owner.groups.size).toBe(0);
    expect(pendingGroupEpoch(org, "")).toBe(group.epoch);
    expect(pendingGroupEpoch(org, "c")).toBe(channel.epoch);
  });
});
