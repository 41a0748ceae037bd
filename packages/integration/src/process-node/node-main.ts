/**
 * A node process of the multi-process benchmarks: one `@orgchat/service-node`, or one client on a
 * Waku relay transport dialing it and/or other clients, as deployed (one node per device). Started
 * by `spawnNode` (`remote.ts`) with its {@link NodeRole} as JSON in `argv[2]`; answers the parent's
 * requests (`protocol.ts`) over IPC, and exits on `stop` or when the parent goes away.
 */
import { type Client, createClient } from "@orgchat/client";
import { createServiceNode, type ServiceNode } from "@orgchat/service-node";
import { memoryStore } from "@orgchat/store";
import type { CallOptions, MessageHandler, Transport } from "@orgchat/transport";
import { type WakuTransport, wakuTransport } from "@orgchat/transport-waku";
import type { WakuRelay } from "@orgchat/transport-waku/relay";
import { decryptedCounter } from "./decrypted.js";
import type { NodeReply, NodeRequest, NodeRequestMessage, NodeRole } from "./protocol.js";

/** Longest wait for the node to be online, or for an `expect` (a safety net against a hang). */
const safetyTimeoutMs = 60_000;

const role = JSON.parse(process.argv[2] ?? "{}") as NodeRole;
const send = (message: unknown) => process.send?.(message);

interface Handler {
  handle(request: NodeRequest): Promise<unknown>;
  stop(): Promise<void>;
}

async function serviceHandler(): Promise<Handler> {
  const node: ServiceNode = await createServiceNode({ heartbeatIntervalMs: 100 });
  let disconnects = 0;
  node.libp2p.addEventListener("peer:disconnect", () => {
    disconnects += 1;
  });
  return {
    async handle(request) {
      switch (request.op) {
        case "stored":
          return node.stats().storedMessages;
        case "stats":
          return { ...node.stats(), disconnects };
        case "address":
          return node
            .multiaddrs()
            .find((a) => (request.transport === "tcp" ? !a.includes("/ws") : a.includes("/ws/")));
        default:
          throw new Error(`the service node does not do ${request.op}`);
      }
    },
    stop: () => node.stop(),
  };
}

/** Where a client's relay transport listens and what it dials. */
interface Links {
  readonly serviceAddress?: string | undefined;
  readonly peers?: readonly string[] | undefined;
  readonly listen?: boolean | undefined;
  /** Listen over WebSocket (the default) or plain TCP. */
  readonly over?: "ws" | "tcp" | undefined;
  /**
   * The gossipsub heartbeat: 100 ms for the setup (meshes form on heartbeats), the transport's
   * production default (1 s) when undefined, as on the relay nodes of the timed mesh.
   */
  readonly heartbeatIntervalMs?: number | undefined;
}

