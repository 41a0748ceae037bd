/**
 * The command runner: finds the command, parses its options with `util.parseArgs`, opens the data
 * directory when the command asks, runs it, prints one result (human text, or one JSON document with
 * `--json`), and always closes what it opened, also on errors and Ctrl-C.
 */
import { parseArgs } from "node:util";
import { describeError } from "@orgchat/base";
import type { Client } from "@orgchat/client";
import type { CommandContext, CommandSpec, OptionSpec } from "./command.js";
import { commands } from "./commands/index.js";
import { CliError, exitCodes, explain, isCliError, usageError } from "./errors.js";
import { type Output, printResult, progressOn, shownName } from "./format.js";
import { isDelegateOf, rankIn } from "./ranks.js";
import { resolveOrg } from "./resolve.js";
import {
  dataDirOf,
  type GlobalOptions,
  knownPeers,
  openSession,
  type Session,
  type SessionInit,
} from "./session.js";
import { noteCommand, noteStep } from "./stall-guard.js";
import { inlineText, outputText } from "./terminal-text.js";

const globalOptions: Record<string, OptionSpec> = {
  data: {
    type: "string",
    value: "DIR",
    help: "data directory of this identity (default ~/.orgchat/<profile>)",
  },
  profile: {
    type: "string",
    value: "NAME",
    help: "profile name under ~/.orgchat (default: default)",
  },
  peer: {
    type: "string",
    multiple: true,
    value: "MULTIADDR",
    help: "service node to use (light mode); repeatable; remembered for this data directory",
  },
  json: { type: "boolean", help: "print exactly one JSON document on stdout" },
  timeout: {
    type: "string",
    value: "SECONDS",
    help: "seconds the network may take: connecting, catching up, delivery (default 10; join --wait: the answer, 120)",
  },
  quiet: { type: "boolean", short: "q", help: "no progress on stderr" },
  help: { type: "boolean", short: "h", help: "show help" },
  version: { type: "boolean", help: "print the version" },
};

/** How long closing the data directory keeps the process alive for the deadlines inside it, ms. */
export const defaultCloseGraceMs = 30_000;

/**
 * The close bound of a one-shot command, ms: `ORGCHAT_CLOSE_GRACE=SECONDS` (more than 0, at most
 * 3600), else {@link defaultCloseGraceMs}. A close still pending when it ends is a stall (exit code 4).
 * @param env - the environment to read (the process's by default)
 * @throws CliError (usage) when the variable is set to anything else
 */
export function closeGraceMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.ORGCHAT_CLOSE_GRACE;
  if (text === undefined || text === "") return defaultCloseGraceMs;
  const seconds = Number(text);
  if (!(seconds > 0 && seconds <= 3600)) {
    throw new CliError(
      `ORGCHAT_CLOSE_GRACE needs a number of seconds above 0 and at most 3600, got ${JSON.stringify(text.slice(0, 40))}: fix it, or unset it for the default (${defaultCloseGraceMs / 1000} s)`,
      exitCodes.usage,
    );
  }
  return Math.round(seconds * 1000);
}

/** The version `--version` prints (the build checks that it is `package.json`'s). */
export const cliVersion = "0.0.0";

/** Every option of every command (types agree across commands), for the first, lenient pass. */
function allOptions(): Record<string, OptionSpec> {
  const all: Record<string, OptionSpec> = { ...globalOptions };
  for (const command of commands) Object.assign(all, command.options);
  return all;
}

function parseConfig(options: Record<string, OptionSpec>) {
  return Object.fromEntries(
    Object.entries(options).map(([name, spec]) => [
      name,
      {
        type: spec.type,
        ...(spec.multiple === true ? { multiple: true } : {}),
        ...(spec.short === undefined ? {} : { short: spec.short }),
      },
    ]),
  ) as Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, spec]) => [
    `  ${spec.short === undefined ? "" : `-${spec.short}, `}--${name}${spec.value === undefined ? "" : ` ${spec.value}`}`,
    spec.help,
  ]);
  const width = Math.max(...rows.map(([left]) => (left ?? "").length)) + 2;
  return rows.map(([left = "", right = ""]) => `${left.padEnd(width)}${right}`);
}

