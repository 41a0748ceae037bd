/**
 * `pnpm --filter @orgchat/service-node bench [-- --json] [-- --quick]`
 *
 * What a hostile message costs the node's archive (issue #13, row 6), per attack class: bytes
 * archived (growth of the SQLite file and its WAL, per message) and CPU per message refused
 * (`process.cpuUsage`, user + system). In process, on a file archive as the node uses it:
 * - future-dated: timestamps 100 years ahead (refused: outside the 20 s window);
 * - past-dated: timestamps 40 years behind (refused likewise);
 * - over quota: a peer already holding its quota keeps pushing (refused);
 * - floor: genuine messages from peers within their quota (stored), the cost of an accepted one.
 * Then through the network: a stock js-waku light node light-pushes future-dated messages to a
 * running node (its `archiveRefused` counter and archive file growth; CPU is the whole process,
 * client included).
 *
 * `--quick` (CI smoke run) uses fewer messages: it proves the benchmark works, its numbers mean little.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { messageHash } from "@waku/core";
import type { WakuMessage } from "@waku/proto";
import { MessageArchive } from "../src/archive.js";
import { archiveFileName, createServiceNode } from "../src/index.js";
import { stockLightNode } from "../test/stock-light-node.js";
import { type Figure, flags, progress, report, round2, withFloor } from "./harness.js";

const count = flags.quick ? 500 : 5_000;
const networkCount = flags.quick ? 50 : 500;
const payloadBytes = 1_024;
const pubsubTopic = "/waku/2/rs/55/0";
const contentTopic = "/orgchat-bench/1/hostile/proto";
const yearMs = 365.25 * 24 * 3_600_000;
const nsPerMs = 1_000_000n;

function message(index: number, timestampMs: number): { hash: Uint8Array; message: WakuMessage } {
  const payload = new Uint8Array(payloadBytes);
  new DataView(payload.buffer).setUint32(0, index);
  const m: WakuMessage = {
    payload,
    contentTopic,
    version: 0,
    timestamp: BigInt(Math.trunc(timestampMs)) * nsPerMs,
  };
  return {
    hash: messageHash(pubsubTopic, {
      version: undefined,
      timestamp: undefined,
      meta: undefined,
      rateLimitProof: undefined,
      ephemeral: undefined,
      ...m,
    }),
    message: m,
  };
}

function fileBytes(file: string): number {
  let total = 0;
  for (const suffix of ["", "-wal"]) {
    try {
      total += fs.statSync(file + suffix).size;
    } catch {
      // No WAL yet: nothing to count.
    }
  }
  return total;
}

interface Cost {
  readonly cpuUsPerMessage: number;
  readonly bytesPerMessage: number;
  readonly outcomes: Record<string, number>;
}

/** Admits `count` messages built by `make` and measures CPU and file growth per message. */
function measure(
  archive: MessageArchive,
  file: string,
  make: (i: number) => { hash: Uint8Array; message: WakuMessage; peer: string },
): Cost {
  const entries = Array.from({ length: count }, (_, i) => make(i));
  const before = fileBytes(file);
  const outcomes: Record<string, number> = {};
  const cpu = process.cpuUsage();
  for (const entry of entries) {
    const outcome = archive.admit({ ...entry, pubsubTopic });
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  const used = process.cpuUsage(cpu);
  return {
    cpuUsPerMessage: (used.user + used.system) / count,
    bytesPerMessage: Math.max(0, fileBytes(file) - before) / count,
    outcomes,
  };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orgchat-bench-hostile-"));
const figures: Figure[] = [];
try {
  const file = path.join(dir, "messages.sqlite");
  const quota = 100;
  const archive = MessageArchive.open({ path: file, peerQuota: { maxMessages: quota } });
  let next = 0;
  progress(`${count} genuine messages (floor)`);
  const genuine = measure(archive, file, (i) => ({
    ...message(next++, Date.now()),
    peer: `honest-${Math.floor(i / quota)}`,
  }));
  progress(`${count} messages dated 100 years ahead`);
  const future = measure(archive, file, () => ({
    ...message(next++, Date.now() + 100 * yearMs),
    peer: "attacker-future",
  }));
  progress(`${count} messages dated 40 years behind`);
  const past = measure(archive, file, () => ({
    ...message(next++, Date.now() - 40 * yearMs),
    peer: "attacker-past",
  }));
  for (let i = 0; i < quota; i++) {
    archive.admit({ ...message(next++, Date.now()), pubsubTopic, peer: "attacker-quota" });
  }
  progress(`${count} messages from a peer at its quota`);
  const overQuota = measure(archive, file, () => ({
    ...message(next++, Date.now()),
    peer: "attacker-quota",
  }));
  archive.close();
  const classes: [string, Cost][] = [
    ["future-dated (100 years ahead)", future],
    ["past-dated (40 years behind)", past],
    ["peer over its quota", overQuota],
  ];
  for (const [name, cost] of classes) {
    const refused = count - (cost.outcomes.stored ?? 0);
    figures.push(
      withFloor(
        `CPU per ${name} message refused`,
        cost.cpuUsPerMessage,
        genuine.cpuUsPerMessage,
        "µs",
        `${refused}/${count} refused; floor: a genuine message stored`,
      ),
      {
        name: `bytes archived per ${name} message`,
        value: round2(cost.bytesPerMessage),
        unit: "B",
        note: `a genuine ${payloadBytes} B message: ${round2(genuine.bytesPerMessage)} B`,
      },
    );
  }

  progress(`network: a stock light node pushes ${networkCount} messages dated 100 years ahead`);
  const dataDir = path.join(dir, "node");
  const node = await createServiceNode({ dataDir, heartbeatIntervalMs: 100 });
  const address = node.multiaddrs().find((a) => a.includes("/ws/")) as string;
  const light = await stockLightNode(address);
  const encoder = light.createEncoder({ contentTopic });
  const archiveFile = path.join(dataDir, archiveFileName);
  const before = fileBytes(archiveFile);
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < networkCount; i++) {
    const payload = new Uint8Array(payloadBytes);
    new DataView(payload.buffer).setUint32(0, i);
    await light.lightPush.send(
      encoder,
      { payload, timestamp: new Date(Date.now() + 100 * yearMs) },
      { autoRetry: false },
    );
  }
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const stats = node.stats();
  const grown = fileBytes(archiveFile) - before;
  await light.stop();
  await node.stop();
  figures.push(
    {
      name: "network: future-dated messages archived",
      value: stats.storedMessages,
      unit: "messages",
      note: `${stats.archiveRefused.timestampOutOfRange}/${networkCount} refused for the archive (still relayed)`,
    },
    {
      name: "network: archive growth per future-dated message",
      value: round2(Math.max(0, grown) / networkCount),
      unit: "B",
    },
    {
      name: "network: CPU per future-dated light push (node + client)",
      value: round2((used.user + used.system) / networkCount),
      unit: "µs",
      note: `${round2(elapsed / networkCount)} ms wall per push, one at a time`,
    },
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
report("Service node: archive cost of hostile messages (issue #13, row 6)", figures);
// The stock light node leaves timers behind (js-waku 0.0.36's filter TTL set).
process.exit(0);
