/**
 * Issue #13, row 3 (docs/SECURITY.md): an outsider publishes group messages whose key ids no
 * owner-signed record names. They cost a small bounded buffer, are never announced as waiting,
 * never start a resync, and never evict a genuine waiting message; the owner answers resyncs at a
 * bounded rate. Counted on the network (publishes and history queries of each peer's transport)
 * and in the store (live bytes), through the public API only.
 */
import type { Diagnostic } from "@orgchat/base";
import { memoryStore, type Store, type StoreOp } from "@orgchat/store";
import type { MemoryTransport } from "@orgchat/transport";
import { channelTopic, encodeGroupMessage, MessageType, requestsTopic } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { encodeJson, fromHex } from "../src/encoding.js";
import { foreignBufferLimits, foreignEvictions } from "../src/foreign-buffer.js";
import type { ClientConfig } from "../src/index.js";
import { judgeUnopened } from "../src/key-evidence.js";
import type { PendingMessage } from "../src/org.js";
import { ResyncAnswerBudget, resyncAnswerLimits } from "../src/resync-answers.js";
import {
  names,
  orgWithMembers,
  type Peer,
  publishFullDescription,
  received,
  World,
} from "./helpers.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** What one transport did: publishes by topic, history queries. */
interface Traffic {
  readonly published: string[];
  queries: number;
}

/** Counts what a peer's transport publishes and how often it reads history (from now on). */
function watch(transport: MemoryTransport): Traffic {
  const traffic: Traffic = { published: [], queries: 0 };
  const publish = transport.publish.bind(transport);
  const queryHistory = transport.queryHistory.bind(transport);
  Object.assign(transport, {
    publish: (topic: string, payload: Uint8Array, options?: { signal?: AbortSignal }) => {
      traffic.published.push(topic);
      return publish(topic, payload, options);
    },
    queryHistory: (...args: Parameters<MemoryTransport["queryHistory"]>) => {
      traffic.queries++;
      return queryHistory(...args);
    },
  });
  return traffic;
}

/**
 * A store that keeps count of the bytes it holds (values and log entries, with their keys), so a
 * test can say how much a client persisted whatever the store behind it.
 */
function measured(inner: Store): Store & { readonly bytes: () => number } {
  const held = new Map<string, number>();
  const apply = (op: StoreOp): void => {
    switch (op.type) {
      case "put":
        held.set(`k/${op.space}/${op.key}`, op.key.length + op.value.length);
        break;
      case "delete":
        held.delete(`k/${op.space}/${op.key}`);
        break;
      case "append":
        for (const entry of op.entries) {
          const key = `l/${op.log}/${entry.id}`;
          if (!held.has(key)) held.set(key, entry.id.length + 8 + entry.value.length);
        }
        break;
      case "deleteEntries":
        for (const id of op.ids) held.delete(`l/${op.log}/${id}`);
        break;
    }
  };
  return {
    bytes: () => [...held.values()].reduce((a, b) => a + b, 0),
    get: (space, key, options) => inner.get(space, key, options),
    getOrThrow: (space, key, options) => inner.getOrThrow(space, key, options),
    keys: (space, query, options) => inner.keys(space, query, options),
    getEntry: (log, id, options) => inner.getEntry(log, id, options),
    range: (log, query, options) => inner.range(log, query, options),
    close: () => inner.close(),
    put: async (space: string, key: string, value: Uint8Array) => {
      await inner.put(space, key, value);
      apply({ type: "put", space, key, value });
    },
    delete: async (space: string, key: string) => {
      const done = await inner.delete(space, key);
      apply({ type: "delete", space, key });
      return done;
    },
    append: async (log: string, entries: Parameters<Store["append"]>[1]) => {
      const count = await inner.append(log, entries);
      apply({ type: "append", log, entries });
      return count;
    },
    deleteEntries: async (log: string, ids: readonly string[]) => {
      const count = await inner.deleteEntries(log, ids);
      apply({ type: "deleteEntries", log, ids });
      return count;
    },
    batch: async (ops: readonly StoreOp[]) => {
      await inner.batch(ops);
      for (const op of ops) apply(op);
    },
  };
}

