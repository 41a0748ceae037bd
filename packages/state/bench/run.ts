/**
 * `pnpm --filter @orgchat/state bench [-- --json] [-- --quick]`
 *
 * Runs the message-event benchmark (./events.ts) and the description-page benchmark
 * (./description.ts). Prints each figure with its floor and the ratio; `--json` prints JSON Lines
 * on stdout instead, one object per benchmark (progress goes to stderr either way). `--quick` runs
 * a small profile (CI smoke run: proves the benchmarks still work, the numbers mean nothing).
 *
 * Benchmarks are not tests: they print numbers and assert nothing about time.
 */
import { benchDescription } from "./description.js";
import { benchEvents, type Figure } from "./events.js";

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");
const progress = (message: string) => process.stderr.write(`… ${message}\n`);

const figures: Figure[] = [];
figures.push(...benchEvents({ events: quick ? 5_000 : 100_000, rounds: quick ? 1 : 5, progress }));

function report(title: string, list: readonly Figure[]): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ benchmark: title, quick, figures: list })}\n`);
    return;
  }
  process.stdout.write(`\n${title}${quick ? " (quick profile: numbers mean nothing)" : ""}\n`);
  const rows = list.map((f) => [
    f.name,
    `${f.value.toLocaleString("en-US")} ${f.unit}`,
    f.floor === undefined ? "" : `${f.floor.toLocaleString("en-US")} ${f.unit}`,
    f.ratio === undefined ? "" : `${f.ratio}×`,
    f.note ?? "",
  ]);
  const header = ["figure", "value", "floor", "ratio", "note"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${line(header)}\n${line(widths.map((w) => "-".repeat(w)))}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
}

report("@orgchat/state: channel-message events", figures);
progress(`description pages: ${quick ? "1,000" : "10,000"} members`);
// Prints its own figures (a table, or one JSON line with --json).
await benchDescription(json, quick ? { members: 1_000, iterations: 3 } : {});
