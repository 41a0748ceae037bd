import { defaultProvider, ed25519EnvelopeSigner } from "@orgchat/crypto";
import { invitationToWire } from "@orgchat/state/wire";
import { inboxTopic, publicKeyFromMemberId, sealEnvelope } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { fromHex, toHex } from "../src/encoding.js";
import { isEventRejectedError, isNotOwnerError, isUnknownTargetError } from "../src/errors.js";
import { names, orgWithMembers, type Peer, received, World } from "./helpers.js";

// Invitations by a delegate (docs/DELEGATION.md, "Invitations by a delegate").

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Owner, alice given `roles`, carol a plain member; then the owner's client is closed. */
async function ownerAway(
  access: "on-request" | "invitation-only",
  roles: ["all"] | ["manage-users"] = ["all"],
) {
  const w = new World();
  world = w;
  const { owner, members, orgId } = await orgWithMembers(w, [], { access });
  const alice = await w.peer("alice");
  const carol = await w.peer("carol");
  for (const peer of [alice, carol]) {
    await peer.client.discover(orgId);
    await w.settle();
    await owner.client.invite(orgId, peer.client.memberId);
    await w.settle();
    await peer.client.acceptInvitation(orgId, { displayName: peer.name });
    await w.settle();
    members.push(peer);
  }
  await owner.client.setRoles(orgId, alice.client.memberId, roles);
  await w.settle();
  await w.stop(owner);
  w.peers.splice(w.peers.indexOf(owner), 1);
  // What the tests look at starts here (alice's and carol's own joins are not counted).
  alice.events.length = 0;
  carol.events.length = 0;
  return { w, owner, alice, carol, orgId };
}

/** `inviter` invites a new peer, bob, who accepts; bob is a member once everything settled. */
async function invitedMember(w: World, inviter: Peer, orgId: string): Promise<Peer> {
  const bob = await w.peer("bob");
  await inviter.client.invite(orgId, bob.client.memberId);
  await w.settle();
  await bob.client.acceptInvitation(orgId);
  await w.settle();
  expect(bob.client.getOrganization(orgId).role).toBe("member");
  return bob;
}

/** An invitation naming `orgId`, signed by a key of its own (a stranger's), into `to`'s inbox. */
async function forgedInvitation(w: World, orgId: string, to: string): Promise<void> {
  const provider = defaultProvider();
  const stranger = provider.ed25519KeyPair();
  const topic = inboxTopic(publicKeyFromMemberId(to));
  const event = {
    id: "",
    type: "invitation.issued" as const,
    author: toHex(stranger.publicKey),
    clock: 1_000n,
    sentAt: w.time.now(),
    body: { invitee: to, chatId: "" },
  };
  const bytes = await sealEnvelope(
    {
      type: "organization-invitation",
      organizationId: fromHex(orgId),
      clock: event.clock,
      contentTopic: topic,
      message: invitationToWire(event, { organizationId: orgId }),
    },
    ed25519EnvelopeSigner(provider, stranger.secretKey),
  );
  const transport = w.network.transport({ name: "mallory" });
  await transport.start();
  await transport.publish(topic, bytes);
}