/** A group message for an epoch nobody announced: well-formed, opens for nobody. */
function junk(seed: number, ciphertextBytes = 144): Uint8Array {
  const keyId = new Uint8Array(8);
  new DataView(keyId.buffer).setUint32(0, 0x0bad0000 + seed);
  const ciphertext = new Uint8Array(ciphertextBytes);
  ciphertext.fill(seed & 0xff);
  return encodeGroupMessage({
    version: 1,
    keyId,
    contentType: MessageType.CHANNEL_MESSAGE,
    senderData: new Uint8Array(28).fill(7),
    ciphertext,
  });
}

function diagnostics(peer: Peer): Diagnostic[] {
  const out: Diagnostic[] = [];
  peer.client.on("diagnostic", (d) => out.push(d));
  return out;
}

/** What the owner and each member sent, and how often each member read history, during a run. */
interface Amplification {
  /** Resync requests per member (pairwise messages on the requests topic). */
  readonly resyncs: number[];
  /** The owner's publishes in its members' inboxes (Welcomes) and on keys topics (snapshots). */
  readonly welcomes: number;
  readonly snapshots: number;
  /** History queries per member. */
  readonly queries: number[];
  readonly announced: number;
}

/**
 * An org of five members; an outsider publishes `count` junk group messages on "general", one
 * every `everyMs`; then an hour of timers (back-offs, retries, sweeps) runs.
 */
async function junkRun(count: number, everyMs: number): Promise<Amplification> {
  const w = new World();
  world = w;
  const { owner, members, orgId } = await orgWithMembers(w, ["a", "b", "c", "d", "e"]);
  await w.advance(60_000);
  const ownerTraffic = watch(owner.transport);
  const memberTraffic = members.map((m) => watch(m.transport));
  for (const m of members) m.events.length = 0;
  const mallory = w.network.transport({ name: "mallory" });
  await mallory.start();
  const topic = channelTopic(fromHex(orgId), "general");
  for (let i = 0; i < count; i++) {
    await mallory.publish(topic, junk(i));
    await w.advance(everyMs);
  }
  for (let i = 0; i < 60; i++) await w.advance(60_000);
  await mallory.stop();
  const requests = requestsTopic(fromHex(orgId));
  return {
    resyncs: memberTraffic.map((t) => t.published.filter((p) => p === requests).length),
    welcomes: ownerTraffic.published.filter((p) => p.startsWith("/orgchat/1/i-")).length,
    snapshots: ownerTraffic.published.filter((p) => p.startsWith("/orgchat/1/k-")).length,
    queries: memberTraffic.map((t) => t.queries),
    announced: members
      .map((m) => names(m.events, ["message:waiting-for-key", "resync:requested"]).length)
      .reduce((a, b) => a + b, 0),
  };
}

describe("unknown key ids (issue #13, row 3)", () => {
  it("30 junk messages: at most 2 resync requests per member; owner answers and history reads bounded", async () => {
    const quiet = await junkRun(0, 20_000);
    await world?.close();
    const burst = await junkRun(30, 0);
    await world?.close();
    const trickle = await junkRun(30, 20_000);
    console.log(JSON.stringify({ quiet, burst, trickle }));
    for (const run of [burst, trickle]) {
      expect(run.announced).toBe(0);
      expect(Math.max(...run.resyncs)).toBeLessThanOrEqual(2);
      expect(run.welcomes).toBeLessThanOrEqual(quiet.welcomes);
      expect(run.snapshots).toBeLessThanOrEqual(quiet.snapshots);
      // The history sweep reads every topic anyway; junk adds at most a look at the keys topics
      // per step of the probe's back-off (before: ~300 more queries per member for 30 junk).
      expect(Math.max(...run.queries) - Math.min(...quiet.queries)).toBeLessThanOrEqual(30);
    }
  });
});

