/**
 * The one-shot side of the profile daemon (docs/CLI-DAEMON.md): before a command opens its data
 * directory, it looks for that directory's daemon and, when one listens, hands it the command line
 * and relays its output. Loaded by `main.ts` before anything heavy: it needs only `node:net` and the
 * command line.
 */
import { parseArgs } from "node:util";
import { dataDirOf } from "../session.js";
import { connectDaemon, DaemonLostError, runThroughDaemon } from "./client.js";
import { socketPathFor } from "./rendezvous.js";

/**
 * Commands that never go to a daemon: they are the daemon, or a service node of their own, or they
 * ask a passphrase on this terminal (`id backup` hands the daemon the copy itself, `commands/backup.ts`).
 */
const local = new Set(["serve", "daemon start", "help", "id backup", "id restore"]);

/** The options every command takes that decide where and whether it runs. */
const routing = {
  data: { type: "string" },
  profile: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

/**
 * The command line's words and routing options, read leniently (the runner reports mistakes).
 * @returns undefined when it cannot be read
 */
export function commandLine(
  argv: readonly string[],
):
  | { readonly positionals: readonly string[]; readonly values: Record<string, unknown> }
  | undefined {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: routing,
      allowPositionals: true,
      strict: false,
    });
    return { values, positionals };
  } catch {
    return undefined;
  }
}

/** Where a forwarded command reads and writes (the process's streams in `main.ts`). */
export interface ForwardStreams {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  readonly columns?: number;
  readonly signal: AbortSignal;
}

/**
 * Runs `argv` in the data directory's daemon when one listens.
 * @returns the command's exit code, or `undefined` when the command runs here (no daemon, help,
 * version, a command that is never forwarded, or a command line this cannot read: the runner then
 * explains it)
 */
export async function forwardToDaemon(
  argv: readonly string[],
  streams: ForwardStreams,
): Promise<number | undefined> {
  const parsed = commandLine(argv);
  if (parsed === undefined) return undefined;
  const { values, positionals } = parsed;
  if (values.help === true || values.version === true || positionals.length === 0) return undefined;
  const [first = "", second = ""] = positionals;
  if (local.has(first) || local.has(`${first} ${second}`)) return undefined;
  const data = typeof values.data === "string" ? values.data : undefined;
  const profile = typeof values.profile === "string" ? values.profile : undefined;
  const dataDir = dataDirOf({
    ...(data === undefined ? {} : { data }),
    ...(profile === undefined ? {} : { profile }),
  });
  const socket = await connectDaemon(socketPathFor(dataDir));
  if (socket === undefined) return undefined;
  // Commands that read what the user types: `chat`, and `send … -`.
  const reads = first === "chat" || (first === "send" && positionals.includes("-"));
  try {
    // The daemon may run in another directory or with another ORGCHAT_HOME: name the directory whole
    // (the last --data wins over earlier ones and over --profile).
    const end = argv.indexOf("--");
    const named =
      end < 0
        ? [...argv, "--data", dataDir]
        : [...argv.slice(0, end), "--data", dataDir, ...argv.slice(end)];
    return await runThroughDaemon(socket, named, {
      stdout: streams.stdout,
      stderr: streams.stderr,
      ...(reads ? { stdin: streams.stdin as unknown as import("node:stream").Readable } : {}),
      stdinIsTTY: streams.stdin.isTTY === true,
      stdoutIsTTY: streams.stdoutIsTTY,
      stderrIsTTY: streams.stderrIsTTY,
      // A terminal may report 0 columns (unknown): sent only when it says.
      ...(streams.columns !== undefined && streams.columns > 0 ? { columns: streams.columns } : {}),
      signal: streams.signal,
    });
  } catch (error) {
    if (error instanceof DaemonLostError) {
      streams.stderr(`orgchat: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
