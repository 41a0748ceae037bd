import { describe, expect, it } from "vitest";

describe("public surface", () => {
  it("src/index.ts exports exactly this (a change here needs a changeset)", async () => {
    expect(Object.keys(await import("../src/index.ts")).sort()).toMatchSnapshot();
  });

  it("@orgchat/state/wire (src/wire/index.ts) exports exactly this", async () => {
    expect(Object.keys(await import("../src/wire/index.ts")).sort()).toMatchSnapshot();
  });

  it("@orgchat/state/description (src/description/index.ts) exports exactly this", async () => {
    expect(Object.keys(await import("../src/description/index.ts")).sort()).toMatchSnapshot();
  });

  it("package.json maps each subpath to its source entry", async () => {
    const { default: manifest } = await import("../package.json", { with: { type: "json" } });
    expect(Object.keys(manifest.exports)).toEqual([
      ".",
      "./wire",
      "./description",
      "./package.json",
    ]);
    expect(manifest.exports["./wire"]["@orgchat/source"]).toBe("./src/wire/index.ts");
    expect(manifest.exports["./description"]["@orgchat/source"]).toBe("./src/description/index.ts");
  });
});
