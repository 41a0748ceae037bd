import { afterEach, describe, expect, it, vi } from "vitest";
import {
  historyPages,
  isInvalidCursorError,
  type MemoryNetwork,
  type MemoryNetworkInit,
  type MemoryTransport,
  memoryNetwork,
  type TransportMessage,
  type TransportStatus,
  type VirtualClock,
  virtualClock,
} from "../src/index.ts";

const topic = "/orgchat-test/1/faults/proto";
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string) => encoder.encode(text);
const text = (message: TransportMessage) => decoder.decode(message.payload);

interface Harness {
  readonly network: MemoryNetwork;
  readonly peers: MemoryTransport[];
  /** Every delivery, in order: `<recipient> <payload>`. */
  readonly received: Map<string, TransportMessage[]>;
}

const networks: MemoryNetwork[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(networks.splice(0).map((network) => network.stop()));
});

async function harness(
  names: readonly string[],
  init: MemoryNetworkInit = {},
  clock?: VirtualClock,
): Promise<Harness> {
  const network = memoryNetwork(init, clock);
  networks.push(network);
  const peers = names.map((name) => network.transport({ name }));
  const received = new Map<string, TransportMessage[]>();
  for (const peer of peers) {
    await peer.start();
    const inbox: TransportMessage[] = [];
    received.set(peer.name, inbox);
    await peer.subscribe([topic], (message) => {
      inbox.push(message);
    });
  }
  return { network, peers, received };
}

function inbox(h: Harness, name: string): TransportMessage[] {
  return h.received.get(name) ?? [];
}

async function allHistory(peer: MemoryTransport, query = {}): Promise<TransportMessage[]> {
  const all: TransportMessage[] = [];
  for await (const page of historyPages(peer, {
    contentTopics: [topic],
    pageSize: 100,
    direction: "forward",
    ...query,
  })) {
    all.push(...page.messages);
  }
  return all;
}

describe("seeded determinism", () => {
  async function trace(seed: number): Promise<string[]> {
    const clock = virtualClock();
    const events: string[] = [];
    const network = memoryNetwork(
      {
        seed,
        latency: { minMs: 1, maxMs: 40 },
        dropRate: 0.1,
        duplicateRate: 0.2,
        reorderWindowMs: 15,
      },
      clock,
    );
    networks.push(network);
    const peers = ["a", "b", "c"].map((name) => network.transport({ name }));
    for (const peer of peers) {
      await peer.start();
      await peer.subscribe([topic], (message) => {
        events.push(`${clock.now()} ${peer.name} ${text(message)} ${message.id.slice(0, 8)}`);
      });
    }
    for (let i = 0; i < 60; i++) {
      await peers[i % 3]?.publish(topic, bytes(`m${i}`));
      clock.advance(i % 4);
    }
    clock.runAll();
    await network.idle();
    return events;
  }

  it("the same seed gives the identical delivery trace", async () => {
    const first = await trace(11);
    expect(first.length).toBeGreaterThan(100);
    expect(await trace(11)).toEqual(first);
  });

  it("another seed gives another trace", async () => {
    expect(await trace(12)).not.toEqual(await trace(11));
  });
});

describe("drops", () => {
  it.each([1, 2, 3])(
    "dropRate 0.25 loses about a quarter of deliveries (seed %i)",
    async (seed) => {
      const h = await harness(["a", "b"], { seed, dropRate: 0.25 });
      const [a] = h.peers as [MemoryTransport, MemoryTransport];
      const total = 2_000;
      for (let i = 0; i < total; i++) await a.publish(topic, bytes(`m${i}`));
      await h.network.idle();
      const delivered = inbox(h, "b");
      expect(new Set(delivered.map((m) => m.id)).size, "no duplicates without duplicateRate").toBe(
        delivered.length,
      );
      // Binomial(2000, 0.75): sd ≈ 19.4, so ±100 is more than five sd.
      expect(delivered.length).toBeGreaterThan(1_400);
      expect(delivered.length).toBeLessThan(1_600);
      // The history has every message: a dropped delivery is how a peer learns to catch up.
      expect((await allHistory(h.peers[1] as MemoryTransport)).length).toBe(total);
    },
  );

  it("dropRate 1 delivers nothing, and faults apply to each recipient independently", async () => {
    const none = await harness(["a", "b"], { dropRate: 1 });
    await none.peers[0]?.publish(topic, bytes("lost"));
    await none.network.idle();
    expect(inbox(none, "a")).toEqual([]);
    expect(inbox(none, "b")).toEqual([]);

    const h = await harness(["a", "b", "c"], { seed: 4, dropRate: 0.5 });
    for (let i = 0; i < 200; i++) await h.peers[0]?.publish(topic, bytes(`m${i}`));
    await h.network.idle();
    const b = new Set(inbox(h, "b").map(text));
    const c = new Set(inbox(h, "c").map(text));
    expect([...b].filter((m) => !c.has(m)).length).toBeGreaterThan(0);
    expect([...c].filter((m) => !b.has(m)).length).toBeGreaterThan(0);
  });
});

