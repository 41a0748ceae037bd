/**
 * Issue #13 row 11b: a stock js-waku light node (`createLightNode()`) that filter-subscribes, gets a
 * push, then stops without unsubscribing leaves its push stream half open; writing to it never
 * settled, so the node's `stop()` never finished and `orgchat-node` ignored SIGTERM. Every push
 * stream now has a deadline and is aborted on stop: `stop()` settles and one SIGTERM ends the
 * process with exit code 0. Waits end on events; the timers are safety nets against the hang this
 * file exists for, never what decides on a slow machine.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Stream } from "@libp2p/interface";
import type { LightNode } from "@waku/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { FilterPusher } from "../src/filter-push.ts";
import { exitCode, firstLine, run } from "./cli-process.ts";
import { safetyNetMs, startServiceNode, wsAddress } from "./fixtures.ts";
import { stockLightNode } from "./stock-light-node.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const contentTopic = "/orgchat-stuck/1/filter/proto";

/**
 * The attack: `light` subscribes through filter, receives one message pushed to it (so the node
 * holds an open push stream to it), then stops without unsubscribing.
 */
async function subscribeThenVanish(light: LightNode): Promise<void> {
  let received!: () => void;
  const pushed = new Promise<void>((resolve) => {
    received = resolve;
  });
  expect(
    await light.filter.subscribe(light.createDecoder({ contentTopic }), () => received()),
  ).toBe(true);
  const sent = await light.lightPush.send(
    light.createEncoder({ contentTopic }),
    { payload: new TextEncoder().encode("one push opens the stream") },
    { autoRetry: false },
  );
  expect(sent.failures).toEqual([]);
  await pushed;
  await light.stop();
}

/** Settles like `promise`, or rejects after the safety net (the hang this file is about). */
async function withinSafetyNet<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: still pending after ${safetyNetMs} ms`)),
      safetyNetMs,
    );
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A push stream to a subscriber that vanished: its writes take the first frame, then never settle
 * (the muxer never takes the end). `aborted` settles when the pusher aborts it.
 */
function stuckStream(): { stream: Stream; aborted: Promise<Error>; wrote: Promise<void> } {
  let onAbort!: (error: Error) => void;
  let onWrite!: () => void;
  const aborted = new Promise<Error>((resolve) => {
    onAbort = resolve;
  });
  const wrote = new Promise<void>((resolve) => {
    onWrite = resolve;
  });
  const stream = {
    sink: async (source: AsyncIterable<Uint8Array>) => {
      for await (const _frame of source) {
        onWrite();
        await new Promise<never>(() => {});
      }
    },
    close: async () => {},
    abort: (error: Error) => onAbort(error),
  } as unknown as Stream;
  return { stream, aborted, wrote };
}

describe("filter push streams (issue #13, 11b)", () => {
  it("stop() aborts a push stream whose write never settles", async () => {
    const { stream, aborted, wrote } = stuckStream();
    const pusher = new FilterPusher({ open: async () => stream });
    pusher.push(["gone"], Uint8Array.of(1));
    await wrote;
    await withinSafetyNet(pusher.stop(), "pusher.stop()");
    expect((await aborted).message).toMatch(/stopping/);
  });

  it("a forgotten subscriber's stuck stream is aborted at its deadline", async () => {
    const { stream, aborted, wrote } = stuckStream();
    const pusher = new FilterPusher({ open: async () => stream, timeoutMs: 50 });
    pusher.push(["gone"], Uint8Array.of(1));
    await wrote;
    pusher.forget("gone");
    expect((await withinSafetyNet(aborted, "the deadline")).message).toMatch(/did not end in time/);
    await pusher.stop();
  });

  it("stop() aborts a forgotten subscriber's stuck stream at once, not at its deadline", async () => {
    // A subscriber that just disconnected (forgotten, its stream closing) must not hold stop() for
    // the close deadline: the node's stop() took 10 s after a subscriber left.
    const { stream, aborted, wrote } = stuckStream();
    const pusher = new FilterPusher({ open: async () => stream, timeoutMs: 3_600_000 });
    pusher.push(["gone"], Uint8Array.of(1));
    await wrote;
    pusher.forget("gone");
    await withinSafetyNet(pusher.stop(), "pusher.stop()");
    expect((await aborted).message).toMatch(/stopping/);
  });
});

describe("a subscriber that vanishes mid-stream (issue #13, 11b)", () => {
  it("does not keep the node's stop() from finishing", async () => {
    const node = await startServiceNode();
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await node.stop();
    });
    await subscribeThenVanish(await stockLightNode(wsAddress(node)));
    await withinSafetyNet(node.stop(), "node.stop()");
    stopped = true;
    expect(node.stats().filterPushes.delivered).toBe(1);
  });

  it("one SIGTERM stops orgchat-node with exit code 0", async () => {
    const data = await mkdtemp(join(tmpdir(), "orgchat-stuck-"));
    cleanups.push(() => rm(data, { recursive: true, force: true }));
    const child = run(["--data", data, "--listen", "/ip4/127.0.0.1/tcp/0/ws"], cleanups);
    await subscribeThenVanish(await stockLightNode(await firstLine(child)));
    child.child.kill("SIGTERM");
    expect(await exitCode(child), child.stderr).toBe(0);
    expect(child.stderr).toContain("orgchat-node: stopped (SIGTERM)");
  });
});
