/**
 * The CLI's errors: every failure ends as one line on stderr that says what to do, and an exit code
 * (1 = the command failed, 2 = bad command line, 3 = timed out waiting, 4 = stalled (a bug: see
 * `stall-guard.ts`), 130 = interrupted).
 * SDK, store and transport errors are recognised by `name` (the id their `isX()` guards check, one
 * table of explanations below), never by message.
 */
import {
  type AbortErrorFactory,
  describeError,
  errorGuard,
  hasErrorName,
  OrgchatError,
} from "@orgchat/base";
import { inlineText } from "./terminal-text.js";

/** Exit codes. */
export const exitCodes = {
  ok: 0,
  failed: 1,
  usage: 2,
  timeout: 3,
  /** The command's wait could never end (nothing left to wake it: a bug); run it again. */
  stalled: 4,
  interrupted: 130,
} as const;

/**
 * A failure the CLI explains itself: `message` is the one line printed (what went wrong and what to
 * do), `exitCode` the status.
 */
export class CliError extends OrgchatError {
  static readonly errorName = "CliError";
  readonly exitCode: number;
  /**
   * @param message - the line printed after `orgchat: `
   * @param exitCode - the process's exit status (default 1, {@link exitCodes})
   * @param options - `cause`: the underlying error
   */
  constructor(
    message: string,
    exitCode: number = exitCodes.failed,
    options: { cause?: unknown } = {},
  ) {
    super(CliError.errorName, message, options);
    this.exitCode = exitCode;
  }
}

/** Whether `value` is a {@link CliError}. */
export const isCliError = errorGuard<CliError>(CliError.errorName);

/** What an interrupted wait (Ctrl-C, SIGTERM) rejects with: `raceAbort` / `sleep` of `@orgchat/base`. */
export const interruptedError: AbortErrorFactory = () =>
  new CliError(
    "interrupted: stopped cleanly, nothing half-done was left behind",
    exitCodes.interrupted,
  );

/**
 * Whether `error` means no service node answered (within `--timeout`, or none reachable), as opposed
 * to a refusal, a local problem or Ctrl-C: a reading command can then show local data instead.
 */
export function isNetworkFailure(error: unknown): boolean {
  return (
    (isCliError(error) && error.exitCode === exitCodes.timeout) ||
    (error instanceof Error && hasErrorName(error, "NoPeersError"))
  );
}

/** A bad command line (unknown flag, missing argument). */
export function usageError(message: string, command?: string): CliError {
  const help = command === undefined ? "orgchat --help" : `orgchat ${command} --help`;
  return new CliError(`${message} (see ${help})`, exitCodes.usage);
}

/** What the CLI knows while explaining an error. */
export interface ErrorContext {
  readonly dataDir?: string;
  readonly peers?: readonly string[];
}

const short = (id: string) => (id.length > 16 ? `${id.slice(0, 12)}…` : id);

function field(error: unknown, name: string): string {
  const value = (error as Record<string, unknown> | undefined)?.[name];
  return typeof value === "string" ? value : "";
}

/** The state's rejection reasons (`RejectionReason` of `@orgchat/state`) in words. */
const rejectionMeaning: Readonly<Record<string, string>> = {
  unauthorized: "your role does not allow it",
  "unknown-member": "not a member",
  banned: "banned",
  malformed: "a field is out of range",
  "unknown-target": "no such channel, category, request, invitation or message",
  conflict: "it was decided already",
  expired: "it expired",
  "rate-limited": "too many at once, try later",
  duplicate: "done already",
  "clock-jump": "its clock is too far ahead",
};

/** What an explanation gets: the error, its organization (shortened) and the service nodes. */
interface Explaining {
  readonly error: unknown;
  readonly org: string;
  /** The whole organization key, for commands in hints (a shortened key would not run). */
  readonly key: string;
  readonly peers: string;
  readonly context: ErrorContext;
}

/**
 * The line for each error of the SDK, the store and the transport the CLI knows, by error name (the
 * id those packages guarantee; `test/errors.test.ts` builds each error to check the names hold).
 */
