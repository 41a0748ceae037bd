/**
 * Runs `orgchat` as a user would: one OS process per command, each identity in its own data
 * directory, against `orgchat serve` on 127.0.0.1. Commands run the compiled `src/main.ts` that
 * `test/launcher.ts` builds once per run. Nothing here waits for time: a test waits for a process to
 * exit or for a line of its output ({@link waitForOutput}); the test timeout is only a net for a hang.
 * Every process started here is killed by {@link killAll} / {@link killStartedSince}, also when a
 * test fails.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, expect, inject } from "vitest";

export const appDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Network waits of every command in tests (`--timeout`, seconds): a service node that takes long to
 * answer on a loaded machine must not decide a test's outcome. Commands that pass their own keep it.
 */
const networkTimeout = ["--timeout", "600"];

/** The node arguments that run `orgchat args…` (the compiled launcher). */
function orgchatArgv(args: readonly string[]): string[] {
  const own = args.includes("--timeout") || args.includes("--help");
  return [inject("orgchatMain"), ...args, ...(own ? [] : networkTimeout)];
}

/** The node command line of `orgchat` (for `script -c`). */
export function orgchatCommandLine(args: readonly string[]): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [process.execPath, ...orgchatArgv(args)].map(quote).join(" ");
}

export interface Run {
  readonly child: ChildProcess;
  /** What the command line was (for failure messages). */
  readonly what: string;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

const running = new Set<Run>();
/**
 * `ORGCHAT_TEST_PROCESS_LOG=<file>`: one JSON line per process a test started (file, test, command
 * line, wall time in ms, exit code), appended when it exits: where a suite's time goes, by command.
 */
const processLog = process.env.ORGCHAT_TEST_PROCESS_LOG;
const temps: string[] = [];

/** Starts `orgchat args…` (stdin is a pipe: write to `child.stdin`). */
export function start(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, orgchatArgv(args), {
    cwd: appDir,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ORGCHAT_HOME: join(tmpdir(), "orgchat-test-home-unused"), ...env },
  });
  return track(child, `orgchat ${args.join(" ")}`);
}

/** Starts a program (`script` for a pseudo-terminal, `bin/orgchat.js`), `env` added to this one's. */
export function startProgram(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Run {
  const child = spawn(file, args, {
    cwd: appDir,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  return track(child, `${file} ${args.join(" ")}`);
}

function track(child: ChildProcess, what: string): Run {
  const run: Run = {
    child,
    what,
    stdout: "",
    stderr: "",
    // "close", not "exit": its output is complete then.
    exited: new Promise((done) =>
      child.once("close", (code, signal) => done(code ?? (signal === null ? null : 128))),
    ),
  };
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    run.stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    run.stderr += chunk;
  });
  running.add(run);
  const started = performance.now();
  const { testPath, currentTestName } = expect.getState();
  void run.exited.then((code) => {
    running.delete(run);
    if (processLog === undefined || processLog === "") return;
    const file = testPath?.split("/").pop();
    const ms = Math.round(performance.now() - started);
    appendFileSync(
      processLog,
      `${JSON.stringify({ file, test: currentTestName, what, ms, code })}\n`,
    );
  });
  return run;
}

/**
 * Waits until `text` appears in the process's stdout or stderr (what has already arrived counts).
 * Rejects, with what the process printed, if it exits first.
 */
export function waitForOutput(run: Run, stream: "stdout" | "stderr", text: string): Promise<void> {
  return new Promise<void>((done, fail) => {
    const source = run.child[stream];
    const check = () => {
      if (!run[stream].includes(text)) return false;
      source?.off("data", onData);
      done();
      return true;
    };
    // Listeners run in order: `track`'s (which appends the chunk) was added first.
    const onData = () => {
      check();
    };
    if (check()) return;
    source?.on("data", onData);
    void run.exited.then(() => {
      if (check()) return;
      source?.off("data", onData);
      fail(
        new Error(
          `${run.what} exited before printing ${JSON.stringify(text)} on ${stream}; stdout: ${run.stdout}; stderr: ${run.stderr}`,
        ),
      );
    });
  });
}

/** The outcome of a finished command. */
export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Waits for a process to exit. */
export async function finish(run: Run): Promise<Result> {
  const code = await run.exited;
  return { code, stdout: run.stdout, stderr: run.stderr };
}

/** Runs `orgchat args…` to completion. */
export async function orgchat(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<Result> {
  return finish(start(args, env));
}

/** Runs `orgchat args… --json` and parses its one JSON document (fails with stderr otherwise). */
export async function orgchatJson<T = Record<string, unknown>>(
  args: readonly string[],
): Promise<T> {
  const result = await orgchat([...args, "--json", "--quiet"]);
  if (result.code !== 0) {
    throw new Error(`orgchat ${args.join(" ")} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return JSON.parse(result.stdout) as T;
}

/** A fresh temporary directory, removed by {@link killAll}. */
export function tempDir(prefix = "orgchat-cli-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** Starts `orgchat serve` on an ephemeral ws port; resolves with its multiaddr once it printed it. */
export async function serve(dataDir: string): Promise<{ run: Run; peer: string }> {
  const run = start(["serve", "--json", "--data", dataDir, "--listen", "/ip4/127.0.0.1/tcp/0/ws"]);
  await waitForOutput(run, "stdout", "\n");
  const info = JSON.parse(run.stdout.slice(0, run.stdout.indexOf("\n"))) as {
    multiaddrs: string[];
  };
  const peer = info.multiaddrs.find((a) => a.includes("/ws/")) ?? "";
  return { run, peer };
}

/** What the processes still running printed (for the report of a failed test). */
export function stillRunning(): string {
  return [...running]
    .map((run) => `${run.what}\n  stdout: ${run.stdout.trim()}\n  stderr: ${run.stderr.trim()}`)
    .join("\n");
}

/** Kills every process still running (SIGKILL) and removes the temporary directories. */
export async function killAll(): Promise<void> {
  await killStartedSince(new Set());
  running.clear();
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The processes running now (per-test cleanup while a shared service node runs). */
export function snapshotRunning(): Set<Run> {
  return new Set(running);
}

/** Kills only the processes started since `before`. */
export async function killStartedSince(before: ReadonlySet<Run>): Promise<void> {
  for (const run of [...running]) {
    if (before.has(run)) continue;
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill("SIGKILL");
      await run.exited;
    }
  }
}

/**
 * The hooks of a suite of commands against one shared `orgchat serve`: starts it before the first
 * test, kills what each test started once it ends (printing what still ran if it failed), and
 * everything after the last test.
 * @returns the service node's address (once the suite's `beforeAll` has run)
 */
export function sharedServiceNode(): () => string {
  let peer = "";
  beforeAll(async () => {
    ({ peer } = await serve(join(tempDir(), "node")));
  });
  processesPerTest();
  return () => peer;
}

/**
 * The hooks of a suite whose tests start their own processes: kills what each test started once it
 * ends (printing what still ran if it failed), and everything after the last test.
 */
export function processesPerTest(): void {
  let before: Set<Run>;
  beforeEach(() => {
    before = snapshotRunning();
  });
  afterEach(async (context) => {
    if ((context.task.result?.errors?.length ?? 0) > 0) {
      console.error(`processes still running when the test failed:\n${stillRunning()}`);
    }
    await killStartedSince(before);
  });
  afterAll(async () => {
    await killAll();
  });
}
