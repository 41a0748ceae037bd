/**
 * Issue #14: the owner's work per request to join does not grow with the requests pending. Before,
 * every message on the requests topic re-listed and re-sorted every pending request (the sweep of
 * the owner's strangers): 1,000 pending made each of 2,000 strangers' messages cost 1,000 reads.
 * Counted here as reads of the state's tables (`TableMap` look-ups and walks), not as time.
 */
import { TableMap } from "@orgchat/state";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Peer, seededRandom, World } from "./helpers.js";
import { publishedPrekeyBundle, Stranger } from "./stranger.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** The ids of the requests pending at the owner. */
function pending(owner: Peer, orgId: string): string[] {
  return owner.client
    .listRequests(orgId)
    .filter((r) => r.status === "pending")
    .map((r) => r.id);
}

/**
 * An owner with `count` strangers' requests pending, then one more stranger's keys and request:
 * the reads of the state's tables the owner made for that one.
 */
async function readsForOneMore(count: number, seed: number): Promise<number> {
  world = new World();
  const owner = await world.peer("owner");
  const orgId = await owner.client.createOrganization({ name: "Acme", access: "on-request" });
  await world.settle();
  const attacker = world.network.transport({ name: "attacker", history: true });
  await attacker.start();
  const bundle = await publishedPrekeyBundle(attacker, orgId);
  const random = seededRandom(seed);
  for (let i = 0; i < count; i++) {
    await new Stranger(attacker, orgId, bundle, random).request({
      clock: 2n,
      sentAt: world.time.now(),
    });
  }
  await world.settle();
  expect(pending(owner, orgId)).toHaveLength(count);
  // Clocked after the others: it sorts last (no re-fold of the others' requests).
  const last = new Stranger(attacker, orgId, bundle, random);
  const get = vi.spyOn(TableMap.prototype, "get");
  const entries = vi.spyOn(TableMap.prototype, "entries");
  let reads: number;
  try {
    await last.request({ clock: 3n, sentAt: world.time.now() });
    await world.settle();
    reads = get.mock.calls.length + entries.mock.calls.length;
  } finally {
    get.mockRestore();
    entries.mockRestore();
  }
  expect(pending(owner, orgId)).toHaveLength(count + 1);
  await world.close();
  world = undefined;
  return reads;
}

describe("the owner's work per request (issue #14)", () => {
  it("one more stranger's keys and request cost the owner as many reads with 5 or 60 requests pending", async () => {
    const few = await readsForOneMore(5, 11);
    const many = await readsForOneMore(60, 12);
    expect(few).toBeGreaterThan(0);
    expect(many).toBe(few);
  }, 120_000);
});
