import { defineConfig } from "vite";

// Works from the workspace's sources (the `@orgchat/source` export condition, as the tests do) so that
// the page needs no build of the packages first; `browser` picks the browser build of `@orgchat/crypto`.
export default defineConfig({
  resolve: { conditions: ["@orgchat/source", "browser", "module", "import", "default"] },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { target: "es2022", outDir: "dist", sourcemap: false, reportCompressedSize: false },
  preview: { host: "127.0.0.1", strictPort: false },
  server: { host: "127.0.0.1" },
});
