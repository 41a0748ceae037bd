#!/usr/bin/env node
// Installs the test fixtures that live outside the pnpm workspace, as part of `pnpm install` (the root
// `postinstall`): today `interop/legacy-relay`, the official js-waku relay of 2024 in its own npm tree.
// Tests never install anything; they read what this left behind (installed, or why not).
//
// npm runs as the user's own npm would from a shell: pnpm's scripts see the repository's Node 22 first
// on PATH, and npm run by that Node looks for its global config (`<prefix>/etc/npmrc`, where a machine
// keeps e.g. its `cafile`) under the repository's Node instead of the machine's. So the child gets the
// PATH without any `node_modules/.bin` entry and without pnpm's `npm_*` settings.
//
// A failure does not fail the install (the fixture serves one interop test): it prints what went
// wrong and what to run, and records the reason in `<fixture>/.install-failed`, which the test shows
// when it skips (outside CI) or fails (in CI).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The fixtures: a directory with a package-lock.json, and a file that exists once it is installed. */
export const fixtures = [
  {
    dir: join(root, "interop", "legacy-relay"),
    probe: join("node_modules", "@waku", "relay", "package.json"),
  },
];

/** Where the installed lockfile's hash is kept, so that a changed lockfile installs again. */
const stampFile = join("node_modules", ".orgchat-lock-sha256");
/** Written when the install failed: the reason, for the test that needs the fixture. */
export const failureFile = ".install-failed";

/**
 * The environment npm runs in: the caller's, without pnpm's `npm_*` settings and without any
 * `node_modules/.bin` directory on PATH (so that `npm` and its `node` are the machine's own).
 * @param {NodeJS.ProcessEnv} env
 * @returns {NodeJS.ProcessEnv}
 */
export function machineEnv(env) {
  const out = {};
  for (const [key, value] of Object.entries(env)) {
    if (
      /^(npm_|pnpm_)/i.test(key) ||
      key === "NODE" ||
      key === "INIT_CWD" ||
      key === "PNPM_SCRIPT_SRC_DIR"
    )
      continue;
    out[key] = value;
  }
  const pathKey = Object.keys(env).find((key) => key.toUpperCase() === "PATH") ?? "PATH";
  const path = env[pathKey] ?? "";
  out[pathKey] = path
    .split(delimiter)
    .filter((entry) => entry !== "" && !`${entry}${sep}`.includes(`${sep}node_modules${sep}`))
    .join(delimiter);
  return out;
}

/** @param {string} dir */
function lockHash(dir) {
  return createHash("sha256")
    .update(readFileSync(join(dir, "package-lock.json")))
    .digest("hex");
}

/**
 * Whether a fixture is installed from its current lockfile.
 * @param {{dir: string, probe: string}} fixture
 */
export function isInstalled(fixture) {
  const stamp = join(fixture.dir, stampFile);
  return (
    existsSync(join(fixture.dir, fixture.probe)) &&
    existsSync(stamp) &&
    readFileSync(stamp, "utf8").trim() === lockHash(fixture.dir)
  );
}

/**
 * Installs one fixture with `npm ci` unless it is installed from its current lockfile.
 * @param {{dir: string, probe: string}} fixture
 * @returns {{ok: true, skipped: boolean} | {ok: false, reason: string}}
 */
export function installFixture(fixture, env = process.env) {
  rmSync(join(fixture.dir, failureFile), { force: true });
  if (isInstalled(fixture)) return { ok: true, skipped: true };
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = spawnSync(npm, ["ci", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: fixture.dir,
    env: machineEnv(env),
    encoding: "utf8",
    timeout: 600_000,
  });
  let reason;
  if (result.error) reason = `running npm failed: ${result.error.message}`;
  else if (result.status !== 0)
    reason = `\`npm ci\` exited with ${result.status ?? result.signal}:\n${(result.stderr ?? "").trim().slice(-2000)}`;
  else if (!existsSync(join(fixture.dir, fixture.probe)))
    reason = `\`npm ci\` succeeded but ${fixture.probe} is missing`;
  if (reason !== undefined) {
    writeFileSync(join(fixture.dir, failureFile), `${reason}\n`);
    return { ok: false, reason };
  }
  writeFileSync(join(fixture.dir, stampFile), `${lockHash(fixture.dir)}\n`);
  return { ok: true, skipped: false };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const fixture of fixtures) {
    const name = fixture.dir.slice(root.length + 1);
    if (!isInstalled(fixture)) process.stdout.write(`install-fixtures: npm ci in ${name} …\n`);
    const result = installFixture(fixture);
    if (result.ok) {
      if (!result.skipped) process.stdout.write(`install-fixtures: ${name} installed\n`);
      continue;
    }
    process.stderr.write(
      `install-fixtures: WARNING: could not install the test fixture ${name}: ${result.reason}\n` +
        `  Its interop test will be skipped (failed in CI). Fix npm's access to the registry, then run\n` +
        `  \`node scripts/install-fixtures.mjs\` (or \`npm ci\` in ${name}).\n`,
    );
  }
}
