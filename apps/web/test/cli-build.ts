/**
 * Vitest global setup: builds the `orgchat` command once per run with its own build
 * (`node apps/cli/scripts/build.ts --out <dir>`, the esbuild bundle users install) into a temporary
 * directory, so that every CLI process of the tests runs that bundle (`node <dir>/dist/main.mjs`)
 * instead of compiling the workspace's TypeScript through tsx at each start. The commands' Node
 * compile cache is a directory of this run (`NODE_COMPILE_CACHE`, inherited by the workers and the
 * processes they start).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The built `apps/cli/src/main.ts` (run with `node <file> args…`). */
    orgchatMain: string;
  }
}

/** The CLI's build script in this workspace (apps/cli). */
const cliBuild = resolve(dirname(fileURLToPath(import.meta.url)), "../../cli/scripts/build.ts");

export default function setup(project: TestProject): () => void {
  const outdir = mkdtempSync(join(tmpdir(), "orgchat-web-cli-"));
  const packageDir = join(outdir, "package");
  execFileSync(process.execPath, [cliBuild, "--out", packageDir], { stdio: "inherit" });
  process.env.NODE_COMPILE_CACHE = join(outdir, "compile-cache");
  project.provide("orgchatMain", join(packageDir, "dist", "main.mjs"));
  return () => rmSync(outdir, { recursive: true, force: true });
}
