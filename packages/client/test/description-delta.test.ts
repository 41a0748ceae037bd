import type { Diagnostic } from "@orgchat/base";
import { defaultProvider, ed25519EnvelopeSigner } from "@orgchat/crypto";
import { initialState } from "@orgchat/state";
import { describedState } from "@orgchat/state/description";
import {
  decodeSignedEnvelope,
  descriptionTopic,
  MessageType,
  memberIdFromPublicKey,
  publicKeyFromMemberId,
  sealEnvelope,
} from "@orgchat/wire";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { publishDescription } from "../src/description-publisher.js";
import { maxHeldDescriptionDeltas } from "../src/description-sync.js";
import { OwnerEpochs } from "../src/epochs.js";
import type { OwnerOrg, Txn } from "../src/org.js";
import { orgWithMembers, type Peer, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

// Until the lead wires it (OwnerEpochs.describe delegating to publishDescription), these tests
// make the owner publish through the description publisher.
const describeBefore = Object.getOwnPropertyDescriptor(OwnerEpochs.prototype, "describe");
beforeAll(() => {
  Object.defineProperty(OwnerEpochs.prototype, "describe", {
    configurable: true,
    writable: true,
    value: async (org: OwnerOrg, txn: Txn) => {
      await publishDescription(org, txn, { now: 0, maxFullAgeMs: 0 });
    },
  });
});
afterAll(() => {
  if (describeBefore !== undefined) {
    Object.defineProperty(OwnerEpochs.prototype, "describe", describeBefore);
  }
});

/** The description topic's history as envelope types, oldest first. */
async function publishedTypes(reader: Peer, orgId: string): Promise<number[]> {
  const topic = descriptionTopic(publicKeyFromMemberId(orgId));
  const types: number[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await reader.transport.queryHistory({
      contentTopics: [topic],
      direction: "forward",
      pageSize: 100,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const m of page.messages) types.push(decodeSignedEnvelope(m.payload).type);
    if (page.cursor === undefined) return types;
    cursor = page.cursor;
  }
}

const channelIds = (peer: Peer, orgId: string) =>
  peer.client
    .getOrganization(orgId)
    .channels.map((c) => c.id)
    .sort();

/**
 * An organization with a long description (a full description then weighs far more than an
 * admission's delta, so admissions travel as deltas), and a join through request and accept.
 */
async function longDescriptionOrg(w: World) {
  const owner = await w.peer("owner");
  const orgId = await owner.client.createOrganization({
    name: "Acme",
    description: "d".repeat(4_000),
    encrypted: false,
  });
  await w.settle();
  const join = async (peer: Peer) => {
    await peer.client.discover(orgId);
    const requestId = await peer.client.requestToJoin(orgId);
    await w.settle();
    await owner.client.acceptRequest(orgId, requestId);
    await w.settle();
  };
  return { owner, orgId, join };
}

describe("description deltas between full descriptions", () => {
  it("members follow the owner's deltas; a newcomer reads the newest full description and the deltas after it", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    for (let i = 0; i < 5; i++) {
      await owner.client.createChannel(orgId, { id: `c${i}`, name: `Channel ${i}` });
      world.time.advance(10);
    }
    await world.settle();
    const types = await publishedTypes(owner, orgId);
    const deltas = types.filter((t) => t === MessageType.DESCRIPTION_DELTA).length;
    const headers = types.filter((t) => t === MessageType.DESCRIPTION_PAGE).length;
    expect(deltas).toBeGreaterThan(0);
    // The bundle goes with every publication (a peer without history learns it live).
    expect(types.filter((t) => t === MessageType.PREKEY_BUNDLE).length).toBeGreaterThan(deltas);
    expect(headers).toBeGreaterThan(0);
    const ownerView = channelIds(owner, orgId);
    for (const member of members) expect(channelIds(member, orgId)).toEqual(ownerView);

    const dave = await world.peer("dave");
    await dave.client.discover(orgId);
    expect(channelIds(dave, orgId)).toEqual(ownerView);
    expect([...dave.client.getOrganization(orgId).members.keys()].sort()).toEqual(
      [...owner.client.getOrganization(orgId).members.keys()].sort(),
    );
    // And joins through the bundle the full description carried.
    const requestId = await dave.client.requestToJoin(orgId);
    await world.settle();
    await owner.client.acceptRequest(orgId, requestId);
    await world.settle();
    expect(dave.client.getOrganization(orgId).role).toBe("member");
    const everyone = [...owner.client.getOrganization(orgId).members.keys()].sort();
    expect(everyone).toHaveLength(4);
    for (const member of [...members, dave]) {
      expect([...member.client.getOrganization(orgId).members.keys()].sort()).toEqual(everyone);
    }
  });

  it("a member restarted after deltas keeps the description they made (full + deltas stored)", async () => {
    world = new World();
    const { owner, orgId, join } = await longDescriptionOrg(world);
    const alice = await world.peer("alice");
    await join(alice);
    await join(await world.peer("bob"));
    // Sweeps set the marks: the restart's catch-up does not replay the topic from its start.
    for (let i = 0; i < 10; i++) await world.advance(30_000);
    await world.restart(alice);
    await join(await world.peer("carol"));
    const types = await publishedTypes(owner, orgId);
    const descriptions = types.filter((t) => t !== MessageType.PREKEY_BUNDLE);
    expect(descriptions.at(-1)).toBe(MessageType.DESCRIPTION_DELTA);
    expect([...alice.client.getOrganization(orgId).members.keys()].sort()).toEqual(
      [...owner.client.getOrganization(orgId).members.keys()].sort(),
    );
  });

  it("a member that missed a delta reads it back from history when the next one arrives (no sweep, no full description)", async () => {
    world = new World();
    const { owner, orgId, join } = await longDescriptionOrg(world);
    const alice = await world.peer("alice");
    const bob = await world.peer("bob");
    await join(alice);
    await join(bob);
    // Every message here is stamped at the same (fake) time, so history orders them by id: count.
    const count = async (type: MessageType) =>
      (await publishedTypes(owner, orgId)).filter((t) => t === type).length;
    const pages = await count(MessageType.DESCRIPTION_PAGE);
    const deltas = await count(MessageType.DESCRIPTION_DELTA);
    // Alice misses carol's admission live; the history she can read shows it only after the heal.
    const carol = await world.peer("carol");
    world.network.partition([[alice.transport], [owner.transport, bob.transport, carol.transport]]);
    await join(carol);
    world.network.heal();
    const members = (peer: Peer) => [...peer.client.getOrganization(orgId).members.keys()].sort();
    expect(members(alice)).not.toContain(carol.client.memberId);
    // No time passes (no periodic sweep); dave's admission arrives live, on a base she lacks.
    const dave = await world.peer("dave");
    await join(dave);
    expect(await count(MessageType.DESCRIPTION_DELTA)).toBe(deltas + 2);
    expect(await count(MessageType.DESCRIPTION_PAGE)).toBe(pages);
    expect(members(alice)).toEqual(members(owner));
    expect(members(alice)).toEqual(
      expect.arrayContaining([carol.client.memberId, dave.client.memberId]),
    );
  });

  it(`deltas whose base never comes are held up to ${maxHeldDescriptionDeltas}, the rest dropped and reported`, async () => {
    world = new World();
    const provider = defaultProvider();
    const orgKey = provider.ed25519KeyPair();
    const orgId = memberIdFromPublicKey(orgKey.publicKey);
    const signer = ed25519EnvelopeSigner(provider, orgKey.secretKey);
    const topic = descriptionTopic(orgKey.publicKey);
    const publisher = world.network.transport({ name: "publisher", history: true });
    await publisher.start();
    const digest = describedState(initialState(orgId)).digest;
    const extra = 10;
    for (let i = 0; i < maxHeldDescriptionDeltas + extra; i++) {
      const clock = BigInt(1_000 + 2 * i);
      const bytes = await sealEnvelope(
        {
          type: "description-delta",
          organizationId: orgKey.publicKey,
          clock,
          contentTopic: topic,
          message: { clock, baseClock: clock - 1n, baseDigest: digest, digest },
        },
        signer,
      );
      await publisher.publish(topic, bytes);
    }
    const dave = await world.peer("dave");
    const diagnostics: Diagnostic[] = [];
    dave.client.on("diagnostic", (d) => diagnostics.push(d));
    await expect(dave.client.discover(orgId)).rejects.toThrow();
    const full = diagnostics.filter((d) => d.reason === "deltas-full");
    expect(full).toHaveLength(extra);
  });
});
