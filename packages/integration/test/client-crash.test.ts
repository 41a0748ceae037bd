/**
 * Crash safety of `@orgchat/client` (issue #7, "Persistence"): a real child process runs a client
 * on the SQLite store (`openSqliteStore` of `@orgchat/store-sqlite`, the embedded default) in a
 * temporary directory (test/fixtures/crash-child.ts) and is SIGKILLed at seeded points
 * during sends, re-keys and joins, then started again on the same directory. The parent hosts the
 * network (a memory network that outlives every child) and the other peers; the child reaches it
 * through JSON lines on its stdin and stdout (test/fixtures/crash-link.ts), so the parent sees each
 * publish before it happens and can kill the child just before it, or just after it reached the
 * network but before the child heard so.
 *
 * At the end, with the child alive again and everything settled:
 * - nothing lost: every message the child acknowledged as sent (its `sendMessage` resolved) reached
 *   every peer entitled to it; every message it acknowledged as received (`message:received`) is
 *   still in its history; every message the peers sent to it is in its history; its outbox is
 *   empty;
 * - nothing duplicated: no peer, and not the child over all its lives, heard a message twice;
 * - nothing undecryptable, nothing left waiting for a key, every member on the owner's epoch;
 * - no generation reused: an observer decrypts every ciphertext ever published with the group
 *   state it had when it entered the ciphertext's epoch; a second ciphertext with a (sender,
 *   generation) already used would be refused as a duplicate.
 *
 * Time is one virtual clock, the parent's: the network stamps messages with it, the in-process
 * peers read it, and the child follows it (a `clock` line). Timers (history sweeps, resync
 * retries) run only when the test moves it: after every step, once the world is at rest, the
 * clock moves by {@link recoveryStepMs}, and before the checks it moves past every back-off
 * recovery may be waiting on ({@link recoveryWindowMs}), so recovery always had the chance to run
 * before anything is checked, whether the machine is quiet or busy.
 *
 * Two scenarios: the child is the owner (it creates the organization, sends, accepts four joins,
 * removes one member and bans another: two re-keys), and the child is a member (it joins, sends,
 * and receives across two re-keys and an add). The kill points come from a fixed seed; the exact
 * instant of a timed kill cannot be made deterministic, but every check holds at every instant, so
 * the test cannot flake. CI: at least 4 kills per scenario (plus one aimed at each join and re-key);
 * `ORGCHAT_CRASH_RUNS=40` for a long run (kills per scenario, about 90 s),
 * `ORGCHAT_CRASH_DEBUG=1` to print where the kills landed.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type Client, createClient } from "@orgchat/client";
import { storedGroups } from "@orgchat/client/inspect";
import {
  isDuplicateMessageError,
  isUnknownEpochError,
  type MemberGroup,
  type Roster,
} from "@orgchat/crypto";
import { memoryStore, type Store } from "@orgchat/store";
import { openSqliteStore } from "@orgchat/store-sqlite";
import {
  type MemoryNetwork,
  type MemoryTransport,
  memoryNetwork,
  type Subscription,
  type TransportMessage,
  type VirtualClock,
  virtualClock,
} from "@orgchat/transport";
import {
  channelTopic,
  decodeGroupMessage,
  descriptionTopic,
  inboxTopic,
  keysTopic,
  requestsTopic,
} from "@orgchat/wire";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type ChildLine,
  fromBase64,
  type LinkCall,
  type ParentLine,
  toWire,
} from "./fixtures/crash-link.js";

const killsPerScenario = Number(process.env.ORGCHAT_CRASH_RUNS ?? 4);

/**
 * Virtual time that passes after every step once the world is at rest: the first history sweeps
 * (`syncIntervalMs`, 5 s) and resync retries (`resyncInitialBackoffMs`, 5 s, plus up to 25 %
 * jitter) fall due within it.
 */
const recoveryStepMs = 30_000;

/** The steps of {@link recoveryWindowMs}. */
const recoveryWindowStepMs = 60_000;

/**
 * Virtual time that passes, in {@link recoveryWindowStepMs} steps, before the checks: longer than the
 * longest sweep interval (`syncMaxIntervalMs`, 10 min) and the longest resync back-off (10 min
 * plus 25 % jitter), so every recovery timer armed by then has run, and what it started has
 * finished, before anything is checked.
 */
const recoveryWindowMs = 13 * 60_000;

/** mulberry32: the kill points come from a fixed seed, so every run of the suite aims the same way. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const sha256 = (bytes: Uint8Array): Uint8Array => createHash("sha256").update(bytes).digest();
const packageDirectory = fileURLToPath(new URL("..", import.meta.url));

/** Starts the child with the Node running the tests, from source, like the repo runs tsx. */
function spawnChild(directory: string, now: number): ChildProcessWithoutNullStreams {
  return spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--conditions=@orgchat/source",
      // node:sqlite prints one ExperimentalWarning per process; it says nothing about the test.
      "--disable-warning=ExperimentalWarning",
      fileURLToPath(new URL("./fixtures/crash-child.ts", import.meta.url)),
      directory,
      String(now),
    ],
    { cwd: packageDirectory, stdio: ["pipe", "pipe", "pipe"] },
  );
}

