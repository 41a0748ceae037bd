/**
 * The filter subscription table and request handler on their own (no network): nwaku's limits,
 * status codes and expiry, with an injected clock.
 */
import { proto_filter_v2 } from "@waku/proto";
import { describe, expect, it } from "vitest";
import { defaultFilterLimits, handleFilterSubscribeRequest } from "../src/filter.ts";
import { FilterSubscriptions } from "../src/filter-subscriptions.ts";

const { FilterSubscribeType } = proto_filter_v2.FilterSubscribeRequest;
const shard0 = "/waku/2/rs/55/0";
const shard1 = "/waku/2/rs/55/1";

function table(limits: Partial<typeof defaultFilterLimits> = {}) {
  const clock = { now: 1_000_000 };
  const subscriptions = new FilterSubscriptions(
    { ...defaultFilterLimits, ...limits },
    () => clock.now,
  );
  return { clock, subscriptions };
}

describe("FilterSubscriptions", () => {
  it("routes a message to the peers subscribed to its pubsub and content topic", () => {
    const { subscriptions } = table();
    expect(
      subscriptions.subscribe("alice", shard0, ["/a/1/x/proto", "/a/1/y/proto"]).statusCode,
    ).toBe(200);
    expect(subscriptions.subscribe("bob", shard0, ["/a/1/x/proto"]).statusCode).toBe(200);
    expect(subscriptions.subscribe("carol", shard1, ["/a/1/x/proto"]).statusCode).toBe(200);
    expect(subscriptions.subscribers(shard0, "/a/1/x/proto").sort()).toEqual(["alice", "bob"]);
    expect(subscriptions.subscribers(shard0, "/a/1/y/proto")).toEqual(["alice"]);
    expect(subscriptions.subscribers(shard1, "/a/1/x/proto")).toEqual(["carol"]);
    expect(subscriptions.subscribers(shard1, "/a/1/y/proto")).toEqual([]);
  });

  it("counts a criterion once however often it is subscribed", () => {
    const { subscriptions } = table({ maxCriteriaPerPeer: 2 });
    subscriptions.subscribe("alice", shard0, ["/a/1/x/proto", "/a/1/x/proto"]);
    subscriptions.subscribe("alice", shard0, ["/a/1/x/proto"]);
    expect(subscriptions.criteriaCount("alice")).toBe(1);
    expect(subscriptions.subscribe("alice", shard0, ["/a/1/y/proto"]).statusCode).toBe(200);
    expect(subscriptions.subscribe("alice", shard0, ["/a/1/z/proto"])).toMatchObject({
      statusCode: 503,
      statusDesc: "peer has reached maximum number of filter criteria: 2",
    });
    expect(subscriptions.criteriaCount("alice")).toBe(2);
  });

  it("refuses a new peer beyond maxPeers with 503, and makes room for it once one expired", () => {
    const { clock, subscriptions } = table({ maxPeers: 2, subscriptionTimeoutMs: 1_000 });
    subscriptions.subscribe("alice", shard0, ["/a/1/x/proto"]);
    clock.now += 600;
    subscriptions.subscribe("bob", shard0, ["/a/1/x/proto"]);
    expect(subscriptions.subscribe("carol", shard0, ["/a/1/x/proto"]).statusCode).toBe(503);
    clock.now += 600; // alice last seen 1,200 ms ago: expired
    expect(subscriptions.subscribe("carol", shard0, ["/a/1/x/proto"]).statusCode).toBe(200);
    expect(subscriptions.peerCount).toBe(2);
  });

  it("expires a subscriber not heard from within the timeout; a ping keeps it alive", () => {
    const { clock, subscriptions } = table({ subscriptionTimeoutMs: 1_000 });
    subscriptions.subscribe("alice", shard0, ["/a/1/x/proto"]);
    subscriptions.subscribe("bob", shard0, ["/a/1/x/proto"]);
    clock.now += 800;
    expect(subscriptions.ping("alice").statusCode).toBe(200);
    clock.now += 800;
    expect(subscriptions.subscribers(shard0, "/a/1/x/proto")).toEqual(["alice"]);
    expect(subscriptions.ping("bob").statusCode).toBe(404);
    expect(subscriptions.prune()).toEqual(["bob"]);
    expect(subscriptions.peerCount).toBe(1);
  });

  it("unsubscribes criteria, answering 404 for ones the peer did not hold", () => {
    const { subscriptions } = table();
    subscriptions.subscribe("alice", shard0, ["/a/1/x/proto", "/a/1/y/proto"]);
    expect(subscriptions.unsubscribe("alice", shard0, ["/a/1/x/proto"]).statusCode).toBe(200);
    expect(
      subscriptions.unsubscribe("alice", shard0, ["/a/1/x/proto", "/a/1/y/proto"]).statusCode,
    ).toBe(404);
    // The criterion it did hold was removed anyway, and with it the peer.
    expect(subscriptions.isSubscribed("alice")).toBe(false);
    expect(subscriptions.unsubscribe("alice", shard0, ["/a/1/y/proto"]).statusCode).toBe(404);
    expect(subscriptions.unsubscribeAll("alice").statusCode).toBe(404);
  });

  it("drops every criterion of a peer that disconnected", () => {
    const { subscriptions } = table();
    subscriptions.subscribe("alice", shard0, ["/a/1/x/proto"]);
    subscriptions.subscribe("alice", shard1, ["/a/1/y/proto"]);
    subscriptions.removePeer("alice");
    expect(subscriptions.subscribers(shard0, "/a/1/x/proto")).toEqual([]);
    expect(subscriptions.subscribers(shard1, "/a/1/y/proto")).toEqual([]);
    expect(subscriptions.peerCount).toBe(0);
  });
});

describe("handleFilterSubscribeRequest", () => {
  const context = () => {
    const { subscriptions } = table();
    return {
      subscriptions,
      limits: defaultFilterLimits,
      servesPubsubTopic: (topic: string) => topic === shard0,
    };
  };
  const request = (fields: Partial<proto_filter_v2.FilterSubscribeRequest>) =>
    proto_filter_v2.FilterSubscribeRequest.encode({
      requestId: "id-1",
      filterSubscribeType: FilterSubscribeType.SUBSCRIBE,
      pubsubTopic: shard0,
      contentTopics: ["/a/1/x/proto"],
      ...fields,
    });
  const answer = (bytes: Uint8Array) => proto_filter_v2.FilterSubscribeResponse.decode(bytes);

  it("echoes the request id with the outcome", () => {
    const ctx = context();
    expect(answer(handleFilterSubscribeRequest(request({}), "alice", ctx))).toEqual({
      requestId: "id-1",
      statusCode: 200,
      statusDesc: "OK",
    });
  });

  it("answers 400 to a content topic list over the limit before building it", () => {
    const ctx = context();
    const topics = Array.from({ length: 5_000 }, (_, i) => `/a/1/t${i}/proto`);
    const reply = answer(
      handleFilterSubscribeRequest(request({ contentTopics: topics }), "alice", ctx),
    );
    expect(reply).toMatchObject({ requestId: "N/A", statusCode: 400 });
    expect(reply.statusDesc).toContain("100");
  });

  it("answers 400 to empty content topics and to unserved pubsub topics", () => {
    const ctx = context();
    expect(
      answer(handleFilterSubscribeRequest(request({ contentTopics: [""] }), "a", ctx)).statusCode,
    ).toBe(400);
    expect(
      answer(handleFilterSubscribeRequest(request({ pubsubTopic: shard1 }), "a", ctx)).statusCode,
    ).toBe(400);
  });
});
