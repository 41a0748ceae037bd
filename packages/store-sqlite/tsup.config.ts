import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm"],
  target: "es2022",
  dts: true,
  sourcemap: true,
  clean: true,
  tsconfig: "tsconfig.build.json",
  // `node:sqlite` exists only with its prefix: stripping it would import a missing "sqlite" package.
  removeNodeProtocol: false,
});
