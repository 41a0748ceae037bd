/**
 * What the owner stores per member beyond the group (owner-keys.ts, docs/SCALE.md "Owner keys at
 * scale"): an admission writes the joiner's pairwise session whole once, then chains records only;
 * a departed member's session, keys and stranger entry leave the store in the departure's commit;
 * a crash between the commits of an admission loses nothing and reuses no key.
 */
import { memoryStore, type Store, type StoreOp } from "@orgchat/store";
import { afterEach, describe, expect, it } from "vitest";
import { encodeJson } from "../src/encoding.js";
import { isStoreCorruptedError } from "../src/index.js";
import { decodeMemberKeys, encodeMemberKeys } from "../src/owner-keys.js";
import { strangersLog } from "../src/owner-requests.js";
import { type Peer, received, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

/**
 * The owner's store, recording the ops of every batch; after `kill()` every call fails and nothing
 * more is written (a SIGKILL): `disk` is what the process left.
 */
function ownerDisk(disk: Store = memoryStore()) {
  const ops: StoreOp[] = [];
  let killed = false;
  const store = new Proxy(disk, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (killed) return Promise.reject(new Error("killed"));
        if (name === "batch") ops.push(...(args[0] as StoreOp[]));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const kill = () => {
    killed = true;
  };
  return { store, disk, ops, kill };
}

/** An encrypted organization on request, with a "general" channel. */
const acme = { name: "Acme", access: "on-request", encrypted: true } as const;

async function encryptedOrg(ownerStore: Store) {
  const owner = await world.peer("owner", { store: ownerStore });
  const orgId = await owner.client.createOrganization(acme);
  await owner.client.createChannel(orgId, { id: "general", name: "General" });
  await world.settle();
  return { owner, orgId };
}

async function ask(peer: Peer, orgId: string): Promise<string> {
  await peer.client.discover(orgId);
  const requestId = await peer.client.requestToJoin(orgId, { displayName: peer.name });
  await world.settle();
  return requestId;
}

/** The member's records in the owner's organization space, and whether the strangers log lists it. */
async function recordsOf(disk: Store, orgId: string, member: string) {
  const space = `org/${orgId}`;
  const keys = [
    `pairwise/${member}`,
    `pairwise-send/${member}`,
    `pairwise-recv/${member}`,
    `memberkeys/${member}`,
  ];
  const held: string[] = [];
  for (const key of keys) if ((await disk.get(space, key)) !== undefined) held.push(key);
  const stranger = (await disk.range(strangersLog(orgId))).some((entry) => entry.id === member);
  return { held, stranger };
}

const puts = (ops: readonly StoreOp[], key: string) =>
  ops.filter((op) => op.type === "put" && op.key === key).length;

describe("the owner's stored pairwise sessions", () => {
  it("an admission writes the joiner's session whole once, then 46-byte chain records", async () => {
    world = new World();
    const owner = ownerDisk();
    const { orgId } = await encryptedOrg(owner.store);
    owner.ops.length = 0;
    const alice = await world.peer("alice");
    const member = alice.client.memberId;
    const requestId = await ask(alice, orgId);
    await world.peers[0]?.client.acceptRequest(orgId, requestId);
    await world.settle();
    expect(alice.client.getOrganization(orgId).role).toBe("member");
    // Member keys (X3DH: the base); the request (the owner's receiving chain); the response and the
    // Welcome (its sending chain; one unit of work without an add window, two with one).
    expect(puts(owner.ops, `pairwise/${member}`)).toBe(1);
    expect(puts(owner.ops, `pairwise-recv/${member}`)).toBe(1);
    expect(puts(owner.ops, `pairwise-send/${member}`)).toBe(1);
    for (const key of [`pairwise-recv/${member}`, `pairwise-send/${member}`]) {
      const record = owner.ops.find(
        (op): op is Extract<StoreOp, { type: "put" }> => op.type === "put" && op.key === key,
      );
      expect(record?.value.length).toBe(46);
    }
    const keys = owner.ops.find(
      (op): op is Extract<StoreOp, { type: "put" }> =>
        op.type === "put" && op.key === `memberkeys/${member}`,
    );
    expect(keys?.value.length).toBe(65);
  });

  it("a crash after an admission's commits: the restarted owner sends on from base and chains, no key reused", async () => {
    world = new World();
    const first = ownerDisk();
    const { owner, orgId } = await encryptedOrg(first.store);
    await owner.client.createChannel(orgId, {
      id: "board",
      name: "Board",
      access: "on-request",
      private: true,
    });
    const alice = await world.peer("alice");
    const member = alice.client.memberId;
    const requestId = await ask(alice, orgId);
    // The request's commit wrote a chain record over the base of the member keys' commit.
    expect((await recordsOf(first.disk, orgId, member)).held).toEqual([
      `pairwise/${member}`,
      `pairwise-recv/${member}`,
      `memberkeys/${member}`,
    ]);
    await owner.client.acceptRequest(orgId, requestId);
    await world.settle();
    expect(alice.client.getOrganization(orgId).role).toBe("member");
    // SIGKILL: nothing more is written; a new process starts on what the disk kept.
    first.kill();
    await owner.client.close().catch(() => undefined);
    const again = await world.peer("owner-again", { store: first.disk });
    alice.events.length = 0;
    // A Welcome into the board's group: the owner's next pairwise message to her, encrypted with
    // the sending chain as the chains record left it (a stale one would reuse a message key).
    await again.client.issueGrant(orgId, member, "board");
    await world.settle();
    const refused = alice.events.filter(([name]) => name === "diagnostic");
    expect(refused).toEqual([]);
    await again.client.sendMessage(orgId, "board", "board after the crash");
    await world.settle();
    expect(received(alice, orgId)).toEqual(["board after the crash"]);
  });

  it("a removed member's session, keys and stranger entry go in the removal's commit; a rejoin makes new ones", async () => {
    world = new World();
    const owner = ownerDisk();
    const { owner: ownerPeer, orgId } = await encryptedOrg(owner.store);
    const alice = await world.peer("alice");
    const bob = await world.peer("bob");
    const member = alice.client.memberId;
    for (const peer of [alice, bob]) {
      await ownerPeer.client.acceptRequest(orgId, await ask(peer, orgId));
      await world.settle();
    }
    expect((await recordsOf(owner.disk, orgId, member)).held).toHaveLength(4);
    owner.ops.length = 0;
    await ownerPeer.client.removeMember(orgId, member);
    await world.settle();
    expect(await recordsOf(owner.disk, orgId, member)).toEqual({ held: [], stranger: false });
    // In one batch with the removal, after any put of them (none here).
    const deletes = owner.ops.filter((op) => op.type === "delete" && op.key.endsWith(member));
    expect(deletes.map((op) => (op.type === "delete" ? op.key.split("/")[0] : ""))).toEqual([
      "pairwise",
      "pairwise-send",
      "pairwise-recv",
      "memberkeys",
    ]);
    // Bob's are kept.
    expect((await recordsOf(owner.disk, orgId, bob.client.memberId)).held).toHaveLength(4);

    // Alice asks again: a new X3DH and new keys; admitted and keyed.
    const again = await ask(alice, orgId);
    await ownerPeer.client.acceptRequest(orgId, again);
    await world.settle();
    expect(alice.client.getOrganization(orgId).role).toBe("member");
    expect((await recordsOf(owner.disk, orgId, member)).held).toHaveLength(4);
    await ownerPeer.client.sendMessage(orgId, "general", "welcome back");
    await world.settle();
    expect(received(alice, orgId)).toContain("welcome back");

    // After a restart the owner reads her session on demand (base and chains) when she leaves.
    await world.restart(ownerPeer);
    await alice.client.leave(orgId);
    await world.settle();
    expect(ownerPeer.client.getOrganization(orgId).members.has(member)).toBe(false);
    expect(await recordsOf(owner.disk, orgId, member)).toEqual({ held: [], stranger: false });
  });
});

describe("the memberkeys record", () => {
  const keys = { signingKey: new Uint8Array(32).fill(1), prekey: new Uint8Array(32).fill(2) };

  it("is 65 bytes; the JSON of older stores is still read", () => {
    const bytes = encodeMemberKeys(keys);
    expect(bytes.length).toBe(65);
    expect(decodeMemberKeys(bytes)).toEqual(keys);
    expect(decodeMemberKeys(encodeJson(keys))).toEqual(keys);
  });

  it("refuses anything else as a corrupt record", () => {
    const bytes = encodeMemberKeys(keys);
    for (const junk of [
      bytes.subarray(0, 64),
      Uint8Array.of(2, ...bytes.subarray(1)),
      new Uint8Array(0),
      encodeJson({ signingKey: "00" }),
      new TextEncoder().encode("{not json"),
    ]) {
      let thrown: unknown;
      try {
        decodeMemberKeys(junk, "org/x/memberkeys/y");
      } catch (error) {
        thrown = error;
      }
      expect(isStoreCorruptedError(thrown)).toBe(true);
    }
    expect(() => encodeMemberKeys({ ...keys, prekey: new Uint8Array(31) })).toThrow(RangeError);
  });
});
