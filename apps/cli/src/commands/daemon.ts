/**
 * `orgchat daemon start|status|stop` and `orgchat events` (docs/CLI-DAEMON.md): one long-lived
 * process per data directory holds the connection and the store; other commands of the profile hand
 * it their command line (`daemon/forward.ts`). `events` streams the client's events as JSON lines,
 * through the daemon or alone.
 */
import { fork } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import { raceAbort } from "@orgchat/base";
import type { Client, ClientEvents } from "@orgchat/client";
import type { CommandContext, CommandSpec } from "../command.js";
import { connectDaemon } from "../daemon/client.js";
import { serveProfile } from "../daemon/profile-server.js";
import { readDaemonRecord, recordFileName, socketPathFor } from "../daemon/rendezvous.js";
import { CliError, exitCodes, interruptedError } from "../errors.js";
import { jsonReplacer, printResult } from "../format.js";
import { dataDirOf } from "../session.js";
import { jsonText } from "../terminal-text.js";
import { str } from "./shared.js";

/** Set in the environment of a daemon started with `--background`. */
const backgroundChild = "ORGCHAT_DAEMON_BACKGROUND";

function statusLines(
  dataDir: string,
  socket: string,
  pid: number,
  since: string,
  peers: readonly string[],
) {
  return {
    json: { running: true, dataDir, pid, socket, since, peers },
    human: [
      `a daemon runs for ${dataDir}`,
      `  pid ${pid}, since ${since}`,
      `  socket ${socket}`,
      `  service node(s): ${peers.join(", ") || "none"}`,
    ].join("\n"),
  };
}

