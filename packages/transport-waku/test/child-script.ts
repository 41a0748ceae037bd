/**
 * Runs one of this package's test scripts in a child Node process (sources through tsx) and
 * collects its exit: for tests whose outcome is how a process ends (exits by itself, or waits for a
 * deadline instead of running out of events).
 */
import { spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** How the child ended. */
export interface ChildExit {
  readonly code: number | null;
  /** The signal that ended it (the watchdog's), or `null`. */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `script` (a path relative to the package) and resolves when it exits.
 *
 * @param script - e.g. `test/light-exit-script.ts`
 * @param watchdog - a safety net only: after `ms`, the child gets `signal`
 */
export async function runChildScript(
  script: string,
  watchdog: { readonly ms: number; readonly signal: NodeJS.Signals },
): Promise<ChildExit> {
  const child = spawn(
    process.execPath,
    ["--conditions=@orgchat/source", "--import", "tsx", script],
    { cwd: packageDir, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill(watchdog.signal), watchdog.ms);
  const code = await new Promise<number | null>((done) => child.once("exit", (c) => done(c)));
  clearTimeout(timer);
  return { code, signal: child.signalCode, stdout, stderr };
}
