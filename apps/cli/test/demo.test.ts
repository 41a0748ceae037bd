/**
 * `pnpm demo` end to end, as the README runs it (a child process through tsx): exit 0, every step
 * verified, and the summary table printed; `--json` gives one document with every step's checks.
 */
import { afterEach, describe, expect, it } from "vitest";
import { finish, killAll, type Run, startProgram } from "./helpers.ts";

afterEach(async () => {
  await killAll();
});

function demo(args: readonly string[]): Run {
  return startProgram(process.execPath, [
    "--conditions=@orgchat/source",
    "--import",
    "tsx",
    "src/demo.ts",
    ...args,
  ]);
}

describe("pnpm demo", () => {
  it("runs the whole story, verifies every step and prints the summary", async () => {
    const result = await finish(demo([]));
    expect(result.stderr).not.toMatch(/!|Error/);
    expect(result.code).toBe(0);
    for (const step of ["[1]", "[2]", "[3]", "[4]", "[5]", "[6] summary"]) {
      expect(result.stdout).toContain(step);
    }
    expect(result.stdout).toContain(
      "opened the message sent before the ban (control) and 0 of the",
    );
    expect(result.stdout).toMatch(/step\s+what\s+ms\s+bytes\s+msgs\s+ok/);
    expect(result.stdout).toContain("every step verified");
    expect(result.stdout).not.toContain("✗");
  });

  it("--json prints one document with every step verified", async () => {
    const result = await finish(demo(["--json"]));
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      steps: Array<{
        step: number;
        ok: boolean;
        ms: number;
        bytes: number;
        checks: Array<{ ok: boolean }>;
      }>;
    };
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5]);
    for (const step of report.steps) {
      expect(step.ok).toBe(true);
      expect(step.checks.length).toBeGreaterThan(0);
      expect(step.bytes).toBeGreaterThan(0);
    }
  });
});
