/**
 * The checks `scripts/consumers.mjs` runs on packed packages, fed broken packages (each check must
 * find its problem), and the part that needs no tarball run over the repository itself: every
 * README's install command adds what its example imports.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  browserStubs,
  exampleInstallProblems,
  exampleRunsOnNode,
  exportTargets,
  importProblems,
  importsOf,
  installedByReadme,
  manifestNotes,
  manifestProblems,
  packageNameOf,
  readmeExample,
  thirdPartyImports,
} from "./consumers/checks.mjs";

/** A manifest as `pnpm pack` writes it for a package like ours. */
function packed(overrides: Record<string, unknown> = {}) {
  return {
    name: "@orgchat/example",
    version: "1.0.0",
    type: "module",
    exports: {
      ".": {
        "@orgchat/source": "./src/index.ts",
        types: "./dist/index.d.ts",
        import: "./dist/index.js",
      },
      "./package.json": "./package.json",
    },
    files: ["dist", "src"],
    dependencies: { "@orgchat/base": "1.0.0", "@noble/hashes": "2.4.0" },
    ...overrides,
  };
}
const shipped = ["package.json", "README.md", "dist/index.js", "dist/index.d.ts", "src/index.ts"];

describe("manifestProblems", () => {
  it("passes a well-formed packed manifest", () => {
    expect(manifestProblems(packed(), shipped)).toEqual([]);
  });

  it("finds workspace: versions left in any dependency field", () => {
    const problems = manifestProblems(
      packed({
        dependencies: { "@orgchat/base": "workspace:*" },
        peerDependencies: { "@orgchat/wire": "workspace:^" },
      }),
      shipped,
    );
    expect(problems).toEqual([
      expect.stringContaining('dependencies.@orgchat/base is "workspace:*"'),
      expect.stringContaining('peerDependencies.@orgchat/wire is "workspace:^"'),
    ]);
  });

  it("finds a missing files list", () => {
    expect(manifestProblems(packed({ files: undefined }), shipped)).toEqual([
      expect.stringContaining('no "files" list'),
    ]);
  });

  it("finds an export condition pointing at files the tarball does not ship", () => {
    const problems = manifestProblems(packed({ files: ["dist"] }), [
      "package.json",
      "dist/index.js",
      "dist/index.d.ts",
    ]);
    expect(problems).toEqual([
      expect.stringMatching(
        /exports\["\."\] \(condition @orgchat\/source\) points at \.\/src\/index\.ts, which the tarball does not contain/,
      ),
    ]);
    expect(manifestProblems(packed(), ["package.json", "dist/index.js", "src/index.ts"])).toEqual([
      expect.stringContaining("./dist/index.d.ts, which the tarball does not contain"),
    ]);
  });

  it("finds an entry without types, with types after the runtime condition, or without an importable target", () => {
    const untyped = packed({ exports: { ".": { import: "./dist/index.js" } } });
    expect(manifestProblems(untyped, shipped)).toEqual([
      expect.stringContaining('exports["."] has no "types" condition'),
    ]);
    const late = packed({
      exports: { ".": { import: "./dist/index.js", types: "./dist/index.d.ts" } },
    });
    expect(manifestProblems(late, shipped)).toEqual([
      expect.stringContaining('lists "types" after "import"'),
    ]);
    const browserOnly = packed({
      exports: { ".": { types: "./dist/index.d.ts", browser: "./dist/index.js" } },
    });
    expect(manifestProblems(browserOnly, shipped)).toEqual([
      expect.stringContaining('has no "import" or "default" target'),
    ]);
  });

  it("finds bin and main targets the tarball does not ship", () => {
    const problems = manifestProblems(
      packed({ bin: { "orgchat-node": "./bin/orgchat-node.js" }, main: "./dist/main.js" }),
      shipped,
    );
    expect(problems).toEqual([
      expect.stringContaining('"main" is ./dist/main.js'),
      expect.stringContaining('bin "orgchat-node" is ./bin/orgchat-node.js'),
    ]);
  });

  it("notes a missing license, repository or description without calling it a problem", () => {
    expect(manifestNotes(packed({ description: "x" }))).toEqual([
      '@orgchat/example: package.json has no "license"',
      '@orgchat/example: package.json has no "repository"',
    ]);
    expect(
      manifestNotes(packed({ description: "x", license: "MIT", repository: "github:o/r" })),
    ).toEqual([]);
  });

  it("walks nested conditions", () => {
    const targets = exportTargets({
      ".": {
        "@orgchat/source": { browser: "./src/index.browser.ts", default: "./src/index.ts" },
        types: "./dist/index.d.ts",
      },
    });
    expect(targets.map(({ conditions, target }) => `${conditions.join(">")}=${target}`)).toEqual([
      "@orgchat/source>browser=./src/index.browser.ts",
      "@orgchat/source>default=./src/index.ts",
      "types=./dist/index.d.ts",
    ]);
  });
});

