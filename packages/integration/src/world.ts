/**
 * The harness the integration tests and benchmarks share: a "world" of `@orgchat/client` peers on one
 * network, either the in-process memory network or real Waku on loopback (a service node that relays
 * and stores, and clients on relay or light transports dialing it over WebSocket on 127.0.0.1).
 *
 * The client code is the same everywhere: only {@link World}'s transport factory differs. Time is
 * real (no fake timers): waits are event-driven ({@link World.until} re-checks its condition on every
 * client event and every 20 ms) and bounded by a generous timeout that is only a safety net (a
 * busy machine is slow, not wrong); nothing sleeps a fixed time to assert, and no operation is
 * retried: what a step needs (e.g. the store node holding what was published) is waited for, then
 * the operation runs once.
 */
import { createHash } from "node:crypto";
import {
  type Client,
  type ClientConfig,
  type ClientEvents,
  clientEventNames,
  createClient,
  isUnknownOrganizationError,
  type OrganizationView,
} from "@orgchat/client";
import { createServiceNode, type ServiceNode } from "@orgchat/service-node";
import { memoryStore, type Store } from "@orgchat/store";
import { type MemoryNetwork, memoryNetwork, type Transport } from "@orgchat/transport";
import { type WakuTransport, wakuTransport } from "@orgchat/transport-waku";
import type { WakuRelay } from "@orgchat/transport-waku/relay";
import { descriptionTopic } from "@orgchat/wire";

/** Which network the world runs on. */
export type WorldKind =
  /** `memoryNetwork()` from `@orgchat/transport`, in process. */
  | "memory"
  /** Waku Relay peers (`wakuTransport({ mode: "relay" })`) around one service node (relay + store). */
  | "relay"
  /** Waku light nodes (`wakuTransport({ mode: "light" })`) served by one service node. */
  | "light";

/** Every event a client emits, in order, with its payload. */
export type Recorded = Array<
  { [K in keyof ClientEvents]: [K, ClientEvents[K]] }[keyof ClientEvents]
>;

/** The events a world records for each peer (every client event but `diagnostic`). */
export const recordedEventNames: ReadonlyArray<keyof ClientEvents> = clientEventNames.filter(
  (name) => name !== "diagnostic",
);

/** One client of the world, with its store, its transport and what it emitted. */
export interface Peer {
  readonly name: string;
  client: Client;
  /** Its store; re-opened by {@link World.resume} when the peer was made with `openStore`. */
  store: Store;
  /** Opens the peer's persistent store again (a process restart on the same data directory). */
  readonly openStore: (() => Promise<Store>) | undefined;
  readonly transport: Transport;
  readonly events: Recorded;
  /** False between {@link World.stop} and {@link World.resume}. */
  running: boolean;
  /** What its transport acknowledged publishing: payload hashes (hex SHA-256) by content topic. */
  readonly published: ReadonlyMap<string, ReadonlySet<string>>;
  /** Its own client tunables (over the world's), kept for {@link World.resume}. */
  readonly config: ClientConfig | undefined;
}

/** Options of {@link createWorld}. */
export interface WorldInit {
  /** Client tunables; merged over the world's defaults (re-key at once, no periodic task). */
  readonly config?: ClientConfig;
  /**
   * Longest wait of {@link World.until} and of a peer becoming ready, ms: a safety net against a
   * hang, generous so that a busy machine only makes a test slower. @default 60_000
   */
  readonly timeoutMs?: number;
  /** Called with every client the world makes (a peer's, and again on each resume). */
  readonly onClient?: (client: Client) => void;
}

/** Client defaults in a world: re-key inside the operation, no periodic republish, fast resync. */
export const worldClientConfig: ClientConfig = {
  rekeyWindowMs: 0,
  addWindowMs: 0,
  republishIntervalMs: 0,
  resyncInitialBackoffMs: 500,
  resyncMaxBackoffMs: 4_000,
  scryptN: 16,
};

/** Starts a world of the given kind (for Waku: one service node on 127.0.0.1). */
export async function createWorld(kind: WorldKind, init: WorldInit = {}): Promise<World> {
  if (kind === "memory") return new World(kind, init, memoryNetwork(), undefined);
  const node = await createServiceNode({ heartbeatIntervalMs: 100 });
  return new World(kind, init, undefined, node);
}

