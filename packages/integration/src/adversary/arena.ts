/**
 * The arena: a deterministic world for attacks. One memory network and one virtual clock
 * (`virtualClock` of `@orgchat/transport`) shared by the network's timestamps and every client's
 * `now` and timers, so that "8 days later" or "after every back-off" is a call, not a wait. Each
 * victim gets a {@link MeasuredStore}, a {@link CountingTransport} and a {@link CountingProvider},
 * so that an attack's cost is read as bytes persisted, messages published, history queries and
 * provider calls: counts and sizes, never durations.
 *
 * Hostile peers ({@link Hostile}) join the same network with keys of their own.
 */
import {
  type Client,
  type ClientConfig,
  type ClientEvents,
  createClient,
  type OrganizationView,
} from "@orgchat/client";
import { defaultProvider, type MemberGroup, type PairwiseSession } from "@orgchat/crypto";
import { memoryStore } from "@orgchat/store";
import {
  type MemoryNetwork,
  type MemoryTransport,
  memoryNetwork,
  type VirtualClock,
  virtualClock,
} from "@orgchat/transport";
import { type Recorded, recordedEventNames, viewOf } from "../world.js";
import { Hostile, type HostileInit } from "./hostile.js";
import { keptGroups, keptIdentity, keptOwnerSession } from "./kept-state.js";
import {
  type CountingProvider,
  type CountingTransport,
  countingProvider,
  countingTransport,
  type MeasuredStore,
  measuredStore,
} from "./measure.js";
import { seededBytes, seededProvider } from "./random.js";

/** Every event a client emits, in order, with its payload (`diagnostic` included). */
export type ArenaRecorded = Recorded;

const eventNames: ReadonlyArray<keyof ClientEvents> = [...recordedEventNames, "diagnostic"];

/** One honest client of the arena, with everything measured. */
export interface ArenaPeer {
  readonly name: string;
  client: Client;
  readonly store: MeasuredStore;
  readonly transport: CountingTransport;
  /** The memory transport under {@link ArenaPeer.transport} (what `network.partition` names). */
  readonly memory: MemoryTransport;
  readonly provider: CountingProvider;
  readonly events: ArenaRecorded;
}

/** What {@link Arena.turn} returns. */
export interface Turned {
  readonly hostile: Hostile;
  /** The member's group states by channel id (`""` the organization's group), as kept. */
  readonly groups: ReadonlyMap<string, MemberGroup>;
  /** The member's pairwise session with the owner, as kept (undefined when it held none). */
  readonly session: PairwiseSession | undefined;
  /** One kept group state. @throws Error when the member held none for `channelId` */
  group(channelId?: string): MemberGroup;
}

/** Client defaults in the arena: re-key inside the operation, no periodic republish, cheap scrypt. */
export const arenaClientConfig: ClientConfig = {
  rekeyWindowMs: 0,
  addWindowMs: 0,
  republishIntervalMs: 0,
  scryptN: 16,
};

/** Options of {@link Arena}. */
export interface ArenaInit {
  /** Seeds the network's fault model and every client's random bytes. @default 1 */
  readonly seed?: number;
  /** Client tunables over {@link arenaClientConfig}. */
  readonly config?: ClientConfig;
  /** Start of virtual time, ms since the Unix epoch. @default 1_700_000_000_000 */
  readonly start?: number;
}

/** A memory network, one virtual clock, honest peers and hostile ones. Close it in `afterEach`. */
export class Arena {
  readonly clock: VirtualClock;
  readonly network: MemoryNetwork;
  readonly peers: ArenaPeer[] = [];
  readonly hostiles: Hostile[] = [];
  readonly config: ClientConfig;
  readonly seed: number;
  #nextSeed = 0;

  constructor(init: ArenaInit = {}) {
    this.seed = init.seed ?? 1;
    this.clock = virtualClock({ start: init.start ?? 1_700_000_000_000 });
    this.network = memoryNetwork({ seed: this.seed }, { now: this.clock.now });
    this.config = { ...arenaClientConfig, ...init.config };
  }

  /** Deterministic random bytes for the next consumer (a client, a hostile peer). */
  random(): (length: number) => Uint8Array {
    return seededBytes(`${this.seed}/${this.#nextSeed++}`);
  }

  /** Makes an honest client on a new measured store, counting transport and counting provider. */
  async peer(name: string, options: { readonly config?: ClientConfig } = {}): Promise<ArenaPeer> {
    const store = measuredStore(memoryStore());
    const memory = this.network.transport({ name });
    const transport = countingTransport(memory);
    // Seeded: every key and random byte the client draws is the same from run to run.
    const provider = countingProvider(seededProvider(defaultProvider(), this.random()));
    const peer: ArenaPeer = {
      name,
      client: undefined as unknown as Client,
      store,
      transport,
      memory,
      provider,
      events: [],
    };
    peer.client = await this.#client(peer, options.config);
    this.peers.push(peer);
    await this.settle();
    return peer;
  }

