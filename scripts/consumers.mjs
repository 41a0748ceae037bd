#!/usr/bin/env node
/**
 * Downstream consumers: what a user outside this workspace gets from the published packages.
 *
 * 1. builds and packs every publishable package (`pnpm pack`, the ones not `"private": true`) and
 *    checks each tarball: no `workspace:` versions, a `files` list, every `exports`/`bin` target
 *    shipped (`@orgchat/source` included), `types` on every entry, and every import in the shipped
 *    `.js`/`.d.ts` declared as a dependency or shipped;
 * 2. installs all tarballs with npm (the system's npm 11, third-party packages from the registry)
 *    into a fresh project in a temporary directory outside the workspace, and runs every `bin` they
 *    bring with `--help`;
 *    Loads every `exports` entry with `import()` on Node and typechecks an import of each;
 * 3. typechecks each package README's example (the `examples/*.ts` file the README shows) against the
 *    installed packages, checks that the README's install command adds what the example imports,
 *    and runs the example on this Node (type stripping), which must exit 0 (an example whose leading
 *    comment says `// consumers: not run on Node` — one that needs a browser — is only typechecked);
 * 4. builds a web page with Vite that imports @orgchat/client, wire, crypto, store, state and
 *    transport-waku, and fails if the build fails or a Node built-in reaches the browser graph.
 *
 * Usage: node scripts/consumers.mjs [--keep] [--json]
 *   --keep  leave the temporary directory (its path is printed)
 *   --json  print one JSON document (steps with seconds, problems) at the end
 * Exit code 1 with one line per problem when a check fails. Nothing is cached outside the temporary
 * directory (npm gets its own empty cache there).
 */
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative, resolve } from "node:path";
import {
  exampleInstallProblems,
  exampleRunsOnNode,
  importProblems,
  importsOf,
  installedByReadme,
  manifestNotes,
  manifestProblems,
  readmeExample,
  thirdPartyImports,
} from "./consumers/checks.mjs";
import { indexHtml, loadEntriesMjs, mainTs, viteConfig } from "./consumers/web-app.mjs";

const root = resolve(import.meta.dirname, "..");
const keep = process.argv.includes("--keep");
const json = process.argv.includes("--json");
/** Vite for the web build, pinned like the repository's own tooling. */
const viteVersion = "8.4.1";
/** Generous safety limits against a hang; a healthy run takes a fraction of each. */
const limits = { npmMs: 600_000, exampleMs: 120_000, buildMs: 300_000 };

const rootManifest = readJson(join(root, "package.json"));
const pnpm = ["npx", "-y", rootManifest.packageManager];
const steps = [];
const problems = [];
/** What a publisher should look at but that breaks no consumer (printed, never fails the run). */
const notes = [];

function readJson(file) {
  return JSON.parse(readFileSync(file, "utf8"));
}

function log(line) {
  (json ? process.stderr : process.stdout).write(`consumers: ${line}\n`);
}

/** Runs a command; throws with its output's tail when it fails. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    ...options,
    env: { ...process.env, ...options.env },
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  if (result.error !== undefined || result.status !== 0) {
    const why = result.error?.message ?? `exit code ${result.status} (signal ${result.signal})`;
    const error = new Error(`${[command, ...args].join(" ")} failed: ${why}`);
    error.output = output.split("\n").slice(-30).join("\n");
    throw error;
  }
  return result;
}

/** Marks a step whose failure makes the later ones meaningless (they are skipped). */
const fatal = true;

/** Runs one step, records its duration, and turns a failure into a problem. */
function step(name, body, stopOnFailure = false) {
  const started = performance.now();
  let failed = false;
  try {
    body();
  } catch (error) {
    failed = true;
    problems.push(`${name}: ${error.message}${error.output ? `\n${error.output}` : ""}`);
  }
  const seconds = (performance.now() - started) / 1000;
  steps.push({ name, seconds: Number(seconds.toFixed(1)) });
  log(`${name}: ${seconds.toFixed(1)} s`);
  if (failed && stopOnFailure) finish();
}

