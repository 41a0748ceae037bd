/**
 * Runs `orgchat` as a user would: one OS process per command (`node --import tsx src/main.ts`, what
 * `bin/orgchat.js` runs), each identity in its own data directory, against one `orgchat serve`
 * process on 127.0.0.1. Every process started here is killed by {@link killAll} (call it in
 * `afterEach` / `afterAll`), also when a test fails.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const appDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const mainTs = join(appDir, "src", "main.ts");

/** The node command line of `orgchat` (for `script -c`). */
export function orgchatCommandLine(args: readonly string[]): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [process.execPath, "--conditions=@orgchat/source", "--import", "tsx", mainTs, ...args]
    .map(quote)
    .join(" ");
}

export interface Run {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

const running = new Set<Run>();
const temps: string[] = [];

/** Starts `orgchat args…` (stdin is a pipe: write to `child.stdin`). */
export function start(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(
    process.execPath,
    ["--conditions=@orgchat/source", "--import", "tsx", mainTs, ...args],
    {
      cwd: appDir,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ORGCHAT_HOME: join(tmpdir(), "orgchat-test-home-unused"), ...env },
    },
  );
  return track(child);
}

/** Starts a shell command line (for `script`). */
export function startShell(file: string, args: readonly string[]): Run {
  const child = spawn(file, args, { cwd: appDir, stdio: ["pipe", "pipe", "pipe"] });
  return track(child);
}

function track(child: ChildProcess): Run {
  const run: Run = {
    child,
    stdout: "",
    stderr: "",
    exited: new Promise((done) =>
      child.once("exit", (code, signal) => done(code ?? (signal === null ? null : 128))),
    ),
  };
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    run.stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    run.stderr += chunk;
  });
  running.add(run);
  void run.exited.then(() => running.delete(run));
  return run;
}

/** The outcome of a finished command. */
export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Waits for a process to exit (fails instead of hanging). */
export async function finish(run: Run, timeoutMs = 45_000): Promise<Result> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still running after ${timeoutMs} ms; stderr: ${run.stderr}`)),
      timeoutMs,
    );
  });
  try {
    const code = await Promise.race([run.exited, timeout]);
    return { code, stdout: run.stdout, stderr: run.stderr };
  } finally {
    clearTimeout(timer);
  }
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

/** Waits until `predicate` holds, polling. */
export async function until(
  predicate: () => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 25));
  }
}

/** A fresh temporary directory, removed by {@link killAll}. */
export function tempDir(prefix = "orgchat-cli-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** Starts `orgchat serve` on an ephemeral ws port; resolves with its multiaddr. */
export async function serve(dataDir: string): Promise<{ run: Run; peer: string }> {
  const run = start(["serve", "--json", "--data", dataDir, "--listen", "/ip4/127.0.0.1/tcp/0/ws"]);
  await until(
    () => run.stdout.includes("\n") || run.child.exitCode !== null,
    "orgchat serve to print its address",
  );
  if (run.child.exitCode !== null) throw new Error(`orgchat serve exited: ${run.stderr}`);
  const info = JSON.parse(run.stdout.slice(0, run.stdout.indexOf("\n"))) as {
    multiaddrs: string[];
  };
  const peer = info.multiaddrs.find((a) => a.includes("/ws/")) ?? "";
  return { run, peer };
}

/** Kills every process still running (SIGKILL) and removes the temporary directories. */
export async function killAll(): Promise<void> {
  for (const run of [...running]) {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill("SIGKILL");
      await run.exited;
    }
  }
  running.clear();
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Kills only the processes started since `before` (per-test cleanup while a shared server runs). */
export function snapshotRunning(): Set<Run> {
  return new Set(running);
}

export async function killStartedSince(before: ReadonlySet<Run>): Promise<void> {
  for (const run of [...running]) {
    if (before.has(run)) continue;
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill("SIGKILL");
      await run.exited;
    }
  }
}
