/**
 * One identity's data directory, opened for one command: the SQLite store (locked while open), the
 * transport (light mode against service nodes, or offline), and the client. Every command goes
 * through {@link openSession} and {@link Session.close}, so that Ctrl-C or an error always closes the
 * client, the transport and the store: the data directory is left consistent (the client commits in
 * atomic batches, persist before send).
 */
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { describeError, hasErrorName, raceAbort, sleep } from "@orgchat/base";
import type { Client, ClientConfig } from "@orgchat/client";
import type { Store } from "@orgchat/store";
import type { Transport, TransportMessage } from "@orgchat/transport";
import { CliError, exitCodes, interruptedError, isCliError } from "./errors.js";
import type { Progress } from "./format.js";
import { networkGate } from "./network-gate.js";
import { noteStep } from "./stall-guard.js";

/** Options every command shares. */
export interface GlobalOptions {
  readonly data?: string;
  readonly profile?: string;
  readonly peer?: readonly string[];
  readonly json: boolean;
  /** Seconds: how long to wait for a service node (publish, subscribe) and for answers. */
  readonly timeout?: number;
}

/** The data directory of these options: `--data`, else `$ORGCHAT_HOME/<profile>`, else `~/.orgchat/<profile>`. */
export function dataDirOf(options: Pick<GlobalOptions, "data" | "profile">): string {
  if (options.data !== undefined) return resolve(options.data);
  const base = process.env.ORGCHAT_HOME ?? join(homedir(), ".orgchat");
  return join(base, options.profile ?? "default");
}

/** What is remembered in `<data>/config.json` between commands. */
export interface ProfileConfig {
  /** Service nodes given with `--peer` the last time (so that later commands need not repeat them). */
  readonly peers: readonly string[];
}

const configFile = (dir: string) => join(dir, "config.json");

/**
 * What `<dir>/config.json` remembers (nothing when there is no such file yet).
 * @throws CliError when the file exists but cannot be read or is not JSON (the user fixes or deletes it)
 */
