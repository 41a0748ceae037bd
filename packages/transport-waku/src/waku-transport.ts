/**
 * `wakuTransport()`: one factory for both modes, chosen by `mode`.
 */
import { type WakuLightTransportInit, wakuLightTransport } from "./light.js";
import type { WakuTransport } from "./node-options.js";
import { type WakuRelayTransportInit, wakuRelayTransport } from "./relay-transport.js";

/** Options of {@link wakuTransport}, discriminated by `mode`. */
export type WakuTransportOptions = WakuRelayTransportInit | WakuLightTransportInit;

/**
 * Creates a Waku transport (not started).
 * - `mode: "relay"`: a full Waku Relay peer ({@link wakuRelayTransport});
 * - `mode: "light"`: light push, filter and store through service nodes ({@link wakuLightTransport}).
 *
 * @example
 * ```ts
 * import { wakuTransport } from "@orgchat/transport-waku";
 *
 * const transport = wakuTransport({ mode: "relay", peers: ["/ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooW…"] });
 * await transport.start();
 * ```
 * @throws TypeError for an unknown mode or options that do not fit it, RangeError for bad numbers
 */
export function wakuTransport(init: WakuTransportOptions): WakuTransport {
  switch (init?.mode) {
    case "relay":
      return wakuRelayTransport(init);
    case "light":
      return wakuLightTransport(init);
    default:
      throw new TypeError(
        `wakuTransport: unknown mode ${JSON.stringify((init as { mode?: unknown } | undefined)?.mode)} (expected "relay" or "light")`,
      );
  }
}
