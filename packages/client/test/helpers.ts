import { sha256 } from "@noble/hashes/sha2.js";
import { fromHex } from "@orgchat/base";
import { type CryptoProvider, defaultProvider } from "@orgchat/crypto";
import { memoryStore, type Store } from "@orgchat/store";
import { type MemoryNetwork, type MemoryTransport, memoryNetwork } from "@orgchat/transport";
import { keysTopic } from "@orgchat/wire";
import {
  type Client,
  type ClientConfig,
  type ClientEvents,
  type ClientTimers,
  clientEventNames,
  createClient,
} from "../src/index.js";

/** An injected clock with timers that run only when the test advances time. */
export class FakeTime {
  #now: number;
  #tasks: Array<{ at: number; task: () => void; id: number }> = [];
  #next = 0;
  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }
  now = (): number => this.#now;
  timers: ClientTimers = {
    setTimeout: (task, delayMs) => {
      const id = this.#next++;
      this.#tasks.push({ at: this.#now + Math.max(0, delayMs), task, id });
      return id;
    },
    clearTimeout: (handle) => {
      this.#tasks = this.#tasks.filter((t) => t.id !== handle);
    },
  };
  /** Moves time forward and runs the timers that fall due, in order. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const due = this.#tasks
        .filter((t) => t.at <= until)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.#tasks = this.#tasks.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.task();
    }
    this.#now = until;
  }
}

/** Deterministic bytes: SHA-256 in counter mode over a seed. */
export function seededRandom(seed: number): (length: number) => Uint8Array {
  let counter = 0;
  return (length) => {
    const out = new Uint8Array(length);
    for (let offset = 0; offset < length; offset += 32) {
      const block = sha256(new TextEncoder().encode(`${seed}/${counter++}`));
      out.set(block.subarray(0, Math.min(32, length - offset)), offset);
    }
    return out;
  };
}

/**
 * The default provider with its randomness drawn from `random`: random bytes, and the secret key of
 * every new key pair (identity, prekeys, ephemeral keys). A test world's keys, and so its message
 * ids and the order of messages stamped at the same time, are then the same on every run.
 */
export function seededProvider(random: (length: number) => Uint8Array): CryptoProvider {
  const base = defaultProvider();
  // Inherits from the shared provider (not a copy): a test that spies on one of its methods sees
  // every client's calls.
  const seeded: Partial<CryptoProvider> = {
    randomBytes: (length) => random(length),
    x25519KeyPair: () => {
      const secretKey = random(32);
      return { secretKey, publicKey: base.x25519PublicKey(secretKey) };
    },
    ed25519KeyPair: () => {
      const secretKey = random(32);
      return { secretKey, publicKey: base.ed25519PublicKey(secretKey) };
    },
  };
  return Object.assign(Object.create(base) as CryptoProvider, seeded);
}

export type Recorded = Array<
  { [K in keyof ClientEvents]: [K, ClientEvents[K]] }[keyof ClientEvents]
>;

/** Every client event but `diagnostic` (recorded apart where a test wants it). */
const eventNames = clientEventNames.filter((name) => name !== "diagnostic");

export interface Peer {
  readonly name: string;
  client: Client;
  readonly store: Store;
  transport: MemoryTransport;
  readonly events: Recorded;
}

/** A memory network, an injected clock, and clients on it; `settle()` runs everything to rest. */
export class World {
  readonly time = new FakeTime();
  readonly network: MemoryNetwork;
  readonly peers: Peer[] = [];
  /** Each peer's own config (`peer(…, { config })`), kept for its restarts. */
  readonly #peerConfig = new WeakMap<Peer, ClientConfig>();
  #seed = 1;
  readonly config: ClientConfig;

  constructor(config: ClientConfig = {}, networkSeed = 1) {
    this.network = memoryNetwork({ seed: networkSeed }, { now: this.time.now });
    this.config = {
      rekeyWindowMs: 0,
      addWindowMs: 0,
      republishIntervalMs: 0,
      scryptN: 16,
      ...config,
    };
  }

