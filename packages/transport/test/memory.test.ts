import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import {
  isAbortError,
  isHistoryUnsupportedError,
  isNotStartedError,
  memoryDefaultMaxPayloadBytes,
  memoryNetwork,
  memoryTransport,
  type PublishResult,
  type TransportMessage,
  virtualClock,
} from "../src/index.ts";
import { messageId, sha256Hex, sha256HexIsNative } from "../src/memory-history.ts";

const topic = "/orgchat-test/1/memory/proto";
const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);

describe("capabilities", () => {
  it("defaults: history, self delivery, ordered, 150 KiB", () => {
    expect({ ...memoryTransport().capabilities }).toEqual({
      history: true,
      selfDelivery: true,
      ordered: true,
      maxPayloadBytes: 153_600,
    });
    expect(memoryDefaultMaxPayloadBytes).toBe(150 * 1024);
  });

  it("ordered is false only with a latency range or a reorder window", () => {
    const ordered = (init: Parameters<typeof memoryNetwork>[0]) =>
      memoryNetwork(init).transport().capabilities.ordered;
    expect(ordered({ dropRate: 0.5, duplicateRate: 0.5 })).toBe(true);
    expect(ordered({ latency: { minMs: 5, maxMs: 5 } })).toBe(true);
    expect(ordered({ latency: { minMs: 5, maxMs: 6 } })).toBe(false);
    expect(ordered({ reorderWindowMs: 1 })).toBe(false);
  });

  it("maxPayloadBytes is configurable and enforced", async () => {
    const transport = memoryNetwork({ maxPayloadBytes: 10 }).transport();
    await transport.start();
    expect(transport.capabilities.maxPayloadBytes).toBe(10);
    await expect(transport.publish(topic, new Uint8Array(10).fill(1))).resolves.toBeDefined();
    await expect(transport.publish(topic, new Uint8Array(11))).rejects.toThrow(/limit of 10 bytes/);
    await transport.stop();
  });

  it("history: false emulates a node without a store", async () => {
    const transport = memoryNetwork().transport({ history: false, name: "relay-only" });
    expect(transport.capabilities.history).toBe(false);
    await expect(transport.queryHistory({ contentTopics: [topic] })).rejects.toSatisfy(
      isNotStartedError,
    );
    await transport.start();
    await expect(transport.queryHistory({ contentTopics: [topic] })).rejects.toSatisfy(
      isHistoryUnsupportedError,
    );
    await transport.stop();
  });

  it("selfDelivery: false keeps a transport's own messages from its subscriptions", async () => {
    const network = memoryNetwork();
    const quiet = network.transport({ selfDelivery: false });
    const other = network.transport();
    await quiet.start();
    await other.start();
    const own: TransportMessage[] = [];
    const theirs: TransportMessage[] = [];
    await quiet.subscribe([topic], (m) => void own.push(m));
    await other.subscribe([topic], (m) => void theirs.push(m));
    await quiet.publish(topic, bytes("hello"));
    await network.idle();
    expect(own).toEqual([]);
    expect(theirs.length).toBe(1);
    await network.stop();
  });

  it("rejects out-of-range options with RangeError", () => {
    const bad = [
      { seed: 1.5 },
      { dropRate: 1.5 },
      { dropRate: -0.1 },
      { duplicateRate: Number.NaN },
      { latency: { minMs: 10, maxMs: 5 } },
      { latency: { minMs: 1.5, maxMs: 5 } },
      { reorderWindowMs: -1 },
      { maxPayloadBytes: 0 },
    ];
    for (const init of bad)
      expect(() => memoryNetwork(init), JSON.stringify(init)).toThrow(RangeError);
  });
});

