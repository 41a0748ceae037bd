/**
 * What `run-tasks.mjs` and `typecheck.mjs` share: the workspace's packages, read from `packages/*`
 * and `apps/*`, and running a script's `main` when the file is run directly.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Runs `main(argv)` when the module at `url` is the script Node was started with (not when a test
 * imports it); its resolved status becomes the exit code, a throw prints and exits 1.
 * @param {string} url - the module's `import.meta.url`
 * @param {(argv: string[]) => Promise<number>} main
 */
export function runAsScript(url, main) {
  if (!process.argv[1] || resolve(process.argv[1]) !== fileURLToPath(url)) return;
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

/**
 * The workspace packages (`packages/*`, `apps/*`): each one's name, directory (from the root) and
 * script names.
 * @param {string} root - the repository's root
 * @returns {{ name: string, dir: string, scripts: string[] }[]}
 */
export function workspacePackages(root) {
  const found = [];
  for (const group of ["packages", "apps"]) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const manifest = join(dir, name, "package.json");
      if (!existsSync(manifest)) continue;
      const json = JSON.parse(readFileSync(manifest, "utf8"));
      found.push({
        name: json.name,
        dir: `${group}/${name}`,
        scripts: Object.keys(json.scripts ?? {}),
      });
    }
  }
  return found;
}
