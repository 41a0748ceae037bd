/**
 * The package's `bench`: the end-to-end benchmarks (bench/run.ts), the attacks' resource budgets
 * (bench/adversary.ts), then the scale benchmark (bench/scale.ts: 1,000 to 10,000 members, or 100
 * and 300 with `--quick`), each in its own process with the same arguments. With `--json` each
 * prints one JSON document on one line (`scripts/bench-smoke.mjs` reads one per line).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
let failed = 0;
for (const script of ["run.ts", "adversary.ts", "scale.ts"]) {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const result = spawnSync(process.execPath, [...process.execArgv, file, ...args], {
    stdio: "inherit",
  });
  if (result.status !== 0) {
    // Run the next one anyway: one failure should not hide the other's figures.
    console.error(`bench: ${script} exited with ${result.status ?? result.signal}`);
    failed++;
  }
}
if (failed > 0) process.exit(1);