/** A network and the clients on it. Close it in `afterEach`: every client, transport and node stops. */
export class World {
  readonly kind: WorldKind;
  readonly peers: Peer[] = [];
  readonly config: ClientConfig;
  readonly timeoutMs: number;
  /** The memory network (memory worlds). */
  readonly network: MemoryNetwork | undefined;
  /** The service node (Waku worlds): relays between the peers and keeps the store. */
  readonly serviceNode: ServiceNode | undefined;
  readonly #wakeups = new Set<() => void>();
  readonly #onClient: ((client: Client) => void) | undefined;
  #closed = false;

  constructor(
    kind: WorldKind,
    init: WorldInit,
    network: MemoryNetwork | undefined,
    serviceNode: ServiceNode | undefined,
  ) {
    this.kind = kind;
    this.config = { ...worldClientConfig, ...init.config };
    this.timeoutMs = init.timeoutMs ?? 60_000;
    this.#onClient = init.onClient;
    this.network = network;
    this.serviceNode = serviceNode;
  }

  /** The service node's WebSocket multiaddr. */
  get serviceAddress(): string {
    const address = this.serviceNode?.multiaddrs().find((a) => a.includes("/ws/"));
    if (address === undefined) throw new Error(`a ${this.kind} world has no service node address`);
    return address;
  }

  /**
   * A transport of this world's kind (not started). `history: false` gives a memory transport that
   * cannot read history (a relay-only peer); Waku transports always have it here.
   */
  transport(name: string, options: { readonly history?: boolean } = {}): Transport {
    switch (this.kind) {
      case "memory":
        return (this.network as MemoryNetwork).transport({
          name,
          history: options.history ?? true,
        });
      case "relay":
        return wakuTransport({
          mode: "relay",
          listen: [],
          peers: [this.serviceAddress],
          storePeers: [this.serviceAddress],
          heartbeatIntervalMs: 100,
          reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
        });
      case "light":
        return wakuTransport({
          mode: "light",
          peers: [this.serviceAddress],
          reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
        });
    }
  }

  /** Makes a client on a new transport and store, and waits until its transport carries traffic. */
  async peer(
    name: string,
    options: {
      /** A persistent store: closed by {@link World.stop}, opened again by {@link World.resume}. */
      readonly openStore?: () => Promise<Store>;
      readonly config?: ClientConfig;
      /** Wraps the transport before the client gets it (e.g. to count what it publishes). */
      readonly wrapTransport?: (transport: Transport) => Transport;
      /** Memory worlds: false for a transport that cannot read history. @default true */
      readonly history?: boolean;
    } = {},
  ): Promise<Peer> {
    const store = options.openStore ? await options.openStore() : memoryStore();
    const published = new Map<string, Set<string>>();
    const inner = recordPublishes(
      this.transport(name, options.history === undefined ? {} : { history: options.history }),
      (topic, payload) => {
        const hashes = published.get(topic) ?? new Set<string>();
        hashes.add(payloadHash(payload));
        published.set(topic, hashes);
      },
    );
    const transport = options.wrapTransport ? options.wrapTransport(inner) : inner;
    const client = await this.#client(store, transport, options.config);
    const peer: Peer = {
      name,
      client,
      store,
      openStore: options.openStore,
      transport,
      events: [],
      running: true,
      published,
      config: options.config,
    };
    this.peers.push(peer);
    this.#record(peer);
    await this.#ready(transport);
    return peer;
  }

