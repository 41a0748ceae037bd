/**
 * Resource budgets of the attacks of issue #13, per attack class: what one hostile message costs
 * its victims. Each attack runs in an {@link Arena} (memory network, virtual clock) with the
 * adversary harness, the way the suite in test/adversary/ mounts it, and reports per hostile
 * message:
 *
 * - **bytes persisted**: growth of the most affected honest peer's store (every record and log
 *   entry it holds, measured by reading the store back), divided by the hostile messages;
 * - **CPU**: process CPU time (user + system) from the first hostile publish until every peer is at
 *   rest, divided by the hostile messages. Hostile bytes are crafted before the clock starts, so
 *   this is the victims' work (every honest peer in the process, and the in-process network);
 * - **provider calls**: calls into the honest peers' crypto providers (deterministic work);
 * - **amplification**: messages the honest peers published because of it (Welcomes, roster
 *   snapshots, resync requests, rejections), and history queries they made. Where virtual time
 *   passes after the flood (row 3: an hour, for back-offs and sweeps), what the peers do in the
 *   same span without an attack is subtracted.
 *
 * `pnpm --filter @orgchat/integration bench:adversary [-- --json] [-- --quick]`; the package's
 * `bench` runs it after the end-to-end benchmarks. `--json` prints one JSON document on one line;
 * `--quick` runs small floods (CI smoke: the ratios hold, the totals are small).
 */
import { channelTopic, requestsTopic } from "@orgchat/wire";
import {
  Arena,
  type ArenaPeer,
  arenaOrg,
  cpuMicros,
  eventsOf,
  type Hostile,
  keyOf,
  total,
} from "../src/adversary/index.js";

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");

/** One attack class's figures. */
interface AttackFigures {
  readonly attack: string;
  /** The row of issue #13. */
  readonly row: string;
  readonly hostileMessages: number;
  readonly hostileBytes: number;
  /** Growth of the most affected honest peer's store, per hostile message. */
  readonly bytesPersistedPerMessage: number;
  /** Same, in all (that peer). */
  readonly bytesPersisted: number;
  readonly cpuMicrosPerMessage: number;
  readonly providerCallsPerMessage: number;
  /** Messages every honest peer together published, per hostile message. */
  readonly victimPublishesPerMessage: number;
  /** History queries every honest peer together made, per hostile message. */
  readonly historyQueriesPerMessage: number;
  /** Resync requests members sent, in all. */
  readonly resyncRequests: number;
  /** Hostile messages any honest peer showed (`message:received`, `request:received`, …). */
  readonly shown: number;
}

interface Snapshot {
  readonly bytes: Map<string, number>;
  readonly calls: number;
  readonly published: number;
  readonly queries: number;
  readonly resyncs: number;
}

async function snapshot(peers: readonly ArenaPeer[]): Promise<Snapshot> {
  const bytes = new Map<string, number>();
  for (const peer of peers) bytes.set(peer.name, await peer.store.persistedBytes());
  return {
    bytes,
    calls: peers.reduce((sum, p) => sum + p.provider.totalCalls(), 0),
    published: peers.reduce((sum, p) => sum + total(p.transport.counts.published), 0),
    queries: peers.reduce((sum, p) => sum + total(p.transport.counts.historyQueries), 0),
    resyncs: peers.reduce((sum, p) => sum + eventsOf(p, "resync:requested").length, 0),
  };
}

/**
 * Publishes `messages` (crafted beforehand) from `send`, lets everything come to rest (and
 * `afterMs` of virtual time pass, for back-offs and sweeps), and measures the honest `peers`.
 */