export const daemonStart: CommandSpec = {
  name: "daemon start",
  summary: "keep this profile online in one process; other commands of the profile use it",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: {
    background: {
      type: "boolean",
      help: "start it in the background and return once it listens (log: <data dir>/daemon.log)",
    },
  },
  examples: ["orgchat daemon start --background", "orgchat daemon start --profile alice"],
  notes:
    "While it runs, `send`, `read`, `chat`, `events` and every other command of this profile hand their command line to it over a local socket (only this user can reach it): no start-up, no catching up, and `read` works while `chat` is open. Ctrl-C or `orgchat daemon stop` stops it.",
  streaming: true,
  async run(context) {
    const dataDir = dataDirOf(context.global);
    if (context.values.background === true) return startInBackground(context, dataDir);
    // The store's lock first: with it held, a socket left at the path is a dead daemon's.
    const shared = await context.session({ network: "online", longRunning: true });
    // Connected and caught up before it serves anyone (a node that does not answer: exit 3, say so).
    await shared.ready();
    const stopping = new AbortController();
    const stopNow = () => stopping.abort();
    context.signal.addEventListener("abort", stopNow, { once: true });
    const server = await serveProfile({
      shared,
      dataDir,
      host: {
        status: (socket, since) => statusLines(dataDir, socket, process.pid, since, shared.peers),
        stop({ stdout, json }) {
          stdout(
            json
              ? `${JSON.stringify({ stopping: true, pid: process.pid })}\n`
              : `daemon of ${dataDir} (pid ${process.pid}) stopping\n`,
          );
          stopNow();
          return exitCodes.ok;
        },
      },
    });
    const socketPath = server.socketPath;
    context.output.stderr(
      `orgchat daemon: serving ${dataDir} on ${socketPath} (pid ${process.pid}); Ctrl-C or \`orgchat daemon stop\` stops it\n`,
    );
    if (process.env[backgroundChild] !== undefined && process.send !== undefined) {
      process.send({ ready: true, pid: process.pid, socket: socketPath });
      process.disconnect?.();
    }
    await new Promise<void>((resolve) => {
      if (stopping.signal.aborted) resolve();
      stopping.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    context.output.stderr("orgchat daemon: stopping (commands still running are interrupted)\n");
    await server.close();
    return { json: { stopped: true }, human: "orgchat daemon: stopped" };
  },
};

/** `daemon start --background`: the same command in a detached process; returns once it listens. */
async function startInBackground(context: CommandContext, dataDir: string) {
  const socket = await connectDaemon(socketPathFor(dataDir));
  if (socket !== undefined) {
    socket.destroy();
    throw new CliError(`a daemon already runs for ${dataDir}: \`orgchat daemon status\` shows it`);
  }
  // The log of this run only (the previous run's is replaced): it holds the start, stop and warnings.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const log = openSync(join(dataDir, "daemon.log"), "w", 0o600);
  const argv = process.argv.slice(2).filter((arg) => arg !== "--background");
  const child = fork(process.argv[1] ?? "", argv, {
    detached: true,
    stdio: ["ignore", log, log, "ipc"],
    env: { ...process.env, [backgroundChild]: "1" },
    execArgv: process.execArgv,
  });
  // The child has its own copy of the descriptor.
  closeSync(log);
  context.progress.update("starting the daemon…");
  const started = await raceAbort(
    new Promise<{ pid: number; socket: string }>((resolve, reject) => {
      child.once("message", (message) => resolve(message as { pid: number; socket: string }));
      child.once("exit", (code) =>
        reject(
          code === exitCodes.timeout
            ? new CliError(
                `the daemon could not reach its service node in time, so it did not start (see ${join(dataDir, "daemon.log")}): start \`orgchat serve\` or check --peer, then try again`,
                exitCodes.timeout,
              )
            : new CliError(
                `the daemon exited at start (code ${code}): see ${join(dataDir, "daemon.log")}`,
              ),
        ),
      );
    }),
    context.signal,
    interruptedError,
  );
  child.removeAllListeners("exit");
  child.unref();
  child.channel?.unref();
  context.progress.done();
  // `daemon start` streams (the runner prints nothing after it): the background case prints itself.
  printResult(
    context.output,
    {
      json: {
        started: true,
        pid: started.pid,
        socket: started.socket,
        log: join(dataDir, "daemon.log"),
      },
      human: `daemon started for ${dataDir} (pid ${started.pid}); log: ${join(dataDir, "daemon.log")}; \`orgchat daemon stop\` stops it`,
    },
    context.global.json,
  );
  return { json: null, human: "" };
}

/** `daemon status` / `daemon stop` when no daemon answered (the daemon answers them itself). */
export const daemonStatus: CommandSpec = {
  name: "daemon status",
  summary: "whether a daemon runs for this profile (pid, socket, service nodes)",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: {},
  examples: ["orgchat daemon status --json"],
  async run(context) {
    const dataDir = dataDirOf(context.global);
    const record = readDaemonRecord(dataDir);
    return {
      json: { running: false, dataDir },
      human: `no daemon runs for ${dataDir}${record === undefined ? "" : ` (one with pid ${record.pid} did, since ${record.startedAt}, and did not stop cleanly)`}: \`orgchat daemon start --background\` starts one`,
      exitCode: exitCodes.failed,
    };
  },
};

export const daemonStop: CommandSpec = {
  name: "daemon stop",
  summary: "stop this profile's daemon (after interrupting what it runs)",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: {},
  examples: ["orgchat daemon stop"],
  async run(context) {
    const dataDir = dataDirOf(context.global);
    rmSync(join(dataDir, recordFileName), { force: true });
    return { json: { running: false, dataDir }, human: `no daemon runs for ${dataDir}` };
  },
};

/** One JSON line per client event: `{ "event": name, ...payload }`. */
function eventLine(event: string, payload: object): string {
  return jsonText(JSON.stringify({ event, ...payload }, jsonReplacer));
}

/** The client events `events` streams: all of them but `diagnostic` (dropped network input). */
const streamed = (names: readonly (keyof ClientEvents)[]) =>
  names.filter((name) => name !== "diagnostic");

export const events: CommandSpec = {
  name: "events",
  summary: "stream this profile's events as JSON lines (for bots), until Ctrl-C",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: {
    org: { type: "string", value: "ORG", help: "only this organization's events (name or key)" },
  },
  examples: [
    "orgchat events",
    "orgchat events --org Acme | jq -c 'select(.event==\"message:received\")'",
  ],
  notes:
    'One JSON object per line on stdout: {"event":"message:received","message":{…}}, {"event":"member:joined","organizationId":…,"member":…}, … (the SDK\'s client events, bigints as strings, bytes as hex). Progress and errors go to stderr. Works through the daemon or alone.',
  streaming: true,
  async run(context) {
    const session = await context.session({ network: "online", longRunning: true });
    const only = str(context.values.org);
    const { client } = session;
    const orgId = only === undefined ? undefined : await resolveOrgId(client, only);
    // Loaded here, not with the command table: `--help` must not load the client.
    const { clientEventNames } = await import("@orgchat/client");
    const offs = streamed(clientEventNames).map((name) =>
      client.on(name, (payload: object) => {
        const of =
          "organizationId" in payload
            ? payload.organizationId
            : "message" in payload
              ? (payload.message as { organizationId?: string }).organizationId
              : undefined;
        if (orgId !== undefined && of !== undefined && of !== orgId) return;
        context.output.stdout(`${eventLine(name, payload)}\n`);
      }),
    );
    try {
      await session.ready();
      context.output.stderr("orgchat events: streaming; Ctrl-C ends\n");
      await new Promise<void>((resolve) => {
        if (context.signal.aborted) resolve();
        context.signal.addEventListener("abort", () => resolve(), { once: true });
      });
    } finally {
      for (const off of offs) off();
    }
    return { json: null, human: "" };
  },
};

async function resolveOrgId(client: Client, nameOrKey: string): Promise<string> {
  const { resolveOrg } = await import("../resolve.js");
  return resolveOrg(client, nameOrKey).id;
}
