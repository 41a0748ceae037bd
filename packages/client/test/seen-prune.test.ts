/**
 * The durable seen log is pruned past a horizon (`seenLogLimits`, docs/SECURITY.md "The seen
 * log"): a message whose mark was pruned and that comes again (from history or live) is judged
 * again and refused where it was first accepted, never accepted twice.
 */
import { fromHex, toHex } from "@orgchat/base";
import { defaultProvider } from "@orgchat/crypto";
import { memoryStore } from "@orgchat/store";
import { channelTopic } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { mayPruneSeenLog, pruneSeenLog, seenLogLimits } from "../src/seen-ids.js";
import { orgWithMembers, type Peer, received, World } from "./helpers.js";

let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

const day = 24 * 60 * 60 * 1000;

/** Records what `peer` publishes on `topic`. */
function capture(peer: Peer, topic: string): Uint8Array[] {
  const sent: Uint8Array[] = [];
  const publish = peer.transport.publish.bind(peer.transport);
  Object.assign(peer.transport, {
    publish: async (t: string, payload: Uint8Array, options?: { signal?: AbortSignal }) => {
      if (t === topic) sent.push(payload.slice());
      return publish(t, payload, options);
    },
  });
  return sent;
}

/** Deletes every mark of `peer`'s seen log for `orgId` as a client `horizon + 1 day` later would. */
async function pruneAll(peer: Peer, orgId: string, now: number): Promise<number> {
  const log = `seen/${orgId}`;
  const later = now + seenLogLimits.horizonMs + day;
  let deleted = 0;
  for (;;) {
    const batch = await pruneSeenLog(peer.store, log, later, { maxEntries: 3 });
    deleted += batch;
    if (batch < 3) return deleted;
  }
}

describe("seen log pruning", () => {
  for (const encrypted of [true, false]) {
    it(`a ${encrypted ? "group" : "signed"} message replayed after its mark was pruned is not accepted twice`, async () => {
      world = new World();
      const w = world;
      const { members, orgId } = await orgWithMembers(w, ["alice", "bob"], { encrypted });
      const [alice, bob] = members as [Peer, Peer];
      const topic = channelTopic(fromHex(orgId), "general");
      const sent = capture(alice, topic);
      await alice.client.sendMessage(orgId, "general", "once");
      await w.settle();
      expect(received(bob)).toEqual(["once"]);
      expect(sent).toHaveLength(1);

      const log = `seen/${orgId}`;
      const marks = (await bob.store.range(log)).length;
      expect(marks).toBeGreaterThan(0);
      // Within the horizon nothing goes.
      expect(await pruneSeenLog(bob.store, log, w.time.now() + seenLogLimits.horizonMs)).toBe(0);
      expect(await pruneAll(bob, orgId, w.time.now())).toBe(marks);
      expect(await bob.store.range(log)).toHaveLength(0);

      // A restart forgets the in-memory ids and reads the channel again from history (the
      // message is inside the sweep overlap); then the same bytes come live.
      // Every durable lookup of the replayed message's id, and whether it found a mark.
      const id = toHex(defaultProvider().sha256(sent[0] as Uint8Array));
      const lookups: boolean[] = [];
      const getEntry = bob.store.getEntry.bind(bob.store);
      Object.assign(bob.store, {
        getEntry: async (l: string, entryId: string, options?: object) => {
          const found = await getEntry(l, entryId, options);
          if (l === log && entryId === id) lookups.push(found !== undefined);
          return found;
        },
      });
      await w.restart(bob);
      // Read again from history, looked up, found no mark: judged again.
      expect(lookups).toEqual([false]);
      const relay = w.network.transport({ name: "replayer", history: false });
      await relay.start();
      w.network.partition([[relay, bob.transport]]);
      await relay.publish(topic, sent[0] as Uint8Array);
      await w.settle();

      expect(received(bob)).toEqual(["once"]);
      expect(bob.client.history(orgId, "general").map((m) => m.text)).toEqual(["once"]);
    });
  }

  it("is not pruned with history retention on: a trimmed signed post's mark is what refuses its replay", async () => {
    expect(mayPruneSeenLog(0)).toBe(true);
    expect(mayPruneSeenLog(1)).toBe(false);
    world = new World({ maxMessagesPerChannel: 1 });
    const w = world;
    const { members, orgId } = await orgWithMembers(w, ["alice", "bob"], { encrypted: false });
    const [alice, bob] = members as [Peer, Peer];
    const topic = channelTopic(fromHex(orgId), "general");
    const sent = capture(alice, topic);
    await alice.client.sendMessage(orgId, "general", "old");
    await w.settle();
    await alice.client.sendMessage(orgId, "general", "new");
    await w.settle();
    expect(received(bob)).toEqual(["old", "new"]);
    // The start trims "old" (its event leaves the store and the state); its mark stays.
    await w.restart(bob);
    const replay = async () => {
      await w.restart(bob);
      const relay = w.network.transport({
        name: `replayer-${received(bob).length}`,
        history: false,
      });
      await relay.start();
      w.network.partition([[relay, bob.transport]]);
      await relay.publish(topic, sent[0] as Uint8Array);
      await w.settle();
    };
    await replay();
    expect(received(bob)).toEqual(["old", "new"]);
    // Were its mark pruned, the replay would be shown again: hence `mayPruneSeenLog`.
    await pruneAll(bob, orgId, w.time.now());
    await replay();
    expect(received(bob)).toEqual(["old", "new", "old"]);
  });

  it("deletes only marks past the horizon, oldest first, at most maxEntries a call", async () => {
    const store = memoryStore();
    const log = "seen/ab";
    const entry = (id: string, at: number) => ({
      id,
      sortKey: BigInt(at),
      value: new Uint8Array(0),
    });
    await store.append(log, [entry("a", 1_000), entry("b", 2_000), entry("c", 3_000)]);
    await store.append(log, [entry("d", 10_000)]);
    const options = { horizonMs: 5_000, maxEntries: 2 };
    // Cut-off 9,000 - 5,000 = 4,000: a, b, c are past it, two a call; d stays.
    expect(await pruneSeenLog(store, log, 9_000, options)).toBe(2);
    expect((await store.range(log)).map((e) => e.id)).toEqual(["c", "d"]);
    expect(await pruneSeenLog(store, log, 9_000, options)).toBe(1);
    expect(await pruneSeenLog(store, log, 9_000, options)).toBe(0);
    expect((await store.range(log)).map((e) => e.id)).toEqual(["d"]);
    // A mark exactly at the cut-off stays (strictly older goes).
    expect(await pruneSeenLog(store, log, 15_000, options)).toBe(0);
    expect(await pruneSeenLog(store, log, 15_001, options)).toBe(1);
    await expect(pruneSeenLog(store, log, -1)).rejects.toThrow(RangeError);
    await expect(pruneSeenLog(store, log, 1, { maxEntries: 1.5 })).rejects.toThrow(RangeError);
  });
});
