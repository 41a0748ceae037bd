/**
 * Test helpers: service nodes on loopback and light transports pointed at them.
 */
import type { Transport } from "@orgchat/transport";
import { type WakuTransport, wakuLightTransport, wakuTransport } from "@orgchat/transport-waku";
import { createServiceNode, type ServiceNode, type ServiceNodeInit } from "../src/index.ts";
import { safetyNetMs } from "./safety-net.ts";

export { safetyNetMs };

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
    publishTimeoutMs: options.publishTimeoutMs ?? safetyNetMs,
    reconnect: { initialDelayMs: 50, maxDelayMs: options.reconnectMaxDelayMs ?? 500 },
  });
}

/**
 * A relay peer (orgchat's relay transport, gossipsub as Waku Relay) connected to `node`, started and
 * online; its stop is pushed onto `cleanups` first.
 */
export async function relayPeerFor(
  node: ServiceNode,
  cleanups: (() => Promise<void> | void)[],
): Promise<Transport> {
  const relay = wakuTransport({
    mode: "relay",
    listen: [],
    peers: [wsAddress(node)],
    heartbeatIntervalMs: 100,
  });
  cleanups.push(() => relay.stop());
  await relay.start();
  await online(relay);
  return relay;
}

/** Resolves when `transport` reports `online` (or rejects after the safety net). */
export function online(transport: Transport, timeoutMs = safetyNetMs): Promise<void> {
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

/**
 * Resolves once `condition()` holds: checked at once, whenever one of `wakeOn` fires (`[target,
 * event]` pairs), and every 10 ms for state that has no event (the node's counters). Rejects only
 * after {@link safetyNetMs}, the safety net against a hang; how fast the machine is never decides.
 */
export function eventually(
  condition: () => boolean,
  what: string,
  wakeOn: readonly (readonly [EventTarget | Transport, string])[] = [],
): Promise<void> {
  return new Promise((resolve, reject) => {
    const offs: (() => void)[] = [];
    let poll: ReturnType<typeof setInterval> | undefined;
    const finish = (error?: Error) => {
      clearTimeout(timer);
      clearInterval(poll);
      for (const off of offs) off();
      if (error) reject(error);
      else resolve();
    };
    const check = () => {
      if (condition()) finish();
    };
    const timer = setTimeout(
      () => finish(new Error(`not within the ${safetyNetMs} ms safety net: ${what}`)),
      safetyNetMs,
    );
    for (const [target, event] of wakeOn) {
      if (target instanceof EventTarget) {
        target.addEventListener(event, check);
        offs.push(() => target.removeEventListener(event, check));
      } else {
        offs.push(target.on(event as "status:changed", check));
      }
    }
    poll = setInterval(check, 10);
    check();
  });
}
