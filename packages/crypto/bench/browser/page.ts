/**
 * The benchmark page's script (bundled by `run.ts` with esbuild): per-primitive figures, then the
 * group message send/receive figures of `bench/messages.ts` through noble and `webCryptoProvider()`,
 * returned to `run.ts` through `window.orgchatBench`.
 */
import { nobleProvider } from "../../src/providers/noble.js";
import { webCryptoProvider } from "../../src/providers/web.js";
import type { Figure } from "../harness.js";
import { benchMessages } from "../messages.js";
import { benchAsyncFloors } from "./async-floor.js";
import { benchPrimitives, type PrimitiveFigure } from "./primitives.js";

/** What the page hands back to `run.ts`. */
export interface PageResult {
  readonly userAgent: string;
  /** Whether the page is cross-origin isolated (finer timer steps). */
  readonly crossOriginIsolated: boolean;
  readonly primitives: PrimitiveFigure[];
  readonly messages: Figure[];
}

// The shared harness reports progress on process.stderr: the page sends it to the console, which
// run.ts forwards to its own stderr.
const toConsole = { write: (text: string) => console.log(text.trimEnd()) };
(globalThis as { process?: unknown }).process = { stderr: toConsole, stdout: toConsole };

async function run(options: { scale: number }): Promise<PageResult> {
  const noble = nobleProvider();
  const web = webCryptoProvider();
  const support = await web.ready;
  if (!support.x25519 || !support.ed25519) {
    console.log(`this browser lacks some Web Crypto key kinds: ${JSON.stringify(support)}`);
  }
  const primitives = await benchPrimitives(noble, options.scale);
  // noble's curve operations dominate a message: the scale run.ts uses for noble on Node too.
  const messages = [
    ...benchMessages(noble, options.scale / 10),
    ...benchMessages(web, options.scale / 10),
    ...(await benchAsyncFloors(noble, web, options.scale)),
  ];
  return {
    userAgent: navigator.userAgent,
    crossOriginIsolated:
      (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    primitives,
    messages,
  };
}

(globalThis as { orgchatBench?: typeof run }).orgchatBench = run;