describe("messages", () => {
  it("ids are lowercase sha256 hex, distinct for identical publishes, deterministic across networks", async () => {
    const run = async () => {
      const transport = memoryTransport(memoryNetwork({}, virtualClock()));
      await transport.start();
      const first = await transport.publish(topic, bytes("same"));
      const second = await transport.publish(topic, bytes("same"));
      await transport.stop();
      await transport.start();
      const third = await transport.publish(topic, bytes("same"));
      await transport.stop();
      return [first, second, third];
    };
    const [first, second, third] = await run();
    expect(first?.id).toMatch(/^[0-9a-f]{64}$/);
    expect(first?.timestamp).toBe(second?.timestamp);
    expect(new Set([first?.id, second?.id, third?.id]).size, "restarts do not reuse ids").toBe(3);
    expect((await run()).map((r) => r.id)).toEqual([first?.id, second?.id, third?.id]);
  });

  it("an id is sha256(domain ‖ 0 ‖ u32 topic length ‖ topic ‖ f64 time ‖ u32 publisher ‖ u32 sequence ‖ payload)", async () => {
    const network = memoryNetwork({}, virtualClock());
    network.transport();
    const transport = network.transport();
    await transport.start();
    const payloads = [bytes("first"), new Uint8Array([0]), bytes("x".repeat(700))];
    const results: PublishResult[] = [];
    for (const payload of payloads) results.push(await transport.publish(topic, payload));
    const layoutId = (onTopic: string, payload: Uint8Array, sequence: number, at: number) => {
      const domain = bytes("orgchat/memory-transport/message/v1");
      const topicBytes = bytes(onTopic);
      const fixed = new DataView(new ArrayBuffer(4 + 8 + 4 + 4));
      const layout = [domain, new Uint8Array([0]), new Uint8Array(4), topicBytes];
      new DataView(layout[2]?.buffer as ArrayBuffer).setUint32(0, topicBytes.length);
      fixed.setFloat64(0, at);
      fixed.setUint32(8, 1);
      fixed.setUint32(12, sequence);
      const hash = nobleSha256.create();
      for (const part of [...layout, new Uint8Array(fixed.buffer, 0, 16), payload])
        hash.update(part);
      return bytesToHex(hash.digest());
    };
    const expected = payloads.map((payload, sequence) =>
      layoutId(topic, payload, sequence, results[sequence]?.timestamp ?? -1),
    );
    // Another topic between two of the same (the encoded topic is kept for the next publish).
    const other = "/orgchat-test/1/other-topic/proto";
    expect(messageId(other, bytes("a"), 7, 1, 3)).toBe(layoutId(other, bytes("a"), 3, 7));
    expect(messageId(topic, bytes("a"), 7, 1, 3)).toBe(layoutId(topic, bytes("a"), 3, 7));
    expect(results.map((r) => r.id)).toEqual(expected);
    expect(messageId(topic, payloads[0] as Uint8Array, results[0]?.timestamp ?? -1, 1, 0)).toBe(
      expected[0],
    );
    // Node has the native hash: both hashes give the same hex.
    expect(sha256HexIsNative).toBe(true);
    expect(sha256Hex(payloads[2] as Uint8Array)).toBe(
      bytesToHex(nobleSha256(payloads[2] as Uint8Array)),
    );
    await transport.stop();
  });

  it("history stays sorted by time when the injected clock goes back", async () => {
    let now = 100;
    const network = memoryNetwork({}, { now: () => now });
    const transport = network.transport();
    await transport.start();
    for (const at of [100, 50, 75, 100, 10]) {
      now = at;
      await transport.publish(topic, bytes(String(at)));
    }
    const forward = await transport.queryHistory({ contentTopics: [topic], direction: "forward" });
    const texts = forward.messages.map((m) => new TextDecoder().decode(m.payload));
    expect(texts.slice(0, 3)).toEqual(["10", "50", "75"]);
    expect(texts.slice(3).sort()).toEqual(["100", "100"]);
    expect(forward.messages.map((m) => m.timestamp)).toEqual([10, 50, 75, 100, 100]);
    await transport.stop();
  });

  it("payloads are copied: the publisher's buffer and each handler's bytes are their own", async () => {
    const network = memoryNetwork();
    const transport = network.transport();
    await transport.start();
    const seen: TransportMessage[] = [];
    await transport.subscribe([topic], (m) => {
      m.payload.fill(0);
    });
    await transport.subscribe([topic], (m) => void seen.push(m));
    const buffer = bytes("original");
    const publishing = transport.publish(topic, buffer);
    buffer.fill(0x21);
    await publishing;
    await network.idle();
    expect(new TextDecoder().decode(seen[0]?.payload)).toBe("original");
    const [stored] = (await transport.queryHistory({ contentTopics: [topic] })).messages;
    expect(new TextDecoder().decode(stored?.payload)).toBe("original");
    await transport.stop();
  });

  it("a handler may publish and subscribe from inside a delivery", async () => {
    const network = memoryNetwork();
    const transport = network.transport();
    await transport.start();
    const replies: string[] = [];
    const replyTopic = "/orgchat-test/1/replies/proto";
    await transport.subscribe(
      [replyTopic],
      (m) => void replies.push(new TextDecoder().decode(m.payload)),
    );
    await transport.subscribe([topic], async (m) => {
      await transport.publish(replyTopic, m.payload);
    });
    await transport.publish(topic, bytes("ping"));
    while (replies.length === 0) await network.idle();
    expect(replies).toEqual(["ping"]);
    await transport.stop();
  });

  it("subscribe needs at least one topic and a function", async () => {
    const transport = memoryTransport();
    await transport.start();
    await expect(transport.subscribe([], () => {})).rejects.toThrow(RangeError);
    await expect(transport.subscribe([topic], "nope" as never)).rejects.toThrow(TypeError);
    await transport.stop();
  });
});

