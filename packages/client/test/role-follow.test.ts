/**
 * What a member's state says about it decides its role (`DescriptionSync.followRole`, issue #17):
 * a member a description dropped is a member again when listed again, but a member that left stays
 * an observer while its state still lists it (its leave not resolved by the owner yet).
 */
import { afterEach, describe, expect, it } from "vitest";
import { orgWithMembers, type Peer, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

describe("followRole", () => {
  it("a leaver stays an observer when a description still lists it (its leave not read)", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [, bob] = members as [Peer, Peer];
    await world.stop(owner);
    await bob.client.leave(orgId);
    await world.settle();
    expect(bob.client.getOrganization(orgId).role).toBe("observer");
    // The owner comes back live only (no history): it never reads bob's leave, and its next
    // description still lists him.
    owner.transport = world.network.transport({ name: "owner-live", history: false });
    await world.resume(owner);
    await owner.client.setTags(orgId, ["later"]);
    await world.settle();
    const view = bob.client.getOrganization(orgId);
    expect(view.tags).toEqual(["later"]);
    expect(view.members.has(bob.client.memberId)).toBe(true);
    expect(view.role).toBe("observer");
  });
});
