import { defineConfig } from "vitest/config";

// Tests of the repository's own tooling (layer check, generated-code check).
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ["*.test.ts"],
    retry: 0,
    reporters: process.env.ORGCHAT_TEST_REPORT
      ? ["default", ["json", { outputFile: process.env.ORGCHAT_TEST_REPORT }]]
      : ["default"],
  },
});
