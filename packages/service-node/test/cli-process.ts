/**
 * `orgchat-node` as a child process for tests: start it from source, wait for its output or its exit
 * on events (with a safety net against a hang only).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** A safety net only: every wait below ends on an event (output, exit) long before it. */
export const safetyNetMs = 45_000;

export interface Run {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Settles when the process has exited and its stdout and stderr are fully read (`close`). */
  readonly closed: Promise<number | null>;
  /** Wakes the waiters of {@link until} (on output and on close). */
  readonly changed: EventTarget;
}

/**
 * Starts the CLI from source (`node --import tsx`, as `pnpm start` does through tsx); pushes onto
 * `cleanups` the step that kills it (if still running) and waits for it to close.
 */
export function run(args: readonly string[], cleanups: (() => Promise<void>)[]): Run {
  const child = spawn(
    process.execPath,
    ["--conditions=@orgchat/source", "--import", "tsx", "src/cli.ts", ...args],
    { cwd: packageDir, stdio: ["ignore", "pipe", "pipe"] },
  );
  const changed = new EventTarget();
  const result: Run = {
    child,
    stdout: "",
    stderr: "",
    closed: new Promise((resolveClose) =>
      child.once("close", (code) => {
        resolveClose(code);
        changed.dispatchEvent(new Event("change"));
      }),
    ),
    changed,
  };
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    result.stdout += chunk;
    changed.dispatchEvent(new Event("change"));
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    result.stderr += chunk;
    changed.dispatchEvent(new Event("change"));
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await result.closed;
  });
  return result;
}

/**
 * Resolves with `read(r)` once it is defined, re-checking after every chunk of output; rejects when
 * the process ends first, or (safety net) after {@link safetyNetMs}.
 */
export function until<T>(r: Run, what: string, read: (r: Run) => T | undefined): Promise<T> {
  return new Promise((resolveValue, reject) => {
    const check = () => {
      const value = read(r);
      if (value !== undefined) {
        done();
        resolveValue(value);
      } else if (r.child.exitCode !== null || r.child.signalCode !== null) {
        // Exited: the output may still be arriving; decide once it is complete.
        void r.closed.then(() => {
          const late = read(r);
          done();
          if (late !== undefined) resolveValue(late);
          else reject(new Error(`exited before ${what}: ${r.stderr}`));
        });
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no ${what} within ${safetyNetMs} ms: ${r.stderr}`));
    }, safetyNetMs);
    const done = () => {
      clearTimeout(timer);
      r.changed.removeEventListener("change", check);
    };
    r.changed.addEventListener("change", check);
    check();
  });
}

/** The first line of stdout, as soon as it is complete. */
export function firstLine(r: Run): Promise<string> {
  return until(r, "first line", ({ stdout }) =>
    stdout.includes("\n") ? stdout.slice(0, stdout.indexOf("\n")) : undefined,
  );
}

/** The exit code, once the process exited and all of its output was read. */
export async function exitCode(r: Run): Promise<number | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still running after ${safetyNetMs} ms`)),
      safetyNetMs,
    );
  });
  try {
    return await Promise.race([r.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
