/**
 * Test helpers: service nodes on loopback and light transports pointed at them.
 */
import type { Transport } from "@orgchat/transport";
import { type WakuTransport, wakuLightTransport } from "@orgchat/transport-waku";
import { createServiceNode, type ServiceNode, type ServiceNodeInit } from "../src/index.ts";

/** Starts a service node on 127.0.0.1 (ws + tcp) with a fast gossipsub heartbeat. */
export function startServiceNode(init: ServiceNodeInit = {}): Promise<ServiceNode> {
  return createServiceNode({ heartbeatIntervalMs: 100, ...init });
}

/** The node's WebSocket multiaddr (what browsers and light nodes dial). */
export function wsAddress(node: ServiceNode): string {
  const address = node.multiaddrs().find((a) => a.includes("/ws/"));
  if (address === undefined) throw new Error(`no ws address among ${node.multiaddrs().join(", ")}`);
  return address;
}

/** A light transport using `node` as its service node (not started). */
export function lightTransportFor(
  node: ServiceNode | readonly string[],
  options: { readonly publishTimeoutMs?: number; readonly reconnectMaxDelayMs?: number } = {},
): WakuTransport {
  const peers = Array.isArray(node) ? [...node] : [wsAddress(node as ServiceNode)];
  return wakuLightTransport({
    mode: "light",
    peers,
    publishTimeoutMs: options.publishTimeoutMs ?? 5_000,
    reconnect: { initialDelayMs: 50, maxDelayMs: options.reconnectMaxDelayMs ?? 500 },
  });
}

/** Resolves when `transport` reports `online` (or rejects after `timeoutMs`). */
export function online(transport: Transport, timeoutMs = 5_000): Promise<void> {
  if (transport.status === "online") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`transport not online within ${timeoutMs} ms (status ${transport.status})`));
    }, timeoutMs);
    const off = transport.on("status:changed", ({ status }) => {
      if (status !== "online") return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Polls `condition` every 10 ms until it holds (rejects after `timeoutMs`). */
export async function eventually(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
