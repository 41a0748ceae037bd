/**
 * Benchmarks of `@orgchat/client` end to end over real Waku on loopback (issue #7), each with its
 * in-process floor: the same scenario, same client code, on the memory network, in the same run.
 *
 * `pnpm --filter @orgchat/integration bench [-- --json] [-- --quick]`
 *
 * - **join**: request → accepted → first message decrypted. A newcomer that discovered the
 *   organization asks to join; the owner accepts as soon as the request arrives and sends a message;
 *   the clock stops when the newcomer has decrypted it (goal ≤ 1 s).
 * - **throughput**: 1,000 encrypted messages of 256 B (text) sent by one member, until the owner and
 *   a second member have decrypted every one (3 client nodes; over Waku they relay through one
 *   service node, which also stores every message), after 200 untimed warm-up messages. Measured
 *   four ways: **3 relay nodes, one process each** (the owner, the sender and the second member,
 *   each forked from `src/process-node/` with its own relay transport listening on 127.0.0.1 and
 *   dialing the others: a full mesh, no service node in the timed path; the goal, ≤ 0.5 s, applies
 *   to this one), the same three relaying through a service node (4 processes), every node in this
 *   process (one thread), and the floor on the memory network. Each comes with the CPU time it used
 *   (per process for the processes) and, for the processes, the CPU floor: the CPU sum over the
 *   cores (or the busiest process, if more).
 * - **removal in a 1,000-member organization**: the owner removes a member (one KeyUpdate for the
 *   999 others, the new roster, the description) and sends a message; the clock stops when one real
 *   member has re-keyed and decrypted it. Reported with the bytes the owner published.
 *   How the 1,000 members are made (1,000 live Waku clients would not fit a 2-core machine): on
 *   the memory network, each joins a public organization through the client's public API and the
 *   owner's normal path (discover, request with member keys over X3DH, accept) and is closed once
 *   accepted; the owner then switches the organization to encrypted (`setEncrypted`: one genesis
 *   epoch, a Welcome per member), and the real member joins (one add step). The owner and the real
 *   member then restart on their stores with Waku relay transports (a service node in between) and
 *   the removal is measured there. The floor is a removal measured on the memory network just
 *   before the switch (1,001 → 1,000 members besides the owner; the Waku run removes 1,000 → 999).
 *
 * **Client configuration**: the production defaults (`defaultClientConfig` of `@orgchat/client`),
 * not the test worlds' fast settings, with two exceptions: `rekeyWindowMs: 0`, so that a removal
 * re-keys inside `removeMember` and the removal figure is the cost of the re-key itself, and
 * `addWindowMs: 0`, so that an accepted newcomer gets its keys inside `acceptRequest` (the join
 * figure is the admission's cost; a message the owner sends right after accepting is one the
 * newcomer can read). In production removals wait up to `rekeyWindowMs` (2 s) and admissions up to
 * `addWindowMs` (200 ms) to be batched into one epoch change: add those windows to the removal and
 * join figures for what a user sees. No client has a passphrase, so nothing
 * is sealed and `scryptN` costs nothing here. The configuration used is printed with the results
 * (`clientConfig` in the JSON), and so is the number of resync requests (none is expected: a resync
 * would add a production back-off of seconds to a figure).
 *
 * `--json` prints one JSON document on one line; `--quick` runs a small profile (CI smoke: the
 * numbers mean little) without the one-process-per-node run unless `--processes` is given
 * (`--no-processes` skips it in the full profile; `--tcp` makes its nodes connect over plain TCP
 * instead of WebSocket). For profiling: `--only join|throughput|removal` runs one
 * part (`--only processes`: the one-process-per-node throughputs alone; `--layout mesh|service`: one
 * of them), `--no-floor` skips the
 * memory-network floors, `--profile-marks` prints the timed windows, `--warmup <n>` sends n warm-up
 * messages instead of 200 (V8 optimizes a function after about 3,000 calls: the default leaves
 * much of the timed window in baseline code and compiling).
 */
