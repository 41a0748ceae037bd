import { describe, expect, it } from "vitest";

describe("public surface", () => {
  it("src/index.ts exports exactly this (a change here needs a changeset)", async () => {
    expect(Object.keys(await import("../src/index.ts")).sort()).toMatchSnapshot();
  });

  it("src/implement.ts exports exactly this (for store implementers)", async () => {
    expect(Object.keys(await import("../src/implement.ts")).sort()).toMatchSnapshot();
  });

  it("offers each name in one entry only", async () => {
    const main = new Set(Object.keys(await import("../src/index.ts")));
    const implement = Object.keys(await import("../src/implement.ts"));
    expect(implement.filter((name) => main.has(name))).toEqual([]);
  });

  it("src/compliance.ts exports exactly this", async () => {
    expect(Object.keys(await import("../src/compliance.ts")).sort()).toMatchSnapshot();
  });
});