export function mainHelp(): string {
  const width =
    Math.max(...commands.map((c) => c.name.length + (c.args === "" ? 0 : c.args.length + 1))) + 2;
  return [
    "orgchat: Waku v2 organization chats (spec 55) from a terminal",
    "",
    "Usage: orgchat <command> [arguments] [options]",
    "",
    "Commands:",
    ...commands.map(
      (c) => `  ${`${c.name}${c.args === "" ? "" : ` ${c.args}`}`.padEnd(width)}${c.summary}`,
    ),
    "",
    "Options of every command:",
    ...optionLines(globalOptions),
    "",
    "Start here:",
    "  orgchat serve --listen /ip4/127.0.0.1/tcp/60000/ws          # a service node (keep it running)",
    "  orgchat org create Acme --peer /ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooW…",
    "  orgchat org link                                            # share this with others",
    "",
    "`orgchat help <command>` (or `orgchat <command> --help`) shows a command's options and an example.",
    "",
    "--timeout bounds each command's network wait: connecting, catching up and delivery together.",
    "Commands check their arguments and this profile's data first, then connect.",
    "",
    "Exit codes (errors are one line on stderr):",
    "  0    ok",
    "  1    failed: the profile or the service node says no (unknown organization, not the owner, …)",
    "  2    bad command line: unknown command or option, missing or malformed argument",
    "  3    timed out: no service node answered within --timeout, or `join --wait` got no answer",
    "  4    stalled: a wait nothing could end any more (a bug; the data is consistent: run it again)",
    "  130  interrupted (Ctrl-C, SIGTERM): stopped cleanly",
  ].join("\n");
}

export function commandHelp(command: CommandSpec): string {
  return [
    `orgchat ${command.name}: ${command.summary}`,
    "",
    `Usage: orgchat ${command.name}${command.args === "" ? "" : ` ${command.args}`} [options]`,
    ...(command.notes === undefined ? [] : ["", command.notes]),
    ...(Object.keys(command.options).length === 0
      ? []
      : ["", "Options:", ...optionLines({ ...command.options })]),
    "",
    "Options of every command:",
    ...optionLines(globalOptions),
    "",
    `Example${command.examples.length > 1 ? "s" : ""}:`,
    ...command.examples.map((e) => `  ${e}`),
  ].join("\n");
}

function groupHelp(group: string): string {
  const members = commands.filter((c) => c.name.startsWith(`${group} `));
  return [
    `orgchat ${group}: ${members.map((c) => c.name.slice(group.length + 1)).join(", ")}`,
    "",
    ...members.map(
      (c) => `  orgchat ${c.name}${c.args === "" ? "" : ` ${c.args}`}  — ${c.summary}`,
    ),
    "",
    `\`orgchat ${group} <subcommand> --help\` for details.`,
  ].join("\n");
}

/** Finds the command named by the leading positionals. */
function findCommand(positionals: readonly string[]): {
  command?: CommandSpec;
  words: number;
  group?: string;
} {
  const two = positionals.slice(0, 2).join(" ");
  const byTwo = commands.find((c) => c.name === two);
  if (byTwo !== undefined) return { command: byTwo, words: 2 };
  const one = positionals[0] ?? "";
  const byOne = commands.find((c) => c.name === one);
  if (byOne !== undefined) return { command: byOne, words: 1 };
  if (commands.some((c) => c.name.startsWith(`${one} `))) return { words: 1, group: one };
  return { words: 0 };
}

/**
 * What a command's organization must be, checked in the profile before the network opens (a session's
 * `beforeNetwork`): `--org` names one this identity knows (or, without `--org`, it knows exactly one),
 * and the owner-only commands run on an organization it owns. Catching up from the service node adds
 * no organization and changes no owner, so nothing checked here could have come out otherwise online.
 * Commands delegates may run too (`delegable`) are left to the command: catching up may grant a role.
 * @throws CliError (as `resolveOrg`, or not the owner)
 */
