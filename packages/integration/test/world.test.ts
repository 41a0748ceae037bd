/** The test world itself (src/world.ts): what its helpers promise the other tests. */
import { afterEach, describe, expect, it } from "vitest";
import { createWorld, type World } from "../src/world.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("World", () => {
  it("resume keeps the config the peer was made with", async () => {
    world = await createWorld("memory");
    const owner = await world.peer("owner", { config: { maxMessagesPerChannel: 2 } });
    const orgId = await owner.client.createOrganization({ name: "Acme", access: "on-request" });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    await world.stop(owner);
    await world.resume(owner);
    for (let i = 0; i < 4; i++) await owner.client.sendMessage(orgId, "general", `m${i}`);
    expect(owner.client.history(orgId, "general").map((m) => m.text)).toEqual(["m2", "m3"]);
  });
});
