/**
 * Stands in for `@waku/discovery` in the page's bundle. `@waku/sdk` imports it statically but calls it
 * only when DNS discovery, peer exchange or the peer cache is enabled, and orgchat's transport turns
 * all three off (`offlineNodeOptions`: it dials the service nodes it is given, nothing else). Leaving it
 * out drops ENR decoding, secp256k1 and keccak from the page (see vite.config.ts). A call means the
 * options changed: it fails loudly instead of discovering silently.
 */

/** Unused: the DNS ENR trees (`getPeerDiscoveries` reads two keys before checking `dns`). */
export const enrTree: Readonly<Record<string, string>> = {};

function discoveryIsOff(what: string): never {
  throw new Error(
    `${what}: peer discovery is not in orgchat's page (the transport dials its service nodes only); enable it in the bundle (apps/web/vite.config.ts) before turning it on`,
  );
}

/** Never called in light mode as orgchat configures it. @throws Error always */
export function wakuDnsDiscovery(): never {
  return discoveryIsOff("wakuDnsDiscovery");
}
/** Never called in light mode as orgchat configures it. @throws Error always */
export function wakuPeerCacheDiscovery(): never {
  return discoveryIsOff("wakuPeerCacheDiscovery");
}
/** Never called in light mode as orgchat configures it. @throws Error always */
export function wakuPeerExchangeDiscovery(): never {
  return discoveryIsOff("wakuPeerExchangeDiscovery");
}
