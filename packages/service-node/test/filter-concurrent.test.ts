/**
 * Filter subscriptions made at the same moment by one peer: the service node keeps every one of
 * them (SUBSCRIBE requests on parallel streams), and a light transport that subscribes to several
 * topics at once gets every message live. Nothing here reads history, so only the filter push can
 * deliver.
 */
import type { Libp2p } from "@libp2p/interface";
import type { TransportMessage } from "@orgchat/transport";
import { pubsubTopicFor } from "@orgchat/transport-waku";
import { proto_filter_v2 } from "@waku/proto";
import * as lp from "it-length-prefixed";
import { afterEach, expect, it } from "vitest";
import { filterPushCodec, filterSubscribeCodec } from "../src/entries/protocols.ts";
import type { ServiceNode } from "../src/index.ts";
import { eventually, lightTransportFor, online, startServiceNode, wsAddress } from "./fixtures.ts";
import { exchange, frame, rawClient } from "./raw-client.ts";

const utf8 = new TextEncoder();
const topics = Array.from({ length: 8 }, (_, i) => `/orgchat-concurrent/1/topic-${i}/proto`);
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serviceNode(): Promise<ServiceNode> {
  const node = await startServiceNode({ listen: ["/ip4/127.0.0.1/tcp/0/ws"] });
  cleanups.push(() => node.stop());
  return node;
}

async function publisherFor(node: ServiceNode) {
  const publisher = lightTransportFor(node);
  cleanups.push(() => publisher.stop());
  await publisher.start();
  await online(publisher);
  return publisher;
}

it("keeps every SUBSCRIBE one peer sends on parallel streams", async () => {
  const node = await serviceNode();
  const client: Libp2p = await rawClient();
  cleanups.push(async () => {
    await client.stop();
  });
  const pushed: string[] = [];
  await client.handle(filterPushCodec, ({ stream }) => {
    void (async () => {
      for await (const message of lp.decode(stream.source)) {
        const push = proto_filter_v2.MessagePush.decode(message.subarray());
        if (push.wakuMessage) pushed.push(push.wakuMessage.contentTopic);
      }
    })().catch(() => {});
  });
  const shard = pubsubTopicFor(topics[0] as string);
  const replies = await Promise.all(
    topics.map((topic, i) =>
      exchange(
        client,
        wsAddress(node),
        filterSubscribeCodec,
        frame(
          proto_filter_v2.FilterSubscribeRequest.encode({
            requestId: `s${i}`,
            filterSubscribeType:
              proto_filter_v2.FilterSubscribeRequest.FilterSubscribeType.SUBSCRIBE,
            pubsubTopic: shard,
            contentTopics: [topic],
          }),
        ),
      ),
    ),
  );
  expect(
    replies.map((r) => proto_filter_v2.FilterSubscribeResponse.decode(r as Uint8Array).statusCode),
  ).toEqual(topics.map(() => 200));
  const publisher = await publisherFor(node);
  for (const topic of topics) await publisher.publish(topic, utf8.encode(topic));
  await eventually(() => pushed.length >= topics.length, "a push for every topic");
  expect([...pushed].sort()).toEqual([...topics].sort());
});

it("a light transport's subscriptions made at the same moment all get messages live", async () => {
  const node = await serviceNode();
  const subscriber = lightTransportFor(node);
  cleanups.push(() => subscriber.stop());
  await subscriber.start();
  await online(subscriber);
  const received = new Map<string, TransportMessage[]>(topics.map((t) => [t, []]));
  await Promise.all(
    topics.map((topic) => subscriber.subscribe([topic], (m) => void received.get(topic)?.push(m))),
  );
  const publisher = await publisherFor(node);
  for (const topic of topics) await publisher.publish(topic, utf8.encode(topic));
  const missing = () => topics.filter((t) => received.get(t)?.length === 0);
  await eventually(() => missing().length === 0, "a message on every subscription").catch(
    (error: unknown) => {
      throw new Error(`never delivered live: ${missing().join(", ")}`, { cause: error });
    },
  );
  for (const topic of topics) {
    expect(received.get(topic)?.map((m) => new TextDecoder().decode(m.payload))).toEqual([topic]);
  }
});
