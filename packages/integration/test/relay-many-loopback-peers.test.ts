/**
 * Relay with many peers on one address (every peer here is on 127.0.0.1): gossipsub's IP
 * colocation penalty must not stop live delivery (`relayColocationWhitelist`). Before it, the 11th
 * loopback peer of the service node turned every peer's score negative: pruned from the mesh, no
 * gossip, and members applied a delegate's ban only at their 5 s history sweep (session 12).
 */
import type { Transport, TransportMessage } from "@orgchat/transport";
import { afterEach, describe, expect, it } from "vitest";
import { createWorld, type World } from "../src/world.js";

let world: World | undefined;
const started: Transport[] = [];
afterEach(async () => {
  for (const transport of started.splice(0)) await transport.stop();
  await world?.close();
  world = undefined;
});

/** Relay peers around the service node, more than gossipsub's colocation threshold (10). */
const peers = 14;

describe("relay with many peers on one address", () => {
  it(`${peers} relay peers on 127.0.0.1: a message reaches every other peer live (no history read)`, {
    timeout: 180_000,
  }, async () => {
    world = await createWorld("relay");
    const w = world;
    const topic = "/org-chat/1/colocation/proto";
    const inboxes: TransportMessage[][] = [];
    for (let i = 0; i < peers; i++) {
      const transport = w.transport(`peer-${i}`);
      started.push(transport);
      await transport.start();
      await w.until(() => transport.status === "online", "the transport to be online");
      const inbox: TransportMessage[] = [];
      await transport.subscribe([topic], (message) => {
        inbox.push(message);
      });
      inboxes.push(inbox);
    }
    // The service node knows every peer's subscription (the shard's topic peers).
    const node = w.serviceNode;
    if (node === undefined) throw new Error("a relay world has a service node");
    await w.until(
      () => node.pubsubTopics.every((t) => node.relay.getTopicPeers(t).length >= peers),
      "the service node to see every peer's subscription",
    );
    const publisher = started[0] as Transport;
    await publisher.publish(topic, new TextEncoder().encode("hello, everyone"));
    // Live delivery only: these transports never read history. A safety timeout (60 s) only.
    await w.until(
      () => inboxes.slice(1).every((inbox) => inbox.length > 0),
      `every one of ${peers - 1} peers to receive the message live`,
    );
    for (const inbox of inboxes.slice(1)) {
      expect(new TextDecoder().decode(inbox[0]?.payload)).toBe("hello, everyone");
    }
  });
});