describe("duplicates", () => {
  it("duplicateRate 0.3 delivers about 30% twice, with the same id and bytes", async () => {
    const h = await harness(["a", "b"], { seed: 9, duplicateRate: 0.3 });
    const total = 1_000;
    for (let i = 0; i < total; i++) await h.peers[0]?.publish(topic, bytes(`m${i}`));
    await h.network.idle();
    const delivered = inbox(h, "b");
    const byId = new Map<string, TransportMessage[]>();
    for (const message of delivered)
      byId.set(message.id, [...(byId.get(message.id) ?? []), message]);
    expect(byId.size, "nothing lost").toBe(total);
    const twice = [...byId.values()].filter((copies) => copies.length === 2);
    expect([...byId.values()].every((copies) => copies.length <= 2)).toBe(true);
    expect(twice.length).toBeGreaterThan(230);
    expect(twice.length).toBeLessThan(370);
    for (const [first, second] of twice as [TransportMessage, TransportMessage][]) {
      expect(second.payload).toEqual(first.payload);
      expect(second.timestamp).toBe(first.timestamp);
    }
  });

  it("duplicateRate 1 delivers every message exactly twice, and history once", async () => {
    const h = await harness(["a", "b"], { duplicateRate: 1 });
    for (let i = 0; i < 10; i++) await h.peers[0]?.publish(topic, bytes(`m${i}`));
    await h.network.idle();
    expect(inbox(h, "b").length).toBe(20);
    expect((await allHistory(h.peers[1] as MemoryTransport)).length).toBe(10);
  });
});

