/**
 * The events log compacted into a state snapshot (docs/SCALE.md, "State snapshot"): after a long
 * history the owner and a member keep a snapshot and the newest events; a restart reads both and
 * shows the same organization; a crash during the compaction batch loses nothing; a corrupted
 * snapshot is `StoreCorruptedError`, never a wrong state.
 */
import { decodeSnapshot } from "@orgchat/state";
import { memoryStore, type Store } from "@orgchat/store";
import { afterEach, describe, expect, it } from "vitest";
import { isStoreCorruptedError } from "../src/index.js";
import { snapshotPolicy } from "../src/state-snapshots.js";
import { orgWithMembers, type Peer, World } from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

/** Enough events for a first compaction (`snapshotPolicy`, no snapshot yet). */
const history = snapshotPolicy.keep + snapshotPolicy.minEvents + 20;

/** A store whose first `failures` batches carrying a snapshot fail (the write is lost). */
function failingSnapshots(
  inner: Store,
  failures = Number.POSITIVE_INFINITY,
): { store: Store; refused: () => number } {
  let refused = 0;
  const store = new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name !== "batch") return typeof value === "function" ? value.bind(target) : value;
      return (ops: Parameters<Store["batch"]>[0], options?: Parameters<Store["batch"]>[1]) => {
        if (refused < failures && ops.some((op) => op.type === "put" && op.key === "snapshot")) {
          refused++;
          return Promise.reject(new Error("the process is gone"));
        }
        return target.batch(ops, options);
      };
    },
  });
  return { store, refused: () => refused };
}

async function longHistory() {
  const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
  for (let i = 0; i < history; i++) await owner.client.sendMessage(orgId, "general", `m${i}`);
  // The compaction, due, waits for a quiet moment.
  await world.advance(snapshotPolicy.quietMs);
  return { owner, alice: members[0] as Peer, orgId };
}