  async peer(
    name: string,
    options: { store?: Store; history?: boolean; passphrase?: string; config?: ClientConfig } = {},
  ): Promise<Peer> {
    const store = options.store ?? memoryStore();
    const transport = this.network.transport({ name, history: options.history ?? true });
    const client = await this.#client(store, transport, options);
    const peer: Peer = { name, client, store, transport, events: [] };
    if (options.config !== undefined) this.#peerConfig.set(peer, options.config);
    this.#record(peer);
    this.peers.push(peer);
    await this.settle();
    return peer;
  }

  async #client(
    store: Store,
    transport: MemoryTransport,
    options: { passphrase?: string; config?: ClientConfig },
  ): Promise<Client> {
    return createClient({
      transport,
      store,
      now: this.time.now,
      timers: this.time.timers,
      ...this.#randomness(),
      config: { ...this.config, ...options.config },
      ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
    });
  }

  /** A restart's options: the peer's own config (if it had one) and the passphrase given now. */
  #optionsOf(
    peer: Peer,
    options: { passphrase?: string },
  ): { passphrase?: string; config?: ClientConfig } {
    const config = this.#peerConfig.get(peer);
    return config === undefined ? options : { ...options, config };
  }

  /** A client's randomness: one seeded stream for its own needs and its provider's keys. */
  #randomness(): { random: (length: number) => Uint8Array; provider: CryptoProvider } {
    const random = seededRandom(this.#seed++);
    return { random, provider: seededProvider(random) };
  }

  #record(peer: Peer): void {
    for (const name of eventNames) {
      peer.client.on(name, (payload) => {
        peer.events.push([name, payload] as never);
      });
    }
  }

  /** Closes a peer's client and makes a new one on the same store (a restart). */
  async restart(peer: Peer, options: { passphrase?: string } = {}): Promise<void> {
    await peer.client.close();
    peer.client = await this.#client(peer.store, peer.transport, this.#optionsOf(peer, options));
    this.#record(peer);
    await this.settle();
  }

  /** Closes a peer's client (it misses everything live until {@link World.resume}). */
  async stop(peer: Peer): Promise<void> {
    await peer.client.close();
  }

  /** Re-creates a stopped peer's client on its store. */
  async resume(peer: Peer, options: { passphrase?: string } = {}): Promise<void> {
    peer.client = await this.#client(peer.store, peer.transport, this.#optionsOf(peer, options));
    this.#record(peer);
    await this.settle();
  }

  /** Runs deliveries and client work until nothing moves. */
  async settle(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      await this.network.idle();
      await Promise.all(this.peers.map((p) => p.client.idle()));
      await new Promise((resolve) => setImmediate(resolve));
      if (this.network.deliveriesInFlight === 0) {
        await Promise.all(this.peers.map((p) => p.client.idle()));
        if (this.network.deliveriesInFlight === 0) return;
      }
    }
  }

  /** Advances the clock (running due timers) and settles. */
  async advance(ms: number): Promise<void> {
    this.time.advance(ms);
    await this.settle();
  }

  async close(): Promise<void> {
    for (const peer of this.peers) await peer.client.close();
    await this.network.stop();
  }
}

/** The names of the recorded events, optionally only those of the given kinds. */
export function names(events: Recorded, only?: ReadonlyArray<keyof ClientEvents>): string[] {
  return events.map(([name]) => name).filter((name) => only === undefined || only.includes(name));
}

/** Texts of the `message:received` events from others. */
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

/**
 * An owner's encrypted, on-request organization with a "general" channel, and alice, on `aliceStore`,
 * admitted by request (the crash and store-write tests watch alice's store).
 */
