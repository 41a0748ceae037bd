import { fileURLToPath } from "node:url";
import { playwright } from "@vitest/browser-playwright";
import { configDefaults, defineConfig } from "vitest/config";
import { chromiumLaunchOptions } from "../../chromium.shared.ts";
import { orgchatVitestConfig } from "../../vitest.shared.ts";

const shared = orgchatVitestConfig();
// Each project names its own files (a project's `include` would otherwise add to the root's).
const { include: nodeTests = ["test/**/*.test.ts"], ...rootTest } = shared.test ?? {};

/**
 * Two projects in one run (one JSON report for CI): the Node tests, and test/browser/** inside the
 * machine's headless Chromium (Debian's /usr/bin/chromium through playwright; no browser is ever
 * downloaded, no page reaches the network). `ORGCHAT_CHROMIUM` points at another Chromium.
 */
export default defineConfig({
  ...shared,
  test: {
    ...rootTest,
    projects: [
      {
        extends: true,
        test: {
          name: "node",
          include: nodeTests,
          exclude: [...configDefaults.exclude, "test/browser/**"],
        },
      },
      {
        resolve: { conditions: ["@orgchat/source", "browser", "module", "development|production"] },
        test: {
          name: "chromium",
          provide: {
            wycheproofDirectory: fileURLToPath(
              new URL("../../vectors/wycheproof/", import.meta.url),
            ),
          },
          include: ["test/browser/**/*.test.ts"],
          retry: 0,
          testTimeout: 60_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: chromiumLaunchOptions("@orgchat/crypto's browser tests"),
            }),
            instances: [{ browser: "chromium" }],
          },
        },
      },
    ],
  },
});
