/**
 * A deterministic world for the convergence property tests (`convergence.test.ts`,
 * `fork-convergence.test.ts`): seeded keys, a faulty memory network (drops, duplicates, latency,
 * reordering, partitions), one virtual clock for the network and every client.
 */
import { memoryStore, type Store } from "@orgchat/store";
import {
  type MemoryNetwork,
  type MemoryTransport,
  memoryNetwork,
  type Transport,
  type TransportMessage,
  type VirtualClock,
  virtualClock,
} from "@orgchat/transport";
import {
  type Client,
  type ClientConfig,
  type ClientEvents,
  type ClientTimers,
  createClient,
} from "../src/index.js";
import { seededProvider, seededRandom } from "./helpers.js";

/** Client timers on the virtual clock (a handle is the task's cancel function). */
export function clockTimers(clock: VirtualClock): ClientTimers {
  return {
    setTimeout: (task, delayMs) => clock.schedule(task, delayMs),
    clearTimeout: (handle) => (handle as () => void)(),
  };
}

/** Every message stored on a topic, oldest first. */
export async function* history(
  transport: Transport,
  topic: string,
  from = 0,
): AsyncGenerator<TransportMessage> {
  let cursor: string | undefined;
  do {
    const page = await transport.queryHistory({
      contentTopics: [topic],
      direction: "forward",
      from,
      pageSize: 100,
      ...(cursor === undefined ? {} : { cursor }),
    });
    yield* page.messages;
    cursor = page.cursor;
  } while (cursor !== undefined);
}

export interface Peer {
  readonly name: string;
  readonly client: Client;
  readonly store: Store;
  /** The peer's place on the network (partitions). */
  readonly transport: MemoryTransport;
  /** `message:received` count per event id (messages from others only). */
  readonly received: Map<string, number>;
  /** `message:waiting-for-key` ids. */
  readonly waiting: Set<string>;
  readonly undecryptable: Array<ClientEvents["message:undecryptable"]>;
  readonly errors: unknown[];
}

export const faults = {
  dropRate: 0.2,
  duplicateRate: 0.1,
  reorderWindowMs: 40,
  latency: { minMs: 1, maxMs: 30 },
} as const;

export class FaultyWorld {
  readonly clock = virtualClock();
  readonly network: MemoryNetwork;
  readonly peers: Peer[] = [];
  readonly #seed: number;
  readonly #config: ClientConfig;

  constructor(seed: number, config: ClientConfig = {}) {
    this.#seed = seed;
    this.network = memoryNetwork({ seed, ...faults }, this.clock);
    this.#config = { scryptN: 16, ...config };
  }

  async peer(name: string): Promise<Peer> {
    const store = memoryStore();
    const transport = this.network.transport({ name });
    const index = this.peers.length + 1;
    const client = await createClient({
      transport,
      store,
      now: this.clock.now,
      timers: clockTimers(this.clock),
      random: seededRandom(this.#seed * 1_000 + index),
      provider: seededProvider(seededRandom(this.#seed * 1_000 + 500 + index)),
      config: this.#config,
    });
    const peer: Peer = {
      name,
      client,
      store,
      transport,
      received: new Map(),
      waiting: new Set(),
      undecryptable: [],
      errors: [],
    };
    client.on("message:received", ({ message }) => {
      if (!message.own) peer.received.set(message.id, (peer.received.get(message.id) ?? 0) + 1);
    });
    client.on("message:undecryptable", (event) => peer.undecryptable.push(event));
    client.on("message:waiting-for-key", ({ pendingId }) => peer.waiting.add(pendingId));
    client.on("error", ({ error }) => peer.errors.push(error));
    this.peers.push(peer);
    await this.settle();
    return peer;
  }

  /** Lets every client finish what it is doing (no virtual time passes). */
  async #drain(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await Promise.all(this.peers.map((p) => p.client.idle()));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Runs deliveries in flight (advancing the clock in small steps) until none is left. */
  async settle(): Promise<void> {
    await this.#drain();
    for (let step = 0; step < 2_000 && this.network.deliveriesInFlight > 0; step++) {
      this.clock.advance(10);
      await this.#drain();
    }
  }

  /** Lets `ms` of virtual time pass (running timers and deliveries on the way). */
  async wait(ms: number): Promise<void> {
    const until = this.clock.now() + ms;
    while (this.clock.now() < until) {
      this.clock.advance(Math.min(1_000, until - this.clock.now()));
      await this.settle();
    }
  }

  async close(): Promise<void> {
    for (const peer of this.peers) await peer.client.close();
    await this.network.stop();
  }
}
