/**
 * After `stop()`, light mode leaves no timer, socket or listener behind (the SDK's filter intervals
 * and waitForPeers timers were the trap): the child process exits by itself.
 */
import { expect, it } from "vitest";
import { runChildScript } from "./child-script.js";

it("a process that stopped a light transport with a live subscription exits by itself", async () => {
  // A hang is the failure this test exists for. Safety net only: the child normally exits about 1 s
  // after stop(); SIGTERM (long after that) makes it list what keeps it alive, then exit.
  const { code, signal, stdout, stderr } = await runChildScript("test/light-exit-script.ts", {
    ms: 60_000,
    signal: "SIGTERM",
  });
  expect(signal, `killed by the watchdog; stderr: ${stderr}`).toBeNull();
  const lines = stdout.trim().split("\n");
  expect(lines[0]).toBe("stopped");
  // A second line lists what still kept the process alive when the watchdog fired.
  expect(lines.slice(1)).toEqual([]);
  expect(code, stderr).toBe(0);
});