async function measure(
  arena: Arena,
  init: {
    readonly attack: string;
    readonly row: string;
    readonly peers: readonly ArenaPeer[];
    readonly messages: readonly Uint8Array[];
    readonly send: (payload: Uint8Array) => Promise<void>;
    readonly afterMs?: number;
    readonly shown: () => number;
  },
): Promise<AttackFigures> {
  const n = init.messages.length;
  await arena.settle();
  // With time passing after the flood, the honest peers' own periodic work (history sweeps) is not
  // the attack's: measure the same span without the attack first (after a warm-up span, so that
  // the sweeps have reached their resting interval) and subtract it.
  let idle = { calls: 0, published: 0, queries: 0 };
  if (init.afterMs !== undefined) {
    await arena.advance(init.afterMs, 60_000);
    const start = await snapshot(init.peers);
    await arena.advance(init.afterMs, 60_000);
    const end = await snapshot(init.peers);
    idle = {
      calls: end.calls - start.calls,
      published: end.published - start.published,
      queries: end.queries - start.queries,
    };
  }
  const before = await snapshot(init.peers);
  const cpu = await cpuMicros(async () => {
    for (const [i, payload] of init.messages.entries()) {
      await init.send(payload);
      if (i % 50 === 49) await arena.settle();
    }
    await arena.settle();
    if (init.afterMs !== undefined) await arena.advance(init.afterMs, 60_000);
  });
  const after = await snapshot(init.peers);
  let grown = 0;
  for (const [name, bytes] of after.bytes)
    grown = Math.max(grown, bytes - (before.bytes.get(name) ?? 0));
  return {
    attack: init.attack,
    row: init.row,
    hostileMessages: n,
    hostileBytes: init.messages.reduce((sum, m) => sum + m.length, 0),
    bytesPersistedPerMessage: Math.round(grown / n),
    bytesPersisted: grown,
    cpuMicrosPerMessage: Math.round(cpu / n),
    providerCallsPerMessage: round2((after.calls - before.calls - idle.calls) / n),
    victimPublishesPerMessage: round2((after.published - before.published - idle.published) / n),
    historyQueriesPerMessage: round2((after.queries - before.queries - idle.queries) / n),
    resyncRequests: after.resyncs - before.resyncs,
    shown: init.shown(),
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

const texts = (peers: readonly ArenaPeer[], accept: (text: string) => boolean) =>
  peers.reduce(
    (sum, p) => sum + eventsOf(p, "message:received").filter((e) => accept(e.message.text)).length,
    0,
  );

/** Row 1: members' posts clocked 2^64 − 1 (public organization). */
async function clockBomb(n: number): Promise<AttackFigures> {
  const arena = new Arena({ seed: 101 });
  try {
    const { owner, members, orgId } = await arenaOrg(arena, ["alice", "bob"], { encrypted: false });
    const [alice, bob] = members as [ArenaPeer, ArenaPeer];
    const attacker = (await arena.turn(alice, orgId)).hostile;
    const messages: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      messages.push(
        await attacker.publicPost(orgId, { clock: 2n ** 64n - 1n - BigInt(i), text: `bomb ${i}` }),
      );
    }
    const topic = channelTopic(keyOf(orgId), "general");
    return await measure(arena, {
      attack: "clock bomb (member posts clocked 2^64 − 1)",
      row: "1",
      peers: [owner, bob],
      messages,
      send: (m) => attacker.publish(topic, m),
      shown: () => texts([owner, bob], (t) => t.startsWith("bomb ")),
    });
  } finally {
    await arena.close();
  }
}

/** Row 2: posts from a banned member's kept group state. */
async function keptState(n: number): Promise<AttackFigures> {
  const arena = new Arena({ seed: 102 });
  try {
    const { owner, members, orgId } = await arenaOrg(arena, ["alice", "bob"]);
    const [alice, bob] = members as [ArenaPeer, ArenaPeer];
    const turned = await arena.turn(alice, orgId);
    const attacker = turned.hostile;
    const group = turned.group();
    await owner.client.banMember(orgId, alice.client.memberId);
    await arena.settle();
    const messages = Array.from({ length: n }, (_, i) =>
      attacker.groupPost(group, orgId, { clock: 50n, text: `kept ${i}` }),
    );
    const topic = channelTopic(keyOf(orgId), "general");
    return await measure(arena, {
      attack: "banned member's posts from kept group state",
      row: "2",
      peers: [owner, bob],
      messages,
      send: (m) => attacker.publish(topic, m),
      shown: () => texts([owner, bob], (t) => t.startsWith("kept ")),
    });
  } finally {
    await arena.close();
  }
}

/** Row 3: group messages under unknown key ids, `size` bytes each. */
async function unknownKeys(n: number, size: number): Promise<AttackFigures> {
  const arena = new Arena({ seed: 103 });
  try {
    const { owner, members, orgId } = await arenaOrg(arena, ["alice", "bob"]);
    const attacker = await arena.hostile("mallory");
    const messages = Array.from({ length: n }, (_, i) => attacker.junkGroupMessage(i, size));
    const topic = channelTopic(keyOf(orgId), "general");
    return await measure(arena, {
      attack: `unknown key ids (${size >= 1024 ? `${Math.round(size / 1024)} KiB` : `${size} B`} each)`,
      row: "3",
      peers: [owner, ...members],
      messages,
      send: (m) => attacker.publish(topic, m),
      afterMs: 60 * 60_000,
      shown: () =>
        [owner, ...members].reduce((s, p) => s + eventsOf(p, "message:waiting-for-key").length, 0),
    });
  } finally {
    await arena.close();
  }
}

/** Row 4: requests to join from fresh keys dated 10 years ahead (two envelopes each). */
async function futureRequests(n: number): Promise<AttackFigures> {
  const arena = new Arena({ seed: 104 });
  try {
    const { owner, members, orgId } = await arenaOrg(arena, ["bob"]);
    const ahead = () => arena.clock.now() + 10 * 365 * 24 * 3_600_000;
    const at = owner.client.getOrganization(orgId).clock + 1n;
    const requests = new Set<string>();
    const messages: Uint8Array[] = [];
    let sender: Hostile | undefined;
    for (let i = 0; i < n; i++) {
      const stranger = await arena.hostile(`stranger ${i}`, { now: ahead });
      sender ??= stranger;
      const { id, envelopes } = await stranger.craftRequestToJoin(orgId, { clock: at });
      requests.add(id);
      messages.push(...envelopes);
    }
    const topic = requestsTopic(keyOf(orgId));
    return await measure(arena, {
      attack: "requests to join dated 10 years ahead, fresh keys (per envelope, 2 a request)",
      row: "4",
      peers: [owner, ...members],
      messages,
      send: async (m) => sender?.publish(topic, m),
      shown: () =>
        owner.client.listRequests(orgId).filter((r) => requests.has(r.id) && r.status === "pending")
          .length,
    });
  } finally {
    await arena.close();
  }
}

/** Row 5: outsiders' 100 KB posts in a public organization. */
async function outsiderPosts(n: number): Promise<AttackFigures> {
  const arena = new Arena({ seed: 105 });
  try {
    const { owner, members, orgId } = await arenaOrg(arena, ["alice", "bob"], { encrypted: false });
    const text = "x".repeat(100 * 1024);
    const messages: Uint8Array[] = [];
    const stranger = await arena.hostile("stranger");
    for (let i = 0; i < n; i++) {
      const fresh = await arena.hostile(`stranger ${i}`);
      messages.push(await fresh.publicPost(orgId, { text, clock: 10n + BigInt(i) }));
    }
    const topic = channelTopic(keyOf(orgId), "general");
    return await measure(arena, {
      attack: "outsider posts of 100 KB in a public organization (fresh keys)",
      row: "5",
      peers: [owner, ...members],
      messages,
      send: (m) => stranger.publish(topic, m),
      shown: () => texts([owner, ...members], (t) => t === text),
    });
  } finally {
    await arena.close();
  }
}

/** Row 8: forged group messages claiming a generation 999 ahead (fresh bytes each). */
async function forgedGenerations(n: number): Promise<AttackFigures> {
  const arena = new Arena({ seed: 108 });
  try {
    const { owner, members, orgId } = await arenaOrg(arena, ["alice", "bob"]);
    const [alice, bob] = members as [ArenaPeer, ArenaPeer];
    const attacker = (await arena.turn(alice, orgId)).hostile;
    const messages: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const group = (await arena.turn(alice, orgId)).group();
      messages.push(attacker.forgedGeneration(group, orgId, 999 - (i % 100)));
    }
    const topic = channelTopic(keyOf(orgId), "general");
    return await measure(arena, {
      attack: "forged group messages claiming generation ~999",
      row: "8",
      peers: [owner, bob],
      messages,
      send: (m) => attacker.publish(topic, m),
      shown: () => texts([owner, bob], (t) => t === "forged"),
    });
  } finally {
    await arena.close();
  }
}

