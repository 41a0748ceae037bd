/**
 * `pnpm --filter @orgchat/transport-waku bench [-- --json] [-- --quick]`
 *
 * Relay mode, 3 nodes in a chain A–B–C on 127.0.0.1 over WebSocket (A and C only know B, so every
 * message takes two hops): 1,000 messages of 256 B from A, received at C.
 * - sequential: publish, wait for the arrival at C, next (pure delivery latency);
 * - burst: all published at once (total time until C has them all, and per-message latency).
 * The floor, measured in the same run on the same payloads, is the same path in process: the memory
 * transport's publish → deliver (sequential and burst); ratios are relay ÷ that floor, like with like.
 * Then the integration bench's 3-node layout without the client: 3 relay nodes meshed directly,
 * a burst from A until B and C received all, with the process CPU of the three nodes' transport
 * work together (lowest of 5 rounds), the figure to compare transport changes by; all at once, and
 * one publish per event-loop turn (how a client's sends leave: no two share a write); then the same
 * without the B–C link, where nobody receives a message twice (what the duplicates cost).
 * Printed apart, never divided into a latency: the CPU time of the 14/WAKU2-MESSAGE codec alone per
 * message (encode, validate/decode, hash; no network, no gossipsub), to show how little of a
 * delivery it is.
 * `--json` prints one JSON document; `--quick` runs 100 messages (CI smoke: the numbers mean little).
 */
import { performance } from "node:perf_hooks";
import { memoryNetwork, type Transport } from "@orgchat/transport";
import { type WakuTransport, wakuRelayTransport } from "../src/index.js";
import {
  encodeWakuMessage,
  messageHashHex,
  pubsubTopicFor,
  validateWakuMessage,
  type WakuRelay,
} from "../src/relay.js";

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");
const count = quick ? 100 : 1_000;
const payloadBytes = 256;
const contentTopic = "/org-chat/1/bench/proto";

/** Deterministic payloads (xorshift32), each unique. */
function payloads(n: number, size: number): Uint8Array[] {
  let state = 0x9e3779b9;
  return Array.from({ length: n }, (_, index) => {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      bytes[i] = state & 0xff;
    }
    new DataView(bytes.buffer).setUint32(0, index);
    return bytes;
  });
}

interface LatencyStats {
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  readonly totalMs: number;
}

function stats(latencies: number[], totalMs: number): LatencyStats {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return {
    p50Ms: round(at(0.5)),
    p95Ms: round(at(0.95)),
    maxMs: round(sorted.at(-1) ?? NaN),
    totalMs: round(totalMs),
  };
}

/** Publishes each payload from `from`, waits for it at `to`, next; then a parallel burst. */
async function measureDelivery(
  from: Transport,
  to: Transport,
  data: readonly Uint8Array[],
): Promise<{ sequential: LatencyStats; burst: LatencyStats }> {
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let waiting: (() => void) | undefined;
  let remaining = 0;
  await to.subscribe([contentTopic], (message) => {
    const index = new DataView(message.payload.buffer, message.payload.byteOffset).getUint32(0);
    const start = sentAt.get(index);
    if (start === undefined) return;
    sentAt.delete(index);
    latencies.push(performance.now() - start);
    remaining--;
    if (remaining === 0) waiting?.();
  });
  const arrivals = (n: number) => {
    remaining = n;
    return new Promise<void>((resolve) => {
      waiting = resolve;
    });
  };

  const sequentialStart = performance.now();
  for (const [index, payload] of data.entries()) {
    const arrived = arrivals(1);
    sentAt.set(index, performance.now());
    await from.publish(contentTopic, payload);
    await arrived;
  }
  const sequential = stats(latencies.splice(0), performance.now() - sequentialStart);

  // The burst reuses the payloads with a fresh marker so that its messages are new ones.
  const burstData = data.map((payload, index) => {
    const copy = payload.slice();
    new DataView(copy.buffer).setUint32(0, data.length + index);
    return copy;
  });
  const all = arrivals(burstData.length);
  const burstStart = performance.now();
  await Promise.all(
    burstData.map((payload, index) => {
      sentAt.set(data.length + index, performance.now());
      return from.publish(contentTopic, payload);
    }),
  );
  await all;
  const burst = stats(latencies.splice(0), performance.now() - burstStart);
  return { sequential, burst };
}

