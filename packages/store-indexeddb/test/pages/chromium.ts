// Which Chromium the tests and the benchmark launch: the machine's own (Debian's `chromium`
// package), never a browser downloaded by Playwright. ORGCHAT_CHROMIUM points at another build.
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
 * @throws Error saying what to install when there is none
 */
export function chromiumPath(): string {
  const path = process.env.ORGCHAT_CHROMIUM ?? "/usr/bin/chromium";
  if (!existsSync(path)) {
    throw new Error(
      `@orgchat/store-indexeddb runs its tests and benchmark in Chromium, and there is none at ${path}: ` +
        "install it (Debian/Ubuntu: `apt-get install -y chromium`; .ci/run does this in CI) or set " +
        "ORGCHAT_CHROMIUM to a Chromium or Chrome binary. Nothing downloads a browser.",
    );
  }
  return path;
}
