/**
 * A delegate's Welcome lost on the network (docs/PROTOCOL.md, "Requests asked again"): alice (an
 * admin) accepted bob and added him, the owner is offline, and every message alice sent into bob's
 * inbox was lost. Bob's re-ask (`Membership.askAgain`) gets alice's decision and her Welcome again
 * (the same sealed bytes: `kept-welcomes.ts`, stored), and he reads her next message, also after
 * alice restarted. A requester alice did not decide costs her nothing. An invitee whose answer and
 * Welcome were lost gets them again from the desk that invited it (alice, or the owner).
 */
import type { MemoryTransport } from "@orgchat/transport";
import { inboxTopic, publicKeyFromMemberId } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { adminWithOwnerAway, asks, orgWithMembers, type Peer, received, World } from "./helpers.js";

/** The periodic tick; a re-ask goes out one to two ticks after the request, then on a back-off. */
const tickMs = 60_000;

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Counts what `transport` publishes on `topic`, and drops it while `drop()` says so. */
function watch(transport: MemoryTransport, topic: string) {
  const publish = transport.publish.bind(transport);
  const seen = { published: 0, dropped: 0, drop: false };
  transport.publish = async (contentTopic, payload, options) => {
    if (contentTopic !== topic) return publish(contentTopic, payload, options);
    seen.published++;
    if (!seen.drop) return publish(contentTopic, payload, options);
    seen.dropped++;
    return publish(`/dropped/1/${seen.dropped}/proto`, payload, options);
  };
  return seen;
}

const inboxOf = (peer: Peer) => inboxTopic(publicKeyFromMemberId(peer.client.memberId));

/** Owner, alice made admin, carol and dave plain members; then the owner's client is stopped. */
async function ownerAway() {
  const w = new World({ republishIntervalMs: tickMs });
  world = w;
  const { members, orgId } = await adminWithOwnerAway(w, ["alice", "carol", "dave"]);
  const [alice, carol, dave] = members as [Peer, Peer, Peer];
  return { w, alice, carol, dave, orgId };
}

/** Alice accepts `bob`'s request while everything she sends into his inbox is lost. */
async function acceptLost(w: World, alice: Peer, bob: Peer, orgId: string, requestId: string) {
  const toBob = watch(alice.transport, inboxOf(bob));
  toBob.drop = true;
  await alice.client.acceptRequest(orgId, requestId);
  await w.settle();
  toBob.drop = false;
  return toBob;
}

/** `inviter` invites a new peer, bob, who accepts while everything `inviter` sends him is lost. */
async function invitationLost(w: World, inviter: Peer, orgId: string) {
  const bob = await w.peer("bob");
  await inviter.client.invite(orgId, bob.client.memberId);
  await w.settle();
  const toBob = watch(inviter.transport, inboxOf(bob));
  toBob.drop = true;
  await bob.client.acceptInvitation(orgId, { displayName: "bob" });
  await w.settle();
  toBob.drop = false;
  expect(toBob.dropped).toBeGreaterThan(0);
  return bob;
}

/** Ticks pass (bob asks again); then bob holds `desk`'s epoch and reads its message, as carol does. */
async function invitedReads(w: World, desk: Peer, bob: Peer, carol: Peer, orgId: string) {
  for (let tick = 0; tick < 6; tick++) await w.advance(tickMs);
  expect(bob.client.getOrganization(orgId).role).toBe("member");
  expect(bob.client.getOrganization(orgId).epoch).toBe(desk.client.getOrganization(orgId).epoch);
  await desk.client.sendMessage(orgId, "general", "welcome invitee");
  await w.settle();
  expect(received(bob, orgId)).toContain("welcome invitee");
  expect(received(carol, orgId)).toContain("welcome invitee");
}

