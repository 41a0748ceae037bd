#!/usr/bin/env node
/**
 * Enforces the dependency rules of docs/ARCHITECTURE.md:
 *
 *   wire ← crypto ← state ← client ← apps
 *   transports and stores depend only on wire and the interface they implement
 *
 * For every workspace package it checks the `@orgchat/*` dependencies declared in package.json and
 * every import in its source, tests, scripts and examples (examples may import their own package
 * by name, as users do):
 *   1. a package may only depend on the layers its rule lists (nothing above it, nothing beside it);
 *   2. an import of another package must name an entry of that package's `exports` (no deep paths);
 *   3. a relative import must stay inside its own package;
 *   4. an imported `@orgchat/*` package must be declared in package.json.
 * It also keeps the changesets `fixed` group that .changeset/README.md reserves for the transport
 * interface and its compliance suite.
 *
 * Usage: node scripts/check-layers.mjs [--root DIR]   (exit 1 and one line per violation)
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Layer rules, first match wins. `allow` lists what a package may depend on; a function receives the
 * package name so that a transport may depend on the transport interface.
 */
export const layerRules = [
  // The shared foundations (errors, bytes, abort): below every layer, depending on nothing.
  { match: /^@orgchat\/base$/, layer: "base", allow: [] },
  { match: /^@orgchat\/wire$/, layer: "wire", allow: ["@orgchat/base"] },
  { match: /^@orgchat\/crypto$/, layer: "crypto", allow: ["@orgchat/wire"] },
  { match: /^@orgchat\/state$/, layer: "state", allow: ["@orgchat/wire", "@orgchat/crypto"] },
  { match: /^@orgchat\/transport$/, layer: "transport interface", allow: ["@orgchat/wire"] },
  {
    match: /^@orgchat\/transport-.+$/,
    layer: "transport",
    allow: ["@orgchat/wire", "@orgchat/transport"],
  },
  // The service node is Waku infrastructure built on the same relay as the Waku transport.
  {
    match: /^@orgchat\/service-node$/,
    layer: "service node",
    allow: ["@orgchat/wire", "@orgchat/transport", "@orgchat/transport-waku"],
  },
  { match: /^@orgchat\/store$/, layer: "store interface", allow: ["@orgchat/wire"] },
  { match: /^@orgchat\/store-.+$/, layer: "store", allow: ["@orgchat/wire", "@orgchat/store"] },
  {
    match: /^@orgchat\/client$/,
    layer: "client",
    allow: [
      "@orgchat/wire",
      "@orgchat/crypto",
      "@orgchat/state",
      "@orgchat/transport",
      "@orgchat/store",
    ],
  },
  // Private packages of integration tests and end-to-end benchmarks may use anything.
  { match: /^@orgchat\/integration$/, layer: "integration", allow: "any" },
];

const appRule = { layer: "app", allow: "any" };

const importPattern =
  /(?:^|[^\w$.])(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\s+from\s+)?["']([^"']+)["']|(?:^|[^\w$.])import\s*\(\s*["']([^"']+)["']\s*\)|(?:^|[^\w$.])require\s*\(\s*["']([^"']+)["']\s*\)/g;

const sourceDirs = ["src", "test", "scripts", "examples", "bench"];
const sourceExt = /\.(?:[cm]?[jt]sx?)$/;

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (entry === "node_modules" || entry === "dist" || entry === "gen") continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (sourceExt.test(entry) && !entry.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

/** Lists the workspace packages under packages/* and apps/*. */
export function listPackages(root) {
  const packages = [];
  for (const group of ["packages", "apps"]) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base)) {
      const dir = join(base, entry);
      const manifest = join(dir, "package.json");
      if (!existsSync(manifest)) continue;
      packages.push({ dir, group, manifest: readJson(manifest) });
    }
  }
  return packages;
}

function ruleFor(pkg) {
  if (pkg.group === "apps") return appRule;
  return layerRules.find((rule) => rule.match.test(pkg.manifest.name));
}

function allowed(rule, target, libraries) {
  if (rule.allow === "any") return true;
  // Every layer above the foundations may use them.
  if (target === "@orgchat/base" && rule.layer !== "base") return true;
  if (rule.allow === "libraries") return libraries.has(target);
  return rule.allow.includes(target);
}

function exportKeys(manifest) {
  const exportsField = manifest.exports;
  if (exportsField === undefined) return new Set(["."]);
  if (typeof exportsField === "string" || Array.isArray(exportsField)) return new Set(["."]);
  const keys = Object.keys(exportsField);
  if (keys.every((key) => !key.startsWith("."))) return new Set(["."]);
  return new Set(keys);
}

