/** The shape of a command: its options, help text, and what it runs. */
import type { CommandResult, Output, Progress } from "./format.js";
import type { GlobalOptions, Session, SessionInit } from "./session.js";

/** An option of `util.parseArgs`. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly multiple?: boolean;
  readonly short?: string;
  /** Shown in help: `--name VALUE   text`. */
  readonly help: string;
  readonly value?: string;
}

export interface CommandContext {
  /** Positional arguments after the command's name. */
  readonly args: readonly string[];
  /** The command's own option values. */
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly global: GlobalOptions;
  readonly output: Output;
  readonly progress: Progress;
  readonly signal: AbortSignal;
  /**
   * What the user types (`chat`, `send -`): the process's stdin, or the forwarded one inside the
   * profile daemon (docs/CLI-DAEMON.md). Unset: `process.stdin`.
   */
  readonly stdin?: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  /** Opens the data directory; closed by the runner after `run` (also on error or Ctrl-C). */
  session(init: Omit<SessionInit, "progress" | "signal">): Promise<Session>;
}

export interface CommandSpec {
  /** One or two words: `send`, `org create`. */
  readonly name: string;
  readonly summary: string;
  /** Positionals, e.g. `CHANNEL TEXT…`. */
  readonly args: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly examples: readonly string[];
  /** Extra paragraphs of help. */
  readonly notes?: string;
  /**
   * Only the organization's owner may run it (requests, accept, ban, …): the runner checks the role in
   * the profile before the network opens.
   */
  readonly requiresOwner?: boolean;
  /**
   * With `requiresOwner`: the organization's delegates (admins and managers) may run it too
   * (docs/DELEGATION.md). Their rank is checked by the command after catching up (a role may have
   * been granted while this profile was offline), not by the runner.
   */
  readonly delegable?: boolean;
  /** Streams its own output (chat, serve): the runner prints nothing after it. */
  readonly streaming?: boolean;
  run(
    context: CommandContext,
  ): Promise<CommandResult & { readonly exitCode?: number; readonly error?: string }>;
}
