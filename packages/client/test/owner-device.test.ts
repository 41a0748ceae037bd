/**
 * Two owner devices at once (docs/RESTORE.md, "Two owner devices at once"): a copy of the owner's
 * store run beside the original. Each bundle the owner publishes names its device; a device that
 * reads another device's bundle at a clock it did not write stops writing as owner, and says so.
 */
import { defaultProvider, ed25519EnvelopeSigner } from "@orgchat/crypto";
import { copyMemoryStore, memoryStore } from "@orgchat/store";
import { descriptionTopic, keysTopic, sealEnvelope } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { fromHex } from "../src/encoding.ts";
import { isOwnerForkDetectedError, isStoreCorruptedError } from "../src/errors.ts";
import {
  forkGuardedSigner,
  newOwnerDeviceState,
  ownerDeviceId,
  ownerDeviceIdKey,
} from "../src/owner-device.ts";
import { markRestored } from "../src/restore-marker.ts";
import type { ClientEvents } from "../src/types.ts";
import {
  asks,
  names,
  orgWithMembers,
  type Peer,
  received,
  seededRandom,
  World,
} from "./helpers.ts";

type Fork = ClientEvents["owner:fork-detected"];

const syncIntervalMs = 30_000;

const alice = (members: Peer[]) => members[0] as Peer;

/** How many messages history holds on `topic`. */
async function countOnTopic(peer: Peer, topic: string): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await peer.transport.queryHistory({
      contentTopics: [topic],
      direction: "forward",
      pageSize: 100,
      ...(cursor === undefined ? {} : { cursor }),
    });
    count += page.messages.length;
    cursor = page.cursor;
  } while (cursor !== undefined);
  return count;
}

function forks(peer: Peer): Fork[] {
  return peer.events.filter(([name]) => name === "owner:fork-detected").map(([, e]) => e as Fork);
}

/** Each of `devices` alone, everyone else together: no device hears the others live. */
function cutOff(world: World, ...devices: Peer[]): void {
  const others = world.peers.filter((p) => !devices.includes(p)).map((p) => p.transport);
  world.network.partition([...devices.map((d) => [d.transport]), others]);
}

/** The owner's store copied into another device (what a restore does: the copy draws a new id). */
async function twinOf(world: World, owner: Peer): Promise<Peer> {
  const copy = copyMemoryStore(owner.store);
  await copy.delete(ownerDeviceIdKey.space, ownerDeviceIdKey.key);
  return world.peer("owner-twin", { store: copy });
}