/** An organization in which carol's first message of a new epoch waits for its key. */
interface Waiting {
  readonly w: World;
  readonly owner: Peer;
  readonly alice: Peer;
  readonly carol: Peer;
  readonly orgId: string;
  readonly stores: Map<string, ReturnType<typeof measured>>;
  /** Lets carol's resync requests through from now on. */
  readonly deliver: () => void;
}

/**
 * Owner, alice and carol (no history: what she misses, only the owner gives her); carol misses
 * bob's removal, so the owner's next message ("kept") waits for her, announced once the owner's
 * republished roster names its epoch. Her resync requests are lost on the way until `deliver()`,
 * so the message keeps waiting meanwhile. Every store is measured.
 */
async function waitingMessage(config: ClientConfig = {}): Promise<Waiting> {
  const w = new World({ republishIntervalMs: 60_000, ...config });
  world = w;
  const stores = new Map<string, ReturnType<typeof measured>>();
  const join = async (name: string, history = true): Promise<Peer> => {
    const store = measured(memoryStore());
    stores.set(name, store);
    return w.peer(name, { store, history });
  };
  const owner = await join("owner");
  const orgId = await owner.client.createOrganization({ name: "Acme", encrypted: true });
  await owner.client.createChannel(orgId, { id: "general", name: "General" });
  await w.settle();
  const members: Peer[] = [];
  for (const [name, history] of [
    ["alice", true],
    ["bob", true],
    ["carol", false],
  ] as const) {
    const peer = await join(name, history);
    if (history) {
      await peer.client.discover(orgId);
    } else {
      // Without history she finds the organization in a description she hears live: a full one
      // (an owner operation publishes a delta, which needs its base), the periodic republish.
      await peer.client.discover(orgId).catch(() => undefined);
      await owner.client.setTags(orgId, [name]);
      await w.advance(60_000);
    }
    const requestId = await peer.client.requestToJoin(orgId);
    await w.settle();
    await owner.client.acceptRequest(orgId, requestId);
    await w.settle();
    members.push(peer);
  }
  const [alice, bob, carol] = members as [Peer, Peer, Peer];
  expect(carol.client.getOrganization(orgId).role).toBe("member");
  w.network.partition([[carol.transport]]);
  await owner.client.removeMember(orgId, bob.client.memberId);
  await w.settle();
  w.network.heal();
  const requests = requestsTopic(fromHex(orgId));
  const publish = carol.transport.publish.bind(carol.transport);
  let lose = true;
  Object.assign(carol.transport, {
    publish: (topic: string, payload: Uint8Array) =>
      lose && topic === requests
        ? Promise.resolve({ id: "lost", timestamp: w.time.now(), recipients: 0 })
        : publish(topic, payload),
  });
  await owner.client.sendMessage(orgId, "general", "kept");
  await w.settle();
  await w.advance(60_000);
  expect(names(carol.events, ["message:waiting-for-key"])).toEqual(["message:waiting-for-key"]);
  expect(received(carol)).toEqual([]);
  return {
    w,
    owner,
    alice,
    carol,
    orgId,
    stores,
    deliver: () => {
      lose = false;
    },
  };
}

/** Publishes `count` junk messages of `bytes` on "general" from a fresh outsider. */
async function flood(
  w: World,
  orgId: string,
  count: number,
  bytes: number,
  firstSeed = 0,
): Promise<void> {
  const mallory = w.network.transport({ name: `mallory-${firstSeed}` });
  await mallory.start();
  const topic = channelTopic(fromHex(orgId), "general");
  for (let i = 0; i < count; i++) {
    await mallory.publish(topic, junk(firstSeed + i, bytes));
    if (i % 50 === 49) await w.settle();
  }
  await w.settle();
  await mallory.stop();
}

/** Carol's requests get through again: her next retry is answered and "kept" arrives. */
async function delivered(waiting: Waiting): Promise<void> {
  waiting.deliver();
  const { w, carol } = waiting;
  for (let i = 0; i < 20 && received(carol).length === 0; i++) await w.advance(60_000);
  expect(received(carol)).toEqual(["kept"]);
  expect(names(carol.events, ["message:undecryptable"])).toEqual([]);
}

