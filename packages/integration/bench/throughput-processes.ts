/**
 * The throughput bench as deployed (part of `run.ts`, `--only processes`): every node in its own
 * process (`src/process-node/`), in one of two {@link ProcessLayout}s. The goal of issue #14
 * (1,000 × 256 B over 3 relay nodes ≤ 0.5 s) applies to the `"mesh"` layout.
 */
import { cpus } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { ClientConfig } from "@orgchat/client";
import { watchMachineLoad } from "../src/process-node/machine-load.js";
import { type RemoteNode, spawnNode } from "../src/process-node/remote.js";
import { roundMs as round } from "./latency-stats.js";

/** What {@link throughputProcesses} sends and how its nodes connect. */
export interface ProcessThroughputOptions {
  /** Messages timed. */
  readonly messageCount: number;
  /** Bytes of each message's text. */
  readonly messageBytes: number;
  /** Messages sent and decrypted by both receivers before the clock starts. */
  readonly warmupCount: number;
  /** Connect the nodes over plain TCP instead of WebSocket. */
  readonly overTcp: boolean;
  /** Print the timed window and the processes' ids on stderr (to cut CPU profiles to it). */
  readonly profileMarks: boolean;
  /** The clients' configuration. */
  readonly clientConfig: ClientConfig;
}

/**
 * `count` distinct texts of `bytes` bytes each.
 * @param prefix - what each text starts with (before its index)
 */
