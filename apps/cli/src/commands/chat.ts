/**
 * `orgchat chat`: an interactive session on one channel. Messages arriving live (and those caught up
 * from the service node) are printed as they come; every typed line is sent. Lines starting with `/`
 * are commands (`/help`). Ctrl-D or Ctrl-C ends it cleanly (client, transport and store closed).
 * Everything shown that is data (names, channel ids, texts: other people's and our own) is escaped
 * (`terminal-text.ts`), and every line goes through `outputText` before it reaches the terminal.
 */
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import type { Client, MessageView, OrganizationView, RequestView } from "@orgchat/client";
import type { CommandSpec } from "../command.js";
import { requireOwnerOrDelegate } from "../delegation.js";
import { CliError, explain, usageError } from "../errors.js";
import { authorNames, messageLine, orgHuman, requestLine, short, shownName } from "../format.js";
import { isDelegateOf } from "../ranks.js";
import { ReadMarkers } from "../read-markers.js";
import { channelId, resolveOrg, resolveRequest } from "../resolve.js";
import { bodyText, outputText } from "../terminal-text.js";
import { orgOption, str } from "./shared.js";

const chatHelp = `commands:
  /channel ID           switch channel (#ID)
  /requests             pending requests to join (owner, admins, managers)
  /accept REQUEST       accept one (owner, admins, managers)
  /reject REQUEST [WHY] reject one, with a reason (owner, admins, managers)
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
  notes: `Type a line and Enter to send it. Lines starting with / are ${chatHelp}\nWhen the service node goes away, chat says so; what you type meanwhile is shown queued and sent when it is back.`,
  streaming: true,
  async run(context) {
    let channel = channelId(context.args[0] ?? "");
    const historyText = str(context.values.history) ?? "20";
    const historyCount = Number(historyText);
    if (!Number.isInteger(historyCount) || historyCount < 0) {
      throw usageError(
        `--history needs a whole number ≥ 0, got ${JSON.stringify(historyText)}`,
        "chat",
      );
    }
    /** The newest `historyCount` messages (`slice(-0)` would be all of them). */
    const newest = (messages: MessageView[]) =>
      historyCount === 0 ? [] : messages.slice(-historyCount);
    const session = await context.session({ network: "online", longRunning: true });
    await session.ready();
    const { client } = session;
    const org = resolveOrg(client, str(context.values.org));
    if (!org.channels.some((c) => c.id === channel)) {
      throw new CliError(
        `no channel #${shownName(channel)} in ${shownName(org.identity.displayName)}: \`orgchat channel list\` shows them`,
      );
    }
    let names = authorNames(org, requestsOf(client, org));
    // Someone who joined since is named at its first message: the names are read again once per
    // author not named yet (not per message: an unnamed author stays unnamed).
    const looked = new Set<string>();
    const namesFor = (author: string) => {
      if (!names.has(author) && !looked.has(author)) {
        looked.add(author);
        const now = client.getOrganization(org.id);
        names = authorNames(now, requestsOf(client, now));
      }
      return names;
    };
    // Marked in memory as messages are shown, written once when the chat ends.
    const marks = ReadMarkers.open(session.dataDir);
    const out = (line: string) => {
      // Print above the prompt without mangling what the user is typing.
      if (rl.terminal) context.output.stdout("\r\x1b[K");
      context.output.stdout(`${outputText(line)}\n`);
      rl.prompt(true);
    };
    // The process's terminal, or (inside the profile daemon) the forwarded stdin in line mode.
    const input = context.stdin ?? process.stdin;
    const rl = createInterface({
      input,
      output: new Writable({
        write(chunk: Buffer | string, _encoding, done) {
          context.output.stdout(chunk.toString());
          done();
        },
      }),
      terminal:
        context.stdin === undefined &&
        process.stdin.isTTY === true &&
        process.stdout.isTTY === true,
      prompt: `#${shownName(channel)}> `,
    });
    let sent = 0;
    let received = 0;
    /**
     * Own messages committed but not yet taken by a service node: the client keeps them in its outbox
     * and publishes them again on its next tick (and at the next start). One entry per line typed.
     */
    const queued = new Map<string, MessageView>();
    let queueTimer: ReturnType<typeof setInterval> | undefined;
    let online = session.transport.status === "online";
    /** Announces the queued messages that left the outbox (a service node took them). */
    const checkQueue = async () => {
      if (queued.size === 0) return;
      const waiting = new Set(
        (await session.store.range(`outbox/${org.id}`)).map((entry) => entry.id),
      );
      for (const [id, message] of queued) {
        if (waiting.has(id)) continue;
        queued.delete(id);
        sent++;
        out(`* sent ${short(message.id)} (it was queued)`);
      }
      if (queued.size === 0) {
        clearInterval(queueTimer);
        queueTimer = undefined;
      }
    };
    const watchQueue = () => {
      // A UI refresh, not a protocol wait: how soon "sent" is shown, never whether it is sent.
      queueTimer ??= setInterval(() => void checkQueue().catch(() => undefined), 2000);
    };
    const show = (message: MessageView) => {
      if (message.organizationId !== org.id) return;
      const prefix = message.channelId === channel ? "" : `#${shownName(message.channelId)} `;
      out(`${prefix}${messageLine(message, namesFor(message.author))}`);
      if (message.channelId === channel) marks.mark(message);
    };
    const offs = [
      session.transport.on("status:changed", ({ status, peers }) => {
        // Only changes after the chat started: connecting at start-up is not news.
        if (status === "online" && !online) {
          online = true;
          out(
            `* connected again (${peers} service node(s))${queued.size > 0 ? `: sending the ${queued.size} queued message(s)` : ""}`,
          );
          void client
            .idle()
            .then(checkQueue)
            .catch(() => undefined);
        } else if (status !== "online" && online) {
          online = false;
          out(
            "* lost the service node: reconnecting; what you type is kept and sent when it is back",
          );
        }
      }),
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
    const shown = newest(client.history(org.id, channel));
    for (const message of shown) {
      context.output.stdout(`${outputText(messageLine(message, namesFor(message.author)))}\n`);
    }
    marks.mark(client.history(org.id, channel).at(-1));
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
        // Without a service node the send waits for one (up to --timeout): say so at once.
        const offline = session.transport.status !== "online";
        if (offline) {
          out(`… queued: ${bodyText(text)}  (no service node now: sent when one is back)`);
        }
        // A publish that fails keeps the message in the outbox (committed first) and reports an
        // \`error\`: then it stays queued, not sent, until a service node takes it.
        let failed = false;
        const offError = client.on("error", ({ organizationId }) => {
          if (organizationId === org.id) failed = true;
        });
        let message: MessageView;
        try {
          message = await client.sendMessage(org.id, channel, text);
        } finally {
          offError();
        }
        if (failed) {
          queued.set(message.id, message);
          // Said once: at once when offline, else now that the publish failed.
          if (!offline)
            out(
              `${messageLine(message, namesFor(message.author))}  (queued: no service node took it yet; sent when one is back)`,
            );
          watchQueue();
        } else {
          sent++;
          out(
            `${messageLine(message, namesFor(message.author))}${offline ? "  (sent: a service node took it)" : ""}`,
          );
        }
        marks.mark(message);
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
          for (const message of newest(client.history(org.id, channel))) {
            out(messageLine(message, namesFor(message.author)));
          }
          marks.mark(client.history(org.id, channel).at(-1));
          return;
        }
        case "org":
          out(orgHuman(client.getOrganization(org.id), client.memberId));
          return;
        case "requests": {
          requireOwnerOrDelegate(client.getOrganization(org.id), client.memberId, "chat /requests");
          const pending = client.listRequests(org.id).filter((r) => r.status === "pending");
          out(pending.length === 0 ? "no pending requests" : pending.map(requestLine).join("\n"));
          return;
        }
        case "accept": {
          requireOwnerOrDelegate(client.getOrganization(org.id), client.memberId, "chat /accept");
          const request = resolveRequest(client, client.getOrganization(org.id), rest[0] ?? "");
          await client.acceptRequest(org.id, request.id);
          out(`* accepted ${shownName(request.displayName || short(request.requester))}`);
          return;
        }
        case "reject": {
          requireOwnerOrDelegate(client.getOrganization(org.id), client.memberId, "chat /reject");
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
    clearInterval(queueTimer);
    await checkQueue();
    marks.save();
    return {
      json: { organizationId: org.id, channelId: channel, sent, queued: queued.size, received },
      human: `\nbye (${sent} sent, ${queued.size === 0 ? "" : `${queued.size} still queued: sent the next time orgchat runs with this profile and reaches a service node, `}${received} received)`,
    };
  },
};

/** The requests of `org` when this identity may list them (owner, delegate), for authors' names. */
function requestsOf(client: Client, org: OrganizationView): RequestView[] {
  return org.role === "owner" || isDelegateOf(org, client.memberId)
    ? client.listRequests(org.id)
    : [];
}