describe("a waiting message across a restart", () => {
  // Carol's transport reads no history (no sweep): her recovery's back-off and retry timer were
  // memory only, so before `Recovery.resume` nothing asked for the key again after a restart.
  it("the restarted member asks for the key again and reads the message", async () => {
    const waiting = await waitingMessage();
    await waiting.w.restart(waiting.carol);
    await delivered(waiting);
  }, 120_000);
});

describe("the foreign buffer (issue #13, row 3)", () => {
  it("1,100 junk messages of 140 KiB: at most 10 MB persisted per member; a genuine waiting message survives and is delivered", async () => {
    const waiting = await waitingMessage();
    const { w, owner, alice, carol, orgId, stores } = waiting;
    const before = new Map([...stores].map(([name, store]) => [name, store.bytes()]));
    const seen = [alice, carol, owner].map(diagnostics);
    await flood(w, orgId, 1_100, 140 * 1024);
    const persisted = Object.fromEntries(
      [...stores].map(([name, store]) => [name, store.bytes() - (before.get(name) ?? 0)]),
    );
    console.log(JSON.stringify({ persisted }));
    for (const name of ["owner", "alice", "carol"]) {
      expect(persisted[name]).toBeLessThanOrEqual(10_000_000);
    }
    // Every eviction was reported; nothing was announced.
    for (const diagnosticsOf of seen) {
      expect(diagnosticsOf.some((d) => d.reason === "foreign-evicted")).toBe(true);
    }
    expect(names(alice.events, ["message:waiting-for-key"])).toEqual([]);
    await delivered(waiting);
    // 154 MB of junk through four clients: a safety net for a loaded machine, not a deadline.
  }, 600_000);

  it("a restart keeps the buffer: the waiting message stays, the junk (also a record in the old JSON form) is loaded and evicted by new junk", async () => {
    const waiting = await waitingMessage();
    const { w, carol, orgId } = waiting;
    await flood(w, orgId, 5, 200);
    const log = `pending/${orgId}`;
    // A foreign record as stores written before the binary record form hold it (JSON, payload hex).
    const old: PendingMessage = {
      id: "0".repeat(64),
      topic: channelTopic(fromHex(orgId), "general"),
      channelId: "general",
      keyId: "0bad0fff00000000",
      payload: junk(0xfff, 200),
      receivedAt: w.time.now(),
      foreign: true,
    };
    await carol.store.append(log, [
      { id: old.id, sortKey: BigInt(old.receivedAt), value: encodeJson(old) },
    ]);
    const kept = (await carol.store.range(log)).map((e) => e.id);
    // The waiting message, 5 junk messages and the old record.
    expect(kept).toHaveLength(7);
    const eventsBefore = carol.events.length;
    await w.restart(carol);
    const seen = diagnostics(carol);
    // A full foreign buffer of new junk evicts every foreign record loaded at the restart.
    await flood(w, orgId, foreignBufferLimits.maxMessages, 200, 1_000);
    const after = new Set((await carol.store.range(log)).map((e) => e.id));
    for (const id of kept.slice(1)) expect(after.has(id), `${id} still stored`).toBe(false);
    expect(after.has(kept[0] as string), "the waiting message stays").toBe(true);
    expect(seen.filter((d) => d.reason === "foreign-evicted").length).toBeGreaterThanOrEqual(6);
    // Junk is never announced, after the restart either (the genuine message at most, again).
    const announced = carol.events
      .slice(eventsBefore)
      .flatMap(([name, payload]) =>
        name === "message:waiting-for-key" ? [(payload as { pendingId: string }).pendingId] : [],
      );
    expect(announced.filter((id) => id !== kept[0])).toEqual([]);
    // And it is read once the key comes (the recovery resumed at the restart: `Recovery.resume`).
    await delivered(waiting);
  });

  it("a full pending buffer of genuine waiting messages: junk is refused, never takes their place", async () => {
    const waiting = await waitingMessage({ maxPendingMessages: 1 });
    const seen = diagnostics(waiting.carol);
    await flood(waiting.w, waiting.orgId, 30, 200);
    expect(seen.filter((d) => d.reason === "foreign-buffer-full")).toHaveLength(30);
    await delivered(waiting);
  });
});

