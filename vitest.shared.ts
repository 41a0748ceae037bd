import { defineConfig } from "vitest/config";

/**
 * The Vitest configuration every package shares: run from source through the `@orgchat/source`
 * export condition (no build step), no retries, and a JSON report when CI asks for one so that
 * `.ci/run` can print one closing "N passed, N failed" line for the whole repository.
 */
export function orgchatVitestConfig() {
  const report = process.env.ORGCHAT_TEST_REPORT;
  return defineConfig({
    resolve: { conditions: ["@orgchat/source"] },
    ssr: { resolve: { conditions: ["@orgchat/source"] } },
    test: {
      include: ["test/**/*.test.ts"],
      retry: 0,
      // Property tests run thousands of cases; the default 5 s is tight on a busy 2-core CI box.
      testTimeout: 60_000,
      reporters: report ? ["default", ["json", { outputFile: report }]] : ["default"],
    },
  });
}
