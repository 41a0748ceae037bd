/**
 * Test helpers: bare libp2p nodes with Waku Relay (no transport on top), as the service node uses them.
 */
import { multiaddr } from "@multiformats/multiaddr";
import type { Libp2p } from "@waku/interfaces";
import { createLibp2pAndUpdateOptions } from "@waku/sdk";
import { libp2pTransportsFor, offlineNodeOptions, parseAddresses } from "../src/node-options.js";
import {
  defaultNetworkConfig,
  WakuRelay,
  type WakuRelayInit,
  type WakuRelayServiceInit,
  wakuRelayService,
} from "../src/relay.js";

export interface RelayNode {
  readonly libp2p: Libp2p;
  readonly relay: WakuRelay;
  readonly address: string;
  stop(): Promise<void>;
}

/** Starts a libp2p node with Waku Relay on `pubsubTopics`, listening on `listen`. */
export async function startRelayNode(
  pubsubTopics: readonly string[],
  options: {
    readonly listen?: readonly string[];
    readonly relay?: WakuRelayInit;
    readonly service?: WakuRelayServiceInit;
  } = {},
): Promise<RelayNode> {
  const listen = parseAddresses(options.listen ?? ["/ip4/127.0.0.1/tcp/0/ws"], "listen");
  const libp2p = await createLibp2pAndUpdateOptions(
    offlineNodeOptions({
      networkConfig: defaultNetworkConfig,
      listen,
      transports: await libp2pTransportsFor(listen),
      privateKey: undefined,
      services: { pubsub: wakuRelayService({ heartbeatIntervalMs: 100, ...options.service }) },
    }),
  );
  await libp2p.start();
  const relay = new WakuRelay(libp2p, pubsubTopics, options.relay);
  return {
    libp2p,
    relay,
    address: libp2p.getMultiaddrs()[0]?.toString() ?? "",
    async stop() {
      relay.stop();
      await libp2p.stop();
    },
  };
}

/** Connects `from` to `to` and waits until both have each other in the mesh of every topic. */
export async function link(from: RelayNode, to: RelayNode): Promise<void> {
  await from.libp2p.dial(multiaddr(to.address));
  await Promise.all([
    from.relay.waitForPeers({ timeoutMs: 10_000 }),
    to.relay.waitForPeers({ timeoutMs: 10_000 }),
  ]);
}

/** Resolves with the first value `subscribe` produces that passes `accept`. */
export function nextValue<T>(
  subscribe: (push: (value: T) => void) => () => void,
  accept: (value: T) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no matching value within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = subscribe((value) => {
      if (!accept(value)) return;
      clearTimeout(timer);
      stop();
      resolve(value);
    });
  });
}
