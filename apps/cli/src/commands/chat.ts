/**
 * `orgchat chat`: an interactive session on one channel. Messages arriving live (and those caught up
 * from the service node) are printed as they come; every typed line is sent. Lines starting with `/`
 * are commands (`/help`). Ctrl-D or Ctrl-C ends it cleanly (client, transport and store closed).
 * Everything shown that is data (names, channel ids, texts: other people's and our own) is escaped
 * (`terminal-text.ts`), and every line goes through `outputText` before it reaches the terminal.
 */
import { createInterface } from "node:readline";
import type { MessageView } from "@orgchat/client";
import type { CommandSpec } from "../command.js";
import { CliError, explain } from "../errors.js";
import { authorNames, messageLine, orgHuman, requestLine, short, shownName } from "../format.js";
import { channelId, resolveOrg, resolveRequest } from "../resolve.js";
import { bodyText, outputText } from "../terminal-text.js";
import { orgOption, str } from "./shared.js";

const chatHelp = `commands:
  /channel ID           switch channel (#ID)
  /requests             pending requests to join (owner)
  /accept REQUEST       accept one (owner)
  /reject REQUEST [WHY] reject one, with a reason (owner)
  /org                  show the organization
  /quit                 leave the chat (also Ctrl-D or Ctrl-C)`;

export const chatCommand: CommandSpec = {
  name: "chat",
  summary: "interactive chat on a channel: live messages in, typed lines out",
  args: "CHANNEL",
  minArgs: 1,
  maxArgs: 1,
  options: {
    org: orgOption,
    history: { type: "string", value: "N", help: "messages of history printed first (default 20)" },
  },
  examples: ["orgchat chat general", "orgchat chat core --org Acme --history 5"],
  notes: `Type a line and Enter to send it. ${chatHelp.replace(/\n\s*/g, "; ")}`,
  streaming: true,
  async run(context) {
    let channel = channelId(context.args[0] ?? "");
    const historyCount = Number(str(context.values.history) ?? "20");
    const session = await context.session({ network: "online", longRunning: true });
    await session.ready();
    const { client } = session;
    const org = resolveOrg(client, str(context.values.org));
    if (!org.channels.some((c) => c.id === channel)) {
      throw new CliError(
        `no channel #${shownName(channel)} in ${shownName(org.identity.displayName)}: \`orgchat channel list\` shows them`,
      );
    }
    const names = authorNames(org);
    const out = (line: string) => {
      // Print above the prompt without mangling what the user is typing.
      if (rl.terminal) process.stdout.write("\r\x1b[K");
      context.output.stdout(`${outputText(line)}\n`);
      rl.prompt(true);
    };
    const rl = createInterface({
      input: process.stdin,
      output: process.stdout,
      terminal: process.stdin.isTTY === true && process.stdout.isTTY === true,
      prompt: `#${shownName(channel)}> `,
    });
    let sent = 0;
    let received = 0;
    const show = (message: MessageView) => {
      if (message.organizationId !== org.id) return;
      const prefix = message.channelId === channel ? "" : `#${shownName(message.channelId)} `;
      out(`${prefix}${messageLine(message, names)}`);
    };
    const offs = [
      client.on("message:received", ({ message }) => {
        if (message.own) return;
        received++;
        show(message);
      }),
      client.on("message:edited", ({ message }) => show(message)),
      client.on("message:deleted", ({ message }) => show(message)),
      client.on("member:joined", ({ organizationId, member }) => {
        if (organizationId === org.id) out(`* ${short(member)} joined`);
      }),
      client.on("member:left", ({ organizationId, member }) => {
        if (organizationId === org.id) out(`* ${short(member)} left`);
      }),
      client.on("member:removed", ({ organizationId, member }) => {
        if (organizationId === org.id) out(`* ${short(member)} was removed`);
      }),
      client.on("member:banned", ({ organizationId, member }) => {
        if (organizationId === org.id) out(`* ${short(member)} was banned`);
      }),
      client.on("request:received", ({ organizationId, requestId, displayName, requester }) => {
        if (organizationId === org.id) {
          out(
            `* request to join from ${shownName(displayName || short(requester))}: /accept ${short(requestId)} or /reject ${short(requestId)} REASON`,
          );
        }
      }),
      client.on("epoch:changed", ({ organizationId, channelId: group, epoch }) => {
        if (organizationId === org.id)
          out(`* new keys${group === "" ? "" : ` for #${shownName(group)}`} (epoch ${epoch})`);
      }),
    ];
    for (const message of client.history(org.id, channel).slice(-historyCount)) {
      context.output.stdout(`${outputText(messageLine(message, names))}\n`);
    }
    context.output.stdout(
      `-- #${shownName(channel)} of ${shownName(org.identity.displayName)}; /help for commands, Ctrl-D to quit --\n`,
    );
    rl.prompt();

    // Lines are handled one at a time, in order.
    let queue = Promise.resolve();
    const handle = async (line: string) => {
      const text = line.trim();
      if (text === "") return;
      if (!text.startsWith("/")) {
        await client.sendMessage(org.id, channel, text);
        sent++;
        out(`[${new Date().toISOString().slice(11, 19)}] you: ${bodyText(text)}`);
        return;
      }
      const [command = "", ...rest] = text.slice(1).split(/\s+/);
      switch (command) {
        case "quit":
        case "exit":
          rl.close();
          return;
        case "help":
          out(chatHelp);
          return;
        case "channel": {
          const next = channelId(rest[0] ?? "");
          if (!client.getOrganization(org.id).channels.some((c) => c.id === next)) {
            out(`! no channel #${shownName(next)}`);
            return;
          }
          channel = next;
          rl.setPrompt(`#${shownName(channel)}> `);
          for (const message of client.history(org.id, channel).slice(-historyCount)) {
            out(messageLine(message, names));
          }
          return;
        }
        case "org":
          out(orgHuman(client.getOrganization(org.id), client.memberId));
          return;
        case "requests": {
          const pending = client.listRequests(org.id).filter((r) => r.status === "pending");
          out(pending.length === 0 ? "no pending requests" : pending.map(requestLine).join("\n"));
          return;
        }
        case "accept": {
          const request = resolveRequest(client, client.getOrganization(org.id), rest[0] ?? "");
          await client.acceptRequest(org.id, request.id);
          out(`* accepted ${shownName(request.displayName || short(request.requester))}`);
          return;
        }
        case "reject": {
          const request = resolveRequest(client, client.getOrganization(org.id), rest[0] ?? "");
          await client.rejectRequest(org.id, request.id, rest.slice(1).join(" "));
          out(`* rejected ${shownName(request.displayName || short(request.requester))}`);
          return;
        }
        default:
          out(`! unknown command /${shownName(command)}; /help lists them`);
      }
    };
    rl.on("line", (line) => {
      queue = queue.then(() =>
        handle(line).catch((error: unknown) => {
          out(`! ${explain(error, { dataDir: session.dataDir, peers: session.peers }).line}`);
        }),
      );
    });
    await new Promise<void>((resolve) => {
      rl.once("close", () => resolve());
      context.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    rl.close();
    await queue;
    for (const off of offs) off();
    return {
      json: { organizationId: org.id, channelId: channel, sent, received },
      human: `\nbye (${sent} sent, ${received} received)`,
    };
  },
};
