/**
 * `orgchat serve --owner PROFILE` (docs/CLI.md, "An owner that is always on"): beside the service node
 * of `serve`, the owner's client of that profile stays online, dialling the node in this process
 * (loopback), with its data directory and key where they are. The profile is served on its daemon
 * socket like `orgchat daemon` does (`daemon/profile-server.ts`), so the profile's other commands run
 * here; the policies of `owner-policy.ts` answer requests while nobody types (`owner-service.ts`).
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { hasErrorName } from "@orgchat/base";
import type { OrganizationView } from "@orgchat/client";
import { connectDaemon } from "./daemon/client.js";
import { type ProfileServer, serveProfile } from "./daemon/profile-server.js";
import { readDaemonRecord, socketPathFor } from "./daemon/rendezvous.js";
import { CliError, exitCodes, explain, usageError } from "./errors.js";
import { jsonReplacer, type Output, type Progress, short, shownName } from "./format.js";
import {
  type AdmitFlag,
  admitModeMeaning,
  admitModeOf,
  applyAdmitFlags,
  notOwnedError,
  type OwnerPolicy,
  parseAdmitFlags,
  policyFileName,
  readOwnerPolicy,
  writeOwnerPolicy,
} from "./owner-policy.js";
import { type OwnerServiceEvent, startOwnerService } from "./owner-service.js";
import { resolveOrg } from "./resolve.js";
import { dataDirOf, openSession, type Session } from "./session.js";
import { jsonText } from "./terminal-text.js";

/** The owner profile `serve` keeps online, and how its commands name it. */
export interface OwnerTarget {
  readonly dataDir: string;
  /** The option that names it in a hint: `--profile alice` or `--data DIR`. */
  readonly option: string;
}

/**
 * The owner profile and policy flags of a `serve` command line, checked before anything starts.
 * @param values - `serve`'s option values (`owner`, `owner-data`, `admit`)
 * @param nodeDataDir - the service node's data directory
 * @returns the target and flags, or undefined without `--owner` / `--owner-data`
 * @throws CliError (usage) for `--admit` without an owner, both owner options, or an owner profile
 *   in the node's own directory
 */
export function ownerOptions(
  values: Readonly<Record<string, unknown>>,
  nodeDataDir: string,
): { readonly target: OwnerTarget; readonly flags: readonly AdmitFlag[] } | undefined {
  const profile = typeof values.owner === "string" ? values.owner : undefined;
  const data = typeof values["owner-data"] === "string" ? values["owner-data"] : undefined;
  const admit = Array.isArray(values.admit) ? (values.admit as string[]) : [];
  if (profile === undefined && data === undefined) {
    if (admit.length > 0) throw usageError("--admit needs --owner PROFILE", "serve");
    return undefined;
  }
  if (profile !== undefined && data !== undefined) {
    throw usageError("give the owner profile once: --owner PROFILE or --owner-data DIR", "serve");
  }
  const target: OwnerTarget =
    data === undefined
      ? { dataDir: dataDirOf({ profile: profile ?? "" }), option: `--profile ${profile}` }
      : { dataDir: resolve(data), option: `--data ${resolve(data)}` };
  if (target.dataDir === nodeDataDir) {
    throw usageError(
      `the owner profile and the service node need data directories of their own (both are ${nodeDataDir}): give the node another --data DIR or --profile NAME`,
      "serve",
    );
  }
  return { target, flags: parseAdmitFlags(admit) };
}

/**
 * Checks, before the node starts, that the owner profile exists and that no other process serves it.
 * @throws CliError (exit 2) when it has no identity yet; CliError (exit 1) when a daemon or another
 *   `serve --owner` serves it, saying which process to stop
 */
export async function checkOwnerProfile(target: OwnerTarget): Promise<void> {
  if (!existsSync(join(target.dataDir, "store.db"))) {
    throw new CliError(
      `no orgchat profile in ${target.dataDir}: create the owner's identity and organization first (\`orgchat org create NAME ${target.option}\`)`,
      exitCodes.usage,
    );
  }
  const socket = await connectDaemon(socketPathFor(target.dataDir));
  if (socket === undefined) return;
  socket.destroy();
  const pid = readDaemonRecord(target.dataDir)?.pid;
  throw new CliError(
    `${target.dataDir} is already served by another orgchat process${pid === undefined ? "" : ` (pid ${pid})`}: a daemon (stop it with \`orgchat daemon stop ${target.option}\`) or another \`orgchat serve --owner\` (stop it with Ctrl-C${pid === undefined ? "" : ` or \`kill ${pid}\``}), then start this one again`,
  );
}

/** An error while opening the owner profile, said with the owner's directory. */
function ownerError(error: unknown, target: OwnerTarget): CliError {
  if (hasErrorName(error, "StoreLockedError")) {
    return new CliError(
      `the owner profile ${target.dataDir} is in use by another orgchat process (\`chat\`, \`join --wait\`, a daemon starting?): stop it, then start \`orgchat serve --owner\` again`,
      exitCodes.failed,
      { cause: error },
    );
  }
  const { line, code } = explain(error, { dataDir: target.dataDir });
  return new CliError(`owner profile ${target.dataDir}: ${line}`, code, { cause: error });
}