export function messageTexts(prefix: string, count: number, bytes: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix} ${i} `.padEnd(bytes, "."));
}

/**
 * How the one-process-per-node throughput run connects its nodes:
 * - `"service"`: the owner, alice and bob each dial one service node (relay + store) and relay
 *   through it: 4 processes, every message takes two hops.
 * - `"mesh"`: the goal's layout, 3 relay nodes: the owner, alice and bob listen and dial each other
 *   directly (a full mesh on 127.0.0.1), each its own infrastructure. A service node is there for the
 *   setup only (a newcomer discovers the organization from its store) and is stopped before the
 *   warm-up, so that nothing but the three clients is in the timed path: each client then restarts on
 *   its store with a relay transport that listens and dials the clients restarted before it, with
 *   no store peer.
 */
export type ProcessLayout = "service" | "mesh";

/**
 * The throughput bench as deployed: one process per node (`src/process-node/`), same clients, same
 * transports, same settings as run.ts's `throughput` over relay, in a {@link ProcessLayout}. Timed:
 * from asking alice (the sender) to send the 1,000 messages, after the warm-up, until both
 * receivers (the owner and bob) answered that they decrypted every one; the clock runs in this
 * process (IPC adds well under a ms). Each node's CPU is measured over the same window.
 */
export async function throughputProcesses(
  layout: ProcessLayout,
  options: ProcessThroughputOptions,
) {
  const { messageCount, messageBytes, warmupCount, overTcp, profileMarks, clientConfig } = options;
  const nodes: RemoteNode[] = [];
  const poll = async (condition: () => Promise<boolean>, what: string) => {
    const deadline = performance.now() + 60_000;
    while (!(await condition())) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  };
  try {
    const service = await spawnNode({ role: "service" });
    nodes.push(service);
    const serviceAddress = await service.request<string>({
      op: "address",
      transport: overTcp ? "tcp" : "ws",
    });
    const client = async (name: string) => {
      const node = await spawnNode({ role: "client", name, serviceAddress, config: clientConfig });
      nodes.push(node);
      return node;
    };
    const call = <T>(node: RemoteNode, method: string, ...args: unknown[]) =>
      node.request<T>({ op: "call", method, args });
    const view = (node: RemoteNode, orgId: string) =>
      node.request<{ role: string; epoch?: bigint } | undefined>({ op: "view", orgId });
    const owner = await client("owner");
    const orgId = await call<string>(owner, "createOrganization", {
      name: "Acme",
      access: "on-request",
    });
    await call(owner, "createChannel", orgId, { id: "general", name: "General" });
    await owner.request({ op: "auto-accept", orgId });
    const members: RemoteNode[] = [];
    for (const name of ["alice", "bob"]) {
      const peer = await client(name);
      // What the joiner discovers must be in the store: everything published so far.
      await Promise.all([owner, ...members].map((n) => call(n, "idle")));
      const published = async () =>
        (
          await Promise.all([owner, ...members].map((n) => n.request<number>({ op: "published" })))
        ).reduce((a, b) => a + b, 0);
      const wanted = await published();
      await poll(
        async () => (await service.request<number>({ op: "stored" })) >= wanted,
        "the store to hold the description",
      );
      await call(peer, "discover", orgId);
      await call(peer, "requestToJoin", orgId, { displayName: name });
      await poll(async () => (await view(peer, orgId))?.role === "member", `${name} to join`);
      members.push(peer);
    }
    const [alice, bob] = members as [RemoteNode, RemoteNode];
    await poll(async () => {
      const [o, a, b] = await Promise.all([owner, alice, bob].map((n) => view(n, orgId)));
      return o?.epoch !== undefined && a?.epoch === o.epoch && b?.epoch === o.epoch;
    }, "alice and bob to reach the owner's epoch");
    const clients = [owner, alice, bob];
    if (layout === "mesh") {
      // Setup done: out with the service node. Each client restarts on its store with a relay
      // transport that listens and dials the clients restarted before it (a full mesh), with no
      // store peer: nothing waits on a store that is gone.
      await Promise.all(clients.map((n) => call(n, "idle")));
      await service.stop();
      const addresses: string[] = [];
      for (const node of clients) {
        addresses.push(
          await node.request<string>({
            op: "restart",
            peers: [...addresses],
            transport: overTcp ? "tcp" : "ws",
          }),
        );
      }
      await Promise.all(clients.map((n) => n.request({ op: "mesh-peers", count: 2 })));
    }
    const timed = layout === "mesh" ? clients : nodes;
    const names =
      layout === "mesh"
        ? ["owner", "alice (sender)", "bob"]
        : ["service node", "owner", "alice (sender)", "bob"];
    const expect = (node: RemoteNode, count: number) =>
      node.request<number>({ op: "expect", orgId, count }).then(() => performance.now());
    const sendAll = (texts: readonly string[]) =>
      alice.request<number>({ op: "send-all", orgId, channelId: "general", texts });
    // Both receivers count from before the first send: a node answers requests in order, so once it
    // answered a later one, its counter is in place.
    const armed = () => Promise.all([owner, bob].map((n) => n.request({ op: "published" })));
    const warm = Promise.all([expect(owner, warmupCount), expect(bob, warmupCount)]);
    await armed();
    await sendAll(messageTexts("warm-up", warmupCount, messageBytes));
    await warm;
    await Promise.all(clients.map((n) => call(n, "idle")));
    const cpu = () => Promise.all(timed.map((n) => n.request<number>({ op: "cpu" })));
    const decrypted = Promise.all([expect(owner, messageCount), expect(bob, messageCount)]);
    await armed();
    const cpuBefore = await cpu();
    const machineLoad = watchMachineLoad();
    const startNs = process.hrtime.bigint();
    const start = performance.now();
    const senderDoneMs = await sendAll(messageTexts("message", messageCount, messageBytes));
    const done = await decrypted.catch(async (error: unknown) => {
      const stats = layout === "service" ? await service.request({ op: "stats" }) : "stopped";
      const sender = await alice.request({ op: "diagnostics" });
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}; service node ${JSON.stringify(stats)}; sender ${JSON.stringify(sender)}`,
      );
    });
    const totalMs = Math.max(...done) - start;
    if (profileMarks) {
      process.stderr.write(`window processes-${layout} ${startNs} ${process.hrtime.bigint()}\n`);
      for (const [i, n] of timed.entries()) process.stderr.write(`pid ${names[i]} ${n.pid}\n`);
    }
    const cpuAfter = await cpu();
    // Connection trouble over the whole run (status changes, dial failures, peers hung up over a
    // broken relay stream): a run that survived one says so.
    const transportEvents = await Promise.all(
      timed.map(async (n) => {
        // The service node (4-process layout) keeps no diagnostics: it answers with an error.
        const { diagnostics } = await n
          .request<{ diagnostics: Record<string, number> }>({ op: "diagnostics" })
          .catch(() => ({ diagnostics: {} }));
        return Object.fromEntries(
          Object.entries(diagnostics).filter(([key]) => key.startsWith("transport")),
        );
      }),
    );
    const cpuMs = names.map((_, i) => ((cpuAfter[i] ?? 0) - (cpuBefore[i] ?? 0)) / 1000);
    const cpuMsTotal = cpuMs.reduce((a, b) => a + b, 0);
    const machine = machineLoad(cpuMsTotal);
    return {
      layout,
      totalMs: round(totalMs),
      senderDoneMs: round(senderDoneMs),
      messagesPerSecond: Math.round((messageCount / totalMs) * 1000),
      /** Every one of the messages decrypted by both receivers (the run fails otherwise). */
      allDecrypted: true,
      processes: timed.length,
      connections: overTcp ? "tcp" : "ws",
      /** Messages both receivers decrypted before the clock started (`--warmup`). */
      warmupMessages: warmupCount,
      cpuMsByNode: Object.fromEntries(names.map((name, i) => [name, round(cpuMs[i] ?? 0)])),
      cpuMsTotal: round(cpuMsTotal),
      /** Each timed node's transport diagnostics and status changes since it started, by kind. */
      transportEvents: Object.fromEntries(names.map((name, i) => [name, transportEvents[i]])),
      /**
       * What the wall time cannot go below given this CPU: on this machine, the processes' CPU
       * spread over its cores (or the busiest node, if more); as deployed (a core per node), the
       * busiest node.
       */
      cpuFloorMs: {
        thisMachine: round(Math.max(cpuMsTotal / cpus().length, ...cpuMs)),
        corePerNode: round(Math.max(...cpuMs)),
      },
      /**
       * What the machine ran over the window besides the timed processes (the processes' CPU grows
       * with it on a shared machine: compare figures measured with about as much of it).
       */
      machine:
        machine === undefined
          ? null
          : {
              loadAverage: machine.loadAverage.map((n) => Math.round(n * 100) / 100),
              busyMs: round(machine.busyMs),
              othersMs: round(machine.othersMs),
              stealMs: round(machine.stealMs),
            },
    };
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
}
