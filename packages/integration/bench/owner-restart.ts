/**
 * The owner's restart alone, on an owner dump kept by the scale bench (`bench/scale.ts --dump-owner
 * FILE`): each run is a child process of its own that loads the dump into a memory store and
 * restarts the owner once cold, then warm (`src/scale/owner-alone.ts`). The same file can be
 * restarted by two source trees (copy this file and `src/scale/owner-alone*.ts`, `child.ts` into an
 * older one), so that their restarts are compared on the same bytes (docs/SCALE.md, "Owner restart").
 *
 * `tsx --conditions=@orgchat/source bench/owner-restart.ts --dump FILE [--runs 3] [--warm 3]
 * [--cpu-prof DIR] [--json]`
 *
 * - `--runs N`: child processes, one after the other (each one's first restart is cold);
 * - `--warm N`: warm restarts after the cold one in each child;
 * - `--cpu-prof DIR`: each child writes a V8 CPU profile into DIR (a sample every 100 µs; open it
 *   in Chrome's DevTools);
 * - `--json`: one JSON document on one line: every run's figures and the medians.
 *
 * Process CPU is printed next to wall time: on a shared machine wall time stretches with the load,
 * CPU time much less. Compare trees on CPU, alternating runs. The main thread's CPU is printed
 * too: the rest of the process CPU is the collector's and the compilers' background threads.
 */
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { measureOwnerAloneFile, type OwnerAloneResult } from "../src/scale/owner-alone.js";

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
};
const count = (name: string, fallback: number) => {
  const value = Number(option(name) ?? fallback);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name}: expected a whole number ≥ 0, got ${option(name)}`);
  }
  return value;
};
const file = option("--dump");
if (file === undefined) {
  throw new Error(
    "owner-restart: --dump FILE is required (write one with bench/scale.ts --sizes 10000 --dump-owner FILE)",
  );
}
const runs = Math.max(1, count("--runs", 3));
const warmRounds = count("--warm", 3);
const profileDir = option("--cpu-prof");
const json = args.includes("--json");
const execArgv =
  profileDir === undefined
    ? []
    : ["--cpu-prof", `--cpu-prof-dir=${resolve(profileDir)}`, "--cpu-prof-interval=100"];

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

const results: Array<OwnerAloneResult & { readonly load: number }> = [];
for (let run = 0; run < runs; run++) {
  const load = loadavg()[0] ?? 0;
  const result = await measureOwnerAloneFile(file, { warmRounds, execArgv });
  results.push({ ...result, load: Math.round(load * 100) / 100 });
  if (!json) {
    process.stdout.write(
      `run ${run + 1}: cold ${result.coldMs} ms, CPU ${result.coldCpuMs} ms (main thread ${result.coldMainCpuMs}); ready ${result.coldReadyMs} ms, CPU ${result.coldReadyCpuMs} ms (longest block after the view ${result.coldLongestBlockMs} ms); first removal ${result.firstRemovalMs} ms, CPU ${result.firstRemovalCpuMs} ms; warm ${result.warmMs.join(", ")} ms, CPU ${result.warmCpuMs.join(", ")} ms; ${result.members} members at epoch ${result.epoch ?? "none (no group loaded)"}, ${(result.storeBytes / 1e6).toFixed(1)} MB; load ${load.toFixed(2)}\n`,
    );
  }
}
const summary = {
  file,
  runs: results,
  coldMsMedian: median(results.map((r) => r.coldMs)),
  coldCpuMsMedian: median(results.map((r) => r.coldCpuMs)),
  coldMainCpuMsMedian: median(results.map((r) => r.coldMainCpuMs)),
  lastWarmCpuMsMedian: median(results.map((r) => r.warmCpuMs.at(-1) ?? 0)),
  coldReadyMsMedian: median(results.map((r) => r.coldReadyMs)),
  coldReadyCpuMsMedian: median(results.map((r) => r.coldReadyCpuMs)),
  firstRemovalMsMedian: median(results.map((r) => r.firstRemovalMs)),
};
process.stdout.write(
  json
    ? `${JSON.stringify(summary, (_key, value) => (typeof value === "bigint" ? String(value) : value))}\n`
    : `median of ${runs}: cold ${summary.coldMsMedian} ms, CPU ${summary.coldCpuMsMedian} ms (main thread ${summary.coldMainCpuMsMedian}); last warm CPU ${summary.lastWarmCpuMsMedian} ms; ready ${summary.coldReadyMsMedian} ms (CPU ${summary.coldReadyCpuMsMedian}); first removal ${summary.firstRemovalMsMedian} ms\n`,
);