describe("importProblems", () => {
  it("passes declared dependencies, built-ins, shipped relative files and its own name", () => {
    const sources = new Map([
      [
        "dist/index.js",
        'import { a } from "@orgchat/base";\nimport { sha256 } from "@noble/hashes/sha2.js";\nimport { readFile } from "node:fs/promises";\nimport * as c from "crypto";\nexport { b } from "./index.d.ts";\nconst self = await import("@orgchat/example");',
      ],
      [
        "dist/index.d.ts",
        'export type { A } from "./index.js";\nimport type { B } from "@orgchat/base";',
      ],
    ]);
    expect(importProblems(packed(), sources, shipped)).toEqual([]);
  });

  it("finds undeclared packages, devDependencies in .d.ts files and missing chunks", () => {
    const manifest = packed({ devDependencies: { vitest: "5.1.1" } });
    const sources = new Map([
      [
        "dist/index.js",
        'import {\n  x,\n  y,\n} from "immutable";\nimport "./chunk-ABC.js";\nconst t = await import("@libp2p/tcp");',
      ],
      ["dist/index.d.ts", 'import type { TestAPI } from "vitest";'],
    ]);
    expect(importProblems(manifest, sources, shipped)).toEqual([
      expect.stringContaining(
        "dist/index.js imports immutable, but immutable is not in its dependencies",
      ),
      expect.stringContaining(
        "dist/index.js imports ./chunk-ABC.js, which the tarball does not contain",
      ),
      expect.stringContaining("dist/index.js imports @libp2p/tcp, but @libp2p/tcp is not"),
      expect.stringContaining("vitest is not in its dependencies (only a devDependency)"),
    ]);
  });

  it("ignores imports shown in comments", () => {
    const source = [
      "/**",
      " * @example",
      ' * import { createClient } from "@orgchat/client";',
      ' * const store = await import("@orgchat/store-sqlite");',
      'import { memoryStore } from "@orgchat/store";',
      " */",
      'export { x } from "./x.js";',
    ].join("\n");
    expect(importsOf(source)).toEqual(["./x.js"]);
  });

  it("names the package of deep and scoped specifiers", () => {
    expect(packageNameOf("@noble/hashes/sha2.js")).toBe("@noble/hashes");
    expect(packageNameOf("immutable")).toBe("immutable");
    expect(packageNameOf("it-pipe/dist/x.js")).toBe("it-pipe");
  });
});

describe("README install commands", () => {
  it("reads the packages of the first install line, without versions, flags or comments", () => {
    const readme =
      "# x\n\n```sh\npnpm add -D @orgchat/wire@1.0.0 @noble/curves   # for Ed25519\n```\n";
    expect(installedByReadme(readme)).toEqual(["@orgchat/wire", "@noble/curves"]);
    expect(installedByReadme("npm i immutable\n")).toEqual(["immutable"]);
    expect(installedByReadme("no install here")).toBeUndefined();
  });

  it("finds example imports the install command does not add", () => {
    const example =
      'import { a } from "@orgchat/crypto";\nimport { b } from "@orgchat/wire";\nimport { c } from "node:os";';
    expect(exampleInstallProblems("@orgchat/crypto", example, ["@orgchat/crypto"])).toEqual([
      expect.stringContaining(
        "imports @orgchat/wire, which its install command (@orgchat/crypto) does not add",
      ),
    ]);
    expect(exampleInstallProblems("@orgchat/crypto", example, undefined)).toEqual([
      expect.stringContaining("has no install command"),
    ]);
    expect(
      exampleInstallProblems("@orgchat/crypto", example, ["@orgchat/crypto", "@orgchat/wire"]),
    ).toEqual([]);
  });

  const root = join(import.meta.dirname, "..");
  const published = readdirSync(join(root, "packages"))
    .map((name) => join(root, "packages", name))
    .filter((dir) => existsSync(join(dir, "package.json")))
    .filter((dir) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).private !== true);
  for (const dir of published) {
    const name = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name as string;
    it(`${name}: README's install command adds everything its example imports`, () => {
      const readme = readFileSync(join(dir, "README.md"), "utf8");
      const examples = new Map(
        readdirSync(join(dir, "examples"))
          .filter((file) => file.endsWith(".ts"))
          .map((file) => [file, readFileSync(join(dir, "examples", file), "utf8")] as const),
      );
      const file = readmeExample(readme, examples);
      expect(file, `${name}: README.md shows none of examples/*.ts`).toBeDefined();
      const example = examples.get(file ?? "") ?? "";
      expect(exampleInstallProblems(name, example, installedByReadme(readme))).toEqual([]);
    });
  }
});

describe("browserStubs", () => {
  it("accepts built-ins a package maps away for browsers, and nothing else", () => {
    expect(browserStubs({ browser: { crypto: false } }, "crypto")).toBe(true);
    expect(browserStubs({ browser: { crypto: false } }, "node:crypto")).toBe(true);
    expect(browserStubs({ browser: { "node:fs": "./dist/fs.browser.js" } }, "fs")).toBe(true);
    expect(browserStubs({ browser: { crypto: false } }, "fs")).toBe(false);
    expect(browserStubs({ browser: "./dist/browser.js" }, "crypto")).toBe(false);
    expect(browserStubs(undefined, "crypto")).toBe(false);
  });
});

describe("examples", () => {
  it("runs an example on Node unless its header says not to", () => {
    expect(exampleRunsOnNode('import { a } from "@orgchat/base";\n')).toBe(true);
    expect(
      exampleRunsOnNode("// The README's example.\n// Run: tsx examples/readme.ts\nexport {};\n"),
    ).toBe(true);
    expect(
      exampleRunsOnNode(
        "// The README's example.\n// consumers: not run on Node (it needs IndexedDB)\nexport {};\n",
      ),
    ).toBe(false);
    // Only the header counts, not a line further down.
    expect(exampleRunsOnNode("export {};\n// consumers: not run on Node\n")).toBe(true);
  });

  it("lists the third-party packages an example imports", () => {
    const example =
      'import { ed25519 } from "@noble/curves/ed25519.js";\nimport { x } from "@orgchat/wire";\nimport { tmpdir } from "node:os";\nimport { y } from "@noble/curves/utils.js";';
    expect(thirdPartyImports(example)).toEqual(["@noble/curves"]);
  });
});
