import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  buildItem,
  defaultEstimate,
  plan,
  runItem,
  runOnLanes,
  simulate,
  typecheckItem,
  workspacePackages,
} from "./run-tasks.mjs";
import { programs } from "./typecheck.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const packages = [
  { name: "a", scripts: ["test", "build", "typecheck"] },
  { name: "long", scripts: ["test", "typecheck"] },
  { name: "b", scripts: ["build"] },
  { name: "c", scripts: ["test"] },
];

describe("run-tasks", () => {
  it("plans every typecheck and test once, and one item for all builds, longest first", () => {
    const items = plan(packages, { "long#test": 100, "a#test": 50, [buildItem]: 20 });
    expect(items.map((i) => [i.id, i.estimate])).toEqual([
      ["long#test", 100],
      ["a#test", 50],
      [buildItem, 20],
      ["a#typecheck", defaultEstimate],
      ["c#test", defaultEstimate],
      ["long#typecheck", defaultEstimate],
    ]);
    expect(items[0]?.args).toEqual(["run", "long#test", "--concurrency=1"]);
    expect(items[2]?.args).toEqual(["run", "build", "--concurrency=1"]);
  });

  it("with typecheck programs, one item per program replaces the packages' typechecks", () => {
    const items = plan(packages, { "long#test": 100, [typecheckItem("a")]: 30 }, ["a", "z"]);
    expect(items.map((i) => [i.id, i.estimate])).toEqual([
      ["long#test", 100],
      [typecheckItem("a"), 30],
      ["a#test", defaultEstimate],
      [buildItem, defaultEstimate],
      ["c#test", defaultEstimate],
      [typecheckItem("z"), defaultEstimate],
    ]);
    expect(items[1]?.command?.slice(1)).toEqual(["scripts/typecheck.mjs", "--program", "a"]);
    expect(items[1]?.args).toBeUndefined();
    expect(() => plan(packages, { "a#typecheck": 5 }, ["a"])).toThrow(/"a#typecheck"/);
  });

  it("typecheck programs: packages with the same options together, any other tsconfig alone", () => {
    const dir = mkdtempSync(join(tmpdir(), "orgchat-typecheck-programs-"));
    try {
      const node = { extends: "../../base.json", compilerOptions: { types: ["node"] } };
      const write = (
        pkg: string,
        tsconfig: object | string,
        scripts: Record<string, string> = { typecheck: "tsc" },
      ) => {
        mkdirSync(join(dir, "packages", pkg), { recursive: true });
        writeFileSync(
          join(dir, "packages", pkg, "package.json"),
          JSON.stringify({ name: `@x/${pkg}`, scripts }),
        );
        writeFileSync(
          join(dir, "packages", pkg, "tsconfig.json"),
          typeof tsconfig === "string" ? tsconfig : JSON.stringify(tsconfig),
        );
      };
      write("a", { ...node, include: ["src"] });
      write("b", { ...node, include: ["src", "test"] });
      write("dom", { ...node, compilerOptions: { types: ["node"], lib: ["DOM"] } });
      write("refs", { ...node, references: [{ path: "../a" }] });
      write("none", node, {});
      const found = programs(dir);
      expect(found.map((p) => [p.name, p.packages.map((x) => x.name)])).toEqual([
        ["@x/a", ["@x/a", "@x/b"]],
        ["@x/dom", ["@x/dom"]],
        ["@x/refs", ["@x/refs"]],
      ]);
      const shared = found[0]?.config as { extends: string; include: string[] };
      expect(shared.extends).toBe(join(dir, "base.json"));
      expect(shared.include).toEqual([
        join(dir, "packages/a/src"),
        join(dir, "packages/b/src"),
        join(dir, "packages/b/test"),
      ]);
      expect(found[2]?.config).toEqual({ extends: join(dir, "packages/refs/tsconfig.json") });
      write("bad", "{ // a comment\n }");
      expect(() => programs(dir)).toThrow(/packages\/bad\/tsconfig.json is not plain JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs a command item from the root and resolves to its exit status", async () => {
    const item = (code: number) => ({
      id: "x",
      estimate: 1,
      command: [
        process.execPath,
        "-e",
        `process.exit(require("node:fs").existsSync("scripts/typecheck.mjs") ? ${code} : 9)`,
      ],
    });
    expect(await runItem(root, item(0))).toBe(0);
    expect(await runItem(root, item(3))).toBe(3);
  });

  it("refuses an estimate that names no task of the workspace", () => {
    expect(() => plan(packages, { "gone#test": 5 })).toThrow(/"gone#test".*update estimates/);
    expect(() => plan(packages, { "b#test": 5 })).toThrow(/"b#test"/);
  });

  it("a free lane takes the longest task left; every task runs once, failures are collected", async () => {
    // Durations in ticks of a virtual clock: each lane's task ends when the clock reaches it.
    const took: Record<string, number> = { L: 10, M: 6, S1: 3, S2: 3, S3: 1 };
    const items = ["L", "M", "S1", "S2", "S3"].map((id) => ({ id, estimate: took[id] ?? 0 }));
    const started: [string, number][] = [];
    const running: { end: number; finish: () => void }[] = [];
    let now = 0;
    const done = runOnLanes(items, 2, (item: { id: string }) => {
      started.push([item.id, now]);
      return new Promise<number>((resolve) => {
        const status = item.id === "S2" ? 1 : 0;
        running.push({ end: now + (took[item.id] ?? 0), finish: () => resolve(status) });
      });
    });
    for (;;) {
      // Let the lanes take their next items, then end the running task that ends first.
      await new Promise((resolve) => setImmediate(resolve));
      running.sort((x, y) => x.end - y.end);
      const next = running.shift();
      if (next === undefined) break;
      now = next.end;
      next.finish();
    }
    const failed = await done;
    expect(started).toEqual([
      ["L", 0],
      ["M", 0],
      ["S1", 6],
      ["S2", 9],
      ["S3", 10],
    ]);
    expect(failed).toEqual(["S2"]);
  });

  it("the repository's estimates name its tasks, and every test task is planned exactly once", () => {
    const workspace = workspacePackages(root);
    const found = programs(root);
    const items = plan(
      workspace,
      undefined,
      found.map((p) => p.name),
    );
    // Every package with a typecheck script is in exactly one program.
    expect(found.flatMap((p) => p.packages.map((x) => x.name)).sort()).toEqual(
      workspace
        .filter((p) => p.scripts.includes("typecheck"))
        .map((p) => p.name)
        .sort(),
    );
    const tests = items.map((i) => i.id).filter((id) => id.endsWith("#test"));
    const withTests = workspace
      .filter((p) => p.scripts.includes("test"))
      .map((p) => `${p.name}#test`);
    expect(tests.sort()).toEqual(withTests.sort());
    expect(withTests.length).toBeGreaterThan(10);
    expect(items.filter((i) => i.id === buildItem)).toHaveLength(1);
    // The two longest suites start first, side by side.
    expect(items.slice(0, 2).map((i) => i.id)).toEqual(["orgchat#test", "@orgchat/client#test"]);
    const lanes = simulate(items, 2);
    const total = items.reduce((sum, i) => sum + i.estimate, 0);
    expect(Math.max(...lanes.map((l) => l.end))).toBeLessThan(total / 2 + 60);
  });
});
