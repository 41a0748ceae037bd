/**
 * The service node relays between relay peers from their first message on: a peer that subscribes to
 * a shard joins the node's mesh of that shard when its subscription arrives, not at the node's next
 * heartbeat or when the peer's GRAFT arrives. (A relay peer counts the node as its mesh peer as soon
 * as it sends its GRAFT; gossipsub forwards only to mesh peers, and once the GRAFT is read the peer
 * is in the mesh, so no IHAVE gossip repairs a message relayed in between: it was lost for good.)
 *
 * Deterministic: every heartbeat here is an hour apart, and each node's first heartbeat (100 ms after
 * its start) has run before any peer connects, so no heartbeat grafts anyone during the test.
 */
import type { GossipSub } from "@chainsafe/libp2p-gossipsub";
import { multiaddr } from "@multiformats/multiaddr";
import { encodeWakuMessage, WakuRelay } from "@orgchat/transport-waku/relay";
import { afterEach, expect, it } from "vitest";
import { resolveConfig } from "../src/config.js";
import { createNodeLibp2p, type ServiceLibp2p } from "../src/lifecycle.js";
import type { ServiceNode } from "../src/node.js";
import { safetyNetMs, startServiceNode, wsAddress } from "./fixtures.ts";

const noHeartbeatMs = 3_600_000;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** Resolves on the next `type` event of `target` that `accept` takes; rejects after the safety net. */
function nextEvent<T>(
  target: EventTarget,
  type: string,
  what: string,
  accept: (detail: T) => boolean = () => true,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      target.removeEventListener(type, listener);
      reject(new Error(`no ${what} within ${safetyNetMs} ms`));
    }, safetyNetMs);
    const listener = (event: Event) => {
      if (!accept((event as CustomEvent<T>).detail)) return;
      clearTimeout(timer);
      target.removeEventListener(type, listener);
      resolve();
    };
    target.addEventListener(type, listener);
  });
}

/** A relay peer whose gossipsub heartbeat has run once and will not run again during the test. */
async function quietRelayPeer(pubsubTopics: readonly string[]): Promise<{
  readonly libp2p: ServiceLibp2p;
  readonly relay: WakuRelay;
}> {
  const config = resolveConfig({ listen: [], heartbeatIntervalMs: noHeartbeatMs });
  const libp2p = await createNodeLibp2p(config, undefined);
  const firstHeartbeat = nextEvent(libp2p.services.pubsub, "gossipsub:heartbeat", "heartbeat");
  await libp2p.start();
  const relay = new WakuRelay(libp2p, pubsubTopics);
  cleanups.push(async () => {
    relay.stop();
    await libp2p.stop();
  });
  await firstHeartbeat;
  return { libp2p, relay };
}

/** Dials the node and resolves once the node has read the peer's subscriptions. */
async function join(node: ServiceNode, peer: { readonly libp2p: ServiceLibp2p }): Promise<void> {
  const id = peer.libp2p.peerId.toString();
  const nodeHeard = nextEvent<{ peerId: { toString(): string } }>(
    node.relay.gossipSub as GossipSub,
    "subscription-change",
    "subscription from the peer",
    (detail) => detail.peerId.toString() === id,
  );
  const peerHeard = nextEvent<{ peerId: { toString(): string } }>(
    peer.libp2p.services.pubsub,
    "subscription-change",
    "subscription from the node",
    (detail) => detail.peerId.toString() === node.peerId,
  );
  await peer.libp2p.dial(multiaddr(wsAddress(node)));
  await Promise.all([nodeHeard, peerHeard]);
}

it("a relay peer joins the node's mesh when its subscription arrives, and gets what the node relays at once", async () => {
  const node = await startServiceNode({ heartbeatIntervalMs: noHeartbeatMs });
  cleanups.push(() => node.stop());
  await nextEvent(node.relay.gossipSub as GossipSub, "gossipsub:heartbeat", "node heartbeat");
  const [publisher, subscriber] = [
    await quietRelayPeer(node.pubsubTopics),
    await quietRelayPeer(node.pubsubTopics),
  ];
  await join(node, subscriber);
  await join(node, publisher);

  const subscriberId = subscriber.libp2p.peerId.toString();
  for (const topic of node.pubsubTopics) {
    expect(node.relay.getMeshPeers(topic), topic).toContain(subscriberId);
  }

  const pubsubTopic = node.pubsubTopics[0] as string;
  const bytes = encodeWakuMessage({
    contentTopic: "/orgchat/1/relay-mesh/proto",
    payload: new Uint8Array([1, 2, 3]),
  });
  const received = new Promise<Uint8Array>((resolve) => {
    subscriber.relay.observe((topic, _message, data) => {
      if (topic === pubsubTopic) resolve(data);
    });
  });
  // Flood-published to the publisher's topic peers (the node), which forwards to its mesh only.
  const published = await publisher.relay.publishRaw(pubsubTopic, bytes);
  expect(published.recipients.map(String)).toEqual([node.peerId]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const data = await Promise.race([
    received,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("the subscriber never got the message")),
        safetyNetMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  expect(data).toEqual(bytes);
});
