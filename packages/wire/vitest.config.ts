import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@orgchat/source"] },
  ssr: { resolve: { conditions: ["@orgchat/source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    // Property tests run many cases; the default 5 s is too tight on a busy 2-core CI box.
    testTimeout: 60_000,
  },
});
