/**
 * Store v3 over the network: 10,000 stored messages (256 B payloads) in the node's SQLite archive, a
 * light transport on 127.0.0.1 (WebSocket) pages all of them backward by 100 with `queryHistory`
 * (one Store v3 request per page, cursor followed). Reports the total time of a full paging and the
 * p50 / p95 page latency; the floor is the same paging through `handleStoreQuery` in this process
 * (request encode → archive → response decode, no network), as in `bench/store.ts`.
 *
 * Three rounds after one warm-up pass (total = median round; latencies pooled). `--quick`: 1,000
 * messages, one round.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pubsubTopicFor, wakuLightTransport } from "@orgchat/transport-waku";
import { messageHash } from "@waku/core";
import { proto_store, type WakuMessage } from "@waku/proto";
import { MessageArchive } from "../src/entries/archive.js";
import { handleStoreQuery } from "../src/entries/protocols.js";
import { archiveFileName, createServiceNode } from "../src/index.js";
import { flags, median, percentile, progress, report, withFloor } from "./harness.js";

const messageCount = flags.quick ? 1_000 : 10_000;
const rounds = flags.quick ? 1 : 3;
const pageSize = 100;
const payloadBytes = 256;
const contentTopic = "/orgchat-bench/1/store/proto";
const pubsubTopic = pubsubTopicFor(contentTopic);

/** Writes `messageCount` messages into a new archive file (one transaction per 1,000). */
function fill(path: string): void {
  const archive = MessageArchive.open({ path });
  const base = BigInt(Date.now() - messageCount * 1000) * 1_000_000n;
  let state = 0x2545f491;
  for (let start = 0; start < messageCount; start += 1_000) {
    const batch = [];
    for (let i = start; i < Math.min(messageCount, start + 1_000); i++) {
      const payload = new Uint8Array(payloadBytes);
      for (let j = 0; j < payloadBytes; j++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        payload[j] = state & 0xff;
      }
      const message: WakuMessage = {
        payload,
        contentTopic,
        version: 0,
        timestamp: base + BigInt(i) * 1_000_000_000n,
      };
      const hash = messageHash(pubsubTopic, {
        ...message,
        version: 0,
        timestamp: message.timestamp,
        meta: undefined,
        rateLimitProof: undefined,
        ephemeral: undefined,
      });
      batch.push({ hash, pubsubTopic, message });
    }
    archive.insertMany(batch);
  }
  archive.close();
}

/** Pages everything backward with `page(cursor)`; returns per-page ms and the message count. */
async function pageAll(
  page: (cursor: string | undefined) => Promise<{ count: number; cursor: string | undefined }>,
): Promise<{ pages: number[]; received: number }> {
  const pages: number[] = [];
  let received = 0;
  let cursor: string | undefined;
  do {
    const start = performance.now();
    const result = await page(cursor);
    pages.push(performance.now() - start);
    received += result.count;
    cursor = result.cursor;
  } while (cursor !== undefined);
  return { pages, received };
}

async function measure(
  page: (cursor: string | undefined) => Promise<{ count: number; cursor: string | undefined }>,
) {
  const warm = await pageAll(page);
  if (warm.received !== messageCount) {
    throw new Error(`paging returned ${warm.received} of ${messageCount} messages`);
  }
  const totals: number[] = [];
  const latencies: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const { pages } = await pageAll(page);
    totals.push(pages.reduce((sum, ms) => sum + ms, 0));
    latencies.push(...pages);
  }
  latencies.sort((a, b) => a - b);
  return { totalMs: median(totals), latencies, pages: warm.pages.length };
}

const dataDir = await mkdtemp(join(tmpdir(), "orgchat-store-network-bench-"));
try {
  progress(`storing ${messageCount} messages of ${payloadBytes} B`);
  const path = join(dataDir, archiveFileName);
  fill(path);

  progress("floor: the same paging through handleStoreQuery in process");
  const archive = MessageArchive.open({ path });
  const floor = await measure(async (cursor) => {
    const request = proto_store.StoreQueryRequest.encode({
      requestId: "bench",
      includeData: true,
      pubsubTopic,
      contentTopics: [contentTopic],
      messageHashes: [],
      paginationForward: false,
      paginationLimit: BigInt(pageSize),
      ...(cursor === undefined ? {} : { paginationCursor: Buffer.from(cursor, "hex") }),
    });
    const response = proto_store.StoreQueryResponse.decode(handleStoreQuery(request, archive));
    return {
      count: response.messages.length,
      cursor: response.paginationCursor && Buffer.from(response.paginationCursor).toString("hex"),
    };
  });
  archive.close();

  progress(`over the network: a light transport pages backward by ${pageSize} (${rounds} rounds)`);
  const node = await createServiceNode({ dataDir, listen: ["/ip4/127.0.0.1/tcp/0/ws"] });
  const light = wakuLightTransport({ mode: "light", peers: [node.multiaddrs()[0] as string] });
  await light.start();
  const network = await measure(async (cursor) => {
    const page = await light.queryHistory({
      contentTopics: [contentTopic],
      direction: "backward",
      pageSize,
      ...(cursor === undefined ? {} : { cursor }),
    });
    return { count: page.messages.length, cursor: page.cursor };
  });
  await light.stop();
  await node.stop();

  report(
    `@orgchat/service-node Store v3 over the network (${messageCount} messages, pages of ${pageSize}, 127.0.0.1 ws${flags.quick ? ", --quick" : ""})`,
    [
      withFloor(
        `full backward paging, ${network.pages} pages`,
        network.totalMs,
        floor.totalMs,
        "ms",
        "light transport queryHistory; floor: handleStoreQuery in process",
      ),
      withFloor(
        "page latency p50",
        percentile(network.latencies, 0.5),
        percentile(floor.latencies, 0.5),
        "ms",
      ),
      withFloor(
        "page latency p95",
        percentile(network.latencies, 0.95),
        percentile(floor.latencies, 0.95),
        "ms",
      ),
    ],
  );
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
