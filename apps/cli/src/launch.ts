/**
 * What both entry points (`main.ts`, `demo.ts`) do before loading anything heavy: hide Node's
 * "SQLite is experimental" warning, and turn SIGINT/SIGTERM into an abort. Import nothing else here:
 * the entry points load the rest (and so `node:sqlite`) only after {@link launch} ran.
 */

/**
 * Prepares the process for a command.
 * @returns the signal aborted by the first Ctrl-C (SIGINT) or SIGTERM; a second one more than a
 * second later exits at once (130)
 */
export function launch(): AbortSignal {
  // Every file orgchat creates (store, its SQLite journal files, config, a service node's archive)
  // is private to the user: 0600 files, 0700 directories.
  process.umask(0o077);
  // Node 22 announces `node:sqlite` (the store) as experimental on stderr; to a user that line reads
  // as a problem. Other warnings still print.
  const printWarning = process.listeners("warning");
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    if (warning.name === "ExperimentalWarning" && /SQLite/i.test(warning.message)) return;
    for (const listener of printWarning) listener(warning);
  });

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
  return controller.signal;
}
