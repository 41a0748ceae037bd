/**
 * Per-message cost of the client pipeline (issue #14, "A lean client pipeline"): an owner sends
 * `--count` channel messages of 256 bytes into an encrypted organization, then a member receives
 * them live, once with the memory store and once with the SQLite store. Prints per message: CPU and
 * wall time per send and per receive, store batches and bytes written per message, and the crypto
 * floor measured in the same run (the median time of `OwnerGroup.encrypt` and `MemberGroup.decrypt`).
 *
 * The send phase runs with the member cut off by a partition (only the owner works); the receive
 * phase replays the captured payloads to the member from a bare transport (only the member works).
 *
 * Run from packages/client:
 * `node --import tsx --conditions=@orgchat/source bench/pipeline.ts [--json] [--count 1000]
 *  [--warmup 1000] [--rounds 2] [--one-at-a-time] [--sqlite ../store-sqlite/src/index.ts]`. The client does not depend on the SQLite store (nor may
 * it, docs/ARCHITECTURE.md): `--sqlite` names the module that exports `openSqliteStore`, and adds
 * the SQLite run.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { defaultProvider, EpochKeys, EpochSecrets, MemberGroup, OwnerGroup } from "@orgchat/crypto";
import { type BatchOptions, memoryStore, type Store, type StoreOp } from "@orgchat/store";
import { memoryNetwork, type TransportMessage } from "@orgchat/transport";
import { channelTopic, decodeGroupMessage, encodeChannelMessage } from "@orgchat/wire";
import { type Client, createClient } from "../src/index.js";
import { snapshotPolicy } from "../src/state-snapshots.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const sqliteAt = args.indexOf("--sqlite");
const sqliteModule = sqliteAt >= 0 ? args[sqliteAt + 1] : undefined;
type OpenSqlite = (init: { path: string }) => Promise<Store>;
const openSqliteStore: OpenSqlite | undefined =
  sqliteModule === undefined
    ? undefined
    : ((await import(pathToFileURL(resolve(sqliteModule)).href)) as { openSqliteStore: OpenSqlite })
        .openSqliteStore;
const countAt = args.indexOf("--count");
const count = countAt >= 0 ? Number(args[countAt + 1]) : 1000;
const textBytes = 256;
const warmupAt = args.indexOf("--warmup");
/**
 * `--warmup N`: messages sent and received before the measured phases; by default as many as the
 * floor's loop runs before it is timed (`max(1000, count)`), so that both are measured warm.
 */
const warmup = warmupAt >= 0 ? Number(args[warmupAt + 1]) : Math.max(1000, count);
/**
 * `--one-at-a-time`: the receive phase hands the member each message only once it processed the
 * previous one (as a relay receiver that keeps up sees them: one commit per message), instead of
 * all at once (batched, up to 64 per commit).
 */
const oneAtATime = args.includes("--one-at-a-time");
const roundsAt = args.indexOf("--rounds");
/**
 * `--rounds N` (default 2): the send window, then the receive window, each runs N times back to
 * back, the same work every time; the figures are the last round's, and the first round's are
 * printed apart (`first window`): a process pays V8's one-time optimisation of the compaction and of
 * the partitioned network path in its first window only, as the floor's loop is timed warm.
 */
const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 2;
if (!Number.isInteger(rounds) || rounds < 1)
  throw new RangeError(`--rounds: got ${args[roundsAt + 1]}`);
const profileAt = args.indexOf("--profile");
/** `--profile <dir>`: one V8 CPU profile per phase and store (`<store>-send.cpuprofile`, …). */
const profileDir = profileAt >= 0 ? args[profileAt + 1] : undefined;
const heapAt = args.indexOf("--heap-profile");
/**
 * `--heap-profile <dir>`: one V8 sampling heap profile per phase and store instead
 * (`<store>-send.heapprofile`, …: what each phase allocated, sampled every 1 KiB, by allocation site).
 */
