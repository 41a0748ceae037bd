import { defineConfig } from "tsup";

export default defineConfig({
  // Two entries: the Node build defaults to the node:crypto provider, the browser build (picked by
  // the "browser" export condition) to noble and never imports node:crypto.
  entry: ["src/index.ts", "src/index.browser.ts"],
  format: ["esm"],
  target: "es2022",
  dts: true,
  sourcemap: true,
  clean: true,
  tsconfig: "tsconfig.build.json",
  external: ["@orgchat/wire"],
});
