import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/**
 * js-waku's packages (`@waku/*`) do not declare `"sideEffects": false`, so a bundler keeps every module
 * they re-export, used or not: `@waku/sdk`'s index re-exports its reliable channel (`@waku/sds`, which
 * imports all of lodash, 38 KB gzipped) and discovery (`@waku/discovery`, ENR, secp256k1, keccak).
 * Their modules only define classes and functions, so the page treats them as free of side effects
 * and lets tree-shaking drop what light mode never calls (scripts/bundle-size.ts prints the result).
 */
const sideEffectFree = /\/node_modules\/@waku\//;

/** `@waku/discovery` is imported but never called with discovery off: see src/shims/waku-discovery.ts. */
const discoveryShim = fileURLToPath(new URL("./src/shims/waku-discovery.ts", import.meta.url));

// Works from the workspace's sources (the `@orgchat/source` export condition, as the tests do) so that
// the page needs no build of the packages first; `browser` picks the browser build of `@orgchat/crypto`.
export default defineConfig({
  resolve: {
    conditions: ["@orgchat/source", "browser", "module", "import", "default"],
    alias: [{ find: /^@waku\/discovery$/, replacement: discoveryShim }],
  },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    target: "es2022",
    outDir: "dist",
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      treeshake: { moduleSideEffects: (id: string) => !sideEffectFree.test(id) },
    },
  },
  preview: { host: "127.0.0.1", strictPort: false },
  server: { host: "127.0.0.1" },
});