const heapDir = heapAt >= 0 ? args[heapAt + 1] : undefined;
const inspector = profileDir === undefined && heapDir === undefined ? undefined : new Session();
if (inspector !== undefined) {
  inspector.connect();
  if (heapDir === undefined) {
    await post(inspector, "Profiler.enable");
    await post(inspector, "Profiler.setSamplingInterval", { interval: 500 });
  } else {
    await post(inspector, "HeapProfiler.enable");
  }
}
function post(session: Session, method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) =>
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
  );
}
async function startProfile(): Promise<void> {
  if (inspector === undefined) return;
  if (heapDir !== undefined) {
    await post(inspector, "HeapProfiler.startSampling", {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  } else {
    await post(inspector, "Profiler.start");
  }
}
async function stopProfile(name: string): Promise<void> {
  if (inspector !== undefined && heapDir !== undefined) {
    const { profile } = (await post(inspector, "HeapProfiler.stopSampling")) as {
      profile: unknown;
    };
    mkdirSync(heapDir, { recursive: true });
    writeFileSync(join(heapDir, `${name}.heapprofile`), JSON.stringify(profile));
    return;
  }
  if (inspector === undefined || profileDir === undefined) return;
  const { profile } = (await post(inspector, "Profiler.stop")) as { profile: unknown };
  mkdirSync(profileDir, { recursive: true });
  writeFileSync(join(profileDir, `${name}.cpuprofile`), JSON.stringify(profile));
}

/**
 * Time spent inside the group crypto, per call, by wrapping the prototypes: the floor is the median
 * call times the number of messages (a median, because the machine may preempt any one call; the
 * CPU clock costs a system call per read, as much as the calls measured).
 */
const crypto = { encrypt: [] as number[], decrypt: [] as number[] };
function wrap<T extends object>(proto: T, name: keyof T & string, into: "encrypt" | "decrypt") {
  const original = proto[name] as unknown as (...a: unknown[]) => unknown;
  (proto as Record<string, unknown>)[name] = function (this: unknown, ...a: unknown[]) {
    const start = performance.now();
    try {
      return original.apply(this, a);
    } finally {
      crypto[into].push(performance.now() - start);
    }
  };
}
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
wrap(OwnerGroup.prototype, "encrypt", "encrypt");
wrap(MemberGroup.prototype, "decrypt", "decrypt");

/**
 * The crypto floor done bare, in this process: `EpochKeys.encrypt` (sign, seal, sender data,
 * encode) of a channel message like the client's, then `decodeGroupMessage` + `EpochKeys.decrypt`
 * (sender data, open, verify) of each, `count` of each in a loop, CPU time per call (garbage
 * collection included, as in the client's figures).
 */
function bareFloor(): { encryptMs: number; decryptMs: number } {
  const provider = defaultProvider();
  const group = { organizationId: provider.randomBytes(32), channelId: "" };
  const leaf = () => ({
    identityKey: provider.ed25519KeyPair().publicKey,
    prekey: provider.x25519KeyPair().publicKey,
  });
  const signer = provider.ed25519KeyPair();
  const roster = [
    { ...leaf(), signingKey: signer.publicKey },
    { ...leaf(), signingKey: provider.ed25519KeyPair().publicKey },
  ];
  const epochSecret = provider.randomBytes(32);
  const keys = (secret: Uint8Array) =>
    EpochKeys.create({
      provider,
      group,
      roster,
      secrets: EpochSecrets.derive(provider, group, 1n, secret),
    });
  const sender = keys(epochSecret.slice());
  const receiver = keys(epochSecret.slice());
  const content = encodeChannelMessage({
    organizationId: group.organizationId,
    channelId: "general",
    author: group.organizationId,
    clock: 1n,
    sentAt: BigInt(Date.now()),
    body: { case: "post", value: { text: "x".repeat(textBytes), replyTo: "" } },
  });
  const send = () =>
    sender.encrypt({ senderLeaf: 0, signingSecretKey: signer.secretKey, contentType: 49, content });
  // A long warm-up (JIT): after 200 calls the first run's floor was ~30 % above the later runs'.
  for (let i = 0; i < Math.max(1000, count); i++) receiver.decrypt(decodeGroupMessage(send()));
  const sent: Uint8Array[] = new Array(count);
  let cpu = process.cpuUsage();
  for (let i = 0; i < count; i++) sent[i] = send();
  const encryptMs = cpuMs(process.cpuUsage(cpu)) / count;
  cpu = process.cpuUsage();
  for (const bytes of sent) receiver.decrypt(decodeGroupMessage(bytes));
  const decryptMs = cpuMs(process.cpuUsage(cpu)) / count;
  return { encryptMs, decryptMs };
}

/** Counts what a store is asked to write. */
class Counting {
  batches = 0;
  bytes = 0;
  durable = 0;
  readonly store: Store;
  constructor(store: Store) {
    this.store = store;
    const batch = store.batch.bind(store);
    store.batch = (ops: readonly StoreOp[], options?: BatchOptions) => {
      this.batches++;
      if ((options as { durable?: boolean } | undefined)?.durable === true) this.durable++;
      for (const op of ops) {
        if (op.type === "put") this.bytes += op.value.length + op.key.length;
        else if (op.type === "append") {
          for (const entry of op.entries) this.bytes += entry.value.length + entry.id.length + 8;
        }
      }
      return batch(ops, options);
    };
    for (const name of ["put", "append", "deleteEntries", "delete"] as const) {
      const single = (store[name] as (...a: unknown[]) => Promise<unknown>).bind(store);
      (store as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
        this.batches++;
        if (name === "put") this.bytes += (a[2] as Uint8Array).length;
        return single(...a);
      };
    }
  }
  snapshot() {
    return { batches: this.batches, bytes: this.bytes, durable: this.durable };
  }
}

const config = {
  rekeyWindowMs: 0,
  addWindowMs: 0,
  republishIntervalMs: 0,
  syncIntervalMs: 0,
  scryptN: 16,
} as const;

/**
 * Waits until a state-snapshot compaction made due by the phase has run: it waits for a quiet
 * moment (`snapshotPolicy.quietMs` without an event) after the burst. The phase's CPU is read after
 * it, so the figures include the compaction the messages cost, amortised (the wall time is read
 * before the wait).
 */
async function afterQuiet(network: { idle(): Promise<void> }, clients: Client[]): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, snapshotPolicy.quietMs + 50));
  await settle(network, clients);
}

