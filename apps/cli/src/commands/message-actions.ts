/**
 * `orgchat edit`, `delete`, `pin`, `unpin`: act on one message, named by its id or an id prefix as
 * `read` and `chat` show it. Each waits until a service node stored the change, like `send`.
 */
import type { Client, MessageView, OrganizationView } from "@orgchat/client";
import type { CommandContext, CommandSpec } from "../command.js";
import { CliError, exitCodes, usageError } from "../errors.js";
import { messageJson, short, shownName } from "../format.js";
import { arg, orgOption, publishChange } from "./shared.js";

/** Shortest id prefix accepted: 4 hex digits (the `read` output shows 8). */
const minPrefix = 4;

/**
 * Finds a message of `org` by id or id prefix, in every channel this identity can read.
 * @throws CliError (usage) for a reference that is not hex; CliError when none or several match
 */
export function resolveMessage(client: Client, org: OrganizationView, ref: string): MessageView {
  const lower = ref.toLowerCase();
  if (!/^[0-9a-f]+$/.test(lower) || lower.length < minPrefix) {
    throw usageError(
      `a message is named by its id or a prefix of at least ${minPrefix} hex digits (\`orgchat read CHANNEL\` shows them), got ${JSON.stringify(ref)}`,
    );
  }
  const matches: MessageView[] = [];
  for (const channel of org.channels) {
    for (const message of client.history(org.id, channel.id)) {
      if (message.id.startsWith(lower)) matches.push(message);
    }
  }
  const [only] = matches;
  if (matches.length === 1 && only !== undefined) return only;
  if (matches.length > 1) {
    throw new CliError(
      `${ref} names ${matches.length} messages (${matches.map((m) => short(m.id)).join(", ")}): give more of the id`,
      exitCodes.usage,
    );
  }
  throw new CliError(
    `no message ${ref} in ${shownName(org.identity.displayName)}: \`orgchat read CHANNEL\` shows the ids (run it first if the message is new: it catches up)`,
  );
}

/**
 * Whether this identity may delete others' messages and pin in `org` (the state's rule
 * `mayModerateContent`: the owner, or a member with the `all` or `moderate-content` role).
 */
function mayModerate(client: Client, org: OrganizationView): boolean {
  if (org.role === "owner") return true;
  const roles: readonly string[] = org.members.get(client.memberId) ?? [];
  return roles.includes("all") || roles.includes("moderate-content");
}

/** Refuses, before anything is sent, a pin the organization's rules would drop. */
function checkPin(client: Client, org: OrganizationView): void {
  if (!mayModerate(client, org) && !org.pinMessageAllMembersEnabled) {
    throw new CliError(
      `in ${shownName(org.identity.displayName)} only the owner and members with the admin or moderator role pin messages: ask one of them`,
    );
  }
}

/** A command on one message: `<name> MESSAGE [more]`. */
function messageCommand(spec: {
  readonly name: string;
  readonly summary: string;
  readonly args: string;
  readonly maxArgs: number;
  readonly examples: readonly string[];
  readonly notes?: string;
  readonly check?: (context: CommandContext) => void;
  readonly act: (
    context: CommandContext,
    client: Client,
    org: OrganizationView,
    message: MessageView,
  ) => Promise<string>;
}): CommandSpec {
  return {
    name: spec.name,
    summary: spec.summary,
    args: spec.args,
    minArgs: spec.args.split(" ").filter((word) => !word.startsWith("[")).length,
    maxArgs: spec.maxArgs,
    options: { org: orgOption },
    examples: spec.examples,
    ...(spec.notes === undefined ? {} : { notes: spec.notes }),
    async run(context) {
      spec.check?.(context);
      return publishChange(context, async (client, org) => {
        const target = resolveMessage(client, org, arg(context, 0));
        const done = await spec.act(context, client, org, target);
        const after =
          client.history(org.id, target.channelId).find((m) => m.id === target.id) ?? target;
        return {
          json: { ok: true, action: spec.name, message: messageJson(after) },
          human: `${done} ${short(target.id)} in #${shownName(target.channelId)}`,
        };
      });
    },
  };
}

export const edit = messageCommand({
  name: "edit",
  summary: "replace the text of one of your messages",
  args: "MESSAGE TEXT…",
  maxArgs: 10_000,
  examples: ['orgchat edit 1a2b3c4d "hello, Acme (fixed)"'],
  check(context) {
    if (context.args.slice(1).join(" ").trim() === "") {
      throw usageError("the new text is empty: give the text, or use `orgchat delete`", "edit");
    }
  },
  async act(context, client, org, message) {
    if (!message.own) {
      throw new CliError("only its author can edit a message: this one is someone else's");
    }
    await client.editMessage(org.id, message.id, context.args.slice(1).join(" "), {
      signal: context.signal,
    });
    return "edited";
  },
});

export const deleteMessage = messageCommand({
  name: "delete",
  summary: "delete a message (yours, or another's with a moderating role)",
  args: "MESSAGE",
  maxArgs: 1,
  examples: ["orgchat delete 1a2b3c4d"],
  async act(context, client, org, message) {
    if (!message.own && !mayModerate(client, org)) {
      throw new CliError(
        "only its author, the owner and members with the admin or moderator role delete a message",
      );
    }
    await client.deleteMessage(org.id, message.id, { signal: context.signal });
    return "deleted";
  },
});

/** `pin` and `unpin`: the same rule, the other value. */
const pinCommand = (pinned: boolean) =>
  messageCommand({
    name: pinned ? "pin" : "unpin",
    summary: pinned ? "pin a message in its channel" : "unpin a message",
    args: "MESSAGE",
    maxArgs: 1,
    examples: [`orgchat ${pinned ? "pin" : "unpin"} 1a2b3c4d`],
    async act(context, client, org, message) {
      checkPin(client, org);
      await client.pinMessage(org.id, message.id, pinned, { signal: context.signal });
      return pinned ? "pinned" : "unpinned";
    },
  });

export const pin = pinCommand(true);
export const unpin = pinCommand(false);
