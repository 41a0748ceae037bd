/**
 * Light-mode subscriptions made at the same moment, through the service node on 127.0.0.1 over
 * WebSocket: a light transport subscribes to 20 content topics of one shard, then another light
 * transport publishes one message on each (LightPush v3 → Filter v2 push).
 * - at once: the 20 `subscribe` calls together (`Promise.all`); light mode makes the SDK calls one
 *   at a time per pubsub topic (the SDK orphaned all but one subscription when they overlapped);
 * - one by one: each `subscribe` awaited before the next (what the CLI's network gate does);
 * - delivered: the fewest subscriptions of a round that got their message (must be all 20).
 * Floor: the memory transport's 20 subscriptions at once, in this process. Lowest of the rounds.
 * `--quick` runs 2 rounds.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { memoryNetwork, type Subscription, type Transport } from "@orgchat/transport";
import { pubsubTopicFor, wakuLightTransport } from "@orgchat/transport-waku";
import { createServiceNode } from "../src/index.js";
import { type Figure, flags, progress, report, round2, withFloor } from "./harness.js";

const rounds = flags.quick ? 2 : 7;
const topicCount = 20;
const utf8 = new TextEncoder();

interface Run {
  readonly ms: number;
  readonly hits: Set<string>;
  readonly subscriptions: Subscription[];
}

/** Subscribes `transport` to each topic, all together or one by one. */
async function subscribeAll(
  transport: Transport,
  topics: readonly string[],
  together: boolean,
): Promise<Run> {
  const hits = new Set<string>();
  const one = (topic: string) => transport.subscribe([topic], () => void hits.add(topic));
  const start = performance.now();
  const subscriptions: Subscription[] = [];
  if (together) subscriptions.push(...(await Promise.all(topics.map(one))));
  else for (const topic of topics) subscriptions.push(await one(topic));
  return { ms: performance.now() - start, hits, subscriptions };
}

function online(transport: Transport): Promise<void> {
  return new Promise((resolve) => {
    if (transport.status === "online") return resolve();
    const off = transport.on("status:changed", ({ status }) => {
      if (status !== "online") return;
      off();
      resolve();
    });
  });
}

const dataDir = await mkdtemp(join(tmpdir(), "orgchat-subscribe-bench-"));
try {
  progress("starting a service node and two light transports");
  const node = await createServiceNode({ dataDir, listen: ["/ip4/127.0.0.1/tcp/0/ws"] });
  const address = node.multiaddrs()[0] as string;
  const subscriber = wakuLightTransport({ mode: "light", peers: [address] });
  const publisher = wakuLightTransport({ mode: "light", peers: [address] });
  await Promise.all([subscriber.start(), publisher.start()]);
  await Promise.all([online(subscriber), online(publisher)]);
  // Published last in each round, on a topic subscribed long before: once it arrived, a message
  // that has not is lost (the node pushes a subscriber's messages in order on one stream). On
  // another shard: the measured subscriptions must be the first ones of theirs, as at a client's
  // start (the SDK's race was in creating its per-shard subscription object).
  const shard = pubsubTopicFor("/orgchat-bench/1/any/proto");
  let marker = 0;
  while (pubsubTopicFor(`/orgchat-marker-${marker}/1/marker/proto`) === shard) marker += 1;
  const markerTopic = `/orgchat-marker-${marker}/1/marker/proto`;
  let markerSeen: () => void = () => undefined;
  await subscriber.subscribe([markerTopic], () => markerSeen());

  const times = { together: [] as number[], oneByOne: [] as number[], floor: [] as number[] };
  const delivered = { together: topicCount, oneByOne: topicCount };
  const floorNetwork = memoryNetwork();
  const floorTransport = floorNetwork.transport();
  await floorTransport.start();
  for (let round = 0; round < rounds; round++) {
    progress(`round ${round + 1} of ${rounds}`);
    for (const mode of ["together", "oneByOne"] as const) {
      const topics = Array.from(
        { length: topicCount },
        (_, i) => `/orgchat-bench/1/${mode}-${round}-${i}/proto`,
      );
      const run = await subscribeAll(subscriber, topics, mode === "together");
      times[mode].push(run.ms);
      const markerArrived = new Promise<void>((resolve) => {
        markerSeen = resolve;
      });
      for (const topic of topics) await publisher.publish(topic, utf8.encode(topic));
      await publisher.publish(markerTopic, utf8.encode(`after ${mode} ${round}`));
      await markerArrived;
      delivered[mode] = Math.min(delivered[mode], run.hits.size);
      for (const subscription of run.subscriptions) await subscription.unsubscribe();
    }
    const topics = Array.from(
      { length: topicCount },
      (_, i) => `/orgchat-bench/1/floor-${i}/proto`,
    );
    const floor = await subscribeAll(floorTransport, topics, true);
    times.floor.push(floor.ms);
    for (const subscription of floor.subscriptions) await subscription.unsubscribe();
  }
  await Promise.all([subscriber.stop(), publisher.stop()]);
  await node.stop();
  await floorNetwork.stop();

  const lowest = (values: number[]) => Math.min(...values);
  const figures: Figure[] = [
    withFloor(
      `${topicCount} subscriptions at once (Promise.all)`,
      lowest(times.together),
      lowest(times.floor),
      "ms",
      `delivered live: ${delivered.together}/${topicCount}`,
    ),
    withFloor(
      `${topicCount} subscriptions one by one`,
      lowest(times.oneByOne),
      lowest(times.floor),
      "ms",
      `delivered live: ${delivered.oneByOne}/${topicCount}`,
    ),
    {
      name: "one subscription, at once / one by one",
      value: round2(lowest(times.together) / topicCount),
      unit: "ms",
      note: `one by one: ${round2(lowest(times.oneByOne) / topicCount)} ms`,
    },
  ];
  report(
    `@orgchat/service-node light-mode subscriptions made at the same moment (127.0.0.1, ws, ${topicCount} topics on one shard, lowest of ${rounds} rounds${flags.quick ? ", --quick" : ""})`,
    figures,
  );
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
