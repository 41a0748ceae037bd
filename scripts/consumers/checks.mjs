/**
 * The checks `scripts/consumers.mjs` runs on what a package ships, as pure functions over a
 * manifest, a file list and file texts (so `scripts/consumers.test.ts` can feed them broken
 * packages). Each returns a list of problems, one sentence each; an empty list means the check passed.
 */
import { builtinModules } from "node:module";

/** Dependency fields a published manifest may carry. */
const dependencyFields = [
  "dependencies",
  "peerDependencies",
  "optionalDependencies",
  "devDependencies",
];

/** Version specifiers that only mean something inside the workspace that packed the package. */
const workspaceOnly = /^(workspace|catalog|link|file|portal):/;

/**
 * Whether `specifier` names one of Node's built-in modules (`node:fs`, `fs`, `fs/promises`).
 * @param specifier - an import specifier
 * @returns true for a built-in
 */
export function isNodeBuiltin(specifier) {
  if (specifier.startsWith("node:")) return true;
  return builtinModules.includes(specifier);
}

/**
 * The package a bare specifier imports from (`@scope/name/sub` → `@scope/name`, `name/sub` → `name`).
 * @param specifier - a bare import specifier
 * @returns the package name
 */
export function packageNameOf(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

/**
 * Every module specifier an ES module (or a `.d.ts`) imports: static `import`/`export … from`,
 * side-effect imports and `import("…")` with a string literal. Block comments (TSDoc examples)
 * are ignored.
 * @param source - the module's text
 * @returns the specifiers, each once, in order of appearance
 */
export function importsOf(source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "");
  const found = [];
  const patterns = [
    /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) {
      const specifier = match[1];
      if (specifier !== undefined && !found.includes(specifier)) found.push(specifier);
    }
  }
  return found;
}

/**
 * Every target of an `exports` map with the chain of conditions that leads to it.
 * @param exportsField - a manifest's `exports` value
 * @returns one entry per target (`subpath` "." for a bare string or a conditions-only map)
 */
export function exportTargets(exportsField) {
  const targets = [];
  const walk = (subpath, conditions, value) => {
    if (typeof value === "string") targets.push({ subpath, conditions, target: value });
    else if (Array.isArray(value)) for (const item of value) walk(subpath, conditions, item);
    else if (value !== null && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) walk(subpath, [...conditions, key], inner);
    }
  };
  if (typeof exportsField === "string" || Array.isArray(exportsField)) {
    walk(".", [], exportsField);
    return targets;
  }
  const entries = Object.entries(exportsField ?? {});
  const bySubpath = entries.every(([key]) => key.startsWith("."));
  if (!bySubpath) walk(".", [], exportsField);
  else for (const [subpath, value] of entries) walk(subpath, [], value);
  return targets;
}

