/**
 * How long `orgchat` commands take, as a user runs them (one process per command) against a running
 * `orgchat serve` on 127.0.0.1, and the in-process floor of the same operations in the same run.
 *
 * Builds the command first (`scripts/build.ts`, into a temporary directory), starts `orgchat serve`,
 * makes an owner (organization Acme, #general) and a member (invited, joined), then times `--runs`
 * times each: `--help`, `--version`, `org show --offline`, `org show` (online), a one-shot `send`
 * (owner) and `read` (member). Per command: wall time p50/p95 and the CPU of the process (user +
 * system, from the kernel's accounting of waited-for children, 10 ms resolution). The floor runs the
 * same command lines through `runCli` inside this process (no process start, modules loaded once),
 * so the difference is what a process start and loading the bundle cost.
 *
 * Run from apps/cli: `node --import tsx --conditions=@orgchat/source bench/commands.ts [--json]
 * [--runs N] [--quick]` (`pnpm bench`). Goals (issue #15): `--help` ≤ 150 ms, `send`/`read` ≤ 1 s p50.
 */
import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../src/cli.ts";
import type { Output } from "../src/format.ts";
import { benchOptions, benchWork, percentile, startCli, stopCli } from "./bench-kit.ts";

// The in-process runs open the SQLite store: Node's "experimental" notice is noise here.
const printWarning = process.listeners("warning");
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.name === "ExperimentalWarning" && /SQLite/i.test(warning.message)) return;
  for (const listener of printWarning) listener(warning);
});

const { json, runs } = benchOptions(process.argv.slice(2), 10);
const { work, built, env } = await benchWork("commands");
const node = process.execPath;
// The in-process runs find the same profiles.
process.env.ORGCHAT_HOME = env.ORGCHAT_HOME;

