/**
 * Hostile and malformed input on every protocol the node serves, sent by a plain libp2p client:
 * each gets the protocol's status code (or a closed stream where the protocol has none), never a
 * crash, and the node keeps serving afterwards.
 */
import type { Libp2p } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import type { Diagnostic } from "@orgchat/base";
import { pubsubTopicFor } from "@orgchat/transport-waku";
import { proto_filter_v2, proto_lightpush, proto_metadata, proto_store } from "@waku/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  filterSubscribeCodec,
  lightPushCodec,
  metadataCodec,
  storeQueryCodec,
} from "../src/entries/protocols.ts";
import type { ServiceNode, ServiceNodeInit } from "../src/index.ts";
import { eventually, startServiceNode, wsAddress } from "./fixtures.ts";
import { exchange, frame, rawClient } from "./raw-client.ts";

const contentTopic = "/orgchat-bad/1/input/proto";
const pubsubTopic = pubsubTopicFor(contentTopic);
const utf8 = new TextEncoder();
const { FilterSubscribeType } = proto_filter_v2.FilterSubscribeRequest;

function pushRequest(fields: Partial<proto_lightpush.LightPushRequestV3>): Uint8Array {
  return frame(proto_lightpush.LightPushRequestV3.encode({ requestId: "r1", ...fields }));
}

function message(fields: Partial<proto_lightpush.WakuMessage> = {}): proto_lightpush.WakuMessage {
  return {
    payload: utf8.encode("hello"),
    contentTopic,
    timestamp: BigInt(Date.now()) * 1_000_000n,
    ...fields,
  };
}

function filterRequest(fields: Partial<proto_filter_v2.FilterSubscribeRequest>): Uint8Array {
  return frame(
    proto_filter_v2.FilterSubscribeRequest.encode({
      requestId: "f1",
      filterSubscribeType: FilterSubscribeType.SUBSCRIBE,
      pubsubTopic,
      contentTopics: [contentTopic],
      ...fields,
    }),
  );
}

/** A varint length prefix for `length` (to craft frames whose prefix lies). */
function varint(length: number): Uint8Array {
  const out: number[] = [];
  let rest = length;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Uint8Array.from(out);
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
};

interface Harness {
  node: ServiceNode;
  /** What the node reported through `onDiagnostic`, in order. */
  diagnostics: Diagnostic[];
  /** Fires `diagnostic` for each of {@link diagnostics}. */
  reported: EventTarget;
  address: string;
  clients: Libp2p[];
  client(): Promise<Libp2p>;
  close(): Promise<void>;
}

async function harness(init: ServiceNodeInit = {}): Promise<Harness> {
  const diagnostics: Diagnostic[] = [];
  const reported = new EventTarget();
  const node = await startServiceNode({
    ...init,
    onDiagnostic: (diagnostic) => {
      diagnostics.push(diagnostic);
      reported.dispatchEvent(new Event("diagnostic"));
    },
  });
  const clients: Libp2p[] = [];
  return {
    node,
    diagnostics,
    reported,
    address: wsAddress(node),
    clients,
    async client() {
      const client = await rawClient();
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.stop()));
      await node.stop();
    },
  };
}

async function push(h: Harness, client: Libp2p, bytes: Uint8Array) {
  const reply = await exchange(client, h.address, lightPushCodec, bytes);
  expect(reply, "a LightPushResponseV3").toBeDefined();
  return proto_lightpush.LightPushResponseV3.decode(reply as Uint8Array);
}

async function filter(h: Harness, client: Libp2p, bytes: Uint8Array) {
  const reply = await exchange(client, h.address, filterSubscribeCodec, bytes);
  expect(reply, "a FilterSubscribeResponse").toBeDefined();
  return proto_filter_v2.FilterSubscribeResponse.decode(reply as Uint8Array);
}

async function store(h: Harness, client: Libp2p, bytes: Uint8Array) {
  const reply = await exchange(client, h.address, storeQueryCodec, bytes);
  expect(reply, "a StoreQueryResponse").toBeDefined();
  return proto_store.StoreQueryResponse.decode(reply as Uint8Array);
}

