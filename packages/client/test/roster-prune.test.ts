/**
 * Roster pruning end to end (docs/CLIENT.md, "Epoch rosters"): a member drops the rosters of epochs
 * no group holds any more, from memory and store, and keeps exactly what a late message of an
 * epoch still held for late messages needs (its sender is looked up in that epoch's roster).
 */
import { afterEach, describe, expect, it } from "vitest";
import { decodeRosterRecord } from "../src/roster-records.js";
import { orgWithMembers, type Peer, received, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

/** The rosters a start reads back: JSON records, and binary ones marked kept (not chain links). */
async function storedRosters(peer: Peer, orgId: string): Promise<number> {
  const space = `org/${orgId}`;
  const json = await peer.store.keys(space, { prefix: "roster/" });
  let kept = 0;
  for (const key of await peer.store.keys(space, { prefix: "rr/" })) {
    const value = await peer.store.get(space, key);
    if (value !== undefined && decodeRosterRecord(value)?.kept === true) kept++;
  }
  return json.length + kept;
}

describe("roster pruning", () => {
  it("a message of an epoch held for late messages still opens after the prune; older rosters are gone", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob", "carol"]);
    const [alice, bob] = members as [Peer, Peer];
    // The first epochs leave the retention window (a day): nothing holds them any more.
    await world.advance(25 * 60 * 60 * 1000);
    world.network.partition([[bob.transport]]);
    await alice.client.sendMessage(orgId, "general", "late");
    await world.settle();
    world.network.heal();
    // Four epochs more: the message's epoch is not among the newest four rosters any more, only
    // held (retired less than a day ago) by bob's group.
    for (const name of ["dave", "erin", "frank", "grace"]) {
      const peer = await world.peer(name);
      await peer.client.discover(orgId);
      const requestId = await peer.client.requestToJoin(orgId, { displayName: name });
      await world.settle();
      await owner.client.acceptRequest(orgId, requestId);
      await world.settle();
    }
    const epochs = Number(owner.client.getOrganization(orgId).epoch ?? 0n) + 1;
    expect(epochs).toBeGreaterThanOrEqual(8);
    expect(bob.client.getOrganization(orgId).epoch).toBe(BigInt(epochs - 1));
    // Bob's sweeps read the channel's history: the late message of a held epoch opens.
    for (let i = 0; i < 12; i++) await world.advance(10_000);
    expect(received(bob)).toEqual(["late"]);
    // The epochs before the day went by were pruned (from the store too): what is left is the
    // five epochs bob's group holds (the message's and the four after it) and at most the snapshot
    // the delta records chain from.
    expect(await storedRosters(bob, orgId)).toBeLessThanOrEqual(6);
  });
});
