/**
 * `pnpm --filter @orgchat/service-node bench [-- --json] [-- --quick]`
 *
 * Store v3 server cost without the network: 10,000 stored messages (256-byte payloads) in a temporary
 * SQLite file; the batched insert time; then a full backward paging with page size 100 through
 * `handleStoreQuery` (encode request → handle → decode response, cursor followed), total time and p50
 * page latency; and its floor, the same pages served from a sorted in-memory array through the same
 * encode/decode, with the ratio. The over-the-network figure is the node's benchmark.
 *
 * Paging runs `rounds` times (after one warm-up pass); the reported total is the median round and the
 * page latencies are pooled over all rounds. `--quick` (CI smoke run) uses 1,000 messages and one
 * round: it proves the benchmark works, its numbers mean little. Numbers go to stdout (JSON with
 * `--json`); progress goes to stderr.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { messageHash } from "@waku/core";
import { proto_store, type WakuMessage } from "@waku/proto";
import { type ArchivedMessage, MessageArchive } from "../src/archive.js";
import { handleStoreQuery } from "../src/store-protocol.js";

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");
const messageCount = quick ? 1_000 : 10_000;
const rounds = quick ? 1 : 5;
const pageSize = 100;
const payloadBytes = 256;
const insertBatch = 1_000;
const pubsubTopic = "/waku/2/rs/42/0";
const contentTopic = "/orgchat/1/bench/proto";

interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly floor?: number;
  readonly ratio?: number;
  readonly note?: string;
}

function progress(message: string): void {
  process.stderr.write(`… ${message}\n`);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

function makeMessages(): ArchivedMessage[] {
  const base = 1_750_000_000_000n * 1_000_000n;
  // A fixed pseudo-random payload fill (xorshift): no RNG in the measured code, same bytes every run.
  let state = 0x2545f491;
  return Array.from({ length: messageCount }, (_, i) => {
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
      timestamp: base + BigInt(i) * 1_000_000n,
    };
    const hash = messageHash(pubsubTopic, {
      version: 0,
      timestamp: message.timestamp,
      meta: undefined,
      rateLimitProof: undefined,
      ephemeral: undefined,
      payload,
      contentTopic,
    });
    return { hash, pubsubTopic, message };
  });
}

function encodeRequest(cursor: Uint8Array | undefined): Uint8Array {
  return proto_store.StoreQueryRequest.encode({
    requestId: "bench",
    includeData: true,
    pubsubTopic,
    contentTopics: [contentTopic],
    messageHashes: [],
    paginationForward: false,
    paginationLimit: BigInt(pageSize),
    ...(cursor === undefined ? {} : { paginationCursor: cursor }),
  });
}

/** One full backward paging; returns per-page latencies (ms) and how many messages came back. */
function pageAll(serve: (request: Uint8Array) => Uint8Array): {
  pages: number[];
  received: number;
} {
  const pages: number[] = [];
  let received = 0;
  let cursor: Uint8Array | undefined;
  do {
    const start = performance.now();
    const response = proto_store.StoreQueryResponse.decode(serve(encodeRequest(cursor)));
    pages.push(performance.now() - start);
    if (response.statusCode !== 200)
      throw new Error(`status ${response.statusCode}: ${response.statusDesc}`);
    received += response.messages.length;
    cursor = response.paginationCursor;
  } while (cursor !== undefined);
  return { pages, received };
}

/**
 * The floor: the same protocol work (decode the request, find the cursor, slice a page, encode the
 * response) over an array sorted once, with no database.
 */
function inMemoryServer(entries: readonly ArchivedMessage[]): (request: Uint8Array) => Uint8Array {
  const sorted = [...entries].sort((a, b) => {
    const ta = a.message.timestamp ?? 0n;
    const tb = b.message.timestamp ?? 0n;
    return ta === tb ? Buffer.compare(a.hash, b.hash) : ta < tb ? -1 : 1;
  });
  const position = new Map(sorted.map((e, i) => [Buffer.from(e.hash).toString("hex"), i]));
  return (bytes) => {
    const request = proto_store.StoreQueryRequest.decode(bytes);
    const limit = Number(request.paginationLimit ?? 20n);
    const end =
      request.paginationCursor === undefined
        ? sorted.length
        : (position.get(Buffer.from(request.paginationCursor).toString("hex")) ?? 0);
    const start = Math.max(0, end - limit);
    const page = sorted.slice(start, end);
    return proto_store.StoreQueryResponse.encode({
      requestId: request.requestId,
      statusCode: 200,
      statusDesc: "OK",
      messages: page.map((e) => ({
        messageHash: e.hash,
        message: e.message,
        pubsubTopic: e.pubsubTopic,
      })),
      ...(start > 0 && page[0] !== undefined ? { paginationCursor: page[0].hash } : {}),
    });
  };
}