// -------------------------------------------------------------------------------------------------
// The child, seen from the parent
// -------------------------------------------------------------------------------------------------

/**
 * Where a kill lands: at the child's nth publish after the aim (before it reaches the network, or
 * after it did but before the child hears so), at its nth transport call of any kind (subscribe,
 * history: start-up and catch-up), right after its nth acknowledgement to the app, after a delay,
 * or right after the operation resolved.
 */
type KillPoint =
  | { readonly at: "publish-before" | "publish-after" | "call" | "event"; readonly nth: number }
  | { readonly at: "delay"; readonly ms: number }
  | { readonly at: "ack" };

class ChildKilledError extends Error {
  override readonly name = "ChildKilledError";
  constructor() {
    super("the child was killed before it answered");
  }
}

const isKilled = (error: unknown) => error instanceof Error && error.name === "ChildKilledError";

/** Who was in an epoch of a group. */
interface EpochRecord {
  readonly channelId: string;
  readonly epoch: number;
  readonly members: ReadonlySet<string>;
}

/** What the child acknowledged, over all its lives. */
interface ChildAcks {
  /** Ids its `sendMessage` resolved with. */
  readonly sent: string[];
  /** `message:received` per id. */
  readonly received: Map<string, number>;
  readonly waiting: Set<string>;
  readonly undecryptable: unknown[];
  readonly errors: string[];
  /** Rosters of the epochs it entered, by key id (hex). */
  readonly rosters: Map<string, EpochRecord>;
}

interface Dump {
  readonly role: string;
  readonly epoch: number | null;
  readonly members: string[];
  readonly history: Array<{ id: string; author: string }>;
  readonly pendingRequests: number;
}

type Answer = { readonly result?: unknown; readonly refused?: string };

/**
 * Runs the child process, one life after another, on its place on the network (a memory transport
 * that is stopped with each life, so nothing meant for a dead child reaches the next one).
 */
class ChildHost {
  readonly acks: ChildAcks = {
    sent: [],
    received: new Map(),
    waiting: new Set(),
    undecryptable: [],
    errors: [],
    rosters: new Map(),
  };
  memberId = "";
  orgs: ReadonlyArray<{ id: string; role: string }> = [];
  /** Lives started, kills that hit. */
  lives = 0;
  kills = 0;
  /** Lines exchanged (calls, deliveries, events): a settled world exchanges none. */
  traffic = 0;
  stderr = "";
  readonly #transport: MemoryTransport;
  readonly #clock: VirtualClock;
  /** The child's data directory. */
  readonly directory: string;
  #process: ChildProcessWithoutNullStreams | undefined;
  #exited: Promise<void> = Promise.resolve();
  #killing = false;
  #next = 0;
  readonly #commands = new Map<number, { resolve(a: Answer): void; reject(e: Error): void }>();
  readonly #subscriptions = new Map<number, Subscription>();
  #aim: { point: KillPoint; left: number } | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ready: { resolve(): void; reject(e: Error): void } | undefined;

  constructor(transport: MemoryTransport, directory: string, clock: VirtualClock) {
    this.#transport = transport;
    this.directory = directory;
    this.#clock = clock;
  }

  /** Moves the child's clock to the parent's (its timers that fall due run). */
  tick(): void {
    const child = this.#process;
    if (child !== undefined) this.#send(child, { t: "clock", now: this.#clock.now() });
  }

  get alive(): boolean {
    return this.#process !== undefined;
  }

