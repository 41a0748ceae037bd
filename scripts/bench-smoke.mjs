#!/usr/bin/env node
/**
 * Runs every package benchmark in its quick profile with `--json` and checks that each one prints
 * valid JSON. CI uses it so that the benchmarks keep working; the numbers of a quick run on a busy
 * CI box mean little (full numbers: `pnpm bench`, or one package's `bench` script). Two benchmarks
 * run at a time (`--jobs N` for another number): their numbers mean little here anyway, and one's
 * waits on the network overlap the other's CPU (on the 2-core CI machine, all of them one after the
 * other took 227 s).
 *
 * Usage: node scripts/bench-smoke.mjs [--out DIR] [--jobs N]   (writes DIR/<package>.json, default
 * /tmp; N benchmarks at a time, default 2)
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

// A package's `bench` script, or [package, script] for another one.
const benches = [
  "@orgchat/crypto",
  // Crypto in headless Chromium (/usr/bin/chromium) next to Node: ~7 s in the quick profile.
  ["@orgchat/crypto", "bench:browser"],
  "@orgchat/state",
  "@orgchat/store-sqlite",
  "@orgchat/store-indexeddb",
  "@orgchat/transport-waku",
  "@orgchat/service-node",
  "@orgchat/integration",
  // Delegated management with the owner offline, over real Waku (relay) and in process: ~16 s quick.
  ["@orgchat/integration", "bench:delegation"],
  "orgchat",
  // A join with the owner always on (`serve --owner`), over real Waku and in process: ~20 s quick.
  ["orgchat", "bench:serve-owner"],
];

const outIndex = process.argv.indexOf("--out");
const outDir = outIndex > 0 ? process.argv[outIndex + 1] : "/tmp";
const jobsIndex = process.argv.indexOf("--jobs");
const jobs = jobsIndex > 0 ? Number(process.argv[jobsIndex + 1]) : 2;
if (!Number.isInteger(jobs) || jobs < 1) {
  console.error(`bench smoke: --jobs needs a positive integer, got ${process.argv[jobsIndex + 1]}`);
  process.exit(2);
}

/** Runs one package script to its end; resolves with its exit status and output. */
function run(command, args) {
  return new Promise((done) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk) => {
      stderr += chunk;
    });
    child.once("error", (error) => done({ status: null, stdout, stderr, error }));
    child.once("close", (status) => done({ status, stdout, stderr, error: undefined }));
  });
}

function parseJsonOutput(text) {
  const trimmed = text.trim();
  try {
    return [JSON.parse(trimmed)];
  } catch {
    // Some benchmarks print one JSON document per line.
    return trimmed
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line));
  }
}

let failed = 0;
/** Runs one benchmark and reports it. */
async function smoke(entry) {
  const [name, script] = Array.isArray(entry) ? entry : [entry, "bench"];
  const label = script === "bench" ? name : `${name} ${script}`;
  const started = Date.now();
  const result = await run("pnpm", [
    "--silent",
    "--filter",
    name,
    "run",
    script,
    "--quick",
    "--json",
  ]);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    failed++;
    console.error(`bench smoke: ${label} exited with ${result.status} after ${seconds} s`);
    console.error(
      String(result.error ?? result.stderr)
        .split("\n")
        .slice(-20)
        .join("\n"),
    );
    return;
  }
  try {
    const documents = parseJsonOutput(result.stdout);
    const file = join(
      outDir,
      `orgchat-bench-${label.replace(/^@orgchat\//, "").replace(/[ :]/g, "-")}.json`,
    );
    writeFileSync(file, result.stdout);
    console.log(
      `bench smoke: ${label} ok in ${seconds} s (${documents.length} JSON document(s), ${file})`,
    );
  } catch (error) {
    failed++;
    console.error(`bench smoke: ${label} printed output that is not JSON: ${error.message}`);
    console.error(result.stdout.slice(0, 500));
  }
}

const queue = [...benches];
const started = Date.now();
await Promise.all(
  Array.from({ length: Math.min(jobs, queue.length) }, async () => {
    for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) await smoke(entry);
  }),
);
console.log(
  `bench smoke: ${benches.length} benchmark(s), ${jobs} at a time, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
if (failed > 0) {
  console.error(`bench smoke: ${failed} benchmark(s) failed`);
  process.exit(1);
}
