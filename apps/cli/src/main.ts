/**
 * `orgchat` entry point: wires signals and the process's streams to the runner in `cli.ts`.
 * Ctrl-C (SIGINT) or SIGTERM aborts the command: waits stop, the client, transport and store are
 * closed, and the process exits (130 for an interrupted one-shot command, 0 for `chat` and `serve`).
 * A second Ctrl-C more than a second later forces the exit.
 */
import { enableCompileCache } from "node:module";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { launch } from "./launch.js";

const signal = launch();
// Node's compile cache for the chunks loaded from here on (the Waku stack is megabytes of JavaScript
// to compile on every start): in the user's own cache directory (`$XDG_CACHE_HOME/orgchat` or
// `~/.cache/orgchat`, private by the umask `launch` set), never a shared one such as /tmp, since the
// cache holds compiled code this process runs. `NODE_COMPILE_CACHE=<dir>` puts it elsewhere,
// `NODE_DISABLE_COMPILE_CACHE=1` turns it off (Node reads both). A cache that cannot be written only
// costs the compile time again: the command runs the same.
const cacheHome = process.env.XDG_CACHE_HOME;
enableCompileCache(
  join(
    cacheHome !== undefined && isAbsolute(cacheHome) ? cacheHome : join(homedir(), ".cache"),
    "orgchat",
    "compile-cache",
  ),
);
const { runCli } = await import("./cli.js");
const { processOutput } = await import("./format.js");
const { trace } = await import("./session.js");
trace("cli loaded");

// `pnpm start -- <args>` passes the `--` on: drop it.
const given = process.argv.slice(2);
const argv = given[0] === "--" ? given.slice(1) : given;
// The profile's daemon runs the command when one listens (docs/CLI-DAEMON.md).
const { forwardToDaemon } = await import("./daemon/forward.js");
const forwarded = await forwardToDaemon(argv, {
  stdout: processOutput.stdout,
  stderr: processOutput.stderr,
  stdin: process.stdin,
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: processOutput.stderrIsTTY,
  ...(process.stdout.columns === undefined ? {} : { columns: process.stdout.columns }),
  signal,
});
if (forwarded !== undefined) trace("ran in the daemon");
// The net under the command: an event loop that runs empty while it waits is reported (exit code 4),
// not left to Node's "unsettled top-level await" (exit code 13).
const { guardStall, watchedOutput } = await import("./stall-guard.js");
const { output, wroteStdout } = watchedOutput(processOutput);
const code =
  forwarded ?? (await guardStall(runCli(argv, output, signal), { argv, output, wroteStdout }));
// Interrupted streaming commands (chat, serve) end normally.
const exitCode = signal.aborted && code === 0 ? 0 : code;
// libp2p keeps short timers for a moment after stop; nothing is left to write, so leave now.
trace("exit");
process.exit(exitCode);
