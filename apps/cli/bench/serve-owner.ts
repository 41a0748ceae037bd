/**
 * Joining an organization whose owner is always on (`orgchat serve --owner … --admit all`): request →
 * accepted → keys → first message decrypted, with nobody typing for the owner, over real Waku on
 * 127.0.0.1, and the in-process floor of the same flow in the same run (the same owner service on a
 * memory network, no Waku, no process).
 *
 * Builds the command (`scripts/build.ts`, into a temporary directory), creates Acme (#general) through a
 * plain `orgchat serve`, then starts `orgchat serve --owner alice --admit all` on a fresh port. Carol, a
 * member, and each newcomer are clients in this process, in light mode against that node (as a CLI
 * profile is). Per run a new identity asks to join; timed from `requestToJoin`: `request:accepted`
 * (the owner's answer), the newcomer holding the epoch carol is in (the Welcome and the roster), and
 * carol's next message decrypted by it (carol sends once she is in that epoch too). The add window
 * (`addWindowMs`, 200 ms of the long-running settings) is part of both.
 *
 * Run from apps/cli: `node --import tsx --conditions=@orgchat/source bench/serve-owner.ts [--json]
 * [--runs N] [--quick]` (`pnpm bench:serve-owner`). Goal (issue #17): ≤ 1 s p50 to the first message.
 */
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { type Client, type ClientEvents, createClient } from "@orgchat/client";
import { memoryStore } from "@orgchat/store";
import { memoryNetwork, type Transport } from "@orgchat/transport";
import { startOwnerService } from "../src/owner-service.ts";
import { clientConfig } from "../src/session.ts";
import { benchOptions, benchWork, percentile, startCli, stopCli } from "./bench-kit.ts";

const { json, runs } = benchOptions(process.argv.slice(2), 20);
/** A net for a hang only: no outcome depends on it. */
const hangMs = 120_000;

const { work, built, env } = await benchWork("serve-owner");

/** Runs `orgchat argv…` to its end. @throws when it exits non-zero */
function finishCli(argv: readonly string[]): Promise<void> {
  const child = spawn(process.execPath, [built.main, ...argv], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  return new Promise((done, fail) =>
    child.once("close", (code) =>
      code === 0 ? done() : fail(new Error(`orgchat ${argv.join(" ")} exited ${code}: ${err}`)),
    ),
  );
}

/** Resolves with the first `event` of `client` that `match` accepts. */
function next<K extends keyof ClientEvents>(
  client: Client,
  event: K,
  match: (payload: ClientEvents[K]) => boolean = () => true,
): Promise<ClientEvents[K]> {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      off();
      fail(new Error(`no ${event} within ${hangMs} ms`));
    }, hangMs);
    const off = client.on(event, (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      off();
      done(payload);
    });
  });
}

/** Waits until `check()` holds, re-checking on each `epoch:changed` of `client`. */
async function until(client: Client, check: () => boolean): Promise<void> {
  while (!check()) await next(client, "epoch:changed");
}

interface Sample {
  readonly acceptedMs: number;
  readonly keysMs: number;
  readonly firstMessageMs: number;
}

/**
 * One join: `newcomer` asks, the always-on owner accepts, carol sends once both are in the same
 * epoch, the newcomer decrypts it.
 */
async function oneJoin(
  orgId: string,
  carol: Client,
  newcomer: Client,
  label: string,
): Promise<Sample> {
  await newcomer.discover(orgId);
  const text = `hello ${label}`;
  const accepted = next(newcomer, "request:accepted");
  const decrypted = next(newcomer, "message:received", ({ message }) => message.text === text);
  const started = performance.now();
  await newcomer.requestToJoin(orgId, { displayName: label });
  await accepted;
  const acceptedMs = performance.now() - started;
  const epochOf = (client: Client) => client.getOrganization(orgId).epoch;
  // The Welcome: the newcomer holds an epoch, and carol follows the add step into it.
  await until(
    newcomer,
    () => epochOf(newcomer) !== undefined && newcomer.getOrganization(orgId).role === "member",
  );
  const keysMs = performance.now() - started;
  await until(carol, () => epochOf(carol) === epochOf(newcomer));
  await carol.sendMessage(orgId, "general", text);
  await decrypted;
  return { acceptedMs, keysMs, firstMessageMs: performance.now() - started };
}

/** Carol joins (not timed) and is accepted by the owner's service. */
async function joinCarol(orgId: string, carol: Client): Promise<void> {
  await carol.discover(orgId);
  const accepted = next(carol, "request:accepted");
  await carol.requestToJoin(orgId, { displayName: "Carol" });
  await accepted;
  await until(carol, () => carol.getOrganization(orgId).role === "member");
}

