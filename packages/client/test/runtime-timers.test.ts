/**
 * `Runtime.timer`: the client's one-shot timers (the add window's flush, a delegate's grace end)
 * are cleared when the client closes, so a closed client keeps no timer and its process can end.
 */
import { describe, expect, it } from "vitest";
import type { ClientCore } from "../src/core.js";
import { Runtime } from "../src/runtime.js";

/** Timers run by hand: `armed` holds what is pending. */
function manualTimers() {
  let next = 0;
  const armed = new Map<number, () => void>();
  return {
    armed,
    setTimeout: (fn: () => void) => {
      next++;
      armed.set(next, fn);
      return next;
    },
    clearTimeout: (handle: unknown) => {
      armed.delete(handle as number);
    },
    fire(handle: number) {
      const fn = armed.get(handle);
      armed.delete(handle);
      fn?.();
    },
  };
}

function runtimeWith(timers: ReturnType<typeof manualTimers>) {
  const core = { p: { timers, config: { republishIntervalMs: 0 } }, emitter: { emit() {} } };
  return new Runtime(core as unknown as ClientCore);
}

describe("Runtime.timer", () => {
  it("runs a timer once, clears one on demand, and clears every pending one on close", async () => {
    const timers = manualTimers();
    const runtime = runtimeWith(timers);
    const fired: string[] = [];
    const a = runtime.timer(() => fired.push("a"), 10) as number;
    const b = runtime.timer(() => fired.push("b"), 20) as number;
    runtime.timer(() => fired.push("c"), 30_000);
    runtime.timer(() => fired.push("d"), 30_000);
    timers.fire(a);
    runtime.clearTimer(b);
    runtime.clearTimer(a); // fired already: nothing to clear
    expect(fired).toEqual(["a"]);
    expect(timers.armed.size).toBe(2);
    await runtime.close();
    expect(timers.armed.size).toBe(0);
    expect(runtime.timer(() => fired.push("e"), 10)).toBeUndefined();
    expect(timers.armed.size).toBe(0);
    expect(fired).toEqual(["a"]);
  });
});