  /** Aims the next kill (undefined: none). A delay starts now. */
  aim(point: KillPoint | undefined): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#aim = point === undefined ? undefined : { point, left: "nth" in point ? point.nth : 1 };
    if (point?.at === "delay") {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#aim?.point === point) void this.#strike();
      }, point.ms);
    }
  }

  /** Kills now if the aim says "after the operation resolved". */
  async afterOperation(): Promise<void> {
    if (this.#aim?.point.at === "ack") await this.#strike();
  }

  /** Where the kills that hit landed (for the report). */
  readonly struck: string[] = [];

  async #strike(): Promise<void> {
    const point = this.#aim?.point;
    this.#aim = undefined;
    if (!this.alive) return;
    this.kills++;
    this.struck.push(point === undefined ? "?" : point.at);
    await this.kill();
  }

  /** Starts a life and waits for the child's `ready` (a kill aimed at start-up may strike). */
  async start(): Promise<void> {
    await this.#transport.start();
    const child = spawnChild(this.directory, this.#clock.now());
    this.#process = child;
    this.lives++;
    this.#killing = false;
    child.stdin.on("error", () => undefined);
    child.stderr.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4_000);
    });
    const lines = createInterface({ input: child.stdout });
    const closed = new Promise<void>((resolve) => lines.on("close", resolve));
    lines.on("line", (text) => this.#onLine(child, JSON.parse(text) as ChildLine));
    const exit = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    this.#exited = Promise.all([exit, closed]).then(() => this.#onExit(child));
    await new Promise<void>((resolve, reject) => {
      this.#ready = { resolve, reject };
    });
  }

  /**
   * Starts lives until one gets to `ready`; nothing when the child is alive (one life at a time:
   * the SQLite store holds an exclusive lock on its file while it is open).
   */
  async restart(): Promise<void> {
    while (!this.alive) {
      try {
        await this.start();
        return;
      } catch (error) {
        if (!isKilled(error)) throw error;
      }
    }
  }

  /** SIGKILLs the current life and waits until it is gone and cleaned up. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (child === undefined) return;
    this.#killing = true;
    child.kill("SIGKILL");
    await this.#exited;
  }

  async #onExit(child: ChildProcessWithoutNullStreams): Promise<void> {
    if (this.#process !== child) return;
    this.#process = undefined;
    for (const subscription of this.#subscriptions.values()) await subscription.unsubscribe();
    this.#subscriptions.clear();
    await this.#transport.stop();
    const error = this.#killing
      ? new ChildKilledError()
      : new Error(`the child ended by itself (code ${child.exitCode}):\n${this.stderr}`);
    this.#ready?.reject(error);
    this.#ready = undefined;
    for (const command of this.#commands.values()) command.reject(error);
    this.#commands.clear();
  }

  /** Runs a command; rejects with `ChildKilledError` when the child dies first. */
  command(op: string, args: Record<string, string> = {}): Promise<Answer> {
    const child = this.#process;
    if (child === undefined) return Promise.reject(new ChildKilledError());
    const n = this.#next++;
    return new Promise((resolve, reject) => {
      this.#commands.set(n, { resolve, reject });
      this.#send(child, { t: "command", n, op, args });
    });
  }

  #send(child: ChildProcessWithoutNullStreams, line: ParentLine): void {
    if (this.#process === child) child.stdin.write(`${JSON.stringify(line)}\n`);
  }

  #onLine(child: ChildProcessWithoutNullStreams, line: ChildLine): void {
    if (this.#process !== child) return;
    switch (line.t) {
      case "call":
        this.traffic++;
        void this.#call(child, line);
        break;
      case "ready":
        this.memberId = line.memberId;
        this.orgs = line.orgs;
        this.#ready?.resolve();
        this.#ready = undefined;
        break;
      case "done": {
        const command = this.#commands.get(line.n);
        this.#commands.delete(line.n);
        command?.resolve({
          ...(line.result === undefined ? {} : { result: line.result }),
          ...(line.refused === undefined ? {} : { refused: line.refused }),
        });
        break;
      }
      case "event":
        this.traffic++;
        this.#record(line);
        if (this.#aim?.point.at === "event" && --this.#aim.left === 0) void this.#strike();
        break;
    }
  }

  #record(line: Extract<ChildLine, { t: "event" }>): void {
    const acks = this.acks;
    const id = String(line.id ?? line.pendingId ?? "");
    switch (line.name) {
      case "received":
        acks.received.set(id, (acks.received.get(id) ?? 0) + 1);
        break;
      case "waiting":
        acks.waiting.add(id);
        break;
      case "undecryptable":
        acks.undecryptable.push(line);
        break;
      case "error":
        acks.errors.push(`${line.error}: ${line.message}`);
        break;
      case "roster":
        acks.rosters.set(String(line.keyId), {
          channelId: String(line.channelId),
          epoch: Number(line.epoch),
          members: new Set(line.members as string[]),
        });
        break;
    }
  }

  async #call(
    child: ChildProcessWithoutNullStreams,
    line: { n: number } & LinkCall,
  ): Promise<void> {
    const aim = this.#aim;
    const publish = line.op === "publish";
    const aimed =
      aim !== undefined &&
      (aim.point.at === "call" ||
        (publish && (aim.point.at === "publish-before" || aim.point.at === "publish-after")));
    if (aimed && --aim.left === 0) {
      if (aim.point.at === "publish-after" && line.op === "publish") {
        await this.#transport.publish(line.topic, fromBase64(line.payload));
      }
      await this.#strike();
      return;
    }
    let answer: ParentLine;
    try {
      answer = { t: "answer", n: line.n, value: await this.#perform(child, line) };
    } catch (error) {
      answer = { t: "answer", n: line.n, error: String(error) };
    }
    this.#send(child, answer);
  }

  async #perform(child: ChildProcessWithoutNullStreams, line: { n: number } & LinkCall) {
    const transport = this.#transport;
    switch (line.op) {
      case "publish":
        return await transport.publish(line.topic, fromBase64(line.payload));
      case "subscribe": {
        const subscription = await transport.subscribe(line.topics, (message) => {
          this.traffic++;
          this.#send(child, { t: "message", subscription: line.n, message: toWire(message) });
        });
        // The life that asked may be gone meanwhile: nothing may leak into the next one.
        if (this.#process !== child) await subscription.unsubscribe();
        else this.#subscriptions.set(line.n, subscription);
        return {};
      }
      case "unsubscribe":
        await this.#subscriptions.get(line.subscription)?.unsubscribe();
        this.#subscriptions.delete(line.subscription);
        return {};
      case "history": {
        const page = await transport.queryHistory(line.query);
        return {
          messages: page.messages.map(toWire),
          ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
        };
      }
    }
  }
}

