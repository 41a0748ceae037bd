import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";

describe("README", () => {
  it("shows examples/readme.ts verbatim, and that example runs", async () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const example = readFileSync(new URL("../examples/readme.ts", import.meta.url), "utf8");
    expect(readme).toContain(example);
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      await import("../examples/readme.ts");
      expect(log.mock.calls).toEqual([["hello bob"], [1, undefined], ["too large: split it"]]);
    } finally {
      log.mockRestore();
    }
  });
});
