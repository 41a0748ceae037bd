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
  // A hang is the failure this test exists for: after a safety net (a loaded machine takes seconds to
  // start tsx and libp2p) ask the child what keeps it alive (SIGTERM: it prints and exits 1), and
  // kill it if even that does not end it.
  const stuck = setTimeout(() => child.kill("SIGTERM"), 50_000);
  const watchdog = setTimeout(() => child.kill("SIGKILL"), 55_000);
  // `close`, not `exit`: the child's output is then read to its end.
  const code = await new Promise<number | null>((done) => child.once("close", (c) => done(c)));
  clearTimeout(stuck);
  clearTimeout(watchdog);
  expect(
    child.signalCode,
    `killed by the watchdog; stdout: ${stdout} stderr: ${stderr}`,
  ).toBeNull();
  const lines = stdout.trim().split("\n");
  expect(lines[0]).toBe("stopped");
  // A second line lists what still kept the process alive when the safety net asked.
  expect(lines.slice(1)).toEqual([]);
  expect(code, stderr).toBe(0);
});
