/**
 * `pnpm --filter @orgchat/store-sqlite bench [-- --json] [-- --quick]`
 *
 * What a client pays to persist before it sends, on this machine:
 * - **batch commit latency** (p50 / p95) of a typical send: the new ratchet state (2 KiB), the
 *   generation counter and the outgoing message (256 B) in the outbox, as one atomic batch;
 * - **append throughput**: received 256 B messages appended 100 per batch, and one per batch;
 * - **range**: the newest 50 messages of a 20,000-message channel;
 * - a 1 MiB group state put.
 *
 * Each is measured on SQLite with `synchronous = FULL` (the default), with `NORMAL`, and on the
 * memory store, the in-process floor (what the contract costs with no disk at all). `--json` prints
 * one JSON object; `--quick` runs a small profile (CI smoke run: the numbers mean nothing).
 * Benchmarks are not tests: they print numbers and assert nothing about time.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { memoryStore, type Store, type StoreOp } from "@orgchat/store";
import { openSqliteStore } from "../src/index.ts";

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");
const progress = (message: string) => process.stderr.write(`… ${message}\n`);

interface Figure {
  readonly name: string;
  readonly store: string;
  readonly value: number;
  readonly unit: string;
  readonly p95?: number;
  readonly note?: string;
}

/** Deterministic filler bytes (no RNG in measurements). */
function filler(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 17) & 0xff;
  return bytes;
}

const round = (value: number) => Math.round(value * 100) / 100;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

/** Runs `operation` `count` times (after `warmup` runs) and returns per-call µs, sorted. */
async function sample(
  count: number,
  warmup: number,
  operation: (i: number) => Promise<unknown>,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await operation(i);
  const samples: number[] = [];
  for (let i = warmup; i < warmup + count; i++) {
    const start = performance.now();
    await operation(i);
    samples.push((performance.now() - start) * 1000);
  }
  return samples.sort((a, b) => a - b);
}

const state = filler(2048, 1);
const message = filler(256, 2);
const bigState = filler(1024 * 1024, 3);

function sendBatch(i: number): StoreOp[] {
  return [
    { type: "put", space: "ratchet", key: "org/channel/chain", value: state },
    { type: "put", space: "counters", key: "org/channel/generation", value: filler(8, i) },
    {
      type: "append",
      log: "outbox",
      entries: [{ id: `out-${i}`, sortKey: BigInt(i), value: message }],
    },
  ];
}

async function benchStore(name: string, store: Store): Promise<Figure[]> {
  const figures: Figure[] = [];
  const batches = quick ? 200 : 5_000;
  progress(`${name}: ${batches} send batches`);
  const latencies = await sample(batches, quick ? 20 : 200, (i) => store.batch(sendBatch(i)));
  figures.push({
    name: "send batch commit",
    store: name,
    value: round(percentile(latencies, 0.5)),
    p95: round(percentile(latencies, 0.95)),
    unit: "µs",
    note: "2 KiB state + counter + 256 B outbox entry",
  });

  const received = quick ? 5_000 : 100_000;
  progress(`${name}: ${received} received messages, 100 per batch`);
  let start = performance.now();
  for (let i = 0; i < received; i += 100) {
    await store.append(
      "channel/general",
      Array.from({ length: 100 }, (_, j) => ({
        id: `in-${i + j}`,
        sortKey: BigInt(i + j),
        value: message,
      })),
    );
  }
  figures.push({
    name: "append, 100 per batch",
    store: name,
    value: Math.round(received / ((performance.now() - start) / 1000)),
    unit: "entries/s",
    note: "256 B each",
  });

  const single = quick ? 500 : 5_000;
  start = performance.now();
  for (let i = 0; i < single; i++) {
    await store.append("channel/random", [{ id: `one-${i}`, sortKey: BigInt(i), value: message }]);
  }
  figures.push({
    name: "append, 1 per batch",
    store: name,
    value: Math.round(single / ((performance.now() - start) / 1000)),
    unit: "entries/s",
    note: "one commit each",
  });

  const reads = await sample(quick ? 50 : 1_000, 10, () =>
    store.range("channel/general", { reverse: true, limit: 50 }),
  );
  figures.push({
    name: `range: newest 50 of ${received.toLocaleString("en-US")}`,
    store: name,
    value: round(percentile(reads, 0.5)),
    p95: round(percentile(reads, 0.95)),
    unit: "µs",
  });

  const puts = await sample(quick ? 5 : 50, 2, () => store.put("group", "owner", bigState));
  figures.push({
    name: "1 MiB state put",
    store: name,
    value: round(percentile(puts, 0.5)),
    p95: round(percentile(puts, 0.95)),
    unit: "µs",
  });
  return figures;
}

const directory = mkdtempSync(join(tmpdir(), "orgchat-store-bench-"));
const figures: Figure[] = [];
try {
  for (const synchronous of ["full", "normal"] as const) {
    const store = await openSqliteStore({
      path: join(directory, `${synchronous}.db`),
      synchronous,
    });
    figures.push(...(await benchStore(`sqlite (${synchronous})`, store)));
    await store.close();
  }
  const memory = memoryStore();
  figures.push(...(await benchStore("memory (floor)", memory)));
  await memory.close();
} finally {
  rmSync(directory, { recursive: true, force: true });
}

if (json) {
  process.stdout.write(
    `${JSON.stringify({ benchmark: "@orgchat/store-sqlite", quick, directory: tmpdir(), figures })}\n`,
  );
} else {
  process.stdout.write(
    `\n@orgchat/store-sqlite${quick ? " (quick profile: numbers mean nothing)" : ""}, files in ${tmpdir()}\n`,
  );
  const rows = figures.map((f) => [
    f.name,
    f.store,
    `${f.value.toLocaleString("en-US")} ${f.unit}`,
    f.p95 === undefined ? "" : `${f.p95.toLocaleString("en-US")} ${f.unit}`,
    f.note ?? "",
  ]);
  const header = ["figure", "store", "p50 / rate", "p95", "note"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${line(header)}\n${line(widths.map((w) => "-".repeat(w)))}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
}