import { cpus } from "node:os";
import { type Client, createClient, isUnknownOrganizationError } from "@orgchat/client";
import { memoryStore, type Store } from "@orgchat/store";
import { decryptedCounter } from "../src/process-node/decrypted.js";
import { meteredTransport as counting } from "../src/scale/meters.js";
import {
  createWorld,
  discover,
  type Peer,
  received,
  request,
  viewOf,
  type World,
  type WorldKind,
} from "../src/world.js";
import { benchClientConfig, benchConfigNote } from "./client-config.js";
import { type LatencyStats, latencyStats, ratioTo, roundMs } from "./latency-stats.js";
import { messageTexts, throughputProcesses } from "./throughput-processes.js";

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");
/**
 * `--only join|throughput|removal|processes`: run one part (profiling); the others print as
 * skipped. `processes` is the one-process-per-node throughput alone.
 */
const only = process.argv[process.argv.indexOf("--only") + 1];
const runs = (part: string) => !process.argv.includes("--only") || only === part;
/** `--no-floor`: skip the memory-network floors (profiling the Waku path alone). */
const floors = !process.argv.includes("--no-floor");
/**
 * Throughput with every node in its own process (as deployed): in the full profile, or with
 * `--processes`; `--no-processes` skips it.
 */
const processes =
  !process.argv.includes("--no-processes") && (!quick || process.argv.includes("--processes"));
/**
 * `--profile-marks`: print each throughput run's timed window on stderr (`window <run> <start>
 * <end>`, `process.hrtime` ns: the monotonic clock CPU profiles use, the same in every process), to
 * cut the `--cpu-prof` profiles of the bench and of its node processes to it.
 */
const profileMarks = process.argv.includes("--profile-marks");
/**
 * `--tcp`: the one-process-per-node runs connect over plain TCP, not WebSocket (the service layout
 * dials the service node over it; the mesh layout's clients listen and dial each other over it).
 */
const overTcp = process.argv.includes("--tcp");
/**
 * `--layout mesh|service`: run the one-process-per-node throughput in that layout only (profiling);
 * both by default.
 */
const layoutOption = process.argv.includes("--layout")
  ? process.argv[process.argv.indexOf("--layout") + 1]
  : undefined;

const joinSamples = quick ? 2 : 10;
const messageCount = quick ? 100 : 1_000;
const messageBytes = 256;
/**
 * Messages sent and decrypted before the throughput clock starts, so that every process runs warm
 * code (a fresh node process would otherwise spend its first sends compiling). `--warmup <n>`
 * changes it (to show how much of the timed CPU is still the JIT's: see docs/SCALE.md).
 */
const warmupCount = process.argv.includes("--warmup")
  ? Number(process.argv[process.argv.indexOf("--warmup") + 1])
  : quick
    ? 20
    : 200;
if (!Number.isSafeInteger(warmupCount) || warmupCount < 1) throw new Error("--warmup: a count ≥ 1");
const orgMembers = quick ? 100 : 1_000;

/** Production defaults but the batching windows (see the header): what every client here runs with. */
const clientConfig = benchClientConfig;
const configNote = benchConfigNote;

/** Resync requests seen in every world (a resync would put a production back-off in a figure). */
let resyncRequests = 0;

/** A world of `kind` whose clients run {@link clientConfig}; counts resync requests. */
async function benchWorld(kind: WorldKind, timeoutMs: number): Promise<World> {
  return await createWorld(kind, {
    timeoutMs,
    config: clientConfig,
    onClient: (client) => {
      client.on("resync:requested", () => {
        resyncRequests++;
      });
    },
  });
}

type Stats = LatencyStats;
const stats = latencyStats;
const round = roundMs;
const ratio = ratioTo;

// --- join latency ----------------------------------------------------------------------------------