// -------------------------------------------------------------------------------------------------
// The world: the network, the child, and in-process peers
// -------------------------------------------------------------------------------------------------

interface Peer {
  readonly name: string;
  readonly client: Client;
  readonly store: Store;
  /** `message:received` per id (messages from others). */
  readonly received: Map<string, number>;
  readonly waiting: Set<string>;
  readonly undecryptable: Array<{ readonly pendingId: string; readonly reason: string }>;
  /** Ids its `sendMessage` resolved with. */
  readonly sent: string[];
  /** `error` events. */
  readonly errors: string[];
}

class CrashWorld {
  /** The one clock: the network's timestamps, the peers' and the child's `now` and timers. */
  readonly clock: VirtualClock = virtualClock({ start: Date.now() });
  readonly network: MemoryNetwork = memoryNetwork({ seed: 1 }, { now: this.clock.now });
  readonly host: ChildHost;
  readonly peers: Peer[] = [];

  constructor(directory: string) {
    this.host = new ChildHost(this.network.transport({ name: "child" }), directory, this.clock);
  }

  async peer(name: string): Promise<Peer> {
    const store = memoryStore();
    const client = await createClient({
      transport: this.network.transport({ name }),
      store,
      now: this.clock.now,
      timers: {
        setTimeout: (task, delayMs) => this.clock.schedule(task, delayMs),
        clearTimeout: (handle) => (handle as () => void)(),
      },
      config: { rekeyWindowMs: 0, addWindowMs: 0, republishIntervalMs: 0, scryptN: 16 },
    });
    const peer: Peer = {
      name,
      client,
      store,
      received: new Map(),
      waiting: new Set(),
      undecryptable: [],
      sent: [],
      errors: [],
    };
    client.on("message:received", ({ message }) => {
      if (!message.own) peer.received.set(message.id, (peer.received.get(message.id) ?? 0) + 1);
    });
    client.on("message:waiting-for-key", ({ pendingId }) => peer.waiting.add(pendingId));
    client.on("message:undecryptable", (event) => peer.undecryptable.push(event));
    client.on("error", ({ error }) => peer.errors.push(String(error)));
    this.peers.push(peer);
    return peer;
  }

  async #quiet(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await this.network.idle();
      await Promise.all(this.peers.map((p) => p.client.idle()));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Runs everything to rest, then lets {@link recoveryStepMs} of virtual time pass (the sweeps and
   * resync retries that fall due run) and runs everything to rest again.
   */
  async settle(): Promise<void> {
    await this.#rest();
    await this.advance(recoveryStepMs);
  }

  /** Moves the clock by `ms` (the peers' and the child's timers that fall due run), then rests. */
  async advance(ms: number): Promise<void> {
    this.clock.advance(ms);
    this.host.tick();
    await this.#rest();
  }

  /**
   * Before the checks: {@link recoveryWindowMs} of virtual time in {@link recoveryWindowStepMs}
   * steps, at rest after each, so that every recovery a timer waits for has run.
   */
  async recover(): Promise<void> {
    for (let passed = 0; passed < recoveryWindowMs; passed += recoveryWindowStepMs) {
      await this.advance(recoveryWindowStepMs);
    }
  }

