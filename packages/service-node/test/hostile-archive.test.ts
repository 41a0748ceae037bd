/**
 * Issue #13 row 6: the archive trusted the sender's Waku timestamp and had no per-peer quota. 100
 * messages dated 100 years ahead made count-based retention delete every genuine message, age-based
 * retention never removed them, and one peer could fill the archive. Now:
 * - a message whose timestamp is more than 20 s from the node's clock at arrival is not archived
 *   (nwaku's rule; still relayed and pushed live),
 * - age retention removes messages dated more than `maxAgeMs` from now either way,
 * - each delivering peer (light push client, relay neighbour) may hold a bounded number of messages
 *   and bytes; beyond it its messages are not archived while other peers still store.
 * The attacks go through the public packages: stock js-waku light nodes and orgchat's relay
 * transport against a running node, and `MessageArchive` for the retention rules.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { WakuMessage } from "@waku/proto";
import type { LightNode } from "@waku/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { type ArchiveInit, MessageArchive } from "../src/archive.ts";
import {
  archiveFileName,
  createServiceNode,
  type ServiceNode,
  type ServiceNodeInit,
} from "../src/index.ts";
import { eventually, relayPeerFor, startServiceNode, wsAddress } from "./fixtures.ts";
import { stockLightNode } from "./stock-light-node.ts";
import { archived, nsPerMs } from "./store-fixtures.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const contentTopic = "/orgchat-hostile/1/archive/proto";
const yearMs = 365.25 * 24 * 3_600_000;

async function serviceNode(init: ServiceNodeInit = {}): Promise<ServiceNode> {
  const node = await startServiceNode(init);
  cleanups.push(() => node.stop());
  return node;
}

async function lightNode(node: ServiceNode): Promise<LightNode> {
  const light = await stockLightNode(wsAddress(node));
  cleanups.push(() => light.stop());
  return light;
}

/** Light-pushes `texts` (optionally dated `timestamp`) and checks each was acknowledged. */
async function push(light: LightNode, texts: readonly string[], timestamp?: Date): Promise<void> {
  const lightEncoder = light.createEncoder({ contentTopic });
  for (const text of texts) {
    const result = await light.lightPush.send(
      lightEncoder,
      { payload: encoder.encode(text), ...(timestamp === undefined ? {} : { timestamp }) },
      { autoRetry: false },
    );
    // Refused for the archive is not refused for delivery: the push is still answered 200.
    expect(result.failures, text).toEqual([]);
  }
}

/** Every payload the node's Store v3 returns for the content topic, as a stock client pages it. */
async function stored(light: LightNode): Promise<string[]> {
  const texts: string[] = [];
  await light.store.queryWithOrderedCallback(
    [light.createDecoder({ contentTopic })],
    (message) => void texts.push(decoder.decode(message.payload)),
  );
  return texts.sort();
}

