/**
 * The owner's removal alone, on an owner dump kept by the scale bench (`bench/scale.ts --sizes 10000
 * --dump-owner FILE`): each run is a child process that loads the dump, restarts the owner and
 * removes members one after the other (`src/scale/removal-alone.ts`). Each removal is split into
 * the owner's build (call → first publish, less the store's writes: the commit comes before the
 * outbox is sent), the time inside the store's writes and inside `publish`; the envelopes' bytes are listed. The members' apply is the scale bench's "member alone".
 *
 * `tsx --conditions=@orgchat/source bench/removal.ts --dump FILE [--runs 3] [--removals 3]
 * [--cpu-prof DIR] [--json]`
 *
 * Compare trees on the same dump, alternating runs, on CPU (wall time stretches with the load).
 */
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { measureRemovalAlone, type RemovalAloneResult } from "../src/scale/removal-alone.js";

const { values } = parseArgs({
  options: {
    dump: { type: "string" },
    runs: { type: "string", default: "3" },
    removals: { type: "string", default: "3" },
    "cpu-prof": { type: "string" },
    json: { type: "boolean", default: false },
  },
});
/** `--runs` and `--removals`: whole numbers ≥ 1. */
function atLeastOne(name: "runs" | "removals"): number {
  const value = Number(values[name]);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`--${name}: expected a whole number ≥ 1, got ${values[name]}`);
  }
  return value;
}
const file = values.dump;
if (file === undefined) {
  throw new Error(
    "removal: --dump FILE is required (write one with bench/scale.ts --sizes 10000 --dump-owner FILE)",
  );
}
const runs = atLeastOne("runs");
const removals = atLeastOne("removals");
const profileDir = values["cpu-prof"];
const json = values.json;
const execArgv =
  profileDir === undefined
    ? []
    : ["--cpu-prof", `--cpu-prof-dir=${resolve(profileDir)}`, "--cpu-prof-interval=100"];

const results: Array<RemovalAloneResult & { readonly load: number }> = [];
for (let run = 0; run < runs; run++) {
  const load = Math.round((loadavg()[0] ?? 0) * 100) / 100;
  const result = await measureRemovalAlone(file, { removals, execArgv });
  results.push({ ...result, load });
  if (json) continue;
  const lines = [`run ${run + 1} (load ${load}): owner restart ${result.restartMs} ms`];
  result.removals.forEach((r, i) => {
    const bytes = r.envelopes.reduce((sum, [, size]) => sum + size, 0);
    lines.push(
      `  removal ${i + 1}: ${r.wallMs} ms wall, CPU ${r.cpuMs} ms (main thread ${r.mainCpuMs}); owner build ${Math.round((r.untilFirstPublishMs - r.storeMs) * 10) / 10} ms (call → first publish, less the store's writes), store ${r.storeMs} ms, publish ${r.publishMs} ms (${r.storeWrites} writes, ${(r.storeBytes / 1000).toFixed(1)} KB); published ${(bytes / 1000).toFixed(1)} KB in ${r.envelopes.length} envelopes (${r.envelopes.map(([topic, size]) => `${topic} ${size}`).join(", ")}); ${r.members} members at epoch ${r.epoch}`,
    );
  });
  process.stdout.write(`${lines.join("\n")}\n`);
}
if (json) {
  process.stdout.write(
    `${JSON.stringify({ file, runs: results }, (_key, value) => (typeof value === "bigint" ? String(value) : value))}\n`,
  );
}
