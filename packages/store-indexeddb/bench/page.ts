// The benchmark's browser half: bundled by bench/run.ts and run inside headless Chromium, where it
// times the IndexedDB store and the memory store (the in-page floor) and returns the figures.
import { memoryStore, type Store, type StoreOp } from "@orgchat/store";
import { deleteIndexedDbStore, openIndexedDbStore } from "../src/index.ts";

/** One measured figure. */
export interface Figure {
  readonly name: string;
  readonly store: string;
  readonly value: number;
  readonly unit: string;
  readonly p95?: number;
  readonly note?: string;
}

/** What a run does: `quick` is the CI smoke profile (the numbers mean nothing). */
export interface BenchInit {
  readonly quick: boolean;
}

const round = (value: number) => Math.round(value * 100) / 100;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

/** Deterministic filler bytes (no RNG in a benchmark either: runs compare). */
function filler(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

/** Per-call µs of `count` calls after `warmup` untimed ones, sorted. */
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

const chainState = filler(2_000, 1);
const ciphertext = filler(300, 2);
const message = filler(256, 3);
const bigState = filler(1024 * 1024, 4);

/**
 * The shape of a send's commit (what the client persists before it publishes): the chain state, the
 * outgoing message in the outbox and the previous one's outbox delete, in one batch.
 */
function sendOps(i: number): StoreOp[] {
  const ops: StoreOp[] = [
    { type: "put", space: "ratchet", key: "org-1/general", value: chainState },
    {
      type: "append",
      log: "outbox/org-1",
      entries: [{ id: `m${i}`, sortKey: BigInt(i), value: ciphertext }],
    },
  ];
  if (i > 0) ops.push({ type: "deleteEntries", log: "outbox/org-1", ids: [`m${i - 1}`] });
  return ops;
}

async function benchStore(name: string, store: Store, quick: boolean): Promise<Figure[]> {
  const figures: Figure[] = [];
  const timed = (figure: string, samples: number[], note?: string): Figure => ({
    name: figure,
    store: name,
    value: round(percentile(samples, 0.5)),
    p95: round(percentile(samples, 0.95)),
    unit: "µs",
    ...(note === undefined ? {} : { note }),
  });
  const sends = quick ? 100 : 2_000;
  figures.push(
    timed(
      "batch: a send's commit",
      await sample(sends, 20, (i) => store.batch(sendOps(i))),
      "put 2 kB + append 300 B + delete the previous entry, one transaction",
    ),
  );
  figures.push(
    timed(
      "batch: a send's commit, durable",
      await sample(quick ? 20 : 200, 5, (i) =>
        store.batch(sendOps(sends + 100 + i), { durable: true }),
      ),
      "the same, durable: true (IndexedDB: durability strict)",
    ),
  );

  const received = quick ? 2_000 : 20_000;
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

  const single = quick ? 200 : 2_000;
  start = performance.now();
  for (let i = 0; i < single; i++) {
    await store.append("channel/random", [{ id: `one-${i}`, sortKey: BigInt(i), value: message }]);
  }
  figures.push({
    name: "append, 1 per batch",
    store: name,
    value: Math.round(single / ((performance.now() - start) / 1000)),
    unit: "entries/s",
    note: "one transaction each",
  });

  figures.push(
    timed(
      "get: one record",
      await sample(quick ? 100 : 2_000, 20, () => store.get("ratchet", "org-1/general")),
      "2 kB",
    ),
    timed(
      `range: newest 50 of ${received.toLocaleString("en-US")}`,
      await sample(quick ? 50 : 500, 10, () =>
        store.range("channel/general", { reverse: true, limit: 50 }),
      ),
    ),
    timed(
      `range: oldest 50 of ${received.toLocaleString("en-US")}`,
      await sample(quick ? 50 : 500, 10, () => store.range("channel/general", { limit: 50 })),
    ),
    timed(
      "1 MiB state put",
      await sample(quick ? 5 : 50, 2, () => store.put("group", "owner", bigState)),
    ),
  );
  return figures;
}

/**
 * Runs every figure on the IndexedDB store and on the memory store, back to back in this page.
 * @param init - the profile
 * @returns the figures
 */
export async function runBench(init: BenchInit): Promise<Figure[]> {
  const name = "bench";
  await deleteIndexedDbStore({ name });
  const figures: Figure[] = [];
  const idb = await openIndexedDbStore({ name });
  try {
    figures.push(...(await benchStore("indexeddb", idb, init.quick)));
  } finally {
    await idb.close();
    await deleteIndexedDbStore({ name });
  }
  const memory = memoryStore();
  figures.push(...(await benchStore("memory (floor)", memory, init.quick)));
  await memory.close();
  return figures;
}

(globalThis as { runBench?: typeof runBench }).runBench = runBench;