describe("a delegate's Welcome lost on the network", () => {
  it("the joiner's re-ask brings it again from the delegate, with the owner offline; a stranger's re-asks cost nothing", async () => {
    const { w, alice, carol, orgId } = await ownerAway();

    const { bob, requestId } = await asks(w, orgId, "bob");
    const { bob: erin } = await asks(w, orgId, "erin");
    const toErin = watch(alice.transport, inboxOf(erin));
    // Alice accepts bob: her answer and her Welcome never reach him.
    const toBob = await acceptLost(w, alice, bob, orgId, requestId);
    expect(toBob.dropped).toBe(2);
    expect(bob.client.getOrganization(orgId).role).toBe("requester");
    expect(alice.client.getOrganization(orgId).members.has(bob.client.memberId)).toBe(true);

    // Time passes: bob asks again (to the owner, offline, and to alice); erin too, on the same
    // back-off, but alice decided nothing for her.
    for (let tick = 0; tick < 4; tick++) await w.advance(tickMs);
    expect(bob.client.getOrganization(orgId).role).toBe("member");
    expect(bob.client.getOrganization(orgId).epoch).toBe(alice.client.getOrganization(orgId).epoch);
    await alice.client.sendMessage(orgId, "general", "welcome bob");
    await w.settle();
    expect(received(bob, orgId)).toContain("welcome bob");
    expect(received(carol, orgId)).toContain("welcome bob");
    // One answer again (the decision and the Welcome), then nothing: bob holds his keys.
    expect(toBob.published).toBe(4);
    expect(toErin.published).toBe(0);
    expect(erin.client.getOrganization(orgId).role).toBe("requester");
  });

  it("the group moved on meanwhile (alice banned dave): bob enters the epoch he was added in and follows her KeyUpdate", async () => {
    const { w, alice, carol, dave, orgId } = await ownerAway();
    const { bob, requestId } = await asks(w, orgId, "bob");
    await acceptLost(w, alice, bob, orgId, requestId);
    const added = alice.client.getOrganization(orgId).epoch ?? 0n;
    await alice.client.banMember(orgId, dave.client.memberId);
    await w.settle();
    expect(alice.client.getOrganization(orgId).epoch).toBe(added + 1n);

    for (let tick = 0; tick < 4; tick++) await w.advance(tickMs);
    expect(bob.client.getOrganization(orgId).epoch).toBe(added + 1n);
    await alice.client.sendMessage(orgId, "general", "after the ban");
    await w.settle();
    expect(received(bob, orgId)).toContain("after the ban");
    expect(received(carol, orgId)).toContain("after the ban");
    expect(received(dave, orgId)).not.toContain("after the ban");
  });

  it("an invitee of alice's: her answer and Welcome lost, the invitee's re-ask brings them again", async () => {
    const { w, alice, carol, orgId } = await ownerAway();
    const bob = await invitationLost(w, alice, orgId);
    expect(bob.client.getOrganization(orgId).role).toBe("requester");
    expect(alice.client.getOrganization(orgId).members.has(bob.client.memberId)).toBe(true);
    await invitedReads(w, alice, bob, carol, orgId);
  });

  it("an invitee of the owner's (online): its answer and Welcome lost, the re-ask brings them again", async () => {
    const w = new World({ republishIntervalMs: tickMs });
    world = w;
    const { owner, members, orgId } = await orgWithMembers(w, ["carol"]);
    const bob = await invitationLost(w, owner, orgId);
    // The owner's description says bob is a member; his keys were in the lost messages.
    expect(bob.client.getOrganization(orgId).epoch).toBeUndefined();
    await invitedReads(w, owner, bob, members[0] as Peer, orgId);
  });

  it("alice restarted in between (a CLI command that ran and stopped): her stored copy answers", async () => {
    const { w, alice, orgId } = await ownerAway();
    const { bob, requestId } = await asks(w, orgId, "bob");
    await acceptLost(w, alice, bob, orgId, requestId);
    expect(await alice.store.keys(`org/${orgId}`, { prefix: "kept-welcome/" })).toEqual([
      `kept-welcome/${bob.client.memberId}`,
    ]);
    await w.restart(alice);

    for (let tick = 0; tick < 4; tick++) await w.advance(tickMs);
    expect(bob.client.getOrganization(orgId).epoch).toBe(alice.client.getOrganization(orgId).epoch);
    await alice.client.sendMessage(orgId, "general", "after my restart");
    await w.settle();
    expect(received(bob, orgId)).toContain("after my restart");
  });
});
