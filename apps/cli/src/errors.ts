/**
 * The CLI's errors: every failure ends as one line on stderr that says what to do, and an exit code
 * (1 = the command failed, 2 = bad command line, 3 = timed out waiting, 130 = interrupted).
 * SDK, store and transport errors are recognised by `name` (their `isX()` guards), never by message.
 */
import {
  isChannelAccessError,
  isEventRejectedError,
  isKeysNotReadyError,
  isLeaveNotResolvedError,
  isNotMemberError,
  isNotOwnerError,
  isOrganizationNotFoundError,
  isOwnerUnreachableError,
  isPassphraseRequiredError,
  isStoreCorruptedError,
  isUnknownOrganizationError,
  isUnknownTargetError,
  isWrongPassphraseError,
} from "@orgchat/client";
import { isStoreLockedError } from "@orgchat/store";
import { isNoPeersError, isTransportStartError } from "@orgchat/transport";

/** Exit codes. */
export const exitCodes = {
  ok: 0,
  failed: 1,
  usage: 2,
  timeout: 3,
  interrupted: 130,
} as const;

/** A failure the CLI explains itself: `message` is the one line printed, `exitCode` the status. */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly exitCode: number;
  constructor(message: string, exitCode: number = exitCodes.failed, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
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

/**
 * Turns any error into the one line the CLI prints (without the `orgchat:` prefix) and an exit code.
 */
export function explain(
  error: unknown,
  context: ErrorContext = {},
): { line: string; code: number } {
  if (error instanceof CliError) return { line: oneLine(error.message), code: error.exitCode };
  const org = short(field(error, "organizationId"));
  const peers = context.peers?.length ? context.peers.join(", ") : "none configured";
  let line: string;
  if (isStoreLockedError(error)) {
    line = `data directory ${context.dataDir ?? ""} is in use by another orgchat process (a running \`orgchat chat\` or \`join --wait\`?): stop it, or pass another --data DIR`;
  } else if (isUnknownOrganizationError(error)) {
    line = `unknown organization ${org}: join it first (\`orgchat join <link or key>\`), or list the ones you know with \`orgchat org show\``;
  } else if (isOrganizationNotFoundError(error)) {
    line = `organization ${org} was not found on the service node (${peers}): check the key and --peer, or ask its owner to run any orgchat command online so that it is published`;
  } else if (isNotMemberError(error)) {
    line = `you are not a member of organization ${org}: request to join with \`orgchat join ${org} --wait\` (the owner must accept)`;
  } else if (isNotOwnerError(error)) {
    line = `only the owner of organization ${org} can do this: ask the owner to run it`;
  } else if (isChannelAccessError(error)) {
    line = `channel #${field(error, "channelId")} of ${org} does not exist or is restricted: list channels with \`orgchat channel list\`, or ask the owner for access`;
  } else if (isOwnerUnreachableError(error)) {
    line = `the owner of ${org} is offline or has not published its keys yet: try again once the owner has run orgchat online`;
  } else if (isLeaveNotResolvedError(error)) {
    // The client waited for the owner's resolution of our leave (a request before it is refused).
    line = `the owner of ${org} has not processed your leave yet (it must be online): run this again later`;
  } else if (isKeysNotReadyError(error)) {
    line = `the group keys of ${org} have not arrived yet (the owner's Welcome): wait with \`orgchat join ${org} --wait\`, or retry later`;
  } else if (isEventRejectedError(error)) {
    line = `refused by the organization's rules (${field(error, "reason") || "rejected"}): check the current state with \`orgchat org show\``;
  } else if (isUnknownTargetError(error)) {
    line = `${oneLine(error instanceof Error ? error.message : String(error))}`;
  } else if (isWrongPassphraseError(error)) {
    line =
      "wrong passphrase for this data directory: set ORGCHAT_PASSPHRASE to the one it was created with";
  } else if (isPassphraseRequiredError(error)) {
    line =
      "this data directory is sealed with a passphrase: set ORGCHAT_PASSPHRASE (or unset it if the directory was created without one)";
  } else if (isStoreCorruptedError(error)) {
    line = `the data directory ${context.dataDir ?? ""} cannot be read by this version: restore it from a backup or use another --data DIR`;
  } else if (isNoPeersError(error)) {
    line = `no service node reachable (--peer ${peers}): start one with \`orgchat serve\` and pass the address it prints with --peer`;
  } else if (isTransportStartError(error)) {
    const detail = error instanceof Error ? error.message : String(error);
    line = /multiaddr/i.test(detail)
      ? `bad --peer address: ${detail.replace(/^Transport failed to start: /, "")} Use the address \`orgchat serve\` prints, e.g. /ip4/127.0.0.1/tcp/60000/ws/p2p/12D3KooW…`
      : `the network could not start: ${detail}`;
  } else if (error instanceof Error && error.name === "AbortError") {
    return { line: "interrupted", code: exitCodes.interrupted };
  } else {
    line = error instanceof Error ? error.message : String(error);
  }
  return { line: oneLine(line), code: exitCodes.failed };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
