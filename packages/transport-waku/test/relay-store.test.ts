/**
 * Relay mode with `storePeers`: history through Store v3 nodes, against a scripted store node (how
 * a query maps to a request, how answers map to pages and errors). The end to end with the real
 * service node as store peer (the compliance suite) lives in `@orgchat/integration`, which may
 * depend on both packages.
 */
import {
  isHistoryQueryFailedError,
  isHistoryUnsupportedError,
  isInvalidCursorError,
  isInvalidQueryError,
  isNotStartedError,
} from "@orgchat/transport";
import { bytesToHex } from "@waku/utils/bytes";
import { afterEach, describe, expect, it } from "vitest";
import { messageHashHex, pubsubTopicFor, type WakuTransport, wakuTransport } from "../src/index.js";
import { type FakeServiceScript, startFakeService } from "./light-fake-service.js";

const topic = "/orgchat-relay-store/1/test/proto";
const utf8 = new TextEncoder();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function store(script: FakeServiceScript = {}) {
  const service = await startFakeService(script);
  cleanups.push(() => service.stop());
  return service;
}

async function relayWith(
  storePeers: readonly string[],
  historyTimeoutMs = 5_000,
  listen: readonly string[] = [],
) {
  const transport: WakuTransport = wakuTransport({
    mode: "relay",
    listen,
    storePeers,
    historyTimeoutMs,
    heartbeatIntervalMs: 100,
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
  });
  cleanups.push(() => transport.stop());
  await transport.start();
  return transport;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("relay mode with store peers", () => {
  it("has history only with storePeers; without, queryHistory throws HistoryUnsupportedError", async () => {
    const plain = await relayWith([]);
    expect(plain.capabilities.history).toBe(false);
    expect(
      isHistoryUnsupportedError(await rejection(plain.queryHistory({ contentTopics: [topic] }))),
    ).toBe(true);
    const service = await store();
    const withStore = await relayWith([service.address]);
    expect(withStore.capabilities.history).toBe(true);
    await expect(withStore.queryHistory({ contentTopics: [topic] })).resolves.toEqual({
      messages: [],
    });
  });

  it("maps a query to a Store v3 request on the store peer: ns bounds, direction, page size, cursor", async () => {
    const service = await store();
    const transport = await relayWith([service.address]);
    const cursor = "ab".repeat(32);
    await transport.queryHistory({
      contentTopics: [topic],
      from: 1_000,
      to: 2_000,
      direction: "forward",
      pageSize: 7,
      cursor,
    });
    expect(service.requests.store[0]).toMatchObject({
      includeData: true,
      pubsubTopic: pubsubTopicFor(topic),
      contentTopics: [topic],
      timeStart: 1_000_000_000n,
      timeEnd: 2_000_999_999n,
      paginationForward: true,
      paginationLimit: 7n,
    });
    expect(bytesToHex(service.requests.store[0]?.paginationCursor as Uint8Array)).toBe(cursor);
  });

  it("returns a backward page newest first with the server's cursor; maps error statuses", async () => {
    const pubsubTopic = pubsubTopicFor(topic);
    const messages = [1n, 2n, 3n].map((ms) => ({
      payload: utf8.encode(`m${ms}`),
      contentTopic: topic,
      timestamp: ms * 1_000_000n,
    }));
    const next = new Uint8Array(32).fill(9);
    const service = await store({
      store: (request) =>
        request.paginationCursor
          ? { statusCode: 400, statusDesc: "BAD_REQUEST: cursor" }
          : request.paginationLimit === 1n
            ? { statusCode: 503 }
            : {
                messages: messages.map((message) => ({
                  messageHash: new Uint8Array(32),
                  message,
                  pubsubTopic,
                })),
                paginationCursor: next,
              },
    });
    const transport = await relayWith([service.address]);
    const page = await transport.queryHistory({ contentTopics: [topic] });
    expect(page.messages.map((m) => m.timestamp)).toEqual([3, 2, 1]);
    expect(page.messages[0]?.id).toBe(messageHashHex(pubsubTopic, messages[2] as never));
    expect(page.cursor).toBe(bytesToHex(next));
    expect(
      isInvalidCursorError(
        await rejection(
          transport.queryHistory({ contentTopics: [topic], cursor: "cd".repeat(32) }),
        ),
      ),
    ).toBe(true);
    const failed = await rejection(transport.queryHistory({ contentTopics: [topic], pageSize: 1 }));
    expect(isHistoryQueryFailedError(failed)).toBe(true);
    expect((failed as { status?: number }).status).toBe(503);
  });

  it("hands out plain Uint8Array copies, never Buffer views of libp2p's receive buffers", async () => {
    // Sizes that span one or several stream chunks: libp2p joins chunks into Node Buffers.
    const sizes = [10, 300, 3_000, 30_000, 100_000];
    const payloads = sizes.map((size) => new Uint8Array(size).fill(7));
    const service = await store({
      store: () => ({
        messages: payloads.map((payload, i) => ({
          messageHash: new Uint8Array(32),
          message: { payload, contentTopic: topic, timestamp: BigInt(i + 1) * 1_000_000n },
          pubsubTopic: pubsubTopicFor(topic),
        })),
      }),
    });
    const hub = await relayWith([service.address], 5_000, ["/ip4/127.0.0.1/tcp/0/ws"]);
    const member: WakuTransport = wakuTransport({
      mode: "relay",
      listen: [],
      peers: [...hub.multiaddrs],
      heartbeatIntervalMs: 100,
    });
    cleanups.push(() => member.stop());
    const live: Uint8Array[] = [];
    const all = new Promise<void>((resolve) => {
      void hub.subscribe([topic], (m) => {
        live.push(m.payload);
        if (live.length === sizes.length) resolve();
      });
    });
    await member.start();
    for (const payload of payloads) await member.publish(topic, payload);
    await all;
    const page = await hub.queryHistory({ contentTopics: [topic] });
    // The response spans several stream chunks: joined in order, every byte where it was.
    expect(page.messages.map((m) => m.payload)).toEqual([...payloads].reverse());
    // A Buffer would serialize as { type: "Buffer", data } in JSON, and its `slice()` does not copy.
    for (const payload of [...live, ...page.messages.map((m) => m.payload)]) {
      expect(Object.getPrototypeOf(payload)).toBe(Uint8Array.prototype);
    }
  });

  it("refuses what Store v3 cannot answer before asking", async () => {
    const service = await store();
    const transport = await relayWith([service.address]);
    const eleven = Array.from({ length: 11 }, (_, i) => `/orgchat-relay-store/1/t${i}/proto`);
    expect(
      isInvalidQueryError(await rejection(transport.queryHistory({ contentTopics: eleven }))),
    ).toBe(true);
    expect(
      isInvalidCursorError(
        await rejection(transport.queryHistory({ contentTopics: [topic], cursor: "xyz" })),
      ),
    ).toBe(true);
    expect(service.requests.store).toHaveLength(0);
  });

  it("rejects with HistoryQueryFailedError when no store peer is reachable in time", async () => {
    const service = await store();
    const address = service.address;
    await service.stop();
    const transport = await relayWith([address], 300);
    expect(
      isHistoryQueryFailedError(
        await rejection(transport.queryHistory({ contentTopics: [topic] })),
      ),
    ).toBe(true);
  });

  it("a query waiting for a store peer ends with NotStartedError when the transport stops", async () => {
    const service = await store();
    const address = service.address;
    await service.stop();
    const transport = await relayWith([address], 10_000);
    const pending = rejection(transport.queryHistory({ contentTopics: [topic] }));
    await transport.stop();
    expect(isNotStartedError(await pending)).toBe(true);
  });
});