/** The owner side of a running `serve --owner`. */
export interface OwnerSide {
  /** What `serve --json` prints of it (in its one start-up document). */
  readonly info: object;
  /** Interrupts the commands it runs, lets the decisions under way finish, closes the profile. */
  stop(): Promise<void>;
}

/** What {@link startOwnerSide} needs from `serve`. */
export interface OwnerSideInit {
  readonly target: OwnerTarget;
  readonly flags: readonly AdmitFlag[];
  /** The node's address the owner's client dials (loopback). */
  readonly peer: string;
  /** The node's peer id and data directory (for `daemon status`). */
  readonly node: { readonly peerId: string; readonly dataDir: string };
  readonly json: boolean;
  /** `--timeout` (seconds). */
  readonly timeout?: number;
  readonly output: Output;
  readonly progress: Progress;
  readonly signal: AbortSignal;
}

/** One organization's line of the start-up text. */
function orgLine(org: OrganizationView, policy: OwnerPolicy): string {
  const mode = admitModeOf(policy, org.id);
  const admit = org.access === "no-membership" ? "open" : `--admit ${mode}`;
  return `  ${shownName(org.identity.displayName)} (${short(org.id)}, ${org.access}, ${org.members.size} member(s)): ${admit}: ${admitModeMeaning(mode, org.access)}`;
}

/**
 * Opens the owner profile online against the node in this process, applies `--admit`, prints the
 * policies, then starts answering requests and serving the profile's commands on its socket.
 * @param init - the owner, the node, where lines go
 * @param announce - prints `serve`'s start-up document with the owner's part (called once, before any
 *   event line)
 * @returns the running owner side
 * @throws CliError when the profile cannot be opened (locked, sealed without ORGCHAT_PASSPHRASE, …),
 *   owns no organization (exit 2), or `--admit` names an organization it does not own (exit 2)
 */