describe("state snapshots", () => {
  it("owner and member compact a long history; a restart shows the same organization", async () => {
    world = new World();
    const { owner, alice, orgId } = await longHistory();
    const texts = owner.client.history(orgId, "general").map((m) => m.text);
    expect(texts).toHaveLength(history);
    for (const peer of [owner, alice]) {
      expect(await peer.store.get(`org/${orgId}`, "snapshot")).toBeDefined();
      const events = await peer.store.range(`events/${orgId}`);
      // The newest events only: at least the re-fold window, far fewer than the history.
      expect(events.length).toBeGreaterThanOrEqual(snapshotPolicy.keep);
      expect(events.length).toBeLessThan(history - snapshotPolicy.minEvents + snapshotPolicy.keep);
    }
    const before = alice.client.getOrganization(orgId);
    await world.restart(owner);
    await world.restart(alice);
    expect(owner.client.history(orgId, "general").map((m) => m.text)).toEqual(texts);
    expect(alice.client.history(orgId, "general").map((m) => m.text)).toEqual(texts);
    const after = alice.client.getOrganization(orgId);
    expect([...after.members.keys()].sort()).toEqual([...before.members.keys()].sort());
    // Still one organization: new messages flow both ways after the restart.
    await alice.client.sendMessage(orgId, "general", "after");
    await world.settle();
    expect(owner.client.history(orgId, "general").at(-1)?.text).toBe("after");
  });

  it("a due compaction waits until no event came for quietMs; past twice its due count it runs at once", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, ["alice"]);
    for (let i = 0; i < history; i++) await owner.client.sendMessage(orgId, "general", `m${i}`);
    await world.settle();
    // Due, but the burst has not paused yet.
    expect(await owner.store.get(`org/${orgId}`, "snapshot")).toBeUndefined();
    await world.advance(snapshotPolicy.quietMs - 1);
    await owner.client.sendMessage(orgId, "general", "one more");
    await world.advance(snapshotPolicy.quietMs - 1);
    // The last event came less than quietMs ago: still waiting.
    expect(await owner.store.get(`org/${orgId}`, "snapshot")).toBeUndefined();
    await world.advance(1);
    expect(await owner.store.get(`org/${orgId}`, "snapshot")).toBeDefined();
    // A stream that never pauses: at twice the due count, inside the commit that reaches it.
    const before = (await owner.store.range(`events/${orgId}`)).length;
    const due = snapshotPolicy.minEvents;
    for (let i = before; i < snapshotPolicy.keep + 2 * due; i++) {
      await owner.client.sendMessage(orgId, "general", `n${i}`);
    }
    await world.settle();
    const events = await owner.store.range(`events/${orgId}`);
    expect(events.length).toBeLessThan(snapshotPolicy.keep + due);
  });

  it("a clean close compacts what is beyond the re-fold window; the next start replays that", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
    // More than twice the window, fewer than a compaction while running needs.
    const sent = 2 * snapshotPolicy.keep + 40;
    expect(sent).toBeLessThan(snapshotPolicy.keep + snapshotPolicy.minEvents);
    for (let i = 0; i < sent; i++) await owner.client.sendMessage(orgId, "general", `m${i}`);
    await world.settle();
    expect(await owner.store.get(`org/${orgId}`, "snapshot")).toBeUndefined();
    const texts = owner.client.history(orgId, "general").map((m) => m.text);
    await world.restart(owner);
    expect(await owner.store.get(`org/${orgId}`, "snapshot")).toBeDefined();
    const events = await owner.store.range(`events/${orgId}`);
    expect(events.length).toBeLessThanOrEqual(2 * snapshotPolicy.keep);
    expect(owner.client.history(orgId, "general").map((m) => m.text)).toEqual(texts);
    await (members[0] as Peer).client.sendMessage(orgId, "general", "after");
    await world.settle();
    expect(owner.client.history(orgId, "general").at(-1)?.text).toBe("after");
  });

  it("a crash at the compaction's write loses nothing: every event stays in the log", async () => {
    world = new World();
    const failing = failingSnapshots(memoryStore());
    const owner = await world.peer("owner", { store: failing.store });
    const orgId = await owner.client.createOrganization({ name: "Acme" });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    for (let i = 0; i < history; i++) await owner.client.sendMessage(orgId, "general", `m${i}`);
    await world.advance(snapshotPolicy.quietMs);
    expect(failing.refused()).toBeGreaterThan(0);
    expect(await owner.store.get(`org/${orgId}`, "snapshot")).toBeUndefined();
    const texts = owner.client.history(orgId, "general").map((m) => m.text);
    await world.stop(owner);
    const again = await world.peer("owner-again", { store: owner.store });
    expect(again.client.history(orgId, "general").map((m) => m.text)).toEqual(texts);
    expect(texts).toHaveLength(history);
  });

  it("after a failed snapshot write, the next snapshot deletes what the failed one covered", async () => {
    world = new World();
    const failing = failingSnapshots(memoryStore(), 1);
    const owner = await world.peer("owner", { store: failing.store });
    const orgId = await owner.client.createOrganization({ name: "Acme" });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    const ids: string[] = [];
    for (let i = 0; i < 2 * history; i++) {
      ids.push((await owner.client.sendMessage(orgId, "general", `m${i}`)).id);
    }
    await world.settle();
    expect(failing.refused()).toBe(1);
    expect(await owner.store.get(`org/${orgId}`, "snapshot")).toBeDefined();
    const left = new Set((await owner.store.range(`events/${orgId}`)).map((entry) => entry.id));
    // The oldest posts, covered by the failed write first, are gone with the next one.
    expect(ids.slice(0, 100).filter((id) => left.has(id))).toEqual([]);
    await world.stop(owner);
    const again = await world.peer("owner-again", { store: owner.store });
    expect(again.client.history(orgId, "general")).toHaveLength(2 * history);
  });

  it("a stranger's rejected request leaves the snapshot once its cool-down is over", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, []);
    const mallory = await world.peer("mallory");
    await mallory.client.discover(orgId);
    const requestId = await mallory.client.requestToJoin(orgId, { displayName: "Mallory" });
    await world.settle();
    await owner.client.rejectRequest(orgId, requestId, "not today");
    await world.settle();
    expect(owner.client.listRequests(orgId)[0]?.status).toBe("rejected");
    world.time.advance(2 * 24 * 60 * 60 * 1000);
    for (let i = 0; i < history; i++) await owner.client.sendMessage(orgId, "general", `m${i}`);
    await world.advance(snapshotPolicy.quietMs);
    const state = decodeSnapshot(await owner.store.getOrThrow(`org/${orgId}`, "snapshot"), orgId);
    expect(state.requests.has(requestId)).toBe(false);
    // Still applied: a copy delivered again is a duplicate.
    expect(state.applied.has(requestId)).toBe(true);
  });

  it("a corrupted snapshot is StoreCorruptedError at start", async () => {
    world = new World();
    const { owner, orgId } = await longHistory();
    await world.stop(owner);
    const bytes = (await owner.store.get(`org/${orgId}`, "snapshot")) as Uint8Array;
    const altered = bytes.slice();
    altered[altered.length >> 1] = (altered[altered.length >> 1] as number) ^ 0x01;
    await owner.store.put(`org/${orgId}`, "snapshot", altered);
    await expect(world.peer("owner-again", { store: owner.store })).rejects.toSatisfy(
      isStoreCorruptedError,
    );
  });
});
