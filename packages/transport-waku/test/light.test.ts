import type { Diagnostic } from "@orgchat/base";
/**
 * Light mode against a scripted service node: how requests are built (Store v3 time bounds, cursors,
 * unique timestamps) and how every answer maps to the contract's results and typed errors. The
 * end-to-end runs against the real service node (compliance suite, reconnection, exit) live in
 * `@orgchat/service-node`'s tests, which may depend on this package (not the other way round).
 */
import {
  isHistoryQueryFailedError,
  isInvalidCursorError,
  isInvalidQueryError,
  isNoPeersError,
  isNotStartedError,
  isTransportStartError,
  type Transport,
  type TransportMessage,
} from "@orgchat/transport";
import { bytesToHex } from "@waku/utils/bytes";
import { afterEach, describe, expect, it } from "vitest";
import { messageHashHex, pubsubTopicFor, wakuLightTransport, wakuTransport } from "../src/index.js";
import {
  type FakeService,
  type FakeServiceScript,
  startFakeService,
} from "./light-fake-service.js";

const topic = "/orgchat-light/1/test/proto";
const utf8 = new TextEncoder();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fake(script: FakeServiceScript = {}): Promise<FakeService> {
  const service = await startFakeService(script);
  cleanups.push(() => service.stop());
  return service;
}

