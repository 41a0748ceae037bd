/**
 * `orgchat serve`: runs the same service node as `orgchat-node` (`@orgchat/service-node`: relay,
 * Store v3 in SQLite, LightPush v3, Filter v2) until Ctrl-C or SIGTERM. Other `orgchat` commands
 * reach it with `--peer <one of the printed addresses>`. With `--owner PROFILE` the owner's client of
 * that profile stays online beside it (`serve-owner.ts`).
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { ServiceNodeInit } from "@orgchat/service-node";
import type { CommandSpec } from "../command.js";
import { CliError, usageError } from "../errors.js";
import { jsonReplacer } from "../format.js";
import { type OwnerSide, ownerOptions } from "../serve-owner.js";
import { dataDirOf, makePrivate } from "../session.js";

/**
 * Where `serve` listens by default: fixed ports, so that the address others remember (`--peer`)
 * stays the same across restarts. The peer id stays too (kept in the data directory).
 */
export const defaultListen = ["/ip4/127.0.0.1/tcp/60000/ws", "/ip4/127.0.0.1/tcp/60001"] as const;

/** The lock file of a service node's data directory: its pid, while it runs. */
const lockName = "serve.lock";

/**
 * Takes the data directory for this process: a second node on the same directory would serve the
 * same peer id from two places and share its database.
 * @returns the function that releases it
 * @throws CliError when a running process holds it
 */