function measurePaging(serve: (request: Uint8Array) => Uint8Array): {
  totalMs: number;
  p50Ms: number;
  p95Ms: number;
  pages: number;
} {
  const warm = pageAll(serve);
  if (warm.received !== messageCount) {
    throw new Error(`paging returned ${warm.received} of ${messageCount} messages`);
  }
  const totals: number[] = [];
  const latencies: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const { pages } = pageAll(serve);
    totals.push(pages.reduce((sum, ms) => sum + ms, 0));
    latencies.push(...pages);
  }
  latencies.sort((a, b) => a - b);
  return {
    totalMs: median(totals),
    p50Ms: percentile(latencies, 0.5),
    p95Ms: percentile(latencies, 0.95),
    pages: warm.pages.length,
  };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orgchat-store-bench-"));
let archive: MessageArchive | undefined;
try {
  progress(`preparing ${messageCount} messages of ${payloadBytes} B`);
  const messages = makeMessages();
  archive = MessageArchive.open({ path: path.join(dir, "messages.sqlite") });

  progress(`inserting in batches of ${insertBatch}`);
  const insertStart = performance.now();
  for (let i = 0; i < messages.length; i += insertBatch) {
    archive.insertMany(messages.slice(i, i + insertBatch));
  }
  const insertMs = performance.now() - insertStart;

  progress("inserting one by one (a second file, 1,000 messages)");
  const single = MessageArchive.open({ path: path.join(dir, "single.sqlite") });
  const singleCount = Math.min(1_000, messageCount);
  const singleStart = performance.now();
  for (let i = 0; i < singleCount; i++) single.insert(messages[i] as ArchivedMessage);
  const singleMs = performance.now() - singleStart;
  single.close();

  progress(`paging backward by ${pageSize} through handleStoreQuery (${rounds} rounds)`);
  const stored = archive;
  const sqlite = measurePaging((request) => handleStoreQuery(request, stored));
  progress("paging the in-memory floor");
  const floor = measurePaging(inMemoryServer(messages));

  const figures: Figure[] = [
    {
      name: `insert ${messageCount} (batches of ${insertBatch})`,
      value: round2(insertMs),
      unit: "ms",
      note: `${round2((insertMs * 1000) / messageCount)} µs/message`,
    },
    {
      name: `insert ${singleCount} one by one`,
      value: round2(singleMs),
      unit: "ms",
      note: `${round2((singleMs * 1000) / singleCount)} µs/message (one commit each)`,
    },
    {
      name: `full backward paging, ${sqlite.pages} pages of ${pageSize}`,
      value: round2(sqlite.totalMs),
      unit: "ms",
      floor: round2(floor.totalMs),
      ratio: round2(sqlite.totalMs / floor.totalMs),
      note: "encode request → handleStoreQuery → decode response; floor: sorted in-memory array",
    },
    {
      name: "page latency p50",
      value: round2(sqlite.p50Ms),
      unit: "ms",
      floor: round2(floor.p50Ms),
      ratio: round2(sqlite.p50Ms / floor.p50Ms),
    },
    {
      name: "page latency p95",
      value: round2(sqlite.p95Ms),
      unit: "ms",
      floor: round2(floor.p95Ms),
      ratio: round2(sqlite.p95Ms / floor.p95Ms),
    },
  ];

  const title = `@orgchat/service-node Store v3 (${messageCount} messages, ${payloadBytes} B payloads, SQLite file${quick ? ", --quick" : ""})`;
  if (json) {
    process.stdout.write(`${JSON.stringify({ benchmark: title, figures }, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${title}\n`);
    const rows = figures.map((f) => [
      f.name,
      `${f.value} ${f.unit}`,
      f.floor === undefined ? "" : `${f.floor} ${f.unit}`,
      f.ratio === undefined ? "" : `${f.ratio}×`,
      f.note ?? "",
    ]);
    const header = ["figure", "value", "floor", "ratio", "note"];
    const widths = header.map((h, i) =>
      Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)),
    );
    const line = (cells: string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd();
    process.stdout.write(`${line(header)}\n${line(widths.map((w) => "-".repeat(w)))}\n`);
    for (const row of rows) process.stdout.write(`${line(row)}\n`);
  }
} finally {
  archive?.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
