/**
 * Issue #13, row 1: the clock bomb. One signed message whose Lamport clock is near 2^63 − 1 or
 * 2^64 − 1 — an outsider's request to join, or a member's post in a public or an encrypted
 * organization — must not freeze the organization: afterwards the owner still sends, bans the
 * attacker and edits, members still send, and so after a restart of each (rule R1: one clock limit
 * 2^63 − 1, a bounded step for non-owner events, strangers' events do not move clocks).
 *
 * The attacker is mounted with the public packages only: fresh keys and X3DH for the outsider; for
 * the member, the keys and group state its own client wrote to its own store (an attacker owns its
 * disk; these stores have no passphrase).
 */
import { defaultProvider, ed25519EnvelopeSigner, type KeyPair } from "@orgchat/crypto";
import { clockLimits } from "@orgchat/state";
import { storeLimits } from "@orgchat/store";
import { channelTopic, encodeChannelMessage, MessageType, sealEnvelope } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { decodeJson, fromHex } from "../src/encoding.js";
import { storedGroups } from "../src/inspect.js";
import { orgWithMembers, type Peer, received, seededRandom, World } from "./helpers.js";
import { publishedPrekeyBundle, Stranger } from "./stranger.js";

const provider = defaultProvider();

const bombs = [
  ["2^64 − 1", 2n ** 64n - 1n],
  ["2^63 − 1", 2n ** 63n - 1n],
  ["2^63 − 2", 2n ** 63n - 2n],
] as const;

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

// -------------------------------------------------------------------------------------------------
// The attacker's bytes

/** The identity key a client stored (no passphrase): what a member turned attacker holds. */
async function storedIdentity(peer: Peer): Promise<KeyPair> {
  const record = await peer.store.get("identity", "self");
  if (record === undefined) throw new Error(`${peer.name}: no identity stored`);
  const secrets = decodeJson<{ identity: Uint8Array }>(
    decodeJson<{ secrets: Uint8Array }>(record).secrets,
  );
  return { secretKey: secrets.identity, publicKey: provider.ed25519PublicKey(secrets.identity) };
}

/** The post a member signs, with the clock it chooses. */
function channelMessage(orgId: string, author: Uint8Array, clock: bigint, text: string) {
  return {
    organizationId: fromHex(orgId),
    channelId: "general",
    author,
    clock,
    sentAt: BigInt(world?.time.now() ?? 0),
    body: { case: "post" as const, value: { text, replyTo: "" } },
  };
}

/** A member's post with a chosen clock: signed (public org) or encrypted with its group (encrypted). */
async function memberBomb(peer: Peer, orgId: string, clock: bigint, encrypted: boolean) {
  const identity = await storedIdentity(peer);
  const org = fromHex(orgId);
  const message = channelMessage(orgId, identity.publicKey, clock, "bomb");
  let bytes: Uint8Array;
  if (encrypted) {
    const group = (await storedGroups(peer.store, orgId, "member")).get("");
    if (group === undefined) throw new Error(`${peer.name}: no group state stored`);
    bytes = group.encrypt({
      contentType: MessageType.CHANNEL_MESSAGE,
      content: encodeChannelMessage(message),
    });
  } else {
    bytes = await sealEnvelope(
      {
        type: "channel-message",
        organizationId: org,
        clock,
        contentTopic: channelTopic(org, "general"),
        message,
      },
      ed25519EnvelopeSigner(provider, identity.secretKey),
    );
  }
  await peer.transport.publish(channelTopic(org, "general"), bytes);
}

/** An outsider (fresh keys from `seed`) asks to join, its keys and request stamped with `clock`. */
async function outsiderBomb(
  via: Peer,
  orgId: string,
  clock: bigint,
  seed: number,
): Promise<string> {
  const bundle = await publishedPrekeyBundle(via.transport, orgId);
  const outsider = new Stranger(via.transport, orgId, bundle, seededRandom(seed));
  await outsider.request({ clock, sentAt: world?.time.now() ?? 0, displayName: "outsider" });
  return outsider.id;
}

// -------------------------------------------------------------------------------------------------
// What must still work afterwards

/** Every clock a client holds for the organization can be stamped and stored. */
function expectClockUsable(peer: Peer, orgId: string, before: bigint): void {
  const clock = peer.client.getOrganization(orgId).clock;
  expect(clock < storeLimits.maxSortKey).toBe(true);
  // The bomb did not move it: the step rule refused the post, the request does not count.
  expect(clock - before <= clockLimits.maxClockStep).toBe(true);
}

/** The owner sends, edits its message and the organization, a member sends: everyone sees it. */
async function expectAlive(w: World, owner: Peer, member: Peer, orgId: string, round: string) {
  const sent = await owner.client.sendMessage(orgId, "general", `owner ${round}`);
  await owner.client.editMessage(orgId, sent.id, `owner ${round} (edited)`);
  await owner.client.editIdentity(orgId, { description: `round ${round}` });
  await member.client.sendMessage(orgId, "general", `member ${round}`);
  await w.settle();
  expect(received(member, orgId)).toContain(`owner ${round}`);
  expect(member.client.history(orgId, "general").map((m) => m.text)).toContain(
    `owner ${round} (edited)`,
  );
  expect(member.client.getOrganization(orgId).identity.description).toBe(`round ${round}`);
  expect(received(owner, orgId)).toContain(`member ${round}`);
}

