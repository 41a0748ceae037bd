/**
 * The gate between the client and the network (`src/network-gate.ts`): nothing starts, subscribes,
 * publishes or queries before `open()`; on `open()` the recorded subscriptions come first,
 * then the waiting calls; `refuse()` ends the waiting calls of a command that never connected.
 */
import { memoryNetwork, type Transport } from "@orgchat/transport";
import { describe, expect, it } from "vitest";
import { networkGate } from "../src/network-gate.ts";

const topic = "/orgchat/1/test/proto";

/** `inner` with a log of the calls that reached it. */
function logged(inner: Transport, log: string[]): Transport {
  return {
    get capabilities() {
      return inner.capabilities;
    },
    get status() {
      return inner.status;
    },
    start: async (options) => {
      log.push("start");
      await inner.start(options);
    },
    stop: (options) => inner.stop(options),
    publish: async (t, payload, options) => {
      log.push(`publish ${payload[0]}`);
      return inner.publish(t, payload, options);
    },
    subscribe: async (topics, handler, options) => {
      log.push(`subscribe ${topics.join(",")}`);
      return inner.subscribe(topics, handler, options);
    },
    queryHistory: async (query, options) => {
      log.push("query");
      return inner.queryHistory(query, options);
    },
    on: (event, listener) => inner.on(event, listener),
  };
}

describe("networkGate", () => {
  it("connects only on open(): subscriptions first, then the waiting calls", async () => {
    const network = memoryNetwork();
    const log: string[] = [];
    const gate = networkGate(logged(network.transport({ name: "me" }), log));
    let received: (value: number) => void = () => undefined;
    const nine = new Promise<number>((done) => {
      received = done;
    });
    await gate.transport.start();
    const subscription = await gate.transport.subscribe([topic], (message) => {
      if (message.payload[0] === 9) received(9);
    });
    const dropped = await gate.transport.subscribe(["/orgchat/1/other/proto"], () => undefined);
    await dropped.unsubscribe();
    const published = gate.transport.publish(topic, new Uint8Array([7]));
    const queried = gate.transport.queryHistory({ contentTopics: [topic] });
    // Let every microtask and timer run: still nothing reached the transport.
    await new Promise((done) => setTimeout(done, 0));
    expect(log).toEqual([]);
    expect(gate.opened).toBe(false);
    expect(subscription.contentTopics).toEqual([topic]);

    await gate.open();
    expect(gate.opened).toBe(true);
    expect(log.slice(0, 2)).toEqual(["start", `subscribe ${topic}`]);
    await published;
    await queried;
    expect(log.slice(2).sort()).toEqual(["publish 7", "query"]);
    // The recorded subscription is the real one now: it receives.
    const other = network.transport({ name: "other" });
    await other.start();
    await other.publish(topic, new Uint8Array([9]));
    expect(await nine).toBe(9);
    await subscription.unsubscribe();
    await other.stop();
    await gate.transport.stop();
  });

  it("refuse() rejects the waiting calls; nothing was started or sent", async () => {
    const log: string[] = [];
    const gate = networkGate(logged(memoryNetwork().transport({ name: "me" }), log));
    await gate.transport.start();
    await gate.transport.subscribe([topic], () => undefined);
    const published = gate.transport.publish(topic, new Uint8Array([1]));
    const refused = new Error("closed before connecting");
    gate.refuse(refused);
    await expect(published).rejects.toBe(refused);
    await expect(gate.transport.queryHistory({ contentTopics: [topic] })).rejects.toBe(refused);
    await gate.transport.stop();
    expect(log).toEqual([]);
  });

  it("a failed start rejects open() and the waiting calls with the transport's error", async () => {
    const failure = new Error("no peers");
    const inner = memoryNetwork().transport({ name: "me" });
    const gate = networkGate({ ...logged(inner, []), start: () => Promise.reject(failure) });
    const published = gate.transport.publish(topic, new Uint8Array([1]));
    await expect(gate.open()).rejects.toBe(failure);
    await expect(published).rejects.toBe(failure);
  });

  it("makes the recorded subscriptions one at a time (concurrent light-mode subscribes lose live delivery)", async () => {
    const inner = memoryNetwork().transport({ name: "me" });
    let inFlight = 0;
    let most = 0;
    const gate = networkGate({
      ...logged(inner, []),
      subscribe: async (topics, handler, options) => {
        inFlight++;
        most = Math.max(most, inFlight);
        // Each subscription takes a round trip: the next must not start before it ended.
        await new Promise((done) => setTimeout(done, 0));
        try {
          return await inner.subscribe(topics, handler, options);
        } finally {
          inFlight--;
        }
      },
    });
    for (const name of ["a", "b", "c"]) {
      await gate.transport.subscribe([`/orgchat/1/${name}/proto`], () => undefined);
    }
    await gate.open();
    expect(most).toBe(1);
    await gate.transport.stop();
  });
});
