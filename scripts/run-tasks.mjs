#!/usr/bin/env node
/**
 * Runs every workspace package's typecheck, build and test tasks (turbo, cached), longest tests first.
 *
 * Turbo starts ready tasks in an order of its own, and on a 2-core machine that order decides the
 * run's length: with the two longest test suites (the CLI's and the client's, 450 s each on CI's
 * loaded machine) started last, they end ~300 s after everything else. So the run has two turbo
 * passes:
 *   1. the longest test tasks (`firstTests`), side by side;
 *   2. every package's typecheck and build, and every other test task.
 * A failing task of pass 1 is not run again in pass 2 (pass 2 names its test tasks one by one).
 * Both passes run with `--continue`: every task runs, and the exit code is 1 when any failed.
 *
 * Usage: node scripts/run-tasks.mjs [--concurrency N] [--dry]
 *   ORGCHAT_TURBO_CONCURRENCY sets the default concurrency (2).
 *   --dry prints the two turbo commands and runs nothing.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The test tasks started first, longest first (CI on 2 loaded cores, session 15: the CLI's 454 s,
 * the client's 442 s; the next, the integration package's, 258 s). Names of workspace packages.
 */
export const firstTests = ["orgchat", "@orgchat/client"];

/** The workspace packages (`packages/*`, `apps/*`) with the scripts each one has. */
export function workspacePackages(root) {
  const found = [];
  for (const group of ["packages", "apps"]) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const manifest = join(dir, name, "package.json");
      if (!existsSync(manifest)) continue;
      const json = JSON.parse(readFileSync(manifest, "utf8"));
      found.push({ name: json.name, scripts: Object.keys(json.scripts ?? {}) });
    }
  }
  return found;
}

/**
 * The two passes' turbo arguments. Throws when a package of `first` is not in the workspace or has
 * no test script (a renamed package would otherwise silently lose its tests).
 */
export function passes(packages, first = firstTests, concurrency = 2) {
  const byName = new Map(packages.map((p) => [p.name, p]));
  for (const name of first) {
    const pkg = byName.get(name);
    if (pkg === undefined || !pkg.scripts.includes("test")) {
      throw new Error(
        `scripts/run-tasks.mjs: "${name}" (in firstTests) is not a workspace package with a test ` +
          "script: update firstTests to the package's new name",
      );
    }
  }
  const common = ["--continue", `--concurrency=${concurrency}`];
  const rest = packages
    .filter((p) => p.scripts.includes("test") && !first.includes(p.name))
    .map((p) => `${p.name}#test`);
  return [
    ["run", ...first.map((name) => `${name}#test`), ...common],
    ["run", "typecheck", "build", ...rest, ...common],
  ];
}

function main(argv) {
  const root = resolve(fileURLToPath(import.meta.url), "../..");
  const at = argv.indexOf("--concurrency");
  const concurrency = Number(
    at >= 0 ? argv[at + 1] : (process.env.ORGCHAT_TURBO_CONCURRENCY ?? "2"),
  );
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    console.error(
      "scripts/run-tasks.mjs: --concurrency (or ORGCHAT_TURBO_CONCURRENCY) must be ≥ 1",
    );
    return 2;
  }
  let status = 0;
  for (const args of passes(workspacePackages(root), firstTests, concurrency)) {
    console.log(`> turbo ${args.join(" ")}`);
    if (argv.includes("--dry")) continue;
    const run = spawnSync("turbo", args, { cwd: root, stdio: "inherit" });
    if (run.error) throw run.error;
    if (run.status !== 0) status = 1;
  }
  return status;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