describe("bad input", () => {
  let h: Harness;
  let client: Libp2p;

  beforeAll(async () => {
    h = await harness({ filter: { maxPeers: 3, maxCriteriaPerPeer: 5 } });
    client = await h.client();
  });
  afterAll(async () => {
    await h.close();
  });

  describe("LightPush v3", () => {
    it("answers 400 to bytes that are not a LightPushRequestV3, and reports a diagnostic", async () => {
      const before = h.diagnostics.length;
      const reply = await push(h, client, frame(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f])));
      expect(reply.statusCode).toBe(400);
      expect(reply.requestId).toBe("N/A");
      // Reported before the reply was written.
      expect(h.diagnostics.slice(before)).toContainEqual({
        component: "service-node/light-push",
        reason: "undecodable",
        error: expect.any(Error),
      });
    });

    it("answers 400 to a request without a message", async () => {
      const reply = await push(h, client, pushRequest({ pubsubTopic }));
      expect(reply).toMatchObject({ requestId: "r1", statusCode: 400 });
    });

    it("answers 420 to an empty payload, an empty content topic and an oversized meta", async () => {
      for (const bad of [
        message({ payload: new Uint8Array(0) }),
        message({ contentTopic: "" }),
        message({ meta: new Uint8Array(65) }),
      ]) {
        const reply = await push(h, client, pushRequest({ pubsubTopic, message: bad }));
        expect(reply.statusCode).toBe(420);
        expect(reply.statusDesc).toBeTruthy();
      }
    });

    it("answers 413 to a payload over 150 KiB", async () => {
      const reply = await push(
        h,
        client,
        pushRequest({ pubsubTopic, message: message({ payload: new Uint8Array(153_601) }) }),
      );
      expect(reply.statusCode).toBe(413);
    });

    it("answers 413 to a frame whose length prefix exceeds the request limit, unread", async () => {
      const reply = await push(h, client, concat(varint(64 * 1024 * 1024), new Uint8Array(1024)));
      expect(reply).toMatchObject({ requestId: "N/A", statusCode: 413 });
    });

    it("answers 400 to a truncated frame, and reports a diagnostic", async () => {
      const before = h.diagnostics.length;
      const reply = await push(h, client, concat(varint(100), new Uint8Array(10)));
      expect(reply.statusCode).toBe(400);
      expect(h.diagnostics.slice(before)).toContainEqual(
        expect.objectContaining({
          component: "service-node/light-push",
          reason: "malformed-frame",
        }),
      );
    });

    it("answers 421 to a pubsub topic it does not serve", async () => {
      for (const topic of ["/waku/2/rs/55/99", "/waku/2/rs/1/0", "not-a-topic"]) {
        const reply = await push(
          h,
          client,
          pushRequest({ pubsubTopic: topic, message: message() }),
        );
        expect(reply.statusCode).toBe(421);
      }
    });

    it("derives the shard from the content topic when the request names no pubsub topic", async () => {
      const ok = await push(h, client, pushRequest({ message: message() }));
      expect(ok.statusCode).toBe(200);
      const bad = await push(
        h,
        client,
        pushRequest({ message: message({ contentTopic: "nope" }) }),
      );
      expect(bad.statusCode).toBe(420);
    });

    it("accepts a valid push with status 200 and the relay peer count", async () => {
      const reply = await push(
        h,
        client,
        pushRequest({ pubsubTopic, message: message({ payload: utf8.encode("valid") }) }),
      );
      expect(reply).toMatchObject({ requestId: "r1", statusCode: 200, relayPeerCount: 0 });
    });

    it("aborts a stream that sends nothing, reports it, and keeps serving", async () => {
      // Its own node: a short request deadline here must not race the other tests' requests.
      const idle = await harness({ streamTimeoutMs: 200 });
      try {
        const quiet = await idle.client();
        const stream = await quiet.dialProtocol(multiaddr(idle.address), lightPushCodec);
        await eventually(
          () => idle.diagnostics.some((d) => d.reason === "request-timeout"),
          "the node reports the idle stream",
          [[idle.reported, "diagnostic"]],
        );
        expect(idle.diagnostics).toContainEqual({
          component: "service-node/light-push",
          reason: "request-timeout",
        });
        await eventually(() => stream.status !== "open", "the idle stream is aborted");
        const reply = await push(idle, quiet, pushRequest({ pubsubTopic, message: message() }));
        expect(reply.statusCode).toBe(200);
      } finally {
        await idle.close();
      }
    });
  });

  describe("Filter v2", () => {
    it("answers 400 to bytes that are not a FilterSubscribeRequest, and reports a diagnostic", async () => {
      const before = h.diagnostics.length;
      const reply = await filter(h, client, frame(Uint8Array.from([0x0a, 0xff, 0x01])));
      expect(reply).toMatchObject({ requestId: "N/A", statusCode: 400 });
      expect(h.diagnostics.slice(before)).toContainEqual({
        component: "service-node/filter",
        reason: "undecodable",
        error: expect.any(Error),
      });
    });

    it("answers 400 to a subscription without pubsub topic or content topics", async () => {
      const noTopic = await filter(
        h,
        client,
        frame(
          proto_filter_v2.FilterSubscribeRequest.encode({
            requestId: "f1",
            filterSubscribeType: FilterSubscribeType.SUBSCRIBE,
            contentTopics: [contentTopic],
          }),
        ),
      );
      expect(noTopic.statusCode).toBe(400);
      const noContent = await filter(h, client, filterRequest({ contentTopics: [] }));
      expect(noContent.statusCode).toBe(400);
    });

    it("answers 400 to more than 100 content topics in one request", async () => {
      const topics = Array.from({ length: 101 }, (_, i) => `/orgchat-bad/1/t${i}/proto`);
      const reply = await filter(h, client, filterRequest({ contentTopics: topics }));
      expect(reply.statusCode).toBe(400);
      expect(reply.statusDesc).toContain("100");
    });

    it("answers 400 to a pubsub topic it does not serve and to an unknown request type", async () => {
      const unserved = await filter(h, client, filterRequest({ pubsubTopic: "/waku/2/rs/55/42" }));
      expect(unserved.statusCode).toBe(400);
      // requestId "f1", filterSubscribeType = 9 (no such type)
      const unknownType = await filter(
        h,
        client,
        frame(Uint8Array.from([0x0a, 0x02, 0x66, 0x31, 0x10, 0x09])),
      );
      expect(unknownType.statusCode).toBe(400);
    });

    it("answers 404 to a ping, unsubscribe or unsubscribe-all from a peer without subscriptions", async () => {
      const stranger = await h.client();
      for (const type of [
        FilterSubscribeType.SUBSCRIBER_PING,
        FilterSubscribeType.UNSUBSCRIBE,
        FilterSubscribeType.UNSUBSCRIBE_ALL,
      ]) {
        const reply = await filter(h, stranger, filterRequest({ filterSubscribeType: type }));
        expect(reply.statusCode, type).toBe(404);
      }
      await stranger.stop();
    });

    it("answers 200 to subscribe and ping, 404 to unsubscribing a topic it does not hold", async () => {
      const peer = await h.client();
      expect((await filter(h, peer, filterRequest({}))).statusCode).toBe(200);
      expect(
        (
          await filter(
            h,
            peer,
            filterRequest({ filterSubscribeType: FilterSubscribeType.SUBSCRIBER_PING }),
          )
        ).statusCode,
      ).toBe(200);
      const other = await filter(
        h,
        peer,
        filterRequest({
          filterSubscribeType: FilterSubscribeType.UNSUBSCRIBE,
          contentTopics: ["/orgchat-bad/1/other/proto"],
        }),
      );
      expect(other.statusCode).toBe(404);
      expect(
        (
          await filter(
            h,
            peer,
            filterRequest({ filterSubscribeType: FilterSubscribeType.UNSUBSCRIBE_ALL }),
          )
        ).statusCode,
      ).toBe(200);
      await peer.stop();
    });

    it("answers 503 when a peer holds too many criteria or too many peers subscribe", async () => {
      const greedy = await h.client();
      const five = Array.from({ length: 5 }, (_, i) => `/orgchat-bad/1/c${i}/proto`);
      expect((await filter(h, greedy, filterRequest({ contentTopics: five }))).statusCode).toBe(
        200,
      );
      const sixth = await filter(
        h,
        greedy,
        filterRequest({ contentTopics: ["/orgchat-bad/1/c5/proto"] }),
      );
      expect(sixth.statusCode).toBe(503);
      // maxPeers is 3: greedy plus two more fill it; the fourth is refused.
      const others = [await h.client(), await h.client(), await h.client()];
      const statuses: number[] = [];
      for (const other of others)
        statuses.push((await filter(h, other, filterRequest({}))).statusCode);
      expect(statuses).toEqual([200, 200, 503]);
      // Subscriptions end with their connection, which frees the places.
      await Promise.all([greedy, ...others].map((c) => c.stop()));
      await eventually(() => h.node.stats().filterSubscribers === 0, "subscriptions dropped");
    });
  });

  describe("Store v3", () => {
    it("answers 400 to bytes that are not a StoreQueryRequest", async () => {
      const reply = await store(h, client, frame(Uint8Array.from([0xff, 0xff, 0xff])));
      expect(reply.statusCode).toBe(400);
    });

    it("answers 400 to a cursor that is not a stored message", async () => {
      const reply = await store(
        h,
        client,
        frame(
          proto_store.StoreQueryRequest.encode({
            requestId: "s1",
            includeData: true,
            pubsubTopic,
            contentTopics: [contentTopic],
            messageHashes: [],
            paginationCursor: new Uint8Array(32).fill(7),
            paginationForward: true,
          }),
        ),
      );
      expect(reply).toMatchObject({ requestId: "s1", statusCode: 400 });
    });

    it("answers 413 to a frame larger than the request limit", async () => {
      const reply = await store(h, client, concat(varint(10 * 1024 * 1024), new Uint8Array(64)));
      expect(reply.statusCode).toBe(413);
    });

    it("caps a page at 100 messages", async () => {
      const reply = await store(
        h,
        client,
        frame(
          proto_store.StoreQueryRequest.encode({
            requestId: "s2",
            includeData: true,
            pubsubTopic,
            contentTopics: [contentTopic],
            messageHashes: [],
            paginationForward: true,
            paginationLimit: 1_000_000n,
          }),
        ),
      );
      expect(reply.statusCode).toBe(200);
      expect(reply.messages.length).toBeLessThanOrEqual(100);
      expect(reply.messages.length).toBeGreaterThan(0);
    });
  });

  describe("metadata", () => {
    it("reports the cluster and every shard it serves", async () => {
      const reply = await exchange(
        client,
        h.address,
        metadataCodec,
        frame(proto_metadata.WakuMetadataRequest.encode({ clusterId: 55, shards: [] })),
      );
      expect(proto_metadata.WakuMetadataResponse.decode(reply as Uint8Array)).toEqual({
        clusterId: 55,
        shards: [0, 1, 2, 3, 4, 5, 6, 7],
      });
    });

    it("answers nothing to a malformed request", async () => {
      const reply = await exchange(
        client,
        h.address,
        metadataCodec,
        frame(Uint8Array.from([0xff])),
      );
      expect(reply).toBeUndefined();
    });

    it("answers a peer of another cluster, then disconnects it", async () => {
      const foreigner = await h.client();
      const reply = await exchange(
        foreigner,
        h.address,
        metadataCodec,
        frame(proto_metadata.WakuMetadataRequest.encode({ clusterId: 1, shards: [0] })),
      );
      expect(proto_metadata.WakuMetadataResponse.decode(reply as Uint8Array).clusterId).toBe(55);
      await eventually(() => foreigner.getConnections().length === 0, "disconnected", [
        [foreigner, "connection:close"],
      ]);
      await foreigner.stop();
    });
  });

  it("still serves a light push after all of the above", async () => {
    const reply = await push(h, client, pushRequest({ pubsubTopic, message: message() }));
    expect(reply.statusCode).toBe(200);
  });
});

