/**
 * `pnpm --filter @orgchat/integration fuzz:long` (≥ 100,000 inputs), or
 * `tsx --conditions=@orgchat/source src/fuzz/main.ts [--inputs N] [--seed S] [--json]`: runs the
 * receive-path fuzzer once and prints its report (JSON with `--json`); exits 1 when the report
 * breaks a bound (see `fuzzFailures`).
 */
import { fuzzFailures, fuzzReceivePath } from "./receive-fuzzer.js";

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`--${name}: expected an integer`);
  return value;
}

const inputs = option("inputs", 100_000);
const seed = option("seed", 1);
const json = process.argv.includes("--json");
let last = Date.now();
const report = await fuzzReceivePath({
  inputs,
  seed,
  onProgress: (done) => {
    if (Date.now() - last < 10_000) return;
    last = Date.now();
    process.stderr.write(`… ${done} / ${inputs} inputs\n`);
  },
});
const failures = fuzzFailures(report);
const printable = JSON.stringify(
  { ...report, failures },
  (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value),
  2,
);
if (json) {
  process.stdout.write(`${printable}\n`);
} else {
  process.stdout.write(`receive-path fuzzer: ${inputs} inputs, seed ${seed}\n${printable}\n`);
}
process.exitCode = failures.length === 0 ? 0 : 1;