  /** Runs everything to rest, starting the child again whenever it is dead. */
  async #rest(): Promise<void> {
    for (let round = 0; round < 500; round++) {
      if (!this.host.alive) await this.host.restart();
      const before = this.host.traffic;
      await this.#quiet();
      try {
        await this.host.command("sync");
      } catch (error) {
        if (isKilled(error)) continue;
        throw error;
      }
      await this.#quiet();
      if (this.host.traffic === before && this.host.alive) return;
    }
    throw new Error(`the world does not settle; the child said:\n${this.host.stderr}`);
  }

  /**
   * One step of a scenario: aims a kill (or not), runs `action` (a kill of the child may interrupt
   * it), lets everything settle with the aim still on (the kill may land in what follows: an
   * acceptance, a re-key, a catch-up, a sweep or resync the clock's step starts), then rests
   * without it.
   */
  async step(point: KillPoint | undefined, action: () => Promise<void>): Promise<void> {
    this.host.aim(point);
    try {
      await action();
      await this.host.afterOperation();
    } catch (error) {
      if (!isKilled(error)) throw error;
    }
    await this.settle();
    this.host.aim(undefined);
    await this.#rest();
  }

  /** A child command that must succeed (it is retried across kills). */
  async must(op: string, args: Record<string, string> = {}): Promise<unknown> {
    for (;;) {
      if (!this.host.alive) await this.host.restart();
      try {
        const answer = await this.host.command(op, args);
        if (answer.refused !== undefined) throw new Error(`${op} refused: ${answer.refused}`);
        return answer.result;
      } catch (error) {
        if (!isKilled(error)) throw error;
      }
    }
  }

  async close(): Promise<void> {
    this.host.aim(undefined);
    await this.host.kill();
    for (const peer of this.peers) await peer.client.close();
    await this.network.stop();
  }
}

function aimAt(random: () => number): KillPoint {
  const r = random();
  const nth = 1 + Math.floor(random() * 3);
  if (r < 0.3) return { at: "publish-before", nth };
  if (r < 0.5) return { at: "publish-after", nth };
  if (r < 0.6) return { at: "call", nth };
  if (r < 0.7) return { at: "event", nth };
  if (r < 0.9) return { at: "delay", ms: Math.floor(random() * 25) };
  return { at: "ack" };
}

/** Records the roster of every epoch an in-process owner enters, by key id (hex). */
function recordRosters(owner: Peer, rosters: Map<string, EpochRecord>): void {
  owner.client.on("epoch:changed", ({ organizationId, channelId }) => {
    // The memory store reads synchronously at the call: this is the state of the event.
    void storedGroups(owner.store, organizationId, "owner").then((groups) => {
      const group = groups.get(channelId);
      if (group === undefined) return;
      rosters.set(hex(group.keyId), {
        channelId,
        epoch: Number(group.epoch),
        members: memberIds(group.roster),
      });
    });
  });
}

function memberIds(roster: Roster): Set<string> {
  return new Set(roster.flatMap((leaf) => (leaf === undefined ? [] : [hex(leaf.identityKey)])));
}

/**
 * The observer's group state at each epoch it entered (read synchronously at the event, so before
 * it decrypted anything of that epoch).
 */
function recordSnapshots(observer: Peer): Array<Promise<MemberGroup | undefined>> {
  const snapshots: Array<Promise<MemberGroup | undefined>> = [];
  observer.client.on("epoch:changed", ({ organizationId, channelId }) => {
    snapshots.push(
      storedGroups(observer.store, organizationId, "member").then((groups) =>
        groups.get(channelId),
      ),
    );
  });
  return snapshots;
}

/** Every message ever published on the org's general channel, by id (hex SHA-256). */
async function channelCiphertexts(world: CrashWorld, orgId: string) {
  return await publishedOn(world, [channelTopic(Buffer.from(orgId, "hex"), "general")]);
}

