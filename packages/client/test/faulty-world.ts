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
import fc from "fast-check";
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
  /** Replaced by {@link FaultyWorld.start} after {@link FaultyWorld.stop} (same store, keys). */
  client: Client;
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

  readonly #made = new WeakMap<Peer, { index: number; config: ClientConfig; starts: number }>();
  #count = 0;

  /** A new peer; `config` is added to the world's for this peer only (kept for its restarts). */
  async peer(name: string, config: ClientConfig = {}): Promise<Peer> {
    const store = memoryStore();
    const transport = this.network.transport({ name });
    const index = ++this.#count;
    const client = await this.#client(store, transport, index, config, 0);
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
    this.#made.set(peer, { index, config, starts: 0 });
    this.#listen(peer);
    this.peers.push(peer);
    await this.settle();
    return peer;
  }

  /** Closes a peer's client: it is off the network until {@link FaultyWorld.start}. */
  async stop(peer: Peer): Promise<void> {
    await this.settle();
    await peer.client.close();
    this.peers.splice(this.peers.indexOf(peer), 1);
  }

  /** A new client for a stopped peer, on its store and its place on the network (a restart). */
  async start(peer: Peer): Promise<void> {
    const made = this.#made.get(peer);
    if (made === undefined || this.peers.includes(peer)) throw new Error(`${peer.name} runs`);
    made.starts++;
    peer.client = await this.#client(
      peer.store,
      peer.transport,
      made.index,
      made.config,
      made.starts,
    );
    this.#listen(peer);
    this.peers.push(peer);
    await this.settle();
  }

  #client(
    store: Store,
    transport: MemoryTransport,
    index: number,
    config: ClientConfig,
    starts: number,
  ): Promise<Client> {
    // Seeded per peer and per start: a restarted client draws other nonces than the first.
    const stream = this.#seed * 1_000 + index + starts * 100_000_000;
    return createClient({
      transport,
      store,
      now: this.clock.now,
      timers: clockTimers(this.clock),
      random: seededRandom(stream),
      provider: seededProvider(seededRandom(stream + 500)),
      config: { ...this.#config, ...config },
    });
  }

  #listen(peer: Peer): void {
    const { client } = peer;
    client.on("message:received", ({ message }) => {
      if (!message.own) peer.received.set(message.id, (peer.received.get(message.id) ?? 0) + 1);
    });
    client.on("message:undecryptable", (event) => peer.undecryptable.push(event));
    client.on("message:waiting-for-key", ({ pendingId }) => peer.waiting.add(pendingId));
    client.on("error", ({ error }) => peer.errors.push(error));
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

/**
 * Runs `run` over seeded scripts with fast-check: the seed and path replay from
 * `<env>_SEED` / `<env>_PATH` (fast-check prints them on a failure), `runs` scripts, stopping at
 * the first failure.
 */
export async function assertScripts<S>(
  scripts: fc.Arbitrary<S>,
  run: (seed: number, script: S) => Promise<unknown>,
  options: {
    readonly runs: number;
    readonly env: string;
    readonly seed: number;
    /** Replays this one script of `seed` (fast-check's path), whatever the environment says. */
    readonly path?: string;
  },
): Promise<void> {
  const path = options.path ?? process.env[`${options.env}_PATH`];
  await fc.assert(
    fc.asyncProperty(fc.nat(1_000_000), scripts, async (seed, script) => {
      await run(seed, script);
    }),
    {
      seed: Number(
        (options.path === undefined ? process.env[`${options.env}_SEED`] : undefined) ??
          options.seed,
      ),
      numRuns: options.runs,
      endOnFailure: true,
      ...(path ? { path } : {}),
    },
  );
}

/**
 * The refusals an operation may meet, each with the condition under which it is the right
 * answer, read from the refusing peer's own view before the call (the world is at rest: nothing
 * runs between the reading and the call), or, for a function, at the refusal. Any other error, or
 * one of these when its condition does not hold, fails the run.
 */
export type Refusals = Readonly<Record<string, boolean | (() => boolean)>>;

/** Runs an owner or member operation; a refusal must be one `allowed` lists as true. */
export async function attempt(
  ledger: { readonly log: string[]; readonly refusals: Map<string, number> },
  what: string,
  kind: string,
  allowed: Refusals,
  op: () => Promise<unknown>,
): Promise<boolean> {
  try {
    await op();
    ledger.log.push(what);
    return true;
  } catch (error) {
    const name = error instanceof Error ? error.name : String(error);
    const rule = allowed[name];
    if (!(rule === true || (typeof rule === "function" && rule()))) throw error;
    ledger.log.push(`${what}: ${name}`);
    const key = `${kind}: ${name}`;
    ledger.refusals.set(key, (ledger.refusals.get(key) ?? 0) + 1);
    return false;
  }
}
