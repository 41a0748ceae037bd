import type { Diagnostic } from "@orgchat/base";
import { afterEach, describe, expect, it } from "vitest";
import { names, orgWithMembers, type Peer, received, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

describe("a newcomer and the messages of epochs before it joined", () => {
  it("reads what it is entitled to; earlier epochs are reported, never announced as waiting", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
    const alice = members[0] as Peer;
    await alice.client.sendMessage(orgId, "general", "before dave 1");
    await alice.client.sendMessage(orgId, "general", "before dave 2");
    await world.settle();
    const dave = await world.peer("dave");
    const diagnostics: Diagnostic[] = [];
    dave.client.on("diagnostic", (d) => diagnostics.push(d));
    await dave.client.discover(orgId);
    const requestId = await dave.client.requestToJoin(orgId);
    await world.settle();
    await owner.client.acceptRequest(orgId, requestId);
    await world.settle();
    await alice.client.sendMessage(orgId, "general", "after dave");
    await world.settle();
    // Dave's history sweeps (5 s, then 10 s…) read the channel from the beginning of history.
    for (let i = 0; i < 12; i++) await world.advance(10_000);
    expect(received(dave)).toEqual(["after dave"]);
    expect(names(dave.events, ["message:waiting-for-key", "message:undecryptable"])).toEqual([]);
    expect(diagnostics.map((d) => `${d.component} ${d.reason}`)).toEqual([
      "client/messages not-entitled",
      "client/messages not-entitled",
    ]);
  });
});
