import { runTransportCompliance } from "../src/compliance.ts";
import { type MemoryNetwork, memoryNetwork } from "../src/index.ts";

// One fault-free network per case: the reference transport passes every case, with no skips.
let network: MemoryNetwork | undefined;
const current = () => {
  network ??= memoryNetwork({ seed: 1 });
  return network;
};

runTransportCompliance({
  name: "memory",
  async createPeers(count) {
    const net = current();
    const peers = Array.from({ length: count }, () => net.transport());
    await Promise.all(peers.map((peer) => peer.start()));
    return peers;
  },
  async createUnstarted() {
    return current().transport();
  },
  async cleanup() {
    const net = network;
    network = undefined;
    await net?.stop();
    await net?.idle();
  },
  deliveryTimeoutMs: 2_000,
});