async function joinLatency(kind: WorldKind) {
  const world = await benchWorld(kind, 60_000);
  try {
    const owner = await world.peer("owner");
    const orgId = await owner.client.createOrganization({ name: "Acme", access: "on-request" });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    owner.client.on("request:received", ({ requestId, requester }) => {
      void (async () => {
        await owner.client.acceptRequest(orgId, requestId);
        await owner.client.sendMessage(orgId, "general", `welcome ${requester.slice(0, 8)}`);
      })();
    });
    const total: number[] = [];
    const accepted: number[] = [];
    const welcomed: number[] = [];
    for (let i = 0; i < joinSamples; i++) {
      const newcomer = await world.peer(`newcomer-${i}`);
      await discover(world, newcomer, orgId);
      const marks: Record<string, number> = {};
      newcomer.client.on("request:accepted", () => {
        marks.accepted ??= performance.now();
      });
      newcomer.client.on("epoch:changed", () => {
        marks.welcomed ??= performance.now();
      });
      const start = performance.now();
      await newcomer.client.requestToJoin(orgId, { displayName: `newcomer ${i}` });
      await world.until(() => received(newcomer).length > 0, "the first message to decrypt");
      const end = performance.now();
      total.push(end - start);
      accepted.push((marks.accepted ?? end) - start);
      welcomed.push((marks.welcomed ?? end) - start);
    }
    return {
      requestToFirstMessage: stats(total),
      requestToAccepted: stats(accepted),
      requestToWelcomeOpened: stats(welcomed),
    };
  } finally {
    await world.close();
  }
}

// --- throughput ------------------------------------------------------------------------------------

async function throughput(kind: WorldKind) {
  const world = await benchWorld(kind, 60_000);
  try {
    const sent = { bytes: 0, envelopes: 0 };
    const owner = await world.peer("owner");
    const orgId = await owner.client.createOrganization({ name: "Acme", access: "on-request" });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    const members: Peer[] = [];
    for (const name of ["alice", "bob"]) {
      const peer = await world.peer(name, {
        wrapTransport: (t) => (name === "alice" ? counting(t, sent) : t),
      });
      await discover(world, peer, orgId);
      await owner.client.acceptRequest(orgId, await request(world, owner, peer, orgId));
      await world.until(() => viewOf(peer, orgId)?.role === "member", `${name} to join`);
      members.push(peer);
    }
    const [alice, bob] = members as [Peer, Peer];
    // With an add window, bob is in the organization's epoch only once the owner flushed the add:
    // every message alice sends must be in an epoch both receivers hold.
    await world.until(() => {
      const epoch = viewOf(owner, orgId)?.epoch;
      return (
        epoch !== undefined &&
        viewOf(alice, orgId)?.epoch === epoch &&
        viewOf(bob, orgId)?.epoch === epoch
      );
    }, "alice and bob to reach the owner's epoch");
    await world.idle();
    {
      const warmOwner = decryptedCounter(owner.client, orgId);
      const warmBob = decryptedCounter(bob.client, orgId);
      await Promise.all(
        messageTexts("warm-up", warmupCount, messageBytes).map((t) =>
          alice.client.sendMessage(orgId, "general", t),
        ),
      );
      await Promise.all([warmOwner, warmBob].map((c) => c.reached(warmupCount, 60_000)));
      warmOwner.stop();
      warmBob.stop();
      await world.idle();
    }
    const texts = messageTexts("message", messageCount, messageBytes);
    const atOwner = decryptedCounter(owner.client, orgId);
    const atBob = decryptedCounter(bob.client, orgId);
    const before = { bytes: sent.bytes, envelopes: sent.envelopes };
    const startNs = process.hrtime.bigint();
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    const sends = Promise.all(
      texts.map((text) => alice.client.sendMessage(orgId, "general", text)),
    );
    await sends;
    const sentMs = performance.now() - start;
    const decrypted = await Promise.all([
      atOwner.reached(messageCount, 60_000),
      atBob.reached(messageCount, 60_000),
    ]);
    const totalMs = Math.max(...decrypted) - start;
    const cpu = process.cpuUsage(cpuBefore);
    if (profileMarks) {
      process.stderr.write(`window ${kind} ${startNs} ${process.hrtime.bigint()}\n`);
    }
    const allDecrypted = atOwner.messages === messageCount && atBob.messages === messageCount;
    return {
      totalMs: round(totalMs),
      senderDoneMs: round(sentMs),
      messagesPerSecond: Math.round((messageCount / totalMs) * 1000),
      allDecrypted,
      cpuMs: round((cpu.user + cpu.system) / 1000),
      wireBytesPerMessage: Math.round(
        (sent.bytes - before.bytes) / (sent.envelopes - before.envelopes),
      ),
    };
  } finally {
    await world.close();
  }
}

// --- removal in a large organization ---------------------------------------------------------------

