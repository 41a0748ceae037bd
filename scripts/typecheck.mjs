#!/usr/bin/env node
/**
 * Typechecks every workspace package in as few TypeScript programs as their settings allow.
 *
 * Each package's `typecheck` (`tsc --noEmit -p tsconfig.json`) reads its dependencies' sources (the
 * `@orgchat/source` condition), so one run per package checks `@orgchat/state` eight times and
 * pays Immutable's type relations (seconds of `immutable.d.ts` variance work) in every program.
 * Packages whose `tsconfig.json` has the same compiler options (and `extends`) check the same way,
 * so they are checked together: one program whose `include` is the union of theirs. Measured on the
 * 2-core machine under load ~13 (session 18): the twelve Node packages one by one ~125 s of CPU,
 * together 53 s. A package with other options (the browser's `lib`, JSX) gets a program of its own.
 *
 * Usage: node scripts/typecheck.mjs [--program NAME] [--list]
 *   --list          prints each program and its packages, checks nothing;
 *   --program NAME  checks only that program (what `scripts/run-tasks.mjs` runs as one task).
 * A package's own `pnpm --filter <pkg> typecheck` still checks it alone.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runAsScript, workspacePackages } from "./workspace.mjs";

/** Keys of a package's tsconfig.json that a shared program can carry (anything else: alone). */
const mergeable = new Set(["extends", "compilerOptions", "include"]);

/**
 * The programs to check: packages with a `typecheck` script grouped by their tsconfig.json's
 * `extends` and `compilerOptions` (compared as parsed JSON). A tsconfig with other keys (`files`,
 * `exclude`, `references`) is a program alone. Each program is named after its first package.
 * @param {string} root - the repository's root
 * @returns {{ name: string, packages: { name: string, dir: string }[], config: object }[]}
 */
export function programs(root) {
  /** @type {Map<string, { name: string, packages: { name: string, dir: string }[], config: object }>} */
  const byKey = new Map();
  for (const pkg of workspacePackages(root)) {
    if (!pkg.scripts.includes("typecheck")) continue;
    const file = join(root, pkg.dir, "tsconfig.json");
    let config;
    try {
      config = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new Error(
        `scripts/typecheck.mjs: ${pkg.dir}/tsconfig.json is not plain JSON (${error.message}): ` +
          "keep it plain JSON (no comments), or check that package with its own typecheck",
      );
    }
    const alone = Object.keys(config).some((key) => !mergeable.has(key));
    const key = alone
      ? `alone:${pkg.dir}`
      : JSON.stringify([config.extends ?? null, config.compilerOptions ?? {}]);
    const include = (config.include ?? ["**/*"]).map((pattern) =>
      join(root, pkg.dir, pattern).replaceAll("\\", "/"),
    );
    const found = byKey.get(key);
    if (found === undefined) {
      const extendsPath =
        config.extends === undefined ? undefined : resolve(root, pkg.dir, config.extends);
      byKey.set(key, {
        name: pkg.name,
        packages: [{ name: pkg.name, dir: pkg.dir }],
        config: alone
          ? { extends: join(root, pkg.dir, "tsconfig.json") }
          : {
              ...(extendsPath === undefined ? {} : { extends: extendsPath }),
              compilerOptions: config.compilerOptions ?? {},
              include,
            },
      });
    } else {
      found.packages.push({ name: pkg.name, dir: pkg.dir });
      found.config.include.push(...include);
    }
  }
  return [...byKey.values()];
}

function tsc(root, configFile) {
  return new Promise((done, fail) => {
    const bin = join(root, "node_modules", "typescript", "bin", "tsc");
    const child = spawn(process.execPath, [bin, "--noEmit", "-p", configFile], {
      cwd: root,
      stdio: "inherit",
    });
    child.on("error", fail);
    child.on("exit", (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

async function main(argv) {
  const root = resolve(fileURLToPath(import.meta.url), "../..");
  const all = programs(root);
  if (argv.includes("--list")) {
    for (const program of all) {
      console.log(`${program.name}: ${program.packages.map((p) => p.name).join(", ")}`);
    }
    return 0;
  }
  const at = argv.indexOf("--program");
  const chosen = at < 0 ? all : all.filter((p) => p.name === argv[at + 1]);
  if (chosen.length === 0) {
    console.error(
      `scripts/typecheck.mjs: no program "${argv[at + 1]}" (node scripts/typecheck.mjs --list prints them)`,
    );
    return 2;
  }
  const dir = join(root, "node_modules", ".cache", "orgchat-typecheck");
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  let failed = 0;
  for (const program of chosen) {
    const file = join(dir, `${program.name.replaceAll(/[^a-z0-9-]+/gi, "_")}.json`);
    writeFileSync(file, `${JSON.stringify(program.config, null, 2)}\n`);
    const started = Date.now();
    const status = await tsc(root, file);
    const took = ((Date.now() - started) / 1000).toFixed(1);
    const names = program.packages.map((p) => p.name).join(", ");
    console.log(`typecheck ${status === 0 ? "ok" : "FAILED"} in ${took} s: ${names}`);
    if (status !== 0) failed++;
  }
  return failed === 0 ? 0 : 1;
}

runAsScript(import.meta.url, main);
