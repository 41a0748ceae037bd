/**
 * `pnpm --filter @orgchat/store-indexeddb bench [-- --json] [-- --quick]`
 *
 * What a browser client pays to persist, in headless Chromium on this machine: a send's commit (one
 * batch: chain state put, outbox append, previous outbox delete), the same durable, appends 100 per
 * batch and 1 per batch, a record read, the newest and oldest 50 entries of a log, a 1 MiB put —
 * each on the IndexedDB store and on the memory store in the same page, the in-page floor (what the
 * contract costs with no storage at all), back to back.
 *
 * How: esbuild bundles bench/page.ts, a server on 127.0.0.1 serves it (cross-origin isolated, so
 * that `performance.now()` has 5 µs resolution rather than 100 µs), and Playwright drives the
 * machine's Chromium (never a downloaded one). `--json` prints one JSON object; `--quick` runs a
 * small profile (CI smoke run: the numbers mean nothing). Benchmarks assert nothing about time.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium } from "playwright";
import { chromiumArgs, chromiumPath } from "../../../chromium.shared.ts";
import type { Figure } from "./page.ts";

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");
const progress = (message: string) => process.stderr.write(`… ${message}\n`);

const executablePath = chromiumPath("the @orgchat/store-indexeddb benchmark");
progress("bundling bench/page.ts");
const bundle = await build({
  entryPoints: [fileURLToPath(new URL("./page.ts", import.meta.url))],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  conditions: ["@orgchat/source"],
  write: false,
  logLevel: "error",
});
const script = bundle.outputFiles[0]?.text ?? "";

const server = createServer((request, response) => {
  const isolation = {
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-embedder-policy": "require-corp",
  };
  if (request.url === "/page.js") {
    response.writeHead(200, { "content-type": "text/javascript", ...isolation });
    response.end(script);
  } else {
    response.writeHead(200, { "content-type": "text/html", ...isolation });
    response.end(
      '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>',
    );
  }
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address() as AddressInfo;

const browser = await chromium.launch({ executablePath, args: chromiumArgs });
let figures: Figure[];
let version: string;
try {
  version = browser.version();
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => "runBench" in globalThis);
  progress(`running in Chromium ${version}${quick ? " (quick profile)" : ""}`);
  figures = await page.evaluate(
    (init) =>
      (
        globalThis as unknown as {
          runBench: (init: { quick: boolean }) => Promise<Figure[]>;
        }
      ).runBench(init),
    { quick },
  );
} finally {
  await browser.close();
  server.close();
}

const measures =
  "each figure on the IndexedDB store and on the memory store (the in-page floor), in one headless " +
  "Chromium page, back to back; µs figures are p50 (p95 beside), rates are totals over the run";

if (json) {
  process.stdout.write(
    `${JSON.stringify({ benchmark: "@orgchat/store-indexeddb", quick, chromium: version, measures, figures })}\n`,
  );
} else {
  process.stdout.write(
    `\n@orgchat/store-indexeddb in Chromium ${version}${quick ? " (quick profile: numbers mean nothing)" : ""}\n${measures}\n\n`,
  );
  // One block per figure, the stores side by side: the floor reads next to what it bounds.
  for (const name of new Set(figures.map((f) => f.name))) {
    const same = figures.filter((f) => f.name === name);
    process.stdout.write(`${name}${same[0]?.note ? ` (${same[0].note})` : ""}\n`);
    for (const f of same) {
      const p95 = f.p95 === undefined ? "" : `, p95 ${f.p95.toLocaleString("en-US")} ${f.unit}`;
      process.stdout.write(
        `  ${f.store.padEnd(16)}${f.value.toLocaleString("en-US")} ${f.unit}${p95}\n`,
      );
    }
  }
}