export function readProfileConfig(dir: string): ProfileConfig {
  const file = configFile(dir);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return { peers: [] };
    throw new CliError(
      `cannot read ${file} (${describeError(error)}): fix its permissions, or delete it and pass --peer again`,
      exitCodes.failed,
      { cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(
      `${file} is not valid JSON (${describeError(error)}): fix it, or delete it and pass --peer again`,
      exitCodes.failed,
      { cause: error },
    );
  }
  const peers = (parsed as Partial<ProfileConfig> | null)?.peers;
  if (
    typeof parsed !== "object" ||
    parsed === null ||
    Array.isArray(parsed) ||
    (peers !== undefined &&
      (!Array.isArray(peers) || !peers.every((peer) => typeof peer === "string")))
  ) {
    throw new CliError(
      `${file} is not an orgchat profile configuration (expected {"peers": ["<multiaddr>", …]}): fix it, or delete it and pass --peer again`,
      exitCodes.failed,
    );
  }
  return { peers: peers === undefined ? [] : [...peers] };
}

/**
 * Makes every file of a data directory private to the user (0600; the directory 0700): files an
 * older version left readable by others (`messages.sqlite`, SQLite's `-wal` / `-shm`).
 * @param dir - the data directory (nothing happens when it does not exist)
 */
export function makePrivate(dir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
  for (const entry of entries) {
    const path = join(dir, entry);
    const stat = lstatSync(path);
    if (stat.isFile() && (stat.mode & 0o077) !== 0) chmodSync(path, 0o600);
  }
}

/** Writes `<dir>/config.json` (0600), creating the directory (0700). */
export function writeProfileConfig(dir: string, config: ProfileConfig): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(configFile(dir), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

/** How a command wants its session. */
export interface SessionInit {
  /** `online`: Waku light mode against the service nodes; `offline`: local data only, nothing sent. */
  readonly network: "online" | "offline";
  /** Peers to use when neither `--peer` nor the profile has any (from a link). */
  readonly fallbackPeers?: readonly string[];
  /** Long-running commands (chat) batch re-keys like any client; one-shot commands re-key at once. */
  readonly longRunning?: boolean;
  /**
   * Checks the profile's local state (unknown organization, not the owner, …) before the network
   * opens: run by {@link Session.connect}, which throws what it throws.
   */
  readonly beforeNetwork?: (client: Client) => void;
  readonly progress: Progress;
  readonly signal: AbortSignal;
}

/** An open data directory. */
export interface Session {
  readonly dataDir: string;
  readonly peers: readonly string[];
  readonly client: Client;
  readonly store: Store;
  readonly transport: Transport;
  /** Errors the client reported in the background (failed publishes, history queries). */
  readonly errors: unknown[];
  /**
   * Opens the network (online sessions; {@link ready} and {@link delivered} do it): checks the local
   * state first ({@link SessionInit.beforeNetwork}), then connects to the service nodes and makes the
   * subscriptions. Until then nothing leaves the process. Idempotent.
   * @throws what `beforeNetwork` throws; CliError (timeout, exit code 3) when no service node answered
   *   within `--timeout`; NoPeersError, …
   */
  connect(): Promise<void>;
  /**
   * Opens the network ({@link connect}) and waits until the client has caught up with what the
   * service node stored while it was away, within what is left of `--timeout`.
   */
  ready(): Promise<void>;
  /**
   * Waits until everything this command committed for `organizationId` has been accepted by a
   * service node (which stores it): the client's outbox for it is empty.
   * @throws CliError when something is still in the outbox (no service node took it), or (exit
   *   code 3) when `--timeout` ran out
   */
  delivered(organizationId: string): Promise<void>;
  /** Closes client, transport and store (idempotent). */
  close(): Promise<void>;
}

/** Peers from `--peer`, else the profile's, else the fallback; `--peer` values are remembered. */
export function peersFor(
  dir: string,
  options: GlobalOptions,
  fallback: readonly string[] = [],
): string[] {
  if (options.peer !== undefined && options.peer.length > 0) return [...options.peer];
  const remembered = readProfileConfig(dir).peers;
  return remembered.length > 0 ? [...remembered] : [...fallback];
}

/**
 * {@link peersFor} for an error message: none when `config.json` cannot be read (the error being
 * explained, or the next command, says so).
 */
export function knownPeers(dir: string, options: GlobalOptions): string[] {
  try {
    return peersFor(dir, options);
  } catch {
    // An unreadable config.json is reported by the command that reads it; here it only means no peers.
    return [];
  }
}

/**
 * Checks the shape of a multiaddr before the network starts, so that a typo is reported at once and
 * by name. The transport checks the rest when it starts.
 */
export function checkMultiaddr(address: string): void {
  if (!isServiceAddress(address)) {
    throw new CliError(
      `bad --peer address ${JSON.stringify(address)}: expected a multiaddr such as /ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooW… (what \`orgchat serve\` prints)`,
      exitCodes.usage,
    );
  }
}

/** Whether `address` has the shape of a service node's multiaddr (tcp, optionally ws, optionally /p2p/). */
export function isServiceAddress(address: string): boolean {
  return /^\/(ip4|ip6|dns4|dns6|dns)\/[^/]+\/tcp\/\d{1,5}(\/(ws|wss|tls\/ws))?(\/p2p\/[1-9A-HJ-NP-Za-km-z]+)?$/.test(
    address,
  );
}

/** What a wrapper replaces of the transport it forwards to. */
type TransportOverrides = Partial<Pick<Transport, "publish" | "subscribe" | "queryHistory">>;

/** A transport that forwards to `inner`, except for `overrides` (status stays live). */
function forwardingTransport(inner: Transport, overrides: TransportOverrides): Transport {
  return {
    get capabilities() {
      return inner.capabilities;
    },
    get status() {
      return inner.status;
    },
    start: (options) => inner.start(options),
    stop: (options) => inner.stop(options),
    publish:
      overrides.publish ?? ((topic, payload, options) => inner.publish(topic, payload, options)),
    subscribe:
      overrides.subscribe ??
      ((topics, handler, options) => inner.subscribe(topics, handler, options)),
    queryHistory:
      overrides.queryHistory ?? ((query, options) => inner.queryHistory(query, options)),
    on: (event, listener) => inner.on(event, listener),
  };
}

/** An offline transport: nothing leaves the process, and publishing fails so that the outbox is kept. */
async function offlineTransport(): Promise<Transport> {
  const { memoryNetwork, NoPeersError } = await import("@orgchat/transport");
  return forwardingTransport(memoryNetwork().transport({ name: "offline", history: false }), {
    publish: () => Promise.reject(new NoPeersError("offline (this command does not send)")),
  });
}

/**
 * `ORGCHAT_TRACE=1`: one stderr line per phase of a command, in ms since the process started
 * (module load, store open, transport start, first subscription, first history page, first publish,
 * catch-up done, close), to find where a command's time goes. Off by default. Every phase is also
 * the step a stalled command names (`stall-guard.ts`).
 */
export const trace: (phase: string) => void =
  process.env.ORGCHAT_TRACE === undefined || process.env.ORGCHAT_TRACE === ""
    ? noteStep
    : (phase) => {
        noteStep(phase);
        process.stderr.write(
          `orgchat trace: ${performance.now().toFixed(1).padStart(8)} ms  ${phase}\n`,
        );
      };

/** Traces the first call and first completion of each network operation (see {@link trace}). */
function tracingTransport(inner: Transport): Transport {
  const seen = new Set<string>();
  const once = (what: string) => {
    if (seen.has(what)) return;
    seen.add(what);
    trace(what);
  };
  const timed = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    once(`${what}: first call`);
    const result = await call();
    once(`${what}: first done`);
    return result;
  };
  inner.on("status:changed", ({ status, peers }) => trace(`transport ${status} (${peers} peers)`));
  return forwardingTransport(inner, {
    publish: (topic, payload, options) =>
      timed("publish", () => inner.publish(topic, payload, options)),
    subscribe: (topics, handler, options) =>
      timed("subscribe", () => inner.subscribe(topics, handler, options)),
    queryHistory: (query, options) =>
      timed("history query", () => inner.queryHistory(query, options)),
  });
}

/** Wraps a transport to count what this identity sends and receives (the demo's byte column). */
export interface CountingTransport extends Transport {
  readonly counters: { sentBytes: number; sentMessages: number; receivedBytes: number };
}

export function countingTransport(inner: Transport): CountingTransport {
  const counters = { sentBytes: 0, sentMessages: 0, receivedBytes: 0 };
  const counting = forwardingTransport(inner, {
    publish: async (topic, payload, options) => {
      const result = await inner.publish(topic, payload, options);
      counters.sentBytes += payload.length;
      counters.sentMessages++;
      return result;
    },
    subscribe: (topics, handler, options) =>
      inner.subscribe(
        topics,
        (message: TransportMessage) => {
          counters.receivedBytes += message.payload.length;
          return handler(message);
        },
        options,
      ),
    queryHistory: async (query, options) => {
      const page = await inner.queryHistory(query, options);
      for (const message of page.messages) counters.receivedBytes += message.payload.length;
      return page;
    },
  });
  // Object.assign keeps the live getters of `counting` (a spread would copy their values).
  return Object.assign(counting, { counters });
}

/** The client settings of the CLI: one-shot commands re-key inside the operation (no timer). */
export function clientConfig(longRunning: boolean): ClientConfig {
  return longRunning ? {} : { rekeyWindowMs: 0, addWindowMs: 0, republishIntervalMs: 0 };
}

/**
 * Opens a data directory for one command.
 * @throws CliError (bad multiaddr, corrupt config.json), StoreLockedError, … (network errors come from {@link Session.connect})
 */
export async function openSession(options: GlobalOptions, init: SessionInit): Promise<Session> {
  const dataDir = dataDirOf(options);
  const peers = init.network === "online" ? peersFor(dataDir, options, init.fallbackPeers) : [];
  for (const peer of peers) checkMultiaddr(peer);
  // Said when the command connects, after the checks of the profile (whose errors come first).
  const noPeers = () =>
    new CliError(
      "no service node configured: pass --peer MULTIADDR (the address `orgchat serve` prints); it is remembered for this data directory",
      exitCodes.usage,
    );
  const timeoutMs = Math.round((options.timeout ?? 10) * 1000);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  makePrivate(dataDir);
  // Loaded here, not at start-up: `--help` and usage errors need none of it.
  const [{ openSqliteStore }, { createClient }] = await Promise.all([
    import("@orgchat/store-sqlite"),
    import("@orgchat/client"),
  ]);
  trace("modules loaded (store, client)");
  const store = await openSqliteStore({ path: join(dataDir, "store.db") });
  trace("store open");
  const closers: Array<() => Promise<void>> = [
    async () => {
      trace("closing the store");
      await store.close();
      trace("store closed");
    },
  ];
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    // Best effort, in reverse order: a failure to close one part must not keep the others open.
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    // Loaded only when needed: the Waku stack is most of the start-up time of offline commands.
    const gate =
      init.network === "online"
        ? networkGate(
            tracingTransport(
              peers.length === 0
                ? await offlineTransport()
                : (await import("@orgchat/transport-waku/light")).wakuTransport({
                    mode: "light",
                    peers,
                    publishTimeoutMs: timeoutMs,
                    historyTimeoutMs: timeoutMs,
                  }),
            ),
          )
        : undefined;
    const transport = gate?.transport ?? tracingTransport(await offlineTransport());
    trace(`transport made (${init.network})`);
    closers.push(async () => {
      trace("stopping the transport");
      await transport.stop();
      trace("transport stopped");
    });
    // The most peers seen at once: `--peer` values are remembered only once every one of them answered.
    let peersSeen = 0;
    transport.on("status:changed", ({ peers: now }) => {
      peersSeen = Math.max(peersSeen, now);
    });
    // A node that answers at a --peer address under another peer id is refused by the transport
    // (it could be anyone): say so when the wait ends, instead of only "no answer".
    let impostor: string | undefined;
    const impostors = new Set<string>();
    /** Rejects once every --peer answered under another peer id: no use waiting for --timeout. */
    let refuseAll: (error: CliError) => void = () => undefined;
    const allRefused = new Promise<never>((_, reject) => {
      refuseAll = reject;
    });
    allRefused.catch(() => undefined);
    transport.on("diagnostic", ({ reason, error, topic }) => {
      if (reason !== "dial-failed" || !(error instanceof Error)) return;
      if (error.name !== "PeerIdMismatchError") return;
      impostor = error.message;
      if (topic !== undefined) impostors.add(topic);
      if (peers.every((peer) => impostors.has(peer))) {
        // Nothing can be sent nor read: end the transport's waits too, so that closing the client
        // does not wait for them (what was committed stays in the outbox).
        void transport.stop().catch(() => undefined);
        refuseAll(
          new CliError(
            `refused the service node: ${impostor} (--peer ${peers.join(", ")}); anything this command saved is sent the next time orgchat runs with this data directory and reaches its node`,
          ),
        );
      }
    });
    const passphrase = process.env.ORGCHAT_PASSPHRASE;
    const client = await createClient({
      transport,
      store,
      // A data directory copied as files is another owner device (docs/RESTORE.md).
      deviceOrigin: storeOrigin(dataDir),
      config: clientConfig(init.longRunning ?? false),
      ...(passphrase === undefined || passphrase === "" ? {} : { passphrase }),
    });
    trace("client started");
    closers.push(async () => {
      trace("closing the client");
      await client.close();
      trace("client closed");
    });
    // Runs first: calls still waiting for a network that never opened end (nothing was sent).
    closers.push(async () => {
      gate?.refuse(new CliError("closed before connecting to the network"));
    });
    /** Remembers the service nodes (from --peer or a link) that answered, for later commands. */
    const rememberPeers = () => {
      if (peersSeen < peers.length) return;
      // A broken config.json is replaced by the peers given (they answered): what its error advised.
      let remembered: ProfileConfig = { peers: [] };
      try {
        remembered = readProfileConfig(dataDir);
      } catch {}
      if (remembered.peers.join(" ") !== peers.join(" ")) {
        writeProfileConfig(dataDir, { ...remembered, peers });
      }
    };
    /**
     * When `--timeout` runs out for this command's network waits, set when the network opens: one
     * deadline for connecting, catching up and delivery of a one-shot command.
     */
    let deadline = Number.POSITIVE_INFINITY;
    const timedOut = () =>
      new CliError(
        impostor === undefined
          ? `no answer from the service node within ${timeoutMs / 1000} s (--timeout; --peer ${peers.join(", ")}): check that \`orgchat serve\` runs there; anything this command saved is sent the next time orgchat runs with this data directory`
          : `no service node within ${timeoutMs / 1000} s: ${impostor} (--peer ${peers.join(", ")}); anything this command saved is sent the next time orgchat runs with this data directory`,
        exitCodes.timeout,
      );
    /** Waits for `work` within what is left of `--timeout` (and until Ctrl-C). */
    const bounded = async <T>(work: Promise<T>): Promise<T> => {
      // A long-running session (chat, the daemon) gives each wait its own --timeout.
      const left =
        (init.longRunning === true && Number.isFinite(deadline)
          ? performance.now() + timeoutMs
          : deadline) - performance.now();
      if (!Number.isFinite(left)) return raceAbort(work, init.signal, interruptedError);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timedOut()), Math.max(0, left));
      });
      try {
        return await raceAbort(
          Promise.race([work, expired, allRefused]),
          init.signal,
          interruptedError,
        );
      } finally {
        clearTimeout(timer);
      }
    };
    let connecting: Promise<void> | undefined;
    const connect = (): Promise<void> => {
      if (gate === undefined) return Promise.resolve();
      connecting ??= (async () => {
        init.beforeNetwork?.(client);
        trace("local checks passed");
        if (peers.length === 0) throw noPeers();
        deadline = performance.now() + timeoutMs;
        init.progress.update(
          `connecting to ${peers.length === 1 ? "the service node" : `${peers.length} service nodes`}…`,
        );
        try {
          await bounded(gate.open());
        } catch (error) {
          // The transport gave up waiting for a service node: the same kind of failure as the deadline.
          if (hasErrorName(error, "NoPeersError")) throw timedOut();
          throw error;
        }
        trace("connected");
      })();
      return connecting;
    };
    const errors: unknown[] = [];
    client.on("error", ({ error }) => {
      errors.push(error);
    });
    let received = 0;
    const stopCounting = client.on("message:received", () => {
      received++;
    });
    const session: Session = {
      dataDir,
      peers,
      client,
      store,
      transport,
      errors,
      connect,
      async ready() {
        if (init.network === "offline") return;
        await connect();
        init.progress.update("catching up from the service node…");
        const ticker = setInterval(() => {
          init.progress.update(`catching up from the service node… ${received} message(s)`);
        }, 250);
        try {
          // The client starts catching up one macrotask after createClient resolves; a re-key left
          // due by an earlier run is a timer too.
          await sleep(5, init.signal, interruptedError);
          await bounded(client.idle());
          await sleep(5, init.signal, interruptedError);
          await bounded(client.idle());
          rememberPeers();
        } finally {
          clearInterval(ticker);
          stopCounting();
          init.progress.done();
          trace("caught up");
        }
      },
      async delivered(organizationId) {
        await connect();
        await bounded(client.idle());
        trace("delivered (client idle)");
        const outbox = async () =>
          new Set((await store.range(`outbox/${organizationId}`)).map((entry) => entry.id));
        // What waits now: this command's records, and (inside the daemon) those of commands running
        // beside it, published by their own operations. Only these are waited for; records added
        // later are the later commands' business.
        let pending = await outbox();
        const undelivered = () =>
          new CliError(
            `${pending.size} message(s) saved but not accepted by any service node (--peer ${peers.join(", ")}): they are re-sent when a service node is back (the next time orgchat runs with this data directory); check that \`orgchat serve\` is running`,
          );
        while (pending.size > 0) {
          // Without a service node nothing will move: say so now rather than at --timeout.
          if (transport.status !== "online") throw undelivered();
          try {
            await bounded(sleep(20, init.signal, interruptedError).then(() => client.idle()));
          } catch (error) {
            if (isCliError(error) && error.exitCode === exitCodes.timeout) throw undelivered();
            throw error;
          }
          const now = await outbox();
          pending = new Set([...pending].filter((id) => now.has(id)));
        }
      },
      close,
    };
    return session;
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Where a data directory's store lives: its real path and the store file's inode. A copy made with
 * `cp -r` (or moved to another disk) has another one: the client draws a new owner device id there,
 * so that two copies running one organization as its owner see each other (docs/RESTORE.md).
 */
export function storeOrigin(dataDir: string): string {
  const real = realpathSync(dataDir);
  return `${real}#${statSync(join(real, "store.db")).ino}`.slice(0, 1024);
}
