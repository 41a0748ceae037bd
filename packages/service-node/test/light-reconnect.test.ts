/**
 * Light mode across a service node restart: the transport reports `connecting`, redials with
 * backoff, reports `online` again, its filter subscription is renewed on the restarted node (which
 * lost its in-memory subscriptions), and history survives in the node's data directory.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TransportMessage, TransportStatus } from "@orgchat/transport";
import { afterEach, expect, it } from "vitest";
import { createServiceNode, type ServiceNode } from "../src/index.ts";
import { eventually, lightTransportFor, online, wsAddress } from "./fixtures.ts";

const utf8 = new TextEncoder();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it("reconnects after the service node restarts and keeps receiving", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "orgchat-reconnect-"));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  let node: ServiceNode = await createServiceNode({ dataDir, listen: ["/ip4/127.0.0.1/tcp/0/ws"] });
  cleanups.push(() => node.stop());
  const address = wsAddress(node);
  const port = address.split("/")[4] as string;

  const alice = lightTransportFor([address], { reconnectMaxDelayMs: 200 });
  const bob = lightTransportFor([address], { reconnectMaxDelayMs: 200 });
  cleanups.push(
    () => alice.stop(),
    () => bob.stop(),
  );
  const statuses: TransportStatus[] = [];
  bob.on("status:changed", ({ status }) => statuses.push(status));
  await Promise.all([alice.start(), bob.start()]);
  await Promise.all([online(alice), online(bob)]);

  const topic = "/orgchat-reconnect/1/restart/proto";
  const received: TransportMessage[] = [];
  await bob.subscribe([topic], (m) => void received.push(m));
  const before = await alice.publish(topic, utf8.encode("before the restart"));
  await eventually(() => received.some((m) => m.id === before.id), "delivery before");

  await node.stop();
  await eventually(() => bob.status === "connecting", "bob notices the node is gone", [
    [bob, "status:changed"],
  ]);
  node = await createServiceNode({ dataDir, listen: [`/ip4/127.0.0.1/tcp/${port}/ws`] });
  await Promise.all([online(alice), online(bob)]);
  expect(statuses).toEqual(["connecting", "online", "connecting", "online"]);

  // The restarted node knows no subscription until bob's SDK renews it on reconnection.
  await eventually(() => node.stats().filterSubscribers === 1, "bob subscribes again");
  const after = await alice.publish(topic, utf8.encode("after the restart"));
  await eventually(() => received.some((m) => m.id === after.id), "delivery after");

  const history = await bob.queryHistory({ contentTopics: [topic], direction: "forward" });
  expect(history.messages.map((m) => m.id)).toEqual([before.id, after.id]);
});
