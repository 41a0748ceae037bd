import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServiceNode } from "@orgchat/service-node";

const dataDir = mkdtempSync(join(tmpdir(), "orgchat-node-")); // keep a fixed directory in production
const node = await createServiceNode({
  dataDir,
  listen: ["/ip4/127.0.0.1/tcp/0/ws"], // port 0: any free port
  retention: { maxAgeMs: 7 * 24 * 3600 * 1000 },
});
console.log(node.multiaddrs().map(String), node.stats());
await node.stop(); // handlers, timers, sockets and the archive: nothing is left running
rmSync(dataDir, { recursive: true, force: true });
