#!/usr/bin/env node
/**
 * Runs every workspace package's build and test tasks (turbo, cached) and the typecheck programs
 * (`scripts/typecheck.mjs`: the packages that check alike, in one TypeScript program), longest
 * first, on a fixed number of lanes.
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
 * Tests and typechecks read the sources, not the builds, so they depend on nothing. The typecheck
 * programs (session 18) replace the packages' own typecheck tasks here: checking twelve packages
 * one by one re-read their shared sources twelve times (the packages' `typecheck` scripts still
 * check one package alone).
 *
 * Every task runs whatever fails (like `turbo --continue`); the exit code is 1 when any failed, and
 * the failed tasks are listed at the end.
 *
 * Usage: node scripts/run-tasks.mjs [--concurrency N] [--dry]
 *   ORGCHAT_TURBO_CONCURRENCY sets the default number of lanes (2).
 *   --dry prints the plan (each lane's tasks by their estimates) and runs nothing.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { programs } from "./typecheck.mjs";
import { runAsScript, workspacePackages } from "./workspace.mjs";

export { workspacePackages };

/** The item that runs every package's build (dependencies first) in one turbo invocation. */
export const buildItem = "build";

/**
 * Expected seconds per task (`<package>#<task>`, {@link typecheckItem} of a typecheck program, or
 * {@link buildItem} for all builds), from CI's timeline on the 2-core machine with two busy loops
 * (session 17's last check, `.ci/run`'s timelines; the typecheck programs from session 18's
 * measure: the twelve Node packages' typechecks took 238 s there one by one, ~2.8× the CPU of one
 * program). Only the order matters: a task not listed counts {@link defaultEstimate}. Update the
 * figures from a CI log when the suites change much.
 */
/** @type {Record<string, number>} */
export const estimates = {
  "orgchat#test": 474,
  "@orgchat/client#test": 311,
  "@orgchat/integration#test": 254,
  "@orgchat/crypto#test": 142,
  "@orgchat/web#test": 127,
  [buildItem]: 125,
  "@orgchat/transport-waku#test": 109,
  "typecheck:@orgchat/base": 90,
  "@orgchat/service-node#test": 59,
  "@orgchat/state#test": 43,
  "typecheck:@orgchat/web": 39,
  "@orgchat/wire#test": 38,
  "@orgchat/store-indexeddb#test": 25,
  "@orgchat/transport#test": 18,
  "@orgchat/store-sqlite#test": 14,
  "typecheck:@orgchat/store-indexeddb": 10,
};

/** Seconds counted for a task missing from {@link estimates}. */
export const defaultEstimate = 10;

/** The id of the item that checks one typecheck program (`scripts/typecheck.mjs --program NAME`). */
export const typecheckItem = (program) => `typecheck:${program}`;

/**
 * Every item to run, longest expected first (ties by name): each package's test, one item per
 * typecheck program (`programs`: the packages `scripts/typecheck.mjs` checks together; without it,
 * each package's own typecheck), and one item for all builds. Each item is `{ id, estimate, args }`
 * (`args` turbo's arguments) or `{ id, estimate, command }` (a command run from the root).
 * Throws when `known` names a task no package has (a renamed package or task would otherwise
 * silently lose its place in the order).
 * @param {{ name: string, scripts: string[] }[]} packages
 * @param {Record<string, number>} [known]
 * @param {string[]} [typecheckPrograms] - program names (`programs(root).map((p) => p.name)`)
 * @returns {{ id: string, estimate: number, args?: string[], command?: string[] }[]}
 */
export function plan(packages, known = estimates, typecheckPrograms = undefined) {
  /** @type {{ id: string, estimate: number, args?: string[], command?: string[] }[]} */
  const items = [];
  const tasks = typecheckPrograms === undefined ? ["typecheck", "test"] : ["test"];
  for (const pkg of packages) {
    for (const task of tasks) {
      if (!pkg.scripts.includes(task)) continue;
      const id = `${pkg.name}#${task}`;
      items.push({ id, args: ["run", id, "--concurrency=1"], estimate: defaultEstimate });
    }
  }
  for (const program of typecheckPrograms ?? []) {
    items.push({
      id: typecheckItem(program),
      command: [process.execPath, "scripts/typecheck.mjs", "--program", program],
      estimate: defaultEstimate,
    });
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

/**
 * Runs one item from `root` (turbo with its `args`, or its `command`), its output inherited.
 * Resolves to its exit status (1 when killed by a signal).
 */
export function runItem(root, item) {
  return new Promise((done, fail) => {
    const [file, ...args] = item.command ?? ["turbo", ...item.args];
    console.log(`> ${item.command === undefined ? "turbo" : "node"} ${args.join(" ")}`);
    const child = spawn(file, args, { cwd: root, stdio: "inherit" });
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
  const items = plan(
    workspacePackages(root),
    estimates,
    programs(root).map((p) => p.name),
  );
  if (argv.includes("--dry")) {
    for (const [lane, { ids, end }] of simulate(items, lanes).entries()) {
      console.log(`lane ${lane + 1} (~${end} s by the estimates): ${ids.join(", ")}`);
    }
    return 0;
  }
  // Each item's start and length, printed at the end (longest first): the run's critical path.
  const t0 = Date.now();
  const timeline = [];
  const failed = await runOnLanes(items, lanes, async (item) => {
    const start = Date.now();
    const status = await runItem(root, item);
    timeline.push([(start - t0) / 1000, (Date.now() - start) / 1000, item.id]);
    return status;
  });
  console.log("run-tasks timeline (seconds from the start: start, duration, item; longest first):");
  timeline.sort((a, b) => b[1] - a[1]);
  for (const [start, took, id] of timeline) {
    console.log(`${start.toFixed(0).padStart(5)} ${took.toFixed(0).padStart(5)}  ${id}`);
  }
  if (failed.length === 0) return 0;
  console.error(`run-tasks: ${failed.length} task(s) failed: ${failed.join(", ")}`);
  return 1;
}

runAsScript(import.meta.url, main);
