import { afterEach, describe, expect, it } from "vitest";
import { batchOutboundStream, outboundBatchMaxBytes } from "../src/outbound-batching.js";
import { pubsubTopicFor, relayOutboundBufferBytes, type WakuMessage } from "../src/relay.js";
import { link, type RelayNode, startRelayNode } from "./relay-nodes.js";

/** A stand-in for gossipsub's `OutboundStream`: what its pushable received, chunk by chunk. */
function fakeStream(maxBufferSize = Number.POSITIVE_INFINITY) {
  const chunks: Uint8Array[] = [];
  const stream = {
    push(_data: Uint8Array): void {
      throw new Error("replaced by the batching");
    },
    pushPrefixed(_data: { readonly byteLength: number; subarray(): Uint8Array }): void {
      throw new Error("replaced by the batching");
    },
    pushable: {
      push(chunk: Uint8Array) {
        chunks.push(chunk);
      },
      get readableLength() {
        return chunks.reduce((sum, c) => sum + c.byteLength, 0);
      },
    },
    maxBufferSize,
  };
  return { stream, chunks };
}

/** Splits a stream of varint-length-prefixed records back into the records. */
function unprefix(bytes: Uint8Array): Uint8Array[] {
  const records: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    let length = 0;
    let shift = 1;
    for (;;) {
      const byte = bytes[at++] as number;
      length += (byte & 0x7f) * shift;
      shift *= 0x80;
      if (byte < 0x80) break;
    }
    records.push(bytes.subarray(at, at + length));
    at += length;
  }
  return records;
}

const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const filled = (length: number, value: number) => new Uint8Array(length).fill(value);

describe("batchOutboundStream", () => {
  it("reports once that the stream under it is closed or reset, and from the first send after", async () => {
    for (const state of [
      { status: "reset", writeStatus: "closed" },
      { status: "open", writeStatus: "closed" },
      { status: "aborted", writeStatus: "ready" },
    ]) {
      const rawStream = { status: "open", writeStatus: "ready" };
      const target = Object.assign(fakeStream().stream, { rawStream });
      let closed = 0;
      batchOutboundStream(target, outboundBatchMaxBytes, () => void closed++);
      target.push(filled(3, 1));
      await endOfTurn();
      expect(closed).toBe(0);
      Object.assign(rawStream, state);
      target.push(filled(3, 1));
      target.push(filled(3, 1));
      await endOfTurn();
      target.push(filled(3, 1));
      expect(closed).toBe(1);
    }
  });

  it("sends the first RPC of a turn at once and the rest of the turn as one chunk, in order", async () => {
    const { stream, chunks } = fakeStream();
    batchOutboundStream(stream);
    const rpcs = [filled(3, 1), filled(200, 2), filled(20_000, 3)];
    for (const rpc of rpcs) stream.push(rpc);
    // Already prefixed (gossipsub's batch publish): passed on as they are.
    stream.pushPrefixed(Uint8Array.of(2, 9, 9));
    expect(chunks).toHaveLength(1);
    expect(unprefix(chunks[0] as Uint8Array)).toEqual([filled(3, 1)]);
    await endOfTurn();
    expect(chunks).toHaveLength(2);
    expect(unprefix(chunks[1] as Uint8Array)).toEqual([...rpcs.slice(1), Uint8Array.of(9, 9)]);
    // A new turn: its first RPC leaves at once again.
    stream.push(filled(5, 4));
    expect(chunks).toHaveLength(3);
    expect(unprefix(chunks[2] as Uint8Array)).toEqual([filled(5, 4)]);
  });

  it("pushes a batch at once when the next RPC would take it over its byte cap", async () => {
    const { stream, chunks } = fakeStream();
    batchOutboundStream(stream);
    const rpc = filled(1_000, 7);
    const perBatch = Math.floor(outboundBatchMaxBytes / 1_002);
    stream.push(rpc);
    for (let i = 0; i < perBatch * 2 + 1; i++) stream.push(rpc);
    // The first RPC and two full batches left synchronously; the last RPC waits for the turn's end.
    expect(chunks).toHaveLength(3);
    for (const chunk of chunks.slice(1)) {
      expect(chunk.byteLength).toBe(perBatch * 1_002);
      expect(chunk.byteLength).toBeLessThanOrEqual(outboundBatchMaxBytes);
    }
    await endOfTurn();
    expect(chunks).toHaveLength(4);
    expect(chunks.flatMap(unprefix)).toHaveLength(perBatch * 2 + 2);
    // An RPC over the cap goes alone, whole.
    stream.push(filled(100, 1));
    stream.push(filled(100, 2));
    stream.push(filled(outboundBatchMaxBytes + 10, 3));
    expect(chunks.slice(4).map(unprefix)).toEqual([[filled(100, 1)], [filled(100, 2)]]);
    await endOfTurn();
    expect(chunks.slice(6).map(unprefix)).toEqual([[filled(outboundBatchMaxBytes + 10, 3)]]);
  });

  it("throws like gossipsub when the stream's buffer, counting the batch, is over its cap", () => {
    const { stream } = fakeStream(1_000);
    batchOutboundStream(stream);
    stream.push(filled(600, 1));
    stream.push(filled(600, 2));
    expect(() => stream.push(filled(10, 3))).toThrow("OutboundStream buffer full");
  });
});

describe("batched outbound streams between relay nodes", () => {
  const contentTopic = "/org-chat/1/batching-test/proto";
  const pubsubTopic = pubsubTopicFor(contentTopic);
  const nodes: RelayNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });

  it("sends a burst of publishes in a few writes and delivers every message", async () => {
    const a = await startRelayNode([pubsubTopic]);
    const b = await startRelayNode([pubsubTopic]);
    nodes.push(a, b);
    await link(b, a);
    // gossipsub's stream from b to a: the fields the batching relies on are there.
    const stream = b.relay.gossipSub.streamsOutbound.get(a.libp2p.peerId.toString()) as unknown as {
      pushable: { push(chunk: Uint8Array): unknown; readableLength: number };
      maxBufferSize: number;
    };
    expect(typeof stream.pushable.push).toBe("function");
    expect(typeof stream.pushable.readableLength).toBe("number");
    // Bounded by default (gossipsub's own default is Infinity): a peer that stops reading costs
    // this node at most relayOutboundBufferBytes.
    expect(stream.maxBufferSize).toBe(relayOutboundBufferBytes);
    const push = stream.pushable.push.bind(stream.pushable);
    let writes = 0;
    stream.pushable.push = (chunk) => {
      writes += 1;
      return push(chunk);
    };
    const count = 200;
    const received = new Set<string>();
    const all = new Promise<void>((resolve) => {
      a.relay.observe((_topic, message: WakuMessage, _bytes, local) => {
        if (local) return;
        received.add(new TextDecoder().decode(message.payload));
        if (received.size === count) resolve();
      });
    });
    const payload = (i: number) => new TextEncoder().encode(`message ${i} `.padEnd(256, "."));
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        b.relay.publishMessage(pubsubTopic, { contentTopic, payload: payload(i) }),
      ),
    );
    await all;
    expect(received.size).toBe(count);
    // ~330 B per RPC: the first alone, the other 199 in two batches of at most 65,000 B (one write
    // per message without batching).
    expect(writes).toBeLessThanOrEqual(4);
  });
});
