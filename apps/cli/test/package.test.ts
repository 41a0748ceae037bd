/**
 * The built command as users get it: the launcher runs the bundle (no TypeScript at run time), the
 * `--help` path loads none of the heavy modules, and the package installs with `npm i -g` from its
 * tarball without any registry (everything it runs is bundled).
 */
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { heavyInputs } from "../scripts/build.ts";

const node = process.execPath;

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(file, args, {
    encoding: "utf8",
    env: { ...process.env, ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, error: result.error };
}

/**
 * A module hook that prints every module `node` resolves (one `loaded <url>` line each on stderr),
 * to see what a command line loads.
 */
const printLoads = `data:text/javascript,${encodeURIComponent(
  `import { registerHooks } from "node:module";
registerHooks({ resolve(specifier, context, next) {
  const result = next(specifier, context);
  process.stderr.write("loaded " + result.url + "\\n");
  return result;
} });`,
)}`;

describe("the built command", () => {
  it("--help and --version run the bundle and load neither the store nor the Waku stack", () => {
    const bin = inject("orgchatBin");
    for (const args of [["--help"], ["--version"], ["send", "--help"]]) {
      const result = run(node, ["--import", printLoads, bin, ...args]);
      expect(result.code, result.stderr).toBe(0);
      const loaded = result.stderr
        .split("\n")
        .filter((line) => line.startsWith("loaded "))
        .map((line) => line.slice("loaded ".length));
      expect(loaded.some((url) => url.endsWith("/dist/main.mjs"))).toBe(true);
      // Only the bundle's own files and Node's built-ins: nothing from node_modules or TypeScript.
      expect(
        loaded.filter((url) => !url.startsWith("node:") && !/\/dist\/[^/]+\.mjs$/.test(url)),
      ).toEqual([expect.stringMatching(/\/bin\/orgchat\.js$/)]);
      expect(loaded).not.toContain("node:sqlite");
      const chunks = loaded
        .filter((url) => url.endsWith(".mjs"))
        .map((url) => url.split("/").at(-1));
      // The chunks that hold the store, the client and the Waku stack are not among them.
      const heavy = heavyChunks();
      expect(chunks.filter((chunk) => heavy.has(chunk ?? ""))).toEqual([]);
    }
    const version = run(node, [bin, "--version"]);
    expect(version.stdout).toBe("0.0.0\n");
  });

  it("no chunk loads Node's undici (node:http's ES module facade would, on every online command)", () => {
    const dist = dirname(inject("orgchatMain"));
    // Every chunk but the entry (which would run a command), in one process; then what Node loaded.
    const script = `import { readdirSync } from "node:fs";
for (const file of readdirSync(${JSON.stringify(dist)})) {
  if (file.endsWith(".mjs") && file !== "main.mjs") await import(${JSON.stringify(`${dist}/`)} + file);
}
process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => m.includes("undici"))));`;
    const result = run(node, ["--no-warnings", "--input-type=module", "-e", script]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([]);
  });

  it("an online command's transport is the light entry: neither it nor what it imports holds gossipsub", () => {
    const meta = readMeta();
    const holding = (pattern: RegExp) =>
      Object.keys(meta.outputs).filter((output) =>
        Object.keys(meta.outputs[output]?.inputs ?? {}).some((input) => pattern.test(input)),
      );
    const [session] = holding(/^src\/session\.ts$/);
    const [light] = holding(/transport-waku\/src\/light-entry\.ts$/);
    expect(session).toBeDefined();
    expect(light).toBeDefined();
    // The session loads the light entry (when it goes online), nothing else of transport-waku's roots.
    const dynamic = (meta.outputs[session ?? ""]?.imports ?? []).filter(
      (i) => i.kind === "dynamic-import",
    );
    expect(dynamic.map((i) => i.path)).toContain(light);
    const gossipsub = new Set(
      holding(/libp2p-gossipsub\/|transport-waku\/src\/relay-transport\.ts$/),
    );
    expect(gossipsub.size).toBeGreaterThan(0);
    for (const root of [session, light]) {
      expect([...staticClosure(meta, root ?? "")].filter((o) => gossipsub.has(o))).toEqual([]);
    }
  });

  it("keeps Node's compile cache in the user's private cache directory, unless told otherwise", () => {
    const bin = inject("orgchatBin");
    const home = mkdtempSync(join(tmpdir(), "orgchat-compile-cache-"));
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: join(home, "xdg") };
    delete env.NODE_COMPILE_CACHE;
    const cache = join(home, "xdg", "orgchat", "compile-cache");
    const first = spawnSync(node, [bin, "--help"], { encoding: "utf8", env });
    expect(first.status, first.stderr).toBe(0);
    // One directory per Node version, holding the compiled chunks; private to the user.
    const versions = readdirSync(cache);
    expect(versions).toEqual([expect.stringContaining(`v${process.versions.node}-`)]);
    expect(readdirSync(join(cache, versions[0] ?? "")).length).toBeGreaterThan(0);
    for (const dir of [join(home, "xdg", "orgchat"), cache]) {
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    }
    // The second run reads it and prints the same.
    const second = spawnSync(node, [bin, "--help"], { encoding: "utf8", env });
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    // Without XDG_CACHE_HOME: ~/.cache/orgchat.
    const { XDG_CACHE_HOME: _, ...noXdg } = env;
    const plain = spawnSync(node, [bin, "--version"], {
      encoding: "utf8",
      env: { ...noXdg, HOME: join(home, "user") },
    });
    expect(plain.status, plain.stderr).toBe(0);
    expect(readdirSync(join(home, "user", ".cache", "orgchat", "compile-cache"))).toHaveLength(1);
    // NODE_COMPILE_CACHE elsewhere, or NODE_DISABLE_COMPILE_CACHE: nothing in the user's directory.
    const elsewhere = join(home, "elsewhere");
    const moved = spawnSync(node, [bin, "--help"], {
      encoding: "utf8",
      env: { ...env, XDG_CACHE_HOME: join(home, "xdg2"), NODE_COMPILE_CACHE: elsewhere },
    });
    expect(moved.status, moved.stderr).toBe(0);
    expect(readdirSync(elsewhere)).toHaveLength(1);
    expect(existsSync(join(home, "xdg2"))).toBe(false);
    const off = spawnSync(node, [bin, "--help"], {
      encoding: "utf8",
      env: { ...env, XDG_CACHE_HOME: join(home, "xdg3"), NODE_DISABLE_COMPILE_CACHE: "1" },
    });
    expect(off.status, off.stderr).toBe(0);
    expect(existsSync(join(home, "xdg3"))).toBe(false);
    rmSync(home, { recursive: true, force: true });
  });

  it("without a build, the launcher says which command makes it", () => {
    const dir = mkdtempSync(join(tmpdir(), "orgchat-no-build-"));
    mkdirSync(join(dir, "bin"));
    copyFileSync(inject("orgchatBin"), join(dir, "bin", "orgchat.js"));
    const result = run(node, [join(dir, "bin", "orgchat.js"), "--help"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      /^orgchat: the command is not built \(.*dist\/main\.mjs is missing\): run `npx -y pnpm@10\.34\.9 --filter orgchat build` in the repository\n$/,
    );
  });

  it("packs into a tarball that npm installs globally offline, and the installed orgchat runs", () => {
    const work = mkdtempSync(join(tmpdir(), "orgchat-pack-"));
    const packed = run("npm", [
      "pack",
      inject("orgchatPackage"),
      "--pack-destination",
      work,
      "--cache",
      join(work, "cache"),
      "--offline",
    ]);
    expect(packed.error).toBeUndefined();
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = readdirSync(work).find((file) => file.endsWith(".tgz"));
    expect(tarball).toBe("orgchat-0.0.0.tgz");
    const prefix = join(work, "prefix");
    const installed = run("npm", [
      "install",
      "--global",
      "--prefix",
      prefix,
      "--offline",
      "--cache",
      join(work, "cache"),
      "--no-audit",
      "--no-fund",
      join(work, tarball ?? ""),
    ]);
    expect(installed.code, installed.stderr).toBe(0);
    const binary = join(prefix, "bin", "orgchat");
    expect(existsSync(binary)).toBe(true);
    // `#!/usr/bin/env node`: the Node that runs this test comes first on PATH.
    const env = { PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ""}` };
    const version = run(binary, ["--version"], env);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toBe("0.0.0\n");
    const help = run(binary, ["--help"], env);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain("Usage: orgchat <command>");
    // Nothing but the bundle was installed: no dependency was fetched or linked.
    expect(readdirSync(join(prefix, "lib", "node_modules"))).toEqual(["orgchat"]);
    expect(existsSync(join(prefix, "lib", "node_modules", "orgchat", "node_modules"))).toBe(false);
  });
});

/** The bundle's chunks that contain the store, the client or the Waku stack (from esbuild's metafile). */
/** esbuild's metafile of the built command (what the launcher wrote). */
interface BuildMeta {
  readonly outputs: Record<
    string,
    {
      readonly inputs: Record<string, unknown>;
      readonly imports?: readonly { readonly path: string; readonly kind: string }[];
    }
  >;
}

function readMeta(): BuildMeta {
  return JSON.parse(
    readFileSync(join(inject("orgchatPackage"), "..", "meta.json"), "utf8"),
  ) as BuildMeta;
}

/** The outputs `root` loads before it runs: itself and its static imports, transitively. */
function staticClosure(meta: BuildMeta, root: string): Set<string> {
  const seen = new Set<string>();
  const queue = [root];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    if (seen.has(next)) continue;
    seen.add(next);
    for (const i of meta.outputs[next]?.imports ?? []) {
      if (i.kind === "import-statement") queue.push(i.path);
    }
  }
  return seen;
}

function heavyChunks(): Set<string> {
  const meta = readMeta();
  const heavy = new Set<string>();
  for (const [output, { inputs }] of Object.entries(meta.outputs)) {
    if (Object.keys(inputs).some((input) => heavyInputs.some((pattern) => pattern.test(input)))) {
      heavy.add(output.split("/").at(-1) ?? "");
    }
  }
  return heavy;
}
