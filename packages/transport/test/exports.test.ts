import { describe, expect, it } from "vitest";

describe("public surface", () => {
  it("src/index.ts exports exactly this (a change here needs a changeset)", async () => {
    expect(Object.keys(await import("../src/index.ts")).sort()).toMatchSnapshot();
  });

  it("src/implement.ts (@orgchat/transport/implement) exports exactly this", async () => {
    expect(Object.keys(await import("../src/implement.ts")).sort()).toMatchSnapshot();
  });

  it("src/compliance.ts (@orgchat/transport/compliance) exports exactly this", async () => {
    expect(Object.keys(await import("../src/compliance.ts")).sort()).toMatchSnapshot();
  });
});