describe("the owner's resync answers (issue #13, row 3)", () => {
  it("a member asking in a loop: one answer per interval, the excess reported", async () => {
    const w = new World();
    world = w;
    const { owner, members, orgId } = await orgWithMembers(w, ["alice"]);
    const alice = members[0] as Peer;
    const seen = diagnostics(owner);
    const aliceTraffic = watch(alice.transport);
    owner.events.length = 0;
    for (let i = 0; i < 10; i++) {
      await alice.client.resync(orgId);
      await w.advance(5_000);
    }
    const asked = aliceTraffic.published.filter((t) => t === requestsTopic(fromHex(orgId))).length;
    expect(asked).toBeGreaterThan(1);
    expect(names(owner.events, ["resync:requested"])).toEqual(["resync:requested"]);
    expect(seen.filter((d) => d.reason === "resync-member-rate")).toHaveLength(asked - 1);
  });

  it("all members at once: the owner answers a burst, then a steady rate; the rest are answered on their retries", async () => {
    const w = new World();
    world = w;
    const owner = await w.peer("owner");
    const orgId = await owner.client.createOrganization({ name: "Acme", encrypted: true });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    await w.settle();
    // Members without history: what they miss, only the owner can give them.
    const count = resyncAnswerLimits.totalBurst + 6;
    const members: Peer[] = [];
    for (let i = 0; i < count; i++) {
      const peer = await w.peer(`m${i}`, { history: false });
      await peer.client.discover(orgId).catch(() => undefined);
      members.push(peer);
    }
    await publishFullDescription(w, owner, orgId, "live");
    for (const peer of members) {
      const requestId = await peer.client.requestToJoin(orgId);
      await w.settle();
      await owner.client.acceptRequest(orgId, requestId);
      await w.settle();
    }
    const leaving = members.pop() as Peer;
    w.network.partition([members.map((m) => m.transport)]);
    await owner.client.removeMember(orgId, leaving.client.memberId);
    await w.settle();
    w.network.heal();
    const epoch = owner.client.getOrganization(orgId).epoch;
    const seen = diagnostics(owner);
    owner.events.length = 0;
    for (const peer of members) await peer.client.resync(orgId);
    await w.settle();
    const answered = () => names(owner.events, ["resync:requested"]).length;
    expect(answered()).toBe(resyncAnswerLimits.totalBurst);
    expect(seen.filter((d) => d.reason === "resync-total-rate")).toHaveLength(
      members.length - resyncAnswerLimits.totalBurst,
    );
    // Their back-off asks again; the refilled budget answers them.
    for (let i = 0; i < 10; i++) await w.advance(10_000);
    expect(answered()).toBe(members.length);
    for (const peer of members) expect(peer.client.getOrganization(orgId).epoch).toBe(epoch);
  }, 300_000);
});

