/**
 * What the CLI benches (`commands.ts`, `serve-owner.ts`) share: their command-line options, the
 * command built into a temporary directory with a private `ORGCHAT_HOME`, `orgchat` processes started
 * and stopped, and percentiles.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuiltCli, buildCli } from "../scripts/build.ts";

/** A bench's options: `[--json] [--runs N] [--quick]`. */
export interface BenchOptions {
  /** `--json`: one JSON document on stdout instead of a table. */
  readonly json: boolean;
  /** `--runs N`, else 3 with `--quick`, else the bench's own default. */
  readonly runs: number;
}

/**
 * Reads a bench's options from its command line.
 * @param args - `process.argv.slice(2)`
 * @param fullRuns - the runs without `--runs` or `--quick`
 * @throws RangeError when `--runs` is not a positive integer
 */
export function benchOptions(args: readonly string[], fullRuns: number): BenchOptions {
  const runsAt = args.indexOf("--runs");
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : args.includes("--quick") ? 3 : fullRuns;
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`--runs: got ${args[runsAt + 1]}`);
  return { json: args.includes("--json"), runs };
}

/** Where a bench works: the built command and the environment its processes get. */
export interface BenchWork {
  /** The temporary directory (the bench removes it at its end). */
  readonly work: string;
  /** The command, built as users install it. */
  readonly built: BuiltCli;
  /**
   * This process's environment with `ORGCHAT_HOME` and Node's compile cache (`NODE_COMPILE_CACHE`,
   * see `src/main.ts`) inside {@link work}, and no `ORGCHAT_TRACE`.
   */
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Builds the command (`scripts/build.ts`) into a fresh temporary directory.
 * @param name - the bench's name, part of the directory's
 */
export async function benchWork(name: string): Promise<BenchWork> {
  const work = mkdtempSync(join(tmpdir(), `orgchat-bench-${name}-`));
  const built = await buildCli(join(work, "package"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ORGCHAT_HOME: join(work, "home"),
    NODE_COMPILE_CACHE: join(work, "compile-cache"),
  };
  delete env.ORGCHAT_TRACE;
  return { work, built, env };
}

/**
 * Starts a long-running `orgchat` (`serve`): resolves once its stdout has a line `ready` accepts.
 * @param file - the built entry or launcher to run with Node
 * @param ready - picks the line that says the process is ready (its value is what resolves)
 * @returns the process and the chosen line
 * @throws (rejects) when the process exits first, with what it printed on stderr
 */
export function startCli(
  file: string,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  ready: (lines: readonly string[]) => string | undefined = (lines) => lines[0],
): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, [file, ...argv], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  return new Promise((done, fail) => {
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      // Only whole lines count.
      const line = ready(out.split("\n").slice(0, -1));
      if (line !== undefined) done({ child, line: line.trim() });
    });
    child.once("close", (code) => fail(new Error(`orgchat ${argv[0]} exited ${code}: ${err}`)));
  });
}

/** Stops a process {@link startCli} started (SIGTERM) and waits until it has closed. */
export async function stopCli(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise((done) => child.once("close", done));
  child.kill("SIGTERM");
  await closed;
}

/** The `p`th percentile (nearest rank) of `values`; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
  );
}
