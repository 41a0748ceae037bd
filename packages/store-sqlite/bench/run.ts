/**
 * `pnpm --filter @orgchat/store-sqlite bench [-- --json] [-- --quick]`
 *
 * What a client pays to persist, on this machine:
 * - **what a send commits** (p50 / p95): the one batch `@orgchat/client` commits per channel message
 *   sent, replicated in `send-shape.ts` (the client itself cannot be imported by a store package):
 *   seen id, event, message meta, outbox entry and the previous send's outbox delete, with the value
 *   sizes the client writes, and one send in 64 the sealed group head, committed `durable`; every
 *   send, and the durable ones apart;
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
import { memoryStore, type Store } from "@orgchat/store";
import { openSqliteStore } from "../src/index.ts";
import {
  describeSend,
  filler,
  type SendSizes,
  sendReservation,
  sendSizes,
  sendValues,
  sendWrites,
} from "./send-shape.ts";

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

const message = filler(256, 2);
const bigState = filler(1024 * 1024, 3);

/**
 * Times the one commit of `count` sends (after `warmup` untimed ones), in µs, sorted: every send,
 * and the durable ones (one in `sendReservation`) apart.
 */
async function sampleSends(
  store: Store,
  sizes: SendSizes,
  count: number,
  warmup: number,
): Promise<{ all: number[]; durable: number[] }> {
  const values = sendValues(sizes);
  const all: number[] = [];
  const durable: number[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const start = performance.now();
    const writes = sendWrites(values, i);
    await store.batch(writes.ops, writes.durable ? { durable: true } : undefined);
    const end = performance.now();
    if (i < warmup) continue;
    all.push((end - start) * 1000);
    if (writes.durable) durable.push((end - start) * 1000);
  }
  for (const samples of [all, durable]) samples.sort((a, b) => a - b);
  return { all, durable };
}

async function benchStore(name: string, store: Store): Promise<Figure[]> {
  const figures: Figure[] = [];
  const sends = quick ? 200 : 5_000;
  const warmup = quick ? 20 : 200;
  for (const sizes of sendSizes) {
    progress(`${name}: ${sends} sends, ${sizes.label}`);
    const timed = await sampleSends(store, sizes, sends, warmup);
    const figure = (label: string, samples: number[], note: string): Figure => ({
      name: `send (${sizes.label}): ${label}`,
      store: name,
      value: round(percentile(samples, 0.5)),
      p95: round(percentile(samples, 0.95)),
      unit: "µs",
      note,
    });
    figures.push(
      figure("the commit, every send", timed.all, describeSend(sizes)),
      figure(
        `the durable commits (1 in ${sendReservation})`,
        timed.durable,
        "the head put, synced under NORMAL",
      ),
      {
        name: `send (${sizes.label}): mean per send`,
        store: name,
        value: round(timed.all.reduce((sum, t) => sum + t, 0) / timed.all.length),
        unit: "µs",
        note: "every send, the durable ones included: what persisting costs per message",
      },
    );
  }

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

/** What the send figures are, said in the output itself (they do not run the client). */
const measures =
  "send figures: the one store batch of a channel message sent as @orgchat/client commits it " +
  "(the head put and a durable commit one send in 64), replicated with the client's value sizes in " +
  "bench/send-shape.ts (the head's sealing included); the client itself is not run (no encryption, " +
  "record encoding or event reduction: see the client's bench/pipeline.ts --sqlite)";

if (json) {
  process.stdout.write(
    `${JSON.stringify({ benchmark: "@orgchat/store-sqlite", quick, directory: tmpdir(), measures, figures })}\n`,
  );
} else {
  process.stdout.write(
    `\n@orgchat/store-sqlite${quick ? " (quick profile: numbers mean nothing)" : ""}, files in ${tmpdir()}\n${measures}\n\n`,
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
