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