const explanations: Readonly<Record<string, (e: Explaining) => string>> = {
  StoreLockedError: ({ context }) =>
    `data directory ${context.dataDir ?? ""} is in use by another orgchat process (a running \`orgchat chat\` or \`join --wait\`?): stop it, or pass another --data DIR; to run commands beside \`chat\`, start the profile's daemon first (\`orgchat daemon start --background\`)`,
  UnknownOrganizationError: ({ org }) =>
    `unknown organization ${org}: join it first (\`orgchat join <link or key>\`), or list the ones you know with \`orgchat org show\``,
  OrganizationNotFoundError: ({ org, peers }) =>
    `organization ${org} was not found on the service node (${peers}): check the key and --peer, or ask its owner to run any orgchat command online so that it is published`,
  NotMemberError: ({ org, key }) =>
    `you are not a member of organization ${org}: request to join with \`orgchat join ${key} --wait\` (the owner must accept)`,
  ForgetRefusedError: ({ org, key, error }) => {
    const role = field(error, "role");
    return role === "owner"
      ? `you own ${org}: an owner cannot forget its organization (its key is only in this data directory)`
      : role === "member"
        ? `you are a member of ${org}: leave it first (\`orgchat leave --org ${key}\`), then forget it`
        : `your request to join ${org} is pending: cancel it first (\`orgchat cancel --org ${key}\`), then forget it`;
  },
  NotOwnerError: ({ org }) =>
    `only the owner of organization ${org} can do this: ask the owner to run it`,
  ChannelAccessError: ({ error, org }) =>
    `channel #${field(error, "channelId")} of ${org} does not exist or is restricted: list channels with \`orgchat channel list\`, or ask the owner for access`,
  OwnerUnreachableError: ({ org }) =>
    `the owner of ${org} is offline or has not published its keys yet: try again once the owner has run orgchat online`,
  // The client waited for the owner's resolution of our leave (a request before it is refused).
  LeaveNotResolvedError: ({ org }) =>
    `the owner of ${org} has not processed your leave yet (it must be online): run this again later`,
  KeysNotReadyError: ({ org, key }) =>
    `the group keys of ${org} have not arrived yet (the owner's Welcome): wait with \`orgchat join ${key} --wait\`, or retry later`,
  FreshKeysPendingError: ({ org, error }) =>
    field(error, "reason") === "removal"
      ? `a member of ${org} was just removed and the owner's re-key has not arrived (it comes within seconds): a message now would be readable by them; retry in a moment`
      : `this identity was restored from a backup: ${org} sends only with fresh keys, which the owner was asked for (it must be online); reading works meanwhile: retry later`,
  OwnerForkDetectedError: ({ org, key, error }) =>
    `another device also runs ${org} as its owner (device ${field(error, "device")}): this device stopped writing as owner so as not to fork it (it still reads); keep one device: stop orgchat on the other one, then run \`orgchat owner resume --org ${key}\` on the one you keep`,
  OwnerRestoredError: ({ org, key }) =>
    `you own ${org}, and this data directory was restored from a backup: the organization is kept but inactive here (running it from the copy as it is could fork it); to carry it on from here (the original device stopped for good), run \`orgchat owner resume --org ${key}\`, else run it from the directory it was created in`,
  OwnerHistoryGapError: ({ org, key, error }) =>
    `${org} cannot be carried on from this backup: ${field(error, "missing")}; nothing was sent and it stays inactive here: reach a service node that holds its history and run \`orgchat owner resume --org ${key}\` again, or carry it on from the original device`,
  EventRejectedError: ({ error }) => {
    const reason = field(error, "reason") || "rejected";
    const meaning = rejectionMeaning[reason];
    return `refused by the organization's rules (${reason}${meaning === undefined ? "" : `: ${meaning}`}): check the current state with \`orgchat org show\` (channels: \`orgchat channel list\`, categories: \`orgchat category list\`)`;
  },
  UnknownTargetError: ({ error }) => oneLine(describeError(error)),
  WrongPassphraseError: () =>
    "wrong passphrase for this data directory: set ORGCHAT_PASSPHRASE to the one it was created with",
  PassphraseRequiredError: () =>
    "this data directory is sealed with a passphrase: set ORGCHAT_PASSPHRASE (or unset it if the directory was created without one)",
  StoreCorruptedError: ({ context, error }) =>
    `a record of the data directory ${context.dataDir ?? ""} (${field(error, "record")}) is damaged or from a newer orgchat: if you updated orgchat, use the newer one; else move ${context.dataDir ?? "it"} aside and restore a copy (or start again and rejoin)`,
  StoreCorruptError: ({ context }) =>
    `the store of ${context.dataDir ?? "the data directory"} is damaged (not a readable orgchat store): move the directory aside and restore a copy of it (or start again and rejoin)`,
  SchemaVersionError: ({ context, error }) =>
    `the data directory ${context.dataDir ?? ""} was written by a newer orgchat (store schema ${String((error as { found?: number }).found)}, this one reads up to ${String((error as { supported?: number }).supported)}): run the newer orgchat; nothing was changed`,
  NoPeersError: ({ peers }) =>
    `no service node reachable (--peer ${peers}): start one with \`orgchat serve\` and pass the address it prints with --peer`,
  TransportStartError: ({ error }) => {
    const detail = describeError(error);
    return /multiaddr/i.test(detail)
      ? `bad --peer address: ${detail.replace(/^Transport failed to start: /, "")} Use the address \`orgchat serve\` prints, e.g. /ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooW…`
      : `the network could not start: ${detail}`;
  },
};

/**
 * Turns any error into the one line the CLI prints (without the `orgchat:` prefix) and an exit code.
 * Errors quote names and reasons (an organization's name, a rejection reason, what the user typed):
 * the line is escaped as one line of terminal text (`terminal-text.ts`), so none of it drives the
 * terminal nor starts a line of its own.
 * @param error - anything thrown
 * @param context - the data directory and service nodes, for the explanations that name them
 * @returns the line and the exit code
 */
export function explain(
  error: unknown,
  context: ErrorContext = {},
): { line: string; code: number } {
  if (isCliError(error)) return { line: oneLine(error.message), code: error.exitCode };
  if (error instanceof Error && hasErrorName(error, "AbortError")) {
    return { line: "interrupted", code: exitCodes.interrupted };
  }
  const name = error instanceof Error ? error.name : "";
  const explanation = Object.hasOwn(explanations, name) ? explanations[name] : undefined;
  const line =
    explanation === undefined
      ? describeError(error)
      : explanation({
          error,
          org: short(field(error, "organizationId")),
          key: field(error, "organizationId"),
          peers: context.peers?.length ? context.peers.join(", ") : "none configured",
          context,
        });
  return { line: oneLine(line), code: exitCodes.failed };
}

/** Our own multi-line messages on one line (`\n` and the blanks around it → one space), escaped. */
function oneLine(text: string): string {
  return inlineText(text.replace(/[ \t]*\n[ \t]*/g, " ").trim());
}
