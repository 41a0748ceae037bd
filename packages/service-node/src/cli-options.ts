/**
 * Command-line options of `orgchat-node`: parsing and validation, separate from the process entry
 * point (`cli.ts`) so that they can be tested without spawning a process.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Diagnostic, describeError, errorGuard, OrgchatError } from "@orgchat/base";
import type { ServiceNodeInit } from "./config.js";

/** What the command line asked for. */
export type CliCommand =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | {
      readonly kind: "run";
      readonly json: boolean;
      readonly init: ServiceNodeInit;
      /** `--diagnostics`: print every diagnostic of the node on stderr. */
      readonly diagnostics?: true;
    };

/** Thrown for a command line that cannot be run; the message is one line saying what to fix. */
export class UsageError extends OrgchatError {
  static readonly errorName = "UsageError";
  constructor(message: string) {
    super(UsageError.errorName, message);
  }
}

/** Whether `value` is a {@link UsageError}. */
export const isUsageError = errorGuard<UsageError>(UsageError.errorName);

/** `--help` text. */
export const cliUsage = `orgchat-node: a Waku service node (relay, Store v3, LightPush v3, Filter v2, metadata)

Usage: orgchat-node [options]

Options:
  --listen ADDR            multiaddr to listen on; repeat for several
                           (default: /ip4/127.0.0.1/tcp/0/ws and /ip4/127.0.0.1/tcp/0)
  --data DIR               data directory: peer identity and message archive (default: ~/.orgchat/node)
  --cluster N              cluster id (default: 55, a private cluster)
  --num-shards N           shards in the cluster, auto-sharding (default: 8)
  --shards LIST            shards to serve, comma-separated, e.g. 0,1,2 (default: all)
  --retention-days D       drop messages older than D days (default: 30)
  --retention-messages N   keep at most N messages (default: 1000000)
  --retention-gb GB        keep at most GB gigabytes (GiB) of messages, oldest dropped first (default: 10)
  --timestamp-skew S       archive only messages dated within S seconds of this node's clock (default: 20)
  --peer-quota-messages N  messages one peer may have in the archive (default: 100000)
  --peer-quota-mb MB       megabytes (MiB) one peer may have in the archive (default: 1024)
  --peer ADDR              relay or service node to stay connected to (multiaddr with /p2p/<id>); repeatable
  --json                   print the node's addresses as one JSON document
  --diagnostics            print one line on stderr for every request the node drops and every
                           background step that fails (malformed requests, unreachable subscribers…)
  --help                   show this help
  --version                print the version

Example:
  orgchat-node --listen /ip4/0.0.0.0/tcp/60000/ws --data /var/lib/orgchat-node --retention-days 14

It prints one multiaddr per line; give one to light nodes as their service node. Stop it with Ctrl-C
(SIGINT) or SIGTERM; messages are kept in the data directory across restarts.`;

/**
 * Parses `argv` (without the node and script paths).
 * @throws UsageError naming the bad flag and what it expects
 */
export function parseCliArgs(argv: readonly string[], home: string = homedir()): CliCommand {
  let values: ReturnType<typeof parse>["values"];
  try {
    ({ values } = parse(argv));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${detail.replace(/\.$/, "")} (see orgchat-node --help)`);
  }
  if (values.help === true) return { kind: "help" };
  if (values.version === true) return { kind: "version" };
  const clusterId = integer(values.cluster, "--cluster", 0, 65_535) ?? 55;
  const numShardsInCluster = integer(values["num-shards"], "--num-shards", 1, 1024) ?? 8;
  let shards: number[] | undefined;
  if (values.shards !== undefined) {
    shards = values.shards.split(",").map((part) => {
      const shard = integer(part.trim(), "--shards", 0, numShardsInCluster - 1);
      if (shard === undefined)
        throw new UsageError("--shards needs a comma-separated list, e.g. 0,1,2");
      return shard;
    });
    if (shards.length === 0) throw new UsageError("--shards needs at least one shard");
  }
  const days = number(values["retention-days"], "--retention-days");
  const messages = integer(
    values["retention-messages"],
    "--retention-messages",
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const retentionGb = number(values["retention-gb"], "--retention-gb");
  const skewSeconds = number(values["timestamp-skew"], "--timestamp-skew");
  const quotaMessages = integer(
    values["peer-quota-messages"],
    "--peer-quota-messages",
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const quotaMb = number(values["peer-quota-mb"], "--peer-quota-mb");
  const init: ServiceNodeInit = {
    dataDir: values.data ?? join(home, ".orgchat", "node"),
    networkConfig: { clusterId, numShardsInCluster },
    ...(values.listen === undefined ? {} : { listen: values.listen }),
    ...(values.peer === undefined ? {} : { peers: values.peer }),
    ...(shards === undefined ? {} : { shards }),
    ...(days === undefined && messages === undefined && retentionGb === undefined
      ? {}
      : {
          retention: {
            ...(days === undefined ? {} : { maxAgeMs: days * 24 * 60 * 60 * 1000 }),
            ...(messages === undefined ? {} : { maxMessages: messages }),
            ...(retentionGb === undefined
              ? {}
              : { maxBytes: Math.ceil(retentionGb * 1024 * 1024 * 1024) }),
          },
        }),
    ...(skewSeconds === undefined ? {} : { maxTimestampSkewMs: Math.ceil(skewSeconds * 1000) }),
    ...(quotaMessages === undefined && quotaMb === undefined
      ? {}
      : {
          peerQuota: {
            ...(quotaMessages === undefined ? {} : { maxMessages: quotaMessages }),
            ...(quotaMb === undefined ? {} : { maxBytes: Math.ceil(quotaMb * 1024 * 1024) }),
          },
        }),
  };
  return {
    kind: "run",
    json: values.json === true,
    init,
    ...(values.diagnostics === true ? { diagnostics: true as const } : {}),
  };
}

/**
 * One stderr line for a diagnostic (`--diagnostics`), e.g.
 * `orgchat-node: diagnostic service-node/light-push undecodable: index out of range`.
 */
export function formatDiagnostic(diagnostic: Diagnostic): string {
  const topic = diagnostic.topic === undefined ? "" : ` on ${diagnostic.topic}`;
  const error =
    diagnostic.error === undefined
      ? ""
      : `: ${describeError(diagnostic.error).replace(/\s*\n\s*/g, " ")}`;
  return `orgchat-node: diagnostic ${diagnostic.component} ${diagnostic.reason}${topic}${error}`;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      listen: { type: "string", multiple: true },
      data: { type: "string" },
      cluster: { type: "string" },
      "num-shards": { type: "string" },
      shards: { type: "string" },
      "retention-days": { type: "string" },
      "retention-messages": { type: "string" },
      "retention-gb": { type: "string" },
      "timestamp-skew": { type: "string" },
      "peer-quota-messages": { type: "string" },
      "peer-quota-mb": { type: "string" },
      peer: { type: "string", multiple: true },
      json: { type: "boolean" },
      diagnostics: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" },
    },
  });
}

function integer(
  text: string | undefined,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text))
    throw new UsageError(`${flag} needs a whole number, got ${JSON.stringify(text)}`);
  const value = Number(text);
  if (value < min || value > max) {
    throw new UsageError(`${flag} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function number(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${flag} needs a positive number, got ${JSON.stringify(text)}`);
  }
  return value;
}
