import { playwright } from "@vitest/browser-playwright";
import { mergeConfig } from "vitest/config";
import { orgchatVitestConfig } from "../../vitest.shared.ts";
import { chromiumArgs, chromiumPath } from "./test/pages/chromium.ts";
import { pageCommands } from "./test/pages/commands.ts";

/**
 * The tests run inside a real headless Chromium (Vitest's browser mode through Playwright), never
 * against a fake IndexedDB: the machine's own Chromium, and a clear error naming the package to
 * install when it is missing (test/pages/chromium.ts).
 */
export default mergeConfig(orgchatVitestConfig(), {
  // Cross-origin isolated, as a page using SharedArrayBuffer is: the store must take such values.
  server: {
    headers: {
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    },
  },
  test: {
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({
        launchOptions: { executablePath: chromiumPath(), args: chromiumArgs },
      }),
      instances: [{ browser: "chromium" }],
      commands: pageCommands,
    },
  },
});