/** Owner removes `victim` and sends; resolves when `member` decrypted that message. */
async function measureRemoval(
  world: World,
  owner: Peer,
  member: Peer,
  orgId: string,
  victim: string,
  counter: { bytes: number; envelopes: number },
) {
  const epochBefore = viewOf(member, orgId)?.epoch;
  const seen = received(member).length;
  const published = { bytes: counter.bytes, envelopes: counter.envelopes };
  const start = performance.now();
  await owner.client.removeMember(orgId, victim);
  const removeMs = performance.now() - start;
  const rekeyBytes = counter.bytes - published.bytes;
  const rekeyEnvelopes = counter.envelopes - published.envelopes;
  await owner.client.sendMessage(orgId, "general", `after removing ${victim.slice(0, 8)}`);
  let epochMs = 0;
  await world.until(() => {
    if (epochMs === 0 && viewOf(member, orgId)?.epoch !== epochBefore) {
      epochMs = performance.now() - start;
    }
    return received(member).length > seen;
  }, "the member to re-key and decrypt the next message");
  const totalMs = performance.now() - start;
  return {
    totalMs: round(totalMs),
    ownerOperationMs: round(removeMs),
    memberRekeyedMs: round(epochMs || totalMs),
    bytesPublished: rekeyBytes,
    envelopesPublished: rekeyEnvelopes,
    membersAfter: (viewOf(owner, orgId)?.members.size ?? 1) - 1,
  };
}

/** Whether `client` holds a description of the organization (only "unknown" means no). */
function knows(client: Client, orgId: string): boolean {
  try {
    return client.getOrganization(orgId).channels.length > 0;
  } catch (error) {
    if (isUnknownOrganizationError(error)) return false;
    throw error;
  }
}

/**
 * `count` members join the (public) organization one after the other through the public API
 * (discover, requestToJoin; the owner accepts on arrival) and are closed once accepted. Each
 * discovers the organization from history, newest first (the newest full description and the
 * deltas after it), so a join costs the joiner about one description, not the whole history of a
 * growing organization (docs/SCALE.md).
 */
async function joinMany(world: World, owner: Peer, orgId: string, count: number) {
  const network = world.network;
  if (network === undefined) throw new Error("joinMany needs a memory world");
  const joiner = async (i: number) => {
    const transport = network.transport({ name: `m${i}` });
    const client = await createClient({ transport, store: memoryStore(), config: world.config });
    await client.discover(orgId);
    return { client, transport };
  };
  const ids: string[] = [];
  let next = await joiner(0);
  await owner.client.setTags(orgId, ["growing"]);
  for (let i = 0; i < count; i++) {
    const current = next;
    await world.until(() => knows(current.client, orgId), `joiner ${i} to discover the org`);
    if (i + 1 < count) next = await joiner(i + 1);
    await current.client.requestToJoin(orgId);
    await world.until(
      () => current.client.getOrganization(orgId).role === "member",
      `joiner ${i} to be accepted`,
    );
    ids.push(current.client.memberId);
    await current.client.close();
    await current.transport.stop();
    if (!json && (i + 1) % 250 === 0) process.stderr.write(`  ${i + 1} members joined\n`);
  }
  return ids;
}

