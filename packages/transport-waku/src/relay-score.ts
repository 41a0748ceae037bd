/**
 * Gossipsub peer scoring of every Waku Relay node of orgchat (clients in relay mode and the
 * service node).
 *
 * @module
 */
import type { PeerScoreParams } from "@chainsafe/libp2p-gossipsub/score";

/**
 * Addresses whose peers never count against gossipsub's IP colocation penalty (its P6 score: past
 * 10 peers from one address, each of them loses `5 × surplus²`). Peers on loopback run on this
 * machine: tests and benchmarks with every client on 127.0.0.1, or clients behind a local proxy.
 * Without it, an 11th loopback peer of a service node makes every loopback peer's score negative:
 * the node prunes them all from its mesh, refuses their grafts, and from the 12th (score -20, below
 * `gossipThreshold` -10) sends them no gossip either. Nothing is relayed live then; clients see
 * messages only when they read history (the client's sweep, every 5 s by default).
 */
export const relayColocationWhitelist: readonly string[] = ["127.0.0.1", "::1"];

/**
 * Gossipsub's `scoreParams` for a Waku Relay node: the caller's, with {@link relayColocationWhitelist}
 * added to its IP colocation whitelist.
 *
 * @param params - the caller's score parameters, if any
 * @returns the parameters to give gossipsub
 */
export function relayScoreParams(params?: Partial<PeerScoreParams>): Partial<PeerScoreParams> {
  return {
    ...params,
    IPColocationFactorWhitelist: new Set([
      ...relayColocationWhitelist,
      ...(params?.IPColocationFactorWhitelist ?? []),
    ]),
  };
}
