#!/usr/bin/env node
/**
 * Runs every workspace package's typecheck, build and test tasks (turbo, cached), longest first,
 * on a fixed number of lanes.
 *
 * Turbo starts ready tasks in an order of its own, and on a 2-core machine that order decides the
 * run's length: with the two longest test suites (the CLI's and the client's) started last, they
 * ended ~300 s after everything else (session 15). Two turbo passes (the longest tests, then the
 * rest; session 16) fixed that but left one lane idle while the first pass's shorter suite waited
 * for the longer (~130 s). So this script schedules the tasks itself: every task is one turbo
 * invocation (`turbo run <package>#<task>`; ~0.3 s of turbo per invocation), the tasks are sorted
 * by their expected duration (`estimates`, measured in CI), and each lane takes the longest task
 * left whenever it is free. The builds are one item (`turbo run build` on one lane): a build depends
 * on its dependencies' builds, and two turbo processes must never build one package at once.
 * Tests and typechecks read the sources, not the builds, so they depend on nothing.
 *
 * Every task runs whatever fails (like `turbo --continue`); the exit code is 1 when any failed, and
 * the failed tasks are listed at the end.
 *
 * Usage: node scripts/run-tasks.mjs [--concurrency N] [--dry]
 *   ORGCHAT_TURBO_CONCURRENCY sets the default number of lanes (2).
 *   --dry prints the plan (each lane's tasks by their estimates) and runs nothing.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The item that runs every package's build (dependencies first) in one turbo invocation. */
export const buildItem = "build";

/**
 * Expected seconds per task (`<package>#<task>`, or {@link buildItem} for all builds), from CI's
 * timeline on the 2-core machine with two busy loops (session 16, `.ci/run`'s "turbo timeline").
 * Only the order matters: a task not listed counts {@link defaultEstimate}. Update the figures
 * from a CI log when the suites change much.
 */
/** @type {Record<string, number>} */
export const estimates = {
  "orgchat#test": 413,
  "@orgchat/client#test": 284,
  "@orgchat/integration#test": 261,
  "@orgchat/crypto#test": 191,
  [buildItem]: 130,
  "@orgchat/web#test": 118,
  "@orgchat/transport-waku#test": 101,
  "@orgchat/service-node#test": 62,
  "@orgchat/state#test": 51,
  "@orgchat/state#typecheck": 48,
  "@orgchat/client#typecheck": 45,
  "orgchat#typecheck": 39,
  "@orgchat/integration#typecheck": 34,
  "@orgchat/web#typecheck": 32,
  "@orgchat/wire#test": 28,
  "@orgchat/store-indexeddb#test": 27,
  "@orgchat/store-sqlite#test": 18,
  "@orgchat/store-sqlite#typecheck": 18,
  "@orgchat/transport#test": 17,
  "@orgchat/crypto#typecheck": 17,
  "@orgchat/service-node#typecheck": 16,
  "@orgchat/transport-waku#typecheck": 13,
};

/** Seconds counted for a task missing from {@link estimates}. */
export const defaultEstimate = 10;

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
 * Every item to run, longest expected first (ties by name): each package's typecheck and test,
 * and one item for all builds. Each item is `{ id, estimate, args }`, `args` turbo's arguments.
 * Throws when `known` names a task no package has (a renamed package or task would otherwise
 * silently lose its place in the order).
 * @param {{ name: string, scripts: string[] }[]} packages
 * @param {Record<string, number>} [known]
 * @returns {{ id: string, args: string[], estimate: number }[]}
 */
export function plan(packages, known = estimates) {
  /** @type {{ id: string, args: string[], estimate: number }[]} */
  const items = [];
  for (const pkg of packages) {
    for (const task of ["typecheck", "test"]) {
      if (!pkg.scripts.includes(task)) continue;
      const id = `${pkg.name}#${task}`;
      items.push({ id, args: ["run", id, "--concurrency=1"], estimate: defaultEstimate });
    }
  }
  if (packages.some((p) => p.scripts.includes("build"))) {
    items.push({ id: buildItem, args: ["run", "build", "--concurrency=1"], estimate: 0 });
  }
  const ids = new Set(items.map((item) => item.id));
  for (const id of Object.keys(known)) {
    if (!ids.has(id)) {
      throw new Error(
        `scripts/run-tasks.mjs: "${id}" (in estimates) is not a task of the workspace: ` +
          "update estimates to the package's or task's new name",
      );
    }
  }
  for (const item of items) item.estimate = known[item.id] ?? defaultEstimate;
  return items.sort((a, b) => b.estimate - a.estimate || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Runs `items` (in order) on `lanes` lanes: a free lane takes the next item. `runOne(item)`
 * resolves to the item's exit status. Resolves to the ids of the items that failed.
 */
export async function runOnLanes(items, lanes, runOne) {
  const queue = [...items];
  const failed = [];
  async function lane() {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      const status = await runOne(item);
      if (status !== 0) failed.push(item.id);
    }
  }
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
  return failed;
}

/**
 * The plan by the estimates: each lane's items and its expected end (seconds).
 * @param {{ id: string, estimate: number }[]} items
 * @param {number} lanes
 * @returns {{ ids: string[], end: number }[]}
 */
export function simulate(items, lanes) {
  const ends = Array.from({ length: lanes }, () => 0);
  /** @type {string[][]} */
  const assigned = Array.from({ length: lanes }, () => []);
  for (const item of items) {
    const lane = ends.indexOf(Math.min(...ends));
    assigned[lane].push(item.id);
    ends[lane] += item.estimate;
  }
  return assigned.map((ids, lane) => ({ ids, end: ends[lane] }));
}

function turbo(root, item) {
  return new Promise((done, fail) => {
    console.log(`> turbo ${item.args.join(" ")}`);
    const child = spawn("turbo", item.args, { cwd: root, stdio: "inherit" });
    child.on("error", fail);
    child.on("exit", (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

async function main(argv) {
  const root = resolve(fileURLToPath(import.meta.url), "../..");
  const at = argv.indexOf("--concurrency");
  const lanes = Number(at >= 0 ? argv[at + 1] : (process.env.ORGCHAT_TURBO_CONCURRENCY ?? "2"));
  if (!Number.isInteger(lanes) || lanes < 1) {
    console.error(
      "scripts/run-tasks.mjs: --concurrency (or ORGCHAT_TURBO_CONCURRENCY) must be ≥ 1",
    );
    return 2;
  }
  const items = plan(workspacePackages(root));
  if (argv.includes("--dry")) {
    for (const [lane, { ids, end }] of simulate(items, lanes).entries()) {
      console.log(`lane ${lane + 1} (~${end} s by the estimates): ${ids.join(", ")}`);
    }
    return 0;
  }
  const failed = await runOnLanes(items, lanes, (item) => turbo(root, item));
  if (failed.length === 0) return 0;
  console.error(`run-tasks: ${failed.length} task(s) failed: ${failed.join(", ")}`);
  return 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (status) => {
      process.exitCode = status;
    },
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
