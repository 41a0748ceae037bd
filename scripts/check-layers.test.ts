import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkLayers } from "./check-layers.mjs";

const roots: string[] = [];

function repo(files: Record<string, string | object>): string {
  const root = mkdtempSync(join(tmpdir(), "layers-"));
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(
      join(root, path),
      typeof content === "string" ? content : JSON.stringify(content),
    );
  }
  return root;
}

function pkg(name: string, deps: Record<string, string> = {}, exportsField?: object) {
  return { name, dependencies: deps, exports: exportsField ?? { ".": "./src/index.ts" } };
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe("check-layers", () => {
  it("passes a repository that follows the rules", () => {
    const root = repo({
      "packages/wire/package.json": pkg("@orgchat/wire"),
      "packages/wire/src/index.ts": 'export const x = 1;\nimport "./other.js";',
      "packages/crypto/package.json": pkg("@orgchat/crypto", { "@orgchat/wire": "workspace:*" }),
      "packages/crypto/src/index.ts": 'import { x } from "@orgchat/wire";\nexport { x };',
      "apps/cli/package.json": pkg("@orgchat/cli", { "@orgchat/crypto": "workspace:*" }),
      "apps/cli/main.ts": 'import "@orgchat/crypto";',
    });
    expect(checkLayers(root)).toEqual([]);
  });

  it("fails when a package imports a layer above it", () => {
    const root = repo({
      "packages/wire/package.json": pkg("@orgchat/wire", { "@orgchat/crypto": "workspace:*" }),
      "packages/wire/src/index.ts": 'import { y } from "@orgchat/crypto";',
      "packages/crypto/package.json": pkg("@orgchat/crypto"),
      "packages/crypto/src/index.ts": "export const y = 1;",
    });
    const violations = checkLayers(root);
    expect(violations.some((v: string) => v.includes("may not import @orgchat/crypto"))).toBe(true);
    expect(violations.some((v: string) => v.includes("may not depend on @orgchat/crypto"))).toBe(
      true,
    );
  });

  it("fails when a transport imports state", () => {
    const root = repo({
      "packages/state/package.json": pkg("@orgchat/state"),
      "packages/transport-waku/package.json": pkg("@orgchat/transport-waku", {
        "@orgchat/state": "workspace:*",
      }),
      "packages/transport-waku/src/index.ts": 'export { s } from "@orgchat/state";',
    });
    expect(checkLayers(root).join("\n")).toMatch(
      /transport-waku \(transport\) may not import @orgchat\/state/,
    );
  });

  it("fails on a deep import into another package's internals", () => {
    const root = repo({
      "packages/wire/package.json": pkg("@orgchat/wire"),
      "packages/crypto/package.json": pkg("@orgchat/crypto", { "@orgchat/wire": "workspace:*" }),
      "packages/crypto/src/index.ts": 'import { z } from "@orgchat/wire/src/codec.js";',
    });
    expect(checkLayers(root).join("\n")).toMatch(/not in @orgchat\/wire's "exports"/);
  });

  it("fails on a relative import that leaves the package", () => {
    const root = repo({
      "packages/wire/package.json": pkg("@orgchat/wire"),
      "packages/crypto/package.json": pkg("@orgchat/crypto"),
      "packages/crypto/test/a.test.ts": 'import { z } from "../../wire/src/codec.js";',
    });
    expect(checkLayers(root).join("\n")).toMatch(/leaves package @orgchat\/crypto/);
  });

  it("fails on an undeclared workspace dependency and an unclassified package", () => {
    const root = repo({
      "packages/wire/package.json": pkg("@orgchat/wire"),
      "packages/crypto/package.json": pkg("@orgchat/crypto"),
      "packages/crypto/src/index.ts": 'const m = await import("@orgchat/wire");',
      "packages/mystery/package.json": pkg("@orgchat/mystery"),
    });
    const text = checkLayers(root).join("\n");
    expect(text).toMatch(/does not declare it/);
    expect(text).toMatch(/@orgchat\/mystery has no layer/);
  });

  it("ignores imports inside comments", () => {
    const root = repo({
      "packages/wire/package.json": pkg("@orgchat/wire"),
      "packages/crypto/package.json": pkg("@orgchat/crypto"),
      "packages/wire/src/index.ts":
        '// import "@orgchat/crypto";\n/* import "@orgchat/crypto"; */\nexport {};',
    });
    expect(checkLayers(root)).toEqual([]);
  });
});