const profile = quick
  ? { bomb: 20, kept: 20, junkSmall: 30, junkLarge: 20, requests: 20, posts: 20, forged: 10 }
  : {
      bomb: 200,
      kept: 200,
      junkSmall: 300,
      junkLarge: 1_100,
      requests: 100,
      posts: 500,
      forged: 100,
    };

const attacks: AttackFigures[] = [];
attacks.push(await clockBomb(profile.bomb));
attacks.push(await keptState(profile.kept));
attacks.push(await unknownKeys(profile.junkSmall, 400));
attacks.push(await unknownKeys(profile.junkLarge, 140 * 1024));
attacks.push(await futureRequests(profile.requests));
attacks.push(await outsiderPosts(profile.posts));
attacks.push(await forgedGenerations(profile.forged));

if (json) {
  process.stdout.write(
    `${JSON.stringify({ bench: "adversary", profile: quick ? "quick" : "full", node: process.version, attacks })}\n`,
  );
} else {
  console.log(`adversary bench (${quick ? "quick" : "full"} profile, Node ${process.version})`);
  console.table(
    attacks.map((a) => ({
      row: a.row,
      attack: a.attack,
      hostile: a.hostileMessages,
      "B persisted/msg": a.bytesPersistedPerMessage,
      "B persisted": a.bytesPersisted,
      "µs CPU/msg": a.cpuMicrosPerMessage,
      "provider calls/msg": a.providerCallsPerMessage,
      "publishes/msg": a.victimPublishesPerMessage,
      "history queries/msg": a.historyQueriesPerMessage,
      resyncs: a.resyncRequests,
      shown: a.shown,
    })),
  );
}
