/**
 * Light push → filter delivery latency through the service node, on 127.0.0.1 over WebSocket: a
 * light transport publishes (LightPush v3), another receives (Filter v2 push from the node). Messages
 * go one at a time (the next leaves when the previous arrived), so each latency is one full trip:
 * publisher → node (validate, store in SQLite, queue the push, relay) → subscriber.
 *
 * Floor: the same loop over `memoryNetwork()` transports in this process (no network, no codec), the
 * cost of the transport contract itself. `--quick` sends 50 messages.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { memoryNetwork, type Transport } from "@orgchat/transport";
import { wakuLightTransport } from "@orgchat/transport-waku";
import { createServiceNode } from "../src/index.js";
import { type Figure, flags, percentile, progress, report, round2, withFloor } from "./harness.js";

const count = flags.quick ? 50 : 500;
const warmup = flags.quick ? 5 : 50;
const payloadBytes = 256;
const topic = "/orgchat-bench/1/latency/proto";

interface Run {
  readonly deliveryMs: number[];
  readonly ackMs: number[];
  readonly totalMs: number;
}

/** Sends `warmup + count` messages one at a time from `sender` to `receiver`. */
async function measure(sender: Transport, receiver: Transport): Promise<Run> {
  let waiting: { index: number; resolve: (at: number) => void } | undefined;
  await receiver.subscribe([topic], (message) => {
    const at = performance.now();
    const index = new DataView(message.payload.buffer, message.payload.byteOffset).getUint32(0);
    if (waiting?.index === index) waiting.resolve(at);
  });
  const deliveryMs: number[] = [];
  const ackMs: number[] = [];
  let totalStart = 0;
  for (let i = 0; i < warmup + count; i++) {
    if (i === warmup) totalStart = performance.now();
    const payload = new Uint8Array(payloadBytes);
    new DataView(payload.buffer).setUint32(0, i);
    const arrived = new Promise<number>((resolve) => {
      waiting = { index: i, resolve };
    });
    const start = performance.now();
    await sender.publish(topic, payload);
    const acked = performance.now();
    // The time the handler ran, which may be before the publisher got its acknowledgement.
    const delivered = await arrived;
    if (i >= warmup) {
      ackMs.push(acked - start);
      deliveryMs.push(delivered - start);
    }
  }
  const totalMs = performance.now() - totalStart;
  deliveryMs.sort((a, b) => a - b);
  ackMs.sort((a, b) => a - b);
  return { deliveryMs, ackMs, totalMs };
}

const dataDir = await mkdtemp(join(tmpdir(), "orgchat-latency-bench-"));
try {
  progress("starting a service node and two light transports");
  const node = await createServiceNode({ dataDir, listen: ["/ip4/127.0.0.1/tcp/0/ws"] });
  const address = node.multiaddrs()[0] as string;
  const publisher = wakuLightTransport({ mode: "light", peers: [address] });
  const subscriber = wakuLightTransport({ mode: "light", peers: [address] });
  await Promise.all([publisher.start(), subscriber.start()]);
  progress(`light push → filter: ${warmup} warm-up + ${count} messages of ${payloadBytes} B`);
  const waku = await measure(publisher, subscriber);
  await Promise.all([publisher.stop(), subscriber.stop()]);
  await node.stop();

  progress("floor: the same loop over memoryNetwork()");
  const network = memoryNetwork();
  const a = network.transport();
  const b = network.transport();
  await Promise.all([a.start(), b.start()]);
  const floor = await measure(a, b);
  await network.stop();

  const figures: Figure[] = [
    withFloor(
      "publish → filter delivery p50",
      percentile(waku.deliveryMs, 0.5),
      percentile(floor.deliveryMs, 0.5),
      "ms",
      "floor: memoryNetwork() in process",
    ),
    withFloor(
      "publish → filter delivery p95",
      percentile(waku.deliveryMs, 0.95),
      percentile(floor.deliveryMs, 0.95),
      "ms",
    ),
    {
      name: "light push acknowledged p50",
      value: round2(percentile(waku.ackMs, 0.5)),
      unit: "ms",
      note: "LightPush v3 round trip (200 from the node)",
    },
    {
      name: "light push acknowledged p95",
      value: round2(percentile(waku.ackMs, 0.95)),
      unit: "ms",
    },
    withFloor(
      `${count} messages one at a time, total`,
      waku.totalMs,
      floor.totalMs,
      "ms",
      `${round2((count * 1000) / waku.totalMs)} messages/s`,
    ),
  ];
  report(
    `@orgchat/service-node light push → filter (127.0.0.1, ws, ${count} × ${payloadBytes} B${flags.quick ? ", --quick" : ""})`,
    figures,
  );
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