it("one clock limit: what the state accepts, the store can file (2^63 − 1)", () => {
  expect(clockLimits.maxClock).toBe(storeLimits.maxSortKey);
  expect(clockLimits.maxClock).toBe(2n ** 63n - 1n);
});

describe.each([
  ["public", false],
  ["encrypted", true],
] as const)("clock bomb in a %s organization", (_, encrypted) => {
  it.each(bombs)(
    "a member's post at clock %s: refused; nobody is frozen, also after a restart",
    async (_label, clock) => {
      const w = new World();
      world = w;
      const { owner, members, orgId } = await orgWithMembers(w, ["mallory", "bob"], { encrypted });
      const [mallory, bob] = members as [Peer, Peer];
      const before = owner.client.getOrganization(orgId).clock;
      await memberBomb(mallory, orgId, clock, encrypted);
      await w.settle();
      for (const peer of [owner, bob]) {
        expectClockUsable(peer, orgId, before);
        expect(received(peer, orgId)).not.toContain("bomb");
        // Above the limit it is malformed, refused for good: it takes no place among held events.
        if (clock > clockLimits.maxClock) {
          expect(await peer.store.range(`held/${orgId}`)).toEqual([]);
        }
      }
      await expectAlive(w, owner, bob, orgId, "1");
      await owner.client.banMember(orgId, mallory.client.memberId);
      await w.settle();
      expect(bob.client.getOrganization(orgId).banned).toContain(mallory.client.memberId);
      await w.restart(owner);
      await w.restart(bob);
      expectClockUsable(owner, orgId, before);
      expectClockUsable(bob, orgId, before);
      await expectAlive(w, owner, bob, orgId, "2");
    },
  );

  it.each(bombs)(
    "an outsider's request at clock %s: no clock moves; the owner can ban it, also after a restart",
    async (_label, clock) => {
      const w = new World();
      world = w;
      const { owner, members, orgId } = await orgWithMembers(w, ["bob"], { encrypted });
      const bob = members[0] as Peer;
      const before = owner.client.getOrganization(orgId).clock;
      const outsider = await outsiderBomb(bob, orgId, clock, 0x0b0b + Number(clock % 1000n));
      await w.settle();
      expect(owner.client.getOrganization(orgId).clock).toBe(before);
      expectClockUsable(bob, orgId, before);
      await expectAlive(w, owner, bob, orgId, "1");
      await owner.client.banMember(orgId, outsider);
      await w.settle();
      await w.restart(owner);
      await w.restart(bob);
      expectClockUsable(owner, orgId, before);
      await expectAlive(w, owner, bob, orgId, "2");
    },
  );
});

describe("strangers do not move clocks", () => {
  it("a request inside the step is shown to the owner without moving its clock; the accept sorts after it", async () => {
    const w = new World();
    world = w;
    const { owner, members, orgId } = await orgWithMembers(w, ["bob"], { encrypted: true });
    const bob = members[0] as Peer;
    const before = owner.client.getOrganization(orgId).clock;
    const far = before + clockLimits.maxClockStep;
    const outsider = await outsiderBomb(bob, orgId, far, 0x5eed);
    await w.settle();
    const requests = owner.events.flatMap(([name, payload]) =>
      name === "request:received" ? [payload as { requestId: string; requester: string }] : [],
    );
    const request = requests.find((r) => r.requester === outsider);
    expect(request).toBeDefined();
    expect(owner.client.getOrganization(orgId).clock).toBe(before);
    // Accepting stamps after the request (a decision before it would find nothing to accept).
    const requestId = request?.requestId ?? "";
    await owner.client.acceptRequest(orgId, requestId);
    await w.settle();
    const view = owner.client.getOrganization(orgId);
    expect(view.members.has(outsider)).toBe(true);
    // The accept (and the re-key after it) follow the request.
    expect(view.clock > far).toBe(true);
    await expectAlive(w, owner, bob, orgId, "after accept");
  });

  it("a requester's cancel sorts after its own request (8 requesters: never a tie it loses)", async () => {
    const w = new World();
    world = w;
    const { owner, orgId } = await orgWithMembers(w, [], { encrypted: true });
    const requests: string[] = [];
    for (let i = 0; i < 8; i++) {
      const peer = await w.peer(`newcomer${i}`);
      await peer.client.discover(orgId);
      requests.push(await peer.client.requestToJoin(orgId, { displayName: `n${i}` }));
      await w.settle();
      await peer.client.cancelRequest(orgId);
      await w.settle();
    }
    const cancelled = owner.events.filter(([name]) => name === "request:cancelled");
    expect(cancelled).toHaveLength(8);
    for (const requestId of requests) {
      await expect(owner.client.acceptRequest(orgId, requestId)).rejects.toThrow();
    }
  });
});