describe("two owner devices at once", () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("both devices detect the other, neither writes as owner after, members stay consistent", async () => {
    // The periodic republish and refresh run: a halted device must not write through them either.
    world = new World({ republishIntervalMs: 10 * 60 * 1000, syncIntervalMs });
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = members as [Peer, Peer];
    const twin = await twinOf(world, owner);
    // The twin read the original's bundles in history: all at clocks it holds (its own past).
    expect(forks(owner)).toEqual([]);
    expect(forks(twin)).toEqual([]);
    const ownDevice = owner.client.ownerDevice(orgId).device;
    const twinDevice = twin.client.ownerDevice(orgId).device;
    expect(twinDevice).not.toBe(ownDevice);
    expect(twinDevice).toMatch(/^[0-9a-f]{32}$/);

    // Each writes as owner once, cut off from the other (neither hears the other live):
    // two descriptions at the same clock from two devices. Then the network heals.
    const clock = owner.client.getOrganization(orgId).clock;
    cutOff(world, owner, twin);
    await owner.client.setTags(orgId, ["from-original"]);
    await twin.client.setTags(orgId, ["from-twin"]);
    await world.settle();
    world.network.heal();
    // The history sweep (anti-entropy) reads what the partition hid.
    await world.advance(syncIntervalMs);

    expect(forks(owner)).toEqual([
      { organizationId: orgId, device: twinDevice, ownDevice, clock: clock + 1n },
    ]);
    expect(forks(twin)).toEqual([
      { organizationId: orgId, device: ownDevice, ownDevice: twinDevice, clock: clock + 1n },
    ]);
    expect(owner.client.ownerDevice(orgId).fork?.device).toBe(twinDevice);

    // Neither writes as owner any more: actions, posts, decisions are refused in words.
    for (const device of [owner, twin]) {
      await expect(device.client.setTags(orgId, ["again"])).rejects.toSatisfy(
        isOwnerForkDetectedError,
      );
      await expect(device.client.sendMessage(orgId, "general", "as owner")).rejects.toSatisfy(
        isOwnerForkDetectedError,
      );
    }
    const refused = await owner.client.setTags(orgId, []).catch((error: unknown) => error);
    expect(String((refused as Error).message)).toContain(`orgchat owner resume ${orgId}`);
    expect(String((refused as Error).message)).toContain(twinDevice);
    const published = await countOnTopic(owner, descriptionTopic(fromHex(orgId)));
    const keysBefore = await countOnTopic(owner, keysTopic(fromHex(orgId)));

    // A newcomer's request stays unanswered (no device answers it), time passes (the periodic
    // republish and refresh are due), and still nothing is published as owner.
    const requestEvents = (peer: Peer) =>
      names(peer.events, ["request:received", "request:accepted"]).length;
    const before = [requestEvents(owner), requestEvents(twin)];
    const { bob: carol } = await asks(world, orgId, "carol");
    expect([requestEvents(owner), requestEvents(twin)]).toEqual(before);
    await world.advance(60 * 60 * 1000);
    expect(await countOnTopic(owner, descriptionTopic(fromHex(orgId)))).toBe(published);
    expect(await countOnTopic(owner, keysTopic(fromHex(orgId)))).toBe(keysBefore);
    // Quietly: the periodic work of a halted device does not try (no error event).
    expect(names(owner.events, ["error"])).toEqual([]);
    expect(names(twin.events, ["error"])).toEqual([]);
    expect(carol.client.getOrganization(orgId).role).not.toBe("member");

    // Reads go on: both devices read the members' posts.
    await alice.client.sendMessage(orgId, "general", "still here");
    await world.settle();
    expect(received(owner).at(-1)).toBe("still here");
    expect(received(twin).at(-1)).toBe("still here");
    expect(received(bob).at(-1)).toBe("still here");

    // Members hold one and the same state.
    const a = alice.client.getOrganization(orgId);
    const b = bob.client.getOrganization(orgId);
    expect(b.clock).toBe(a.clock);
    expect(b.tags).toEqual(a.tags);
    expect(b.epoch).toBe(a.epoch);
    expect([...b.members.keys()].sort()).toEqual([...a.members.keys()].sort());
    // (Which of the two same-clock descriptions they hold is the order rule's choice; both hold it.)
    expect(["from-original", "from-twin"]).toContain(a.tags[0]);

    // The halt survives a restart.
    await world.restart(owner);
    expect(owner.client.ownerDevice(orgId).fork?.device).toBe(twinDevice);
    await expect(owner.client.setTags(orgId, ["again"])).rejects.toSatisfy(
      isOwnerForkDetectedError,
    );
  });

  it("the device kept resumes: members follow it under its new device id, a newcomer joins", async () => {
    // Both devices re-key on their own (the periodic refresh) while cut off from each other.
    const periodMs = 10 * 60 * 1000;
    world = new World({
      syncIntervalMs,
      republishIntervalMs: periodMs,
      refreshIntervalMs: periodMs,
    });
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = members as [Peer, Peer];
    const twin = await twinOf(world, owner);
    cutOff(world, owner, twin);
    await owner.client.setTags(orgId, ["from-original"]);
    // The twin writes more: its clock goes above the original's.
    for (const tag of ["twin-1", "twin-2", "from-twin"]) await twin.client.setTags(orgId, [tag]);
    const epoch = owner.client.getOrganization(orgId).epoch ?? 0n;
    await world.advance(periodMs);
    // Two epochs of one number, one per device: members take one of them.
    expect(owner.client.getOrganization(orgId).epoch).toBe(epoch + 1n);
    expect(twin.client.getOrganization(orgId).epoch).toBe(epoch + 1n);
    world.network.heal();
    // (What the partition hid is older than the sweep's marks: the next republish shows each
    // device to the other.)
    await world.advance(periodMs);
    expect(forks(owner)).toHaveLength(1);
    expect(forks(twin)).toHaveLength(1);
    // Carol asks while both are halted; time passes (the history sweeps move on). Her client's own
    // re-ask (on the republish back-off) is held off: the request the owner sees is the one made to
    // the prekey both devices held.
    const carol = await world.peer("carol", { config: { republishIntervalMs: 24 * 3_600_000 } });
    await carol.client.discover(orgId);
    const requestId = await carol.client.requestToJoin(orgId, { displayName: "carol" });
    await world.settle();
    await world.advance(periodMs);

    // The user keeps the original: the twin is stopped, the original resumes (out of the
    // members' reach at first: every session it held is gone from its store).
    const twinClock = twin.client.getOrganization(orgId).clock;
    expect(twinClock).toBeGreaterThan(owner.client.getOrganization(orgId).clock);
    await world.stop(twin);
    world.peers.splice(world.peers.indexOf(twin), 1);
    const before = owner.client.ownerDevice(orgId).device;
    cutOff(world, owner);
    const resumed = await owner.client.resumeOwner(orgId);
    await world.settle();
    expect(await owner.store.keys(`org/${orgId}`, { prefix: "pairwise/" })).toEqual([]);
    // A fresh epoch: its chains were never sent on by either device.
    expect(owner.client.getOrganization(orgId).epoch).toBe(epoch + 2n);
    world.network.heal();
    // The next republish shows the new device to the members.
    await world.advance(periodMs);
    expect(resumed.device).not.toBe(before);
    // Its clock is above everything the other device wrote.
    expect(resumed.clock).toBeGreaterThan(twinClock);
    expect(owner.client.ownerDevice(orgId)).toEqual({
      device: resumed.device,
      since: resumed.clock,
    });
    // Members take its description (a clock above both devices').
    const ownerView = owner.client.getOrganization(orgId);
    expect(ownerView.clock).toBeGreaterThanOrEqual(resumed.clock);
    for (const member of [alice, bob]) {
      const view = member.client.getOrganization(orgId);
      expect(view.clock).toBe(ownerView.clock);
      expect(view.tags).toEqual(["from-original"]);
      expect([...view.members.keys()].sort()).toEqual([...ownerView.members.keys()].sort());
      expect(view.epoch).toBe(ownerView.epoch);
    }
    // Members made a new session with the new device (the owner dropped every old one).
    const sessions = await owner.store.keys(`org/${orgId}`, { prefix: "pairwise/" });
    expect(sessions).toEqual(
      expect.arrayContaining([
        `pairwise/${alice.client.memberId}`,
        `pairwise/${bob.client.memberId}`,
      ]),
    );
    // Messages flow both ways in the owner's fresh epoch.
    await owner.client.sendMessage(orgId, "general", "the owner carries on");
    await alice.client.sendMessage(orgId, "general", "alice answers");
    await world.settle();
    expect(received(alice).at(-1)).toBe("the owner carries on");
    expect(received(bob).slice(-2)).toEqual(["the owner carries on", "alice answers"]);
    expect(received(owner).at(-1)).toBe("alice answers");
    // Carol's request, made to the prekey both devices held, is not taken (either could have
    // answered it): she asks again, to the new bundle, and is accepted.
    expect(owner.client.listRequests(orgId).map((r) => r.id)).not.toContain(requestId);
    const again = await carol.client.requestToJoin(orgId, { displayName: "carol" });
    await world.settle();
    await owner.client.acceptRequest(orgId, again);
    await world.settle();
    await owner.client.sendMessage(orgId, "general", "welcome carol");
    await world.settle();
    expect(received(carol).at(-1)).toBe("welcome carol");
    expect(forks(owner)).toHaveLength(1);
  });

  it("a delegate's accept made while the owner was halted is taken when it resumes", async () => {
    const periodMs = 10 * 60 * 1000;
    world = new World({ syncIntervalMs, republishIntervalMs: periodMs });
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
    const admin = alice(members);
    await owner.client.setRoles(orgId, admin.client.memberId, ["all"]);
    await world.settle();
    const twin = await twinOf(world, owner);
    cutOff(world, owner, twin);
    await owner.client.setTags(orgId, ["from-original"]);
    await twin.client.setTags(orgId, ["from-twin"]);
    world.network.heal();
    await world.advance(periodMs);
    expect(forks(owner)).toHaveLength(1);
    // Alice (admin) accepts carol while the owner is halted: the owner leaves her decision unread.
    const { bob: carol, requestId } = await asks(world, orgId, "carol");
    await admin.client.acceptRequest(orgId, requestId);
    await world.settle();
    expect(carol.client.getOrganization(orgId).role).toBe("member");
    expect(owner.client.getOrganization(orgId).members.has(carol.client.memberId)).toBe(false);
    // Time passes: the history sweeps move on past the decision.
    await world.advance(periodMs);
    await world.stop(twin);
    world.peers.splice(world.peers.indexOf(twin), 1);
    await owner.client.resumeOwner(orgId);
    await world.settle();
    expect(owner.client.getOrganization(orgId).members.has(carol.client.memberId)).toBe(true);
  });

  it("a store copied as files (another origin) draws a new device id; the same origin keeps it", async () => {
    const store = memoryStore();
    const random = seededRandom(7);
    const first = await ownerDeviceId(store, random, "/home/a/.orgchat/owner#11");
    expect(await ownerDeviceId(store, random, "/home/a/.orgchat/owner#11")).toEqual(first);
    expect(await ownerDeviceId(store, random)).toEqual(first);
    const copy = copyMemoryStore(store);
    const moved = await ownerDeviceId(copy, random, "/media/usb/owner#42");
    expect(moved).not.toEqual(first);
    expect(await ownerDeviceId(copy, random, "/media/usb/owner#42")).toEqual(moved);
    await expect(ownerDeviceId(store, random, "x".repeat(1025))).rejects.toThrow(RangeError);
    await store.put(ownerDeviceIdKey.space, ownerDeviceIdKey.key, new Uint8Array(16));
    await expect(ownerDeviceId(store, random)).rejects.toSatisfy(isStoreCorruptedError);
  });

  it("the organization key signs nothing while a fork is recorded", async () => {
    const provider = defaultProvider();
    const key = provider.ed25519KeyPair();
    const device = newOwnerDeviceState();
    const signer = forkGuardedSigner("org", ed25519EnvelopeSigner(provider, key.secretKey), device);
    expect(signer.publicKey).toEqual(key.publicKey);
    expect(await signer.sign(new Uint8Array([1]))).toHaveLength(64);
    device.fork = { device: "aa".repeat(16), clock: 3n, at: 0 };
    expect(() => signer.sign(new Uint8Array([1]))).toThrow(
      expect.objectContaining({ name: "OwnerForkDetectedError" }),
    );
  });

  it("a re-key and an add armed before the fork run nothing after it, nor at close", async () => {
    world = new World({ rekeyWindowMs: 120_000, addWindowMs: 120_000, syncIntervalMs });
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    await world.advance(120_000); // their add step
    const bob = members[1] as Peer;
    const { requestId } = await asks(world, orgId, "dave");
    const twin = await twinOf(world, owner);
    const epoch = owner.client.getOrganization(orgId).epoch;
    cutOff(world, owner, twin);
    // The owner removes bob: his re-key waits for the window (a timer, armed now). It accepts
    // dave: his add step waits for the add window (another timer).
    await owner.client.removeMember(orgId, bob.client.memberId);
    await owner.client.acceptRequest(orgId, requestId);
    await twin.client.setTags(orgId, ["from-twin"]);
    await world.settle();
    world.network.heal();
    // The twin writes again, heard live.
    await twin.client.setTags(orgId, ["from-twin-2"]);
    await world.settle();
    expect(forks(owner)).toHaveLength(1);
    const keys = await countOnTopic(owner, keysTopic(fromHex(orgId)));
    const descriptions = await countOnTopic(owner, descriptionTopic(fromHex(orgId)));
    // The windows end: neither runs (no KeyUpdate, no epoch, no error); nor at close.
    await world.advance(120_000);
    expect(await countOnTopic(owner, keysTopic(fromHex(orgId)))).toBe(keys);
    expect(owner.client.getOrganization(orgId).epoch).toBe(epoch);
    await owner.client.close();
    await world.settle();
    expect(await countOnTopic(alice(members), keysTopic(fromHex(orgId)))).toBe(keys);
    expect(await countOnTopic(alice(members), descriptionTopic(fromHex(orgId)))).toBe(descriptions);
    expect(names(owner.events, ["error"])).toEqual([]);
  });

  it("a stranger's bundle, or the owner's own past, does not halt the owner", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, ["alice"]);
    const org = fromHex(orgId);
    const topic = descriptionTopic(org);
    const provider = defaultProvider();
    const stranger = provider.ed25519KeyPair();
    const bundle = {
      identityDhKey: new Uint8Array(32).fill(7),
      signedPrekey: new Uint8Array(32).fill(8),
      signedPrekeyId: 1,
      signature: new Uint8Array(64).fill(9),
      ownerDevice: new Uint8Array(16).fill(0xee),
    };
    const clock = owner.client.getOrganization(orgId).clock + 100n;
    // Signed by a stranger's key, claiming the organization key (the sealer refuses any other
    // signer for a bundle), with another device id, at a clock above everything.
    const strangerSigner = ed25519EnvelopeSigner(provider, stranger.secretKey);
    const forger = { ...strangerSigner, publicKey: org, sign: strangerSigner.sign };
    {
      const identityKey = org;
      const bytes = await sealEnvelope(
        {
          type: "prekey-bundle",
          organizationId: org,
          clock,
          contentTopic: topic,
          message: { ...bundle, identityKey },
        },
        forger,
      );
      const transport = world.network.transport({ name: "stranger" });
      await transport.start();
      await transport.publish(topic, bytes);
    }
    await world.settle();
    expect(forks(owner)).toEqual([]);
    await owner.client.setTags(orgId, ["fine"]);

    // A restored copy drops the device id: the next start draws a new one.
    const copy = copyMemoryStore(owner.store);
    expect(await copy.get(ownerDeviceIdKey.space, ownerDeviceIdKey.key)).toBeDefined();
    await markRestored(copy, { backupCreatedAt: 0, restoredAt: 0 });
    expect(await copy.get(ownerDeviceIdKey.space, ownerDeviceIdKey.key)).toBeUndefined();

    // The owner restarts and reads its own bundles (its own id) from history: nothing happens.
    await world.restart(owner);
    expect(forks(owner)).toEqual([]);
    await owner.client.setTags(orgId, ["still fine"]);
  });
});
