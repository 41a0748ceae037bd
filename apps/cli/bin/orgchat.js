#!/usr/bin/env node
// Launcher: runs the built command (`dist/main.mjs`, bundled by `scripts/build.ts`) in this process.
// Never TypeScript at run time: when the build is missing it says which command makes it.
import { existsSync } from "node:fs";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `orgchat: needs Node >= 22.12 (this is ${process.versions.node}): run it with the repository's Node, e.g. node_modules/.bin/node apps/cli/bin/orgchat.js\n`,
  );
  process.exit(1);
}
const main = new URL("../dist/main.mjs", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    `orgchat: the command is not built (${main.pathname} is missing): run \`npx -y pnpm@10.34.9 --filter orgchat build\` in the repository\n`,
  );
  process.exit(1);
}
await import(main.href);
