/**
 * The transport compliance suite against light mode (`wakuTransport({ mode: "light" })`): every peer
 * is a light node that publishes with LightPush v3, receives with Filter v2 and reads history with
 * Store v3 through one service node on 127.0.0.1 over WebSocket. No case is skipped.
 */
import type { Transport } from "@orgchat/transport";
import { runTransportCompliance } from "@orgchat/transport/compliance";
import type { ServiceNode } from "../src/index.ts";
import { lightTransportFor, online, startServiceNode } from "./fixtures.ts";

let node: ServiceNode | undefined;
const transports: Transport[] = [];

async function serviceNode(): Promise<ServiceNode> {
  node ??= await startServiceNode();
  return node;
}

runTransportCompliance({
  name: "waku light (service node, ws)",
  async createPeers(count) {
    const service = await serviceNode();
    const peers = Array.from({ length: count }, () => lightTransportFor(service));
    transports.push(...peers);
    await Promise.all(peers.map((peer) => peer.start()));
    await Promise.all(peers.map((peer) => online(peer)));
    return peers;
  },
  async createUnstarted() {
    const transport = lightTransportFor(await serviceNode());
    transports.push(transport);
    return transport;
  },
  async cleanup() {
    await Promise.all(transports.splice(0).map((transport) => transport.stop()));
    await node?.stop();
    node = undefined;
  },
});
