/**
 * The profile daemon's wire format (docs/CLI-DAEMON.md): newline-delimited JSON frames on a Unix
 * socket, each checked for shape and size before anything acts on it. Both ends use {@link FrameReader}
 * to cut the byte stream into frames.
 */

/** Protocol version in the first frame; a daemon refuses any other. */
export const daemonProtocolVersion = 1;

/** Bounds of the protocol (docs/CLI-DAEMON.md, "Bounds"). */
export const daemonLimits = {
  /** Largest frame, in bytes of its JSON text (without the newline). */
  maxFrameBytes: 1024 * 1024,
  /** Connections served at once; more are refused with "busy". */
  maxConnections: 32,
  /** Entries of a forwarded command line. */
  maxArgs: 256,
  /** Characters of one command-line entry. */
  maxArgChars: 64 * 1024,
  /** Output kept for a connection whose reader is slow; above it the command is aborted. */
  maxPendingOutputBytes: 8 * 1024 * 1024,
  /** How long a new connection may take to send its first frame (a liveness bound), in ms. */
  handshakeMs: 10_000,
} as const;

export type DaemonLimits = { -readonly [K in keyof typeof daemonLimits]: number };

/** The first frame: run this command line. */
export interface RunFrame {
  readonly v: number;
  readonly argv: readonly string[];
  readonly stdinIsTTY: boolean;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** Terminal width, when stdout is a terminal. */
  readonly columns?: number;
}

/** What a command's process sends after the first frame. */
export type CommandFrame =
  | { readonly stdin: string }
  | { readonly stdinEnd: true }
  | { readonly signal: "SIGINT" | "SIGTERM" };

/** What the daemon sends. */
export type DaemonFrame =
  | { readonly out: string }
  | { readonly err: string }
  | { readonly exit: number }
  | { readonly refused: string; readonly exit: number };

/** A frame that broke the protocol (bad JSON, wrong shape, too long). */
export class FrameError extends Error {
  override readonly name = "FrameError";
}

/** Encodes one frame with its newline. */
export function encodeFrame(frame: RunFrame | CommandFrame | DaemonFrame): string {
  return `${JSON.stringify(frame)}\n`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, keys: readonly string[]): boolean {
  return Object.keys(value).every((key) => keys.includes(key));
}

/**
 * Checks a parsed first frame.
 * @throws FrameError naming what is wrong
 */
export function parseRunFrame(value: unknown, limits: DaemonLimits = daemonLimits): RunFrame {
  if (!isObject(value)) throw new FrameError("the first frame is not an object");
  if (value.v !== daemonProtocolVersion) {
    throw new FrameError(
      `protocol version ${JSON.stringify(value.v)} (this daemon speaks ${daemonProtocolVersion}): run the same orgchat for the command and the daemon`,
    );
  }
  const { argv, columns } = value;
  if (!Array.isArray(argv) || argv.length > limits.maxArgs) {
    throw new FrameError(`argv must be an array of at most ${limits.maxArgs} strings`);
  }
  for (const arg of argv) {
    if (typeof arg !== "string" || arg.length > limits.maxArgChars) {
      throw new FrameError(
        `argv entries must be strings of at most ${limits.maxArgChars} characters`,
      );
    }
  }
  for (const flag of ["stdinIsTTY", "stdoutIsTTY", "stderrIsTTY"] as const) {
    if (typeof value[flag] !== "boolean") throw new FrameError(`${flag} must be a boolean`);
  }
  if (
    columns !== undefined &&
    !(Number.isInteger(columns) && (columns as number) > 0 && (columns as number) <= 10_000)
  ) {
    throw new FrameError("columns must be an integer in 1..10000");
  }
  if (!onlyKeys(value, ["v", "argv", "stdinIsTTY", "stdoutIsTTY", "stderrIsTTY", "columns"])) {
    throw new FrameError("the first frame has unknown fields");
  }
  return {
    v: daemonProtocolVersion,
    argv: argv as string[],
    stdinIsTTY: value.stdinIsTTY as boolean,
    stdoutIsTTY: value.stdoutIsTTY as boolean,
    stderrIsTTY: value.stderrIsTTY as boolean,
    ...(columns === undefined ? {} : { columns: columns as number }),
  };
}

/**
 * Checks a parsed frame from a command's process (after the first).
 * @throws FrameError naming what is wrong
 */
export function parseCommandFrame(value: unknown): CommandFrame {
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && typeof value.stdin === "string") return { stdin: value.stdin };
    if (keys.length === 1 && value.stdinEnd === true) return { stdinEnd: true };
    if (keys.length === 1 && (value.signal === "SIGINT" || value.signal === "SIGTERM")) {
      return { signal: value.signal };
    }
  }
  throw new FrameError("unknown frame from the command");
}

function isExitCode(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 255;
}

/**
 * Checks a parsed frame from the daemon.
 * @throws FrameError naming what is wrong
 */
export function parseDaemonFrame(value: unknown): DaemonFrame {
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && typeof value.out === "string") return { out: value.out };
    if (keys.length === 1 && typeof value.err === "string") return { err: value.err };
    if (keys.length === 1 && isExitCode(value.exit)) return { exit: value.exit };
    if (keys.length === 2 && typeof value.refused === "string" && isExitCode(value.exit)) {
      return { refused: value.refused, exit: value.exit };
    }
  }
  throw new FrameError("unknown frame from the daemon");
}

/**
 * Cuts a byte stream into JSON frames, never holding more than `maxFrameBytes` of an unfinished one.
 */
export class FrameReader {
  readonly #maxFrameBytes: number;
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(maxFrameBytes: number = daemonLimits.maxFrameBytes) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /**
   * Adds bytes and returns the frames they completed, parsed as JSON (shape not checked).
   * @throws FrameError when a frame is longer than the bound, or not UTF-8 JSON
   */
  push(chunk: Buffer): unknown[] {
    const frames: unknown[] = [];
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(0x0a, start);
      if (end < 0) break;
      const piece = chunk.subarray(start, end);
      const bytes = this.#pendingBytes + piece.length;
      if (bytes > this.#maxFrameBytes) throw this.#tooLong();
      const line = this.#pending.length === 0 ? piece : Buffer.concat([...this.#pending, piece]);
      this.#pending = [];
      this.#pendingBytes = 0;
      frames.push(this.#parse(line));
      start = end + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0) {
      this.#pendingBytes += rest.length;
      if (this.#pendingBytes > this.#maxFrameBytes) throw this.#tooLong();
      this.#pending.push(Buffer.from(rest));
    }
    return frames;
  }

  /** Bytes of an unfinished frame held. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  #tooLong(): FrameError {
    this.#pending = [];
    this.#pendingBytes = 0;
    return new FrameError(`a frame is longer than ${this.#maxFrameBytes} bytes`);
  }

  #parse(line: Uint8Array): unknown {
    try {
      return JSON.parse(this.#decoder.decode(line));
    } catch {
      throw new FrameError("a frame is not UTF-8 JSON");
    }
  }
}
