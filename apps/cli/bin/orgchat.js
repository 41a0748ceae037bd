#!/usr/bin/env node
// Launcher: runs the TypeScript sources through tsx with the source condition (the app is not published).
// Signals are passed on, so that Ctrl-C / SIGTERM reach the command and it closes its data directory.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `orgchat: needs Node >= 22.12 (this is ${process.versions.node}): run it with the repository's Node, e.g. node_modules/.bin/node apps/cli/bin/orgchat.js, or pnpm --silent --filter orgchat start …\n`,
  );
  process.exit(1);
}
const here = dirname(fileURLToPath(import.meta.url));
const tsx = createRequire(import.meta.url).resolve("tsx/cli");
const child = spawn(
  process.execPath,
  [tsx, "--conditions=@orgchat/source", join(here, "../src/main.ts"), ...process.argv.slice(2)],
  { stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal);
  });
}
child.on("exit", (code, signal) => {
  process.exit(code ?? (signal === null ? 1 : 128 + 2));
});