async function relayChain(data: readonly Uint8Array[]) {
  const setupStart = performance.now();
  const options = { heartbeatIntervalMs: 100 } as const;
  const b = wakuRelayTransport({ ...options });
  await b.start();
  const a = wakuRelayTransport({ ...options, listen: [], peers: [...b.multiaddrs] });
  const c = wakuRelayTransport({ ...options, listen: [], peers: [...b.multiaddrs] });
  await Promise.all([a.start(), c.start()]);
  const pubsubTopic = pubsubTopicFor(contentTopic);
  const relayOf = (t: WakuTransport) => (t as WakuTransport & { relay: WakuRelay }).relay;
  await Promise.all([
    relayOf(a).waitForPeers({ pubsubTopics: [pubsubTopic], timeoutMs: 10_000 }),
    relayOf(b).waitForPeers({ pubsubTopics: [pubsubTopic], minPeers: 2, timeoutMs: 10_000 }),
    relayOf(c).waitForPeers({ pubsubTopics: [pubsubTopic], timeoutMs: 10_000 }),
  ]);
  const setupMs = performance.now() - setupStart;
  try {
    return { setupMs, ...(await measureDelivery(a, c, data)) };
  } finally {
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  }
}

/**
 * The transport's whole CPU for the integration bench's layout, without the client: 3 relay nodes
 * in this process, meshed directly (A listens; B listens and dials A; C dials A and B), a burst of
 * every payload from A until B and C both received all, after a warm-up burst. Everything runs on
 * this thread, so the process CPU over the burst is the three nodes' transport work together
 * (publish, gossipsub, forwarding, duplicates, noise, muxer, WebSocket, delivery). Repeated
 * `meshRounds` times; the lowest CPU is reported (the least disturbed by other load).
 * `links: "star"` leaves out the B–C link (C dials A only): nobody receives a message twice, so the
 * difference from the full mesh is what the duplicates cost (each receiver forwarding every message
 * to the other, which decodes it and drops it).
 */
