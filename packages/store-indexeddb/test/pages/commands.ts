// Browser commands (they run in Node, next to Vitest): open more pages in the test's browser context
// — the same origin and storage as the test, like a second tab — reload them, close them, and call
// the store driver (driver.ts) inside them.
import { fileURLToPath } from "node:url";
import type { BrowserCommand } from "vitest/node";
import type { Driver, DriverResult } from "./driver.ts";

type Page = Awaited<ReturnType<BrowserCommandContextOf["context"]["newPage"]>>;
type BrowserCommandContextOf = Parameters<BrowserCommand<[]>>[0];

const driverPath = fileURLToPath(new URL("./driver.ts", import.meta.url));
const pages = new Map<string, Page>();
let next = 0;

async function loadDriver(page: Page, origin: string): Promise<void> {
  // Any same-origin document will do: the driver module is served (and compiled) by Vitest's server.
  await page.goto(`${origin}/@fs${driverPath.replace(/\.ts$/, ".html")}`);
  await page.addScriptTag({ type: "module", url: `/@fs${driverPath}` });
  await page.waitForFunction(() => "orgchatDriver" in globalThis);
}

function pageOf(id: string): Page {
  const page = pages.get(id);
  if (page === undefined) throw new Error(`no page ${id}`);
  return page;
}

/** Opens a page in the test's browser context (a second tab of the same profile). */
export const openPage: BrowserCommand<[]> = async (context) => {
  const page = await context.context.newPage();
  await loadDriver(page, new URL(context.page.url()).origin);
  const id = `page-${++next}`;
  pages.set(id, page);
  return id;
};

/** Reloads a page (what its store had not closed is dropped as by a closed tab) and its driver. */
export const reloadPage: BrowserCommand<[id: string]> = async (context, id) => {
  const page = pageOf(id);
  await loadDriver(page, new URL(context.page.url()).origin);
};

/** Closes a page without closing its store, as a user closes a tab. */
export const closePage: BrowserCommand<[id: string]> = async (_context, id) => {
  await pageOf(id).close();
  pages.delete(id);
};

/** Calls the driver in a page. */
export const callPage: BrowserCommand<
  [id: string, method: keyof Driver, ...args: unknown[]]
> = async (_context, id, method, ...args) =>
  pageOf(id).evaluate(
    ([name, values]) =>
      (
        (globalThis as unknown as { orgchatDriver: Record<string, (...a: unknown[]) => unknown> })
          .orgchatDriver[name] as (...a: unknown[]) => Promise<DriverResult>
      )(...values),
    [method, args] as const,
  );

/** The commands, as the config registers them and the tests see them. */
export const pageCommands = { openPage, reloadPage, closePage, callPage };

declare module "vitest/browser" {
  interface BrowserCommands {
    openPage(): Promise<string>;
    reloadPage(id: string): Promise<void>;
    closePage(id: string): Promise<void>;
    callPage(id: string, method: keyof Driver, ...args: unknown[]): Promise<DriverResult>;
  }
}
