/**
 * `orgchat serve`: runs the same service node as `orgchat-node` (`@orgchat/service-node`: relay,
 * Store v3 in SQLite, LightPush v3, Filter v2) until Ctrl-C or SIGTERM. Other `orgchat` commands
 * reach it with `--peer <one of the printed addresses>`.
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { ServiceNodeInit } from "@orgchat/service-node";
import type { CommandSpec } from "../command.js";
import { CliError, usageError } from "../errors.js";
import { jsonReplacer } from "../format.js";

export const serveCommand: CommandSpec = {
  name: "serve",
  summary: "run a Waku service node (store, light push, filter, relay) for orgchat peers",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  options: {
    listen: {
      type: "string",
      multiple: true,
      value: "ADDR",
      help: "multiaddr to listen on; repeatable (default /ip4/127.0.0.1/tcp/0/ws and /ip4/127.0.0.1/tcp/0)",
    },
    "retention-days": {
      type: "string",
      value: "D",
      help: "drop messages older than D days (default 30)",
    },
  },
  examples: [
    "orgchat serve --listen /ip4/127.0.0.1/tcp/60000/ws",
    "orgchat serve --data /var/lib/orgchat-node --listen /ip4/0.0.0.0/tcp/60000/ws --json",
  ],
  notes:
    "--data defaults to ~/.orgchat/node (messages and the node's identity survive restarts); --peer here names other service nodes to relay with. Prints one address per line (--json: one document); give one to the others as --peer.",
  streaming: true,
  async run(context) {
    const days = context.values["retention-days"] as string | undefined;
    const retentionDays = days === undefined ? undefined : Number(days);
    if (retentionDays !== undefined && !(retentionDays > 0)) {
      throw usageError(
        `--retention-days needs a positive number, got ${JSON.stringify(days)}`,
        this.name,
      );
    }
    const dataDir =
      context.global.data === undefined
        ? join(homedir(), ".orgchat", "node")
        : resolve(context.global.data);
    const listen = context.values.listen as string[] | undefined;
    const init: ServiceNodeInit = {
      dataDir,
      ...(listen === undefined ? {} : { listen }),
      ...(context.global.peer === undefined || context.global.peer.length === 0
        ? {}
        : { peers: context.global.peer }),
      ...(retentionDays === undefined
        ? {}
        : { retention: { maxAgeMs: retentionDays * 24 * 3600 * 1000 } }),
    };
    const { createServiceNode } = await import("@orgchat/service-node");
    let node: Awaited<ReturnType<typeof createServiceNode>>;
    try {
      node = await createServiceNode(init);
    } catch (error) {
      throw new CliError(
        `the service node cannot start: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const info = {
      peerId: node.peerId,
      multiaddrs: node.multiaddrs(),
      clusterId: node.clusterId,
      shards: node.shards,
      dataDir,
      storedMessages: node.stats().storedMessages,
    };
    if (context.global.json) context.output.stdout(`${JSON.stringify(info, jsonReplacer)}\n`);
    else {
      context.output.stdout(`${info.multiaddrs.join("\n")}\n`);
      context.output.stderr(
        `orgchat serve: peer ${info.peerId}, data in ${dataDir}, ${info.storedMessages} messages stored. Give an address above to the others as --peer. Ctrl-C to stop.\n`,
      );
    }
    await new Promise<void>((done) => {
      if (context.signal.aborted) done();
      context.signal.addEventListener("abort", () => done(), { once: true });
    });
    const stats = node.stats();
    await node.stop();
    if (!context.global.json)
      context.output.stderr(`orgchat serve: stopped (${stats.storedMessages} messages stored)\n`);
    return { json: info, human: "" };
  },
};
