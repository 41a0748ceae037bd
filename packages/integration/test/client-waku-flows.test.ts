/**
 * Every spec 55 flow through `@orgchat/client` over real Waku on loopback: clients on
 * `wakuTransport({ mode: "relay" })` dial one `@orgchat/service-node` (relay + Store v3) over
 * WebSocket on 127.0.0.1 and read history from it as their store peer. The scenarios (`flows.ts`)
 * are the ones the memory run uses; only the world's transport factory differs.
 *
 * Then one flow on light mode (LightPush, Filter, Store through the same kind of service node),
 * again with no change to the client: create → discover → request → accept → messages both ways.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createWorld, discover, emitted, received, request, type World } from "../src/world.js";
import { describeFlows } from "./flows.js";

describeFlows("relay");

describe('light mode: the same client on wakuTransport({ mode: "light" })', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("create → join by request → encrypted messages both ways", async () => {
    world = await createWorld("light");
    const owner = await world.peer("owner");
    const orgId = await owner.client.createOrganization({ name: "Acme", access: "on-request" });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    const alice = await world.peer("alice");
    expect(alice.transport.capabilities.history).toBe(true);
    await discover(world, alice, orgId);
    const requestId = await request(world, owner, alice, orgId, "Alice");
    await owner.client.acceptRequest(orgId, requestId);
    await world.until(() => emitted(alice, "epoch:changed"), "alice's Welcome to open");
    await alice.client.sendMessage(orgId, "general", "hello over light push");
    await owner.client.sendMessage(orgId, "general", "hello over filter");
    await world.until(
      () => received(owner).length === 1 && received(alice).length === 1,
      "both messages to arrive",
    );
    expect(received(owner)).toEqual(["hello over light push"]);
    expect(received(alice)).toEqual(["hello over filter"]);
    expect(world.serviceNode?.stats().lightPushed).toBeGreaterThan(0);
  }, 180_000);
});