async function settle(network: { idle(): Promise<void> }, clients: Client[]): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await network.idle();
    await Promise.all(clients.map((c) => c.idle()));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

interface Figures {
  store: string;
  count: number;
  /** Windows run of each phase; the figures are the last one's. */
  rounds: number;
  /** The first window of each phase (one-time optimisation included), for comparison. */
  firstWindow: { sendCpuMs: number; sendRatio: number; receiveCpuMs: number; receiveRatio: number };
  sendCpuMs: number;
  /** The main thread's share of `sendCpuMs` (the rest: garbage collection and other helper threads). */
  sendThreadCpuMs: number;
  sendWallMs: number;
  sendBatches: number;
  sendBytes: number;
  sendDurable: number;
  encryptMs: number;
  receiveCpuMs: number;
  receiveThreadCpuMs: number;
  receiveWallMs: number;
  receiveBatches: number;
  receiveBytes: number;
  decryptMs: number;
  /** The bare crypto floor (`bareFloor`), measured just before this run. */
  floorEncryptMs: number;
  floorDecryptMs: number;
  /** One publish and delivery through the memory network alone (bare transports), in both phases. */
  transportMs: number;
  /** `sendCpuMs / floorEncryptMs`, `receiveCpuMs / floorDecryptMs`. */
  sendRatio: number;
  receiveRatio: number;
  sqliteFileBytesPerMessage?: number;
}

