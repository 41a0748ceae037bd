/**
 * Interop with the official js-waku relay: `interop/legacy-relay/peer.mjs` runs `createRelayNode`
 * from @waku/sdk 0.0.27 + @waku/relay 0.0.14 (libp2p 1.x, gossipsub 13) in its own process and its
 * own npm dependency tree, outside the pnpm workspace. Messages go both ways between it and our relay
 * transport (libp2p 2.x, gossipsub 14), on the same cluster and shard.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { NetworkConfig } from "@waku/interfaces";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type WakuTransport, wakuRelayTransport } from "../src/index.js";
import { pubsubTopicFor, type WakuRelay } from "../src/relay.js";

const legacyDir = fileURLToPath(new URL("../../../interop/legacy-relay/", import.meta.url));
const contentTopic = "/org-chat/1/interop/proto";

/**
 * The fixture is installed by the install step (`pnpm install` runs scripts/install-fixtures.mjs),
 * never by a test. When it could not be, the test says why: skipped on a developer's machine, failed
 * in CI (where the install must have worked).
 */
function legacyMissing(): string | undefined {
  if (existsSync(`${legacyDir}node_modules/@waku/relay/package.json`)) return undefined;
  const failed = `${legacyDir}.install-failed`;
  const why = existsSync(failed)
    ? `the install step could not install it: ${readFileSync(failed, "utf8").trim()}`
    : "it is not installed";
  return `the legacy js-waku interop fixture (interop/legacy-relay) is missing: ${why}. Run \`node scripts/install-fixtures.mjs\` from the repository root (pnpm install runs it).`;
}
const missing = legacyMissing();
if (missing !== undefined && process.env.CI === undefined) {
  process.stderr.write(`interop-legacy.test.ts: SKIPPED: ${missing}\n`);
}

interface LegacyEvent {
  readonly event: string;
  readonly ref?: number;
  readonly [key: string]: unknown;
}

interface LegacyPeer {
  readonly ready: LegacyEvent & {
    readonly multiaddrs: string[];
    readonly pubsubTopic: string;
    readonly versions: Record<string, string>;
  };
  next(accept: (event: LegacyEvent) => boolean, timeoutMs?: number): Promise<LegacyEvent>;
  command(command: Record<string, unknown>): Promise<LegacyEvent>;
  /** Ends stdin and resolves with the exit code once the process exited. */
  close(): Promise<number | null>;
}

