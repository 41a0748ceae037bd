import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as browser from "../src/index.browser.js";
import * as node from "../src/index.js";

const src = resolve(dirname(fileURLToPath(import.meta.url)), "../src");

/** Every relative module reachable from `entry`, following static imports and re-exports. */
function moduleGraph(entry: string): { files: Set<string>; bare: Set<string> } {
  const files = new Set<string>();
  const bare = new Set<string>();
  const pending = [resolve(src, entry)];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/(?:import|export)[^"';]*?from\s+["']([^"']+)["']/g)) {
      const specifier = match[1] as string;
      if (specifier.startsWith(".")) {
        pending.push(resolve(dirname(file), specifier.replace(/\.js$/, ".ts")));
      } else {
        bare.add(specifier);
      }
    }
  }
  return { files, bare };
}

describe("public surface", () => {
  it("the Node entry exports exactly this (a change here needs a changeset)", () => {
    expect(Object.keys(node).sort()).toMatchSnapshot();
  });

  it("the browser entry exports the same minus nodeProvider, plus webCryptoProvider", () => {
    const expected = [
      ...Object.keys(node).filter((name) => name !== "nodeProvider"),
      "webCryptoProvider",
    ].sort();
    expect(Object.keys(browser).sort()).toEqual(expected);
  });

  it("the browser entry never reaches a node: module or the node provider", () => {
    const { files, bare } = moduleGraph("index.browser.ts");
    expect([...bare].filter((specifier) => specifier.startsWith("node:"))).toEqual([]);
    expect([...files].some((file) => file.endsWith("providers/node.ts"))).toBe(false);
  });

  it("defaultProvider() is node:crypto under Node and webcrypto in the browser build", () => {
    expect(node.defaultProvider().name).toBe("node");
    expect(browser.defaultProvider().name).toBe("webcrypto");
    expect(browser.defaultProvider()).toBe(browser.defaultProvider());
    expect(node.defaultProvider()).toBe(node.defaultProvider());
  });
});