const progress = (what: string) => {
  if (process.env.BENCH_DEBUG) console.error(`[pipeline] ${what}`);
};
const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;
/** CPU time of the main thread alone, in ms (Node ≥ 22.15; NaN before). */
const threadCpu = (): number => {
  const read = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage;
  return read === undefined ? Number.NaN : cpuMs(read.call(process));
};

async function run(kind: "memory" | "sqlite"): Promise<Figures> {
  const floor = bareFloor();
  const dir = kind === "sqlite" ? mkdtempSync(join(tmpdir(), "orgchat-pipeline-")) : undefined;
  const open = async (name: string): Promise<Store> =>
    dir === undefined || openSqliteStore === undefined
      ? memoryStore()
      : openSqliteStore({ path: join(dir, `${name}.db`) });
  const network = memoryNetwork({ seed: 1 });
  const ownerStore = new Counting(await open("owner"));
  const memberStore = new Counting(await open("member"));
  const ownerTransport = network.transport({ name: "owner" });
  const memberTransport = network.transport({ name: "member" });
  const replayer = network.transport({ name: "replayer" });
  const probe = network.transport({ name: "probe" });
  const owner = await createClient({ transport: ownerTransport, store: ownerStore.store, config });
  const member = await createClient({
    transport: memberTransport,
    store: memberStore.store,
    config,
  });
  const orgId = await owner.createOrganization({
    name: "Bench",
    access: "on-request",
    encrypted: true,
  });
  await owner.createChannel(orgId, { id: "general", name: "General" });
  await settle(network, [owner, member]);
  await member.discover(orgId);
  const requestId = await member.requestToJoin(orgId, { displayName: "member" });
  await settle(network, [owner, member]);
  await owner.acceptRequest(orgId, requestId);
  await settle(network, [owner, member]);
  let received = 0;
  let allReceived: (() => void) | undefined;
  member.on("message:received", (event) => {
    if (event.message.own) return;
    received++;
    if (received === count) allReceived?.();
  });
  // Warm up the whole path (send, and the member's receive) as the floor warms its loop up: the
  // optimising compiler's work (hot async functions reach TurboFan after ~1,000 sends; after a single
  // warm-up message it cost ~0.1 ms of helper-thread CPU per message over 5,000) is a start-up
  // cost, not a per-message one. `--warmup 1` measures the cold path as before.
  for (let i = 0; i < warmup; i++) await owner.sendMessage(orgId, "general", "x".repeat(textBytes));
  await settle(network, [owner, member]);
  await afterQuiet(network, [owner, member]);
  progress(`warm-up received ${received}`);
  received = 0;

  // Send: the member is cut off; a bare transport in the owner's group captures the payloads.
  await replayer.start();
  const topic = channelTopic(Uint8Array.from(Buffer.from(orgId, "hex")), "general");
  const text = "x".repeat(textBytes);
  /**
   * One send window: `count` sends, then the compaction they made due. Its figures, and the
   * payloads captured for the receive window.
   */
  const sendWindow = async (last: boolean) => {
    const captured: TransportMessage[] = [];
    const capture = await replayer.subscribe([topic], (message) => {
      captured.push(message);
    });
    network.partition([[ownerTransport, replayer], [memberTransport]]);
    const before = ownerStore.snapshot();
    crypto.encrypt = [];
    if (last) await startProfile();
    const cpu = process.cpuUsage();
    const thread = threadCpu();
    const wall = performance.now();
    for (let i = 0; i < count; i++) await owner.sendMessage(orgId, "general", text);
    await settle(network, [owner]);
    const wallMs = performance.now() - wall;
    await afterQuiet(network, [owner]);
    const cpuUsed = cpuMs(process.cpuUsage(cpu));
    const threadUsed = threadCpu() - thread;
    if (last) await stopProfile(`${kind}-send`);
    const after = ownerStore.snapshot();
    await capture.unsubscribe();
    return {
      captured,
      cpuMs: cpuUsed / count,
      threadCpuMs: threadUsed / count,
      wallMs: wallMs / count,
      batches: (after.batches - before.batches) / count,
      bytes: (after.bytes - before.bytes) / count,
      durable: (after.durable - before.durable) / count,
      encryptMs: median(crypto.encrypt),
    };
  };
  /** One receive window: the member gets one send window's payloads from the replayer. */
  const receiveWindow = async (captured: readonly TransportMessage[], last: boolean) => {
    // The owner is cut off; the replayer publishes the captured payloads to the member.
    network.partition([[ownerTransport], [memberTransport, replayer]]);
    const before = memberStore.snapshot();
    const fileBefore = dir === undefined ? 0 : statSync(join(dir, "member.db")).size;
    crypto.decrypt = [];
    received = 0;
    if (last) await startProfile();
    const done = new Promise<void>((resolve) => {
      allReceived = resolve;
    });
    const cpu = process.cpuUsage();
    const thread = threadCpu();
    const wall = performance.now();
    progress(`replaying ${captured.length}`);
    for (const message of captured) {
      await replayer.publish(topic, message.payload);
      if (!oneAtATime) continue;
      await network.idle();
      await member.idle();
    }
    progress("replayed");
    const watchdog = setInterval(
      () => progress(`received ${received}/${count}, captured ${captured.length}`),
      2000,
    );
    await done;
    clearInterval(watchdog);
    await settle(network, [member]);
    const wallMs = performance.now() - wall;
    await afterQuiet(network, [member]);
    const cpuUsed = cpuMs(process.cpuUsage(cpu));
    const threadUsed = threadCpu() - thread;
    if (last) await stopProfile(`${kind}-receive`);
    const after = memberStore.snapshot();
    const fileAfter = dir === undefined ? 0 : statSync(join(dir, "member.db")).size;
    return {
      cpuMs: cpuUsed / count,
      threadCpuMs: threadUsed / count,
      wallMs: wallMs / count,
      batches: (after.batches - before.batches) / count,
      bytes: (after.bytes - before.bytes) / count,
      decryptMs: median(crypto.decrypt),
      fileBytes: (fileAfter - fileBefore) / count,
    };
  };
  // Every window is the same work; the figures are the last window's. The first window of a process
  // also pays one-time costs the warm-up did not (V8 optimises the compaction and the partitioned
  // network path there): printed apart, as `first window`.
  const sends = [];
  for (let round = 0; round < rounds; round++) sends.push(await sendWindow(round === rounds - 1));
  const receives = [];
  for (let round = 0; round < rounds; round++) {
    const sent = sends[round];
    if (sent === undefined) throw new Error("no send window");
    receives.push(await receiveWindow(sent.captured, round === rounds - 1));
  }
  const send = sends[rounds - 1];
  const receive = receives[rounds - 1];
  const firstSend = sends[0];
  const firstReceive = receives[0];
  if (
    send === undefined ||
    receive === undefined ||
    firstSend === undefined ||
    firstReceive === undefined
  ) {
    throw new Error("no window ran");
  }
  const captured = send.captured;

  // The memory network alone: the replayer publishes the same payloads to a bare transport.
  network.partition([[ownerTransport], [memberTransport], [replayer, probe]]);
  await probe.start();
  let probed = 0;
  let allProbed: () => void = () => {};
  const probedAll = new Promise<void>((resolve) => {
    allProbed = resolve;
  });
  const probing = await probe.subscribe([topic], () => {
    if (++probed === count) allProbed();
  });
  const cpu = process.cpuUsage();
  for (const message of captured) await replayer.publish(topic, message.payload);
  await probedAll;
  await settle(network, []);
  const transportMs = cpuMs(process.cpuUsage(cpu)) / count;
  await probing.unsubscribe();
  await owner.close();
  await member.close();
  await ownerStore.store.close();
  await memberStore.store.close();
  await network.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  return {
    store: kind,
    count,
    rounds,
    sendCpuMs: send.cpuMs,
    sendThreadCpuMs: send.threadCpuMs,
    sendWallMs: send.wallMs,
    sendBatches: send.batches,
    sendBytes: send.bytes,
    sendDurable: send.durable,
    encryptMs: send.encryptMs,
    receiveCpuMs: receive.cpuMs,
    receiveThreadCpuMs: receive.threadCpuMs,
    receiveWallMs: receive.wallMs,
    receiveBatches: receive.batches,
    receiveBytes: receive.bytes,
    decryptMs: receive.decryptMs,
    floorEncryptMs: floor.encryptMs,
    floorDecryptMs: floor.decryptMs,
    transportMs,
    sendRatio: send.cpuMs / floor.encryptMs,
    receiveRatio: receive.cpuMs / floor.decryptMs,
    firstWindow: {
      sendCpuMs: firstSend.cpuMs,
      sendRatio: firstSend.cpuMs / floor.encryptMs,
      receiveCpuMs: firstReceive.cpuMs,
      receiveRatio: firstReceive.cpuMs / floor.decryptMs,
    },
    ...(dir === undefined ? {} : { sqliteFileBytesPerMessage: receive.fileBytes }),
  };
}