  async #client(store: Store, transport: Transport, config?: ClientConfig): Promise<Client> {
    const client = await createClient({ transport, store, config: { ...this.config, ...config } });
    this.#onClient?.(client);
    return client;
  }

  #record(peer: Peer): void {
    for (const name of recordedEventNames) this.#recordEvent(peer, name);
  }

  #recordEvent<K extends keyof ClientEvents>(peer: Peer, name: K): void {
    peer.client.on(name, (payload: ClientEvents[K]) => {
      // [K, ClientEvents[K]] is one member of the Recorded union; TypeScript cannot correlate a
      // generic key with a mapped union, so the entry is built through the union's own shape.
      const entry = [name, payload] as Recorded[number];
      peer.events.push(entry);
      this.#wake();
    });
  }

  #wake(): void {
    for (const wake of [...this.#wakeups]) wake();
  }

  /** Resolves when `transport` can publish and receive on every shard (Waku) or at once (memory). */
  async #ready(transport: Transport): Promise<void> {
    if (this.kind === "memory") return;
    await this.until(() => transport.status === "online", "the transport to be online");
    const relay = (transport as WakuTransport & { relay?: WakuRelay }).relay;
    // Forwarding needs the service node in our mesh on every shard, not only a connection.
    await relay?.waitForPeers({ minPeers: 1, timeoutMs: this.timeoutMs });
  }

  /**
   * Waits until `condition()` holds, re-checking it on every client event and every 20 ms (a
   * condition on the store node, which emits no event, may be async: it is read again each time).
   * @throws Error naming `what` after `timeoutMs` (a safety net: nothing else decides by time)
   */
  async until(
    condition: () => boolean | Promise<boolean>,
    what: string,
    timeoutMs = this.timeoutMs,
  ): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!(await condition())) {
      const remaining = deadline - performance.now();
      if (remaining <= 0 || this.#closed) {
        throw new Error(`${this.kind} world: timed out after ${timeoutMs} ms waiting for ${what}`);
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#wakeups.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(20, remaining));
        this.#wakeups.add(done);
      });
    }
  }

  /**
   * Waits until history (the store node on Waku) holds everything the world's peers' transports
   * acknowledged publishing on `topic`: the service node ingests what it relays asynchronously.
   */
  async stored(topic: string): Promise<void> {
    await this.idle();
    const reader = this.peers.find((p) => p.running);
    if (reader === undefined) throw new Error("no running peer to read history with");
    const wanted = new Set(this.peers.flatMap((p) => [...(p.published.get(topic) ?? [])]));
    await this.until(async () => {
      const held = new Set((await historyOf(reader.transport, topic)).map(payloadHash));
      return [...wanted].every((hash) => held.has(hash));
    }, `history to hold the ${wanted.size} message(s) published on ${topic}`);
  }

  /** Waits until every running client has finished the work it has queued. */
  async idle(): Promise<void> {
    if (this.network) await this.network.idle();
    await Promise.all(this.peers.filter((p) => p.running).map((p) => p.client.idle()));
  }

  /** Takes a peer offline: its client closes and its transport stops (it misses everything live). */
  async stop(peer: Peer): Promise<void> {
    peer.running = false;
    await peer.client.close();
    await peer.transport.stop();
    if (peer.openStore) await peer.store.close();
  }

  /** Brings a stopped peer back: a new client on the same store and transport (a restart). */
  async resume(peer: Peer): Promise<void> {
    if (peer.openStore) peer.store = await peer.openStore();
    peer.client = await this.#client(peer.store, peer.transport, peer.config);
    peer.running = true;
    this.#record(peer);
    await this.#ready(peer.transport);
  }

  /** Stops every client and transport, then the network or service node. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake();
    for (const peer of this.peers) {
      if (!peer.running) continue;
      await peer.client.close().catch(() => undefined);
      await peer.transport.stop().catch(() => undefined);
      if (peer.openStore) await peer.store.close().catch(() => undefined);
    }
    await this.network?.stop();
    await this.serviceNode?.stop();
  }
}

/** The names of the recorded events, optionally only those of the given kinds. */
export function names(events: Recorded, only?: ReadonlyArray<keyof ClientEvents>): string[] {
  return events.map(([name]) => name).filter((name) => only === undefined || only.includes(name));
}

/** Texts of the `message:received` events from others, in arrival order. */
export function received(peer: Peer, organizationId?: string): string[] {
  return peer.events
    .filter(
      (e): e is ["message:received", ClientEvents["message:received"]] =>
        e[0] === "message:received" &&
        !e[1].message.own &&
        (organizationId === undefined || e[1].message.organizationId === organizationId),
    )
    .map(([, e]) => e.message.text);
}

/** Whether `peer` emitted an event called `name` (and matching `accept`, if given). */
export function emitted<K extends keyof ClientEvents>(
  peer: Peer,
  name: K,
  accept: (payload: ClientEvents[K]) => boolean = () => true,
): boolean {
  return peer.events.some(([n, payload]) => n === name && accept(payload as ClientEvents[K]));
}

/**
 * The organization as `peer` sees it, or undefined when it does not know it (yet). Only "unknown
 * organization" means that: any other error is thrown.
 */
export function viewOf(
  peer: Pick<Peer, "client">,
  organizationId: string,
): OrganizationView | undefined {
  try {
    return peer.client.getOrganization(organizationId);
  } catch (error) {
    if (isUnknownOrganizationError(error)) return undefined;
    throw error;
  }
}