const packages = readdirSync(join(root, "packages"))
  .map((name) => join(root, "packages", name))
  .filter((dir) => existsSync(join(dir, "package.json")))
  .map((dir) => ({ dir, manifest: readJson(join(dir, "package.json")) }))
  .filter(({ manifest }) => manifest.private !== true);

const [nodeMajor] = process.versions.node.split(".").map(Number);
if ((nodeMajor ?? 0) < 22) {
  console.error(
    `consumers: Node ${process.versions.node} runs this; the packages need Node ≥ 22 (run it as \`npx -y pnpm@… run check:consumers\`, which puts the repository's Node first)`,
  );
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), "orgchat-consumers-"));
const tarballs = join(work, "tarballs");
const app = join(work, "app");
mkdirSync(tarballs);
mkdirSync(join(app, "examples"), { recursive: true });
mkdirSync(join(app, "web"));
const npmVersion = spawnSync("npm", ["--version"], { encoding: "utf8" }).stdout?.trim();
log(
  `${packages.length} publishable packages; Node ${process.versions.node}, npm ${npmVersion}; working in ${work}`,
);

const packed = new Map();
step(
  "build (turbo, cached when fresh)",
  () => {
    const filters = packages.flatMap(({ manifest }) => [`--filter=${manifest.name}`]);
    // Through pnpm, so that turbo finds pnpm on PATH even when this script was started without it.
    run(
      pnpm[0],
      [...pnpm.slice(1), "exec", "turbo", "run", "build", ...filters, "--concurrency=2"],
      {
        cwd: root,
      },
    );
  },
  fatal,
);

step(
  "pack and check tarballs",
  () => {
    for (const { dir, manifest } of packages) {
      const result = run(
        pnpm[0],
        [...pnpm.slice(1), "pack", "--pack-destination", tarballs, "--json"],
        {
          cwd: dir,
        },
      );
      const report = JSON.parse(result.stdout.slice(result.stdout.indexOf("{")));
      const unpacked = join(work, "unpacked", manifest.name);
      mkdirSync(unpacked, { recursive: true });
      run("tar", ["-xzf", report.filename, "-C", unpacked]);
      const packageRoot = join(unpacked, "package");
      const files = listFiles(packageRoot);
      const shipped = readJson(join(packageRoot, "package.json"));
      const sources = new Map(
        files
          .filter((file) => file.startsWith("dist/") && /\.(js|d\.ts)$/.test(file))
          .map((file) => [file, readFileSync(join(packageRoot, file), "utf8")]),
      );
      notes.push(...manifestNotes(shipped));
      problems.push(
        ...manifestProblems(shipped, files),
        ...importProblems(shipped, sources, files),
      );
      packed.set(manifest.name, report.filename);
    }
  },
  fatal,
);

function listFiles(dir, prefix = "") {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory()
      ? listFiles(path, `${prefix}${entry}/`)
      : [`${prefix}${entry}`];
  });
}

// The README examples: which file each README shows, and what its install command adds.
const examples = [];
/** Third-party packages the README examples import → version. */
const exampleDependencies = {};
for (const { dir, manifest } of packages) {
  const readme = readFileSync(join(dir, "README.md"), "utf8");
  const folder = join(dir, "examples");
  const texts = new Map(
    existsSync(folder)
      ? readdirSync(folder)
          .filter((file) => file.endsWith(".ts"))
          .map((file) => [file, readFileSync(join(folder, file), "utf8")])
      : [],
  );
  const file = readmeExample(readme, texts);
  if (file === undefined) {
    problems.push(`${manifest.name}: README.md shows none of examples/*.ts`);
    continue;
  }
  const text = texts.get(file) ?? "";
  problems.push(...exampleInstallProblems(manifest.name, text, installedByReadme(readme)));
  const copy = `${manifest.name.replace(/^@orgchat\//, "")}.ts`;
  writeFileSync(join(app, "examples", copy), text);
  examples.push({
    name: manifest.name,
    source: relative(root, join(folder, file)),
    copy,
    runsOnNode: exampleRunsOnNode(text),
  });
  // Third-party packages the example imports (e.g. @noble/curves for wire's Ed25519), at the
  // version the package itself pins.
  for (const dependency of thirdPartyImports(text)) {
    const version = { ...manifest.devDependencies, ...manifest.dependencies }[dependency];
    if (version === undefined) {
      problems.push(
        `${manifest.name}: examples/${file} imports ${dependency}, which its package.json does not pin`,
      );
    } else exampleDependencies[dependency] = version;
  }
}

