/**
 * orgchat transports over the real Waku protocols (`@waku/sdk` 0.0.36, libp2p 2.x):
 * - **relay** mode: a full Waku Relay peer (gossipsub as `/vac/waku/relay/2.0.0`), on ws, tcp or
 *   `@libp2p/memory`;
 * - **light** mode: light push, filter and store against service nodes.
 *
 * Both implement `Transport` from `@orgchat/transport` and pass its compliance suite. The relay glue
 * itself (for the service node) is the `@orgchat/transport-waku/relay` entry point.
 *
 * @example
 * ```ts
 * import { wakuTransport } from "@orgchat/transport-waku";
 *
 * const transport = wakuTransport({ mode: "relay", peers: ["/ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooW…"] });
 * await transport.start();
 * await transport.subscribe(["/org-chat/1/general/proto"], (m) => console.log(m.id));
 * await transport.publish("/org-chat/1/general/proto", new TextEncoder().encode("hi"));
 * await transport.stop();
 * ```
 *
 * @packageDocumentation
 */

export { type WakuLightTransportInit, wakuLightTransport } from "./light.js";
export {
  defaultListenAddresses,
  defaultPublishTimeoutMs,
  type ReconnectInit,
  type WakuTransport,
  type WakuTransportInit,
} from "./node-options.js";
export { type WakuRelayTransportInit, wakuRelayTransport } from "./relay-transport.js";
export {
  defaultMaxPayloadBytes,
  defaultNetworkConfig,
  messageHashHex,
  pubsubTopicFor,
} from "./waku-message.js";
export { type WakuTransportOptions, wakuTransport } from "./waku-transport.js";
