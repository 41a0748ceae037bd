/**
 * The service node's lifecycle: addresses, persisted identity and messages, retention, option and
 * address errors, relaying between service nodes.
 */
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TransportMessage } from "@orgchat/transport";
import { minPingTimeoutMs } from "@orgchat/transport-waku/upkeep";
import { afterEach, describe, expect, it } from "vitest";
import {
  createServiceNode,
  isDataDirectoryError,
  isInvalidAddressError,
  peerKeyFileName,
  type ServiceNode,
} from "../src/index.ts";
import { eventually, lightTransportFor, online, startServiceNode, wsAddress } from "./fixtures.ts";

const utf8 = new TextEncoder();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "orgchat-node-test-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function started(init: Parameters<typeof startServiceNode>[0] = {}): Promise<ServiceNode> {
  const node = await startServiceNode(init);
  cleanups.push(() => node.stop());
  return node;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("createServiceNode", () => {
  it("listens on ws and tcp on 127.0.0.1 by default, each address ending in its peer id", async () => {
    const node = await started();
    const addresses = node.multiaddrs();
    expect(addresses).toHaveLength(2);
    expect(addresses.some((a) => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\//.test(a))).toBe(true);
    expect(addresses.some((a) => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//.test(a))).toBe(true);
    for (const address of addresses) expect(address.endsWith(`/p2p/${node.peerId}`)).toBe(true);
    expect(node.clusterId).toBe(55);
    expect(node.shards).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(node.pubsubTopics[0]).toBe("/waku/2/rs/55/0");
  });

  it("serves the configured cluster and shards only", async () => {
    const node = await started({
      networkConfig: { clusterId: 99, numShardsInCluster: 4 },
      shards: [1, 3],
      listen: ["/memory/orgchat-node-shards"],
    });
    expect(node.pubsubTopics).toEqual(["/waku/2/rs/99/1", "/waku/2/rs/99/3"]);
    expect(node.multiaddrs()[0]).toBe(`/memory/orgchat-node-shards/p2p/${node.peerId}`);
  });

  it("keeps its identity (mode 0600) and its messages across restarts in the same data directory", async () => {
    const dataDir = await tempDir();
    const first = await createServiceNode({ dataDir, heartbeatIntervalMs: 100 });
    const light = lightTransportFor(first);
    await light.start();
    const topic = "/orgchat-node/1/persist/proto";
    const published = [];
    for (let i = 0; i < 3; i++) published.push(await light.publish(topic, utf8.encode(`m${i}`)));
    await light.stop();
    const peerId = first.peerId;
    await first.stop();
    expect((await stat(join(dataDir, peerKeyFileName))).mode & 0o777).toBe(0o600);

    const second = await started({ dataDir });
    expect(second.peerId).toBe(peerId);
    expect(second.stats().storedMessages).toBe(3);
    const reader = lightTransportFor(second);
    cleanups.push(() => reader.stop());
    await reader.start();
    const page = await reader.queryHistory({ contentTopics: [topic], direction: "forward" });
    expect(page.messages.map((m) => m.id)).toEqual(published.map((p) => p.id));
  });

  it("prunes by age on its maintenance timer", async () => {
    let now = Date.now();
    const node = await started({
      now: () => now,
      retention: { maxAgeMs: 60_000 },
      maintenanceIntervalMs: 20,
    });
    const light = lightTransportFor(node);
    cleanups.push(() => light.stop());
    await light.start();
    await light.publish("/orgchat-node/1/prune/proto", utf8.encode("short-lived"));
    expect(node.stats().storedMessages).toBe(1);
    now += 120_000;
    await eventually(() => node.stats().storedMessages === 0, "the message is pruned");
  });

  it("keeps a connection whose ping is slow for up to 30 s (libp2p's monitor would abort it after 5 s)", async () => {
    const node = await started();
    // libp2p's connection monitor (internal): the adaptive ping timeout's floor and ceiling.
    const monitor = (
      node.libp2p as unknown as {
        components: { connectionMonitor?: { timeout: { minTimeout: number; maxTimeout: number } } };
      }
    ).components.connectionMonitor;
    expect(monitor?.timeout.minTimeout).toBe(minPingTimeoutMs);
    expect(monitor?.timeout.maxTimeout).toBe(60_000);
  });

  it("stop() is idempotent", async () => {
    const node = await createServiceNode({ listen: ["/ip4/127.0.0.1/tcp/0/ws"] });
    await Promise.all([node.stop(), node.stop()]);
    await node.stop();
    expect(node.libp2p.status).toBe("stopped");
  });

  it("rejects bad addresses with InvalidAddressError", async () => {
    const malformed = await rejection(createServiceNode({ listen: ["/ip4/not-an-ip/tcp/1"] }));
    expect(isInvalidAddressError(malformed)).toBe(true);
    const unusable = await rejection(createServiceNode({ listen: ["/ip4/127.0.0.1/udp/1/quic"] }));
    expect(isInvalidAddressError(unusable)).toBe(true);
    const noPeerId = await rejection(createServiceNode({ peers: ["/ip4/127.0.0.1/tcp/1/ws"] }));
    expect(isInvalidAddressError(noPeerId)).toBe(true);
    expect((noPeerId as Error).message).toContain("/p2p/");
  });

  it("reports a port in use as InvalidAddressError", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const { port } = server.address() as { port: number };
    const error = await rejection(createServiceNode({ listen: [`/ip4/127.0.0.1/tcp/${port}/ws`] }));
    expect(isInvalidAddressError(error)).toBe(true);
    expect((error as Error).message).toContain("in use");
  });

  it("reports an unusable data directory as DataDirectoryError", async () => {
    const dir = await tempDir();
    const file = join(dir, "a-file");
    await writeFile(file, "not a directory");
    const notADir = await rejection(createServiceNode({ dataDir: join(file, "sub") }));
    expect(isDataDirectoryError(notADir)).toBe(true);
    const corrupt = await tempDir();
    await writeFile(join(corrupt, peerKeyFileName), "garbage");
    const badKey = await rejection(createServiceNode({ dataDir: corrupt }));
    expect(isDataDirectoryError(badKey)).toBe(true);
  });
});

describe("relay between service nodes", () => {
  it("a light node on one service node receives what a light node on another pushed, once", async () => {
    const hub = await started();
    const edge = await started({ peers: [wsAddress(hub)] });
    await eventually(
      () => hub.relay.getTopicPeers(hub.pubsubTopics[0] as string).length > 0,
      "edge joined the hub's topics",
    );
    const alice = lightTransportFor(hub);
    const bob = lightTransportFor(edge);
    cleanups.push(
      () => alice.stop(),
      () => bob.stop(),
    );
    await Promise.all([alice.start(), bob.start()]);
    await Promise.all([online(alice), online(bob)]);
    const topic = "/orgchat-node/1/two-nodes/proto";
    const received: TransportMessage[] = [];
    await bob.subscribe([topic], (m) => void received.push(m));
    const sent = await alice.publish(topic, utf8.encode("across two service nodes"));
    await eventually(() => received.length > 0, "bob receives alice's message");
    expect(received[0]?.id).toBe(sent.id);
    await eventually(() => edge.stats().storedMessages === 1, "the edge stores it too");
    expect(received).toHaveLength(1);
  });

  it("dial() connects to another node once, and refuses a malformed address", async () => {
    const hub = await started();
    const edge = await started();
    await edge.dial(wsAddress(hub));
    expect(edge.stats().connections).toBe(1);
    expect(isInvalidAddressError(await rejection(edge.dial("not a multiaddr")))).toBe(true);
  });

  it("redials a configured peer that restarts", async () => {
    const hubDir = await tempDir();
    const hub = await createServiceNode({ dataDir: hubDir, listen: ["/ip4/127.0.0.1/tcp/0/ws"] });
    const address = wsAddress(hub);
    const port = Number(address.split("/")[4]);
    const edge = await started({
      peers: [address],
      redial: { initialDelayMs: 20, maxDelayMs: 100 },
    });
    await eventually(() => edge.stats().connections === 1, "edge connects to hub");
    await hub.stop();
    await eventually(() => edge.stats().connections === 0, "edge sees hub gone");
    const again = await createServiceNode({
      dataDir: hubDir,
      listen: [`/ip4/127.0.0.1/tcp/${port}/ws`],
    });
    cleanups.push(() => again.stop());
    await eventually(() => edge.stats().connections === 1, "edge reconnects to the restarted hub");
  });
});
