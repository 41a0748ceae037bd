/**
 * Which Chromium the browser tests and benchmarks launch (`@orgchat/crypto`,
 * `@orgchat/store-indexeddb`, `apps/web`): the machine's own (Debian's `chromium` package, or
 * `ORGCHAT_CHROMIUM`), headless, with nothing that reaches the network by itself. Never a browser
 * downloaded by Playwright.
 */
import { existsSync } from "node:fs";

/** Flags for a headless Chromium that reaches nothing on the network by itself. */
export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * The path of the Chromium binary to launch.
 * @param who - what needs it, named in the error
 * @throws Error saying what to install when there is none
 */
export function chromiumPath(who: string): string {
  const path = process.env.ORGCHAT_CHROMIUM ?? "/usr/bin/chromium";
  if (!existsSync(path)) {
    throw new Error(
      `${who} runs in Chromium, and there is none at ${path}: install it (Debian/Ubuntu: ` +
        "`apt-get install -y chromium`; .ci/run does this in CI) or set ORGCHAT_CHROMIUM to a " +
        "Chromium or Chrome binary. Nothing downloads a browser.",
    );
  }
  return path;
}

/** Playwright launch options for {@link chromiumPath} with {@link chromiumArgs}. */
export function chromiumLaunchOptions(who: string): { executablePath: string; args: string[] } {
  return { executablePath: chromiumPath(who), args: [...chromiumArgs] };
}