async function started(
  service: FakeService | undefined,
  options: { publishTimeoutMs?: number; now?: () => number } = {},
): Promise<Transport & { peerId: string | undefined }> {
  const transport = wakuLightTransport({
    mode: "light",
    peers: service ? [service.address] : [],
    publishTimeoutMs: options.publishTimeoutMs ?? 2_000,
    ...(options.now ? { now: options.now } : {}),
  });
  cleanups.push(() => transport.stop());
  await transport.start();
  if (service) {
    await new Promise<void>((resolve) => {
      if (transport.status === "online") return resolve();
      const off = transport.on("status:changed", ({ status }) => {
        if (status === "online") {
          off();
          resolve();
        }
      });
    });
  }
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

describe("diagnostics", () => {
  it("reports a service node it cannot dial as a diagnostic, and keeps redialing it", async () => {
    const service = await fake();
    const unreachable = `/ip4/127.0.0.1/tcp/1/ws/p2p/${service.libp2p.peerId.toString()}`;
    const transport = wakuLightTransport({
      mode: "light",
      peers: [unreachable],
      reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
    });
    cleanups.push(() => transport.stop());
    const failures: Diagnostic[] = [];
    const twice = new Promise<void>((resolve) => {
      transport.on("diagnostic", (d) => {
        if (d.reason !== "dial-failed") return;
        failures.push(d);
        if (failures.length === 2) resolve();
      });
    });
    await transport.start();
    await twice;
    expect(failures[0]).toMatchObject({ component: "transport-waku/upkeep", topic: unreachable });
    expect(failures[0]?.error).toBeDefined();
    expect(transport.status).toBe("connecting");
  });
});

describe("wakuLightTransport options", () => {
  it("is what wakuTransport({ mode: 'light' }) makes, with light capabilities", () => {
    const transport = wakuTransport({ mode: "light" });
    expect(transport.capabilities).toEqual({
      history: true,
      selfDelivery: true,
      ordered: false,
      maxPayloadBytes: 153_600,
    });
    expect(transport.status).toBe("stopped");
    expect(transport.multiaddrs).toEqual([]);
  });

  it("refuses options that cannot work", () => {
    expect(() => wakuLightTransport({ mode: "relay" } as never)).toThrow(TypeError);
    expect(() => wakuLightTransport({ mode: "light", historyTimeoutMs: 0 })).toThrow(RangeError);
    expect(() =>
      wakuLightTransport({ mode: "light", reconnect: { initialDelayMs: 10, maxDelayMs: 5 } }),
    ).toThrow(RangeError);
    expect(() => wakuLightTransport({ mode: "light", shards: [8] })).toThrow(RangeError);
  });

  it("reports a malformed service node address at start with TransportStartError", async () => {
    const transport = wakuLightTransport({ mode: "light", peers: ["/ip4/1.2.3/tcp/1"] });
    expect(isTransportStartError(await rejection(transport.start()))).toBe(true);
    expect(transport.status).toBe("stopped");
  });
});

describe("publishing", () => {
  it("rejects with NotStartedError before start and NoPeersError when no service node answers in time", async () => {
    const idle = wakuLightTransport({ mode: "light" });
    expect(isNotStartedError(await rejection(idle.publish(topic, utf8.encode("x"))))).toBe(true);
    const alone = await started(undefined, { publishTimeoutMs: 100 });
    expect(alone.status).toBe("connecting");
    expect(isNoPeersError(await rejection(alone.publish(topic, utf8.encode("x"))))).toBe(true);
  });

  it("retries a refused push until the deadline, then rejects with NoPeersError", async () => {
    const service = await fake({ lightPush: () => ({ statusCode: 429, statusDesc: "slow down" }) });
    const transport = await started(service, { publishTimeoutMs: 300 });
    const error = await rejection(transport.publish(topic, utf8.encode("x")));
    expect(isNoPeersError(error)).toBe(true);
    expect(service.requests.lightPush.length).toBeGreaterThan(1);
  });

  it("resolves once a retry is accepted", async () => {
    let calls = 0;
    const service = await fake({
      lightPush: () => (++calls === 1 ? { statusCode: 503 } : { statusCode: 200 }),
    });
    const transport = await started(service);
    const result = await transport.publish(topic, utf8.encode("second time lucky"));
    expect(result.recipients).toBe(1);
    expect(service.requests.lightPush).toHaveLength(2);
  });

  it("stamps each publish with a unique nanosecond timestamp and returns the message hash as id", async () => {
    const service = await fake();
    const transport = await started(service, { now: () => 1_700_000_000_000 });
    const payload = utf8.encode("same bytes, same millisecond");
    const first = await transport.publish(topic, payload);
    const second = await transport.publish(topic, payload);
    expect(first.id).not.toBe(second.id);
    expect(first.timestamp).toBe(1_700_000_000_000);
    const [a, b] = service.requests.lightPush.map((r) => r.message?.timestamp);
    expect(a).toBe(1_700_000_000_000n * 1_000_000n);
    expect(b).toBe((a as bigint) + 1n);
    const sent = service.requests.lightPush[0];
    expect(sent?.pubsubTopic).toBe(pubsubTopicFor(topic));
    expect(messageHashHex(pubsubTopicFor(topic), sent?.message as never)).toBe(first.id);
  });
});

describe("subscribing", () => {
  it("rejects with NoPeersError when the filter node refuses the subscription", async () => {
    const service = await fake({ filter: () => ({ statusCode: 503 }) });
    const transport = await started(service, { publishTimeoutMs: 300 });
    expect(isNoPeersError(await rejection(transport.subscribe([topic], () => {})))).toBe(true);
  });

  it("delivers a filter push with the message hash as id and the timestamp in ms", async () => {
    const service = await fake();
    const transport = await started(service);
    const received: TransportMessage[] = [];
    let arrived: () => void = () => {};
    const first = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    await transport.subscribe([topic], (m) => {
      received.push(m);
      arrived();
    });
    expect(service.requests.filter.map((r) => r.filterSubscribeType)).toContain("SUBSCRIBE");
    const message = {
      payload: utf8.encode("pushed"),
      contentTopic: topic,
      timestamp: 1_700_000_000_123_456_789n,
    };
    const peer = service.libp2p.getConnections()[0]?.remotePeer;
    await service.push(peer as never, pubsubTopicFor(topic), message);
    await first;
    expect(received[0]).toEqual({
      contentTopic: topic,
      payload: utf8.encode("pushed"),
      timestamp: 1_700_000_000_123,
      id: messageHashHex(pubsubTopicFor(topic), message),
    });
  });

  it("delivers filter pushes live to every subscription made at the same moment on one shard", async () => {
    // The SDK's filter keeps one Subscription per pubsub topic but registers it only after its
    // first SUBSCRIBE round trip; concurrent first subscribes each made their own, and pushes went
    // to the last one registered only. Here nothing but the filter push can deliver: the fake
    // service keeps no history and light mode never sweeps it by itself.
    const service = await fake();
    const transport = await started(service);
    const topics = Array.from({ length: 6 }, (_, i) => `/orgchat-light/1/concurrent-${i}/proto`);
    const shard = pubsubTopicFor(topics[0] as string);
    expect(new Set(topics.map((t) => pubsubTopicFor(t)))).toEqual(new Set([shard]));
    const received = new Map<string, TransportMessage[]>(topics.map((t) => [t, []]));
    let check: () => void = () => {};
    const all = new Promise<void>((resolve) => {
      check = () => {
        if ([...received.values()].every((list) => list.length > 0)) resolve();
      };
    });
    await Promise.all(
      topics.map((t) =>
        transport.subscribe([t], (m) => {
          received.get(t)?.push(m);
          check();
        }),
      ),
    );
    const peer = service.libp2p.getConnections()[0]?.remotePeer;
    for (const [i, t] of topics.entries()) {
      await service.push(peer as never, shard, {
        payload: utf8.encode(`to ${t}`),
        contentTopic: t,
        timestamp: BigInt(1_700_000_000_000 + i) * 1_000_000n,
      });
    }
    // Safety net against a hang only: a push arrives within milliseconds.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      all,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 20_000);
      }),
    ]);
    clearTimeout(timer);
    const missing = topics.filter((t) => received.get(t)?.length === 0);
    expect(missing, "subscriptions that never got their push").toEqual([]);
    for (const t of topics) {
      expect(received.get(t)?.map((m) => new TextDecoder().decode(m.payload))).toEqual([`to ${t}`]);
    }
  });
});

