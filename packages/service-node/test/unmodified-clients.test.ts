/**
 * Unmodified Waku clients against the service node: a plain `createLightNode()` from `@waku/sdk`
 * 0.0.36 (the SDK's own LightPush v3, Filter v2 and Store v3 clients, no orgchat code) pushes,
 * receives through filter and pages store; a relay peer (orgchat's relay transport, gossipsub as
 * `/vac/waku/relay/2.0.0`) receives what the light client pushed, and the light client receives what
 * the relay peer published.
 */
import type { TransportMessage } from "@orgchat/transport";
import type { IDecodedMessage, LightNode } from "@waku/sdk";
import { afterEach, describe, expect, it } from "vitest";
import type { ServiceNode } from "../src/index.ts";
import { eventually, relayPeerFor, startServiceNode, wsAddress } from "./fixtures.ts";
import { stockLightNode } from "./stock-light-node.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serviceNode(): Promise<ServiceNode> {
  const node = await startServiceNode();
  cleanups.push(() => node.stop());
  return node;
}

/** A stock light node connected to `node`, stopped after the test. */
async function lightNode(node: ServiceNode): Promise<LightNode> {
  const light = await stockLightNode(wsAddress(node));
  cleanups.push(async () => {
    light.filter.unsubscribeAll();
    await light.stop();
  });
  return light;
}

function text(message: IDecodedMessage | undefined): string {
  return message === undefined ? "(undecodable)" : decoder.decode(message.payload);
}

describe("an unmodified @waku/sdk light node", () => {
  it("light-pushes, receives through filter, and finds the messages in store", async () => {
    const node = await serviceNode();
    const alice = await lightNode(node);
    const bob = await lightNode(node);
    const contentTopic = "/orgchat-interop/1/light/proto";
    const received: string[] = [];
    const bobDecoder = bob.createDecoder({ contentTopic });
    expect(await bob.filter.subscribe(bobDecoder, (m) => void received.push(text(m)))).toBe(true);

    const aliceEncoder = alice.createEncoder({ contentTopic });
    for (let i = 0; i < 3; i++) {
      const result = await alice.lightPush.send(
        aliceEncoder,
        { payload: encoder.encode(`hello ${i}`) },
        { autoRetry: false },
      );
      expect(result.failures).toEqual([]);
      expect(result.successes.map(String)).toEqual([node.peerId]);
    }
    await eventually(() => received.length === 3, "bob receives 3 pushes");
    expect(received.sort()).toEqual(["hello 0", "hello 1", "hello 2"]);

    const stored: string[] = [];
    await bob.store.queryWithOrderedCallback([bobDecoder], (m) => void stored.push(text(m)));
    expect(stored).toEqual(["hello 0", "hello 1", "hello 2"]);
    await bob.filter.unsubscribe(bobDecoder);
  });

  it("pages store forward and backward, and by time range", async () => {
    const node = await serviceNode();
    const light = await lightNode(node);
    const contentTopic = "/orgchat-interop/1/paging/proto";
    const lightEncoder = light.createEncoder({ contentTopic });
    // Within the archive's 20 s timestamp window (nwaku's rule): from 2 s ago, 100 ms apart.
    const base = Date.now() - 2_000;
    for (let i = 0; i < 25; i++) {
      const result = await light.lightPush.send(
        lightEncoder,
        {
          payload: encoder.encode(`m${String(i).padStart(2, "0")}`),
          timestamp: new Date(base + i * 100),
        },
        { autoRetry: false },
      );
      expect(result.successes).toHaveLength(1);
    }
    const lightDecoder = light.createDecoder({ contentTopic });
    const expected = Array.from({ length: 25 }, (_, i) => `m${String(i).padStart(2, "0")}`);

    const forwardPages: string[][] = [];
    for await (const page of light.store.queryGenerator([lightDecoder], {
      paginationForward: true,
      paginationLimit: 10,
    })) {
      forwardPages.push((await Promise.all(page)).map(text));
    }
    expect(forwardPages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(forwardPages.flat()).toEqual(expected);

    const backwardPages: string[][] = [];
    for await (const page of light.store.queryGenerator([lightDecoder], {
      paginationForward: false,
      paginationLimit: 10,
    })) {
      backwardPages.push((await Promise.all(page)).map(text));
    }
    // Each Store v3 page is in forward order; pages walk from the newest to the oldest.
    expect(backwardPages).toEqual([
      expected.slice(15, 25),
      expected.slice(5, 15),
      expected.slice(0, 5),
    ]);

    const ranged: string[] = [];
    await light.store.queryWithOrderedCallback(
      [lightDecoder],
      (m) => void ranged.push(text(m)),
      // Bounds between messages: js-waku converts dates to ns in floating point (±128 ns).
      { timeStart: new Date(base + 450), timeEnd: new Date(base + 950), paginationLimit: 2 },
    );
    expect(ranged).toEqual(expected.slice(5, 10));
  });

  it("a relay peer receives what a light node pushed, and the light node receives what the relay peer published", async () => {
    const node = await serviceNode();
    const light = await lightNode(node);
    const relay = await relayPeerFor(node, cleanups);

    const contentTopic = "/orgchat-interop/1/relay/proto";
    const viaRelay: TransportMessage[] = [];
    await relay.subscribe([contentTopic], (m) => void viaRelay.push(m));
    const viaFilter: string[] = [];
    const lightDecoder = light.createDecoder({ contentTopic });
    expect(await light.filter.subscribe(lightDecoder, (m) => void viaFilter.push(text(m)))).toBe(
      true,
    );

    const pushed = await light.lightPush.send(
      light.createEncoder({ contentTopic }),
      { payload: encoder.encode("from the light node") },
      { autoRetry: false },
    );
    expect(pushed.successes).toHaveLength(1);
    await eventually(() => viaRelay.length === 1, "the relay peer receives the push");
    expect(decoder.decode(viaRelay[0]?.payload)).toBe("from the light node");

    const published = await relay.publish(contentTopic, encoder.encode("from the relay peer"));
    expect(published.recipients).toBeGreaterThan(0);
    await eventually(
      () => viaFilter.includes("from the relay peer"),
      "the light node receives the relayed message through filter",
    );
    await eventually(() => node.stats().storedMessages === 2, "both messages are stored");
    const stored: string[] = [];
    await light.store.queryWithOrderedCallback([lightDecoder], (m) => void stored.push(text(m)));
    expect(stored.sort()).toEqual(["from the light node", "from the relay peer"]);
    await light.filter.unsubscribe(lightDecoder);
  });
});
