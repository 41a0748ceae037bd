import { readFileSync } from "node:fs";
import { expect, it, vi } from "vitest";

it("README shows examples/readme.ts verbatim, and that example runs over real relay", async () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const example = readFileSync(new URL("../examples/readme.ts", import.meta.url), "utf8");
  expect(readme).toContain(example);
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  try {
    await import("../examples/readme.ts");
    const lines = log.mock.calls.map((call) => call.join(" "));
    expect(lines).toContain("hub got hello");
    expect(lines.some((line) => line.startsWith("published "))).toBe(true);
    expect(lines).toContain("member online (1)");
  } finally {
    log.mockRestore();
  }
});
