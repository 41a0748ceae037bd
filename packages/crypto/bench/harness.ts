/**
 * A small benchmark harness: each figure is measured together with its **floor** (the same primitive
 * calls made directly in a loop) in the same run, and reported as a ratio, so that the numbers say how
 * much the library adds, whatever the machine. Prints a table, or JSON with `--json`.
 *
 * Timing: a warm-up, then rounds of a fixed number of iterations; the reported time per operation is
 * the median round (robust against a busy second core). Never used by tests: tests assert behaviour,
 * benchmarks print numbers.
 */
import { performance } from "node:perf_hooks";

export interface Measurement {
  /** Median time per operation, in microseconds. */
  readonly microseconds: number;
  readonly rounds: number;
  readonly iterationsPerRound: number;
}

export interface MeasureOptions {
  /** Operations per round. */
  iterations: number;
  /** Rounds (the median is reported). @default 7 */
  rounds?: number;
  /** Warm-up operations before timing. @default iterations */
  warmup?: number;
}

/** Times `operation` (called with the iteration index) and returns the median µs per call. */
export function measure(operation: (i: number) => unknown, options: MeasureOptions): Measurement {
  const rounds = options.rounds ?? 7;
  const warmup = options.warmup ?? options.iterations;
  let sink: unknown;
  for (let i = 0; i < warmup; i++) sink = operation(i);
  const perOp: number[] = [];
  let index = warmup;
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    for (let i = 0; i < options.iterations; i++) sink = operation(index++);
    perOp.push(((performance.now() - start) * 1000) / options.iterations);
  }
  keep(sink);
  perOp.sort((a, b) => a - b);
  return {
    microseconds: perOp[Math.floor(perOp.length / 2)] ?? Number.NaN,
    rounds,
    iterationsPerRound: options.iterations,
  };
}

let kept: unknown;
function keep(value: unknown): void {
  // Stops the engine from proving the measured work is dead code.
  kept = value;
}
export function lastKept(): unknown {
  return kept;
}

/** One line of a report: a figure, its floor, the ratio and the goal. */
export interface Figure {
  readonly name: string;
  readonly provider: string;
  readonly value: number;
  readonly unit: string;
  readonly floor?: number;
  readonly ratio?: number;
  /** e.g. "≤ 1.3 × floor" or "≤ 10 ms". */
  readonly goal?: string;
  /** Whether the goal is met (undefined when there is no goal). */
  readonly met?: boolean;
  readonly note?: string;
}

export function ratioFigure(init: {
  name: string;
  provider: string;
  value: Measurement;
  floor: Measurement;
  maxRatio: number;
  note?: string;
}): Figure {
  const ratio = init.value.microseconds / init.floor.microseconds;
  return {
    name: init.name,
    provider: init.provider,
    value: round(init.value.microseconds),
    unit: "µs",
    floor: round(init.floor.microseconds),
    ratio: round(ratio),
    goal: `≤ ${init.maxRatio} × floor`,
    met: ratio <= init.maxRatio,
    ...(init.note === undefined ? {} : { note: init.note }),
  };
}

export function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Prints the figures as a table (stdout) or as JSON when `json` is set. */
export function report(title: string, figures: readonly Figure[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ benchmark: title, figures }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`\n${title}\n`);
  const rows = figures.map((f) => [
    f.name,
    f.provider,
    `${f.value} ${f.unit}`,
    f.floor === undefined ? "" : `${f.floor} ${f.unit}`,
    f.ratio === undefined ? "" : `${f.ratio}×`,
    f.goal ?? "",
    f.met === undefined ? "" : f.met ? "ok" : "MISSED",
    f.note ?? "",
  ]);
  const header = ["figure", "provider", "value", "floor", "ratio", "goal", "", "note"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${line(header)}\n${line(widths.map((w) => "-".repeat(w)))}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
}

/** Progress for long steps, on stderr so `--json` output stays clean. */
export function progress(message: string): void {
  process.stderr.write(`… ${message}\n`);
}

/** Like {@link measure} for an async operation (awaited one at a time). */
export async function measureAsync(
  operation: (i: number) => Promise<unknown>,
  options: MeasureOptions,
): Promise<Measurement> {
  const rounds = options.rounds ?? 7;
  const warmup = options.warmup ?? options.iterations;
  let sink: unknown;
  for (let i = 0; i < warmup; i++) sink = await operation(i);
  const perOp: number[] = [];
  let index = warmup;
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    for (let i = 0; i < options.iterations; i++) sink = await operation(index++);
    perOp.push(((performance.now() - start) * 1000) / options.iterations);
  }
  keep(sink);
  perOp.sort((a, b) => a - b);
  return {
    microseconds: perOp[Math.floor(perOp.length / 2)] ?? Number.NaN,
    rounds,
    iterationsPerRound: options.iterations,
  };
}
