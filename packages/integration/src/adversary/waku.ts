/**
 * A hostile peer on real Waku: a relay node of its own (a second `createServiceNode`, with its own
 * libp2p key) that dials a victim service node on 127.0.0.1 and relays 14/WAKU2-MESSAGEs with any
 * Waku timestamp.
 */
import { createServiceNode, type ServiceNode } from "@orgchat/service-node";
import { encodeWakuMessage, pubsubTopicFor } from "@orgchat/transport-waku/relay";

/** A hostile relay peer connected to one victim node (see {@link hostileRelay}). */
export interface HostileRelay {
  readonly node: ServiceNode;
  /**
   * Relays `payload` on `contentTopic` stamped `timestampMs` (ms since the Unix epoch; any value,
   * e.g. a century ahead). @returns once published to the relay mesh
   */
  publishAt(contentTopic: string, payload: Uint8Array, timestampMs: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a hostile relay peer and waits until the victim is in its relay mesh.
 * @param victimAddress - the victim's multiaddr (with `/p2p/<peer id>`)
 */
export async function hostileRelay(victimAddress: string): Promise<HostileRelay> {
  const node = await createServiceNode({ heartbeatIntervalMs: 100, peers: [victimAddress] });
  await node.relay.waitForPeers({ minPeers: 1, timeoutMs: 60_000 });
  return {
    node,
    async publishAt(contentTopic, payload, timestampMs) {
      await node.relay.publishRaw(
        pubsubTopicFor(contentTopic),
        encodeWakuMessage({
          contentTopic,
          payload,
          timestampNs: BigInt(Math.round(timestampMs)) * 1_000_000n,
        }),
      );
    },
    stop: () => node.stop(),
  };
}