const results: Figures[] = [await run("memory")];
if (openSqliteStore !== undefined) results.push(await run("sqlite"));
if (json) {
  const receiveMode = oneAtATime ? "one-at-a-time" : "all-at-once";
  console.log(
    JSON.stringify(
      { bench: "client-pipeline", textBytes, warmup, rounds, receiveMode, results },
      null,
      2,
    ),
  );
} else {
  const f = (n: number, digits = 3) => n.toFixed(digits);
  console.log(
    `client pipeline, ${count} × ${textBytes} B, owner → member (per message, after ${warmup} to warm up; window ${rounds} of ${rounds}${oneAtATime ? "; received one at a time" : ""})`,
  );
  for (const r of results) {
    const ratio = (cpu: number, floor: number) =>
      `${f(cpu / floor, 2)}× floor, ${f((cpu - r.transportMs) / floor, 2)}× without the memory network`;
    console.log(
      `${r.store.padEnd(6)} send:    cpu ${f(r.sendCpuMs)} ms (${ratio(r.sendCpuMs, r.floorEncryptMs)}; main thread ${f(r.sendThreadCpuMs)} ms), wall ${f(r.sendWallMs)} ms; floor ${f(r.floorEncryptMs)} ms bare, ${f(r.encryptMs)} ms in the client (median); ${f(r.sendBatches, 2)} batches, ${Math.round(r.sendBytes)} B written, ${f(r.sendDurable, 3)} durable`,
    );
    console.log(
      `${r.store.padEnd(6)} receive: cpu ${f(r.receiveCpuMs)} ms (${ratio(r.receiveCpuMs, r.floorDecryptMs)}; main thread ${f(r.receiveThreadCpuMs)} ms), wall ${f(r.receiveWallMs)} ms; floor ${f(r.floorDecryptMs)} ms bare, ${f(r.decryptMs)} ms in the client (median); ${f(r.receiveBatches, 2)} batches, ${Math.round(r.receiveBytes)} B written${r.sqliteFileBytesPerMessage === undefined ? "" : `, file +${Math.round(r.sqliteFileBytesPerMessage)} B`}`,
    );
  }
  for (const r of results) {
    if (r.rounds < 2) continue;
    console.log(
      `${r.store.padEnd(6)} first window: send cpu ${f(r.firstWindow.sendCpuMs)} ms (${f(r.firstWindow.sendRatio, 2)}× floor), receive cpu ${f(r.firstWindow.receiveCpuMs)} ms (${f(r.firstWindow.receiveRatio, 2)}× floor): with V8's one-time optimisation of the compaction and the partitioned path`,
    );
  }
  console.log(
    `memory network alone (publish + delivery): ${results.map((r) => `${f(r.transportMs)} ms`).join(", ")}`,
  );
}
