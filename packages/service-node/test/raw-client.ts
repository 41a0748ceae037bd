/**
 * A plain libp2p client (no Waku code) that dials a service node and writes crafted bytes on its
 * protocol streams, to test how the node handles malformed and hostile input.
 */
import { noise } from "@chainsafe/libp2p-noise";
import { identify } from "@libp2p/identify";
import type { Libp2p } from "@libp2p/interface";
import { mplex } from "@libp2p/mplex";
import { webSockets } from "@libp2p/websockets";
import { all as allMultiaddrs } from "@libp2p/websockets/filters";
import { multiaddr } from "@multiformats/multiaddr";
import * as lp from "it-length-prefixed";
import { createLibp2p } from "libp2p";
import { Uint8ArrayList } from "uint8arraylist";
import { safetyNetMs } from "./safety-net.ts";

/** A started plain libp2p node that only dials (WebSocket, noise, mplex). */
export async function rawClient(): Promise<Libp2p> {
  return createLibp2p({
    transports: [webSockets({ filter: allMultiaddrs })],
    connectionEncrypters: [noise()],
    streamMuxers: [mplex()],
    services: { identify: identify() },
  });
}

/** Encodes `message` as one length-prefixed frame. */
export function frame(message: Uint8Array): Uint8Array {
  return lp.encode.single(message).subarray();
}

/**
 * Opens a `codec` stream to `address`, writes `bytes` as they are (callers add the length prefix, or
 * craft a wrong one), closes the write side and reads everything until the node closes.
 * @returns the first length-prefixed frame of the reply, or undefined when the node sent none
 */
export async function exchange(
  client: Libp2p,
  address: string,
  codec: string,
  bytes: Uint8Array,
  options: { readonly timeoutMs?: number } = {},
): Promise<Uint8Array | undefined> {
  const signal = AbortSignal.timeout(options.timeoutMs ?? safetyNetMs);
  const stream = await client.dialProtocol(multiaddr(address), codec, { signal });
  await stream.sink([bytes]);
  const received = new Uint8ArrayList();
  try {
    for await (const chunk of stream.source) received.append(chunk);
  } catch {
    // A reset after the reply still leaves the reply readable.
  }
  if (received.length === 0) return undefined;
  for (const message of lp.decode([received])) return message.subarray();
  return undefined;
}
