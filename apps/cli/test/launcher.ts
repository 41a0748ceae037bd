/**
 * Vitest global setup: builds the `orgchat` package once per run with the package's own build
 * (`scripts/build.ts`: one esbuild bundle, what `pnpm --filter orgchat build` makes and `npm i -g`
 * installs) into a temporary directory, so that every `orgchat` process the tests start runs exactly
 * what users run: `node <dir>/dist/main.mjs` (or `<dir>/bin/orgchat.js`, the launcher). Their Node
 * compile cache (see `src/main.ts`) is a directory of this run, removed with it
 * (`NODE_COMPILE_CACHE`, which every process the tests start inherits): nothing is written to the
 * user's cache directory.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { appDir, buildCli, buildRepository } from "../scripts/build.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The built `src/main.ts` (run with `node <file> args…`). */
    orgchatMain: string;
    /** The built package's launcher (`bin/orgchat.js` next to its `dist/`). */
    orgchatBin: string;
    /** The built package's directory (what `pnpm pack` packs). */
    orgchatPackage: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const outdir = mkdtempSync(join(tmpdir(), "orgchat-cli-launcher-"));
  const built = await buildCli(join(outdir, "package"));
  // Set before Vitest starts the test workers: they and every process they start inherit it.
  process.env.NODE_COMPILE_CACHE = join(outdir, "compile-cache");
  // Which chunk holds which module (read by the test of what `--help` loads).
  writeFileSync(join(outdir, "meta.json"), JSON.stringify(built.metafile));
  project.provide("orgchatMain", built.main);
  project.provide("orgchatBin", built.bin);
  project.provide("orgchatPackage", built.packageDir);
  // `bin/orgchat.js` of the repository runs `dist/`: made by the `build` script (turbo runs it), or
  // here when a test run comes first.
  if (!existsSync(join(appDir, "dist", "main.mjs"))) await buildRepository();
  // Retried: a process that has just exited may still be writing its compile cache there (ENOTEMPTY).
  return () => rmSync(outdir, { recursive: true, force: true, maxRetries: 5 });
}
