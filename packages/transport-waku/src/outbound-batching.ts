/**
 * Write batching for gossipsub's outbound streams: the RPCs gossipsub sends a peer during one turn
 * of the event loop leave as one chunk instead of one chunk each.
 *
 * Gossipsub pushes every RPC (a publish, a forward, a control message) into the peer's outbound
 * stream as its own length-prefixed chunk, and every chunk then costs its own mplex frame, noise
 * frame (one ChaCha20-Poly1305 seal), WebSocket frame and socket write on this side, and the same
 * in reverse on the peer's. In a burst (a member sending many messages, a relay forwarding them)
 * those fixed costs per chunk are most of the transport's CPU. Here the first RPC pushed to a
 * stream in an event-loop turn leaves at once, and the ones after it in the same turn are kept, in
 * order, until the end of the turn (`setImmediate`) or until the next would take them over
 * {@link outboundBatchMaxBytes}, and then pushed as one chunk: the same bytes on the wire (length-prefixed RPCs back to
 * back, which is how the peer reads the stream anyway), at most two chunks per turn and peer
 * instead of one per RPC. A lone message is not delayed at all, one in a burst by at most the rest
 * of the turn it was sent in; nothing waits on a timer.
 *
 * @packageDocumentation
 */
import type { GossipSub } from "@chainsafe/libp2p-gossipsub";
import { outboundStreamOpen } from "./relay-streams.js";

/**
 * Most bytes of RPCs one batch carries (an RPC larger than this goes alone): a full batch plus its
 * mplex header fits one noise frame (65,519 bytes of payload), and what waits for the end of a
 * turn is bounded by this per peer.
 */
export const outboundBatchMaxBytes = 65_000;

/**
 * Runs `task` at the end of the current event-loop turn: `setImmediate` where there is one (Node),
 * else a zero-delay timer (browsers).
 */
const afterTurn: (task: () => void) => void =
  typeof globalThis.setImmediate === "function"
    ? (task) => {
        globalThis.setImmediate(task);
      }
    : (task) => {
        setTimeout(task, 0);
      };

/** Bytes or a `Uint8ArrayList` (what gossipsub hands `pushPrefixed`): both have `subarray()`. */
interface ByteSource {
  readonly byteLength: number;
  subarray(): Uint8Array;
}

/** The parts of gossipsub's `OutboundStream` the batching reads and replaces. */
interface OutboundStreamParts {
  push(data: Uint8Array): void;
  pushPrefixed(data: ByteSource): void;
  readonly pushable: { push(chunk: Uint8Array): unknown; readonly readableLength: number };
  readonly maxBufferSize: number;
}

/** Bytes of the unsigned varint length prefix of `length`. */
function varintBytes(length: number): number {
  let bytes = 1;
  for (let rest = length; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes += 1;
  return bytes;
}

/** Writes `length` as an unsigned varint at `offset`; returns the offset after it. */
function writeVarint(target: Uint8Array, offset: number, length: number): number {
  let rest = length;
  let at = offset;
  while (rest >= 0x80) {
    target[at++] = (rest & 0x7f) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  target[at++] = rest;
  return at;
}

/**
 * Makes one outbound stream batch its writes (see the module documentation). The stream object
 * stays the same; its `push` and `pushPrefixed` keep their contract (in order, and they throw when
 * the stream's buffer is over gossipsub's `maxOutboundBufferSize`, counting what is pending here).
 * @param stream - a gossipsub `OutboundStream`
 * @param maxBytes - most bytes of RPCs in one batch @default outboundBatchMaxBytes
 * @param onClosed - called (once) when a batch finds the stream under it closed or reset: what is
 *   pushed then reaches nobody (see `relay-streams.ts`)
 */
export function batchOutboundStream(
  stream: unknown,
  maxBytes: number = outboundBatchMaxBytes,
  onClosed?: () => void,
): void {
  const target = stream as OutboundStreamParts;
  const { pushable, maxBufferSize } = target;
  /** Pending RPCs: raw (`prefix` true: to be length-prefixed) or already prefixed. */
  let parts: { readonly bytes: Uint8Array; readonly prefix: boolean }[] = [];
  let pendingBytes = 0;
  /** Something was pushed in this turn: what follows waits for the end of the turn. */
  let turnOpen = false;
  let closedReported = false;
  const flush = () => {
    if (parts.length === 0) return;
    if (!closedReported && onClosed !== undefined && !outboundStreamOpen(stream)) {
      closedReported = true;
      onClosed();
    }
    const chunk = new Uint8Array(pendingBytes);
    let offset = 0;
    for (const { bytes, prefix } of parts) {
      if (prefix) offset = writeVarint(chunk, offset, bytes.byteLength);
      chunk.set(bytes, offset);
      offset += bytes.byteLength;
    }
    parts = [];
    pendingBytes = 0;
    // An ended stream (the peer left) ignores the push, as it would have ignored each RPC.
    pushable.push(chunk);
  };
  const endTurn = () => {
    flush();
    turnOpen = false;
  };
  const add = (bytes: Uint8Array, prefix: boolean) => {
    if (pushable.readableLength + pendingBytes > maxBufferSize) {
      throw new Error(`OutboundStream buffer full, size > ${maxBufferSize}`);
    }
    const size = bytes.byteLength + (prefix ? varintBytes(bytes.byteLength) : 0);
    // A batch that this RPC would take over the cap leaves first.
    if (pendingBytes > 0 && pendingBytes + size > maxBytes) flush();
    parts.push({ bytes, prefix });
    pendingBytes += size;
    if (!turnOpen) {
      // The first RPC of a turn leaves at once (a lone message waits for nothing); the ones after
      // it in the same turn are batched.
      turnOpen = true;
      flush();
      afterTurn(endTurn);
    }
  };
  target.push = (data) => add(data, true);
  target.pushPrefixed = (data) => add(data.subarray(), false);
}

/**
 * Batches the writes of every outbound stream `gossipSub` opens from now on (see the module
 * documentation): call it on a fresh gossipsub, before it connects to anyone.
 * @param gossipSub - the relay's gossipsub
 * @param maxBytes - see {@link batchOutboundStream}
 * @param onClosed - called with the peer id when its stream is found closed (see {@link batchOutboundStream})
 */
export function batchOutboundStreams(
  gossipSub: GossipSub,
  maxBytes: number = outboundBatchMaxBytes,
  onClosed?: (peerId: string) => void,
): void {
  const streams = gossipSub.streamsOutbound;
  const set = streams.set.bind(streams);
  streams.set = (id, stream) => {
    batchOutboundStream(stream, maxBytes, onClosed && (() => onClosed(id)));
    return set(id, stream);
  };
}
