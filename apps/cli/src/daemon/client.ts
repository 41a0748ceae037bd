/**
 * A command's side of the daemon socket (docs/CLI-DAEMON.md): finds the data directory's daemon,
 * hands it the command line, forwards what the user types and Ctrl-C, and writes what the command
 * prints, until its exit code arrives.
 */
import { connect, type Socket } from "node:net";
import type { Readable } from "node:stream";
import {
  daemonLimits,
  daemonProtocolVersion,
  encodeFrame,
  FrameError,
  FrameReader,
  parseDaemonFrame,
  type RunFrame,
} from "./frames.js";

/** The daemon went away while it ran the command. */
export class DaemonLostError extends Error {
  override readonly name = "DaemonLostError";
}

/**
 * Connects to the daemon listening on `socketPath`.
 * @returns the connection, or `undefined` when no daemon listens there
 * @throws the connection error when one listens but cannot be reached (e.g. permissions)
 */
export function connectDaemon(socketPath: string): Promise<Socket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(socket);
    });
    const onError = (error: NodeJS.ErrnoException) => {
      socket.destroy();
      if (error.code === "ENOENT" || error.code === "ECONNREFUSED" || error.code === "ENOTSOCK") {
        resolve(undefined);
      } else reject(error);
    };
    socket.once("error", onError);
  });
}

/** Where a forwarded command's input comes from and its output goes. */
export interface ForwardIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Forwarded when set (commands that read what the user types: `chat`). */
  readonly stdin?: Readable;
  readonly stdinIsTTY: boolean;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  readonly columns?: number;
  /** Ctrl-C: forwarded to the daemon, which aborts the command. */
  readonly signal: AbortSignal;
}

/**
 * Runs `argv` in the daemon behind `socket` (which this takes over and closes).
 * @returns the command's exit code (a refusal's reason is written to stderr)
 * @throws DaemonLostError when the connection ends before the exit code
 */
export function runThroughDaemon(
  socket: Socket,
  argv: readonly string[],
  io: ForwardIo,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const reader = new FrameReader(daemonLimits.maxFrameBytes);
    let exitCode: number | undefined;
    const first: RunFrame = {
      v: daemonProtocolVersion,
      argv,
      stdinIsTTY: io.stdinIsTTY,
      stdoutIsTTY: io.stdoutIsTTY,
      stderrIsTTY: io.stderrIsTTY,
      ...(io.columns === undefined ? {} : { columns: io.columns }),
    };
    socket.write(encodeFrame(first));

    const onStdin = (chunk: Buffer | string) => {
      if (!socket.write(encodeFrame({ stdin: chunk.toString() }))) {
        io.stdin?.pause();
        socket.once("drain", () => io.stdin?.resume());
      }
    };
    const onStdinEnd = () => {
      if (socket.writable) socket.write(encodeFrame({ stdinEnd: true }));
    };
    io.stdin?.on("data", onStdin);
    io.stdin?.on("end", onStdinEnd);
    const onAbort = () => {
      if (socket.writable) socket.write(encodeFrame({ signal: "SIGINT" }));
    };
    io.signal.addEventListener("abort", onAbort, { once: true });
    if (io.signal.aborted) onAbort();

    const cleanUp = () => {
      io.stdin?.off("data", onStdin);
      io.stdin?.off("end", onStdinEnd);
      io.signal.removeEventListener("abort", onAbort);
    };

    socket.on("data", (chunk: Buffer) => {
      let frames: unknown[];
      try {
        frames = reader.push(chunk);
        for (const value of frames) {
          const frame = parseDaemonFrame(value);
          if ("refused" in frame) {
            io.stderr(`orgchat: the daemon refused the command: ${frame.refused}\n`);
            exitCode = frame.exit;
          } else if ("exit" in frame) exitCode = frame.exit;
          else if ("out" in frame) io.stdout(frame.out);
          else io.stderr(frame.err);
        }
      } catch (error) {
        socket.destroy(error instanceof FrameError ? error : new FrameError(String(error)));
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      cleanUp();
      if (exitCode !== undefined) resolve(exitCode);
      else {
        reject(
          new DaemonLostError(
            "the daemon stopped while it ran this command, so its effect is unknown: check with `orgchat read` or `orgchat daemon status`, then run it again if needed",
          ),
        );
      }
    });
  });
}