describe("latency and reordering (injected scheduler)", () => {
  it("deliveries land between latency.minMs and latency.maxMs after publish", async () => {
    const clock = virtualClock();
    const h = await harness(["a", "b"], { seed: 2, latency: { minMs: 50, maxMs: 100 } }, clock);
    const arrivals: number[] = [];
    await h.peers[1]?.subscribe([topic], () => void arrivals.push(clock.now()));
    const start = clock.now();
    for (let i = 0; i < 50; i++) await h.peers[0]?.publish(topic, bytes(`m${i}`));
    clock.advance(49);
    expect(arrivals).toEqual([]);
    expect(h.network.deliveriesInFlight).toBe(100); // 50 to a itself, 50 to b
    clock.advance(51);
    expect(arrivals.length).toBe(50);
    expect(h.network.deliveriesInFlight).toBe(0);
    expect(Math.min(...arrivals) - start).toBeGreaterThanOrEqual(50);
    expect(Math.max(...arrivals) - start).toBeLessThanOrEqual(100);
    expect(new Set(arrivals).size, "delays vary").toBeGreaterThan(10);
    expect(h.peers[0]?.capabilities.ordered).toBe(false);
  });

  it("a reorder window shuffles messages published within it, and only those", async () => {
    const clock = virtualClock();
    const h = await harness(["a", "b"], { seed: 5, reorderWindowMs: 20 }, clock);
    const published: string[] = [];
    for (let i = 0; i < 100; i++) {
      published.push(`m${i}`);
      await h.peers[0]?.publish(topic, bytes(`m${i}`));
    }
    clock.runAll();
    const shuffled = inbox(h, "b").map(text);
    expect([...shuffled].sort()).toEqual([...published].sort());
    expect(shuffled).not.toEqual(published);

    const spaced: string[] = [];
    const before = inbox(h, "b").length;
    for (let i = 0; i < 30; i++) {
      spaced.push(`s${i}`);
      await h.peers[0]?.publish(topic, bytes(`s${i}`));
      clock.advance(21);
    }
    clock.runAll();
    expect(inbox(h, "b").slice(before).map(text)).toEqual(spaced);
    expect(h.peers[0]?.capabilities.ordered).toBe(false);
  });

  it("a fixed latency keeps publish order (capabilities.ordered stays true)", async () => {
    const clock = virtualClock();
    const h = await harness(
      ["a", "b"],
      { latency: { minMs: 7, maxMs: 7 }, duplicateRate: 0.5 },
      clock,
    );
    expect(h.peers[0]?.capabilities.ordered).toBe(true);
    for (let i = 0; i < 40; i++) await h.peers[0]?.publish(topic, bytes(`m${i}`));
    clock.runAll();
    const firstArrivals = [...new Set(inbox(h, "b").map(text))];
    expect(firstArrivals).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`));
  });

  it("stop() cancels the deliveries in flight to that transport and leaves no timer", async () => {
    const clock = virtualClock();
    const h = await harness(["a", "b"], { latency: { minMs: 10, maxMs: 30 } }, clock);
    const [a, b] = h.peers as [MemoryTransport, MemoryTransport];
    for (let i = 0; i < 5; i++) await a.publish(topic, bytes(`m${i}`));
    expect(clock.pending).toBe(10);
    await b.stop();
    expect(clock.pending).toBe(5);
    await a.stop();
    expect(clock.pending).toBe(0);
    expect(h.network.deliveriesInFlight).toBe(0);
    await h.network.idle();
    // Restarted, b does not get what was in flight when it stopped.
    await b.start();
    await b.subscribe([topic], (message) => void inbox(h, "b").push(message));
    clock.runAll();
    expect(inbox(h, "b")).toEqual([]);
  });
});

describe("latency on the default scheduler (fake timers)", () => {
  it("uses setTimeout for delayed deliveries and clears every timer on stop", async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const network = memoryNetwork({ latency: { minMs: 10, maxMs: 10 } });
    networks.push(network);
    const a = network.transport();
    const b = network.transport();
    await a.start();
    await b.start();
    const got: TransportMessage[] = [];
    await b.subscribe([topic], (message) => void got.push(message));
    const result = await a.publish(topic, bytes("one"));
    expect(result.timestamp, "timestamps come from Date.now by default").toBe(1_000_000);
    expect(vi.getTimerCount()).toBe(2);
    vi.advanceTimersByTime(9);
    expect(got).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(got.map(text)).toEqual(["one"]);
    await a.publish(topic, bytes("two"));
    await a.stop();
    await b.stop();
    expect(vi.getTimerCount(), "no timer left after stop()").toBe(0);
  });

  it("uses no timer at all without latency or reordering", async () => {
    vi.useFakeTimers();
    const h = await harness(["a", "b"], { dropRate: 0.5, duplicateRate: 0.5 });
    for (let i = 0; i < 20; i++) await h.peers[0]?.publish(topic, bytes(`m${i}`));
    expect(vi.getTimerCount()).toBe(0);
    await h.network.idle();
    expect(inbox(h, "b").length).toBeGreaterThan(0);
  });
});

describe("partitions", () => {
  it("messages do not cross groups until heal(); history catches up after it", async () => {
    const h = await harness(["a", "b", "c"]);
    const [a, b, c] = h.peers as [MemoryTransport, MemoryTransport, MemoryTransport];
    const peers = new Map<string, number>();
    for (const peer of h.peers) {
      peer.on("status:changed", (event) => void peers.set(peer.name, event.peers));
    }
    h.network.partition([[a, b], [c]]);
    expect(h.network.partitioned).toBe(true);
    expect(Object.fromEntries(peers)).toEqual({ a: 1, b: 1, c: 0 });
    expect(c.status, "a lone transport is still online: the network stores its messages").toBe(
      "online",
    );

    const fromA = await a.publish(topic, bytes("from a"));
    const fromC = await c.publish(topic, bytes("from c"));
    expect(fromA.recipients).toBe(1);
    expect(fromC.recipients).toBe(0);
    await h.network.idle();
    expect(inbox(h, "b").map(text)).toEqual(["from a"]);
    expect(inbox(h, "c").map(text)).toEqual(["from c"]);
    expect((await allHistory(b)).map((m) => m.id)).toEqual([fromA.id]);
    expect((await allHistory(c)).map((m) => m.id)).toEqual([fromC.id]);

    h.network.heal();
    expect(h.network.partitioned).toBe(false);
    expect(Object.fromEntries(peers)).toEqual({ a: 2, b: 2, c: 2 });
    await h.network.idle();
    expect(inbox(h, "c").map(text), "lost live deliveries are not replayed").toEqual(["from c"]);
    const ids = [fromA.id, fromC.id].sort();
    expect((await allHistory(c)).map((m) => m.id).sort(), "history shows all after heal").toEqual(
      ids,
    );
    expect((await allHistory(a)).map((m) => m.id).sort()).toEqual(ids);

    await a.publish(topic, bytes("after heal"));
    await h.network.idle();
    expect(inbox(h, "c").map(text)).toEqual(["from c", "after heal"]);
  });

  it("history visibility follows each partition and transports made during one", async () => {
    const h = await harness(["a", "b", "c"]);
    const [a, b, c] = h.peers as [MemoryTransport, MemoryTransport, MemoryTransport];
    h.network.partition([[a, b]]);
    await a.publish(topic, bytes("a1"));
    await c.publish(topic, bytes("c1"));
    // Made during the partition, d is unlisted too: in c's group from now on.
    const d = h.network.transport({ name: "d" });
    await d.start();
    await a.publish(topic, bytes("a2"));
    await c.publish(topic, bytes("c2"));
    await d.publish(topic, bytes("d1"));
    h.network.partition([[a], [b, c]]);
    await a.publish(topic, bytes("a3"));
    await b.publish(topic, bytes("b1"));
    await h.network.idle();
    const texts = async (peer: MemoryTransport) => (await allHistory(peer)).map(text).sort();
    expect(await texts(a)).toEqual(["a1", "a2", "a3"]);
    expect(await texts(b)).toEqual(["a1", "a2", "b1"]);
    expect(await texts(c)).toEqual(["b1", "c1", "c2", "d1"]);
    expect(await texts(d), "c1 was published before d existed").toEqual(["c2", "d1"]);
    h.network.heal();
    expect(await texts(d)).toEqual(["a1", "a2", "a3", "b1", "c1", "c2", "d1"]);
  });

  it("unlisted transports form one group together, and a new partition replaces the old", async () => {
    const h = await harness(["a", "b", "c"]);
    const [a, b, c] = h.peers as [MemoryTransport, MemoryTransport, MemoryTransport];
    h.network.partition([[a]]);
    await b.publish(topic, bytes("b to c"));
    await h.network.idle();
    expect(inbox(h, "c").map(text)).toEqual(["b to c"]);
    expect(inbox(h, "a")).toEqual([]);
    h.network.partition([[a, b]]);
    await b.publish(topic, bytes("b to a"));
    await h.network.idle();
    expect(inbox(h, "a").map(text)).toEqual(["b to a"]);
    expect(inbox(h, "c").map(text)).toEqual(["b to c"]);
    expect((await allHistory(c)).map(text), "c's history keeps what c's group saw").toEqual([
      "b to c",
    ]);
  });

  it("a delivery in flight is lost if a partition separates the peers before it lands", async () => {
    const clock = virtualClock();
    const h = await harness(["a", "b", "c"], { latency: { minMs: 10, maxMs: 10 } }, clock);
    const [a, b, c] = h.peers as [MemoryTransport, MemoryTransport, MemoryTransport];
    await a.publish(topic, bytes("in flight"));
    h.network.partition([[a, b], [c]]);
    clock.runAll();
    expect(inbox(h, "b").map(text)).toEqual(["in flight"]);
    expect(inbox(h, "c")).toEqual([]);
    expect((await allHistory(c)).map(text), "published before the split: in c's history").toEqual([
      "in flight",
    ]);
  });

  it("rejects transports of another network and a transport in two groups", async () => {
    const h = await harness(["a", "b"]);
    const stranger = memoryNetwork().transport();
    const [a, b] = h.peers as [MemoryTransport, MemoryTransport];
    expect(() => h.network.partition([[a], [stranger]])).toThrow(RangeError);
    expect(() => h.network.partition([[a, b], [b]])).toThrow(RangeError);
    expect(h.network.partitioned).toBe(false);
  });
});

describe("status events", () => {
  it("report online with the reachable peer count, and stopped on stop()", async () => {
    const network = memoryNetwork();
    networks.push(network);
    const a = network.transport();
    const b = network.transport();
    const events: { status: TransportStatus; peers: number }[] = [];
    a.on("status:changed", (event) => void events.push({ ...event }));
    await a.start();
    await b.start();
    await b.stop();
    await a.stop();
    expect(events).toEqual([
      { status: "online", peers: 0 },
      { status: "online", peers: 1 },
      { status: "online", peers: 0 },
      { status: "stopped", peers: 0 },
    ]);
  });
});

describe("history under faults", () => {
  it("orders equal timestamps by id, pages through ties without gaps, and checks cursors", async () => {
    const clock = virtualClock({ start: 5_000 });
    const h = await harness(["a", "b"], {}, clock);
    const [a, b] = h.peers as [MemoryTransport, MemoryTransport];
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) ids.push((await a.publish(topic, bytes(`m${i}`))).id);
    const sorted = [...ids].sort();
    expect((await allHistory(b)).map((m) => m.id)).toEqual(sorted);
    const backward: string[] = [];
    for await (const page of historyPages(b, { contentTopics: [topic], pageSize: 2 })) {
      backward.push(...page.messages.map((m) => m.id));
    }
    expect(backward).toEqual([...sorted].reverse());

    const other = "/orgchat-test/1/other/proto";
    const first = await b.queryHistory({ contentTopics: [topic], pageSize: 2 });
    const cursor = first.cursor ?? "";
    const bad: [string, object][] = [
      ["unknown id", { contentTopics: [topic], cursor: "ab".repeat(32) }],
      ["another topic", { contentTopics: [other], cursor }],
      ["outside the range", { contentTopics: [topic], cursor, to: 4_999 }],
      ["not hex", { contentTopics: [topic], cursor: "zz" }],
    ];
    for (const [label, query] of bad) {
      await expect(b.queryHistory(query as { contentTopics: string[] }), label).rejects.toSatisfy(
        isInvalidCursorError,
      );
    }
  });
});