/** Over real Waku: `serve --owner` in its own process, clients here in light mode. */
async function overWaku(): Promise<Sample[]> {
  const plain = await startCli(
    built.main,
    ["serve", "--listen", "/ip4/127.0.0.1/tcp/0/ws", "--profile", "node"],
    env,
  );
  await finishCli([
    "org",
    "create",
    "Acme",
    "--channel",
    "general",
    "--peer",
    plain.line,
    "--profile",
    "alice",
    "--quiet",
  ]);
  await stopCli(plain.child);
  const owner = await startCli(
    built.main,
    [
      "serve",
      "--owner",
      "alice",
      "--admit",
      "all",
      "--json",
      "--listen",
      "/ip4/127.0.0.1/tcp/0/ws",
      "--profile",
      "node",
    ],
    env,
  );
  const { wakuTransport } = await import("@orgchat/transport-waku");
  const info = JSON.parse(owner.line) as {
    multiaddrs: string[];
    owner: { organizations: Array<{ id: string }> };
  };
  const peer = info.multiaddrs.find((a) => a.includes("/ws/")) ?? "";
  const id = info.owner.organizations[0]?.id ?? "";
  const light = (): Transport => wakuTransport({ mode: "light", peers: [peer] });
  const clients: Client[] = [];
  const client = async () => {
    const made = await createClient({
      transport: light(),
      store: memoryStore(),
      config: clientConfig(true),
    });
    clients.push(made);
    return made;
  };
  try {
    const carol = await client();
    await joinCarol(id, carol);
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      const newcomer = await client();
      samples.push(await oneJoin(id, carol, newcomer, `waku-${i}`));
      await newcomer.close();
    }
    return samples;
  } finally {
    for (const made of clients) await made.close().catch(() => undefined);
    await stopCli(owner.child);
  }
}

/** The floor: the same owner service and clients on a memory network in this process. */
async function inProcess(): Promise<Sample[]> {
  const network = memoryNetwork({ seed: 1 });
  const clients: Client[] = [];
  const client = async (name: string) => {
    const made = await createClient({
      transport: network.transport({ name, history: true }),
      store: memoryStore(),
      config: clientConfig(true),
    });
    clients.push(made);
    return made;
  };
  try {
    const owner = await client("owner");
    const orgId = await owner.createOrganization({ name: "Acme" });
    await owner.createChannel(orgId, { id: "general", name: "general" });
    const service = startOwnerService({
      client: owner,
      policy: () => ({ admit: "all", admitByOrg: {} }),
      report: () => undefined,
    });
    const carol = await client("carol");
    await joinCarol(orgId, carol);
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      const newcomer = await client(`newcomer-${i}`);
      samples.push(await oneJoin(orgId, carol, newcomer, `memory-${i}`));
    }
    service.stop();
    return samples;
  } finally {
    for (const made of clients) await made.close().catch(() => undefined);
    await network.stop();
  }
}

const phases = ["acceptedMs", "keysMs", "firstMessageMs"] as const;
const summarize = (samples: readonly Sample[]) =>
  Object.fromEntries(
    phases.map((phase) => [
      phase,
      {
        p50: Math.round(
          percentile(
            samples.map((s) => s[phase]),
            50,
          ),
        ),
        p95: Math.round(
          percentile(
            samples.map((s) => s[phase]),
            95,
          ),
        ),
      },
    ]),
  ) as Record<(typeof phases)[number], { p50: number; p95: number }>;

let waku: Sample[];
let memory: Sample[];
try {
  // Back to back on the same machine: the floor first, then over Waku.
  memory = await inProcess();
  waku = await overWaku();
} finally {
  rmSync(work, { recursive: true, force: true });
}
const result = {
  bench: "orgchat-serve-owner-join",
  runs,
  node: process.versions.node,
  waku: summarize(waku),
  inProcess: summarize(memory),
};
if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  process.stdout.write(
    `join with the owner always on (serve --owner --admit all), ${runs} run(s), ms from requestToJoin (p50 / p95)\n`,
  );
  const names = {
    acceptedMs: "accepted",
    keysMs: "keys held",
    firstMessageMs: "first message decrypted",
  };
  process.stdout.write(`${"".padEnd(26)}${"over Waku".padStart(16)}${"in process".padStart(16)}\n`);
  for (const phase of phases) {
    const cell = (r: { p50: number; p95: number }) => `${r.p50} / ${r.p95}`.padStart(16);
    process.stdout.write(
      `${names[phase].padEnd(26)}${cell(result.waku[phase])}${cell(result.inProcess[phase])}\n`,
    );
  }
}
process.exit(0);
