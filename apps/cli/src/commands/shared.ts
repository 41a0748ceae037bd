/**
 * What the commands share: the `--org` / `--offline` options, reading option values, and the shape of
 * a command that changes an organization (open online, catch up, refuse if banned, change, wait until
 * a service node has stored it, print `<action>: done (<org>, <id>)`).
 */
import type { Client, OrganizationView } from "@orgchat/client";
import type { CommandContext, CommandSpec, OptionSpec } from "../command.js";
import { CliError } from "../errors.js";
import { type CommandResult, orgJson, short, shownName } from "../format.js";
import { resolveOrg } from "../resolve.js";
import type { Session } from "../session.js";
import { inlineText } from "../terminal-text.js";

export const orgOption: OptionSpec = {
  type: "string",
  value: "ORG",
  help: "organization: key, key prefix or name (default: the only one this identity knows)",
};

export const offlineOption: OptionSpec = {
  type: "boolean",
  help: "use local data only (no network)",
};

/** A string option's value. */
export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** A repeatable option's values. */
export function list(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/** The positional argument at `index` ("" when absent: the runner has checked the count). */
export function arg(context: CommandContext, index: number): string {
  return context.args[index] ?? "";
}

/**
 * Opens the session a reading command wants (`--offline` or online), catches up, and resolves `--org`.
 * @param context - the command
 * @param withoutNetwork - called when catching up failed: returning true goes on with the local data
 */
export async function openOrg(
  context: CommandContext,
  withoutNetwork?: (error: unknown, session: Session) => boolean,
): Promise<{ session: Session; org: OrganizationView }> {
  const session = await context.session({
    network: context.values.offline === true ? "offline" : "online",
  });
  try {
    await session.ready();
  } catch (error) {
    if (withoutNetwork?.(error, session) !== true) throw error;
  }
  return { session, org: resolveOrg(session.client, str(context.values.org)) };
}

/** Opens an online session, catches up, runs `fn` on the resolved org, waits for delivery. */
export async function publishChange(
  context: CommandContext,
  fn: (client: Client, org: OrganizationView, session: Session) => Promise<CommandResult>,
): Promise<CommandResult> {
  const session = await context.session({ network: "online" });
  await session.ready();
  const org = resolveOrg(session.client, str(context.values.org));
  if (org.banned.includes(session.client.memberId)) {
    throw new CliError(
      `you are banned from ${shownName(org.identity.displayName)}: only its owner can lift the ban (\`orgchat unban\`)`,
    );
  }
  const result = await fn(session.client, org, session);
  context.progress.update("waiting for the service node to store it…");
  await session.delivered(org.id);
  context.progress.done();
  return result;
}

/** What a change did: the action for the human line, and fields added to the JSON document. */
export interface Change {
  /**
   * `accepted Alice`, `created #core`: printed as `<action>: done (<org name>, <id prefix>)`, escaped
   * as one line of terminal text (it names what people typed); exact in the JSON document.
   */
  readonly action: string;
  readonly extra?: Record<string, unknown>;
}

/** A command that changes an organization: its help, and the change itself. */
export interface ChangeCommandSpec extends Omit<CommandSpec, "run" | "options"> {
  /** Options besides `--org` (which every change takes). */
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /** Checks the command line before the data directory is opened (throws a usage error). */
  readonly check?: (context: CommandContext) => void;
  /** Makes the change on the resolved organization. */
  change(context: CommandContext, client: Client, org: OrganizationView): Promise<Change>;
}

/**
 * Makes a command that changes an organization through {@link publishChange}; the result is the
 * organization after the change (JSON) and the line `<action>: done (<org name>, <id prefix>)`.
 */
export function changeCommand(spec: ChangeCommandSpec): CommandSpec {
  const { check, change, options = {}, ...command } = spec;
  return {
    ...command,
    options: { org: orgOption, ...options },
    async run(context) {
      check?.(context);
      return publishChange(context, async (client, org) => {
        const { action, extra = {} } = await change(context, client, org);
        const after = client.getOrganization(org.id);
        return {
          json: { ok: true, action, organization: orgJson(after), ...extra },
          human: `${inlineText(action)}: done (${shownName(after.identity.displayName)}, ${short(after.id)})`,
        };
      });
    },
  };
}