async function clientHandler(init: Extract<NodeRole, { role: "client" }>): Promise<Handler> {
  let published = 0;
  /** Messages the transport handed to the client, and diagnostics by component and reason. */
  let delivered = 0;
  const diagnostics = new Map<string, number>();
  const count = ({ component, reason }: { component: string; reason: string }) => {
    const key = `${component}: ${reason}`;
    diagnostics.set(key, (diagnostics.get(key) ?? 0) + 1);
  };
  /** The client's store: kept across a `restart`, like a device's disk. */
  const store = memoryStore();
  /** A relay transport on `links` (counting publishes and deliveries) and a client on it. */
  const open = async (links: Links) => {
    const inner = wakuTransport({
      mode: "relay",
      listen: links.listen
        ? [links.over === "tcp" ? "/ip4/127.0.0.1/tcp/0" : "/ip4/127.0.0.1/tcp/0/ws"]
        : [],
      peers: [
        ...(links.serviceAddress === undefined ? [] : [links.serviceAddress]),
        ...(links.peers ?? []),
      ],
      storePeers: links.serviceAddress === undefined ? [] : [links.serviceAddress],
      ...(links.heartbeatIntervalMs === undefined
        ? {}
        : { heartbeatIntervalMs: links.heartbeatIntervalMs }),
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    });
    inner.on("diagnostic", count);
    inner.on("status:changed", ({ status }) =>
      count({ component: "transport-status", reason: status }),
    );
    const transport = new Proxy(inner, {
      get(target, property) {
        if (property === "publish") {
          return (...args: Parameters<Transport["publish"]>) => {
            published += 1;
            return target.publish(...args);
          };
        }
        if (property === "subscribe") {
          return (topics: readonly string[], handler: MessageHandler, options?: CallOptions) =>
            target.subscribe(
              topics,
              (message) => {
                delivered += 1;
                return handler(message);
              },
              options,
            );
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const client: Client = await createClient({ transport, store, config: init.config });
    return { inner, transport, client };
  };
  let { inner, transport, client } = await open({ ...init, heartbeatIntervalMs: 100 });
  await online(inner);
  return {
    async handle(request) {
      switch (request.op) {
        case "call": {
          const method = (client as unknown as Record<string, unknown>)[request.method];
          if (typeof method !== "function") throw new Error(`no client method ${request.method}`);
          return await (method as (...args: unknown[]) => unknown).apply(client, [...request.args]);
        }
        case "published":
          return published;
        case "restart": {
          await client.close();
          await transport.stop();
          const over = request.transport ?? "ws";
          ({ inner, transport, client } = await open({ listen: true, peers: request.peers, over }));
          const address = inner.multiaddrs.find((a) => a.includes("/ws/") === (over === "ws"));
          if (address === undefined) throw new Error(`${init.name} does not listen`);
          return address;
        }
        case "mesh-peers": {
          const relay = (inner as WakuTransport & { relay?: WakuRelay }).relay;
          await relay?.waitForPeers({ minPeers: request.count, timeoutMs: safetyTimeoutMs });
          return undefined;
        }
        case "diagnostics":
          return { published, delivered, diagnostics: Object.fromEntries(diagnostics) };
        case "view": {
          try {
            const view = client.getOrganization(request.orgId);
            return { role: view.role, epoch: view.epoch };
          } catch {
            return undefined;
          }
        }
        case "auto-accept": {
          const { orgId } = request;
          client.on("request:received", ({ organizationId, requestId }) => {
            if (organizationId === orgId) void client.acceptRequest(orgId, requestId);
          });
          return undefined;
        }
        case "expect": {
          const counter = decryptedCounter(client, request.orgId);
          const start = performance.now();
          const deliveredBefore = delivered;
          try {
            return (await counter.reached(request.count, safetyTimeoutMs)) - start;
          } catch (error) {
            // What the bench reports when a node never gets there: was it the network or the client?
            throw new Error(
              `${init.name}: ${error instanceof Error ? error.message : String(error)}; the transport delivered ${delivered - deliveredBefore} messages meanwhile; diagnostics ${JSON.stringify(Object.fromEntries(diagnostics))}`,
            );
          } finally {
            counter.stop();
          }
        }
        case "send-all": {
          const start = performance.now();
          await Promise.all(
            request.texts.map((text) => client.sendMessage(request.orgId, request.channelId, text)),
          );
          return performance.now() - start;
        }
        default:
          throw new Error(`a client does not do ${request.op}`);
      }
    },
    async stop() {
      await client.close();
      await transport.stop();
    },
  };
}

/** Resolves when the transport is online and the service node is in its mesh on every shard. */
async function online(transport: WakuTransport): Promise<void> {
  if (transport.status !== "online") {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`not online after ${safetyTimeoutMs} ms`)),
        safetyTimeoutMs,
      );
      const off = transport.on("status:changed", ({ status }) => {
        if (status !== "online") return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }
  const relay = (transport as WakuTransport & { relay?: WakuRelay }).relay;
  await relay?.waitForPeers({ minPeers: 1, timeoutMs: safetyTimeoutMs });
}

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

const handler = role.role === "service" ? await serviceHandler() : await clientHandler(role);
let stopping: Promise<void> | undefined;
const stop = () => {
  stopping ??= handler.stop();
  return stopping;
};
// The parent went away (or killed the channel): stop and leave.
process.on("disconnect", () => void stop().finally(() => process.exit(0)));
process.on("message", (message: NodeRequestMessage) => {
  void (async () => {
    let reply: NodeReply;
    try {
      const value =
        message.op === "stop"
          ? await stop()
          : message.op === "cpu"
            ? cpuMicros()
            : await handler.handle(message);
      reply = { id: message.id, ok: true, value };
    } catch (error) {
      reply = {
        id: message.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      };
    }
    process.send?.(reply, undefined, {}, () => {
      if (message.op === "stop") process.exit(0);
    });
  })();
});
send({ ready: true });