export async function encryptedOrg(world: World, aliceStore: Store) {
  const owner = await world.peer("owner");
  const orgId = await owner.client.createOrganization({
    name: "Acme",
    access: "on-request",
    encrypted: true,
  });
  await owner.client.createChannel(orgId, { id: "general", name: "General" });
  await world.settle();
  const alice = await world.peer("alice", { store: aliceStore });
  await alice.client.discover(orgId);
  const requestId = await alice.client.requestToJoin(orgId, { displayName: "alice" });
  await world.settle();
  await owner.client.acceptRequest(orgId, requestId);
  await world.settle();
  return { owner, alice, orgId };
}

/** Owner creates an encrypted (by default) org with a "general" channel; a member joins by request. */
export async function orgWithMembers(
  world: World,
  memberNames: readonly string[],
  init: { encrypted?: boolean; access?: "on-request" | "no-membership" | "invitation-only" } = {},
): Promise<{ owner: Peer; members: Peer[]; orgId: string }> {
  const owner = await world.peer("owner");
  const orgId = await owner.client.createOrganization({
    name: "Acme",
    access: init.access ?? "on-request",
    encrypted: init.encrypted ?? true,
  });
  await owner.client.createChannel(orgId, { id: "general", name: "General" });
  await world.settle();
  const members: Peer[] = [];
  for (const name of memberNames) {
    const peer = await world.peer(name);
    await peer.client.discover(orgId);
    const requestId = await peer.client.requestToJoin(orgId, { displayName: name });
    await world.settle();
    if ((init.access ?? "on-request") === "on-request") {
      await owner.client.acceptRequest(orgId, requestId);
      await world.settle();
    }
    members.push(peer);
  }
  return { owner, members, orgId };
}

/**
 * Makes the owner publish a full description that peers without history hear live. An owner
 * operation publishes a description delta, which only a peer holding its base can apply; a client
 * publishes a full description first after it starts (docs/PROTOCOL.md, "Description deltas"). So:
 * restart the owner, then one operation (tags set to `tag`).
 */
export async function publishFullDescription(
  world: World,
  owner: Peer,
  orgId: string,
  tag: string,
): Promise<void> {
  await world.restart(owner);
  await owner.client.setTags(orgId, [tag]);
  await world.settle();
}

/** A new peer discovers the organization and asks to join; everything settles. */
export async function asks(w: World, orgId: string, name: string) {
  const peer = await w.peer(name);
  await peer.client.discover(orgId);
  const requestId = await peer.client.requestToJoin(orgId, { displayName: name });
  await w.settle();
  return { bob: peer, requestId };
}

/**
 * An organization whose owner made the first of `memberNames` an admin (or gave it `roles`) and
 * then stopped (its client closed and out of `world.peers`: a delegate acts with the owner offline).
 */
export async function adminWithOwnerAway(
  world: World,
  memberNames: readonly string[],
  roles: ["all"] | ["manage-users"] = ["all"],
) {
  const { owner, members, orgId } = await orgWithMembers(world, memberNames);
  const admin = members[0] as Peer;
  await owner.client.setRoles(orgId, admin.client.memberId, roles);
  await world.settle();
  await world.stop(owner);
  world.peers.splice(world.peers.indexOf(owner), 1);
  return { owner, members, orgId };
}

/**
 * Holds what `peer` publishes on the organization's keys topic (its commits' rosters and chunks)
 * from now on: each goes to a topic nobody reads instead. `release` stops holding and publishes
 * the held ones where they were going.
 */
export function holdKeysTopic(peer: Peer, orgId: string) {
  const topic = keysTopic(fromHex(orgId));
  const transport = peer.transport;
  const publish = transport.publish.bind(transport);
  const held: Uint8Array[] = [];
  transport.publish = async (contentTopic, payload, options) => {
    if (contentTopic !== topic) return publish(contentTopic, payload, options);
    held.push(payload);
    return publish(`/held/1/${held.length}/proto`, payload, options);
  };
  return {
    held,
    /** Stops holding; publishes the held messages (when `send`). */
    async release(send = true): Promise<void> {
      transport.publish = publish;
      if (send) for (const payload of held) await publish(topic, payload);
    },
  };
}
