import { describe, expect, it } from "vitest";

describe("public surface", () => {
  it("src/index.ts exports exactly this (a change here needs a changeset)", async () => {
    expect(Object.keys(await import("../src/index.ts")).sort()).toMatchSnapshot();
  });
});

describe("inspect entry", () => {
  it("src/inspect.ts (@orgchat/client/inspect) exports exactly this", async () => {
    expect(Object.keys(await import("../src/inspect.ts")).sort()).toMatchSnapshot();
  });
});
