#!/usr/bin/env node
/**
 * Runs every package benchmark in its quick profile with `--json` and checks that each one prints
 * valid JSON. CI uses it so that the benchmarks keep working; the numbers of a quick run on a busy
 * CI box mean little (full numbers: `pnpm bench`, or one package's `bench` script).
 *
 * Usage: node scripts/bench-smoke.mjs [--out DIR]   (writes DIR/<package>.json, default /tmp)
 */
import { spawnSync } from "node:child_process";
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
for (const entry of benches) {
  const [name, script] = Array.isArray(entry) ? entry : [entry, "bench"];
  const label = script === "bench" ? name : `${name} ${script}`;
  const started = Date.now();
  const result = spawnSync(
    "pnpm",
    ["--silent", "--filter", name, "run", script, "--quick", "--json"],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 },
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    failed++;
    console.error(`bench smoke: ${label} exited with ${result.status} after ${seconds} s`);
    console.error(
      String(result.stderr ?? result.error)
        .split("\n")
        .slice(-20)
        .join("\n"),
    );
    continue;
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
if (failed > 0) {
  console.error(`bench smoke: ${failed} benchmark(s) failed`);
  process.exit(1);
}
