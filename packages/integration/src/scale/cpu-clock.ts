/**
 * The clocks and the collector the scale measurements share: process CPU (every thread: the
 * collector's and the compilers' too), the main thread's CPU, and `gc()` without `--expose-gc` on
 * the command line. Unlike wall time, CPU time is not stretched by a loaded machine.
 *
 * @module
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** CPU time this process used so far (user + system, ms). */
export function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** CPU time the main thread used so far (ms): the process's less its helper threads'. */
export function mainThreadCpuMs(): number {
  const usage = process.threadCpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * `global.gc` without `--expose-gc` on the command line.
 *
 * @returns a function that collects twice (the second pass takes what the first one's finalizers
 *   released)
 */
export function collector(): () => void {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  return () => {
    gc();
    gc();
  };
}