function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, lockName);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const pid = Number.parseInt(readFileSync(path, "utf8"), 10);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid)) {
      throw new CliError(
        `another orgchat serve (pid ${pid}) uses ${dataDir}: stop it, or give this one its own --data DIR (or --profile NAME)`,
      );
    }
    // Left by a node that did not stop cleanly: take it over.
    rmSync(path, { force: true });
  }
  throw new CliError(`cannot lock ${join(dataDir, lockName)}: remove it if no orgchat serve runs`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The address of this process's node that its owner client dials: a listen address on loopback
 * (a wildcard listen address is dialled on 127.0.0.1), WebSocket first.
 * @param multiaddrs - the node's addresses (with `/p2p/<peer id>`)
 * @returns one of them
 * @throws CliError when the node listens on no TCP address
 */
export function loopbackAddress(multiaddrs: readonly string[]): string {
  const local = multiaddrs
    .map((address) => address.replace(/^\/ip4\/0\.0\.0\.0\//, "/ip4/127.0.0.1/"))
    .filter((address) => /^\/ip4\/127\.|^\/ip6\/::1\//.test(address));
  const found = local.find((address) => address.includes("/ws/")) ?? local[0];
  if (found === undefined) {
    throw new CliError(
      `the owner's client needs the node on a loopback address, and it listens on ${multiaddrs.join(", ")}: add --listen /ip4/127.0.0.1/tcp/0/ws`,
    );
  }
  return found;
}

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
      help: `multiaddr to listen on; repeatable (default ${defaultListen.join(" and ")}; tcp/0 picks free ports)`,
    },
    "retention-days": {
      type: "string",
      value: "D",
      help: "drop messages older than D days (default 30)",
    },
    owner: {
      type: "string",
      value: "PROFILE",
      help: "also keep this owner profile online in this process, answering requests by its policies",
    },
    "owner-data": {
      type: "string",
      value: "DIR",
      help: "the same, for an owner profile named by its data directory",
    },
    admit: {
      type: "string",
      multiple: true,
      value: "MODE",
      help: "with --owner: none (requests wait for you; the default), all (accept every request) or invited (only invitations admit); ORG=MODE for one organization; remembered",
    },
  },
  examples: [
    "orgchat serve --listen /ip4/127.0.0.1/tcp/60000/ws",
    "orgchat serve --data /var/lib/orgchat-node --listen /ip4/0.0.0.0/tcp/60000/ws --json",
    "orgchat serve --owner alice --admit all",
    "orgchat serve --owner alice --admit Acme=all --admit Staff=invited",
  ],
  notes:
    "--data defaults to ~/.orgchat/node (--profile NAME: ~/.orgchat/NAME); messages and the node's identity survive restarts, and one node at a time uses a data directory. --peer here names other service nodes to relay with. Prints one address per line (--json: one document); give one to the others as --peer. With --owner PROFILE the owner's client of that profile (its own data directory and key, where they are) stays online beside the node until Ctrl-C: open organizations admit at once, --admit answers requests, the periodic refresh and resync answers run, and the profile's other commands (`orgchat requests --profile PROFILE`, `accept`, `send` …) run in this process as with `orgchat daemon`. A sealed profile reads its passphrase from ORGCHAT_PASSPHRASE.",
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
    const dataDir = dataDirOf({
      ...(context.global.data === undefined ? {} : { data: context.global.data }),
      profile: context.global.profile ?? "node",
    });
    const owner = ownerOptions(context.values, dataDir);
    if (owner !== undefined) {
      const { checkOwnerProfile } = await import("../serve-owner.js");
      await checkOwnerProfile(owner.target);
    }
    const listen = (context.values.listen as string[] | undefined) ?? [...defaultListen];
    const init: ServiceNodeInit = {
      dataDir,
      listen,
      ...(context.global.peer === undefined || context.global.peer.length === 0
        ? {}
        : { peers: context.global.peer }),
      ...(retentionDays === undefined
        ? {}
        : { retention: { maxAgeMs: retentionDays * 24 * 3600 * 1000 } }),
    };
    const unlock = lockDataDir(dataDir);
    // Files an older version left readable by others.
    makePrivate(dataDir);
    const { createServiceNode } = await import("@orgchat/service-node");
    let node: Awaited<ReturnType<typeof createServiceNode>>;
    try {
      node = await createServiceNode(init);
    } catch (error) {
      unlock();
      const detail = error instanceof Error ? error.message : String(error);
      throw new CliError(
        /EADDRINUSE/.test(detail)
          ? `the service node cannot listen on ${listen.join(", ")}: the port is in use (another orgchat serve?); pass --listen with another port, or tcp/0 for free ones`
          : `the service node cannot start: ${detail}`,
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
    const announce = (extra: object) => {
      if (context.global.json) {
        context.output.stdout(`${JSON.stringify({ ...info, ...extra }, jsonReplacer)}\n`);
      } else {
        context.output.stdout(`${info.multiaddrs.join("\n")}\n`);
        context.output.stderr(
          `orgchat serve: peer ${info.peerId}, data in ${dataDir}, ${info.storedMessages} messages stored. Give an address above to the others as --peer. Ctrl-C to stop.\n`,
        );
      }
    };
    let ownerSide: OwnerSide | undefined;
    if (owner === undefined) announce({});
    else {
      const { startOwnerSide } = await import("../serve-owner.js");
      try {
        ownerSide = await startOwnerSide(
          {
            ...owner,
            peer: loopbackAddress(info.multiaddrs),
            node: { peerId: node.peerId, dataDir },
            json: context.global.json,
            ...(context.global.timeout === undefined ? {} : { timeout: context.global.timeout }),
            output: context.output,
            progress: context.progress,
            signal: context.signal,
          },
          (ownerInfo) => announce({ owner: ownerInfo }),
        );
      } catch (error) {
        await node.stop();
        unlock();
        throw error;
      }
      if (!context.global.json) {
        // Honest about who is connected: the owner's own client is one of them.
        const peers = () => node.libp2p.getPeers().length;
        const onChange = () =>
          context.output.stderr(`orgchat serve: ${peers()} peer(s) connected\n`);
        node.libp2p.addEventListener("peer:connect", onChange);
        node.libp2p.addEventListener("peer:disconnect", onChange);
      }
    }
    await new Promise<void>((done) => {
      if (context.signal.aborted) done();
      context.signal.addEventListener("abort", () => done(), { once: true });
    });
    if (ownerSide !== undefined) {
      if (!context.global.json) {
        context.output.stderr(
          "orgchat serve: stopping (the owner's commands still running are interrupted)\n",
        );
      }
      // Before the node: closing the client publishes what is due through it.
      await ownerSide.stop();
    }
    const stats = node.stats();
    await node.stop();
    unlock();
    if (!context.global.json)
      context.output.stderr(`orgchat serve: stopped (${stats.storedMessages} messages stored)\n`);
    return { json: info, human: "" };
  },
};
