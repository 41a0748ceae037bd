import { afterEach, describe, expect, it } from "vitest";
import { defaultClientConfig, isLeaveNotResolvedError } from "../src/index.js";
import { names, orgWithMembers, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

describe("rejoin after leave (docs/CLIENT.md, 'Rejoin after leave')", () => {
  it("a member who asks again before seeing its leave resolved becomes a member again", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
    const alice = members[0] as (typeof members)[0];
    alice.events.length = 0;
    owner.events.length = 0;

    // No settle in between: alice's view still lists her when she asks again.
    await alice.client.leave(orgId);
    const rejoin = alice.client.requestToJoin(orgId, { displayName: "Alice again" });
    await world.settle();
    const requestId = await rejoin;

    expect(names(owner.events, ["member:left", "request:received"])).toEqual([
      "member:left",
      "request:received",
    ]);
    const pending = owner.client.listRequests(orgId).filter((r) => r.status === "pending");
    expect(pending.map((r) => r.id)).toEqual([requestId]);
    await owner.client.acceptRequest(orgId, requestId);
    await world.settle();

    expect(names(alice.events, ["member:left", "request:accepted", "request:rejected"])).toEqual([
      "member:left",
      "request:accepted",
    ]);
    const view = alice.client.getOrganization(orgId);
    expect(view.role).toBe("member");
    expect(view.members.has(alice.client.memberId)).toBe(true);
    expect(owner.client.getOrganization(orgId).members.has(alice.client.memberId)).toBe(true);
  });

  it("fails with LeaveNotResolvedError, sending nothing, when the owner stays offline", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
    const alice = members[0] as (typeof members)[0];
    await world.stop(owner);

    await alice.client.leave(orgId);
    const outcome = alice.client.requestToJoin(orgId).then(
      () => undefined,
      (error: unknown) => error,
    );
    await world.settle();
    await world.advance(defaultClientConfig.leaveResolutionTimeoutMs);
    const error = await outcome;
    expect(isLeaveNotResolvedError(error)).toBe(true);
    expect((error as Error).message).toContain("try again when the owner is online");
    expect(alice.client.getOrganization(orgId).request?.status).toBe("accepted");

    // The owner comes back, resolves the leave; asking again now works at once.
    await world.resume(owner);
    await world.advance(defaultClientConfig.syncIntervalMs);
    expect(alice.client.getOrganization(orgId).members.has(alice.client.memberId)).toBe(false);
    const requestId = await alice.client.requestToJoin(orgId);
    await world.settle();
    const pending = owner.client.listRequests(orgId).filter((r) => r.status === "pending");
    expect(pending.map((r) => r.id)).toEqual([requestId]);
  });

  it("an abort while waiting for the leave's resolution rejects with AbortError", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
    const alice = members[0] as (typeof members)[0];
    await world.stop(owner);
    await alice.client.leave(orgId);
    const controller = new AbortController();
    const outcome = alice.client.requestToJoin(orgId, { signal: controller.signal }).then(
      () => undefined,
      (error: unknown) => error,
    );
    await world.settle();
    controller.abort();
    expect((await outcome) as Error).toHaveProperty("name", "AbortError");
  });

  it("the owner answers a request that predates the requester's departure (no silence)", async () => {
    world = new World();
    const owner = await world.peer("owner");
    const orgId = await owner.client.createOrganization({ name: "Acme", access: "on-request" });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    await world.settle();
    const bob = await world.peer("bob");
    await bob.client.discover(orgId);
    const first = await bob.client.requestToJoin(orgId);
    await world.settle();

    // Bob is away while the owner accepts and then removes him: his view stays that of a requester
    // with an old clock, and without history (an old client, a store node that lost it) it stays so.
    await world.stop(bob);
    await owner.client.acceptRequest(orgId, first);
    await world.settle();
    await owner.client.removeMember(orgId, bob.client.memberId);
    await world.settle();
    bob.transport = world.network.transport({ name: "bob-live", history: false });
    await world.resume(bob);
    owner.events.length = 0;

    const second = await bob.client.requestToJoin(orgId);
    await world.settle();

    // Ordered before the removal, where bob was still a member or had a request pending: refused
    // there for good, and bob is told to ask again.
    expect(names(owner.events, ["request:received", "request:accepted"])).toEqual([]);
    const rejected = bob.events.filter(([name]) => name === "request:rejected");
    expect(rejected).toEqual([
      [
        "request:rejected",
        {
          organizationId: orgId,
          requestId: second,
          requester: bob.client.memberId,
          reason: "retry: request predates your leave",
          code: "rejected",
        },
      ],
    ]);
    expect(bob.client.getOrganization(orgId).role).toBe("observer");
  });
});
