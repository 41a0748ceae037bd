import { describe, expect, it } from "vitest";
import { machineLoadOf, parseProcStat, readMachineCpu } from "../src/process-node/machine-load.js";

// A real first line of /proc/stat (a 2-core VM, 3 h up): user nice system idle iowait irq softirq
// steal guest guest_nice, in ticks of 10 ms.
const stat = "cpu  1133775 684060 378337 257978 1615 0 3326 7 0 0\ncpu0 566000 1 2 3 4 5 6 7 0 0\n";

describe("machine load (the bench's condition)", () => {
  it("reads busy, steal and idle time from /proc/stat's aggregate line", () => {
    expect(parseProcStat(stat)).toEqual({
      busyMs: (1133775 + 684060 + 378337 + 0 + 3326) * 10,
      stealMs: 70,
      idleMs: (257978 + 1615) * 10,
    });
    expect(parseProcStat(stat, 1000)?.stealMs).toBe(7);
  });

  it("refuses text that is not /proc/stat", () => {
    expect(parseProcStat("")).toBeUndefined();
    expect(parseProcStat("cpu0 1 2 3 4 5 6 7 8")).toBeUndefined();
    expect(parseProcStat("cpu 1 2 3")).toBeUndefined();
    expect(parseProcStat("cpu 1 2 x 4 5 6 7 8")).toBeUndefined();
    expect(parseProcStat("cpu 1 2 -3 4 5 6 7 8")).toBeUndefined();
  });

  it("charges the machine's CPU beyond the timed processes to the others", () => {
    const before = { busyMs: 10_000, stealMs: 5, idleMs: 1_000 };
    const after = { busyMs: 13_500, stealMs: 25, idleMs: 1_200 };
    expect(machineLoadOf(before, after, 2_400, [4.5, 6])).toEqual({
      loadAverage: [4.5, 6],
      busyMs: 3_500,
      othersMs: 1_100,
      stealMs: 20,
    });
    // Tick rounding can make the machine's busy time a little less than the processes' CPU.
    expect(machineLoadOf(before, after, 3_510, [1, 1]).othersMs).toBe(0);
  });

  it("reads this machine's totals where /proc/stat exists, and they only grow", () => {
    const first = readMachineCpu();
    if (process.platform !== "linux") {
      expect(first).toBeUndefined();
      return;
    }
    const second = readMachineCpu();
    expect(first).toBeDefined();
    expect(second?.busyMs).toBeGreaterThanOrEqual(first?.busyMs ?? Number.POSITIVE_INFINITY);
  });
});
