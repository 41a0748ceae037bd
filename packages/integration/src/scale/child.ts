/**
 * A child process for a measurement taken alone (`member-alone.ts`, `owner-alone.ts`): the module
 * at `url` run with the parent's flags, asked once over IPC, answering once.
 *
 * @module
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * Runs the module at `url` in a child process, sends it `input` and waits for its one answer and its
 * exit (the child exits once it has answered).
 *
 * @param url - the child module (a `.ts` file beside the caller)
 * @param input - its input (advanced serialization: typed arrays, maps, bigints)
 * @param what - names the child in an error
 * @param extraArgv - Node flags for the child besides the parent's (e.g. a profiler's)
 * @returns the child's answer
 * @throws when the child fails, or exits before it answers
 */
export async function askChild<T>(
  url: URL,
  input: unknown,
  what: string,
  extraArgv: readonly string[] = [],
): Promise<T> {
  // The parent's flags (its TypeScript loader, the source condition) but a profiler's; a runner
  // that loads TypeScript its own way (vitest) gets tsx.
  const execArgv = process.execArgv.filter((arg) => !arg.startsWith("--cpu-prof"));
  const tsx = (arg: string) => arg === "tsx" || /[/\\]tsx[/\\]dist[/\\]/.test(arg);
  if (!execArgv.some(tsx)) execArgv.push("--import", "tsx");
  if (!execArgv.some((arg) => arg.includes("@orgchat/source"))) {
    execArgv.push("--conditions=@orgchat/source");
  }
  execArgv.push(...extraArgv);
  const child = fork(fileURLToPath(url), [], {
    execArgv,
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const answer = new Promise<T>((resolve, reject) => {
    child.once("message", (message) => resolve(message as T));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${what} child exited (${code})`)));
  });
  // The child exits once it has answered; a profiler writes its file at that exit.
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.send(input as object);
  try {
    const result = await answer;
    await exited;
    return result;
  } finally {
    child.kill();
  }
}
