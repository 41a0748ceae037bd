/**
 * `pnpm demo`: the story of issue #8 end to end (see `demo-story.ts`). `--json` prints one JSON
 * document (the transcript then goes to stderr); `--keep` keeps the temporary data directories.
 * Exit code 0 only if every step was verified. Ctrl-C stops it like any `orgchat` command.
 */
import { launch } from "./launch.js";

const args = process.argv.slice(2).filter((a) => a !== "--");
const unknown = args.filter((a) => a !== "--json" && a !== "--keep");
if (unknown.length > 0 || args.includes("--help")) {
  process.stderr.write("usage: pnpm demo [-- --json] [-- --keep]\n");
  process.exit(unknown.length > 0 ? 2 : 0);
}
const signal = launch();
const { runDemo } = await import("./demo-story.js");
const { processOutput } = await import("./format.js");
const code = await runDemo({
  output: processOutput,
  json: args.includes("--json"),
  keep: args.includes("--keep"),
  signal,
});
process.exit(code);
