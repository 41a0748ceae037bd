/**
 * `@orgchat/transport-waku/light`: light mode only, for browsers and other bundles that must not carry
 * relay code. Importing it never reaches gossipsub nor the relay glue (`relay-transport.ts`,
 * `relay.ts`); `wakuTransport` here accepts `mode: "light"` alone.
 *
 * @example
 * ```ts
 * import { wakuTransport } from "@orgchat/transport-waku/light";
 *
 * const transport = wakuTransport({ mode: "light", peers: ["/ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooW…"] });
 * await transport.start();
 * ```
 *
 * @packageDocumentation
 */
import { type WakuLightTransportInit, wakuLightTransport } from "./light.js";
import type { WakuTransport } from "./node-options.js";

export { type WakuLightTransportInit, wakuLightTransport } from "./light.js";
export {
  defaultPublishTimeoutMs,
  type ReconnectInit,
  type WakuTransport,
  type WakuTransportInit,
} from "./node-options.js";
export {
  defaultMaxPayloadBytes,
  defaultNetworkConfig,
  messageHashHex,
  pubsubTopicFor,
} from "./waku-message.js";

/**
 * Creates a light-mode Waku transport (not started): the same as the root entry's `wakuTransport`
 * with `mode: "light"`, without the relay code in the bundle.
 * @param init - light-mode options (`mode: "light"`, `peers`, …)
 * @returns the transport
 * @throws TypeError for any other mode (relay lives in the root entry), RangeError for bad numbers
 * @example
 * ```ts
 * const transport = wakuTransport({ mode: "light", peers: ["/ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooW…"] });
 * ```
 */
export function wakuTransport(init: WakuLightTransportInit): WakuTransport {
  if (init?.mode !== "light") {
    throw new TypeError(
      `wakuTransport (@orgchat/transport-waku/light): mode must be "light", got ${JSON.stringify((init as { mode?: unknown } | undefined)?.mode)}; relay mode is in "@orgchat/transport-waku"`,
    );
  }
  return wakuLightTransport(init);
}
