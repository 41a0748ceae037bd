import { isNoPeersError } from "@orgchat/transport";
import { wakuTransport } from "@orgchat/transport-waku";

const topic = "/orgchat/1/c-demo/proto"; // real code gets topics from @orgchat/wire

// A hub that listens (WebSocket on an ephemeral loopback port by default) …
const hub = wakuTransport({ mode: "relay" });
await hub.start();
// … and a member that only dials it, redialing with backoff if it drops.
const member = wakuTransport({ mode: "relay", listen: [], peers: [...hub.multiaddrs] });
member.on("status:changed", ({ status, peers }) => console.log(`member ${status} (${peers})`));
await member.start();

// Delivery is at least once: drop duplicates by id (the Waku message hash).
const seen = new Set<string>();
const arrived = new Promise<void>((resolve) => {
  void hub.subscribe([topic], (message) => {
    if (seen.has(message.id)) return;
    seen.add(message.id);
    console.log("hub got", new TextDecoder().decode(message.payload));
    resolve();
  });
});

try {
  // Waits (up to publishTimeoutMs) until a peer on the topic's shard can carry it.
  const { id, recipients } = await member.publish(topic, new TextEncoder().encode("hello"));
  console.log(`published ${id.slice(0, 8)}… to ${recipients} peer(s)`);
  await arrived;
} catch (error) {
  if (isNoPeersError(error)) console.log("nobody to send to: is the hub running?");
  else throw error;
} finally {
  await Promise.all([member.stop(), hub.stop()]);
}