function checkLocally(
  command: CommandSpec,
  values: Readonly<Record<string, unknown>>,
  client: Client,
): void {
  // `org show` without --org lists every organization (none is an answer too).
  if (!("org" in command.options)) return;
  const ref = typeof values.org === "string" ? values.org : undefined;
  if (ref === undefined && command.name === "org show") return;
  const org = resolveOrg(client, ref);
  if (command.requiresOwner !== true || org.role === "owner") return;
  // A delegate's rank may come from events not caught up yet: the command checks it online.
  if (command.delegable === true) return;
  const delegate = isDelegateOf(org, client.memberId);
  throw new CliError(
    `only the owner of ${shownName(org.identity.displayName)} can run \`orgchat ${command.name}\` (this identity is its ${delegate ? `${rankIn(org, client.memberId)}: admins and managers run requests, accept, reject, invite, remove and ban; the rest stays with the owner` : org.role})`,
  );
}

/**
 * What runs a command line besides its streams: the profile daemon (docs/CLI-DAEMON.md) lends its
 * open session and passes on the forwarded stdin; a one-shot process uses neither.
 */
export interface CliHost {
  /** Opens the data directory for a command (default: {@link openSession}). */
  readonly openSession?: (global: GlobalOptions, init: SessionInit) => Promise<Session>;
  /** What the user types (default: `process.stdin`). */
  readonly stdin?: NodeJS.ReadableStream & { readonly isTTY?: boolean };
}

/**
 * Runs one command line.
 * @param argv - the arguments after `orgchat`
 * @param output - where it prints
 * @param signal - Ctrl-C
 * @param host - inside the daemon: its session and the forwarded stdin
 * @returns the exit code
 */