function names(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix} ${String(i).padStart(3, "0")}`);
}

describe("timestamps far from the node's clock (issue #13, row 6)", () => {
  it("100 messages dated 100 years ahead are not archived and evict no genuine message", async () => {
    const diagnostics: string[] = [];
    const node = await serviceNode({
      retention: { maxMessages: 10 },
      onDiagnostic: (d) => void diagnostics.push(d.reason),
    });
    const honest = await lightNode(node);
    const attacker = await lightNode(node);
    const genuine = names("genuine", 5);
    await push(honest, genuine);
    await push(attacker, names("junk", 100), new Date(Date.now() + 100 * yearMs));
    await push(attacker, names("old junk", 10), new Date(Date.now() - 40 * yearMs));
    // Before 1970: a negative timestamp is judged like any other (not taken for "none").
    await push(attacker, names("older junk", 5), new Date(Date.now() - 100 * yearMs));

    expect(node.stats().archiveRefused.timestampOutOfRange).toBe(115);
    expect(diagnostics.filter((r) => r === "archive-refused-timestamp-out-of-range")).toHaveLength(
      115,
    );
    expect(node.stats().storedMessages).toBe(5);
    expect(await stored(honest)).toEqual(genuine);
  });

  it("count retention keeps the genuine messages when junk is offered (archive)", () => {
    const nowMs = 1_760_000_000_000;
    const archive = openArchive({ now: () => nowMs, retention: { maxMessages: 10 } });
    const genuine = Array.from({ length: 5 }, (_, i) =>
      archived({ index: i, timestamp: BigInt(nowMs - 1_000 + i) * nsPerMs, peer: "honest" }),
    );
    const junk = Array.from({ length: 100 }, (_, i) =>
      archived({
        index: 100 + i,
        timestamp: BigInt(Math.trunc(nowMs + 100 * yearMs)) * nsPerMs,
        peer: "attacker",
      }),
    );
    expect(genuine.map((e) => archive.admit(e))).toEqual(Array(5).fill("stored"));
    expect(new Set(junk.map((e) => archive.admit(e)))).toEqual(new Set(["timestamp-out-of-range"]));
    archive.prune();
    expect(archive.count()).toBe(5);
    for (const entry of genuine) expect(archive.query(byHash(entry.hash)).entries).toHaveLength(1);
  });

  it("a timestamp within 20 s either way is archived; beyond it is not; no timestamp files under arrival", () => {
    const nowMs = 1_760_000_000_000;
    const archive = openArchive({ now: () => nowMs });
    const at = (index: number, offsetMs: number) =>
      archive.admit(archived({ index, timestamp: BigInt(nowMs + offsetMs) * nsPerMs }));
    expect([at(1, 20_000), at(2, -20_000), at(3, 20_001), at(4, -20_001)]).toEqual([
      "stored",
      "stored",
      "timestamp-out-of-range",
      "timestamp-out-of-range",
    ]);
    expect(archive.admit(archived({ index: 5, timestamp: null }))).toBe("stored");
    const wide = openArchive({ now: () => nowMs, maxTimestampSkewMs: 60_000 });
    expect(wide.admit(archived({ index: 6, timestamp: BigInt(nowMs + 59_000) * nsPerMs }))).toBe(
      "stored",
    );
  });
});

describe("age retention and dates far ahead (issue #13, row 6)", () => {
  it("removes messages dated beyond maxAgeMs ahead, keeps the genuine ones (archive)", () => {
    const nowMs = 1_760_000_000_000;
    const dayMs = 86_400_000;
    const archive = openArchive({ now: () => nowMs, retention: { maxAgeMs: 30 * dayMs } });
    const genuine = Array.from({ length: 5 }, (_, i) =>
      archived({ index: i, timestamp: BigInt(nowMs - i * dayMs) * nsPerMs }),
    );
    // Junk an archive could hold from before timestamps were judged on arrival (`insert` stores
    // what it is given): 100 years ahead, 31 days ahead, 40 years behind.
    const junk = [
      ...Array.from({ length: 100 }, (_, i) =>
        archived({ index: 100 + i, timestamp: BigInt(Math.trunc(nowMs + 100 * yearMs)) * nsPerMs }),
      ),
      archived({ index: 300, timestamp: BigInt(nowMs + 31 * dayMs) * nsPerMs }),
      archived({ index: 301, timestamp: BigInt(Math.trunc(nowMs - 40 * yearMs)) * nsPerMs }),
    ];
    archive.insertMany([...genuine, ...junk]);
    expect(archive.prune()).toEqual({ removedByAge: 102, removedByCount: 0, removedByBytes: 0 });
    expect(archive.count()).toBe(5);
  });

  it("a node started on an archive holding junk dated 100 years ahead removes it at its first maintenance", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "orgchat-hostile-"));
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const legacy = MessageArchive.open({ path: path.join(dataDir, archiveFileName) });
    const nowMs = Date.now();
    legacy.insertMany([
      ...Array.from({ length: 5 }, (_, i) =>
        archived({ index: i, timestamp: BigInt(nowMs - i * 1000) * nsPerMs }),
      ),
      ...Array.from({ length: 100 }, (_, i) =>
        archived({ index: 100 + i, timestamp: BigInt(Math.trunc(nowMs + 100 * yearMs)) * nsPerMs }),
      ),
    ]);
    legacy.close();
    const node = await createServiceNode({ dataDir, maintenanceIntervalMs: 20 });
    cleanups.push(() => node.stop());
    await eventually(() => node.stats().storedMessages === 5, "the junk is pruned");
  });
});

describe("per-peer storage quota (issue #13, row 6)", () => {
  it("a light push client over its quota is refused for the archive while another still stores", async () => {
    const node = await serviceNode({ peerQuota: { maxMessages: 5 } });
    const attacker = await lightNode(node);
    const honest = await lightNode(node);
    const flood = names("flood", 8);
    await push(attacker, flood);
    await push(honest, ["honest 1", "honest 2"]);
    expect(node.stats().archiveRefused.peerOverQuota).toBe(3);
    expect(await stored(honest)).toEqual([...flood.slice(0, 5), "honest 1", "honest 2"]);
  });

  it("a relay neighbour over its quota is refused for the archive while a light push client still stores", async () => {
    const node = await serviceNode({ peerQuota: { maxMessages: 5 } });
    const relay = await relayPeerFor(node, cleanups);
    for (let i = 0; i < 8; i++) {
      const result = await relay.publish(contentTopic, encoder.encode(`relayed ${i}`));
      expect(result.recipients).toBeGreaterThan(0);
    }
    await eventually(() => node.stats().relayed === 8, "the node receives the 8 relayed messages");
    expect(node.stats().archiveRefused.peerOverQuota).toBe(3);
    const light = await lightNode(node);
    await push(light, ["pushed"]);
    expect(node.stats().storedMessages).toBe(6);
    expect((await stored(light)).filter((t) => t === "pushed")).toEqual(["pushed"]);
  });

  it("counts bytes as well as messages, frees quota as retention removes messages, exempts configured peers (archive)", () => {
    let nowMs = 1_760_000_000_000;
    const archive = openArchive({
      now: () => nowMs,
      retention: { maxAgeMs: 60_000 },
      peerQuota: { maxBytes: 3_000 },
      isQuotaExempt: (peer) => peer === "trusted",
    });
    const big = (index: number, peer: string) =>
      archived({ index, payloadBytes: 1_000, timestamp: BigInt(nowMs) * nsPerMs, peer });
    expect([big(1, "a"), big(2, "a"), big(3, "a")].map((e) => archive.admit(e))).toEqual([
      "stored",
      "stored",
      "peer-over-quota",
    ]);
    expect(archive.peerUsage("a").messages).toBe(2);
    expect(archive.admit(big(4, "b"))).toBe("stored");
    for (let i = 0; i < 5; i++) expect(archive.admit(big(10 + i, "trusted"))).toBe("stored");
    nowMs += 61_000;
    archive.prune();
    expect(archive.peerUsage("a")).toEqual({ messages: 0, bytes: 0 });
    expect(archive.admit(big(5, "a"))).toBe("stored");
  });

  it("a refused copy of a message already stored is a duplicate (not delivered again)", () => {
    let nowMs = 1_760_000_000_000;
    const archive = openArchive({ now: () => nowMs, peerQuota: { maxMessages: 1 } });
    const entry = archived({ index: 1, timestamp: BigInt(nowMs) * nsPerMs, peer: "a" });
    expect(archive.admit(entry)).toBe("stored");
    expect(archive.admit(entry)).toBe("duplicate");
    nowMs += 60_000;
    expect(archive.admit({ ...entry, peer: "b" })).toBe("duplicate");
  });

  it("refuses invalid limits before opening anything", async () => {
    expect(() => openArchive({ maxTimestampSkewMs: 0 })).toThrow(RangeError);
    expect(() => openArchive({ peerQuota: { maxBytes: 1.5 } })).toThrow(RangeError);
    await expect(createServiceNode({ peerQuota: { maxMessages: -1 } })).rejects.toThrow(RangeError);
  });
});

describe("archive schema version 2", () => {
  it("migrates a version 1 file: its messages stay, count against nobody's quota, and go with retention", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orgchat-v1-"));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, archiveFileName);
    const v1 = new DatabaseSync(file);
    v1.exec(`
      CREATE TABLE message (
        hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32), pubsub_topic TEXT NOT NULL,
        content_topic TEXT NOT NULL, timestamp INTEGER NOT NULL, message BLOB NOT NULL);
      CREATE INDEX message_by_topics ON message (pubsub_topic, content_topic, timestamp, hash);
      CREATE INDEX message_by_pubsub_topic ON message (pubsub_topic, timestamp, hash);
      CREATE INDEX message_by_time ON message (timestamp, hash);
      PRAGMA user_version = 1;`);
    const nowMs = 1_760_000_000_000;
    const old = archived({ index: 1, timestamp: BigInt(nowMs) * nsPerMs });
    v1.prepare("INSERT INTO message VALUES (?, ?, ?, ?, ?)").run(
      old.hash,
      old.pubsubTopic,
      old.message.contentTopic,
      old.message.timestamp ?? 0n,
      WakuMessage.encode(old.message),
    );
    v1.close();
    let clock = nowMs;
    const archive = openArchive({ path: file, now: () => clock, retention: { maxAgeMs: 1_000 } });
    expect(archive.count()).toBe(1);
    expect(archive.admit(old)).toBe("duplicate");
    expect(
      archive.admit(archived({ index: 2, timestamp: BigInt(nowMs) * nsPerMs, peer: "p" })),
    ).toBe("stored");
    expect(archive.peerUsage("p").messages).toBe(1);
    clock += 2_000;
    expect(archive.prune()).toEqual({ removedByAge: 2, removedByCount: 0, removedByBytes: 0 });
    expect(archive.peerUsage("p")).toEqual({ messages: 0, bytes: 0 });
  });
});

function openArchive(init: Partial<ArchiveInit>): MessageArchive {
  const archive = MessageArchive.open({ path: ":memory:", ...init });
  cleanups.push(() => archive.close());
  return archive;
}

function byHash(hash: Uint8Array) {
  return { messageHashes: [hash], forward: true, pageSize: 10, includeData: false } as const;
}