async function startLegacyPeer(args: readonly string[]): Promise<LegacyPeer> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ["peer.mjs", ...args], {
    cwd: legacyDir,
  });
  const events: LegacyEvent[] = [];
  const waiters = new Set<() => void>();
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    events.push(JSON.parse(line) as LegacyEvent);
    for (const wake of [...waiters]) wake();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const next = (accept: (event: LegacyEvent) => boolean, timeoutMs = 60_000) =>
    new Promise<LegacyEvent>((resolve, reject) => {
      const check = () => {
        const found = events.find(accept);
        if (!found) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(`legacy peer: no matching event within ${timeoutMs} ms; stderr: ${stderr}`),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  let refs = 0;
  const ready = (await next((e) => e.event === "ready", 120_000)) as LegacyPeer["ready"];
  return {
    ready,
    next,
    async command(command) {
      const ref = ++refs;
      child.stdin.write(`${JSON.stringify({ ...command, ref })}\n`);
      const reply = await next((e) => e.ref === ref);
      if (reply.event === "error") throw new Error(`legacy peer: ${String(reply.message)}`);
      return reply;
    },
    async close() {
      child.stdin.end();
      const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe.skipIf(missing !== undefined && process.env.CI === undefined)(
  "interop with the official js-waku relay (sdk 0.0.27, @waku/relay 0.0.14, libp2p 1.x)",
  () => {
    beforeAll(() => {
      if (missing !== undefined) throw new Error(missing);
    });

    let legacy: LegacyPeer | undefined;
    let ours: WakuTransport | undefined;
    afterEach(async () => {
      await ours?.stop();
      const peer = legacy;
      legacy = undefined;
      ours = undefined;
      if (peer) expect(await peer.close(), "the legacy peer exits 0 when its stdin closes").toBe(0);
    }, 120_000);

    it.each<[string, readonly string[], NetworkConfig, readonly number[] | undefined]>([
      [
        "auto-sharding (cluster 55, 8 shards)",
        ["--cluster", "55", "--content-topic", contentTopic],
        { clusterId: 55, numShardsInCluster: 8 },
        undefined,
      ],
      [
        "static sharding (cluster 55, shard 3)",
        ["--cluster", "55", "--shard", "3", "--content-topic", contentTopic],
        { clusterId: 55 },
        [3],
      ],
    ])(
      "exchanges messages both ways with %s",
      async (_label, args, networkConfig, shards) => {
        legacy = await startLegacyPeer(args);
        expect(legacy.ready.versions).toMatchObject({
          "@waku/sdk": "0.0.27",
          "@waku/relay": "0.0.14",
        });
        const pubsubTopic = pubsubTopicFor(contentTopic, networkConfig, shards?.[0]);
        expect(legacy.ready.pubsubTopic, "both sides derive the same pubsub topic").toBe(
          pubsubTopic,
        );

        ours = wakuRelayTransport({
          networkConfig,
          ...(shards ? { shards } : {}),
          listen: [],
          peers: legacy.ready.multiaddrs,
          heartbeatIntervalMs: 100,
        });
        await ours.start();
        await (ours as WakuTransport & { relay: WakuRelay }).relay.waitForPeers({
          pubsubTopics: [pubsubTopic],
          timeoutMs: 60_000,
        });
        await legacy.command({ cmd: "wait-peers", timeoutMs: 60_000 });

        // Ours → official.
        const outgoing = new TextEncoder().encode(`from orgchat ${Date.now()}`);
        const sent = await ours.publish(contentTopic, outgoing);
        const arrived = await legacy.next(
          (e) => e.event === "message" && e.payloadHex === hex(outgoing),
        );
        expect(arrived).toMatchObject({
          pubsubTopic,
          contentTopic,
          timestamp: sent.timestamp,
          // Computed by the legacy script with node:crypto from the 14/WAKU2-MESSAGE spec.
          hash: sent.id,
        });

        // A burst, ours → official: our relay batches the RPCs of one turn into one stream chunk
        // (length-prefixed back to back); the official relay must read every one of them.
        const burst = Array.from({ length: 100 }, (_, i) =>
          new TextEncoder().encode(`burst ${i} from orgchat ${Date.now()}`),
        );
        const relay = (ours as WakuTransport & { relay: WakuRelay }).relay;
        const stream = relay.gossipSub.streamsOutbound.values().next().value as unknown as {
          pushable: { push(chunk: Uint8Array): unknown };
        };
        const push = stream.pushable.push.bind(stream.pushable);
        let writes = 0;
        stream.pushable.push = (chunk) => {
          writes += 1;
          return push(chunk);
        };
        await Promise.all(burst.map((payload) => ours?.publish(contentTopic, payload)));
        for (const payload of burst) {
          await legacy.next((e) => e.event === "message" && e.payloadHex === hex(payload));
        }
        expect(writes, "the burst left in a few batched writes").toBeLessThan(burst.length / 2);

        // Official → ours.
        const incoming = new TextEncoder().encode(`from js-waku ${Date.now()}`);
        const received = new Promise<{ payload: Uint8Array; id: string }>((resolve) => {
          void ours?.subscribe([contentTopic], (message) => {
            if (hex(message.payload) === hex(incoming)) resolve(message);
          });
        });
        const published = await legacy.command({
          cmd: "publish",
          contentTopic,
          payloadHex: hex(incoming),
        });
        expect(published).toMatchObject({ event: "published", recipients: 1 });
        const message = await received;
        expect(message.payload).toEqual(incoming);
        expect(message.id).toMatch(/^[0-9a-f]{64}$/);
        // Safety nets only: a loaded machine takes a while to start two libp2p stacks.
      },
      300_000,
    );
  },
);
