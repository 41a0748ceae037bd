/**
 * The page's bundle budget (issue #16 item 5): builds the page with Vite and prints the initial
 * JavaScript's gzipped size and the size per dependency (minified, and gzipped on its own), failing
 * when the initial JavaScript is over the budget.
 *
 *   node scripts/bundle-size.ts          a table
 *   node scripts/bundle-size.ts --json   one JSON object
 *
 * "Initial" is every JS chunk the page's HTML loads (entry chunks and their static imports), not the
 * chunks loaded later by `import()` (the network stack, loaded when the page connects): both are
 * printed, and the table covers every chunk. A dependency's gzipped size is its modules' rendered code
 * compressed alone: the parts add up to more than the whole (gzip shares a dictionary across them).
 */

import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Rollup } from "vite";

/** The budget: initial JavaScript, gzipped, in bytes (300 KB). */
export const budgetBytes = 300 * 1024;

/**
 * Packages light mode never needs, cut from the page (issue #16): the relay's gossipsub (the page
 * imports `@orgchat/transport-waku/light`), and what `@waku/sdk` re-exports but the page never calls
 * (the reliable channel with all of lodash, peer discovery: vite.config.ts). One of them back in any
 * chunk fails the check.
 */
export const forbiddenDependencies = [
  "@chainsafe/libp2p-gossipsub",
  "lodash",
  "@waku/sds",
  "@waku/discovery",
  "@waku/enr",
] as const;

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Which dependency a module id belongs to: its npm package, or the workspace package's directory. */
export function dependencyOf(id: string): string {
  const clean = id.replace(/^\0/, "").split("?")[0] ?? id;
  const nm = clean.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = clean.slice(nm + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? clean);
  }
  const pkg = /\/(packages|apps)\/([^/]+)\//.exec(clean);
  if (pkg !== null) return pkg[1] === "packages" ? `@orgchat/${pkg[2]}` : `apps/${pkg[2]}`;
  return "(other)";
}

interface Row {
  readonly dependency: string;
  readonly minifiedBytes: number;
  readonly gzipBytes: number;
}

const json = process.argv.includes("--json");
const output = (await build({
  root: appDir,
  logLevel: "silent",
  build: { write: false },
})) as Rollup.RollupOutput | Rollup.RollupOutput[];
const chunks = (Array.isArray(output) ? output.flatMap((o) => o.output) : output.output).filter(
  (o): o is Rollup.OutputChunk => o.type === "chunk",
);
const byName = new Map(chunks.map((c) => [c.fileName, c]));
const initial = new Set<string>();
const visit = (name: string) => {
  if (initial.has(name)) return;
  initial.add(name);
  for (const imported of byName.get(name)?.imports ?? []) visit(imported);
};
for (const chunk of chunks) if (chunk.isEntry) visit(chunk.fileName);
let initialMinified = 0;
let initialGzip = 0;
let lazyGzip = 0;
const code = new Map<string, string[]>();
for (const chunk of chunks) {
  const gz = gzipSync(chunk.code, { level: 9 }).length;
  if (initial.has(chunk.fileName)) {
    initialMinified += Buffer.byteLength(chunk.code);
    initialGzip += gz;
  } else {
    lazyGzip += gz;
  }
  for (const [id, module] of Object.entries(chunk.modules)) {
    const dep = dependencyOf(id);
    const list = code.get(dep) ?? [];
    list.push(module.code ?? "");
    code.set(dep, list);
  }
}
const rows: Row[] = [...code]
  .map(([dependency, parts]) => {
    const text = parts.join("\n");
    return {
      dependency,
      minifiedBytes: Buffer.byteLength(text),
      gzipBytes: gzipSync(text, { level: 9 }).length,
    };
  })
  .sort((a, b) => b.gzipBytes - a.gzipBytes);
const over = initialGzip > budgetBytes;
const report = {
  budgetBytes,
  initialGzipBytes: initialGzip,
  initialMinifiedBytes: initialMinified,
  lazyGzipBytes: lazyGzip,
  totalGzipBytes: initialGzip + lazyGzip,
  withinBudget: !over,
  forbiddenFound: rows
    .filter((row) => (forbiddenDependencies as readonly string[]).includes(row.dependency))
    .map((row) => row.dependency),
  dependencies: rows,
};
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
if (json) {
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  process.stdout.write(
    `initial JavaScript: ${kb(initialGzip)} gzipped (${kb(initialMinified)} minified), budget ${kb(budgetBytes)}; loaded on connect ${kb(lazyGzip)} gzipped; all JavaScript ${kb(initialGzip + lazyGzip)} gzipped\n`,
  );
  process.stdout.write(
    `${"dependency".padEnd(34)} ${"minified".padStart(10)} ${"gzip alone".padStart(10)}\n`,
  );
  for (const row of rows) {
    process.stdout.write(
      `${row.dependency.padEnd(34)} ${kb(row.minifiedBytes).padStart(10)} ${kb(row.gzipBytes).padStart(10)}\n`,
    );
  }
}
const back = rows.filter((row) =>
  (forbiddenDependencies as readonly string[]).includes(row.dependency),
);
if (back.length > 0) {
  process.stderr.write(
    `bundle-size: ${back.map((row) => `${row.dependency} (${kb(row.gzipBytes)} gzipped)`).join(", ")} is in the page again, although light mode never uses it: find the import that brings it (the table's other rows, the import of @orgchat/transport-waku/light) and cut it\n`,
  );
  process.exitCode = 1;
}
if (over) {
  process.stderr.write(
    `bundle-size: the page's initial JavaScript is ${kb(initialGzip)} gzipped, over the ${kb(budgetBytes)} budget: see the table for what grew\n`,
  );
  process.exitCode = 1;
}