  async #client(peer: ArenaPeer, config?: ClientConfig): Promise<Client> {
    const client = await createClient({
      transport: peer.transport,
      store: peer.store,
      provider: peer.provider,
      random: this.random(),
      now: this.clock.now,
      timers: {
        setTimeout: (task, delayMs) => this.clock.schedule(task, delayMs),
        clearTimeout: (handle) => (handle as () => void)(),
      },
      config: { ...this.config, ...config },
    });
    for (const name of eventNames) record(peer, client, name);
    return client;
  }

  /**
   * A hostile peer on this network (its transport reads history like any peer's), with keys of
   * its own or `identity` (a member's, from {@link keptIdentity}); `now` is its own wall clock
   * (e.g. ten years ahead), the arena's by default.
   */
  async hostile(
    name: string,
    init: Pick<HostileInit, "identity"> & { readonly now?: () => number } = {},
  ): Promise<Hostile> {
    const hostile = new Hostile({
      name,
      transport: this.network.transport({ name }),
      random: this.random(),
      now: init.now ?? this.clock.now,
      ...(init.identity === undefined ? {} : { identity: init.identity }),
    });
    await hostile.transport.start();
    this.hostiles.push(hostile);
    return hostile;
  }

  /**
   * A member turned attacker: a hostile peer with the member's identity, and copies of the group
   * states its client stored for `orgId` (`keptGroups`), as the member keeps them on its disk.
   */
  async turn(member: ArenaPeer, orgId: string): Promise<Turned> {
    const hostile = await this.hostile(`${member.name} (hostile)`, {
      identity: await keptIdentity(member.store),
    });
    const groups = await keptGroups(member.store, orgId);
    const session = await keptOwnerSession(member.store, orgId);
    return {
      hostile,
      groups,
      session,
      group: (channelId = "") => {
        const group = groups.get(channelId);
        if (group === undefined) {
          throw new Error(`arena: ${member.name} holds no group for channel "${channelId}"`);
        }
        return group;
      },
    };
  }

  /** Restarts a peer: its client closes and a new one opens on the same store (a process restart). */
  async restart(peer: ArenaPeer): Promise<void> {
    await this.settle();
    await peer.client.close();
    peer.client = await this.#client(peer);
    await this.settle();
  }

  /** Runs everything to rest: deliveries, every client's queued work, and what they started. */
  async settle(): Promise<void> {
    let before = -1;
    for (let round = 0; round < 1_000; round++) {
      await this.network.idle();
      await Promise.all(this.peers.map((p) => p.client.idle()));
      await new Promise((resolve) => setImmediate(resolve));
      const activity = this.#activity();
      if (activity === before) return;
      before = activity;
    }
    throw new Error("arena: the peers do not come to rest");
  }

  /** Everything the peers did so far, as one number: it stops changing when they are at rest. */
  #activity(): number {
    let sum = 0;
    for (const peer of this.peers) {
      sum += peer.events.length;
      for (const count of peer.transport.counts.published.values()) sum += count;
      for (const count of peer.transport.counts.historyQueries.values()) sum += count;
    }
    return sum;
  }

  /**
   * Moves virtual time forward in steps of at most `stepMs` (the timers that fall due run:
   * sweeps, resync retries, expiries), at rest after each.
   */
  async advance(ms: number, stepMs = ms): Promise<void> {
    for (let passed = 0; passed < ms; passed += stepMs) {
      this.clock.advance(Math.min(stepMs, ms - passed));
      await this.settle();
    }
  }

  /** Closes every client and hostile transport, then the network. */
  async close(): Promise<void> {
    for (const peer of this.peers) await peer.client.close().catch(() => undefined);
    for (const hostile of this.hostiles) await hostile.transport.stop().catch(() => undefined);
    await this.network.stop();
  }
}

function record<K extends keyof ClientEvents>(peer: ArenaPeer, client: Client, name: K): void {
  client.on(name, (payload: ClientEvents[K]) => {
    peer.events.push([name, payload] as ArenaRecorded[number]);
  });
}

/** The payloads of `peer`'s recorded events called `name`. */
export function eventsOf<K extends keyof ClientEvents>(
  peer: ArenaPeer,
  name: K,
): Array<ClientEvents[K]> {
  return peer.events.filter(([n]) => n === name).map(([, payload]) => payload as ClientEvents[K]);
}

/**
 * The organization as `peer` sees it, or undefined when it does not know it (`viewOf` of the
 * world: only "unknown organization" means that).
 */
export const arenaView: (peer: ArenaPeer, organizationId: string) => OrganizationView | undefined =
  viewOf;

/**
 * The owner creates an organization with a "general" channel; each named peer discovers it, asks to
 * join and is accepted. @returns the owner, the members and the organization id
 */
export async function arenaOrg(
  arena: Arena,
  memberNames: readonly string[],
  init: { readonly encrypted?: boolean } = {},
): Promise<{ owner: ArenaPeer; members: ArenaPeer[]; orgId: string }> {
  const owner = await arena.peer("owner");
  const orgId = await owner.client.createOrganization({
    name: "Acme",
    access: "on-request",
    encrypted: init.encrypted ?? true,
  });
  await owner.client.createChannel(orgId, { id: "general", name: "General" });
  await arena.settle();
  const members: ArenaPeer[] = [];
  for (const name of memberNames) members.push(await arenaJoin(arena, owner, orgId, name));
  return { owner, members, orgId };
}

/**
 * A new peer discovers the organization, asks to join and is accepted by `owner`; resolves once it
 * holds the owner's epoch. @throws Error when it does not become a member within 10 virtual minutes
 */
export async function arenaJoin(
  arena: Arena,
  owner: ArenaPeer,
  orgId: string,
  name: string,
): Promise<ArenaPeer> {
  const peer = await arena.peer(name);
  await peer.client.discover(orgId);
  const requestId = await peer.client.requestToJoin(orgId, { displayName: name });
  await arena.settle();
  await owner.client.acceptRequest(orgId, requestId);
  await arena.settle();
  // A Welcome that overtook its roster waits for the next sweep: let virtual time pass (in
  // sweep-sized steps) until the member holds the owner's epoch.
  const joined = () => {
    const view = arenaView(peer, orgId);
    return view?.role === "member" && view.epoch === arenaView(owner, orgId)?.epoch;
  };
  for (let step = 0; step < 120 && !joined(); step++) await arena.advance(5_000);
  if (!joined()) throw new Error(`arena: ${name} did not become a member`);
  return peer;
}
