/**
 * Child process of the store query deadline check: two libp2p nodes over `@libp2p/memory` (no socket,
 * so nothing but the query's own deadline can keep this process alive), a store node that reads the
 * query, sends the first bytes of an answer and then nothing more on an open stream, and one
 * `runStoreQuery` against it with a 1.5 s deadline. Prints one JSON line: how the query ended and
 * after how long. Without a deadline that keeps the process alive, the event loop runs empty first:
 * Node exits with code 13 ("unsettled top-level await") and nothing is printed.
 */
import type { IncomingStreamData, Libp2p } from "@libp2p/interface";
import { StoreCodec } from "@waku/core";
import { createLibp2pAndUpdateOptions } from "@waku/sdk";
import { libp2pTransportsFor, offlineNodeOptions, parseAddresses } from "../src/node-options.js";
import { defaultNetworkConfig } from "../src/relay.js";
import { planStoreQuery, runStoreQuery } from "../src/store-query.js";

const deadlineMs = 1500;

async function node(listen: readonly string[]): Promise<Libp2p> {
  const addresses = parseAddresses(listen, "listen");
  const options = offlineNodeOptions({
    networkConfig: defaultNetworkConfig,
    listen: addresses,
    transports: await libp2pTransportsFor(parseAddresses(["/memory/any"], "peer")),
    privateKey: undefined,
  });
  // No pings either: nothing but the query's deadline may keep this process alive.
  Object.assign(options.libp2p ?? {}, { connectionMonitor: { enabled: false } });
  const libp2p = (await createLibp2pAndUpdateOptions(options)) as unknown as Libp2p;
  await libp2p.start();
  return libp2p;
}

const store = await node([`/memory/store-deadline-${process.pid}`]);
await store.handle(
  StoreCodec,
  ({ stream }: IncomingStreamData) => {
    void (async () => {
      for await (const _ of stream.source) {
        // The whole query: the client closes its end after it.
      }
      // A frame that announces 1000 bytes, 10 of them, then silence on a stream left open.
      await stream.sink(
        (async function* () {
          yield Uint8Array.from([0xe8, 0x07, ...new Uint8Array(10)]);
          await new Promise<never>(() => undefined);
        })(),
      );
    })().catch(() => undefined);
  },
  { force: true },
);
const client = await node([]);
const address = store.getMultiaddrs()[0];
if (address === undefined) throw new Error("the store node listens nowhere");
const connection = await client.dial(address);
const plan = planStoreQuery(
  { contentTopics: ["/orgchat-deadline/1/stall/proto"] },
  () => "/waku/2/rs/1/0",
);
const started = performance.now();
let outcome: { error?: string; message?: string; pages?: number };
try {
  await runStoreQuery(connection, plan, deadlineMs, undefined);
  outcome = { pages: 1 };
} catch (error) {
  outcome = { error: (error as Error).name, message: (error as Error).message };
}
process.stdout.write(
  `${JSON.stringify({ ...outcome, elapsedMs: Math.round(performance.now() - started) })}\n`,
);
await Promise.all([client.stop(), store.stop()]);
process.exit(0);
