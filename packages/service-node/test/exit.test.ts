/**
 * After `stop()`, the service node and the light transport leave no timer, socket or listener: a
 * child process that used both exits by itself.
 */
import { spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

it("a process that stopped a service node and a light transport exits by itself", async () => {
  const child = spawn(
    process.execPath,
    ["--conditions=@orgchat/source", "--import", "tsx", "test/scripts/stop-and-exit.ts"],
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
  // A hang is the failure this test exists for: kill it rather than wait for Vitest's timeout. A
  // safety net only (a loaded machine takes seconds to start tsx and libp2p), below the 60 s timeout.
  const watchdog = setTimeout(() => child.kill("SIGKILL"), 50_000);
  // `close`, not `exit`: the child's output is then read to its end.
  const code = await new Promise<number | null>((done) => child.once("close", (c) => done(c)));
  clearTimeout(watchdog);
  expect(child.signalCode, `killed by the watchdog; stderr: ${stderr}`).toBeNull();
  expect(code, stderr).toBe(0);
  const lines = stdout.trim().split("\n");
  expect(lines[0]).toBe("stopped");
  // A second line means something (listed) still kept the process alive 1.5 s after stop().
  expect(lines.slice(1)).toEqual([]);
});
