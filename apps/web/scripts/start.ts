/**
 * Starts a service node (`orgchat serve`, from the workspace's sources) and the built page, and prints
 * the URL to open: `http://127.0.0.1:PORT/?peer=<the node's ws multiaddr>`.
 *
 *   node scripts/start.ts [--port 4173] [--node-port 60000] [--data DIR]
 *
 * The node keeps its messages in `--data` (a fresh temporary directory when left out, deleted on
 * exit). Ctrl-C stops both. Everything listens on 127.0.0.1 only.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "vite";
import { serveStatic } from "./static-server.ts";

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  // `pnpm start -- --port 8080` passes the "--" on.
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    port: { type: "string", default: "4173" },
    "node-port": { type: "string", default: "60000" },
    data: { type: "string" },
  },
});
const port = Number(values.port);
const nodePort = Number(values["node-port"]);
if (
  !Number.isInteger(port) ||
  port < 0 ||
  port > 65535 ||
  !Number.isInteger(nodePort) ||
  nodePort < 0 ||
  nodePort > 65535
) {
  process.stderr.write(
    "start: --port and --node-port take a TCP port (0-65535; 0 = any free one)\n",
  );
  process.exit(2);
}
const temporary =
  values.data === undefined ? mkdtempSync(join(tmpdir(), "orgchat-web-node-")) : undefined;
const dataDir = values.data ?? (temporary as string);

process.stdout.write("building the page…\n");
const outDir = join(appDir, "dist");
await build({ root: appDir, logLevel: "warn", build: { outDir, emptyOutDir: true } });

// The CLI of this workspace (apps/cli), from source: no build of it needed.
const cliMain = resolve(appDir, "../cli/src/main.ts");
const node = spawn(
  process.execPath,
  [
    "--import",
    "tsx",
    "--conditions=@orgchat/source",
    cliMain,
    "serve",
    "--json",
    "--data",
    dataDir,
    "--listen",
    `/ip4/127.0.0.1/tcp/${nodePort}/ws`,
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
let firstLine = "";
const peer = await new Promise<string>((done, fail) => {
  process.once("exit", () => node.kill("SIGTERM"));
  node.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    if (firstLine.includes("\n")) return;
    firstLine += chunk;
    const end = firstLine.indexOf("\n");
    if (end < 0) return;
    try {
      const info = JSON.parse(firstLine.slice(0, end)) as { multiaddrs?: unknown };
      const address = Array.isArray(info.multiaddrs)
        ? info.multiaddrs.find((a): a is string => typeof a === "string" && a.includes("/ws/"))
        : undefined;
      if (address === undefined)
        fail(new Error(`orgchat serve printed no ws address: ${firstLine}`));
      else done(address);
    } catch (error) {
      fail(error);
    }
  });
  node.once("exit", (code) =>
    fail(new Error(`orgchat serve exited (${code}) before printing its address`)),
  );
});
const site = await serveStatic(outDir, port).catch((error: unknown) => {
  node.kill("SIGTERM");
  throw error;
});
process.stdout.write(
  `service node: ${peer}\nopen: ${site.url}?peer=${encodeURIComponent(peer)}\n(Ctrl-C stops the page and the node)\n`,
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  node.kill("SIGTERM");
  await site.close();
  if (temporary !== undefined) rmSync(temporary, { recursive: true, force: true });
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
node.once("exit", (code) => {
  if (stopping) return;
  process.stderr.write(`orgchat serve exited (${code}); stopping\n`);
  void stop();
});
