/**
 * The transport compliance suite against relay mode: 1–3 real Waku Relay nodes in this process, over
 * WebSocket and TCP on 127.0.0.1 and over `@libp2p/memory`.
 */
import { runTransportCompliance, type TransportFixture } from "@orgchat/transport/compliance";
import { type WakuTransport, wakuRelayTransport } from "../src/index.js";
import type { WakuRelay } from "../src/relay.js";

let memoryAddresses = 0;

function relayFixture(name: string, listenAddress: () => string): TransportFixture {
  const made: WakuTransport[] = [];
  const create = (peers: readonly string[]) => {
    const transport = wakuRelayTransport({
      mode: "relay",
      listen: [listenAddress()],
      peers,
      heartbeatIntervalMs: 100,
      // A restarted peer redials in well under a second; publish waits at most this long.
      publishTimeoutMs: 3_000,
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    });
    made.push(transport);
    return transport;
  };
  return {
    name,
    deliveryTimeoutMs: 10_000,
    async createPeers(count) {
      // Fully connected: peers[i] dials every later peer, so peers[0] (the one lifecycle/restart
      // restarts) redials all the others and they keep their addresses.
      const peers: WakuTransport[] = [];
      for (let i = count - 1; i >= 0; i--) {
        const transport = create(peers.flatMap((p) => p.multiaddrs));
        await transport.start();
        peers.unshift(transport);
      }
      // Mesh formed on every shard at every node: each node grafted all the others.
      await Promise.all(
        peers.map((p) =>
          (p as WakuTransport & { relay: WakuRelay }).relay.waitForPeers({
            minPeers: count - 1,
            timeoutMs: 10_000,
          }),
        ),
      );
      return peers;
    },
    async createUnstarted() {
      return create([]);
    },
    async cleanup() {
      await Promise.all(made.splice(0).map((t) => t.stop()));
    },
  };
}

runTransportCompliance(
  relayFixture("waku relay (ws on 127.0.0.1)", () => "/ip4/127.0.0.1/tcp/0/ws"),
);
runTransportCompliance(
  relayFixture(
    "waku relay (@libp2p/memory)",
    () => `/memory/orgchat-compliance-${process.pid}-${++memoryAddresses}`,
  ),
);
runTransportCompliance(relayFixture("waku relay (tcp on 127.0.0.1)", () => "/ip4/127.0.0.1/tcp/0"));