/** CPU time of this process's waited-for children so far, in ms (`/proc/self/stat` cutime + cstime). */
function childrenCpuMs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 16 and 17 of stat(5), counted from 1 with pid and comm removed: indexes 13 and 14.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Runs `orgchat args…` to its end (the built launcher, as users run it). */
function orgchat(argv: readonly string[]): Promise<Outcome> {
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  const child = spawn(node, [built.bin, ...argv], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((done) => {
    child.once("close", (code) => {
      done({
        code,
        stdout,
        stderr,
        wallMs: performance.now() - started,
        cpuMs: childrenCpuMs() - cpuBefore,
      });
    });
  });
}

async function must(argv: readonly string[]): Promise<Outcome> {
  const outcome = await orgchat(argv);
  if (outcome.code !== 0) {
    throw new Error(`orgchat ${argv.join(" ")} exited ${outcome.code}: ${outcome.stderr}`);
  }
  return outcome;
}

const node0 = await startCli(
  built.bin,
  ["serve", "--listen", "/ip4/127.0.0.1/tcp/0/ws", "--data", join(work, "node")],
  env,
  // Its first address.
  (lines) => lines.find((line) => line.startsWith("/ip4/")),
);
const owner = ["--profile", "owner"];
const member = ["--profile", "member"];
const quiet = ["--quiet", "--timeout", "60"];
await must(["org", "create", "Acme", "--peer", node0.line, ...owner, ...quiet]);
const memberId = (
  JSON.parse((await must(["id", "create", "--json", ...member])).stdout) as {
    id: string;
  }
).id;
await must(["invite", memberId, ...owner, ...quiet]);
const link = (await must(["org", "link", ...owner])).stdout.trim();
// The invited member's request is accepted by the owner's next online command; then the keys come.
await must(["join", link, "--name", "Member", ...member, ...quiet]);
await must(["org", "show", ...owner, ...quiet]);
await must(["join", link, "--wait", ...member, ...quiet]);

/** The command lines timed, in order. */
const cases: ReadonlyArray<{ readonly name: string; readonly argv: readonly string[] }> = [
  { name: "--help", argv: ["--help"] },
  { name: "--version", argv: ["--version"] },
  { name: "org show --offline", argv: ["org", "show", "--offline", ...owner, ...quiet] },
  { name: "org show", argv: ["org", "show", ...owner, ...quiet] },
  { name: "send", argv: ["send", "general", "hello from the bench", ...owner, ...quiet] },
  { name: "read", argv: ["read", "general", "--limit", "5", ...member, ...quiet] },
];

const silent: Output = { stdout: () => undefined, stderr: () => undefined, stderrIsTTY: false };

/** The same command line through `runCli` in this process (the floor: no process start). */
async function inProcess(argv: readonly string[]): Promise<{ wallMs: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const code = await runCli(argv, silent, new AbortController().signal);
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  if (code !== 0) throw new Error(`in-process orgchat ${argv.join(" ")} exited ${code}`);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

interface Row {
  readonly command: string;
  readonly process: { p50Ms: number; p95Ms: number; cpuP50Ms: number };
  readonly inProcess: { p50Ms: number; p95Ms: number; cpuP50Ms: number };
}

/** p50/p95 of wall time and p50 of CPU of a command's samples. */
const summary = (samples: ReadonlyArray<{ wallMs: number; cpuMs: number }>) => ({
  p50Ms: Math.round(
    percentile(
      samples.map((s) => s.wallMs),
      50,
    ),
  ),
  p95Ms: Math.round(
    percentile(
      samples.map((s) => s.wallMs),
      95,
    ),
  ),
  cpuP50Ms: Math.round(
    percentile(
      samples.map((s) => s.cpuMs),
      50,
    ),
  ),
});

const rows: Row[] = [];
try {
  // One warm-up of each in-process path (module loading is not the floor's business).
  for (const { argv } of cases) await inProcess(argv);
  for (const { name, argv } of cases) {
    const outer: Outcome[] = [];
    const inner: Array<{ wallMs: number; cpuMs: number }> = [];
    for (let i = 0; i < runs; i++) {
      outer.push(await must(argv));
      inner.push(await inProcess(argv));
    }
    rows.push({ command: name, process: summary(outer), inProcess: summary(inner) });
  }
  // The same one-shot commands with the profile's daemon running (docs/CLI-DAEMON.md): the process
  // only hands its command line over a local socket. The floor is the one-shot row's (the daemon
  // holds the store, so runCli in this process cannot open it meanwhile).
  await must(["daemon", "start", "--background", ...owner, ...quiet]);
  await must(["daemon", "start", "--background", ...member, ...quiet]);
  try {
    for (const { name, argv } of cases.filter((c) => c.name === "send" || c.name === "read")) {
      const outer: Outcome[] = [];
      for (let i = 0; i < runs; i++) outer.push(await must(argv));
      const floor = rows.find((row) => row.command === name)?.inProcess;
      if (floor !== undefined) {
        rows.push({ command: `${name} (daemon)`, process: summary(outer), inProcess: floor });
      }
    }
  } finally {
    await must(["daemon", "stop", ...owner]);
    await must(["daemon", "stop", ...member]);
  }
} finally {
  await stopCli(node0.child);
  rmSync(work, { recursive: true, force: true });
}

if (json) {
  process.stdout.write(
    `${JSON.stringify({ bench: "orgchat-commands", runs, node: process.versions.node, rows }, null, 2)}\n`,
  );
} else {
  const header = ["command", "p50 ms", "p95 ms", "CPU p50 ms", "in-process p50", "p95", "CPU p50"];
  const table = [
    header,
    ...rows.map((r) => [
      r.command,
      ...[r.process.p50Ms, r.process.p95Ms, r.process.cpuP50Ms].map(String),
      ...[r.inProcess.p50Ms, r.inProcess.p95Ms, r.inProcess.cpuP50Ms].map(String),
    ]),
  ];
  const widths = header.map((_, i) => Math.max(...table.map((row) => (row[i] ?? "").length)));
  process.stdout.write(
    `orgchat commands, ${runs} run(s) each, against orgchat serve on 127.0.0.1 (one process per command; in-process: runCli in this process)\n`,
  );
  for (const row of table) {
    process.stdout.write(
      `${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ")}\n`,
    );
  }
}
process.exit(0);