describe("what an unopened message is (rule)", () => {
  const me = new Uint8Array(32).fill(1);
  const other = new Uint8Array(32).fill(2);
  const leaf = (identityKey: Uint8Array) => ({
    identityKey,
    signingKey: identityKey,
    prekey: identityKey,
  });
  const judge = (
    evidence: { channelId: string; epoch: bigint } | undefined,
    heldEpoch: bigint | undefined,
    listed: Uint8Array | undefined,
  ) =>
    judgeUnopened({
      evidence,
      heldEpoch,
      roster: listed === undefined ? undefined : [leaf(listed)],
      identityKey: me,
    });

  it("foreign without owner-signed evidence, whatever else is known", () => {
    expect(judge(undefined, 3n, me)).toBe("foreign");
    expect(judge(undefined, undefined, undefined)).toBe("foreign");
  });

  it("waiting for a sibling epoch (its parent a kept fork point, its roster listing this member), not past", () => {
    const sibling = (listed: Uint8Array | undefined, keeps: boolean) =>
      judgeUnopened({
        evidence: { channelId: "", epoch: 3n },
        heldEpoch: 4n,
        roster: listed === undefined ? undefined : [leaf(listed)],
        identityKey: me,
        sibling: keeps,
      });
    expect(sibling(me, true)).toBe("waiting");
    expect(sibling(me, false)).toBe("past");
    expect(sibling(undefined, true)).toBe("past");
    expect(sibling(other, true)).toBe("not-entitled");
  });

  it("waiting only for a newer epoch this member is (or may be) listed in", () => {
    expect(judge({ channelId: "", epoch: 4n }, 3n, me)).toBe("waiting");
    expect(judge({ channelId: "", epoch: 4n }, undefined, undefined)).toBe("waiting");
    expect(judge({ channelId: "", epoch: 4n }, 3n, other)).toBe("not-entitled");
  });

  it("past: an epoch of a group held at that epoch or later (a replayed key id costs nothing)", () => {
    expect(judge({ channelId: "", epoch: 3n }, 3n, me)).toBe("past");
    expect(judge({ channelId: "", epoch: 1n }, 5n, undefined)).toBe("past");
  });
});

describe("foreign buffer limits (rule)", () => {
  const held = (id: string, keyId: string, bytes: number, at: number, foreign = true) =>
    ({
      id,
      topic: "t",
      channelId: "general",
      keyId,
      payload: new Uint8Array(bytes),
      receivedAt: at,
      ...(foreign ? { foreign: true as const } : {}),
    }) satisfies PendingMessage;

  it("one key id keeps its share, the oldest of it go first; other key ids are untouched", () => {
    const pending = [
      held("other", "k2", 10, 0),
      ...Array.from({ length: foreignBufferLimits.maxMessagesPerKeyId }, (_, i) =>
        held(`k1-${i}`, "k1", 10, i + 1),
      ),
    ];
    expect(foreignEvictions(pending, { keyId: "k1", bytes: 10 })).toEqual(["k1-0"]);
    expect(foreignEvictions(pending, { keyId: "k3", bytes: 10 })).toEqual([]);
  });

  it("the total is bounded in bytes; genuine waiting messages are never evicted", () => {
    const big = 140 * 1024;
    const fit = Math.floor(foreignBufferLimits.maxBytes / big);
    const pending = [
      held("genuine", "g", big, 0, false),
      ...Array.from({ length: fit }, (_, i) => held(`j${i}`, `k${i}`, big, i + 1)),
    ];
    const evict = foreignEvictions(pending, { keyId: "new", bytes: big });
    expect(evict).toEqual(["j0"]);
    expect(foreignEvictions(pending, { keyId: "new", bytes: 600 * 1024 })).toBeUndefined();
  });
});

describe("the owner's resync budget (rule)", () => {
  it("one answer per member per interval; an honest retry after it is answered", () => {
    const budget = new ResyncAnswerBudget(60_000);
    const ask = (now: number) => budget.judge({ member: "m", now });
    expect(ask(0)).toBeUndefined();
    expect(ask(5_000)).toBe("member-rate");
    expect(ask(59_999)).toBe("member-rate");
    expect(ask(60_000)).toBeUndefined();
  });

  it("all members together: a burst, then one answer per refill step; refused members keep their token", () => {
    const budget = new ResyncAnswerBudget(60_000);
    const ask = (member: string, now: number) => budget.judge({ member, now });
    const answered = Array.from({ length: 40 }, (_, i) => ask(`m${i}`, 0));
    expect(answered.filter((r) => r === undefined)).toHaveLength(resyncAnswerLimits.totalBurst);
    expect(answered.slice(resyncAnswerLimits.totalBurst)).toEqual(
      Array(40 - resyncAnswerLimits.totalBurst).fill("total-rate"),
    );
    expect(ask("m39", resyncAnswerLimits.totalRefillMs - 1)).toBe("total-rate");
    expect(ask("m39", resyncAnswerLimits.totalRefillMs)).toBeUndefined();
  });
});