/**
 * Discovers an organization from its public key, once. On Waku the owner's description may still
 * be on its way into the store node: it first waits until history holds every description page
 * the peers published (see {@link World.stored}), so a failure is a failure.
 */
export async function discover(
  world: World,
  peer: Peer,
  organizationId: string,
): Promise<OrganizationView> {
  await world.stored(descriptionTopic(Buffer.from(organizationId, "hex")));
  return await peer.client.discover(organizationId);
}

/** Hex SHA-256 of a payload: how history and publishes are matched. */
export function payloadHash(payload: Uint8Array): string {
  return createHash("sha256").update(payload).digest("hex");
}

/** Every payload history holds on a topic, oldest first. */
export async function historyOf(transport: Transport, topic: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  let cursor: string | undefined;
  do {
    const page = await transport.queryHistory({
      contentTopics: [topic],
      direction: "forward",
      pageSize: 100,
      ...(cursor === undefined ? {} : { cursor }),
    });
    out.push(...page.messages.map((m) => m.payload));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return out;
}

/** `transport` with `record(topic, payload)` called for every publish it acknowledged. */
function recordPublishes(
  transport: Transport,
  record: (topic: string, payload: Uint8Array) => void,
): Transport {
  return new Proxy(transport, {
    get(target, property) {
      if (property === "publish") {
        return async (topic: string, payload: Uint8Array) => {
          const result = await target.publish(topic, payload);
          record(topic, payload);
          return result;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * Waits until every running member of the organization agrees with the owner: same members, same
 * banned list, and (encrypted organizations) the owner's epoch.
 */
export async function synced(
  world: World,
  owner: Peer,
  organizationId: string,
  members: readonly Peer[],
): Promise<void> {
  const key = (view: OrganizationView | undefined) =>
    view === undefined
      ? "unknown"
      : JSON.stringify([
          [...view.members.keys()].sort(),
          [...view.banned].sort(),
          view.encrypted ? String(view.epoch) : "",
        ]);
  await world.until(
    () => {
      const want = key(viewOf(owner, organizationId));
      return members.filter((m) => m.running).every((m) => key(viewOf(m, organizationId)) === want);
    },
    `${members.map((m) => m.name).join(", ")} to agree with the owner`,
  );
}

/** Sends a request to join as `peer` and waits until the owner holds it. @returns the request id */
export async function request(
  world: World,
  owner: Peer,
  peer: Peer,
  organizationId: string,
  displayName = peer.name,
): Promise<string> {
  const requestId = await peer.client.requestToJoin(organizationId, { displayName });
  await world.until(
    () => owner.client.listRequests(organizationId).some((r) => r.id === requestId),
    `the owner to receive ${peer.name}'s request`,
  );
  return requestId;
}

/**
 * The owner creates an organization (encrypted by default) with a "general" channel; each named
 * peer discovers it, asks to join, is accepted (or auto-accepted), and everyone agrees.
 */
export async function orgWithMembers(
  world: World,
  memberNames: readonly string[],
  init: {
    readonly encrypted?: boolean;
    readonly access?: "on-request" | "no-membership" | "invitation-only";
    /** Persistent stores by member name (others get a memory store). */
    readonly stores?: Readonly<Record<string, () => Promise<Store>>>;
  } = {},
): Promise<{ owner: Peer; members: Peer[]; orgId: string }> {
  const access = init.access ?? "on-request";
  const owner = await world.peer("owner");
  const orgId = await owner.client.createOrganization({
    name: "Acme",
    access,
    encrypted: init.encrypted ?? true,
  });
  await owner.client.createChannel(orgId, { id: "general", name: "General" });
  const members: Peer[] = [];
  for (const name of memberNames) {
    const openStore = init.stores?.[name];
    const peer = await world.peer(name, openStore ? { openStore } : {});
    await discover(world, peer, orgId);
    if (access === "on-request") {
      const requestId = await request(world, owner, peer, orgId);
      await owner.client.acceptRequest(orgId, requestId);
    } else {
      await peer.client.requestToJoin(orgId, { displayName: name });
    }
    await world.until(() => viewOf(peer, orgId)?.role === "member", `${name} to become a member`);
    members.push(peer);
    await synced(world, owner, orgId, members);
  }
  return { owner, members, orgId };
}
