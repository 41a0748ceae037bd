/**
 * Latency summaries the end-to-end benchmarks print (bench/run.ts, bench/delegation.ts).
 */

/** A set of latencies in milliseconds, rounded to 0.1 ms. */
export interface LatencyStats {
  readonly samples: number;
  readonly minMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
}

/** Rounds milliseconds to 0.1 ms. */
export const roundMs = (ms: number): number => Math.round(ms * 10) / 10;

/** `value / floor` to one decimal, or null when the floor is 0. */
export const ratioTo = (value: number, floor: number): number | null =>
  floor > 0 ? Math.round((value / floor) * 10) / 10 : null;

/**
 * Summarises latencies: count, minimum, nearest-rank p50 and p95, maximum.
 *
 * @param values - the latencies, in milliseconds, in any order
 * @returns the summary (zeros for no values)
 */
export function latencyStats(values: readonly number[]): LatencyStats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    samples: sorted.length,
    minMs: roundMs(sorted[0] ?? 0),
    p50Ms: roundMs(at(0.5)),
    p95Ms: roundMs(at(0.95)),
    maxMs: roundMs(sorted.at(-1) ?? 0),
  };
}
