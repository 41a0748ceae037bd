import { expect, it, vi } from "vitest";

it("the README example runs", async () => {
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  try {
    await import("../examples/readme.ts");
    expect(log.mock.calls).toEqual([
      ["QuotaExceededError", "Delete old messages, then try again."],
      ["aborted early"],
      ["dead"],
    ]);
  } finally {
    log.mockRestore();
  }
});
