import { afterEach, describe, expect, it } from "vitest";
import { faulty } from "./faulty-store.js";
import { type Peer, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

describe("an owner commit that failed while it recorded a new epoch's roster", () => {
  it("a later epoch's roster record does not build on the record that was never stored; a restart loads", async () => {
    world = new World();
    const disk = faulty();
    const owner = await world.peer("owner", { store: disk.store });
    const orgId = await owner.client.createOrganization({
      name: "Acme",
      access: "on-request",
      encrypted: true,
    });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    await world.settle();
    const join = async (peer: Peer, fail: boolean) => {
      await peer.client.discover(orgId);
      const requestId = await peer.client.requestToJoin(orgId, { displayName: peer.name });
      await world.settle();
      if (fail) disk.failNextBatch();
      await owner.client.acceptRequest(orgId, requestId).catch(() => undefined);
      await world.settle();
    };
    await join(await world.peer("alice"), false);
    await join(await world.peer("bob"), true);
    await join(await world.peer("carol"), false);
    await join(await world.peer("dave"), false);
    await world.stop(owner);
    const again = await world.peer("owner-again", { store: disk.inner });
    // Before the fix: StoreCorruptedError (a delta record whose base the store never got).
    expect(again.client.getOrganization(orgId).members.size).toBeGreaterThanOrEqual(4);
    const eve = await world.peer("eve");
    await eve.client.discover(orgId);
    const requestId = await eve.client.requestToJoin(orgId, { displayName: "eve" });
    await world.settle();
    await again.client.acceptRequest(orgId, requestId);
    await world.settle();
    await again.client.sendMessage(orgId, "general", "after the restart");
    await world.settle();
    expect(eve.client.history(orgId, "general").map((m) => m.text)).toEqual(["after the restart"]);
  });
});
