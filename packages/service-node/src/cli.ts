/**
 * `orgchat-node`: runs a service node until SIGINT or SIGTERM, printing its multiaddrs.
 * Exit codes: 0 after a clean shutdown (or --help), 1 when the node cannot start, 2 for a bad
 * command line. Every error is one line on stderr that says what to do.
 */
import { readFileSync } from "node:fs";
import { cliUsage, formatDiagnostic, isUsageError, parseCliArgs } from "./cli-options.js";

// Node 22 announces `node:sqlite` (the archive) as experimental on stderr; that line would read as a
// problem to an operator. Other warnings still print.
const printWarning = process.listeners("warning");
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.name === "ExperimentalWarning" && /SQLite/i.test(warning.message)) return;
  for (const listener of printWarning) listener(warning);
});

/**
 * How long a shutdown may take before the process exits anyway (exit code 1). `stop()` bounds every
 * stream by its deadline and aborts them, so this is a last resort against a hang in a library:
 * an init system's single SIGTERM must always end the process.
 */
const shutdownDeadlineMs = 30_000;

function fail(message: string, code: number): void {
  process.stderr.write(`orgchat-node: ${message.replace(/\s*\n\s*/g, " ")}\n`);
  process.exitCode = code;
}

async function main(argv: readonly string[]): Promise<void> {
  let command: ReturnType<typeof parseCliArgs>;
  try {
    command = parseCliArgs(argv);
  } catch (error) {
    if (isUsageError(error)) {
      fail(error.message, 2);
      return;
    }
    throw error;
  }
  if (command.kind === "help") {
    process.stdout.write(`${cliUsage}\n`);
    return;
  }
  if (command.kind === "version") {
    const manifest = JSON.parse(
      readFileSync(new URL("../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    process.stdout.write(`${manifest.version}\n`);
    return;
  }
  const { createServiceNode } = await import("./node.js");
  let node: Awaited<ReturnType<typeof createServiceNode>>;
  try {
    node = await createServiceNode(
      command.diagnostics === true
        ? {
            ...command.init,
            onDiagnostic: (diagnostic) => {
              process.stderr.write(`${formatDiagnostic(diagnostic)}\n`);
            },
          }
        : command.init,
    );
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error), 1);
    return;
  }
  const addresses = node.multiaddrs();
  // Handlers go in before the addresses are printed: whoever reads them may signal at once.
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal while stopping: the operator insists.
      process.exit(1);
    }
    stopping = true;
    const deadline = setTimeout(() => {
      fail(`shutdown did not finish within ${shutdownDeadlineMs / 1000} s; exiting`, 1);
      process.exit();
    }, shutdownDeadlineMs);
    // The deadline alone must not keep the process alive once everything else has stopped.
    deadline.unref();
    node.stop().then(
      () => {
        clearTimeout(deadline);
        if (!command.json) process.stderr.write(`orgchat-node: stopped (${signal})\n`);
        process.off("SIGINT", shutdown);
        process.off("SIGTERM", shutdown);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        fail(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`, 1);
        process.exit();
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  if (command.json) {
    process.stdout.write(
      `${JSON.stringify({
        peerId: node.peerId,
        multiaddrs: addresses,
        clusterId: node.clusterId,
        shards: node.shards,
        dataDir: command.init.dataDir,
        storedMessages: node.stats().storedMessages,
      })}\n`,
    );
  } else {
    process.stdout.write(`${addresses.join("\n")}\n`);
    process.stderr.write(
      `orgchat-node: peer ${node.peerId}, cluster ${node.clusterId}, shards ${node.shards.join(",")}, data in ${command.init.dataDir}, ${node.stats().storedMessages} messages stored. Ctrl-C to stop.\n`,
    );
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  fail(error instanceof Error ? error.message : String(error), 1);
});