async function removal() {
  const buildStart = performance.now();
  const memory = await benchWorld("memory", 120_000);
  const ownerStore = memoryStore();
  const memberStore = memoryStore();
  const counter = { bytes: 0, envelopes: 0 };
  const keep = (store: Store) => async () => store;
  let floor: Awaited<ReturnType<typeof measureRemoval>> & { buildMs?: number };
  let victims: string[];
  let orgId: string;
  try {
    const owner = await memory.peer("owner", {
      openStore: keep(ownerStore),
      wrapTransport: (t) => counting(t, counter),
    });
    // Members join a public organization (no group yet), then the owner switches it to encrypted:
    // one genesis epoch and one Welcome per member, through setEncrypted.
    orgId = await owner.client.createOrganization({
      name: "Big",
      access: "on-request",
      encrypted: false,
    });
    await owner.client.createChannel(orgId, { id: "general", name: "General" });
    const id = orgId;
    owner.client.on("request:received", ({ requestId }) => {
      void owner.client.acceptRequest(id, requestId);
    });
    // `orgMembers` joiners and the real member: the floor removal leaves `orgMembers` members
    // besides the owner, and the removal over Waku happens in that organization.
    victims = await joinMany(memory, owner, orgId, orgMembers);
    await owner.client.setEncrypted(orgId, true);
    // The real member reads history like any newcomer (discover backfills the description topic).
    const member = await memory.peer("member", { openStore: keep(memberStore) });
    await discover(memory, member, orgId);
    await member.client.requestToJoin(orgId);
    await memory.until(
      () => viewOf(member, orgId)?.epoch === viewOf(owner, orgId)?.epoch,
      "the real member to reach the owner's epoch",
    );
    const buildMs = performance.now() - buildStart;
    floor = await measureRemoval(memory, owner, member, orgId, victims[0] as string, counter);
    floor.buildMs = round(buildMs);
    await owner.client.close();
    await member.client.close();
    owner.running = false;
    member.running = false;
  } finally {
    await memory.close();
  }

  const waku = await benchWorld("relay", 60_000);
  try {
    const owner = await waku.peer("owner", {
      openStore: keep(ownerStore),
      wrapTransport: (t) => counting(t, counter),
    });
    const member = await waku.peer("member", { openStore: keep(memberStore) });
    await waku.idle();
    const relay = await measureRemoval(waku, owner, member, orgId, victims[1] as string, counter);
    return { floor, relay };
  } finally {
    await waku.close();
  }
}

// --- run -------------------------------------------------------------------------------------------

const processOptions = {
  messageCount,
  messageBytes,
  warmupCount,
  overTcp,
  profileMarks,
  clientConfig,
};
const joinRelay = runs("join") ? await joinLatency("relay") : undefined;
const joinFloor = runs("join") && floors ? await joinLatency("memory") : undefined;
const throughputRelay = runs("throughput") ? await throughput("relay") : undefined;
const processRuns = (runs("throughput") && processes) || only === "processes";
const throughputMesh =
  processRuns && layoutOption !== "service"
    ? await throughputProcesses("mesh", processOptions)
    : undefined;
const throughputProcessesRelay =
  processRuns && layoutOption !== "mesh"
    ? await throughputProcesses("service", processOptions)
    : undefined;
const throughputFloor = runs("throughput") && floors ? await throughput("memory") : undefined;
const removed = runs("removal") ? await removal() : undefined;

const result = {
  benchmark: "@orgchat/integration: @orgchat/client over Waku relay on loopback",
  profile: quick ? "quick" : "full",
  node: process.version,
  cpus: cpus().length,
  clientConfig,
  configNote,
  resyncRequests,
  topology:
    "client nodes on wakuTransport({ mode: 'relay' }) dialing one @orgchat/service-node (relay + Store v3, in-memory archive) over ws on 127.0.0.1; floor: memoryNetwork() in process, same client code",
  join: joinRelay && {
    what: "requestToJoin → owner accepts on arrival and sends → newcomer decrypts that message",
    goalMs: 1_000,
    relay: joinRelay,
    floor: joinFloor ?? null,
    ratioP50: joinFloor
      ? ratio(joinRelay.requestToFirstMessage.p50Ms, joinFloor.requestToFirstMessage.p50Ms)
      : null,
  },
  throughput: (throughputRelay ?? throughputMesh ?? throughputProcessesRelay) && {
    what: `${messageCount} encrypted messages of ${messageBytes} B text from one member until the owner and a second member decrypted all`,
    goalMs: 500,
    goalAppliesTo:
      "relayMesh: 3 relay nodes (owner, sender, second member), one process each, meshed directly on 127.0.0.1 with no service node in the timed path. relayProcesses: the same clients relaying through one service node (4 processes). relay: the 4 nodes in one process (the sum of their work on one thread)",
    timed: `from asking the sender to send the messages (after ${warmupCount} warm-up messages both receivers decrypted) until both receivers answered that they decrypted every one; CPU per process over the same window; cpuFloorMs.thisMachine = max(CPU sum / cores, busiest process)`,
    messages: messageCount,
    textBytes: messageBytes,
    relay: throughputRelay ?? null,
    relayMesh: throughputMesh ?? null,
    relayProcesses: throughputProcessesRelay ?? null,
    floor: throughputFloor ?? null,
    ratio:
      throughputFloor && throughputRelay
        ? ratio(throughputRelay.totalMs, throughputFloor.totalMs)
        : null,
    ratioMesh:
      throughputFloor && throughputMesh
        ? ratio(throughputMesh.totalMs, throughputFloor.totalMs)
        : null,
    ratioProcesses:
      throughputFloor && throughputProcessesRelay
        ? ratio(throughputProcessesRelay.totalMs, throughputFloor.totalMs)
        : null,
  },
  removal: removed && {
    what: `owner removes one member of a ${orgMembers}-member organization and sends; one real member re-keys and decrypts that message`,
    how: "on the memory network, members joined a public organization through the client's public API and the owner's accept path (closed once accepted); the owner switched it to encrypted (genesis epoch, one Welcome each) and the real member joined; then the owner and the real member restarted on their stores over Waku relay with a service node. Floor: the same measurement on the memory network just before the switch (one member more).",
    members: orgMembers,
    relay: removed.relay,
    floor: removed.floor,
    ratio: ratio(removed.relay.totalMs, removed.floor.totalMs),
  },
};

