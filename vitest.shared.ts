import { defineConfig } from "vitest/config";

/**
 * The Vitest configuration every package shares: run from source through the `@orgchat/source`
 * export condition (no build step), no retries, and a JSON report when CI asks for one so that
 * `.ci/run` can print one closing "N passed, N failed" line for the whole repository.
 *
 * `isolate: false` runs a worker's test files in one module registry instead of a fresh worker per
 * file (Vitest's default): a file's start-up (~1.5 s on a loaded 2-core machine, the client's 67
 * files ~100 s) is paid once per worker. Only for packages whose tests mock no module, stub no
 * global, and restore any fake timers they use (each such package's whole suite was run both ways).
 */
export function orgchatVitestConfig(options: { isolate?: boolean } = {}) {
  const report = process.env.ORGCHAT_TEST_REPORT;
  return defineConfig({
    resolve: { conditions: ["@orgchat/source"] },
    ssr: { resolve: { conditions: ["@orgchat/source"] } },
    test: {
      include: ["test/**/*.test.ts"],
      retry: 0,
      isolate: options.isolate ?? true,
      // Property tests run thousands of cases; the default 5 s is tight on a busy 2-core CI box.
      testTimeout: 60_000,
      reporters: report ? ["default", ["json", { outputFile: report }]] : ["default"],
    },
  });
}
