import { spawn } from "node:child_process";
import { type AddressInfo, createServer } from "node:net";
import { fileURLToPath } from "node:url";
import type { Diagnostic } from "@orgchat/base";
import type { TransportStatus } from "@orgchat/transport";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  pubsubTopicFor,
  type WakuTransport,
  wakuRelayTransport,
  wakuTransport,
} from "../src/index.js";
import type { WakuRelay } from "../src/relay.js";

const topic = "/org-chat/1/transport-test/proto";
const bytesOf = (text: string) => new TextEncoder().encode(text);

const started: WakuTransport[] = [];
function track<T extends WakuTransport>(transport: T): T {
  started.push(transport);
  return transport;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((t) => t.stop()));
});

/** A port that was free a moment ago (the OS does not hand it out again right away). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function statusLog(transport: WakuTransport): TransportStatus[] {
  const log: TransportStatus[] = [];
  transport.on("status:changed", ({ status }) => {
    if (log.at(-1) !== status) log.push(status);
  });
  return log;
}

function waitForStatus(transport: WakuTransport, status: TransportStatus, timeoutMs = 10_000) {
  if (transport.status === status) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`status stayed ${transport.status}, expected ${status}`));
    }, timeoutMs);
    const off = transport.on("status:changed", (event) => {
      if (event.status !== status) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/**
 * Resolves once `holds()` is true, re-checking whenever `subscribe` reports a change; the timeout is
 * only a safety net (a generous one), never what decides a passing outcome.
 */
