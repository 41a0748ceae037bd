/**
 * Child-process check that `stop()` leaves nothing running: starts a service node (with a data
 * directory, so SQLite and the key file are used) and a light transport with a live filter
 * subscription, exchanges and queries messages, stops both, and prints "stopped". If anything still
 * keeps the event loop alive 1.5 s later, it prints what (`process.getActiveResourcesInfo()`); the
 * parent test fails on that, and on a process that does not exit by itself (no process.exit here).
 *
 * Why 1.5 s and not 0: two library timers outlive `stop()` by at most 1 s and then end by themselves:
 * gossipsub 14.1.1's `stop()` does not clear its pending heartbeat timeout, and libp2p 2.8.11's
 * address manager debounces a peer-record update by 1 s when the transports stop listening.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wakuLightTransport } from "@orgchat/transport-waku";
import { createServiceNode } from "../../src/index.ts";

const dataDir = await mkdtemp(join(tmpdir(), "orgchat-exit-"));
const node = await createServiceNode({ dataDir, maintenanceIntervalMs: 50 });
const address = node.multiaddrs().find((a) => a.includes("/ws/")) as string;
const light = wakuLightTransport({ mode: "light", peers: [address] });
await light.start();
const topic = "/orgchat-exit/1/check/proto";
let delivered: () => void = () => {};
const received = new Promise<void>((resolve) => {
  delivered = resolve;
});
await light.subscribe([topic], () => delivered());
await light.publish(topic, new TextEncoder().encode("before stop"));
await received;
await light.queryHistory({ contentTopics: [topic] });
await light.stop();
await node.stop();
await rm(dataDir, { recursive: true, force: true });
process.stdout.write("stopped\n");
// Unref'd: fires only if something else keeps the process alive that long.
setTimeout(() => {
  process.stdout.write(`${JSON.stringify({ alive: process.getActiveResourcesInfo() })}\n`);
}, 1_500).unref();
