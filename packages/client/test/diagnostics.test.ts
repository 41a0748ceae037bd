import type { Diagnostic } from "@orgchat/base";
import { channelTopic, inboxTopic } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { fromHex } from "../src/encoding.js";
import { orgWithMembers, type Peer, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

/** Everything a peer shows the app about an organization (to check that nothing changed). */
function snapshot(peer: Peer, orgId: string) {
  return {
    events: peer.events.length,
    organization: peer.client.getOrganization(orgId),
    history: peer.client.history(orgId, "general"),
  };
}

function diagnostics(peer: Peer): Diagnostic[] {
  const out: Diagnostic[] = [];
  peer.client.on("diagnostic", (diagnostic) => out.push(diagnostic));
  return out;
}

/** Bytes that are neither a group message nor a signed envelope (a truncated protobuf varint). */
const garbage = new Uint8Array([0x0a, 0xff, 0xff, 0xff]);

describe("diagnostics: dropped network input is reported, once, and changes nothing", () => {
  it("a malformed message on a channel topic: one diagnostic per client that heard it", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
    const alice = members[0] as Peer;
    await alice.client.sendMessage(orgId, "general", "hello");
    await world.settle();
    const seenByAlice = diagnostics(alice);
    const seenByOwner = diagnostics(owner);
    const before = [snapshot(alice, orgId), snapshot(owner, orgId)];
    const topic = channelTopic(fromHex(orgId), "general");
    const stranger = world.network.transport({ name: "stranger" });
    await stranger.start();
    await stranger.publish(topic, garbage);
    await world.settle();
    for (const seen of [seenByAlice, seenByOwner]) {
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ component: "client/messages", reason: "unopenable", topic });
      expect(seen[0]?.error).toBeDefined();
    }
    expect([snapshot(alice, orgId), snapshot(owner, orgId)]).toEqual(before);
    // The sweep reads the topic again from history: the message is known, not reported again.
    await world.advance(10_000);
    expect([seenByAlice.length, seenByOwner.length]).toEqual([1, 1]);
    await stranger.stop();
  });

  it("a malformed message in the inbox: one diagnostic, nothing else", async () => {
    world = new World();
    const { members, orgId } = await orgWithMembers(world, ["alice"]);
    const alice = members[0] as Peer;
    const seen = diagnostics(alice);
    const before = snapshot(alice, orgId);
    const topic = inboxTopic(fromHex(alice.client.memberId));
    const stranger = world.network.transport({ name: "stranger" });
    await stranger.start();
    await stranger.publish(topic, garbage);
    await world.settle();
    expect(seen).toEqual([
      expect.objectContaining({ component: "client/pairwise", reason: "unopenable", topic }),
    ]);
    expect(snapshot(alice, orgId)).toEqual(before);
    await stranger.stop();
  });
});
