/**
 * A stock js-waku light node (`createLightNode()` of `@waku/sdk`, no orgchat code), connected to a
 * service node the way the research note recommends (wait for its protocols before dialing).
 */
import { multiaddr } from "@multiformats/multiaddr";
import { defaultNetworkConfig } from "@orgchat/transport-waku";
import { createLightNode, type LightNode, Protocols } from "@waku/sdk";

/**
 * Starts a stock light node and connects it to `address` (a service node's ws multiaddr).
 * @returns the light node, with light push, filter and store peers ready
 */
export async function stockLightNode(address: string): Promise<LightNode> {
  const light = await createLightNode({
    defaultBootstrap: false,
    networkConfig: defaultNetworkConfig,
    libp2p: { filterMultiaddrs: false, hideWebSocketInfo: true } as never,
  });
  const ready = light.waitForPeers([Protocols.LightPush, Protocols.Filter, Protocols.Store]);
  await light.libp2p.dial(multiaddr(address));
  await ready;
  return light;
}