export async function startOwnerSide(
  init: OwnerSideInit,
  announce: (owner: object) => void,
): Promise<OwnerSide> {
  const { target, output } = init;
  const dir = target.dataDir;
  let session: Session;
  try {
    session = await openSession(
      {
        data: dir,
        peer: [init.peer],
        json: init.json,
        ...(init.timeout === undefined ? {} : { timeout: init.timeout }),
      },
      { network: "online", longRunning: true, progress: init.progress, signal: init.signal },
    );
  } catch (error) {
    throw ownerError(error, target);
  }
  try {
    try {
      await session.ready();
    } catch (error) {
      throw ownerError(error, target);
    }
    const { client } = session;
    const ownedOrgs = () => client.listOrganizations().filter((org) => org.role === "owner");
    if (ownedOrgs().length === 0) {
      const restored = client.listInactiveOrganizations().length;
      if (restored > 0) {
        throw new CliError(
          `the ${restored} organization(s) the profile in ${dir} owns are inactive: its store was restored from a backup, and a restored owner stays inactive until owner continuity can carry it on without forking it (docs/RESTORE.md); run \`orgchat serve --owner\` on the original profile`,
          exitCodes.usage,
        );
      }
      throw new CliError(
        `the profile in ${dir} owns no organization, so there is nothing to keep online: create one (\`orgchat org create NAME ${target.option}\`), or run \`orgchat serve\` without --owner`,
        exitCodes.usage,
      );
    }
    let policy = readOwnerPolicy(dir);
    if (init.flags.length > 0) {
      policy = applyAdmitFlags(policy, init.flags, (typed) => {
        let org: OrganizationView;
        try {
          org = resolveOrg(client, typed);
        } catch {
          throw notOwnedError(typed);
        }
        if (org.role !== "owner") throw notOwnedError(typed);
        return org.id;
      });
      writeOwnerPolicy(dir, policy);
    }
    const info = {
      dataDir: dir,
      memberId: client.memberId,
      socket: socketPathFor(dir),
      policy,
      organizations: ownedOrgs().map((org) => ({
        id: org.id,
        name: org.identity.displayName,
        access: org.access,
        members: org.members.size,
        admit: org.access === "no-membership" ? "open" : admitModeOf(policy, org.id),
      })),
    };
    announce(info);
    if (!init.json) {
      output.stderr(
        `${[
          `orgchat serve: owner ${short(client.memberId)} of ${dir}, online through this node; this profile's commands (\`orgchat requests ${target.option}\`, \`accept\`, \`send\` …) run in this process`,
          ...ownedOrgs().map((org) => orgLine(org, policy)),
          `orgchat serve: policies remembered in ${join(dir, policyFileName)}; --admit changes them (--admit all|invited|none, or --admit ORG=MODE)`,
        ].join("\n")}\n`,
      );
    }
    const stopping = new AbortController();
    const nameOf = (organizationId: string) => {
      try {
        return shownName(client.getOrganization(organizationId).identity.displayName);
      } catch {
        return short(organizationId);
      }
    };
    const report = (event: OwnerServiceEvent) => {
      if (init.json) {
        const { kind, ...fields } = event;
        output.stdout(`${jsonText(JSON.stringify({ event: kind, ...fields }, jsonReplacer))}\n`);
      } else output.stderr(`orgchat serve: ${eventLine(event, nameOf, target.option)}\n`);
    };
    const service = startOwnerService({
      client,
      policy: () => policy,
      report,
      signal: stopping.signal,
    });
    let server: ProfileServer;
    try {
      server = await serveProfile({
        shared: session,
        dataDir: dir,
        host: {
          status: (socket, since) => ({
            json: {
              running: true,
              dataDir: dir,
              pid: process.pid,
              socket,
              since,
              peers: session.peers,
              servedBy: "serve --owner",
              node: init.node,
            },
            human: [
              `\`orgchat serve --owner\` serves ${dir}`,
              `  pid ${process.pid}, since ${since}`,
              `  socket ${socket}`,
              `  service node ${init.node.peerId} in this process (data in ${init.node.dataDir})`,
            ].join("\n"),
          }),
          stop({ stdout, json }) {
            const refusal = `${dir} is served by \`orgchat serve --owner\` (pid ${process.pid}) together with its service node: stop that process (Ctrl-C, or \`kill ${process.pid}\`); it stops both`;
            stdout(
              json ? `${JSON.stringify({ stopping: false, refused: refusal })}\n` : `${refusal}\n`,
            );
            return exitCodes.failed;
          },
        },
      });
    } catch (error) {
      service.stop();
      throw error;
    }
    let stopped: Promise<void> | undefined;
    return {
      info,
      stop() {
        stopped ??= (async () => {
          await server.close();
          service.stop();
          // A decision not yet committed is dropped (the request stays pending for the next run).
          stopping.abort();
          await service.settled();
          // Closing the client publishes what is due (an add step waiting for its window) first.
          await session.close();
        })();
        return stopped;
      },
    };
  } catch (error) {
    await session.close();
    throw error;
  }
}

/** One event of the owner service as a line (names escaped, ids shortened). */
function eventLine(
  event: OwnerServiceEvent,
  nameOf: (organizationId: string) => string,
  option: string,
): string {
  const who = (name: string | undefined, id: string) =>
    name === undefined || name === "" ? short(id) : `${shownName(name)} (${short(id)})`;
  switch (event.kind) {
    case "request": {
      const from = `request ${short(event.requestId)} from ${who(event.displayName, event.requester)} to ${nameOf(event.organizationId)}`;
      if (event.admit === "all") return `${from}: accepting (--admit all)`;
      if (event.admit === "invited")
        return `${from}: rejecting, no invitation covers it (--admit invited)`;
      return `${from} waits for you: \`orgchat accept ${short(event.requestId)} ${option}\` (or \`reject\`)`;
    }
    case "accepted":
      return `accepted ${who(event.displayName, event.requester)} into ${nameOf(event.organizationId)}`;
    case "rejected":
      return `rejected ${who(event.displayName, event.requester)} from ${nameOf(event.organizationId)} (invitation only)`;
    case "joined":
      return `${who(event.displayName, event.member)} joined ${nameOf(event.organizationId)}`;
    case "epoch":
      return `${nameOf(event.organizationId)}: epoch ${event.epoch} of ${event.channelId === "" ? "the organization" : `#${shownName(event.channelId)}`}`;
    case "resync":
      return `${nameOf(event.organizationId)}: answered ${short(event.member)}'s request for the keys${event.channelId === "" ? "" : ` of #${shownName(event.channelId)}`}`;
    case "halted":
      return `${nameOf(event.organizationId)}: halted: another device (${short(event.device)}) also runs it as its owner; this one stopped writing as owner (it still reads); keep one device: stop orgchat on the other one, then run \`orgchat owner resume --org ${short(event.organizationId)} ${option}\` on the one you keep`;
    case "error":
      return `error${event.organizationId === undefined ? "" : ` in ${nameOf(event.organizationId)}`}: ${event.message}`;
  }
}
