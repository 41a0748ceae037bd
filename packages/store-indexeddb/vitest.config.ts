import { playwright } from "@vitest/browser-playwright";
import { mergeConfig } from "vitest/config";
import { chromiumLaunchOptions } from "../../chromium.shared.ts";
import { orgchatVitestConfig } from "../../vitest.shared.ts";
import { pageCommands } from "./test/pages/commands.ts";

/**
 * The tests run inside a real headless Chromium (Vitest's browser mode through Playwright), never
 * against a fake IndexedDB: the machine's own Chromium, and a clear error naming the package to
 * install when it is missing (chromium.shared.ts at the root).
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
        launchOptions: chromiumLaunchOptions("@orgchat/store-indexeddb's tests"),
      }),
      instances: [{ browser: "chromium" }],
      commands: pageCommands,
    },
  },
});
