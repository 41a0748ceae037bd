/**
 * The one-time sweep of departed members' records (`departedRecordsStep`) on a store built the
 * old way: a member removed before its records went with its departure keeps `pairwise/` and
 * `memberkeys/` records in the owner's store.
 */
import { memoryStore, type Store, type StoreOp } from "@orgchat/store";
import { afterEach, describe, expect, it } from "vitest";
import { departedRecordsStep, departedSweptKey } from "../src/departed-records.js";
import type { OwnerOrg } from "../src/org.js";
import { orgWithMembers, type Peer, World } from "./helpers.js";

let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** What `departedRecordsStep` uses of an owner's organization: its id and key caches. */
function ownerOrg(hex: string): OwnerOrg {
  return { hex, owner: { sessions: new Map(), memberKeys: new Map() } } as unknown as OwnerOrg;
}

const recordPrefixes = ["memberkeys/", "pairwise/", "pairwise-send/", "pairwise-recv/"];

async function recordsOf(store: Store, space: string, member: string): Promise<string[]> {
  const found: string[] = [];
  for (const prefix of recordPrefixes) {
    if ((await store.get(space, `${prefix}${member}`)) !== undefined) found.push(prefix);
  }
  return found;
}

/** Runs steps of `limit` keys, committing each, until the sweep is over; returns the steps. */
async function sweep(
  store: Store,
  org: OwnerOrg,
  keep: (member: string) => boolean,
  limit: number,
): Promise<{ steps: number; forgotten: string[] }> {
  const forgotten: string[] = [];
  for (let steps = 1; steps < 1_000; steps++) {
    const step = await departedRecordsStep(store, org, keep, limit);
    forgotten.push(...step.forgotten);
    await store.batch(step.ops as StoreOp[]);
    if (step.done) return { steps, forgotten };
  }
  throw new Error("the sweep did not end");
}

describe("departed members' records", () => {
  it("are swept once, in steps, from a store built before they went with the departure", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob", "carol"]);
    const [alice, bob, carol] = members as [Peer, Peer, Peer];
    const space = `org/${orgId}`;
    const store = owner.store;
    const carolId = carol.client.memberId;
    // What the owner held for carol while she was a member.
    const kept = new Map<string, Uint8Array>();
    for (const prefix of recordPrefixes) {
      const value = await store.get(space, `${prefix}${carolId}`);
      if (value !== undefined) kept.set(`${prefix}${carolId}`, value);
    }
    expect([...kept.keys()].some((k) => k.startsWith("memberkeys/"))).toBe(true);
    await owner.client.removeMember(orgId, carolId);
    await world.settle();
    // Today the departure deleted them; a store of the old way still holds them.
    expect(await recordsOf(store, space, carolId)).toEqual([]);
    for (const [key, value] of kept) await store.put(space, key, value);
    // A store of the old way has no sweep mark either.
    await store.delete(space, departedSweptKey);
    const staying = [alice.client.memberId, bob.client.memberId];
    const before = await Promise.all(staying.map((m) => recordsOf(store, space, m)));
    for (const found of before) expect(found).toContain("memberkeys/");

    const current = owner.client.getOrganization(orgId).members;
    expect(current.has(carolId)).toBe(false);
    const org = ownerOrg(orgId);
    // Two key names a step: more than one step over the two prefixes.
    const { steps, forgotten } = await sweep(store, org, (m) => current.has(m), 2);
    expect(steps).toBeGreaterThan(2);
    expect(forgotten).toEqual([carolId]);
    expect(await recordsOf(store, space, carolId)).toEqual([]);
    expect(await Promise.all(staying.map((m) => recordsOf(store, space, m)))).toEqual(before);
    expect(await store.get(space, departedSweptKey)).toEqual(new Uint8Array([1]));
    // Done: a start after that reads the one record and does nothing.
    const again = await departedRecordsStep(store, org, () => false);
    expect(again).toEqual({ ops: [], forgotten: [], done: true });
  });

  it("an owner's start sweeps them with the requests it handles (wired in OwnerRequests)", async () => {
    world = new World();
    const w = world;
    const { owner, members, orgId } = await orgWithMembers(w, ["alice", "carol"]);
    const [alice, carol] = members as [Peer, Peer];
    const space = `org/${orgId}`;
    const carolId = carol.client.memberId;
    const kept: Array<[string, Uint8Array]> = [];
    for (const prefix of recordPrefixes) {
      const value = await owner.store.get(space, `${prefix}${carolId}`);
      if (value !== undefined) kept.push([`${prefix}${carolId}`, value]);
    }
    await owner.client.removeMember(orgId, carolId);
    await w.settle();
    for (const [key, value] of kept) await owner.store.put(space, key, value);
    await owner.store.delete(space, departedSweptKey);
    await w.restart(owner);
    expect((await recordsOf(owner.store, space, carolId)).length).toBeGreaterThan(0);
    const dave = await w.peer("dave");
    await dave.client.discover(orgId);
    await dave.client.requestToJoin(orgId, { displayName: "dave" });
    await w.settle();
    expect(await recordsOf(owner.store, space, carolId)).toEqual([]);
    expect(await recordsOf(owner.store, space, alice.client.memberId)).toContain("memberkeys/");
    expect(await owner.store.get(space, departedSweptKey)).toEqual(new Uint8Array([1]));
  });

  it("resumes where the last committed step stopped, and keeps what `keep` keeps", async () => {
    const store = memoryStore();
    const hex = "ab".repeat(32);
    const space = `org/${hex}`;
    const ids = Array.from({ length: 7 }, (_, i) => i.toString(16).padStart(2, "0").repeat(32));
    for (const id of ids) {
      await store.put(space, `memberkeys/${id}`, new Uint8Array([1]));
      await store.put(space, `pairwise/${id}`, new Uint8Array([2]));
    }
    // Not a member id: never touched.
    await store.put(space, "pairwise/owner", new Uint8Array([3]));
    await store.put(space, "prekeys", new Uint8Array([4]));
    const keep = (member: string) => member === ids[3];
    const org = ownerOrg(hex);
    const first = await departedRecordsStep(store, org, keep, 4);
    expect(first.done).toBe(false);
    expect(first.forgotten).toEqual(ids.slice(0, 3).concat(ids.slice(4, 4)));
    // The step is not committed (a crash): the next one starts at the same place.
    expect(await departedRecordsStep(store, org, keep, 4)).toEqual(first);
    await store.batch(first.ops as StoreOp[]);
    const { forgotten } = await sweep(store, org, keep, 4);
    expect(forgotten).toEqual(ids.slice(4));
    expect(await store.keys(space)).toEqual([
      departedSweptKey,
      `memberkeys/${ids[3]}`,
      `pairwise/${ids[3]}`,
      "pairwise/owner",
      "prekeys",
    ]);
    await expect(departedRecordsStep(store, org, keep, 0)).rejects.toThrow(RangeError);
  });
});