step(
  "npm install the tarballs into a fresh project",
  () => {
    const dependencies = Object.fromEntries(
      [...packed].map(([name, file]) => [name, `file:${relative(app, file)}`]),
    );
    writeFileSync(
      join(app, "package.json"),
      `${JSON.stringify(
        {
          name: "orgchat-consumer",
          private: true,
          type: "module",
          dependencies: { ...exampleDependencies, ...dependencies },
          devDependencies: {
            "@types/node": rootManifest.devDependencies["@types/node"],
            vite: viteVersion,
          },
          // Transitive @orgchat/* dependencies resolve to the tarballs too, never the registry.
          overrides: dependencies,
        },
        null,
        2,
      )}\n`,
    );
    run(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--cache",
        join(work, "npm-cache"),
        "--loglevel=error",
      ],
      { cwd: app, timeout: limits.npmMs },
    );
    for (const name of packed.keys()) {
      const installed = join(app, "node_modules", name, "package.json");
      if (!existsSync(installed)) problems.push(`${name}: npm did not install it`);
      const nested = join(app, "node_modules", name, "node_modules", "@orgchat");
      if (existsSync(nested)) {
        problems.push(
          `${name}: npm installed a second copy of ${readdirSync(nested).join(", ")} under it (a version mismatch)`,
        );
      }
    }
  },
  fatal,
);

