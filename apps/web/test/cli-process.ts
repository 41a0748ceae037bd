/**
 * Runs the `orgchat` command as users do, built from the workspace's sources once per run
 * (`test/cli-build.ts`), one OS process per command, each identity in its own data directory. Waits
 * are on process exits and output lines, never on time; {@link killAll} ends every process started
 * here.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { inject } from "vitest";

/** One started command. */
export interface Run {
  readonly child: ChildProcess;
  readonly what: string;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
  /** Calls `watcher` after each piece of output; returns the function that stops it. */
  watch(watcher: () => void): () => boolean;
}

const running = new Set<Run>();

/**
 * Starts `orgchat args…` (network waits of 600 s unless given: a slow machine must not decide).
 * @param args - the command line after `orgchat`
 * @returns the running command
 */
export function start(args: readonly string[]): Run {
  const own = args.includes("--timeout");
  const child = spawn(
    process.execPath,
    [inject("orgchatMain"), ...args, ...(own ? [] : ["--timeout", "600"])],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ORGCHAT_HOME: "/nonexistent-orgchat-home" },
    },
  );
  const watchers = new Set<() => void>();
  const run: Run = {
    child,
    what: `orgchat ${args.join(" ")}`,
    stdout: "",
    stderr: "",
    exited: new Promise((done) => child.once("close", (code) => done(code))),
    watch(watcher) {
      watchers.add(watcher);
      return () => watchers.delete(watcher);
    },
  };
  for (const name of ["stdout", "stderr"] as const) {
    child[name]?.setEncoding("utf8").on("data", (chunk: string) => {
      run[name] += chunk;
      for (const watcher of watchers) watcher();
    });
  }
  running.add(run);
  child.once("close", () => running.delete(run));
  return run;
}

/**
 * Waits until a command printed `text` on a stream (what it printed before counts).
 * @returns once printed
 * @throws Error with its output when the command exits first
 */
export async function waitForOutput(
  run: Run,
  stream: "stdout" | "stderr",
  text: string,
): Promise<void> {
  let stop = () => false;
  try {
    await Promise.race([
      new Promise<void>((printed) => {
        const look = () => {
          if (run[stream].includes(text)) printed();
        };
        stop = run.watch(look);
        look();
      }),
      run.exited.then(() => {
        if (!run[stream].includes(text)) {
          throw new Error(
            `${run.what} exited before printing ${JSON.stringify(text)}\n${run.stdout}\n${run.stderr}`,
          );
        }
      }),
    ]);
  } finally {
    stop();
  }
}

/**
 * Runs a command to its end and parses its `--json` output.
 * @throws Error with its output when it exits with another code than 0
 */
export async function orgchatJson<T>(args: readonly string[]): Promise<T> {
  const run = start([...args, "--json"]);
  const code = await run.exited;
  if (code !== 0) throw new Error(`${run.what} exited with ${code}\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** Kills every command still running. */
export async function killAll(): Promise<void> {
  const runs = [...running];
  for (const run of runs) run.child.kill("SIGKILL");
  await Promise.all(runs.map((run) => run.exited));
}
