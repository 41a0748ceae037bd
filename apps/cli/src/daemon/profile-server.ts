/**
 * Serves one open profile on its daemon socket (docs/CLI-DAEMON.md): the part of `orgchat daemon
 * start` that `orgchat serve --owner` shares. Other commands of the profile hand their command line
 * to it (`forward.ts`) and run inside this process on its open session; `daemon status` and `daemon
 * stop` are answered here, by the host that owns the process.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { raceAbort } from "@orgchat/base";
import { CliError, exitCodes, interruptedError } from "../errors.js";
import type { Output } from "../format.js";
import { dataDirOf, type GlobalOptions, type Session, type SessionInit } from "../session.js";
import { commandLine } from "./forward.js";
import { recordFileName, socketPathFor, writeDaemonRecord } from "./rendezvous.js";
import { type CommandIo, type DaemonServer, listenDaemon } from "./server.js";

/**
 * The session a command inside the daemon gets: the daemon's own, which the command may not close,
 * and whose waits end with the command's Ctrl-C.
 * @param shared - the daemon's open session
 * @param dataDir - the data directory it serves
 * @returns what the command runner calls instead of `openSession`
 */
export function borrowedSession(
  shared: Session,
  dataDir: string,
): (global: GlobalOptions, init: SessionInit) => Promise<Session> {
  return async (global, init) => {
    if (dataDirOf(global) !== dataDir) {
      throw new CliError(
        `this daemon serves ${dataDir}, not ${dataDirOf(global)}: run the command without the daemon's socket, or start a daemon for that profile`,
        exitCodes.usage,
      );
    }
    if (global.peer !== undefined && global.peer.join(" ") !== shared.peers.join(" ")) {
      throw new CliError(
        `the daemon of this profile is connected to ${shared.peers.join(", ")}: drop --peer, or stop the daemon (\`orgchat daemon stop\`) to use another service node`,
        exitCodes.usage,
      );
    }
    // The checks a one-shot command makes before it connects (the daemon is connected already).
    init.beforeNetwork?.(shared.client);
    return {
      ...shared,
      // Waits end with the command's Ctrl-C, not only with the daemon's.
      delivered: (organizationId) =>
        raceAbort(shared.delivered(organizationId), init.signal, interruptedError),
      async ready() {
        // The daemon is subscribed all along: finishing what it is processing is enough.
        await raceAbort(shared.client.idle(), init.signal, interruptedError);
      },
      async close() {
        // The daemon's session outlives its commands.
      },
    };
  };
}

/** What the host of a profile server answers to `daemon status` and `daemon stop`. */
export interface ProfileServerHost {
  /**
   * `daemon status` through the socket.
   * @returns the JSON document and the human lines it prints
   */
  status(socketPath: string, startedAt: string): { json: object; human: string };
  /**
   * `daemon stop` through the socket: writes what it prints and returns the exit code (the daemon
   * stops itself; `serve --owner` refuses, saying how to stop the whole process).
   */
  stop(io: { readonly stdout: (text: string) => void; readonly json: boolean }): number;
}

/** A profile served on its socket. */
export interface ProfileServer {
  readonly socketPath: string;
  /** ISO time it started listening. */
  readonly startedAt: string;
  /** Interrupts the commands running in it, stops listening, removes the socket and `daemon.json`. */
  close(): Promise<void>;
}

/**
 * Listens on the profile's daemon socket and runs the commands forwarded to it on `shared`. The
 * caller holds the profile's store lock (it opened `shared`), so a socket file left at the path is a
 * dead daemon's.
 * @param init - the open session, its data directory, and the host's answers to `daemon status|stop`
 * @returns the server, listening, with `daemon.json` written
 * @throws UnsafeSocketDirError (the socket's directory is not this user's alone), or the listen error
 */
export async function serveProfile(init: {
  readonly shared: Session;
  readonly dataDir: string;
  readonly host: ProfileServerHost;
}): Promise<ProfileServer> {
  const { shared, dataDir, host } = init;
  const socketPath = socketPathFor(dataDir);
  // Loaded here: the runner's command table imports this module's users.
  const { runCli } = await import("../cli.js");
  const openSession = borrowedSession(shared, dataDir);
  const startedAt = new Date().toISOString();
  const server: DaemonServer = await listenDaemon({
    socketPath,
    run: async (io: CommandIo) => {
      const { argv } = io.request;
      const words = commandLine(argv)?.positionals ?? [];
      const sub = words[0] === "daemon" ? words[1] : undefined;
      const json = argv.includes("--json");
      if (sub === "stop") return host.stop({ stdout: io.stdout, json });
      if (sub === "status") {
        const status = host.status(socketPath, startedAt);
        io.stdout(`${json ? JSON.stringify(status.json, null, 2) : status.human}\n`);
        return exitCodes.ok;
      }
      const output: Output = {
        stdout: io.stdout,
        stderr: io.stderr,
        stderrIsTTY: io.request.stderrIsTTY,
      };
      return runCli(io.request.argv, output, io.signal, { openSession, stdin: io.stdin });
    },
  });
  writeDaemonRecord(dataDir, {
    pid: process.pid,
    socket: socketPath,
    version: "0.0.0",
    startedAt,
    peers: shared.peers,
  });
  let closing: Promise<void> | undefined;
  return {
    socketPath,
    startedAt,
    close() {
      closing ??= (async () => {
        await server.close({ abort: true });
        rmSync(join(dataDir, recordFileName), { force: true });
      })();
      return closing;
    },
  };
}
