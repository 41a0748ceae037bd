/** `orgchat send` and `orgchat read`: messages of a channel (`chat` is interactive, in `chat.ts`). */
import { readFile } from "node:fs/promises";
import { describeError } from "@orgchat/base";
import type { CommandContext, CommandSpec } from "../command.js";
import { CliError, exitCodes, explain, isNetworkFailure, usageError } from "../errors.js";
import { authorNames, messageJson, messageLine, short, shownName } from "../format.js";
import { ReadMarkers } from "../read-markers.js";
import { channelId } from "../resolve.js";
import { resolveMessage } from "./message-actions.js";
import { arg, offlineOption, openOrg, orgOption, publishChange, str } from "./shared.js";

export const send: CommandSpec = {
  name: "send",
  summary: "send a message to a channel (the text, `-` for stdin, or --file)",
  args: "CHANNEL [TEXT…]",
  minArgs: 1,
  maxArgs: 10_000,
  options: {
    org: orgOption,
    "reply-to": {
      type: "string",
      value: "ID",
      help: "the message answered: its id or id prefix (`read` shows them)",
    },
    file: { type: "string", value: "PATH", help: "send the text of this file (UTF-8)" },
  },
  examples: [
    'orgchat send general "hello, Acme"',
    "orgchat send '#core' ship it --org Acme",
    "git log -1 --format=%B | orgchat send core -",
    "orgchat send general --file notes.txt --reply-to 1a2b3c4d",
  ],
  async run(context) {
    const channel = channelId(arg(context, 0));
    const text = await messageText(context);
    return publishChange(context, async (client, org) => {
      const replyRef = str(context.values["reply-to"]);
      const replyTo = replyRef === undefined ? undefined : resolveMessage(client, org, replyRef).id;
      const message = await client.sendMessage(org.id, channel, text, {
        signal: context.signal,
        ...(replyTo === undefined ? {} : { replyTo }),
      });
      return {
        json: { message: messageJson(message) },
        human: `sent to #${shownName(channel)}: ${shownName(short(message.id))}${replyTo === undefined ? "" : ` (re ${short(replyTo)})`}`,
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
    // Without a service node, `read` shows what this profile holds, with a note (exit 0).
    let note: string | undefined;
    const { session, org } = await openOrg(context, (error, session) => {
      if (!isNetworkFailure(error)) return false;
      note = explain(error, { dataDir: session.dataDir, peers: session.peers }).line;
      return true;
    });
    if (note !== undefined) {
      context.output.stderr(
        `orgchat: ${note}\norgchat: showing the messages this profile already holds (maybe not the newest)\n`,
      );
    }
    if (!org.channels.some((c) => c.id === channel)) {
      throw new CliError(
        `no channel #${shownName(channel)} in ${shownName(org.identity.displayName)}: \`orgchat channel list\` shows them`,
      );
    }
    const history = session.client.history(org.id, channel);
    const messages = history.slice(-limit);
    const names = authorNames(org, org.role === "owner" ? session.client.listRequests(org.id) : []);
    const marks = ReadMarkers.open(session.dataDir);
    marks.mark(history.at(-1));
    marks.save();
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

/** Largest text accepted from stdin or a file before it is sent (the wire bounds it further). */
const maxInputBytes = 1024 * 1024;

/**
 * The text of `send`: its arguments, or stdin for `-`, or `--file`; never empty.
 * @throws CliError (usage) for an empty text, both a text and --file, or an input over 1 MiB
 */
async function messageText(context: CommandContext): Promise<string> {
  const words = context.args.slice(1);
  const file = str(context.values.file);
  if (file !== undefined && words.length > 0) {
    throw usageError("give the text or --file, not both", "send");
  }
  let text: string;
  if (file !== undefined) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${describeError(error)}`, exitCodes.usage);
    }
    if (bytes.length > maxInputBytes) {
      throw usageError(`${file} is larger than ${maxInputBytes} bytes`, "send");
    }
    text = bytes.toString("utf8");
  } else if (words.length === 1 && words[0] === "-") {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of context.stdin ?? process.stdin) {
      const bytes =
        typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
      size += bytes.length;
      if (size > maxInputBytes)
        throw usageError(`stdin is larger than ${maxInputBytes} bytes`, "send");
      chunks.push(bytes);
    }
    text = Buffer.concat(chunks).toString("utf8");
  } else {
    text = words.join(" ");
  }
  // A trailing newline from a pipe or a file is not part of the message.
  text = text.replace(/\r?\n$/, "");
  if (text.trim() === "") {
    throw usageError(
      "the message is empty: give its text (or `-` to read stdin, or --file)",
      "send",
    );
  }
  return text;
}
