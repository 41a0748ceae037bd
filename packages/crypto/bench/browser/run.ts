/**
 * `pnpm --filter @orgchat/crypto bench:browser [-- --json] [-- --quick]`
 *
 * Crypto in headless Chromium next to Node, in one run:
 * 1. per primitive: noble (synchronous) against Web Crypto, awaited per call and 16 calls in flight,
 *    and what `webCryptoProvider()` uses for each;
 * 2. per message: send and receive of one 256-byte group message (`bench/messages.ts`, each with
 *    its floor) in Chromium through `nobleProvider()` and `webCryptoProvider()`, next to the same on
 *    Node through `nodeProvider()` and `nobleProvider()`, with the Chromium / Node ratios.
 *
 * The page is bundled with esbuild and served from 127.0.0.1 (a secure context, which Web Crypto
 * needs); Chromium is the machine's (`/usr/bin/chromium`, or `ORGCHAT_CHROMIUM`), never a download, and
 * nothing leaves the loopback. `--quick` is a smoke profile: numbers are not meaningful.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium } from "playwright";
import { chromiumLaunchOptions } from "../../../../chromium.shared.ts";
import { nobleProvider } from "../../src/providers/noble.js";
import { nodeProvider } from "../../src/providers/node.js";
import { type Figure, round } from "../harness.js";
import { benchMessages } from "../messages.js";
import type { PageResult } from "./page.js";
import { inFlight } from "./primitives.js";

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");
const scale = quick ? 0.05 : 1;
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

const bundle = await build({
  entryPoints: [here("./page.ts")],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  conditions: ["@orgchat/source", "browser"],
  // The harness's timer: the page's own performance.now().
  alias: { "node:perf_hooks": here("./perf-hooks.ts") },
  write: false,
  logLevel: "warning",
});
const script = bundle.outputFiles[0]?.text ?? "";

// Cross-origin isolation: Chromium then gives performance.now() 5 µs steps instead of 100 µs.
const isolated = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
};
const server = createServer((request, response) => {
  if (request.url === "/page.js") {
    response.writeHead(200, { "content-type": "text/javascript", ...isolated });
    response.end(script);
  } else {
    response.writeHead(200, { "content-type": "text/html", ...isolated });
    response.end(
      '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>',
    );
  }
});
await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
const { port } = server.address() as AddressInfo;

const browser = await chromium.launch(
  chromiumLaunchOptions("the @orgchat/crypto browser benchmark"),
);
let chromiumResult: PageResult;
try {
  const page = await browser.newPage();
  page.on("console", (message) => process.stderr.write(`… ${message.text()}\n`));
  page.on("pageerror", (error) => process.stderr.write(`page error: ${error.message}\n`));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => "orgchatBench" in globalThis);
  chromiumResult = await page.evaluate(
    (options) =>
      (
        globalThis as unknown as {
          orgchatBench: (options: { scale: number }) => Promise<PageResult>;
        }
      ).orgchatBench(options),
    { scale },
  );
} finally {
  await browser.close();
  server.close();
}

// Node, back to back with the browser run, with the same scales.
const nodeFigures = [
  ...benchMessages(nodeProvider(), scale),
  ...benchMessages(nobleProvider(), scale / 10),
];

/** One per-message row: a figure in Chromium next to Node's, and their ratio. */
interface MessageRow {
  readonly figure: string;
  readonly chromiumProvider: string;
  readonly chromiumMicroseconds: number;
  readonly chromiumFloorMicroseconds: number | undefined;
  readonly nodeProvider: string;
  readonly nodeMicroseconds: number;
  readonly chromiumOverNode: number;
}

const timed = (figures: readonly Figure[]) => figures.filter((f) => f.unit === "µs");
const find = (figures: readonly Figure[], name: string, provider: string) =>
  figures.find((f) => f.name === name && f.provider === provider);
const rows: MessageRow[] = [];
for (const figure of timed(chromiumResult.messages)) {
  for (const nodeSide of ["node", "noble"]) {
    const onNode = find(nodeFigures, figure.name, nodeSide);
    if (onNode === undefined) continue;
    rows.push({
      figure: figure.name,
      chromiumProvider: figure.provider,
      chromiumMicroseconds: figure.value,
      chromiumFloorMicroseconds: figure.floor,
      nodeProvider: nodeSide,
      nodeMicroseconds: onNode.value,
      chromiumOverNode: round(figure.value / onNode.value),
    });
  }
}

const title = "@orgchat/crypto in Chromium next to Node";
if (json) {
  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: title,
        quick,
        userAgent: chromiumResult.userAgent,
        crossOriginIsolated: chromiumResult.crossOriginIsolated,
        inFlight,
        primitives: chromiumResult.primitives,
        messages: rows,
        chromiumFigures: chromiumResult.messages,
        nodeFigures,
      },
      null,
      2,
    )}\n`,
  );
} else {
  const table = (header: string[], body: string[][]) => {
    const widths = header.map((h, i) =>
      Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)),
    );
    const line = (cells: string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd();
    return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
  };
  const us = (value: number | undefined) =>
    value === undefined || Number.isNaN(value) ? "" : `${value} µs`;
  process.stdout.write(`\n${title}${quick ? " (quick: numbers not meaningful)" : ""}\n`);
  const isolation = chromiumResult.crossOriginIsolated ? "cross-origin isolated" : "not isolated";
  process.stdout.write(`${chromiumResult.userAgent} (${isolation})\n\nPer primitive in Chromium\n`);
  process.stdout.write(
    `${table(
      [
        "primitive",
        "noble",
        "webcrypto awaited",
        `webcrypto ${inFlight} in flight`,
        "faster",
        "webCryptoProvider() uses",
      ],
      chromiumResult.primitives.map((p) => [
        p.primitive,
        us(p.nobleMicroseconds),
        us(p.webCryptoAwaitedMicroseconds),
        us(p.webCryptoInFlightMicroseconds),
        p.faster,
        p.webCryptoProviderUses,
      ]),
    )}\n\nPer message (256 B content), Chromium next to Node\n`,
  );
  process.stdout.write(
    `${table(
      [
        "figure",
        "chromium provider",
        "chromium",
        "chromium floor",
        "node provider",
        "node",
        "chromium / node",
      ],
      rows.map((r) => [
        r.figure,
        r.chromiumProvider,
        us(r.chromiumMicroseconds),
        us(r.chromiumFloorMicroseconds),
        r.nodeProvider,
        us(r.nodeMicroseconds),
        `${r.chromiumOverNode}×`,
      ]),
    )}\n`,
  );
}