/** `./dist/x.js` → `dist/x.js` */
function normalize(path) {
  return path.replace(/^\.\//, "");
}

/**
 * What is wrong with a packed manifest for a consumer outside the workspace: `workspace:` (and other
 * workspace-only) versions, no `files` list, `exports` targets or `bin`/`main`/`types` files that
 * are not in the tarball, an entry without `types` (or with `types` after the condition a
 * TypeScript consumer would match first), an entry no runtime can import.
 * @param manifest - the `package.json` inside the tarball
 * @param files - the tarball's file paths, relative to the package root (`dist/index.js`)
 * @returns the problems found (empty when none)
 */
export function manifestProblems(manifest, files) {
  const name = manifest.name ?? "(unnamed package)";
  const shipped = new Set(files.map(normalize));
  const problems = [];
  for (const field of dependencyFields) {
    for (const [dependency, version] of Object.entries(manifest[field] ?? {})) {
      if (typeof version === "string" && workspaceOnly.test(version)) {
        problems.push(
          `${name}: ${field}.${dependency} is "${version}", which only resolves inside the workspace`,
        );
      }
    }
  }
  if (!Array.isArray(manifest.files) || manifest.files.length === 0) {
    problems.push(
      `${name}: package.json has no "files" list, so the tarball ships whatever is there`,
    );
  }
  for (const field of ["main", "module", "types", "typings"]) {
    const target = manifest[field];
    if (typeof target === "string" && !shipped.has(normalize(target))) {
      problems.push(`${name}: "${field}" is ${target}, which the tarball does not contain`);
    }
  }
  const bins = typeof manifest.bin === "string" ? { [name]: manifest.bin } : (manifest.bin ?? {});
  for (const [command, target] of Object.entries(bins)) {
    if (!shipped.has(normalize(target))) {
      problems.push(`${name}: bin "${command}" is ${target}, which the tarball does not contain`);
    }
  }
  if (manifest.exports === undefined) {
    if (manifest.main === undefined) problems.push(`${name}: package.json has no "exports"`);
    return problems;
  }
  const targets = exportTargets(manifest.exports);
  for (const { subpath, conditions, target } of targets) {
    const via = conditions.length > 0 ? ` (condition ${conditions.join(" → ")})` : "";
    if (target.includes("*")) continue;
    if (!shipped.has(normalize(target))) {
      problems.push(
        `${name}: exports["${subpath}"]${via} points at ${target}, which the tarball does not contain`,
      );
    }
  }
  for (const subpath of new Set(targets.map((entry) => entry.subpath))) {
    if (subpath === "./package.json") continue;
    const entry = targets.filter((target) => target.subpath === subpath);
    const typed = entry.filter((target) => target.conditions.includes("types"));
    const code = entry.filter((target) => !target.conditions.includes("types"));
    if (typed.length === 0 && !code.every((target) => target.target.endsWith(".d.ts"))) {
      problems.push(`${name}: exports["${subpath}"] has no "types" condition`);
    }
    for (const { target } of typed) {
      if (!/\.d\.[cm]?ts$/.test(target)) {
        problems.push(`${name}: exports["${subpath}"] "types" is ${target}, not a .d.ts file`);
      }
    }
    const keys = Object.keys(
      typeof manifest.exports === "object" && subpath in manifest.exports
        ? (manifest.exports[subpath] ?? {})
        : (manifest.exports ?? {}),
    );
    const typesAt = keys.indexOf("types");
    const firstRuntime = keys.findIndex((key) =>
      ["import", "require", "default", "node", "browser"].includes(key),
    );
    if (typesAt > firstRuntime && firstRuntime >= 0) {
      problems.push(
        `${name}: exports["${subpath}"] lists "types" after "${keys[firstRuntime]}", so TypeScript never reaches it`,
      );
    }
    const runnable = code.filter(
      (target) =>
        target.conditions.some((condition) => ["import", "default", "node"].includes(condition)) ||
        target.conditions.length === 0,
    );
    if (runnable.length === 0) {
      problems.push(
        `${name}: exports["${subpath}"] has no "import" or "default" target Node can load`,
      );
    }
  }
  return problems;
}

/**
 * What a packed manifest lacks that breaks no install but that a registry page and a user's
 * license check show: `license`, `repository`, `description`.
 * @param manifest - the `package.json` inside the tarball
 * @returns one note per missing field (empty when none)
 */
export function manifestNotes(manifest) {
  const name = manifest.name ?? "(unnamed package)";
  return ["license", "repository", "description"]
    .filter((field) => manifest[field] === undefined)
    .map((field) => `${name}: package.json has no "${field}"`);
}

/**
 * Imports in shipped `.js` and `.d.ts` files that a consumer cannot resolve: a bare import of a
 * package the manifest does not declare as a dependency (or peer), or a relative import of a file
 * the tarball does not contain.
 * @param manifest - the `package.json` inside the tarball
 * @param sources - shipped file path (relative to the package root) → text, for the files to check
 * @param files - every file path in the tarball
 * @returns the problems found (empty when none)
 */
export function importProblems(manifest, sources, files) {
  const name = manifest.name ?? "(unnamed package)";
  const shipped = new Set(files.map(normalize));
  const declared = new Set([
    manifest.name,
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
  ]);
  const problems = [];
  for (const [file, source] of sources) {
    for (const specifier of importsOf(source)) {
      if (specifier.startsWith(".")) {
        const base = file.split("/").slice(0, -1);
        for (const part of specifier.split("/")) {
          if (part === "..") base.pop();
          else if (part !== ".") base.push(part);
        }
        const resolved = base.join("/");
        const candidates = file.endsWith(".d.ts")
          ? [resolved.replace(/\.js$/, ".d.ts"), `${resolved}.d.ts`, `${resolved}/index.d.ts`]
          : [resolved];
        if (!candidates.some((candidate) => shipped.has(candidate))) {
          problems.push(
            `${name}: ${file} imports ${specifier}, which the tarball does not contain`,
          );
        }
        continue;
      }
      if (isNodeBuiltin(specifier) || specifier.startsWith("#")) continue;
      const dependency = packageNameOf(specifier);
      if (!declared.has(dependency)) {
        const dev =
          manifest.devDependencies?.[dependency] !== undefined ? " (only a devDependency)" : "";
        problems.push(
          `${name}: ${file} imports ${specifier}, but ${dependency} is not in its dependencies${dev}`,
        );
      }
    }
  }
  return problems;
}

/**
 * The packages a README's install command adds: the first line of a fenced block that runs
 * `pnpm add`, `npm install`/`npm i` or `yarn add` (a trailing `# comment` is ignored).
 * @param readme - the README's text
 * @returns the package names (versions and flags dropped), or undefined without such a line
 */
export function installedByReadme(readme) {
  const line = readme
    .split("\n")
    .find((text) => /^\s*(pnpm add|npm install|npm i|yarn add)\s/.test(text));
  if (line === undefined) return undefined;
  return line
    .replace(/\s#.*$/, "")
    .trim()
    .split(/\s+/)
    .slice(2)
    .filter((word) => !word.startsWith("-"))
    .map((word) => word.replace(/(.)@[^/]*$/, "$1"));
}

/**
 * The README's example: the `examples/*.ts` file whose text (after a leading `//` comment block)
 * the README contains verbatim, as `scripts/readme-examples.test.ts` requires.
 * @param readme - the README's text
 * @param examples - file name → text of the package's `examples/*.ts`
 * @returns the file name, or undefined when the README shows none of them
 */
export function readmeExample(readme, examples) {
  for (const [file, text] of examples) {
    const body = text.replace(/^(\/\/[^\n]*\n)+/, "").trim();
    if (readme.includes(body)) return file;
  }
  return undefined;
}

/**
 * Packages the README's example imports that its install command does not add (a consumer who
 * copies both gets "Cannot find package").
 * @param name - the package the README belongs to
 * @param example - the example's text
 * @param installed - what {@link installedByReadme} returned
 * @returns the problems found (empty when none)
 */
export function exampleInstallProblems(name, example, installed) {
  const imported = importsOf(example)
    .filter((specifier) => !specifier.startsWith(".") && !isNodeBuiltin(specifier))
    .map(packageNameOf);
  if (installed === undefined) {
    return imported.length > 0
      ? [`${name}: README.md has no install command (pnpm add …) for its example's imports`]
      : [];
  }
  return [...new Set(imported)]
    .filter((dependency) => !installed.includes(dependency))
    .map(
      (dependency) =>
        `${name}: README.md's example imports ${dependency}, which its install command (${installed.join(" ")}) does not add`,
    );
}

/**
 * Whether a package deliberately stubs a Node built-in out of its browser build: its `browser` field
 * maps the specifier (with or without `node:`) to `false` or to a file of its own. Bundlers honour
 * that, so the import is no problem for a web page.
 * @param manifest - the importing package's `package.json`
 * @param specifier - the built-in it imports (`crypto`, `node:crypto`)
 * @returns true when the package maps it away for browsers
 */
export function browserStubs(manifest, specifier) {
  const browser = manifest?.browser;
  if (browser === null || typeof browser !== "object") return false;
  const bare = specifier.replace(/^node:/, "");
  return [bare, `node:${bare}`].some(
    (key) => browser[key] === false || typeof browser[key] === "string",
  );
}

/**
 * Whether `scripts/consumers.mjs` runs an example on Node: yes, unless its leading `//` comment
 * block (which the README may leave out) has a line `// consumers: not run on Node …` (say why,
 * e.g. "it needs IndexedDB"). Such an example is still typechecked against the tarballs.
 * @param example - the example's text
 * @returns false for an example marked as not for Node
 */
export function exampleRunsOnNode(example) {
  const header = example.match(/^(\/\/[^\n]*\n)+/)?.[0] ?? "";
  return !/^\/\/ consumers: not run on Node\b/m.test(header);
}

/**
 * The third-party packages an example imports (not `@orgchat/*`, not Node built-ins).
 * @param example - the example's text
 * @returns the package names, each once
 */
export function thirdPartyImports(example) {
  return [
    ...new Set(
      importsOf(example)
        .filter((specifier) => !specifier.startsWith(".") && !isNodeBuiltin(specifier))
        .map(packageNameOf)
        .filter((name) => !name.startsWith("@orgchat/")),
    ),
  ];
}
