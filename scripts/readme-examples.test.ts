/**
 * Every published package's README shows a minimal example that compiles: the README contains, verbatim,
 * one of the package's `examples/*.ts` files, and each package's `typecheck` (tsc over `examples/`,
 * run by `pnpm test`) compiles it. Packages whose example runs without a network also run it in their
 * own tests.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const packages = readdirSync(join(root, "packages"))
  .map((name) => join(root, "packages", name))
  .filter((dir) => existsSync(join(dir, "package.json")))
  .filter((dir) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).private !== true);

describe("README examples", () => {
  it("finds the published packages", () => {
    expect(packages.length).toBeGreaterThanOrEqual(9);
  });

  for (const dir of packages) {
    const name = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name as string;
    it(`${name}: README.md contains one of examples/*.ts verbatim`, () => {
      const readme = readFileSync(join(dir, "README.md"), "utf8");
      const examples = existsSync(join(dir, "examples"))
        ? readdirSync(join(dir, "examples")).filter((file) => file.endsWith(".ts"))
        : [];
      // A leading comment block (how to run the file) may stay out of the README.
      const body = (file: string) =>
        readFileSync(join(dir, "examples", file), "utf8")
          .replace(/^(\/\/[^\n]*\n)+/, "")
          .trim();
      const shown = examples.filter((file) => readme.includes(body(file)));
      expect(shown, `${name} has examples ${examples.join(", ") || "(none)"}`).not.toEqual([]);
    });
  }
});
