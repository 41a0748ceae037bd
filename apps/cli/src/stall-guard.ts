/**
 * The net under a one-shot command. When Node's event loop runs empty while the command still waits,
 * nothing is left that could ever end the wait: a promise that only something holding no handle could
 * settle (a deadline on an unref'd timer, an event from a socket already gone). Node would then end
 * the process with exit code 13 and a warning about an unsettled top-level await. Instead,
 * {@link guardStall} says what was pending and what to do, and exits with `exitCodes.stalled` (4).
 *
 * Nothing is lost by that exit: the client commits in atomic batches (persist before send), and the
 * store's lock is the kernel's, released with the process. The same command run again picks up there.
 */
import { exitCodes } from "./errors.js";
import type { Output } from "./format.js";
import { inlineText } from "./terminal-text.js";

let step = "starting";
let command = "";

/** Records the command being run (`runCli` does, once it found it): the name a stall report uses. */
export function noteCommand(name: string): void {
  command = name;
}

/**
 * Records the step a command is at (what {@link guardStall} names if it stalls there). Called by the
 * session's trace points and by the runner.
 */
export function noteStep(now: string): void {
  step = now;
}

/** The last step {@link noteStep} recorded. */
export function lastStep(): string {
  return step;
}

/** What {@link guardStall} needs to report a stall. */
export interface StallGuardInit {
  /** The command line's arguments (for `--json`). */
  readonly argv: readonly string[];
  readonly output: Output;
  /** Whether the command already wrote to stdout (with `--json`: its one document). */
  readonly wroteStdout: () => boolean;
}

/**
 * `base` with its stdout watched: what {@link StallGuardInit.wroteStdout} asks.
 * @returns the output to run the command with, and whether anything was written to its stdout
 */
export function watchedOutput(base: Output): { output: Output; wroteStdout: () => boolean } {
  let wrote = false;
  return {
    output: {
      ...base,
      stdout: (text) => {
        wrote = true;
        base.stdout(text);
      },
    },
    wroteStdout: () => wrote,
  };
}

/** The one line printed when the command `name` stalled at the step `at`. */
export function stalledLine(name: string, at: string): string {
  return `${name === "" ? "the command" : `\`orgchat ${name}\``} stopped with work pending that nothing could finish any more (last step: ${at}); the data directory is consistent (the client commits in atomic batches): run the command again, and if this repeats, report it with the output of ORGCHAT_TRACE=1`;
}

/**
 * Waits for `work`; if the event loop runs empty first (Node's `beforeExit` while `work` is pending),
 * prints {@link stalledLine} on stderr (and, with `--json`, the failure document on stdout unless the
 * command printed one) and exits with `exitCodes.stalled`.
 * @returns what `work` resolves with
 */
export async function guardStall<T>(work: Promise<T>, init: StallGuardInit): Promise<T> {
  const onEmptyLoop = () => {
    // The step may be a progress line naming an organization (someone else's words): one line, escaped.
    const line = inlineText(stalledLine(command, lastStep()));
    // After a progress line: on a terminal, over it; otherwise on a line of its own.
    init.output.stderr(
      `\norgchat: ${line}\n`.replace(/^\n/, init.output.stderrIsTTY ? "\r\x1b[K" : ""),
    );
    if (init.argv.includes("--json") && !init.wroteStdout()) {
      init.output.stdout(
        `${JSON.stringify({ ok: false, error: line, exitCode: exitCodes.stalled })}\n`,
      );
    }
    process.exit(exitCodes.stalled);
  };
  process.on("beforeExit", onEmptyLoop);
  try {
    return await work;
  } finally {
    process.off("beforeExit", onEmptyLoop);
  }
}