async function relayMeshBurst(data: readonly Uint8Array[], links: "mesh" | "star" = "mesh") {
  const options = { heartbeatIntervalMs: 100 } as const;
  const a = wakuRelayTransport({ ...options });
  await a.start();
  const b = wakuRelayTransport({ ...options, peers: [...a.multiaddrs] });
  await b.start();
  const c = wakuRelayTransport({
    ...options,
    listen: [],
    peers: links === "mesh" ? [...a.multiaddrs, ...b.multiaddrs] : [...a.multiaddrs],
  });
  await c.start();
  const pubsubTopic = pubsubTopicFor(contentTopic);
  const relayOf = (t: WakuTransport) => (t as WakuTransport & { relay: WakuRelay }).relay;
  await Promise.all(
    [a, b, c].map((t) =>
      relayOf(t).waitForPeers({
        pubsubTopics: [pubsubTopic],
        minPeers: links === "mesh" || t === a ? 2 : 1,
        timeoutMs: 10_000,
      }),
    ),
  );
  let marker = 1_000_000;
  let pending = 0;
  let done: (() => void) | undefined;
  const onMessage = () => {
    pending--;
    if (pending === 0) done?.();
  };
  await b.subscribe([contentTopic], onMessage);
  await c.subscribe([contentTopic], onMessage);
  /**
   * `paced`: one publish per event-loop turn (`setImmediate` between them), as a client sends
   * (each send is its own task), so no two messages share a write; else all at once.
   */
  const burst = async (n: number, paced = false) => {
    const batch = data.slice(0, n).map((payload) => {
      const copy = payload.slice();
      new DataView(copy.buffer).setUint32(0, marker++);
      return copy;
    });
    pending = 2 * batch.length;
    const all = new Promise<void>((resolve) => {
      done = resolve;
    });
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    if (paced) {
      const sends: Promise<unknown>[] = [];
      for (const payload of batch) {
        sends.push(a.publish(contentTopic, payload));
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await Promise.all(sends);
    } else {
      await Promise.all(batch.map((payload) => a.publish(contentTopic, payload)));
    }
    await all;
    const totalMs = performance.now() - start;
    const cpu = process.cpuUsage(cpuBefore);
    return { totalMs, cpuMs: (cpu.user + cpu.system) / 1000 };
  };
  try {
    const round = (ms: number) => Math.round(ms * 10) / 10;
    const measure = async (paced: boolean) => {
      await burst(Math.min(200, data.length), paced);
      const rounds = [];
      for (let i = 0; i < meshRounds; i++) rounds.push(await burst(data.length, paced));
      const best = rounds.reduce((x, y) => (y.cpuMs < x.cpuMs ? y : x));
      return {
        totalMs: round(best.totalMs),
        cpuMs: round(best.cpuMs),
        cpuUsPerMessage: round((best.cpuMs * 1000) / data.length),
        cpuMsByRound: rounds.map((r) => round(r.cpuMs)),
      };
    };
    return { burst: await measure(false), paced: await measure(true) };
  } finally {
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  }
}

/** Bursts measured by {@link relayMeshBurst}. */
const meshRounds = quick ? 1 : 5;

async function memoryFloor(data: readonly Uint8Array[]) {
  const network = memoryNetwork();
  const a = network.transport();
  const c = network.transport();
  await Promise.all([a.start(), c.start()]);
  try {
    return await measureDelivery(a, c, data);
  } finally {
    await network.stop();
  }
}

function codecFloor(data: readonly Uint8Array[]): LatencyStats {
  const pubsubTopic = pubsubTopicFor(contentTopic);
  const latencies: number[] = [];
  const start = performance.now();
  let timestampNs = BigInt(Date.now()) * 1_000_000n;
  for (const payload of data) {
    const t0 = performance.now();
    const bytes = encodeWakuMessage({ contentTopic, payload, timestampNs: timestampNs++ });
    const check = validateWakuMessage(bytes);
    if (!check.ok) throw new Error(check.reason);
    messageHashHex(pubsubTopic, check.message);
    latencies.push(performance.now() - t0);
  }
  return stats(latencies, performance.now() - start);
}

const data = payloads(count, payloadBytes);
// Warm up the codec and the JIT once (also done implicitly by the relay's own first messages).
codecFloor(payloads(50, payloadBytes));
const codec = codecFloor(data);
const memory = await memoryFloor(data);
const relay = await relayChain(data);
const mesh = await relayMeshBurst(data);
const star = await relayMeshBurst(data, "star");
const ratio = (value: number, floor: number) =>
  floor > 0 ? Math.round((value / floor) * 10) / 10 : null;

const result = {
  benchmark: "@orgchat/transport-waku relay",
  profile: quick ? "quick" : "full",
  node: process.version,
  topology: "3-node chain A–B–C over ws on 127.0.0.1 (2 hops A→C)",
  messages: count,
  payloadBytes,
  relay: {
    setupMs: Math.round(relay.setupMs),
    sequential: relay.sequential,
    burst: relay.burst,
  },
  /** The same publish → deliver path in process (memory transport), on the same payloads. */
  floors: {
    memoryTransport: memory,
  },
  /** Relay ÷ memory-transport floor: latency over latency, total over total. */
  ratios: {
    sequentialP50VsMemory: ratio(relay.sequential.p50Ms, memory.sequential.p50Ms),
    burstTotalVsMemory: ratio(relay.burst.totalMs, memory.burst.totalMs),
  },
  /** CPU time of the message codec alone per message (no network); not a latency floor. */
  cpu: {
    codecEncodeValidateHashPerMessage: codec,
  },
  /**
   * 3 relay nodes meshed directly in this process (the integration bench's 3-node layout without
   * the client): a burst from A until B and C received all; the process CPU is the three nodes'
   * transport work (lowest of the rounds).
   */
  meshBurst: mesh,
  /** The same without the B–C link (no duplicates): the difference is what duplicates cost. */
  starBurst: star,
};

if (json) {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} else {
  const row = (name: string, s: LatencyStats) =>
    `  ${name.padEnd(38)} p50 ${s.p50Ms.toFixed(3).padStart(8)} ms   p95 ${s.p95Ms.toFixed(3).padStart(8)} ms   total ${s.totalMs.toFixed(1).padStart(8)} ms`;
  const lines = [
    `${result.benchmark} (${result.profile}, Node ${result.node})`,
    `${result.topology}: ${count} messages of ${payloadBytes} B; mesh ready in ${result.relay.setupMs} ms`,
    row("relay, sequential", relay.sequential),
    row("relay, burst", relay.burst),
    row("floor: memory transport, sequential", memory.sequential),
    row("floor: memory transport, burst", memory.burst),
    `  relay ÷ memory transport (same path in process): sequential p50 ${result.ratios.sequentialP50VsMemory} ×, burst total ${result.ratios.burstTotalVsMemory} ×`,
    row("cpu only: codec encode+validate+hash", codec),
    ...(["burst", "paced"] as const).map((kind) => {
      const m = mesh[kind];
      return `  3 relay nodes meshed in process, ${kind === "burst" ? "burst" : "one publish per turn"} A → B and C: ${m.totalMs} ms, transport CPU ${m.cpuMs} ms (${m.cpuUsPerMessage} µs per message sent, 3 nodes together; lowest of ${JSON.stringify(m.cpuMsByRound)})`;
    }),
    ...(["burst", "paced"] as const).map((kind) => {
      const m = star[kind];
      return `  the same without the B–C link (no duplicates), ${kind === "burst" ? "burst" : "one publish per turn"}: ${m.totalMs} ms, transport CPU ${m.cpuMs} ms (${m.cpuUsPerMessage} µs per message sent; lowest of ${JSON.stringify(m.cpuMsByRound)})`;
    }),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}