describe("rate limits", () => {
  it("answers 429 once a peer exceeds its request budget", async () => {
    const h = await harness({
      rateLimits: {
        lightPush: { requests: 3, periodMs: 60_000 },
        filter: { requests: 2, periodMs: 60_000 },
        store: { requests: 1, periodMs: 60_000 },
      },
    });
    try {
      const client = await h.client();
      const pushes: number[] = [];
      for (let i = 0; i < 4; i++) {
        const reply = await push(
          h,
          client,
          pushRequest({ pubsubTopic, message: message({ payload: utf8.encode(`m${i}`) }) }),
        );
        pushes.push(reply.statusCode);
      }
      expect(pushes).toEqual([200, 200, 200, 429]);
      const pings: number[] = [];
      for (let i = 0; i < 3; i++) {
        const reply = await filter(
          h,
          client,
          filterRequest({ filterSubscribeType: FilterSubscribeType.SUBSCRIBER_PING }),
        );
        pings.push(reply.statusCode);
      }
      expect(pings).toEqual([404, 404, 429]);
      const query = frame(
        proto_store.StoreQueryRequest.encode({
          requestId: "s",
          includeData: true,
          pubsubTopic,
          contentTopics: [contentTopic],
          messageHashes: [],
          paginationForward: true,
        }),
      );
      expect((await store(h, client, query)).statusCode).toBe(200);
      expect((await store(h, client, query)).statusCode).toBe(429);
      // Budgets are per peer: another peer is served.
      const other = await h.client();
      expect((await store(h, other, query)).statusCode).toBe(200);
    } finally {
      await h.close();
    }
  });
});
