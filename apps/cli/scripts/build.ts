/**
 * Builds the `orgchat` command: `src/main.ts` bundled by esbuild into plain ES modules (the workspace
 * sources through the `@orgchat/source` condition, and every third-party dependency too), split so
 * that `--help` and `--version` load only the runner and the command table: the client, the store
 * (`node:sqlite`) and the Waku stack (libp2p, `@waku/*`) are chunks loaded by dynamic `import()`
 * when a command opens its data directory or the network.
 *
 * Output (`pnpm --filter orgchat build`, i.e. `node scripts/build.ts`):
 * - `dist/main.mjs` and its chunks: what `bin/orgchat.js` runs in the repository (and `pnpm link`);
 * - `dist/npm/`: the installable package (`package.json` without dependencies, `bin/orgchat.js`,
 *   `dist/`), which `pnpm pack` packs (`publishConfig.directory`): `npm i -g orgchat-<v>.tgz` needs
 *   no registry, since the app's `@orgchat/*` packages are private and nothing is left to fetch.
 *
 * The test set-up (`test/launcher.ts`) calls {@link buildCli} into a temporary directory; other
 * packages' tests run `node scripts/build.ts --out <dir>` for the same (the package alone, in `<dir>`,
 * `<dir>/dist/main.mjs` its entry; the repository's `dist/` untouched).
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile, type Plugin } from "esbuild";

/** apps/cli */
export const appDir: string = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Modules that `--help`, `--version` and usage errors never load (checked by `test/package.test.ts`):
 * the Waku stack, the SQLite store and the service node. (The client is still loaded by the command
 * table: `commands/joining.ts` and `commands/invitations.ts` import values from it.)
 */
export const heavyInputs: readonly RegExp[] = [
  /node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?(@libp2p|libp2p|@waku|@chainsafe)\//,
  /packages\/(store-sqlite|transport-waku|service-node)\/src\//,
];

/**
 * `node:http` and `node:https` imported as ES modules make Node build their ES module facade, which
 * reads every export, `WebSocket` too: that loads Node's undici (~65 ms of CPU on every command that
 * opens the network, measured on the 2-core dev machine; `@libp2p/websockets` imports them so for its
 * listener, which only `serve` uses). Taken with `require` (the banner's) instead, nothing reads
 * `WebSocket` and undici stays unloaded. Checked by `test/package.test.ts`.
 */
export const httpByRequire: Plugin = {
  name: "orgchat-http-by-require",
  setup(build) {
    build.onResolve({ filter: /^(node:)?https?$/ }, (args) =>
      args.kind === "import-statement"
        ? { path: `node:${args.path.replace(/^node:/, "")}`, namespace: "orgchat-require" }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "orgchat-require" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

/** What {@link buildCli} made. */
export interface BuiltCli {
  /** The package directory: `package.json`, `bin/orgchat.js`, `dist/main.mjs` and chunks. */
  readonly packageDir: string;
  /** `<packageDir>/dist/main.mjs` (run with `node <main> args…`). */
  readonly main: string;
  /** `<packageDir>/bin/orgchat.js`, the launcher a user runs. */
  readonly bin: string;
  /** esbuild's metafile (inputs and imports of every output). */
  readonly metafile: Metafile;
}

/**
 * Bundles the CLI into `packageDir` (emptied first) as an installable package.
 * @param packageDir - where the package goes (created)
 * @returns where the launcher and the entry module are, and the metafile
 * @throws when esbuild reports an error
 */
export async function buildCli(packageDir: string): Promise<BuiltCli> {
  // The test set-up and a repository build may run at once: each writes only its own directory.
  rmSync(packageDir, { recursive: true, force: true });
  const outdir = join(packageDir, "dist");
  const result = await build({
    entryPoints: [join(appDir, "src", "main.ts")],
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node22",
    keepNames: true,
    conditions: ["@orgchat/source"],
    // Some bundled CommonJS dependencies call require() for Node's built-ins.
    banner: {
      js: "import { createRequire as __orgchatRequire } from 'node:module'; const require = __orgchatRequire(import.meta.url);",
    },
    legalComments: "eof",
    plugins: [httpByRequire],
    metafile: true,
    logLevel: "warning",
  });
  const app = JSON.parse(readFileSync(join(appDir, "package.json"), "utf8")) as {
    version: string;
    description: string;
  };
  const cli = readFileSync(join(appDir, "src", "cli.ts"), "utf8");
  if (!cli.includes(`export const cliVersion = "${app.version}";`)) {
    throw new Error(`src/cli.ts: cliVersion must be package.json's version ${app.version}`);
  }
  const manifest = {
    name: "orgchat",
    version: app.version,
    description: app.description,
    type: "module",
    bin: { orgchat: "./bin/orgchat.js" },
    engines: { node: ">=22.12.0" },
    files: ["bin", "dist"],
    license: "MIT",
  };
  writeFileSync(join(packageDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  mkdirSync(join(packageDir, "bin"), { recursive: true });
  cpSync(join(appDir, "bin", "orgchat.js"), join(packageDir, "bin", "orgchat.js"));
  return {
    packageDir,
    main: join(outdir, "main.mjs"),
    bin: join(packageDir, "bin", "orgchat.js"),
    metafile: result.metafile,
  };
}

/**
 * The inputs loaded by an output without any dynamic `import()`: what `node <output>` evaluates
 * before the command runs.
 * @param metafile - from {@link buildCli}
 * @param output - the output path as the metafile names it (relative to the working directory)
 * @returns the input paths (relative, as esbuild names them)
 */
export function staticInputs(metafile: Metafile, output: string): string[] {
  const seen = new Set<string>();
  const inputs = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    const out = metafile.outputs[path];
    if (out === undefined) return;
    for (const input of Object.keys(out.inputs)) inputs.add(input);
    for (const imported of out.imports) {
      if (imported.kind === "import-statement" && !imported.external) visit(imported.path);
    }
  };
  visit(output);
  return [...inputs];
}

/**
 * What `node scripts/build.ts` does: builds the package into `dist/npm` and copies its `dist` to
 * `dist/`, for the repository's `bin/orgchat.js`.
 * @returns the package built
 */
export async function buildRepository(): Promise<BuiltCli> {
  const dist = join(appDir, "dist");
  const built = await buildCli(join(dist, "npm"));
  for (const entry of readdirSync(dist)) {
    if (entry.endsWith(".mjs")) rmSync(join(dist, entry));
  }
  for (const entry of readdirSync(join(built.packageDir, "dist"))) {
    cpSync(join(built.packageDir, "dist", entry), join(dist, entry));
  }
  return built;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outAt = process.argv.indexOf("--out");
  if (outAt >= 0) {
    const out = process.argv[outAt + 1];
    if (out === undefined) throw new Error("scripts/build.ts: --out needs a directory");
    const built = await buildCli(resolve(out));
    process.stdout.write(`orgchat: built the package ${built.packageDir}\n`);
  } else {
    const built = await buildRepository();
    process.stdout.write(
      `orgchat: built ${join(appDir, "dist", "main.mjs")} and the package ${built.packageDir}\n`,
    );
  }
}