describe("a delegate invites with the owner offline", () => {
  for (const access of ["invitation-only", "on-request"] as const) {
    it(`${access}: alice (admin) invites bob; bob accepts, gets the keys from alice and reads her next message; carol reads bob's`, async () => {
      const { w, alice, carol, orgId } = await ownerAway(access);
      const bob = await w.peer("bob");
      const invitationId = await alice.client.invite(orgId, bob.client.memberId);
      await w.settle();
      expect(bob.client.listInvitations()).toEqual([
        expect.objectContaining({ organizationId: orgId, invitationId }),
      ]);
      await bob.client.acceptInvitation(orgId, { displayName: "bob" });
      await w.settle();
      expect(names(bob.events, ["request:accepted", "epoch:changed"])).toEqual([
        "request:accepted",
        "epoch:changed",
      ]);
      expect(names(alice.events, ["request:accepted"])).toEqual(["request:accepted"]);
      const view = bob.client.getOrganization(orgId);
      expect(view.role).toBe("member");
      expect(view.members.has(bob.client.memberId)).toBe(true);
      expect(bob.client.listInvitations()).toEqual([]);
      await alice.client.sendMessage(orgId, "general", "welcome bob");
      await w.settle();
      expect(received(bob, orgId)).toEqual(["welcome bob"]);
      expect(received(carol, orgId)).toContain("welcome bob");
      await bob.client.sendMessage(orgId, "general", "hi all");
      await w.settle();
      expect(received(carol, orgId)).toContain("hi all");
      expect(received(alice, orgId)).toContain("hi all");
    });
  }

  it("the owner, back online, does not answer the invitee of a delegate (its request went to the delegate alone)", async () => {
    const { w, owner, alice, orgId } = await ownerAway("invitation-only");
    const bob = await invitedMember(w, alice, orgId);
    await w.resume(owner);
    w.peers.push(owner);
    await w.settle();
    expect(names(bob.events, ["request:rejected"])).toEqual([]);
    expect(bob.client.getOrganization(orgId).role).toBe("member");
    await alice.client.sendMessage(orgId, "general", "after the owner's return");
    await w.settle();
    expect(received(bob, orgId)).toContain("after the owner's return");
  });

  it("a delegate's pending invitation survives the invitee's restart (read from its store: its transport reads no history)", async () => {
    const { w, alice, orgId } = await ownerAway("invitation-only");
    const bob = await w.peer("bob", { history: false });
    const invitationId = await alice.client.invite(orgId, bob.client.memberId);
    await w.settle();
    await w.restart(bob);
    expect(bob.client.listInvitations().map((i) => [i.organizationId, i.invitationId])).toEqual([
      [orgId, invitationId],
    ]);
  });

  it("a manager invites too; a plain member cannot (its client says it is no desk)", async () => {
    const { w, alice, carol, orgId } = await ownerAway("invitation-only", ["manage-users"]);
    await invitedMember(w, alice, orgId);
    const dave = await w.peer("dave");
    await expect(carol.client.invite(orgId, dave.client.memberId)).rejects.toSatisfy(
      isNotOwnerError,
    );
  });

  it("a delegate cannot invite a member, nor into a channel (the state's rules)", async () => {
    const { w, alice, carol, orgId } = await ownerAway("invitation-only");
    await expect(alice.client.invite(orgId, carol.client.memberId)).rejects.toSatisfy(
      isEventRejectedError,
    );
    const bob = await w.peer("bob");
    await expect(
      alice.client.invite(orgId, bob.client.memberId, { chatId: "general" }),
    ).rejects.toSatisfy(isEventRejectedError);
  });

  it("a stranger's invitation naming the organization is listed, but accepting it admits nobody", async () => {
    const { w, alice, orgId } = await ownerAway("invitation-only");
    const bob = await w.peer("bob");
    await forgedInvitation(w, orgId, bob.client.memberId);
    await w.settle();
    expect(bob.client.listInvitations()).toHaveLength(1);
    await expect(bob.client.acceptInvitation(orgId)).rejects.toSatisfy(isUnknownTargetError);
    await w.settle();
    expect(names(alice.events, ["request:accepted", "request:received"])).toEqual([]);
    expect(bob.client.getOrganization(orgId).role).not.toBe("member");
    expect(alice.client.getOrganization(orgId).members.has(bob.client.memberId)).toBe(false);
  });

  it("a stranger's invitation does not replace a pending one from a delegate of a known organization, nor the owner's", async () => {
    const { w, alice, orgId } = await ownerAway("invitation-only");
    const bob = await w.peer("bob");
    const diagnostics: string[] = [];
    bob.client.on("diagnostic", (d) => diagnostics.push(d.reason));
    await bob.client.discover(orgId);
    await w.settle();
    const invitationId = await alice.client.invite(orgId, bob.client.memberId);
    await w.settle();
    await forgedInvitation(w, orgId, bob.client.memberId);
    await w.settle();
    expect(bob.client.listInvitations().map((i) => i.invitationId)).toEqual([invitationId]);
    expect(diagnostics).toContain("not-a-delegate");
    await bob.client.acceptInvitation(orgId);
    await w.settle();
    expect(bob.client.getOrganization(orgId).role).toBe("member");
  });
});