if (json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const s = (x: Stats) => `p50 ${x.p50Ms} ms (min ${x.minMs}, max ${x.maxMs}, n=${x.samples})`;
  const lines = [
    `${result.benchmark} (${result.profile}, Node ${result.node}, ${result.cpus} cpus)`,
    `client config: ${configNote}: ${JSON.stringify(clientConfig)}; resync requests: ${resyncRequests}`,
  ];
  if (result.join) {
    const { relay, floor } = result.join;
    lines.push(
      `join (goal ≤ 1000 ms): relay ${s(relay.requestToFirstMessage)}; floor ${floor ? s(floor.requestToFirstMessage) : "skipped"}; ×${result.join.ratioP50}`,
      `  relay phases: accepted ${s(relay.requestToAccepted)}, Welcome opened ${s(relay.requestToWelcomeOpened)}`,
    );
  }
  if (result.throughput) {
    const { relay, relayMesh, relayProcesses, floor } = result.throughput;
    const perProcess = (run: NonNullable<typeof relayMesh>) =>
      `${run.totalMs} ms (${run.messagesPerSecond}/s, sender done at ${run.senderDoneMs} ms); CPU ms by process ${JSON.stringify(run.cpuMsByNode)}, sum ${run.cpuMsTotal}; CPU floor ${run.cpuFloorMs.thisMachine} ms on ${cpus().length} cores, ${run.cpuFloorMs.corePerNode} ms with a core per node${run.machine ? `; the machine meanwhile: load ${run.machine.loadAverage.join(" → ")}, ${run.machine.othersMs} ms of CPU besides these processes` : ""}`;
    lines.push(
      `throughput, 3 relay nodes meshed directly, one process each (goal ≤ 500 ms; timed from asking the sender to send until both receivers decrypted all, after the warm-up): ${relayMesh ? `${perProcess(relayMesh)}; ×${result.throughput.ratioMesh}` : "skipped"}`,
      `  relay, the 4 nodes in one process ${relay ? `${relay.totalMs} ms (${relay.messagesPerSecond}/s, sender done at ${relay.senderDoneMs} ms, all decrypted: ${relay.allDecrypted}, ${relay.wireBytesPerMessage} B/message on the wire, CPU ${relay.cpuMs} ms)` : "skipped"}; floor ${floor ? `${floor.totalMs} ms` : "skipped"}; ×${result.throughput.ratio}`,
      relayProcesses
        ? `  through a service node, one process per node (${relayProcesses.processes}, ${relayProcesses.connections}): ${perProcess(relayProcesses)}; ×${result.throughput.ratioProcesses}`
        : "  through a service node, one process per node: skipped",
    );
  }
  if (result.removal) {
    const { relay, floor } = result.removal;
    lines.push(
      `removal in a ${orgMembers}-member org: relay ${relay.totalMs} ms (member re-keyed at ${relay.memberRekeyedMs} ms; owner published ${relay.bytesPublished} B in ${relay.envelopesPublished} envelopes); floor ${floor.totalMs} ms; ×${result.removal.ratio} (org built in ${floor.buildMs} ms)`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}
