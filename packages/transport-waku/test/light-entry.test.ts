import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { wakuTransport } from "../src/light-entry.js";

const srcDir = resolve(dirname(fileURLToPath(import.meta.url)), "../src");

/** Every source file `entry` reaches through relative imports, and every package it imports. */
function closure(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(join(srcDir, file), "utf8");
    for (const [, spec] of text.matchAll(/(?:import|export)\s[^;]*?from\s+"([^"]+)"/g)) {
      if (spec === undefined) continue;
      if (spec.startsWith("./")) visit(spec.slice(2).replace(/\.js$/, ".ts"));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files, packages };
}

it("the ./light entry never reaches relay code nor gossipsub", () => {
  const { files, packages } = closure("light-entry.ts");
  expect(files.has("light.ts")).toBe(true);
  for (const relayOnly of [
    "relay.ts",
    "relay-transport.ts",
    "outbound-batching.ts",
    "waku-transport.ts",
  ]) {
    expect(files.has(relayOnly), relayOnly).toBe(false);
  }
  expect([...packages].filter((p) => p.includes("gossipsub"))).toEqual([]);
});

it("the ./light entry's wakuTransport makes light transports only", () => {
  expect(() => wakuTransport({ mode: "relay" } as never)).toThrow(TypeError);
  const transport = wakuTransport({ mode: "light", peers: [] });
  expect(transport.capabilities.history).toBe(true);
});
