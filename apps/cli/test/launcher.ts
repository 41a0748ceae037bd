/**
 * Vitest global setup: compiles `src/main.ts` once per run into one ES module (esbuild; workspace sources bundled with the `@orgchat/source` condition, every dependency left
 * as an import of its installed file, dynamic imports kept lazy), so that each of the many `orgchat`
 * processes the tests start loads plain JavaScript instead of type-stripping ~100 TypeScript files
 * through tsx: about a third of the CPU per process, what a busy machine is short of. The code run is
 * the same source; `bin/orgchat.js` (tsx) itself is run by one test, and `pnpm demo` keeps tsx.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type PluginBuild } from "esbuild";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The compiled `src/main.ts` (run with `node <file> args…`). */
    orgchatMain: string;
  }
}

const appDir = resolve(fileURLToPath(new URL("..", import.meta.url)));

export default async function setup(project: TestProject): Promise<() => void> {
  const outdir = mkdtempSync(join(tmpdir(), "orgchat-cli-launcher-"));
  const dependenciesAsFiles = {
    name: "dependencies-as-files",
    setup(plugin: PluginBuild) {
      plugin.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.path.startsWith("@orgchat/") || args.path.startsWith("node:")) return undefined;
        if (args.pluginData === "resolving") return undefined;
        const found = await plugin.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: "resolving",
        });
        return found.errors.length > 0
          ? { errors: found.errors }
          : { path: found.path, external: true };
      });
    },
  };
  await build({
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
    plugins: [dependenciesAsFiles],
    logLevel: "warning",
  });
  project.provide("orgchatMain", join(outdir, "main.mjs"));
  return () => rmSync(outdir, { recursive: true, force: true });
}
