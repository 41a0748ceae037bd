import { channelTopic, descriptionTopic, publicKeyFromMemberId } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { orgWithMembers, type Peer, received, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

/** Counts the messages each topic's history queries hand to `peer`, and the queries' `from`. */
function countHistory(peer: Peer): {
  messages: Map<string, number>;
  froms: Array<{ topic: string; from: number | undefined }>;
} {
  const messages = new Map<string, number>();
  const froms: Array<{ topic: string; from: number | undefined }> = [];
  const transport = peer.transport;
  const query = transport.queryHistory.bind(transport);
  transport.queryHistory = async (q, options) => {
    const page = await query(q, options);
    for (const topic of q.contentTopics) {
      froms.push({ topic, from: q.from });
      const count = page.messages.filter((m) => m.contentTopic === topic).length;
      messages.set(topic, (messages.get(topic) ?? 0) + count);
    }
    return page;
  };
  return { messages, froms };
}

describe("discover reads newest first", () => {
  it("reads the newest description and one page of each channel, not history from its start; the first sweep starts at the marks", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, [], { encrypted: false });
    // 40 descriptions (each a header and its prekey bundle, plus a roster page): over a page of
    // history (100 messages) on the description topic.
    for (let i = 0; i < 40; i++) {
      await owner.client.createChannel(orgId, { id: `c${i}`, name: `Channel ${i}` });
      world.time.advance(10);
    }
    for (let i = 0; i < 150; i++) {
      await owner.client.sendMessage(orgId, "general", `post ${i}`);
      world.time.advance(10);
    }
    await world.settle();
    const dave = await world.peer("dave");
    const history = countHistory(dave);
    await dave.client.discover(orgId);
    await world.settle();

    const view = dave.client.getOrganization(orgId);
    expect(view.channels.map((c) => c.id)).toContain("c39");
    const key = publicKeyFromMemberId(orgId);
    const description = descriptionTopic(key);
    const general = channelTopic(key, "general");
    // One page (100 messages) each: the newest description is in it.
    expect(history.messages.get(description)).toBeLessThanOrEqual(100);
    expect(history.messages.get(general)).toBe(100);
    // The newest 100 posts, none of the older ones.
    const texts = received(dave);
    expect(texts).toHaveLength(100);
    expect(texts).toContain("post 149");
    expect(texts).not.toContain("post 49");

    // The first sweep reads from the marks (less the overlap), not from the start of history.
    history.froms.length = 0;
    await world.advance(60_000);
    const swept = history.froms.filter((q) => q.topic === description || q.topic === general);
    expect(swept.length).toBeGreaterThan(0);
    expect(swept.every((q) => q.from !== undefined)).toBe(true);
  });

  it("an encrypted organization: discovered newest first, the bundle held, the request admitted", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, [], { encrypted: true });
    for (let i = 0; i < 3; i++) {
      await owner.client.createChannel(orgId, { id: `c${i}`, name: `Channel ${i}` });
      world.time.advance(10);
    }
    await world.settle();
    const dave = await world.peer("dave");
    await dave.client.discover(orgId);
    // The request reaches the owner only through the bundle read newest first.
    const requestId = await dave.client.requestToJoin(orgId);
    await world.settle();
    await owner.client.acceptRequest(orgId, requestId);
    await world.settle();
    expect(dave.client.getOrganization(orgId).role).toBe("member");
  });
});
