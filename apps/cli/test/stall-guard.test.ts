/**
 * The net under a one-shot command (`src/stall-guard.ts`): a command whose wait nothing can end any
 * more (the event loop ran empty) exits with code 4 and a line that says what was pending and what to
 * do, instead of Node's exit code 13 ("unsettled top-level await"). Real processes: the fixture runs
 * `runCli` with a session whose wait holds no handle.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { exitCodes } from "../src/errors.ts";
import { appDir, finish, killAll, startProgram, tempDir } from "./helpers.ts";

afterEach(async () => {
  await killAll();
});

/** `orgchat join <key> --json` in the fixture, stalling in `mode`. */
function stalledJoin(mode: "ready" | "close" | "slow-close") {
  return finish(
    startProgram(process.execPath, [
      "--conditions=@orgchat/source",
      "--import",
      "tsx",
      join(appDir, "test", "fixtures", "stalled-command.ts"),
      mode,
      "join",
      "ab".repeat(32),
      "--json",
      "--data",
      join(tempDir("orgchat-stall-"), "bob"),
    ]),
  );
}

describe("a command whose wait nothing can end", () => {
  it("stalled while catching up: exit code 4, the step it stopped at, what to do, one JSON document", async () => {
    const result = await stalledJoin("ready");
    expect(result.stderr).not.toContain("top-level await");
    expect(result.code).toBe(exitCodes.stalled);
    const line =
      "`orgchat join` stopped with work pending that nothing could finish any more (last step: catching up from the service node…); the data directory is consistent (the client commits in atomic batches): run the command again, and if this repeats, report it with the output of ORGCHAT_TRACE=1";
    expect(result.stderr.trim().split("\n").at(-1)).toBe(`orgchat: ${line}`);
    expect(JSON.parse(result.stdout)).toEqual({ ok: false, error: line, exitCode: 4 });
  });

  it("stalled while closing after the command printed its result: exit code 4, no second JSON document", async () => {
    const result = await stalledJoin("close");
    expect(result.code).toBe(exitCodes.stalled);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      error: "the service node refused",
    });
    expect(result.stderr).toContain("orgchat: the service node refused");
    expect(result.stderr).toContain(
      "`orgchat join` stopped with work pending that nothing could finish any more (last step: closing the data directory)",
    );
  });

  it("a close that ends on an unref'd deadline (libp2p's graceful close) ends: the command's own exit code", async () => {
    const result = await stalledJoin("slow-close");
    expect(result.stderr).not.toContain("stopped with work pending");
    expect(result.code).toBe(exitCodes.failed);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, exitCode: exitCodes.failed });
  });
});
