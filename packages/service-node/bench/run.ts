/**
 * `pnpm --filter @orgchat/service-node bench [-- --json] [-- --quick]`
 *
 * Runs every benchmark of the service node, each in its own process (a clean heap, and one's
 * sockets and timers cannot disturb the next):
 * - `store.ts`: Store v3 in process (SQLite archive + protocol handler), with its in-memory floor;
 * - `store-network.ts`: the same paging over the network through a light transport;
 * - `light-latency.ts`: light push → filter delivery latency through the node;
 * - `light-subscribe.ts`: a light transport's subscriptions made at the same moment (time, and that
 *   every one of them gets its messages live);
 * - `hostile.ts`: bytes archived and CPU per hostile message refused (future- and past-dated, over quota).
 *
 * Human output passes through; with `--json` the reports are collected into one JSON document
 * `{ "benchmarks": [...] }`. Benchmarks print numbers; they are not tests.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const json = process.argv.includes("--json");
const passThrough = process.argv.slice(2).filter((arg) => arg === "--json" || arg === "--quick");
const scripts = [
  "store.ts",
  "store-network.ts",
  "light-latency.ts",
  "light-subscribe.ts",
  "hostile.ts",
];

function run(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--conditions=@orgchat/source", "--import", "tsx", join(here, script), ...passThrough],
      { stdio: ["ignore", json ? "pipe" : "inherit", "inherit"] },
    );
    let stdout = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`bench/${script} exited with ${code}`)),
    );
  });
}

const reports: unknown[] = [];
for (const script of scripts) {
  const output = await run(script);
  if (json) reports.push(JSON.parse(output));
}
if (json) process.stdout.write(`${JSON.stringify({ benchmarks: reports }, null, 2)}\n`);
