import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { firstTests, passes, workspacePackages } from "./run-tasks.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

describe("run-tasks", () => {
  it("runs the longest tests first, then every typecheck, build and other test, each test once", () => {
    const packages = [
      { name: "a", scripts: ["test", "build", "typecheck"] },
      { name: "long", scripts: ["test", "typecheck"] },
      { name: "b", scripts: ["build"] },
      { name: "c", scripts: ["test"] },
    ];
    expect(passes(packages, ["long"], 3)).toEqual([
      ["run", "long#test", "--continue", "--concurrency=3"],
      ["run", "typecheck", "build", "a#test", "c#test", "--continue", "--concurrency=3"],
    ]);
  });

  it("refuses a first test that is not a package with a test script", () => {
    const packages = [{ name: "a", scripts: ["build"] }];
    expect(() => passes(packages, ["a"])).toThrow(/update firstTests/);
    expect(() => passes(packages, ["gone"])).toThrow(/"gone"/);
  });

  it("the repository's first tests are workspace packages, and every test task runs exactly once", () => {
    const packages = workspacePackages(root);
    const [first, second] = passes(packages);
    const tests = [...(first ?? []), ...(second ?? [])].filter((a) => a.endsWith("#test"));
    const withTests = packages
      .filter((p) => p.scripts.includes("test"))
      .map((p) => `${p.name}#test`);
    expect(tests.sort()).toEqual(withTests.sort());
    expect(first?.slice(1, 1 + firstTests.length)).toEqual(firstTests.map((n) => `${n}#test`));
    expect(withTests.length).toBeGreaterThan(10);
  });
});
