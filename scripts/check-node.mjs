#!/usr/bin/env node
// Every script must run on the repository's own Node 22 (the `node` dev dependency), whatever Node the
// machine has: @waku/* needs >= 22. pnpm puts node_modules/.bin/node first on PATH for scripts, so
// landing here on an older Node means the install did not run the `node` package's install script.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `check-node: scripts run on Node ${process.versions.node}, but orgchat needs >= 22.12.\n` +
      "Run the install through pnpm (`npx -y pnpm@10.34.9 install`) so that the repository's own Node 22\n" +
      "(devDependency `node`, allowed by pnpm.onlyBuiltDependencies) is installed, then run scripts with pnpm.\n",
  );
  process.exit(1);
}
process.stdout.write(`check-node: Node ${process.versions.node}\n`);