step("run every installed bin with --help", () => {
  for (const [name] of packed) {
    const manifest = readJson(join(app, "node_modules", name, "package.json"));
    const bins = typeof manifest.bin === "string" ? { [name]: manifest.bin } : (manifest.bin ?? {});
    for (const command of Object.keys(bins)) {
      try {
        run(join(app, "node_modules", ".bin", command), ["--help"], {
          cwd: app,
          timeout: limits.exampleMs,
          // \`#!/usr/bin/env node\` finds this Node first.
          env: { PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}` },
        });
      } catch (error) {
        problems.push(`${name}: \`${command} --help\` failed: ${error.message}\n${error.output}`);
      }
    }
  }
});

// Every entry of every package (`exports` subpaths), as a consumer imports it.
const entries = [];
for (const [name] of packed) {
  const manifest = readJson(join(app, "node_modules", name, "package.json"));
  const optionalPeers = Object.keys(manifest.peerDependenciesMeta ?? {}).filter(
    (peer) => manifest.peerDependenciesMeta[peer]?.optional === true,
  );
  for (const subpath of Object.keys(manifest.exports ?? { ".": null })) {
    if (subpath === "./package.json" || subpath.includes("*")) continue;
    entries.push({ specifier: `${name}${subpath.slice(1)}`, optionalPeers });
  }
}

step("load every exported entry on Node from the installed packages", () => {
  writeFileSync(join(app, "load-entries.mjs"), loadEntriesMjs);
  const result = run(process.execPath, ["load-entries.mjs", JSON.stringify(entries)], {
    cwd: app,
    timeout: limits.exampleMs,
  });
  const { failed, skipped, loaded } = JSON.parse(result.stdout);
  for (const { specifier, error } of failed) {
    problems.push(`${specifier}: import() on Node failed: ${error}`);
  }
  log(
    `  ${loaded} entries loaded; skipped for a missing optional peer: ${skipped.join(", ") || "none"}`,
  );
});

// The web page imports what a web app would: the light entry and the IndexedDB store once they exist.
const transportWaku = readJson(
  join(app, "node_modules", "@orgchat", "transport-waku", "package.json"),
);
const page = {
  main: mainTs({
    lightEntry: transportWaku.exports?.["./light"] !== undefined,
    indexedDbStore: packed.has("@orgchat/store-indexeddb"),
  }),
};
page.imports = [...new Set(importsOf(page.main))];

step("typecheck the README examples and the web entry against the tarballs", () => {
  writeFileSync(join(app, "web", "main.ts"), page.main);
  // Each entry's types must resolve (a missing .d.ts is error TS7016 here).
  writeFileSync(
    join(app, "entries.ts"),
    `${entries.map(({ specifier }, index) => `import * as entry${index} from "${specifier}";`).join("\n")}\nexport const entries = [${entries.map((_, index) => `entry${index}`).join(", ")}];\n`,
  );
  writeFileSync(
    join(app, "tsconfig.json"),
    `${JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          lib: ["ES2022", "DOM"],
          types: ["node"],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          allowImportingTsExtensions: true,
          verbatimModuleSyntax: true,
        },
        include: ["examples/*.ts", "web/main.ts", "entries.ts"],
      },
      null,
      2,
    )}\n`,
  );
  // Our own .d.ts files are checked in full; third-party ones are their authors' business.
  const result = spawnSync(
    process.execPath,
    [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", app, "--pretty", "false"],
    { cwd: app, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  const errors = `${result.stdout}${result.stderr}`
    .split("\n")
    .filter((line) => /error TS\d+/.test(line))
    .filter(
      (line) => !line.startsWith("node_modules/") || line.startsWith("node_modules/@orgchat/"),
    );
  problems.push(...errors.map((line) => `typecheck: ${line}`));
  if (result.status !== 0 && errors.length === 0 && !/error TS\d+/.test(result.stdout)) {
    throw new Error(`tsc exited with ${result.status}: ${result.stderr}`);
  }
});

for (const example of examples) {
  if (!example.runsOnNode) {
    log(`not run on Node (its header says so; typechecked above): ${example.source}`);
    continue;
  }
  step(`run ${example.source}`, () => {
    const result = run(
      process.execPath,
      [
        "--experimental-strip-types",
        "--disable-warning=ExperimentalWarning",
        join("examples", example.copy),
      ],
      { cwd: app, timeout: limits.exampleMs, env: { NODE_OPTIONS: "" } },
    );
    const firstLine = `${result.stdout}${result.stderr}`.trim().split("\n")[0] ?? "";
    log(`  ${example.name} example printed: ${firstLine.slice(0, 100)}`);
  });
}

step(`vite ${viteVersion} build of a page importing ${page.imports.join(", ")}`, () => {
  writeFileSync(join(app, "web", "index.html"), indexHtml);
  writeFileSync(
    join(app, "vite.config.mjs"),
    viteConfig(new URL("./consumers/checks.mjs", import.meta.url).href),
  );
  run(process.execPath, [join(app, "node_modules", "vite", "bin", "vite.js"), "build"], {
    cwd: app,
    timeout: limits.buildMs,
  });
  const builtins = readJson(join(app, "node-builtins.json"));
  for (const { source, importer } of builtins) {
    const from = relative(join(app, "node_modules"), importer);
    problems.push(`browser bundle: ${from} imports the Node built-in "${source}"`);
  }
  const assets = join(app, "web", "dist", "assets");
  const bytes = readdirSync(assets)
    .filter((file) => file.endsWith(".js"))
    .reduce((sum, file) => sum + statSync(join(assets, file)).size, 0);
  log(`  page JavaScript: ${(bytes / 1024).toFixed(0)} KB minified`);
});

finish();

/** Prints the outcome, removes the temporary directory (unless --keep) and exits. */
function finish() {
  const total = steps.reduce((sum, { seconds }) => sum + seconds, 0);
  if (json)
    console.log(
      JSON.stringify({ seconds: Number(total.toFixed(1)), steps, problems, notes }, null, 2),
    );
  if (notes.length > 0)
    log(`notes (not failures):\n${notes.map((note) => `  - ${note}`).join("\n")}`);
  if (keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
  if (problems.length > 0) {
    console.error(
      `consumers: ${problems.length} problem(s): what a user of the published packages would hit, or a step that could not run:`,
    );
    for (const problem of problems) console.error(`  - ${problem}`);
    process.exit(1);
  }
  log(
    `ok: ${packed.size} tarballs, ${examples.length} README examples, one web build in ${total.toFixed(0)} s`,
  );
  process.exit(0);
}
