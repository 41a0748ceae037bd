/**
 * Shared pieces of the node's network benchmarks: figures, percentiles and the report format
 * (the same table / JSON shape as `bench/store.ts`).
 */

/** One measured figure, with its in-process floor when there is one. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly floor?: number;
  readonly ratio?: number;
  readonly note?: string;
}

/** Command-line flags every benchmark takes. */
export const flags = {
  json: process.argv.includes("--json"),
  quick: process.argv.includes("--quick"),
} as const;

/** Progress goes to stderr so that stdout stays the report. */
export function progress(message: string): void {
  process.stderr.write(`… ${message}\n`);
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The `p` quantile (0..1) of ascending `sorted` values (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

/** A figure with its floor and the ratio value / floor. */
export function withFloor(
  name: string,
  value: number,
  floor: number,
  unit: string,
  note?: string,
): Figure {
  return {
    name,
    value: round2(value),
    unit,
    floor: round2(floor),
    ratio: round2(value / floor),
    ...(note === undefined ? {} : { note }),
  };
}

/** Prints `figures` as a table, or as one JSON document with `--json`. */
export function report(title: string, figures: readonly Figure[]): void {
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ benchmark: title, figures }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`\n${title}\n`);
  const rows = figures.map((f) => [
    f.name,
    `${f.value} ${f.unit}`,
    f.floor === undefined ? "" : `${f.floor} ${f.unit}`,
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
