/**
 * The state package reads no clock, draws no randomness and does no I/O (STYLE.md, "Dependency
 * direction"; docs/ARCHITECTURE.md rule 4): time and ENS answers arrive as inputs, so every member
 * reaches the same verdicts. This scans every module under src/, comments excluded.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = resolve(dirname(fileURLToPath(import.meta.url)), "../src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Removes block and line comments (a `//` after `:` is kept, as in URLs inside strings). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
}

const forbidden: [string, RegExp][] = [
  ["Date.now", /\bDate\s*\.\s*now\b/],
  ["new Date", /\bnew\s+Date\b/],
  ["Date()", /(^|[^\w.])Date\s*\(/],
  ["performance", /\bperformance\s*\./],
  ["Math.random", /\bMath\s*\.\s*random\b/],
  ["crypto randomness", /\b(getRandomValues|randomUUID|randomBytes)\b/],
  ["node: import", /["']node:[^"']*["']/],
  ["require", /\brequire\s*\(/],
  ["process", /\bprocess\s*\./],
  ["timers", /\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/],
  ["fetch", /\bfetch\s*\(/],
];

describe("purity", () => {
  const files = sources(src);

  it("finds the sources", () => {
    expect(files.map((f) => relative(src, f))).toContain("reduce.ts");
  });

  it.each(forbidden)("no %s in src/", (_, pattern) => {
    const offenders = files.filter((file) =>
      pattern.test(withoutComments(readFileSync(file, "utf8"))),
    );
    expect(offenders.map((f) => relative(src, f))).toEqual([]);
  });

  it("the scan sees through nothing: it catches a planted call", () => {
    const planted = withoutComments(
      'const t = Date.now(); // fine\n/* Math.random() */ import("node:fs")',
    );
    expect(forbidden.filter(([, pattern]) => pattern.test(planted)).map(([name]) => name)).toEqual([
      "Date.now",
      "node: import",
    ]);
  });
});
