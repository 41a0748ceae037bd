import { afterEach, describe, expect, it } from "vitest";
import { orgWithMembers, received, World } from "./helpers.ts";

const hour = 60 * 60 * 1000;

describe("periodic refresh (forward secrecy without membership changes)", () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("re-keys once refreshIntervalMs has passed, and not before; members follow and keep reading", async () => {
    world = new World({ republishIntervalMs: 10 * 60 * 1000, refreshIntervalMs: 3 * hour });
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = members as [(typeof members)[0], (typeof members)[0]];
    const start = owner.client.getOrganization(orgId).epoch ?? 0n;
    expect(alice.client.getOrganization(orgId).epoch).toBe(start);

    // Well inside the interval: the republish ticks run, the epoch stays.
    for (let i = 0; i < 12; i++) await world.advance(10 * 60 * 1000); // 2 h
    expect(owner.client.getOrganization(orgId).epoch).toBe(start);

    // Past it: one fresh epoch, distributed by a KeyUpdate to both members.
    for (let i = 0; i < 8; i++) await world.advance(10 * 60 * 1000); // 3 h 20 min in all
    const refreshed = owner.client.getOrganization(orgId).epoch ?? 0n;
    expect(refreshed).toBeGreaterThan(start);
    expect(alice.client.getOrganization(orgId).epoch).toBe(refreshed);
    expect(bob.client.getOrganization(orgId).epoch).toBe(refreshed);

    await alice.client.sendMessage(orgId, "general", "after the refresh");
    await world.settle();
    expect(received(bob, orgId)).toContain("after the refresh");
    expect(received(owner, orgId)).toContain("after the refresh");
  });
});
