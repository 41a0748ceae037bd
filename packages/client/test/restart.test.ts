import { defaultProvider, MemberGroup } from "@orgchat/crypto";
import { afterEach, describe, expect, it } from "vitest";
import { isWrongPassphraseError } from "../src/index.js";
import { orgWithMembers, type Peer, received, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

describe("restart on the same store", () => {
  it("a member closed mid-conversation resumes: fresh generations out, messages in", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
    const [alice] = members as [Peer];
    await alice.client.sendMessage(orgId, "general", "one");
    await owner.client.sendMessage(orgId, "general", "hello");
    await world.settle();
    await world.restart(alice);
    expect(alice.client.getOrganization(orgId).role).toBe("member");
    expect(alice.client.history(orgId, "general").map((m) => m.text)).toEqual(["one", "hello"]);
    // A reused generation would be refused by the owner as a duplicate: "two" must arrive.
    await alice.client.sendMessage(orgId, "general", "two");
    await owner.client.sendMessage(orgId, "general", "again");
    await world.settle();
    expect(received(owner)).toEqual(["one", "two"]);
    expect(received(alice)).toEqual(["hello", "again"]);
  });

  it("the owner resumes every organization and keeps deciding", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
    const [alice] = members as [Peer];
    await world.restart(owner);
    const bob = await world.peer("bob");
    await bob.client.discover(orgId);
    const requestId = await bob.client.requestToJoin(orgId);
    await world.settle();
    await owner.client.acceptRequest(orgId, requestId);
    await world.settle();
    await owner.client.sendMessage(orgId, "general", "after restart");
    await alice.client.sendMessage(orgId, "general", "alice too");
    await world.settle();
    expect(received(bob)).toEqual(["after restart", "alice too"]);
    expect(received(owner)).toEqual(["alice too"]);
  });

  it("a member offline for a re-key and several messages catches up from history alone", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = members as [Peer, Peer];
    await world.stop(bob);
    await owner.client.removeMember(orgId, alice.client.memberId);
    await owner.client.sendMessage(orgId, "general", "m1");
    await owner.client.sendMessage(orgId, "general", "m2");
    await world.settle();
    await world.resume(bob);
    // History returns equal timestamps in any order: the app gets both once, the log orders them.
    expect(received(bob).sort()).toEqual(["m1", "m2"]);
    expect(bob.client.history(orgId, "general").map((m) => m.text)).toEqual(["m1", "m2"]);
    expect(bob.client.getOrganization(orgId).members.has(alice.client.memberId)).toBe(false);
  });

  it("secrets are sealed with the passphrase; a wrong one opens nothing", async () => {
    world = new World();
    const owner = await world.peer("owner", { passphrase: "correct horse" });
    const orgId = await owner.client.createOrganization({ name: "Sealed" });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    const alice = await world.peer("alice", { passphrase: "alice pass" });
    await alice.client.discover(orgId);
    const requestId = await alice.client.requestToJoin(orgId);
    await world.settle();
    await owner.client.acceptRequest(orgId, requestId);
    await world.settle();
    const sealed = await alice.store.getOrThrow(`org/${orgId}`, "group/");
    expect(() => MemberGroup.deserialize(defaultProvider(), sealed)).toThrow();
    await world.stop(alice);
    await expect(world.resume(alice, { passphrase: "wrong" })).rejects.toSatisfy(
      isWrongPassphraseError,
    );
    await world.resume(alice, { passphrase: "alice pass" });
    await owner.client.sendMessage(orgId, "general", "sealed hello");
    await world.settle();
    expect(received(alice)).toEqual(["sealed hello"]);
  });
});
