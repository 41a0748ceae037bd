/**
 * `node:perf_hooks` for the benchmark page (esbuild aliases it here): the browser's own
 * `performance`, which the shared harness times with.
 */
export const performance = globalThis.performance;
