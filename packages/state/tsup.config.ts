import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    "wire/index": "src/wire/index.ts",
    "description/index": "src/description/index.ts",
  },
  format: ["esm"],
  target: "es2022",
  dts: true,
  sourcemap: true,
  clean: true,
  tsconfig: "tsconfig.build.json",
});
