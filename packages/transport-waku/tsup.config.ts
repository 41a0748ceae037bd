import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/light-entry.ts", "src/relay.ts", "src/connection-upkeep.ts"],
  format: ["esm"],
  target: "es2022",
  dts: true,
  sourcemap: true,
  clean: true,
  tsconfig: "tsconfig.build.json",
  // Keep `node:` specifiers: `node:sqlite` has no bare alias, and the others are clearer with it.
  removeNodeProtocol: false,
});
