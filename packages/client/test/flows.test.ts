import { isUnknownEpochError, type MemberGroup } from "@orgchat/crypto";
import { channelTopic } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { isChannelAccessError, isNotOwnerError } from "../src/index.js";
import { storedGroups } from "../src/inspect.js";
import { names, orgWithMembers, type Peer, received, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

function pair(members: Peer[]): [Peer, Peer] {
  return [members[0] as Peer, members[1] as Peer];
}

/** Every payload ever published on a channel topic, from the network's history. */
async function channelHistory(peer: Peer, orgId: string, channelId: string): Promise<Uint8Array[]> {
  const page = await peer.transport.queryHistory({
    contentTopics: [channelTopic(Buffer.from(orgId, "hex"), channelId)],
    direction: "forward",
    pageSize: 100,
  });
  return page.messages.map((m) => m.payload);
}

/** The member's own org group state, read back from its store (unsealed: no passphrase). */
async function storedGroup(peer: Peer, orgId: string, channelId = ""): Promise<MemberGroup> {
  const group = (await storedGroups(peer.store, orgId, "member")).get(channelId);
  if (group === undefined) throw new Error(`${peer.name}: no group ${channelId} stored`);
  return group;
}

describe("spec 55 flows on the memory transport", () => {
  it("create: the owner's organization is found from its public key alone", async () => {
    world = new World();
    const owner = await world.peer("owner");
    const orgId = await owner.client.createOrganization({
      name: "Acme",
      description: "widgets",
      tags: ["tools"],
    });
    await owner.client.createCategory(orgId, "main", "Main");
    await owner.client.createChannel(orgId, { id: "general", name: "General", categoryId: "main" });
    await owner.client.editIdentity(orgId, { description: "better widgets" });
    expect(owner.client.getOrganization(orgId).role).toBe("owner");
    const observer = await world.peer("observer");
    const view = await observer.client.discover(orgId);
    expect(view.identity.description).toBe("better widgets");
    expect(view.tags).toEqual(["tools"]);
    expect(view.categories.get("main")).toBe("Main");
    expect(view.channels.map((c) => [c.id, c.categoryId])).toEqual([["general", "main"]]);
    expect(view.members.has(orgId)).toBe(true);
    expect(names(observer.events, ["org:discovered"])).toEqual(["org:discovered"]);
  });

  it("join by request, rejected: the reason reaches the requester", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, []);
    const mallory = await world.peer("mallory");
    await mallory.client.discover(orgId);
    const requestId = await mallory.client.requestToJoin(orgId, { displayName: "Mallory" });
    await world.settle();
    await owner.client.rejectRequest(orgId, requestId, "not today");
    await world.settle();
    const rejected = mallory.events.find(([name]) => name === "request:rejected");
    expect(rejected?.[1]).toMatchObject({ requestId, reason: "not today" });
    const view = mallory.client.getOrganization(orgId);
    expect(view.role).toBe("observer");
    expect(view.request).toEqual({ id: requestId, status: "rejected", reason: "not today" });
    expect(owner.client.listRequests(orgId)[0]?.status).toBe("rejected");
    expect(owner.client.getOrganization(orgId).members.has(mallory.client.memberId)).toBe(false);
  });

  it("cancel: a pending request is withdrawn and can no longer be accepted", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, []);
    const alice = await world.peer("alice");
    await alice.client.discover(orgId);
    const requestId = await alice.client.requestToJoin(orgId);
    await world.settle();
    await alice.client.cancelRequest(orgId);
    await world.settle();
    expect(names(owner.events, ["request:received", "request:cancelled"])).toEqual([
      "request:received",
      "request:cancelled",
    ]);
    expect(owner.client.listRequests(orgId)[0]?.status).toBe("cancelled");
    await expect(owner.client.acceptRequest(orgId, requestId)).rejects.toMatchObject({
      name: "EventRejectedError",
      reason: "conflict",
    });
  });

  it("join by invitation: the invitee answers the owner-signed invitation and is in at once", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, [], { access: "invitation-only" });
    const alice = await world.peer("alice");
    await owner.client.invite(orgId, alice.client.memberId);
    await world.settle();
    expect(names(alice.events, ["invitation:received"])).toEqual(["invitation:received"]);
    await alice.client.acceptInvitation(orgId, { displayName: "Alice" });
    await world.settle();
    expect(alice.client.getOrganization(orgId).role).toBe("member");
    expect(owner.client.getOrganization(orgId).members.has(alice.client.memberId)).toBe(true);
    await owner.client.sendMessage(orgId, "general", "hello invitee");
    await world.settle();
    expect(received(alice)).toEqual(["hello invitee"]);
  });

  it("leave: the member leaves, the owner re-keys without it", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = pair(members);
    await alice.client.leave(orgId);
    await world.settle();
    expect(names(owner.events, ["member:left"])).toEqual(["member:left"]);
    expect(owner.client.getOrganization(orgId).members.has(alice.client.memberId)).toBe(false);
    expect(bob.client.getOrganization(orgId).members.has(alice.client.memberId)).toBe(false);
    await owner.client.sendMessage(orgId, "general", "after alice left");
    await world.settle();
    expect(received(bob)).toEqual(["after alice left"]);
    expect(received(alice)).toEqual([]);
    await expect(alice.client.sendMessage(orgId, "general", "x")).rejects.toMatchObject({
      name: "NotMemberError",
    });
  });

  it("remove: the removed member reads nothing sent after the re-key", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = pair(members);
    await owner.client.sendMessage(orgId, "general", "before");
    await world.settle();
    await owner.client.removeMember(orgId, alice.client.memberId);
    await world.settle();
    await owner.client.sendMessage(orgId, "general", "after");
    await bob.client.sendMessage(orgId, "general", "bob after");
    await world.settle();
    expect(received(bob)).toEqual(["before", "after"]);
    expect(received(alice)).toEqual(["before"]);
    expect(alice.client.getOrganization(orgId).role).toBe("observer");
    expect(names(alice.events, ["member:removed"])).toContain("member:removed");
  });

  it("ban with re-key: the banned member's keys open nothing sent after it", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = pair(members);
    await alice.client.sendMessage(orgId, "general", "spam");
    await world.settle();
    const before = new Set(
      (await channelHistory(owner, orgId, "general")).map((b) => Buffer.from(b).toString("hex")),
    );
    await owner.client.banMember(orgId, alice.client.memberId, { deleteMessages: true });
    await world.settle();
    await owner.client.sendMessage(orgId, "general", "secret 1");
    await bob.client.sendMessage(orgId, "general", "secret 2");
    await world.settle();
    expect(received(bob)).toEqual(["spam", "secret 1"]);
    expect(bob.client.getOrganization(orgId).banned).toEqual([alice.client.memberId]);
    expect(owner.client.history(orgId, "general")[0]).toMatchObject({ text: "", deleted: true });
    // Feed the banned member's stored keys every ciphertext sent after the ban.
    // History order is by timestamp (all equal under the fake clock), so compare contents.
    const later = (await channelHistory(owner, orgId, "general")).filter(
      (b) => !before.has(Buffer.from(b).toString("hex")),
    );
    expect(later).toHaveLength(2);
    const keys = await storedGroup(alice, orgId);
    for (const bytes of later) {
      let error: unknown;
      try {
        keys.decrypt(bytes, world.time.now());
      } catch (caught) {
        error = caught;
      }
      expect(isUnknownEpochError(error)).toBe(true);
    }
    expect(received(alice)).toEqual([]);
  });

  it("unban: a banned key may request again and be accepted", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
    const [alice] = members as [Peer];
    await owner.client.banMember(orgId, alice.client.memberId);
    await world.settle();
    await owner.client.unbanMember(orgId, alice.client.memberId);
    await world.settle();
    expect(names(alice.events, ["member:banned", "member:unbanned"])).toEqual([
      "member:banned",
      "member:unbanned",
    ]);
    const requestId = await alice.client.requestToJoin(orgId, { displayName: "Alice again" });
    await world.settle();
    await owner.client.acceptRequest(orgId, requestId);
    await world.settle();
    await owner.client.sendMessage(orgId, "general", "welcome back");
    await world.settle();
    expect(received(alice)).toEqual(["welcome back"]);
  });

  it("channels with restricted access: only the roster and grant holders read them", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = pair(members);
    await owner.client.createChannel(orgId, {
      id: "board",
      name: "Board",
      access: "on-request",
      private: true,
    });
    await owner.client.setChannelMembers(orgId, "board", { [alice.client.memberId]: [] });
    await world.settle();
    expect(
      alice.client.getOrganization(orgId).channels.find((c) => c.id === "board"),
    ).toMatchObject({
      restricted: true,
      canPost: true,
      members: [alice.client.memberId],
    });
    // Every member sees the roster (the page lists who reads a restricted channel).
    expect(bob.client.getOrganization(orgId).channels.find((c) => c.id === "board")).toMatchObject({
      canPost: false,
      members: [alice.client.memberId],
    });
    await owner.client.sendMessage(orgId, "board", "board only");
    await alice.client.sendMessage(orgId, "board", "alice on board");
    await world.settle();
    expect(received(alice)).toEqual(["board only"]);
    expect(received(bob)).toEqual([]);
    await expect(bob.client.sendMessage(orgId, "board", "let me in")).rejects.toSatisfy(
      isChannelAccessError,
    );
    await owner.client.issueGrant(orgId, bob.client.memberId, "board");
    await world.settle();
    await owner.client.sendMessage(orgId, "board", "bob granted");
    await world.settle();
    expect(received(bob)).toEqual(["bob granted"]);
    await owner.client.revokeGrant(orgId, bob.client.memberId, "board");
    await world.settle();
    await owner.client.sendMessage(orgId, "board", "bob revoked");
    await world.settle();
    expect(received(bob)).toEqual(["bob granted"]);
    expect(received(alice)).toEqual(["board only", "bob granted", "bob revoked"]);
  });

  it("roles: an admin holds requests (a plain member does not); an admin moderates content", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = pair(members);
    await owner.client.setRoles(orgId, alice.client.memberId, ["all"]);
    await world.settle();
    expect(bob.client.getOrganization(orgId).members.get(alice.client.memberId)).toEqual(["all"]);
    const carol = await world.peer("carol");
    await carol.client.discover(orgId);
    const requestId = await carol.client.requestToJoin(orgId);
    await world.settle();
    // Delegated management (issue #17): the request reached the admin too; a plain member holds
    // no desk and still gets NotOwnerError.
    expect(alice.client.listRequests(orgId).map((r) => r.id)).toEqual([requestId]);
    await expect(bob.client.acceptRequest(orgId, requestId)).rejects.toSatisfy(isNotOwnerError);
    const message = await bob.client.sendMessage(orgId, "general", "off topic");
    await world.settle();
    await alice.client.deleteMessage(orgId, message.id);
    await world.settle();
    expect(owner.client.history(orgId, "general")[0]).toMatchObject({ deleted: true });
    expect(names(bob.events, ["message:deleted"])).toEqual(["message:deleted"]);
  });

  it("public organization: messages are signed in clear and readable by non-members", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"], {
      encrypted: false,
      access: "no-membership",
    });
    const [alice] = members as [Peer];
    expect(alice.client.getOrganization(orgId).role).toBe("member");
    const reader = await world.peer("reader");
    await reader.client.discover(orgId);
    await alice.client.sendMessage(orgId, "general", "hello world");
    await world.settle();
    expect(received(owner)).toEqual(["hello world"]);
    expect(received(reader)).toEqual(["hello world"]);
    const wire = await channelHistory(owner, orgId, "general");
    expect(Buffer.from(wire[0] as Uint8Array).includes("hello world")).toBe(true);
  });

  it("encrypted organization: nothing readable on the wire, non-members read nothing", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
    const [alice] = members as [Peer];
    const reader = await world.peer("reader");
    await reader.client.discover(orgId);
    await alice.client.sendMessage(orgId, "general", "top secret");
    await world.settle();
    expect(received(owner)).toEqual(["top secret"]);
    expect(received(reader)).toEqual([]);
    const wire = await channelHistory(owner, orgId, "general");
    expect(Buffer.from(wire[0] as Uint8Array).includes("top secret")).toBe(false);
  });

  it("switch public → encrypted: every member is welcomed into the first epoch", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"], {
      encrypted: false,
    });
    const [alice, bob] = pair(members);
    await alice.client.sendMessage(orgId, "general", "in clear");
    await world.settle();
    await owner.client.setEncrypted(orgId, true);
    await world.settle();
    expect(names(alice.events, ["epoch:changed"])).toEqual(["epoch:changed"]);
    expect(bob.client.getOrganization(orgId).encrypted).toBe(true);
    await alice.client.sendMessage(orgId, "general", "now encrypted");
    await world.settle();
    expect(received(bob)).toEqual(["in clear", "now encrypted"]);
    expect(received(owner)).toEqual(["in clear", "now encrypted"]);
    const wire = await channelHistory(owner, orgId, "general");
    expect(wire).toHaveLength(2);
    expect(wire.some((b) => Buffer.from(b).includes("in clear"))).toBe(true);
    expect(wire.some((b) => Buffer.from(b).includes("now encrypted"))).toBe(false);
  });

  it("edit and pin: authors edit their messages, members see pins", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
    const [alice] = members as [Peer];
    const sent = await alice.client.sendMessage(orgId, "general", "typo");
    await world.settle();
    await alice.client.editMessage(orgId, sent.id, "fixed");
    await owner.client.pinMessage(orgId, sent.id);
    await world.settle();
    expect(owner.client.history(orgId, "general")[0]).toMatchObject({
      text: "fixed",
      edited: true,
      pinned: true,
    });
    expect(names(owner.events, ["message:edited"])).toEqual(["message:edited"]);
    expect(names(alice.events, ["message:pinned"])).toEqual(["message:pinned"]);
  });
});