/** Every message ever published on `topics`, by id (hex SHA-256). */
async function publishedOn(world: CrashWorld, topics: readonly string[]) {
  const reader = world.network.transport({ name: `reader-${Math.random()}` });
  await reader.start();
  const out = new Map<string, TransportMessage>();
  let cursor: string | undefined;
  do {
    const page = await reader.queryHistory({
      contentTopics: [...topics],
      direction: "forward",
      pageSize: 100,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const message of page.messages) out.set(hex(sha256(message.payload)), message);
    cursor = page.cursor;
  } while (cursor !== undefined);
  await reader.stop();
  return out;
}

// -------------------------------------------------------------------------------------------------
// The checks
// -------------------------------------------------------------------------------------------------

/**
 * Decrypts every ciphertext (but the observer's own) with the observer's state of its epoch: the
 * earliest snapshot that reads it, so nothing of that epoch was consumed before. A ciphertext that
 * reuses a (sender, generation) of another one is refused as a duplicate.
 * @returns the ids decrypted
 */
async function checkGenerations(
  snapshots: Array<Promise<MemberGroup | undefined>>,
  wire: ReadonlyMap<string, TransportMessage>,
  own: ReadonlySet<string>,
  now: number,
): Promise<Set<string>> {
  const groups: MemberGroup[] = [];
  for (const group of await Promise.all(snapshots)) {
    if (group !== undefined) groups.push(group);
  }
  const decrypted = new Set<string>();
  const reused: string[] = [];
  for (const [id, message] of wire) {
    if (own.has(id)) continue;
    for (const group of groups) {
      try {
        group.decrypt(message.payload, now);
        decrypted.add(id);
        break;
      } catch (error) {
        if (isUnknownEpochError(error)) continue;
        if (isDuplicateMessageError(error)) reused.push(id);
        else throw error;
        break;
      }
    }
  }
  expect(reused, "ciphertexts that reuse a (sender, generation)").toEqual([]);
  return decrypted;
}

const twice = (counts: ReadonlyMap<string, number>) => [...counts].filter(([, n]) => n > 1);

interface Outcome {
  readonly orgId: string;
  readonly dump: Dump;
  /** Rosters of the organization's epochs, by key id. */
  readonly rosters: ReadonlyMap<string, EpochRecord>;
  /** Peers still members at the end (the owner included when it is in-process). */
  readonly members: readonly Peer[];
  /** Peers removed or banned (each a re-key). */
  readonly removed: readonly Peer[];
  readonly observer: Peer;
  readonly snapshots: Array<Promise<MemberGroup | undefined>>;
}

async function check(world: CrashWorld, outcome: Outcome): Promise<void> {
  const { host } = world;
  const { orgId, dump, rosters, members, removed } = outcome;
  const acks = host.acks;
  if (process.env.ORGCHAT_CRASH_DEBUG) {
    console.log(
      `${host.lives} lives, kills at ${host.struck.join(" ")}; child sent ${acks.sent.length}, ` +
        `received ${acks.received.size}, history ${dump.history.length}, epoch ${dump.epoch}; ` +
        world.peers.map((p) => `${p.name} sent ${p.sent.length} got ${p.received.size}`).join(", "),
    );
  }
  const wire = await channelCiphertexts(world, orgId);
  const rosterOf = (id: string) => {
    const message = wire.get(id);
    if (message === undefined) return undefined;
    return rosters.get(hex(decodeGroupMessage(message.payload).keyId));
  };
  const idOf = (peer: Peer) =>
    peer.client.getOrganization(orgId).role === "owner" ? orgId : peer.client.memberId;
  const history = new Set(dump.history.map((m) => m.id));

  // Nothing lost: what the child sent reached every member of its epoch, once.
  for (const id of acks.sent) {
    const roster = rosterOf(id);
    expect(roster, `the epoch of the child's ${id}`).toBeDefined();
    for (const peer of members) {
      if (!roster?.members.has(idOf(peer))) continue;
      expect(peer.received.get(id), `${peer.name} heard the child's ${id}`).toBe(1);
    }
  }
  // What the peers sent in an epoch the child was in is in the child's history.
  for (const peer of world.peers) {
    for (const id of peer.sent) {
      if (!rosterOf(id)?.members.has(host.memberId) && dump.role !== "owner") continue;
      expect(history.has(id), `the child kept ${peer.name}'s ${id}`).toBe(true);
    }
  }
  // What the child acknowledged as received survived every restart.
  for (const id of acks.received.keys()) {
    expect(history.has(id), `the child kept ${id} it acknowledged`).toBe(true);
  }
  // Nothing duplicated.
  expect(twice(acks.received), "the child heard messages twice").toEqual([]);
  for (const peer of world.peers) {
    expect(twice(peer.received), `${peer.name} heard messages twice`).toEqual([]);
  }
  // Nothing undecryptable, nothing left waiting (a message of an epoch the peer was never in, e.g.
  // before it joined, is not announced at all: newcomer-history.test.ts).
  expect(acks.undecryptable, "undecryptable at the child").toEqual([]);
  expect(
    [...acks.waiting].filter((id) => !history.has(id)),
    "left waiting at the child",
  ).toEqual([]);
  for (const peer of members) {
    expect(peer.undecryptable, `undecryptable at ${peer.name}`).toEqual([]);
    expect(
      [...peer.waiting].filter((id) => !peer.received.has(id)),
      `left waiting at ${peer.name}`,
    ).toEqual([]);
    expect(peer.errors, `errors at ${peer.name}`).toEqual([]);
  }
  expect(acks.errors, "errors at the child").toEqual([]);
  // Nobody read anything of an epoch it was not in (a removed or banned member in particular).
  for (const peer of [...members, ...removed]) {
    for (const id of peer.received.keys()) {
      expect(rosterOf(id)?.members.has(idOf(peer)), `${peer.name} read ${id}`).toBe(true);
    }
  }
  // Nothing left unsent (read after a kill): a published entry's delete rides in the next commit
  // (one commit per send), so what the outbox still holds once everything settled must already
  // be on the network.
  await host.kill();
  const store = await openSqliteStore({ path: join(host.directory, "client.db") });
  let left: string[];
  try {
    left = (await store.range(`outbox/${orgId}`)).map((entry) => entry.id);
  } finally {
    await store.close();
  }
  const org = Buffer.from(orgId, "hex");
  const onNetwork = await publishedOn(world, [
    channelTopic(org, "general"),
    descriptionTopic(org),
    requestsTopic(org),
    keysTopic(org),
    ...[...members, ...removed].map((peer) => inboxTopic(Buffer.from(idOf(peer), "hex"))),
  ]);
  expect(
    left.filter((id) => !onNetwork.has(id)),
    "the child's outbox: entries never published",
  ).toEqual([]);
  // No generation reused; every message the child sent was checked.
  const decrypted = await checkGenerations(
    outcome.snapshots,
    wire,
    new Set(outcome.observer.sent),
    world.clock.now(),
  );
  expect(
    acks.sent.filter((id) => !decrypted.has(id)),
    "child's messages the observer could not check",
  ).toEqual([]);
}

// -------------------------------------------------------------------------------------------------
// The scenarios
// -------------------------------------------------------------------------------------------------

/** Accepts no refusal but those listed. */
function expectRefusal(answer: Answer, allowed: readonly string[], what: string): void {
  if (answer.refused !== undefined && !allowed.includes(answer.refused)) {
    throw new Error(`${what} refused: ${answer.refused}`);
  }
}

/** How a scenario removes its members: each is a re-key. */
const removals = [
  { name: "bob", how: "remove" },
  { name: "carol", how: "ban" },
] as const;

async function childIsOwner(world: CrashWorld, seed: number): Promise<void> {
  const { host } = world;
  const random = seededRandom(seed);
  const maybeAim = () =>
    host.kills < killsPerScenario && random() < 0.6 ? aimAt(random) : undefined;
  await host.restart();
  let orgId = "";
  await world.step(aimAt(random), async () => {
    const answer = await host.command("create");
    expectRefusal(answer, [], "create");
    orgId = (answer.result as { orgId: string }).orgId;
  });
  // A kill may have cut the creation short: the child finishes it.
  orgId = ((await world.must("create")) as { orgId: string }).orgId;

  const alice = await world.peer("alice");
  const snapshots = recordSnapshots(alice);
  const newcomers = [alice, await world.peer("bob"), await world.peer("carol")];
  newcomers.push(await world.peer("dave"));
  const members: Peer[] = [];
  const removed: Peer[] = [];
  // Joins: the child accepts (and is killed on the way, at a seeded point).
  const join = async () => {
    const peer = newcomers.shift() as Peer;
    members.push(peer);
    await world.step(aimAt(random), async () => {
      await peer.client.discover(orgId);
      await peer.client.requestToJoin(orgId, { displayName: peer.name });
    });
  };
  await join();
  await join();
  const done = () =>
    host.kills >= killsPerScenario && newcomers.length === 0 && removed.length === removals.length;
  for (let op = 0; op < 40 + killsPerScenario * 6 && !done(); op++) {
    const r = random();
    const removal = removals[removed.length];
    const target = members.find((m) => m.name === removal?.name);
    if (r < 0.3 && members.length > 0) {
      const peer = members[Math.floor(random() * members.length)] as Peer;
      await world.step(maybeAim(), async () => {
        const view = await peer.client.sendMessage(orgId, "general", `${peer.name} ${op}`);
        peer.sent.push(view.id);
      });
    } else if (r < 0.45 && newcomers.length > 0) {
      await join();
    } else if (r < 0.55 && removal !== undefined && target !== undefined && op >= 3) {
      // A re-key, killed at a seeded point; a kill before its commit leaves it still to do.
      removed.push(target);
      members.splice(members.indexOf(target), 1);
      const args = { orgId, member: target.client.memberId };
      await world.step(aimAt(random), async () => {
        expectRefusal(await host.command(removal.how, args), [], removal.how);
      });
      expectRefusal(await host.command(removal.how, args), ["EventRejectedError"], removal.how);
      await world.settle();
    } else {
      await world.step(maybeAim(), async () => {
        const answer = await host.command("send", { orgId, channelId: "general", text: `${op}` });
        expectRefusal(answer, [], "send");
        host.acks.sent.push((answer.result as { id: string }).id);
      });
    }
  }
  await world.settle();
  await world.recover();
  const dump = (await world.must("dump", { orgId })) as Dump;
  expect(host.kills, "kills that hit").toBeGreaterThanOrEqual(killsPerScenario);
  expect(removed.length, "re-keys done").toBe(removals.length);
  expect(dump.role).toBe("owner");
  expect(dump.pendingRequests, "requests left pending").toBe(0);
  expect(new Set(dump.members)).toEqual(new Set([orgId, ...members.map((m) => m.client.memberId)]));
  for (const peer of members) {
    const view = peer.client.getOrganization(orgId);
    expect(view.role, `${peer.name}'s role`).toBe("member");
    expect(view.epoch === undefined ? null : Number(view.epoch), `${peer.name}'s epoch`).toBe(
      dump.epoch,
    );
  }
  await check(world, {
    orgId,
    dump,
    rosters: host.acks.rosters,
    members,
    removed,
    observer: alice,
    snapshots,
  });
}

async function childIsMember(world: CrashWorld, seed: number): Promise<void> {
  const { host } = world;
  const random = seededRandom(seed);
  const maybeAim = () =>
    host.kills < killsPerScenario && random() < 0.6 ? aimAt(random) : undefined;
  const owner = await world.peer("owner");
  const rosters = new Map<string, EpochRecord>();
  recordRosters(owner, rosters);
  const orgId = await owner.client.createOrganization({ name: "Crash", access: "on-request" });
  await owner.client.createChannel(orgId, { id: "general", name: "General" });
  owner.client.on("request:received", ({ requestId }) => {
    owner.client.acceptRequest(orgId, requestId).catch(() => undefined);
  });
  const alice = await world.peer("alice");
  const snapshots = recordSnapshots(alice);
  const newcomers = [alice, await world.peer("bob"), await world.peer("carol")];
  const members: Peer[] = [owner];
  const removed: Peer[] = [];
  // Joins of others: an add step the child follows (and may be killed while it does).
  const join = async (point: KillPoint | undefined) => {
    const peer = newcomers.shift() as Peer;
    members.push(peer);
    await world.step(point, async () => {
      await peer.client.discover(orgId);
      await peer.client.requestToJoin(orgId, { displayName: peer.name });
    });
  };
  await join(undefined);
  await join(undefined);
  await host.restart();
  // The child joins; a kill may cut the request short before its commit: then it asks again.
  for (let attempt = 0; ; attempt++) {
    await world.step(attempt === 0 ? aimAt(random) : undefined, async () => {
      expectRefusal(await host.command("join", { orgId }), [], "join");
    });
    if (((await world.must("dump", { orgId })) as Dump).role === "member") break;
    if (attempt > 5) throw new Error("the child never became a member");
  }
  const done = () =>
    host.kills >= killsPerScenario && newcomers.length === 0 && removed.length === removals.length;
  for (let op = 0; op < 40 + killsPerScenario * 6 && !done(); op++) {
    const r = random();
    const removal = removals[removed.length];
    const target = members.find((m) => m.name === removal?.name);
    if (r < 0.3) {
      const peer = members[Math.floor(random() * members.length)] as Peer;
      await world.step(maybeAim(), async () => {
        const view = await peer.client.sendMessage(orgId, "general", `${peer.name} ${op}`);
        peer.sent.push(view.id);
      });
    } else if (r < 0.4 && newcomers.length > 0) {
      await join(aimAt(random));
    } else if (r < 0.5 && removal !== undefined && target !== undefined && op >= 3) {
      // A re-key: the child applies the KeyUpdate (and is killed at a seeded point meanwhile).
      removed.push(target);
      members.splice(members.indexOf(target), 1);
      await world.step(aimAt(random), () =>
        removal.how === "remove"
          ? owner.client.removeMember(orgId, target.client.memberId)
          : owner.client.banMember(orgId, target.client.memberId),
      );
    } else {
      await world.step(maybeAim(), async () => {
        const answer = await host.command("send", { orgId, channelId: "general", text: `${op}` });
        expectRefusal(answer, [], "send");
        host.acks.sent.push((answer.result as { id: string }).id);
      });
    }
  }
  await world.settle();
  await world.recover();
  const dump = (await world.must("dump", { orgId })) as Dump;
  expect(host.kills, "kills that hit").toBeGreaterThanOrEqual(killsPerScenario);
  expect(removed.length, "re-keys done").toBe(removals.length);
  expect(dump.role).toBe("member");
  const view = owner.client.getOrganization(orgId);
  expect(view.members.has(host.memberId), "the owner counts the child in").toBe(true);
  expect(dump.epoch, "the child's epoch").toBe(Number(view.epoch));
  await check(world, {
    orgId,
    dump,
    rosters,
    members,
    removed,
    observer: alice,
    snapshots,
  });
}

describe("crash safety (SIGKILL of a client during sends, re-keys and joins)", () => {
  let directory: string;
  let world: CrashWorld;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), "orgchat-client-crash-"));
    world = new CrashWorld(directory);
  });

  afterEach(async () => {
    await world.close();
    await rm(directory, { recursive: true, force: true });
  });

  const timeout = Math.max(60_000, killsPerScenario * 20_000);

  it(
    `the owner loses, repeats and reuses nothing over ${killsPerScenario} kills`,
    { timeout },
    () => childIsOwner(world, 0x0c4a5),
  );

  it(`a member loses, repeats and reuses nothing over ${killsPerScenario} kills`, { timeout }, () =>
    childIsMember(world, 0x3e3b),
  );
});