describe("lifecycle races", () => {
  it("a publish pending when stop() runs rejects with NotStartedError and sends nothing", async () => {
    const network = memoryNetwork();
    const transport = network.transport();
    await transport.start();
    const publishing = transport.publish(topic, bytes("late"));
    await transport.stop();
    await expect(publishing).rejects.toSatisfy(isNotStartedError);
    await transport.start();
    expect((await transport.queryHistory({ contentTopics: [topic] })).messages).toEqual([]);
    await transport.stop();
  });

  it("an abort during publish sends nothing", async () => {
    const network = memoryNetwork();
    const transport = network.transport();
    await transport.start();
    const controller = new AbortController();
    const publishing = transport.publish(topic, bytes("aborted"), { signal: controller.signal });
    controller.abort();
    await expect(publishing).rejects.toSatisfy(isAbortError);
    expect((await transport.queryHistory({ contentTopics: [topic] })).messages).toEqual([]);
    await transport.stop();
  });
});

describe("network.idle()", () => {
  it("resolves at once when nothing is in flight, and rejects with AbortError when aborted", async () => {
    const clock = virtualClock();
    const network = memoryNetwork({ latency: { minMs: 5, maxMs: 5 } }, clock);
    await network.idle();
    const transport = network.transport();
    await transport.start();
    await transport.publish(topic, bytes("slow"));
    const controller = new AbortController();
    const waiting = network.idle({ signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toSatisfy(isAbortError);
    const done = network.idle();
    clock.advance(5);
    await done;
    expect(network.deliveriesInFlight).toBe(0);
    await network.stop();
  });
});

describe("virtualClock", () => {
  it("runs due tasks in deadline order, FIFO on ties, and moves time only when told", () => {
    const clock = virtualClock({ start: 100 });
    const order: string[] = [];
    clock.schedule(() => order.push(`b@${clock.now()}`), 10);
    clock.schedule(() => order.push(`a@${clock.now()}`), 5);
    clock.schedule(() => order.push(`c@${clock.now()}`), 10);
    const cancel = clock.schedule(() => order.push("cancelled"), 1);
    cancel();
    expect(clock.pending).toBe(3);
    clock.advance(4);
    expect(order).toEqual([]);
    expect(clock.now()).toBe(104);
    clock.advance(6);
    expect(order).toEqual(["a@105", "b@110", "c@110"]);
    expect(clock.now()).toBe(110);
  });

  it("advance() runs tasks scheduled by tasks within the window; runAll() runs everything", () => {
    const clock = virtualClock({ start: 0 });
    const order: number[] = [];
    clock.schedule(() => {
      order.push(clock.now());
      clock.schedule(() => order.push(clock.now()), 3);
      clock.schedule(() => order.push(clock.now()), 30);
    }, 2);
    clock.advance(10);
    expect(order).toEqual([2, 5]);
    clock.runAll();
    expect(order).toEqual([2, 5, 32]);
    expect(clock.pending).toBe(0);
  });

  it("runAll() stops a task that reschedules itself forever", () => {
    const clock = virtualClock();
    const again = () => void clock.schedule(again, 1);
    again();
    expect(() => clock.runAll(100)).toThrow(RangeError);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => virtualClock({ start: Number.NaN })).toThrow(RangeError);
  });
});

describe("the history's copies", () => {
  it("publishes of many sizes (shared slabs and their own arrays) keep their own bytes and ids", async () => {
    const network = memoryNetwork({}, virtualClock());
    const transport = network.transport();
    await transport.start();
    // Seeded sizes from 0 to 6,000 B: many slabs filled, some payloads past the slab's limit.
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    const payloads: Uint8Array[] = [];
    const results: PublishResult[] = [];
    for (let i = 0; i < 600; i++) {
      const payload = new Uint8Array(next() % 6_001);
      for (let j = 0; j < payload.length; j++) payload[j] = (i + j * 31) & 0xff;
      payloads.push(payload);
      results.push(await transport.publish(topic, payload));
      // The caller may reuse its buffer at once: the network kept its own copy.
      payload.fill(0xee);
    }
    const history: TransportMessage[] = [];
    let cursor: string | undefined;
    do {
      const page = await transport.queryHistory({
        contentTopics: [topic],
        pageSize: 100,
        ...(cursor === undefined ? {} : { cursor }),
      });
      history.push(...page.messages);
      cursor = page.cursor;
    } while (cursor !== undefined);
    // One clock reading: the history is in id order.
    expect(history).toHaveLength(results.length);
    const sequenceOf = new Map(results.map((result, i) => [result.id, i]));
    for (const message of history) {
      const i = sequenceOf.get(message.id) ?? -1;
      const expected = new Uint8Array(payloads[i]?.length ?? 0);
      for (let j = 0; j < expected.length; j++) expected[j] = (i + j * 31) & 0xff;
      expect(message.payload, `payload ${i}`).toEqual(expected);
      expect(message.id).toBe(messageId(topic, expected, message.timestamp, 0, i));
    }
  });
});
