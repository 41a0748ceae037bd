import { afterEach, describe, expect, it } from "vitest";
import { names, orgWithMembers, received, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

describe("create, discover, request, accept, message (encrypted)", () => {
  it("a member joins by request and exchanges encrypted messages with the owner", async () => {
    world = new World();
    const owner = await world.peer("owner");
    const orgId = await owner.client.createOrganization({ name: "Acme", access: "on-request" });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    await world.settle();

    const alice = await world.peer("alice");
    const view = await alice.client.discover(orgId);
    expect(view.identity.displayName).toBe("Acme");
    expect(view.encrypted).toBe(true);
    expect(view.channels.map((c) => c.id)).toEqual(["general"]);

    const requestId = await alice.client.requestToJoin(orgId, { displayName: "Alice" });
    await world.settle();
    expect(names(owner.events, ["request:received"])).toEqual(["request:received"]);
    expect(owner.client.listRequests(orgId).map((r) => [r.id, r.status])).toEqual([
      [requestId, "pending"],
    ]);

    await owner.client.acceptRequest(orgId, requestId);
    await world.settle();
    expect(names(alice.events, ["request:accepted", "epoch:changed"])).toEqual([
      "request:accepted",
      "epoch:changed",
    ]);
    expect(alice.client.getOrganization(orgId).role).toBe("member");
    expect(alice.client.getOrganization(orgId).members.has(alice.client.memberId)).toBe(true);

    await alice.client.sendMessage(orgId, "general", "hello from alice");
    await owner.client.sendMessage(orgId, "general", "welcome alice");
    await world.settle();
    expect(received(owner)).toEqual(["hello from alice"]);
    expect(received(alice)).toEqual(["welcome alice"]);
    expect(alice.client.history(orgId, "general").map((m) => m.text)).toEqual([
      "hello from alice",
      "welcome alice",
    ]);
  });

  it("two members see each other's messages", async () => {
    world = new World();
    const { members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = members as [(typeof members)[0], (typeof members)[0]];
    await alice.client.sendMessage(orgId, "general", "hi bob");
    await world.settle();
    await bob.client.sendMessage(orgId, "general", "hi alice");
    await world.settle();
    expect(received(bob)).toEqual(["hi bob"]);
    expect(received(alice)).toEqual(["hi alice"]);
  });
});
