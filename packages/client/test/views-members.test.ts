import { describe, expect, it, onTestFinished } from "vitest";
import { orgWithMembers, type Peer, World } from "./helpers.js";

// The organization view's `members` (views.ts): built once per state of the members map and copied
// for each view; role arrays shared and frozen.

describe("organization view: members", () => {
  it("each view has its own map; a changed member shows in the next view, not in an earlier one", async () => {
    const world = new World();
    onTestFinished(() => world.close());
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = members as [Peer, Peer];
    const first = owner.client.getOrganization(orgId).members;
    const second = owner.client.getOrganization(orgId).members;
    expect(second).not.toBe(first);
    expect(second).toEqual(first);
    // A caller writing into its view (past the readonly type) changes no later view.
    for (const view of [first, second]) {
      (view as Map<string, readonly string[]>).delete(alice.client.memberId);
    }
    expect(owner.client.getOrganization(orgId).members.has(alice.client.memberId)).toBe(true);
    const roles = owner.client.getOrganization(orgId).members.get(bob.client.memberId);
    expect(Object.isFrozen(roles)).toBe(true);

    await owner.client.setRoles(orgId, alice.client.memberId, ["all"]);
    await world.settle();
    expect(owner.client.getOrganization(orgId).members.get(alice.client.memberId)).toEqual(["all"]);
    expect(first.has(alice.client.memberId)).toBe(false);
    expect(owner.client.getOrganization(orgId).members.get(bob.client.memberId)).toEqual([]);
  });
});

describe("organization view: member names", () => {
  it("every member sees the names the owner admitted (by request and by invitation), also after a restart", async () => {
    const world = new World();
    onTestFinished(() => world.close());
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = members as [Peer, Peer];
    const carol = await world.peer("carol");
    await owner.client.invite(orgId, carol.client.memberId);
    await world.settle();
    await carol.client.acceptInvitation(orgId, { displayName: "Carol \u202e" });
    await world.settle();
    const expected = new Map([
      [alice.client.memberId, "alice"],
      [bob.client.memberId, "bob"],
      [carol.client.memberId, "Carol \u202e"],
    ]);
    for (const peer of [owner, alice, bob, carol]) {
      expect(peer.client.getOrganization(orgId).memberNames, peer.name).toEqual(expected);
    }
    // A view's map is its own.
    (alice.client.getOrganization(orgId).memberNames as Map<string, string>).clear();
    expect(alice.client.getOrganization(orgId).memberNames.size).toBe(3);

    // Names are in the state's snapshot and the description a restarted owner publishes.
    await world.restart(owner);
    await world.restart(bob);
    await owner.client.removeMember(orgId, alice.client.memberId);
    await world.settle();
    expected.delete(alice.client.memberId);
    for (const peer of [owner, bob, carol]) {
      expect(peer.client.getOrganization(orgId).memberNames, peer.name).toEqual(expected);
    }
  });
});
