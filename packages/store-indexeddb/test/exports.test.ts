import { describe, expect, it } from "vitest";

describe("public surface", () => {
  it("src/index.ts exports exactly this (a change here needs a changeset)", async () => {
    expect(Object.keys(await import("../src/index.ts")).sort()).toMatchSnapshot();
  });
});
