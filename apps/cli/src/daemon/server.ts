/**
 * The daemon's side of the socket (docs/CLI-DAEMON.md): accepts connections from the profile owner's
 * commands, runs each command line it receives through an injected runner, streams the command's
 * output back, and keeps every connection inside the protocol's bounds.
 */
import { unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { Readable } from "node:stream";
import {
  type DaemonFrame,
  type DaemonLimits,
  daemonLimits,
  encodeFrame,
  FrameError,
  FrameReader,
  parseCommandFrame,
  parseRunFrame,
  type RunFrame,
} from "./frames.js";
import { prepareSocketDir } from "./rendezvous.js";

/** What a command run by the daemon gets instead of a process's streams. */
export interface CommandIo {
  /** The forwarded command line and its terminal. */
  readonly request: RunFrame;
  stdout(text: string): void;
  stderr(text: string): void;
  /** What the user types; ends with the command's stdin (or its connection). */
  readonly stdin: Readable;
  /** Aborted by the command's Ctrl-C, by its connection closing, or by the daemon stopping. */
  readonly signal: AbortSignal;
}

/** Runs one forwarded command line; resolves with its exit code. */
export type RunCommand = (io: CommandIo) => Promise<number>;

/** A listening daemon socket. */
export interface DaemonServer {
  readonly socketPath: string;
  /** Commands running now. */
  readonly running: number;
  /**
   * Stops accepting connections and waits until the running commands ended (aborting them first
   * when `abort` is set), then removes the socket file.
   */
  close(options?: { readonly abort?: boolean }): Promise<void>;
}

/**
 * Listens on `socketPath`. The caller must hold the data directory's store lock: a socket file left
 * at that path can then only be a dead daemon's, and is removed.
 * @throws UnsafeSocketDirError (the socket's directory is not this user's alone), or the listen error
 */
export async function listenDaemon(init: {
  readonly socketPath: string;
  readonly run: RunCommand;
  readonly limits?: Partial<DaemonLimits>;
}): Promise<DaemonServer> {
  const limits: DaemonLimits = { ...daemonLimits, ...init.limits };
  prepareSocketDir(init.socketPath);
  try {
    unlinkSync(init.socketPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const connections = new Set<Socket>();
  const commands = new Set<Promise<void>>();
  const aborts = new Set<AbortController>();
  const server: Server = createServer((socket) => {
    if (connections.size >= limits.maxConnections) {
      // Read (and drop) what it sends, so that its end arrives and the socket closes.
      socket.on("error", () => undefined);
      socket.resume();
      socket.end(
        encodeFrame({
          refused: `the daemon is busy (${limits.maxConnections} commands at once): try again when one ended`,
          exit: 1,
        }),
      );
      return;
    }
    connections.add(socket);
    socket.on("close", () => connections.delete(socket));
    const done = serveConnection(socket, init.run, limits, aborts);
    commands.add(done);
    void done.finally(() => commands.delete(done));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(init.socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    socketPath: init.socketPath,
    get running() {
      return aborts.size;
    },
    close(options = {}) {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        if (options.abort === true) for (const abort of aborts) abort.abort();
        while (commands.size > 0) await Promise.allSettled([...commands]);
        for (const socket of connections) socket.destroy();
        await stopped;
        try {
          unlinkSync(init.socketPath);
        } catch {
          // Already gone (listen's close removes it on some systems).
        }
      })();
      return closing;
    },
  };
}

/** Serves one connection: its first frame, the command, its stdin and signals, its output. */
function serveConnection(
  socket: Socket,
  run: RunCommand,
  limits: DaemonLimits,
  aborts: Set<AbortController>,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const reader = new FrameReader(limits.maxFrameBytes);
    const abort = new AbortController();
    let request: RunFrame | undefined;
    let finished = false;
    let stdinEnded = false;
    const stdin = new Readable({
      read() {
        socket.resume();
      },
    });
    const endStdin = () => {
      if (stdinEnded) return;
      stdinEnded = true;
      stdin.push(null);
    };
    const send = (frame: DaemonFrame) => {
      if (socket.destroyed || !socket.writable) return;
      socket.write(encodeFrame(frame));
      if (socket.writableLength > limits.maxPendingOutputBytes && !abort.signal.aborted) {
        // The command's terminal is not reading: stop the command rather than grow without bound.
        abort.abort();
        socket.destroy();
      }
    };
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(handshake);
      aborts.delete(abort);
      endStdin();
      resolve();
    };
    const refuse = (reason: string) => {
      send({ refused: reason, exit: 2 });
      socket.end();
      abort.abort();
      if (request === undefined) finish();
    };
    const handshake = setTimeout(() => {
      if (request === undefined) refuse("no command line arrived in time");
    }, limits.handshakeMs);

    socket.on("data", (chunk: Buffer) => {
      let frames: unknown[];
      try {
        frames = reader.push(chunk);
      } catch (error) {
        refuse(error instanceof FrameError ? error.message : "unreadable frame");
        return;
      }
      for (const value of frames) {
        try {
          if (request === undefined) {
            request = parseRunFrame(value, limits);
            clearTimeout(handshake);
            start(request);
            continue;
          }
          const frame = parseCommandFrame(value);
          if ("stdin" in frame) {
            if (!stdinEnded && !stdin.push(frame.stdin)) socket.pause();
          } else if ("stdinEnd" in frame) endStdin();
          else abort.abort();
        } catch (error) {
          refuse(error instanceof FrameError ? error.message : "unreadable frame");
          return;
        }
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      abort.abort();
      endStdin();
      if (request === undefined) finish();
    });

    function start(frame: RunFrame) {
      aborts.add(abort);
      const io: CommandIo = {
        request: frame,
        stdout: (text) => send({ out: text }),
        stderr: (text) => send({ err: text }),
        stdin,
        signal: abort.signal,
      };
      run(io)
        .then(
          (code) => send({ exit: Number.isInteger(code) && code >= 0 && code <= 255 ? code : 1 }),
          (error: unknown) => {
            send({ err: `orgchat: the daemon failed running the command: ${String(error)}\n` });
            send({ exit: 1 });
          },
        )
        .finally(() => {
          if (!socket.destroyed) socket.end();
          finish();
        });
    }
  });
}
