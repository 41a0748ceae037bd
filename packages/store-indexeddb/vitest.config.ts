import { existsSync } from "node:fs";
import { playwright } from "@vitest/browser-playwright";
import { mergeConfig } from "vitest/config";
import { orgchatVitestConfig } from "../../vitest.shared.ts";
import { pageCommands } from "./test/pages/commands.ts";

/**
 * The tests run inside a real headless Chromium (Vitest's browser mode through Playwright), never
 * against a fake IndexedDB. Chromium is the machine's own (Debian's `chromium` package): nothing
 * downloads a browser. ORGCHAT_CHROMIUM points at another build.
 */
const chromium = process.env.ORGCHAT_CHROMIUM ?? "/usr/bin/chromium";
if (!existsSync(chromium)) {
  throw new Error(
    `@orgchat/store-indexeddb tests need Chromium at ${chromium}: install it (Debian/Ubuntu: ` +
      "`apt-get install -y chromium`; .ci/run does this in CI) or set ORGCHAT_CHROMIUM to a " +
      "Chromium or Chrome binary. No test downloads a browser.",
  );
}

export default mergeConfig(orgchatVitestConfig(), {
  test: {
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({
        launchOptions: {
          executablePath: chromium,
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
          ],
        },
      }),
      instances: [{ browser: "chromium" }],
      commands: pageCommands,
    },
  },
});
