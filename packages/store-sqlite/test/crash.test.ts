/**
 * Crash safety (issue #7): a child process commits batches in a loop and is SIGKILLed at seeded
 * random points; after each kill the store is reopened and every batch must be entirely there or
 * entirely absent, and every batch the child acknowledged (it prints `ack i` after the batch
 * resolved) must be there. 5 kills by default; `ORGCHAT_CRASH_RUNS=200` for a longer run.
 *
 * What is random (the exact instant of the kill relative to the child's commits) cannot be made
 * deterministic; what is checked holds at every instant, so the test cannot flake. Nothing waits for
 * time: a kill is scheduled once the child has printed `ready` and a seeded number of acks, and the
 * final "it did commit something" checks follow from those acks (the seed makes run 1 wait for 17),
 * so a slow machine only makes the runs longer (5 kills: 12 s, 30 kills: 85 s with two busy loops
 * on 2 cores at load 24; the timeout is a safety net).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Store } from "@orgchat/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "../src/index.ts";
import { markerKey, messageId, ratchetState, readU64 } from "./fixtures/crash-batches.ts";
import { spawnFixture } from "./fixtures/spawn.ts";

const runs = Number(process.env.ORGCHAT_CRASH_RUNS ?? 5);

/** mulberry32: the kill points come from a fixed seed, so every run of the suite aims the same way. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ChildRun {
  /** Generation the child found when it started (what it continued from). */
  readonly startedAt: number;
  /** Batches the child reported as resolved. */
  readonly acked: readonly number[];
}

/**
 * Runs the child until it has acknowledged `acksBeforeKill` batches (0: as soon as it is ready),
 * waits `delayMs`, SIGKILLs it, and returns what it printed.
 */
async function runChildAndKill(
  path: string,
  acksBeforeKill: number,
  delayMs: number,
): Promise<ChildRun> {
  const child = spawnFixture("./crash-child.ts", [path]);
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const lines = createInterface({ input: child.stdout });
  const closed = new Promise<void>((resolve) => lines.on("close", resolve));
  let startedAt = -1;
  const acked: number[] = [];
  let killScheduled = false;
  lines.on("line", (line) => {
    const [word, number] = line.split(" ");
    if (word === "ready") startedAt = Number(number);
    else if (word === "ack") acked.push(Number(number));
    if (!killScheduled && startedAt >= 0 && acked.length >= acksBeforeKill) {
      killScheduled = true;
      setTimeout(() => child.kill("SIGKILL"), delayMs);
    }
  });
  const { code, signal } = await exited;
  await closed;
  if (signal !== "SIGKILL") {
    throw new Error(`the child ended by itself (code ${code}, signal ${signal}):\n${stderr}`);
  }
  return { startedAt, acked };
}

/** Checks that the store holds exactly batches 0..G for some G, and returns G (-1: none). */
async function checkWholeBatches(store: Store): Promise<number> {
  const generationBytes = await store.get("counters", "generation");
  const g = generationBytes ? readU64(generationBytes) : -1;
  // Markers: exactly batch 0..g, nothing after.
  const markers = await store.keys("markers");
  expect(markers).toHaveLength(g + 1);
  if (g >= 0) expect(markers[markers.length - 1]).toBe(markerKey(g));
  // The ratchet state is the one written by batch g, byte for byte (a torn value would differ).
  const state = await store.get("ratchet", "state");
  if (g < 0) expect(state).toBeUndefined();
  else {
    const expected = ratchetState(g);
    expect(state?.byteLength).toBe(expected.byteLength);
    expect(Buffer.compare(state as Uint8Array, expected)).toBe(0);
  }
  // Outbox: the last two messages; sent: all older ones; events: two per batch.
  const outbox = (await store.range("outbox")).map((e) => e.id);
  expect(outbox).toEqual([g - 1, g].filter((i) => i >= 0).map(messageId));
  const sent = await store.range("sent");
  expect(sent).toHaveLength(Math.max(0, g - 1));
  if (g >= 2) expect(sent[sent.length - 1]?.id).toBe(messageId(g - 2));
  const events = await store.range("events");
  expect(events).toHaveLength(2 * (g + 1));
  if (g >= 0) expect(events[events.length - 1]?.sortKey).toBe(BigInt(g));
  return g;
}

describe("crash safety (SIGKILL during batches)", () => {
  let directory: string;
  let path: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), "orgchat-crash-"));
    path = join(directory, "data", "store.db");
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it(`keeps every batch whole and every acknowledged batch, over ${runs} kills`, {
    timeout: Math.max(60_000, runs * 20_000),
  }, async () => {
    const random = seededRandom(0x5eed);
    let previous = -1;
    let totalAcked = 0;
    for (let run = 0; run < runs; run++) {
      // 0 acks: killed while it is just starting (opening, migrating, first batch).
      const acksBeforeKill = run === 0 ? 0 : Math.floor(random() * 60);
      const delayMs = Math.floor(random() * 4);
      const child = await runChildAndKill(path, acksBeforeKill, delayMs);
      totalAcked += child.acked.length;

      const store = await openSqliteStore({ path });
      try {
        const g = await checkWholeBatches(store);
        // The child continued from what the previous run committed, and lost nothing it acked.
        if (child.startedAt >= 0) expect(child.startedAt).toBe(previous + 1);
        expect(g).toBeGreaterThanOrEqual(previous);
        for (const i of child.acked) expect(i).toBeLessThanOrEqual(g);
        previous = g;
      } finally {
        await store.close();
      }
    }
    // The runs did commit something (otherwise the test would prove nothing).
    expect(totalAcked).toBeGreaterThan(0);
    expect(previous).toBeGreaterThan(0);
  });
});
