import { describe, expect, it, vi } from "vitest";

describe("README example", () => {
  it("runs: the owner hears the member's first message", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    await import("../examples/minimal.ts");
    expect(log.mock.calls.map((call) => String(call[0]).split(": ")[1])).toEqual(["hello, Acme"]);
    log.mockRestore();
  });
});
