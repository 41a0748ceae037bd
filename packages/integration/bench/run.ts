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
 *   service node, which also stores every message) (goal ≤ 2 s).
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
 * not the test worlds' fast settings, with one exception: `rekeyWindowMs: 0`, so that a removal
 * re-keys inside `removeMember` and the removal figure is the cost of the re-key itself. In
 * production removals wait up to `rekeyWindowMs` (2 s) to be batched into one epoch change: add
 * that window to the removal figures for what a user sees. No client has a passphrase, so nothing
 * is sealed and `scryptN` costs nothing here. The configuration used is printed with the results
 * (`clientConfig` in the JSON), and so is the number of resync requests (none is expected: a resync
 * would add a production back-off of seconds to a figure).
 *
 * `--json` prints one JSON document on one line; `--quick` runs a small profile (CI smoke: the
 * numbers mean little).
 */
import { cpus } from "node:os";
import {
  type Client,
  type ClientConfig,
  createClient,
  defaultClientConfig,
  isOrganizationNotFoundError,
  isUnknownOrganizationError,
} from "@orgchat/client";
import { memoryStore, type Store } from "@orgchat/store";
import type { Transport } from "@orgchat/transport";
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

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");

const joinSamples = quick ? 2 : 10;
const messageCount = quick ? 100 : 1_000;
const messageBytes = 256;
const orgMembers = quick ? 100 : 1_000;

/** Production defaults but `rekeyWindowMs` (see the header): what every client here runs with. */
const clientConfig: Required<ClientConfig> = { ...defaultClientConfig, rekeyWindowMs: 0 };
const configNote =
  "production defaults (defaultClientConfig of @orgchat/client) except rekeyWindowMs 0: a removal re-keys inside removeMember, so the removal figures leave out the batching window (2 s in production); no passphrase, so scryptN is unused";

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

interface Stats {
  readonly samples: number;
  readonly minMs: number;
  readonly p50Ms: number;
  readonly maxMs: number;
}

function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    samples: sorted.length,
    minMs: round(sorted[0] ?? 0),
    p50Ms: round(at(0.5)),
    maxMs: round(sorted.at(-1) ?? 0),
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;
const ratio = (value: number, floor: number) =>
  floor > 0 ? Math.round((value / floor) * 10) / 10 : null;

/** Counts what a transport publishes (the client sees the same contract). */
function counting(inner: Transport, counter: { bytes: number; envelopes: number }): Transport {
  return new Proxy(inner, {
    get(target, property) {
      if (property === "publish") {
        return (topic: string, payload: Uint8Array, options?: object) => {
          counter.bytes += payload.length;
          counter.envelopes += 1;
          return target.publish(topic, payload, options);
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

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
    await world.until(
      () => viewOf(alice, orgId)?.epoch === viewOf(owner, orgId)?.epoch,
      "alice to reach the owner's epoch",
    );
    const texts = Array.from({ length: messageCount }, (_, i) =>
      `message ${i} `.padEnd(messageBytes, "."),
    );
    const before = { bytes: sent.bytes, envelopes: sent.envelopes };
    const start = performance.now();
    const sends = Promise.all(
      texts.map((text) => alice.client.sendMessage(orgId, "general", text)),
    );
    await sends;
    const sentMs = performance.now() - start;
    await world.until(
      () => received(owner).length >= messageCount && received(bob).length >= messageCount,
      `${messageCount} messages to be decrypted by the owner and bob`,
    );
    const totalMs = performance.now() - start;
    const allDecrypted =
      new Set(received(owner)).size === messageCount &&
      new Set(received(bob)).size === messageCount;
    return {
      totalMs: round(totalMs),
      senderDoneMs: round(sentMs),
      messagesPerSecond: Math.round((messageCount / totalMs) * 1000),
      allDecrypted,
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
 * (discover, requestToJoin; the owner accepts on arrival) and are closed once accepted. Their
 * transports read no history: each discovers the organization from the description the owner
 * publishes live when it accepts the previous joiner (the next joiner listens by then), so a join
 * costs the joiner one description, not the whole history of a growing organization.
 */
async function joinMany(world: World, owner: Peer, orgId: string, count: number) {
  const network = world.network;
  if (network === undefined) throw new Error("joinMany needs a memory world");
  const joiner = async (i: number) => {
    const transport = network.transport({ name: `m${i}`, history: false });
    const client = await createClient({ transport, store: memoryStore(), config: world.config });
    // Not found yet (no history): it now listens on the description topic.
    await client.discover(orgId).catch((error: unknown) => {
      if (!isOrganizationNotFoundError(error)) throw error;
    });
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

const joinRelay = await joinLatency("relay");
const joinFloor = await joinLatency("memory");
const throughputRelay = await throughput("relay");
const throughputFloor = await throughput("memory");
const removed = await removal();

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
  join: {
    what: "requestToJoin → owner accepts on arrival and sends → newcomer decrypts that message",
    goalMs: 1_000,
    relay: joinRelay,
    floor: joinFloor,
    ratioP50: ratio(joinRelay.requestToFirstMessage.p50Ms, joinFloor.requestToFirstMessage.p50Ms),
  },
  throughput: {
    what: `${messageCount} encrypted messages of ${messageBytes} B text from one member until the owner and a second member decrypted all`,
    goalMs: 2_000,
    messages: messageCount,
    textBytes: messageBytes,
    relay: throughputRelay,
    floor: throughputFloor,
    ratio: ratio(throughputRelay.totalMs, throughputFloor.totalMs),
  },
  removal: {
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
    `join (goal ≤ 1000 ms): relay ${s(joinRelay.requestToFirstMessage)}; floor ${s(joinFloor.requestToFirstMessage)}; ×${result.join.ratioP50}`,
    `  relay phases: accepted ${s(joinRelay.requestToAccepted)}, Welcome opened ${s(joinRelay.requestToWelcomeOpened)}`,
    `throughput (goal ≤ 2000 ms): relay ${throughputRelay.totalMs} ms (${throughputRelay.messagesPerSecond}/s, all decrypted: ${throughputRelay.allDecrypted}, ${throughputRelay.wireBytesPerMessage} B/message on the wire); floor ${throughputFloor.totalMs} ms; ×${result.throughput.ratio}`,
    `removal in a ${orgMembers}-member org: relay ${removed.relay.totalMs} ms (member re-keyed at ${removed.relay.memberRekeyedMs} ms; owner published ${removed.relay.bytesPublished} B in ${removed.relay.envelopesPublished} envelopes); floor ${removed.floor.totalMs} ms; ×${result.removal.ratio} (org built in ${removed.floor.buildMs} ms)`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}
