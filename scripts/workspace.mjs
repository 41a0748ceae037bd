/**
 * The workspace's packages, read from `packages/*` and `apps/*` (shared by `run-tasks.mjs` and
 * `typecheck.mjs`).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

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
