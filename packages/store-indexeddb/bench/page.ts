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
  /** Times `runs` calls of `call` one by one (after a tenth as many untimed): p50 and p95, in µs. */
  const latency = async (
    figure: string,
    runs: number,
    call: (i: number) => Promise<unknown>,
    note?: string,
  ) => {
    const warmup = Math.ceil(runs / 10);
    const micros: number[] = [];
    for (let i = 0; i < warmup + runs; i++) {
      const before = performance.now();
      await call(i);
      if (i >= warmup) micros.push((performance.now() - before) * 1000);
    }
    micros.sort((a, b) => a - b);
    figures.push({
      name: figure,
      store: name,
      value: round(percentile(micros, 0.5)),
      p95: round(percentile(micros, 0.95)),
      unit: "µs",
      ...(note === undefined ? {} : { note }),
    });
  };
  const sends = quick ? 100 : 2_000;
  await latency(
    "batch: a send's commit",
    sends,
    (i) => store.batch(sendOps(i)),
    "put 2 kB + append 300 B + delete the previous entry, one transaction",
  );
  await latency(
    "batch: a send's commit, durable",
    quick ? 20 : 200,
    (i) => store.batch(sendOps(2 * sends + i), { durable: true }),
    "the same batch with durable: true, committed with IndexedDB durability strict",
  );

  // Appends of 256 B messages as they arrive: `perBatch` to a transaction, as a rate.
  const rate = async (log: string, count: number, perBatch: number, note: string) => {
    const started = performance.now();
    for (let first = 0; first < count; first += perBatch) {
      const batch = Array.from({ length: perBatch }, (_, j) => first + j);
      await store.append(
        log,
        batch.map((n) => ({ id: `${log}-${n}`, sortKey: BigInt(n), value: message })),
      );
    }
    const seconds = (performance.now() - started) / 1000;
    figures.push({
      name: `append, ${perBatch} per batch`,
      store: name,
      value: Math.round(count / seconds),
      unit: "entries/s",
      note,
    });
  };
  const received = quick ? 2_000 : 20_000;
  await rate("channel/general", received, 100, "256 B each");
  await rate("channel/random", quick ? 200 : 2_000, 1, "one transaction each");

  await latency(
    "get: one record",
    quick ? 100 : 2_000,
    () => store.get("ratchet", "org-1/general"),
    "2 kB",
  );
  const total = received.toLocaleString("en-US");
  await latency(`range: newest 50 of ${total}`, quick ? 50 : 500, () =>
    store.range("channel/general", { reverse: true, limit: 50 }),
  );
  await latency(`range: oldest 50 of ${total}`, quick ? 50 : 500, () =>
    store.range("channel/general", { limit: 50 }),
  );
  await latency("1 MiB state put", quick ? 5 : 50, () => store.put("group", "owner", bigState));
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
