/**
 * The transport compliance suite against relay mode with a store peer: every peer is a Waku Relay
 * node (`wakuTransport({ mode: "relay", storePeers })`) dialing one `@orgchat/service-node` over
 * WebSocket on 127.0.0.1, which relays between them and answers their Store v3 queries. No case is
 * skipped for history. (Light mode through the service node runs in `@orgchat/service-node`.)
 */
import { createServiceNode, type ServiceNode } from "@orgchat/service-node";
import type { Transport } from "@orgchat/transport";
import { runTransportCompliance } from "@orgchat/transport/compliance";
import { type WakuTransport, wakuTransport } from "@orgchat/transport-waku";
import type { WakuRelay } from "@orgchat/transport-waku/relay";

let node: ServiceNode | undefined;
const transports: Transport[] = [];

async function serviceAddress(): Promise<string> {
  node ??= await createServiceNode({ heartbeatIntervalMs: 100 });
  const address = node.multiaddrs().find((a) => a.includes("/ws/"));
  if (address === undefined) throw new Error("the service node has no ws address");
  return address;
}

function relayPeer(address: string): WakuTransport {
  const transport = wakuTransport({
    mode: "relay",
    listen: [],
    peers: [address],
    storePeers: [address],
    heartbeatIntervalMs: 100,
    publishTimeoutMs: 3_000,
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
  });
  transports.push(transport);
  return transport;
}

runTransportCompliance({
  name: "waku relay with a store peer (service node, ws)",
  // Safety nets against a hang: a busy machine only makes delivery slower.
  deliveryTimeoutMs: 30_000,
  async createPeers(count) {
    const address = await serviceAddress();
    const peers = Array.from({ length: count }, () => relayPeer(address));
    await Promise.all(peers.map((peer) => peer.start()));
    // Every peer has the service node in its mesh on every shard: it forwards between them.
    await Promise.all(
      peers.map((peer) =>
        (peer as WakuTransport & { relay: WakuRelay }).relay.waitForPeers({
          minPeers: 1,
          timeoutMs: 30_000,
        }),
      ),
    );
    return peers;
  },
  async createUnstarted() {
    return relayPeer(await serviceAddress());
  },
  async cleanup() {
    await Promise.all(transports.splice(0).map((transport) => transport.stop()));
    await node?.stop();
    node = undefined;
  },
});