function until(
  holds: () => boolean,
  subscribe: (changed: () => void) => () => void,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  if (holds()) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`safety timeout (${timeoutMs} ms): ${what}`));
    }, timeoutMs);
    const off = subscribe(() => {
      if (!holds()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** The WakuRelay under a started relay transport (the `relay` getter of relay mode). */
function relayOf(transport: WakuTransport): WakuRelay {
  const relay = (transport as WakuTransport & { readonly relay?: WakuRelay }).relay;
  if (!relay) throw new Error("a started relay transport has a relay");
  return relay;
}

/** The diagnostics `transport` reports from now on. */
function diagnosticsOf(transport: WakuTransport): Diagnostic[] {
  const seen: Diagnostic[] = [];
  transport.on("diagnostic", (d) => void seen.push(d));
  return seen;
}

function nextMessage(transport: WakuTransport, accept: (text: string) => boolean = () => true) {
  return new Promise<{ text: string; id: string; timestamp: number }>((resolve, reject) => {
    transport
      .subscribe([topic], (m) => {
        const text = new TextDecoder().decode(m.payload);
        if (accept(text)) resolve({ text, id: m.id, timestamp: m.timestamp });
      })
      .catch(reject);
  });
}

describe("relay transport", () => {
  it("reports its capabilities", () => {
    expect(wakuRelayTransport().capabilities).toEqual({
      history: false,
      selfDelivery: true,
      ordered: false,
      maxPayloadBytes: 153_600,
    });
    expect(
      wakuTransport({ mode: "relay", maxPayloadBytes: 1000 }).capabilities.maxPayloadBytes,
    ).toBe(1000);
    expect(
      wakuTransport({ mode: "relay", storePeers: ["/ip4/127.0.0.1/tcp/1/ws"] }).capabilities
        .history,
    ).toBe(true);
  });

  it("refuses unknown modes and bad options", () => {
    expect(() => wakuTransport({ mode: "carrier-pigeon" } as never)).toThrow(TypeError);
    expect(() => wakuRelayTransport({ storePeers: "/ip4/127.0.0.1/tcp/1/ws" as never })).toThrow(
      TypeError,
    );
    expect(() => wakuRelayTransport({ historyTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => wakuRelayTransport({ maxPayloadBytes: 0 })).toThrow(RangeError);
  });

  it.each([
    ["peers", { peers: ["/ip4/1.2.3/tcp/1/ws"] }, "/ip4/1.2.3/tcp/1/ws"],
    ["peers", { peers: ["/ip4/127.0.0.1/udp/1/quic-v1"] }, "/ip4/127.0.0.1/udp/1/quic-v1"],
    ["listen", { listen: ["not a multiaddr"] }, "not a multiaddr"],
  ])("start() names a bad %s multiaddr in a TransportStartError", async (_role, init, bad) => {
    const transport = wakuRelayTransport(init);
    const error = await transport.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "TransportStartError" });
    expect((error as Error).message).toContain(JSON.stringify(bad));
    expect(transport.status).toBe("stopped");
  });

  it("start() reports a port in use as a TransportStartError", async () => {
    const first = track(wakuRelayTransport({ listen: ["/ip4/127.0.0.1/tcp/0"] }));
    await first.start();
    const port = first.multiaddrs[0]?.split("/")[4];
    const second = wakuRelayTransport({ listen: [`/ip4/127.0.0.1/tcp/${port}`] });
    await expect(second.start()).rejects.toMatchObject({ name: "TransportStartError" });
  });

  it("goes connecting → online when a peer joins, and stopped at stop()", async () => {
    const hub = track(wakuRelayTransport({ heartbeatIntervalMs: 100 }));
    const log = statusLog(hub);
    await hub.start();
    expect(hub.status).toBe("connecting");
    const member = track(
      wakuRelayTransport({ heartbeatIntervalMs: 100, listen: [], peers: [...hub.multiaddrs] }),
    );
    await member.start();
    await waitForStatus(hub, "online");
    await waitForStatus(member, "online");
    await hub.stop();
    expect(log).toEqual(["connecting", "online", "stopped"]);
    expect(hub.multiaddrs).toEqual([]);
  });

  it("delivers to its own subscribers (selfDelivery) and to peers, with the Waku hash as id", async () => {
    const hub = track(wakuRelayTransport({ heartbeatIntervalMs: 100 }));
    await hub.start();
    const member = track(
      wakuRelayTransport({ heartbeatIntervalMs: 100, listen: [], peers: [...hub.multiaddrs] }),
    );
    await member.start();
    const atHub = nextMessage(hub);
    const atSelf = nextMessage(member);
    const result = await member.publish(topic, bytesOf("hello"));
    expect(result.id).toMatch(/^[0-9a-f]{64}$/);
    expect(result.recipients).toBe(1);
    for (const seen of await Promise.all([atHub, atSelf])) {
      expect(seen).toEqual({ text: "hello", id: result.id, timestamp: result.timestamp });
    }
  });

  it("makes identical publishes in the same millisecond two messages, never a Duplicate", async () => {
    const hub = track(
      wakuRelayTransport({ heartbeatIntervalMs: 100, now: () => 1_700_000_000_000 }),
    );
    await hub.start();
    const member = track(
      wakuRelayTransport({
        heartbeatIntervalMs: 100,
        listen: [],
        peers: [...hub.multiaddrs],
        now: () => 1_700_000_000_000,
      }),
    );
    await member.start();
    const ids = new Set<string>();
    const both = new Promise<void>((resolve) => {
      void hub.subscribe([topic], (m) => {
        ids.add(m.id);
        if (ids.size === 2) resolve();
      });
    });
    const [first, second] = await Promise.all([
      member.publish(topic, bytesOf("same")),
      member.publish(topic, bytesOf("same")),
    ]);
    expect(first.id).not.toBe(second.id);
    expect(first.timestamp).toBe(1_700_000_000_000);
    expect(second.timestamp).toBe(1_700_000_000_000);
    await both;
    expect(ids).toEqual(new Set([first.id, second.id]));
  });

  it("waits for a peer before publishing, then throws NoPeersError at publishTimeoutMs", async () => {
    const lonely = track(wakuRelayTransport({ publishTimeoutMs: 150 }));
    await lonely.start();
    const relay = relayOf(lonely);
    // The wait itself (its timer, its NoPeersError) is WakuRelay.waitForPeers's, tested in
    // relay.test.ts; here: publish waits for a topic peer for the whole publishTimeoutMs.
    const wait = vi.spyOn(relay, "waitForPeers");
    const error = await lonely.publish(topic, bytesOf("anyone?")).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "NoPeersError" });
    expect((error as Error).message).toContain("within 150 ms");
    expect((error as Error).cause).toMatchObject({ name: "NoPeersError" });
    expect(wait).toHaveBeenCalledTimes(1);
    const [options] = wait.mock.calls[0] ?? [];
    expect(options).toMatchObject({ kind: "topic", pubsubTopics: [pubsubTopicFor(topic)] });
    expect(options?.timeoutMs).toBeGreaterThan(0);
    expect(options?.timeoutMs).toBeLessThanOrEqual(150);
  });

  it("reports a failed dial of a bootstrap peer as a diagnostic, and keeps redialing", async () => {
    const hub = track(wakuRelayTransport({ listen: [`/memory/orgchat-diag-${process.pid}`] }));
    await hub.start();
    const address = hub.multiaddrs[0] ?? "";
    await hub.stop();
    const member = track(
      wakuRelayTransport({
        listen: [],
        peers: [address],
        reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
      }),
    );
    const diagnostics = diagnosticsOf(member);
    await member.start();
    const failures = () => diagnostics.filter((d) => d.reason === "dial-failed");
    await until(
      () => failures().length >= 2,
      (changed) => member.on("diagnostic", changed),
      "two failed dials reported",
    );
    expect(failures()[0]).toMatchObject({ component: "transport-waku/upkeep", topic: address });
    expect(failures()[0]?.error).toBeDefined();
    expect(member.status).toBe("connecting");
  });

  it("publishes as soon as a peer arrives during the wait", async () => {
    const hub = track(wakuRelayTransport({ heartbeatIntervalMs: 100 }));
    await hub.start();
    const received = nextMessage(hub);
    const member = track(
      wakuRelayTransport({ heartbeatIntervalMs: 100, listen: [], peers: [...hub.multiaddrs] }),
    );
    await member.start();
    // No wait for status: publish itself waits for the subscription exchange.
    const result = await member.publish(topic, bytesOf("early"));
    expect((await received).id).toBe(result.id);
  });

  it("aborts a publish that is waiting for peers", async () => {
    const lonely = track(wakuRelayTransport({ publishTimeoutMs: 60_000 }));
    await lonely.start();
    const controller = new AbortController();
    const publishing = lonely.publish(topic, bytesOf("never"), { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("user left")), 20);
    await expect(publishing).rejects.toMatchObject({ name: "AbortError" });
  });

  it.each([
    ["memory", async () => `/memory/orgchat-reconnect-${process.pid}`],
    ["tcp", async () => `/ip4/127.0.0.1/tcp/${await freePort()}`],
    ["ws", async () => `/ip4/127.0.0.1/tcp/${await freePort()}/ws`],
  ])(
    "redials a dropped %s peer with backoff and delivery resumes",
    async (_kind, listenAddress) => {
      const hub = track(
        wakuRelayTransport({ heartbeatIntervalMs: 100, listen: [await listenAddress()] }),
      );
      await hub.start();
      const address = hub.multiaddrs[0] ?? "";
      await hub.stop();
      const member = track(
        wakuRelayTransport({
          heartbeatIntervalMs: 100,
          listen: [],
          peers: [address],
          reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
        }),
      );
      const log = statusLog(member);
      const diagnostics = diagnosticsOf(member);
      // The hub is down when the member starts: the first dial fails and retries back off (the
      // delays themselves are tested with fake timers in connection-upkeep.test.ts).
      await member.start();
      await until(
        () => diagnostics.filter((d) => d.reason === "dial-failed").length >= 2,
        (changed) => member.on("diagnostic", changed),
        "the member's dials failed twice",
      );
      expect(member.status).toBe("connecting");
      await hub.start();
      // Same address and the same peer id (the transport keeps its identity across restarts).
      expect(hub.multiaddrs[0]).toBe(address);
      await waitForStatus(member, "online");
      // Drop: the hub goes away and comes back on the same address.
      await hub.stop();
      await waitForStatus(member, "connecting");
      await hub.start();
      await waitForStatus(member, "online");
      expect(log).toEqual(["connecting", "online", "connecting", "online"]);
      const received = nextMessage(hub);
      const result = await member.publish(topic, bytesOf("back"));
      expect((await received).id).toBe(result.id);
    },
  );

  it("carries a member that restarts at once again (the hub's stale WebSocket state heals)", async () => {
    const hub = track(wakuRelayTransport({ heartbeatIntervalMs: 100 }));
    await hub.start();
    const member = track(
      wakuRelayTransport({ heartbeatIntervalMs: 100, listen: [], peers: [...hub.multiaddrs] }),
    );
    await member.start();
    await waitForStatus(member, "online");
    // The hub still holds the old, closing connection when the member is back: without the silent
    // peer check it would never send the member its subscriptions on the new one.
    await member.stop();
    await member.start();
    const received = nextMessage(member);
    // Provably subscribed both ways before the one publish: the member sees the hub on its shard
    // (online), and the hub sees the member's subscription to the topic's shard.
    await waitForStatus(member, "online", 30_000);
    const relay = relayOf(hub);
    const shard = pubsubTopicFor(topic);
    await until(
      () => relay.getTopicPeers(shard).some((peer) => peer.toString() === member.peerId),
      (changed) => {
        relay.gossipSub.addEventListener("subscription-change", changed);
        return () => relay.gossipSub.removeEventListener("subscription-change", changed);
      },
      "the hub sees the restarted member on the shard",
    );
    const result = await hub.publish(topic, bytesOf("again"));
    expect((await received).id).toBe(result.id);
  });

  it("leaves nothing running after stop(): a child process exits on its own", async () => {
    const script = fileURLToPath(new URL("./fixtures/exit-check.ts", import.meta.url));
    const cwd = fileURLToPath(new URL("..", import.meta.url));
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--conditions=@orgchat/source", script],
      { cwd, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // Safety net only (libp2p's own rate-limiter and address debounce timers run out within ~1 s of
    // stop() on an idle machine): a process still alive this long after its work is hung. SIGTERM
    // makes the child list what keeps it alive before it exits.
    const watchdog = setTimeout(() => child.kill("SIGTERM"), 60_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    clearTimeout(watchdog);
    expect(stderr).toBe("");
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toBe(JSON.stringify({ stopped: true }));
    // A second line would list what kept the process alive until the watchdog.
    expect(lines.slice(1)).toEqual([]);
    expect(code).toBe(0);
  });
});
