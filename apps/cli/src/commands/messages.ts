/** `orgchat send` and `orgchat read`: messages of a channel (`chat` is interactive, in `chat.ts`). */
import type { CommandSpec } from "../command.js";
import { CliError, usageError } from "../errors.js";
import { authorNames, messageJson, messageLine, short, shownName } from "../format.js";
import { channelId } from "../resolve.js";
import { arg, offlineOption, openOrg, orgOption, publishChange, str } from "./shared.js";

export const send: CommandSpec = {
  name: "send",
  summary: "send a message to a channel",
  args: "CHANNEL TEXT…",
  minArgs: 2,
  maxArgs: 10_000,
  options: {
    org: orgOption,
    "reply-to": { type: "string", value: "ID", help: "id of the message answered" },
  },
  examples: ['orgchat send general "hello, Acme"', "orgchat send '#core' ship it --org Acme"],
  async run(context) {
    const channel = channelId(arg(context, 0));
    const text = context.args.slice(1).join(" ");
    return publishChange(context, async (client, org) => {
      const replyTo = str(context.values["reply-to"]);
      const message = await client.sendMessage(org.id, channel, text, {
        signal: context.signal,
        ...(replyTo === undefined ? {} : { replyTo }),
      });
      return {
        json: { message: messageJson(message) },
        human: `sent to #${shownName(channel)}: ${shownName(short(message.id))}`,
      };
    });
  },
};

export const read: CommandSpec = {
  name: "read",
  summary: "catch up from the service node and print a channel's messages",
  args: "CHANNEL",
  minArgs: 1,
  maxArgs: 1,
  options: {
    org: orgOption,
    offline: offlineOption,
    limit: { type: "string", value: "N", help: "print the newest N messages (default 50)" },
  },
  examples: ["orgchat read general", "orgchat read general --limit 10 --json"],
  async run(context) {
    const channel = channelId(arg(context, 0));
    const limitText = str(context.values.limit) ?? "50";
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1)
      throw usageError(`--limit needs a positive whole number, got ${limitText}`, this.name);
    const { session, org } = await openOrg(context);
    if (!org.channels.some((c) => c.id === channel)) {
      throw new CliError(
        `no channel #${shownName(channel)} in ${shownName(org.identity.displayName)}: \`orgchat channel list\` shows them`,
      );
    }
    const messages = session.client.history(org.id, channel).slice(-limit);
    const names = authorNames(org);
    return {
      json: { organizationId: org.id, channelId: channel, messages: messages.map(messageJson) },
      human:
        messages.length > 0
          ? messages.map((m) => messageLine(m, names)).join("\n")
          : org.role !== "member" && org.role !== "owner" && org.encrypted
            ? `#${shownName(channel)}: no messages (you are ${org.role}: only members read an encrypted organization)`
            : org.channels.some((c) => c.id === channel && c.restricted && !c.canPost)
              ? `#${shownName(channel)}: no messages you can read (restricted: ask the owner to add you)`
              : `#${shownName(channel)}: no messages`,
    };
  },
};