/** Returns the violations of the repository at `root` (empty when it follows the rules). */
export function checkLayers(root) {
  const violations = [];
  const packages = listPackages(root);
  const byName = new Map(packages.map((pkg) => [pkg.manifest.name, pkg]));
  const libraries = new Set(
    packages
      .filter((pkg) => pkg.group === "packages" && pkg.manifest.private !== true)
      .map((pkg) => pkg.manifest.name),
  );

  for (const pkg of packages) {
    const name = pkg.manifest.name;
    const where = relative(root, pkg.dir);
    const rule = ruleFor(pkg);
    if (!rule) {
      violations.push(
        `${where}: package ${name} has no layer; add it to scripts/check-layers.mjs and docs/ARCHITECTURE.md`,
      );
      continue;
    }
    const declared = new Set(
      ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"].flatMap(
        (field) => Object.keys(pkg.manifest[field] ?? {}),
      ),
    );
    for (const dependency of declared) {
      if (!dependency.startsWith("@orgchat/") || dependency === name) continue;
      if (!allowed(rule, dependency, libraries)) {
        violations.push(
          `${where}/package.json: ${name} (${rule.layer}) may not depend on ${dependency}; see docs/ARCHITECTURE.md`,
        );
      }
    }

    const files = sourceDirs.flatMap((dir) => walk(join(pkg.dir, dir), []));
    if (pkg.group === "apps") walk(pkg.dir, files);
    for (const file of [...new Set(files)]) {
      const text = stripComments(readFileSync(file, "utf8"));
      const at = relative(root, file);
      for (const match of text.matchAll(importPattern)) {
        const specifier = match[1] ?? match[2] ?? match[3];
        if (specifier === undefined) continue;
        if (specifier.startsWith(".")) {
          const target = resolve(dirname(file), specifier);
          // Every package's vitest.config.ts shares the repository's Vitest settings, and browser
          // tests and benchmarks its Chromium launch settings (test tooling, never shipped).
          const sharedConfig =
            target === join(root, "vitest.shared.ts") ||
            target === join(root, "chromium.shared.ts");
          if (!sharedConfig && target !== pkg.dir && !target.startsWith(pkg.dir + sep)) {
            violations.push(
              `${at}: relative import "${specifier}" leaves package ${name}; import the other package by its name and a path its "exports" lists`,
            );
          }
          continue;
        }
        if (!specifier.startsWith("@orgchat/")) continue;
        const [scope, short, ...rest] = specifier.split("/");
        const targetName = `${scope}/${short}`;
        const subpath = rest.length === 0 ? "." : `./${rest.join("/")}`;
        if (targetName === name) {
          // Examples import their package by name, as a user would (and the README shows them);
          // everything else uses relative paths so that no file depends on its package's build.
          const isExample = relative(pkg.dir, file).split(sep)[0] === "examples";
          if (!isExample) {
            violations.push(
              `${at}: imports its own package by name ("${specifier}"); use a relative path`,
            );
          } else if (!exportKeys(pkg.manifest).has(subpath)) {
            violations.push(`${at}: "${specifier}" is not in ${name}'s "exports"`);
          }
          continue;
        }
        const target = byName.get(targetName);
        if (!target) {
          violations.push(`${at}: imports unknown workspace package "${specifier}"`);
          continue;
        }
        if (!allowed(rule, targetName, libraries)) {
          violations.push(
            `${at}: ${name} (${rule.layer}) may not import ${targetName} (${ruleFor(target)?.layer ?? "unknown"}); see docs/ARCHITECTURE.md`,
          );
        }
        if (!exportKeys(target.manifest).has(subpath)) {
          violations.push(
            `${at}: "${specifier}" is not in ${targetName}'s "exports"; import only what the package exports`,
          );
        }
        if (!declared.has(targetName)) {
          violations.push(
            `${at}: imports ${targetName} but ${name}'s package.json does not declare it`,
          );
        }
      }
    }
  }

  // The changesets `fixed` group reserved for the transport contract and its compliance suite.
  const changesetConfig = join(root, ".changeset", "config.json");
  if (existsSync(changesetConfig)) {
    const fixed = readJson(changesetConfig).fixed ?? [];
    const contract = ["@orgchat/transport", "@orgchat/transport-compliance"].filter((n) =>
      byName.has(n),
    );
    if (contract.length > 1 && !fixed.some((group) => contract.every((n) => group.includes(n)))) {
      violations.push(
        `.changeset/config.json: ${contract.join(" and ")} must share one "fixed" group (see .changeset/README.md)`,
      );
    }
  }
  return violations;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rootIndex = process.argv.indexOf("--root");
  const root = resolve(
    rootIndex > 0
      ? process.argv[rootIndex + 1]
      : join(dirname(fileURLToPath(import.meta.url)), ".."),
  );
  const violations = checkLayers(root);
  if (violations.length > 0) {
    for (const violation of violations) process.stderr.write(`layer rule: ${violation}\n`);
    process.stderr.write(
      `check-layers: ${violations.length} violation(s). Fix the imports or the dependency, or change the rule in docs/ARCHITECTURE.md and scripts/check-layers.mjs together.\n`,
    );
    process.exit(1);
  }
  process.stdout.write(
    `check-layers: ${listPackages(root).length} package(s) follow the layer rules\n`,
  );
}
