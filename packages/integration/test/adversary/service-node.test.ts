/**
 * Issue #13, row 6: the service node's archive and the Waku timestamps senders choose. A hostile
 * peer (`hostileRelay`: a relay node of its own, on 127.0.0.1) relays messages dated 100 years
 * ahead. Secure outcome
 * (RULES R6): count-based retention does not evict genuine messages for them, and age-based
 * retention can still remove everything (the junk is refused or clamped to the node's clock).
 *
 * The node's clock is injected (`now`): the retention step is a change of that clock, not a wait.
 * Waits are on conditions (the node's counters, history), with a safety net only.
 */
import { createServiceNode, type ServiceNode } from "@orgchat/service-node";
import type { Transport } from "@orgchat/transport";
import { wakuTransport } from "@orgchat/transport-waku";
import { channelTopic } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { hostileRelay, junkBytes } from "../../src/adversary/index.ts";
import { historyOf, payloadHash } from "../../src/world.ts";

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
});

const hour = 3_600_000;
const century = 100 * 365 * 24 * hour;

/** Waits until `condition()` holds, re-checking every 20 ms; the timeout is only a safety net. */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + 120_000;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("row 6: the service node and sender-chosen timestamps", () => {
  it("100 messages dated 100 years ahead do not evict genuine ones, and retention by age still empties the archive", async () => {
    let offset = 0;
    const victim: ServiceNode = await createServiceNode({
      heartbeatIntervalMs: 100,
      maintenanceIntervalMs: 50,
      retention: { maxMessages: 50, maxAgeMs: hour },
      now: () => Date.now() + offset,
    });
    stops.push(() => victim.stop());
    const address = victim.multiaddrs().find((a) => a.includes("/ws/"));
    if (address === undefined) throw new Error("no ws address");
    const hostile = await hostileRelay(address);
    stops.push(() => hostile.stop());
    const honest: Transport = wakuTransport({
      mode: "relay",
      listen: [],
      peers: [address],
      storePeers: [address],
      heartbeatIntervalMs: 100,
    });
    await honest.start();
    stops.push(() => honest.stop());
    await until(() => honest.status === "online", "the honest peer online");

    const org = junkBytes(6, 32);
    const genuineTopic = channelTopic(org, "general");
    const junkTopic = channelTopic(org, "junk");
    const genuine = Array.from({ length: 10 }, (_, i) => junkBytes(1_000 + i, 200));
    for (const payload of genuine) await honest.publish(genuineTopic, payload);
    await until(() => victim.stats().storedMessages >= 10, "the genuine messages stored");

    let markerSeen = false;
    const markerHash = payloadHash(junkBytes(99_999, 200));
    await honest.subscribe([junkTopic], (message) => {
      if (payloadHash(message.payload) === markerHash) markerSeen = true;
    });
    const ahead = Date.now() + century;
    for (let i = 0; i < 100; i++)
      await hostile.publishAt(junkTopic, junkBytes(i + 1, 200), ahead + i);
    // A last message at the right time on the same stream: the node archives a message before it
    // relays it, so once the honest peer has the marker, the junk before it has been judged.
    const marker = junkBytes(99_999, 200);
    await hostile.publishAt(junkTopic, marker, Date.now());
    await until(() => markerSeen, "the marker relayed to the honest peer");
    await until(() => victim.stats().storedMessages <= 50, "count-based retention to have run");

    const held = new Set((await historyOf(honest, genuineTopic)).map(payloadHash));
    expect(
      genuine.filter((p) => !held.has(payloadHash(p))).length,
      "genuine messages evicted by future-dated junk",
    ).toBe(0);

    offset = 2 * hour;
    await until(
      () => victim.stats().storedMessages === 0,
      "age-based retention to empty the archive",
    );
  }, 300_000);
});