describe("history", () => {
  it("maps a query to a Store v3 request: ns time bounds (inclusive ms), direction, page size, cursor", async () => {
    const service = await fake();
    const transport = await started(service);
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

  it("returns a backward page newest first, with the server's cursor as hex", async () => {
    const pubsubTopic = pubsubTopicFor(topic);
    const messages = [1n, 2n, 3n].map((ms) => ({
      payload: utf8.encode(`m${ms}`),
      contentTopic: topic,
      timestamp: ms * 1_000_000n,
    }));
    const next = new Uint8Array(32).fill(9);
    const service = await fake({
      store: () => ({
        messages: messages.map((message) => ({
          messageHash: new Uint8Array(32),
          message,
          pubsubTopic,
        })),
        paginationCursor: next,
      }),
    });
    const transport = await started(service);
    const page = await transport.queryHistory({ contentTopics: [topic] });
    expect(page.messages.map((m) => m.timestamp)).toEqual([3, 2, 1]);
    expect(page.messages[0]?.id).toBe(messageHashHex(pubsubTopic, messages[2] as never));
    expect(page.cursor).toBe(bytesToHex(next));
    expect(service.requests.store[0]?.paginationForward).toBe(false);
    expect(service.requests.store[0]?.paginationLimit).toBe(20n);
  });

  it("maps store errors: 400 for a cursor is InvalidCursorError, others HistoryQueryFailedError with the status", async () => {
    const service = await fake({
      store: (request) =>
        request.paginationCursor
          ? { statusCode: 400, statusDesc: "BAD_REQUEST: cursor" }
          : { statusCode: 503 },
    });
    const transport = await started(service);
    const bad = await rejection(
      transport.queryHistory({ contentTopics: [topic], cursor: "cd".repeat(32) }),
    );
    expect(isInvalidCursorError(bad)).toBe(true);
    const failed = await rejection(transport.queryHistory({ contentTopics: [topic] }));
    expect(isHistoryQueryFailedError(failed)).toBe(true);
    expect((failed as { status?: number }).status).toBe(503);
  });

  it("refuses what Store v3 cannot answer before asking", async () => {
    const service = await fake();
    const transport = await started(service);
    expect(
      isInvalidCursorError(
        await rejection(transport.queryHistory({ contentTopics: [topic], cursor: "xyz" })),
      ),
    ).toBe(true);
    const eleven = Array.from({ length: 11 }, (_, i) => `/orgchat-light/1/t${i}/proto`);
    expect(
      isInvalidQueryError(await rejection(transport.queryHistory({ contentTopics: eleven }))),
    ).toBe(true);
    // Auto-sharding puts these two applications on different shards of cluster 55.
    const [a, b] = ["/orgchat-light/1/x/proto", "/another-app/1/x/proto"];
    expect(pubsubTopicFor(a as string)).not.toBe(pubsubTopicFor(b as string));
    expect(
      isInvalidQueryError(
        await rejection(transport.queryHistory({ contentTopics: [a as string, b as string] })),
      ),
    ).toBe(true);
    expect(service.requests.store).toHaveLength(0);
  });

  it("rejects with HistoryQueryFailedError when no store node is connected", async () => {
    const transport = wakuLightTransport({ mode: "light", historyTimeoutMs: 100 });
    cleanups.push(() => transport.stop());
    await transport.start();
    expect(
      isHistoryQueryFailedError(
        await rejection(transport.queryHistory({ contentTopics: [topic] })),
      ),
    ).toBe(true);
  });
});

describe("store peers", () => {
  it("sends history queries to storePeers when given", async () => {
    const service = await fake();
    const archive = await fake();
    const transport = wakuLightTransport({
      mode: "light",
      peers: [service.address],
      storePeers: [archive.address],
    });
    cleanups.push(() => transport.stop());
    await transport.start();
    await transport.queryHistory({ contentTopics: [topic] });
    expect(service.requests.store).toHaveLength(0);
    expect(archive.requests.store).toHaveLength(1);
  });
});