export async function runCli(
  argv: readonly string[],
  output: Output,
  signal: AbortSignal,
  host: CliHost = {},
): Promise<number> {
  let global: GlobalOptions | undefined;
  let session: Session | undefined;
  const sessions: Session[] = [];
  let closeGrace = defaultCloseGraceMs;
  try {
    // Pass 1: find the command (options of every command are known, so their values are not
    // mistaken for positionals).
    let loose: ReturnType<typeof parseArgs>;
    try {
      loose = parseArgs({
        args: [...argv],
        options: parseConfig(allOptions()),
        allowPositionals: true,
        strict: false,
      });
    } catch (error) {
      throw usageError(describeError(error));
    }
    // `orgchat help [command…]` is `orgchat [command…] --help`.
    if (loose.positionals[0] === "help") {
      if (loose.positionals.length === 1) {
        output.stdout(`${mainHelp()}\n`);
        return exitCodes.ok;
      }
      return runCli([...loose.positionals.slice(1), "--help"], output, signal, host);
    }
    const found = findCommand(loose.positionals);
    if (loose.values.version === true && found.command === undefined) {
      output.stdout(
        loose.values.json === true
          ? `${JSON.stringify({ name: "orgchat", version: cliVersion, node: process.versions.node })}\n`
          : `${cliVersion}\n`,
      );
      return exitCodes.ok;
    }
    if (found.command === undefined) {
      if (found.group !== undefined) {
        const sub = loose.positionals[1];
        if (sub !== undefined && loose.values.help !== true) {
          throw usageError(`unknown command "${found.group} ${sub}"`, found.group);
        }
        output.stdout(`${groupHelp(found.group)}\n`);
        return loose.values.help === true ? exitCodes.ok : exitCodes.usage;
      }
      if (loose.positionals.length === 0) {
        output.stdout(`${mainHelp()}\n`);
        return loose.values.help === true ? exitCodes.ok : exitCodes.usage;
      }
      throw usageError(`unknown command "${loose.positionals[0]}"`);
    }
    const command = found.command;
    // Pass 2: strictly, with this command's options only.
    let parsed: {
      values: Record<string, string | boolean | string[] | undefined>;
      positionals: string[];
    };
    try {
      parsed = parseArgs({
        args: [...argv],
        options: parseConfig({ ...globalOptions, ...command.options }),
        allowPositionals: true,
        strict: true,
      }) as typeof parsed;
    } catch (error) {
      throw usageError(
        describeError(error)
          .replace(/\. To specify.*$/s, "")
          .replace(/\.$/, ""),
        command.name,
      );
    }
    if (parsed.values.help === true) {
      output.stdout(`${commandHelp(command)}\n`);
      return exitCodes.ok;
    }
    const args = parsed.positionals.slice(found.words);
    if (args.length < command.minArgs || args.length > command.maxArgs) {
      throw usageError(
        args.length < command.minArgs
          ? `missing ${command.args.split(" ").slice(args.length).join(" ")}`
          : `unexpected argument ${JSON.stringify(args[command.maxArgs])}`,
        command.name,
      );
    }
    const timeoutText = parsed.values.timeout as string | undefined;
    const timeout = timeoutText === undefined ? undefined : Number(timeoutText);
    if (timeout !== undefined && !(timeout > 0)) {
      throw usageError(
        `--timeout needs a positive number of seconds, got ${JSON.stringify(timeoutText)}`,
        command.name,
      );
    }
    closeGrace = closeGraceMs();
    global = {
      json: parsed.values.json === true,
      ...(typeof parsed.values.data === "string" ? { data: parsed.values.data } : {}),
      ...(typeof parsed.values.profile === "string" ? { profile: parsed.values.profile } : {}),
      ...(Array.isArray(parsed.values.peer) ? { peer: parsed.values.peer } : {}),
      ...(timeout === undefined ? {} : { timeout }),
    };
    const shown = progressOn(output, parsed.values.quiet !== true);
    // What the command waits for, also the step a stall names (`stall-guard.ts`).
    const progress = {
      update: (text: string) => {
        noteStep(text);
        shown.update(text);
      },
      done: () => shown.done(),
    };
    const globalOptionsOf = global;
    const context: CommandContext = {
      args,
      values: parsed.values,
      global,
      output,
      progress,
      signal,
      ...(host.stdin === undefined ? {} : { stdin: host.stdin }),
      session: async (init) => {
        session = await (host.openSession ?? openSession)(globalOptionsOf, {
          ...init,
          progress,
          signal,
          beforeNetwork: (client) => checkLocally(command, parsed.values, client),
        });
        sessions.push(session);
        return session;
      },
    };
    noteCommand(command.name);
    noteStep(`running \`orgchat ${command.name}\``);
    const result = await command.run(context);
    progress.done();
    if (!command.streaming || (command.name === "chat" && global.json))
      printResult(output, result, global.json);
    else if (command.name === "chat") output.stdout(`${outputText(result.human)}\n`);
    if (result.exitCode !== undefined && result.exitCode !== exitCodes.ok) {
      if (result.error !== undefined) output.stderr(`orgchat: ${inlineText(result.error)}\n`);
      return result.exitCode;
    }
    return exitCodes.ok;
  } catch (error) {
    const dataDir = global === undefined ? undefined : dataDirOf(global);
    const peers = global === undefined || dataDir === undefined ? [] : knownPeers(dataDir, global);
    const { line, code } = explain(error, { ...(dataDir === undefined ? {} : { dataDir }), peers });
    output.stderr(`\norgchat: ${line}\n`.replace(/^\n/, output.stderrIsTTY ? "\r\x1b[K" : ""));
    // --json promises one document on stdout, failures included.
    if (global?.json === true || argv.includes("--json")) {
      output.stdout(`${JSON.stringify({ ok: false, error: line, exitCode: code })}\n`);
    }
    if (isCliError(error) || code !== exitCodes.failed || process.env.ORGCHAT_DEBUG === undefined) {
      return code;
    }
    output.stderr(`${error instanceof Error ? error.stack : String(error)}\n`);
    return code;
  } finally {
    if (sessions.length > 0) noteStep("closing the data directory");
    // Closing waits on deadlines that do not keep the process alive by themselves (libp2p gives a
    // connection 500 ms to close gracefully, on an unref'd timer): a one-shot process whose sockets are
    // gone would run out of events before they fire. This timer (ORGCHAT_CLOSE_GRACE) keeps it alive
    // while they run; a close still pending when it ends is a stall (`stall-guard.ts`).
    const keepAlive = setTimeout(() => undefined, closeGrace);
    try {
      for (const open of sessions.reverse()) await open.close();
    } finally {
      clearTimeout(keepAlive);
    }
  }
}
