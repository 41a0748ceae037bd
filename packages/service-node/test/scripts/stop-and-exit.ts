/**
 * Child-process check that `stop()` leaves nothing running: starts a service node (with a data
 * directory, so SQLite and the key file are used) and a light transport with a live filter
 * subscription, exchanges and queries messages, stops both, and prints "stopped". It must then exit by
 * itself (no process.exit here on the happy path). If the parent gives up waiting (SIGTERM, a safety
 * net of tens of seconds), it prints what still keeps the event loop alive
 * (`process.getActiveResourcesInfo()`) and exits 1.
 *
 * Two library timers outlive `stop()` by up to 1 s and then end by themselves (gossipsub 14.1.1's
 * `stop()` does not clear its pending heartbeat timeout; libp2p 2.8.11's address manager debounces a
 * peer-record update by 1 s when the transports stop listening): that is why the check is "exits by
 * itself", not "exits within N ms", which a loaded machine could miss.
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
process.once("SIGTERM", () => {
  process.stdout.write(`${JSON.stringify({ alive: process.getActiveResourcesInfo() })}\n`);
  process.exit(1);
});
