/**
 * `orgchat` entry point: wires signals and the process's streams to the runner in `cli.ts`.
 * Ctrl-C (SIGINT) or SIGTERM aborts the command: waits stop, the client, transport and store are
 * closed, and the process exits (130 for an interrupted one-shot command, 0 for `chat` and `serve`).
 * A second Ctrl-C more than a second later forces the exit.
 */

// Node 22 announces `node:sqlite` (the store) as experimental on stderr; to a user that line reads
// as a problem. Other warnings still print.
const printWarning = process.listeners("warning");
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.name === "ExperimentalWarning" && /SQLite/i.test(warning.message)) return;
  for (const listener of printWarning) listener(warning);
});

const { runCli } = await import("./cli.js");
const { processOutput } = await import("./format.js");

const controller = new AbortController();
let firstSignalAt = 0;
const onSignal = () => {
  const now = performance.now();
  if (firstSignalAt === 0) {
    firstSignalAt = now;
    controller.abort();
    return;
  }
  // The launcher and the terminal may both deliver one Ctrl-C: insist only after a second.
  if (now - firstSignalAt > 1000) process.exit(130);
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

// `pnpm start -- <args>` passes the `--` on: drop it.
const argv = process.argv.slice(2);
const code = await runCli(
  argv[0] === "--" ? argv.slice(1) : argv,
  processOutput,
  controller.signal,
);
// Interrupted streaming commands (chat, serve) end normally.
const exitCode = controller.signal.aborted && code === 0 ? 0 : code;
// libp2p keeps short timers for a moment after stop; nothing is left to write, so leave now.
process.exit(exitCode);
