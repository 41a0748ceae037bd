/**
 * Child process of the light-mode exit check: a light transport with live filter subscriptions on a
 * scripted service node, plus a second service node address that refuses connections (so redial
 * timers are pending), publishes and queries, then stops. It prints "stopped" and should then exit by
 * itself (libp2p's address manager debounces one update by 1 s after its transports stop: that one
 * ends by itself). If the parent gives up waiting (SIGTERM), it prints what still keeps it alive.
 */
import { wakuLightTransport } from "../src/index.js";
import { startFakeService } from "./light-fake-service.js";

const service = await startFakeService();
const peerId = service.libp2p.peerId.toString();
const transport = wakuLightTransport({
  mode: "light",
  peers: [service.address, `/ip4/127.0.0.1/tcp/1/ws/p2p/${peerId}`],
  reconnect: { initialDelayMs: 20, maxDelayMs: 40 },
});
await transport.start();
await new Promise<void>((resolve) => {
  const off = transport.on("status:changed", ({ status }) => {
    if (status !== "online") return;
    off();
    resolve();
  });
});
const topic = "/orgchat-light/1/exit/proto";
// Two subscriptions made at the same moment on one shard: the SDK once orphaned one of them with its
// timers running, which unsubscribing could not reach.
await Promise.all([
  transport.subscribe([topic], () => {}),
  transport.subscribe(["/orgchat-light/1/exit-too/proto"], () => {}),
]);
await transport.publish(topic, new TextEncoder().encode("bye"));
await transport.queryHistory({ contentTopics: [topic] });
await transport.stop();
await service.stop();
process.stdout.write("stopped\n");
process.once("SIGTERM", () => {
  process.stdout.write(`${JSON.stringify({ alive: process.getActiveResourcesInfo() })}\n`);
  process.exit(1);
});
