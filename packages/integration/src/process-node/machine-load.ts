/**
 * What else the machine ran during a benchmark's timed window: the CPU time of every process on
 * it (Linux's `/proc/stat`) and the load average, so that a figure carries its condition. On a
 * shared 2-core machine the benchmark's own CPU grows with what runs beside it (the same tree
 * measured 2,400–3,200 ms of CPU for one window at load 4–12), so two figures compare only when
 * the machine was about as busy for both.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";

/** The machine's CPU time so far, summed over its cores (from `/proc/stat`'s first line). */
export interface MachineCpu {
  /** Time the cores ran anything (user, nice, system, irq, softirq), in ms. */
  readonly busyMs: number;
  /** Time the hypervisor ran something else on the cores (steal), in ms. */
  readonly stealMs: number;
  /** Time the cores were idle or waiting for I/O, in ms. */
  readonly idleMs: number;
}

/** The machine's load over a window, beside the CPU of the processes timed in it. */
export interface MachineLoad {
  /** The 1-minute load average at the window's start and at its end. */
  readonly loadAverage: readonly [number, number];
  /** CPU time of the whole machine over the window (every core, every process), in ms. */
  readonly busyMs: number;
  /**
   * What the machine ran besides the timed processes (`busyMs` minus their CPU), in ms: the
   * bench's parent process (small) and everything else on the machine. 0 on a quiet machine.
   */
  readonly othersMs: number;
  /** Steal time over the window, in ms (a VM's cores taken by its host). */
  readonly stealMs: number;
}

/**
 * Reads the machine's CPU totals from the text of `/proc/stat`.
 * @param text - the file's text
 * @param ticksPerSecond - the kernel's `USER_HZ` (`getconf CLK_TCK`; 100 on Linux)
 * @returns the totals, or undefined when the text has no aggregate `cpu` line of numbers
 */
export function parseProcStat(text: string, ticksPerSecond = 100): MachineCpu | undefined {
  const line = text.split("\n", 1)[0] ?? "";
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== "cpu" || fields.length < 9) return undefined;
  const ticks = fields.slice(1, 9).map(Number);
  if (!ticks.every((n) => Number.isSafeInteger(n) && n >= 0)) return undefined;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = ticks as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = 1000 / ticksPerSecond;
  return {
    busyMs: (user + nice + system + irq + softirq) * ms,
    stealMs: steal * ms,
    idleMs: (idle + iowait) * ms,
  };
}

/** The machine's CPU totals now, or undefined where `/proc/stat` cannot be read (not Linux). */
export function readMachineCpu(): MachineCpu | undefined {
  try {
    return parseProcStat(readFileSync("/proc/stat", "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * Starts watching the machine's load; the returned function ends the window.
 * @returns a function that takes the timed processes' CPU over the window (ms) and returns the
 *   machine's load over it (undefined where `/proc/stat` cannot be read)
 */
export function watchMachineLoad(): (timedCpuMs: number) => MachineLoad | undefined {
  const loadStart = loadavg()[0] ?? 0;
  const before = readMachineCpu();
  return (timedCpuMs) => {
    const after = readMachineCpu();
    return before === undefined || after === undefined
      ? undefined
      : machineLoadOf(before, after, timedCpuMs, [loadStart, loadavg()[0] ?? 0]);
  };
}

/**
 * The machine's load between two readings.
 * @param before - the totals at the window's start
 * @param after - the totals at its end
 * @param timedCpuMs - the CPU of the processes timed over the same window
 * @param loadAverage - the 1-minute load average at the start and at the end
 */
export function machineLoadOf(
  before: MachineCpu,
  after: MachineCpu,
  timedCpuMs: number,
  loadAverage: readonly [number, number],
): MachineLoad {
  const busyMs = after.busyMs - before.busyMs;
  return {
    loadAverage,
    busyMs,
    othersMs: Math.max(0, busyMs - timedCpuMs),
    stealMs: after.stealMs - before.stealMs,
  };
}
