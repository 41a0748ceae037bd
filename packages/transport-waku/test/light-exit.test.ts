/**
 * After `stop()`, light mode leaves no timer, socket or listener behind (the SDK's filter intervals
 * and waitForPeers timers were the trap): the child process exits by itself.
 */
import { spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

it("a process that stopped a light transport with a live subscription exits by itself", async () => {
  const child = spawn(
    process.execPath,
    ["--conditions=@orgchat/source", "--import", "tsx", "test/light-exit-script.ts"],
    { cwd: packageDir, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  // A hang is the failure this test exists for. Safety net only: the child normally exits about 1 s
  // after stop(); SIGTERM (long after that) makes it list what keeps it alive, then exit.
  const watchdog = setTimeout(() => child.kill("SIGTERM"), 60_000);
  const code = await new Promise<number | null>((done) => child.once("exit", (c) => done(c)));
  clearTimeout(watchdog);
  expect(child.signalCode, `killed by the watchdog; stderr: ${stderr}`).toBeNull();
  const lines = stdout.trim().split("\n");
  expect(lines[0]).toBe("stopped");
  // A second line lists what still kept the process alive when the watchdog fired.
  expect(lines.slice(1)).toEqual([]);
  expect(code, stderr).toBe(0);
});
