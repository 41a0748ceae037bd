/**
 * The net under a one-shot command (`src/stall-guard.ts`): a command whose wait nothing can end any
 * more (the event loop ran empty) exits with code 4 and a line that says what was pending and what to
 * do, instead of Node's exit code 13 ("unsettled top-level await"). Real processes: the fixture runs
 * `runCli` with a session whose wait holds no handle.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { closeGraceMs, defaultCloseGraceMs } from "../src/cli.ts";
import { exitCodes } from "../src/errors.ts";
import { appDir, finish, killAll, startProgram, tempDir } from "./helpers.ts";

afterEach(async () => {
  await killAll();
});

/** `orgchat join <key> --json` in the fixture, stalling in `mode`; `env` added to the process's. */
function stalledJoin(mode: "ready" | "close" | "slow-close", env: NodeJS.ProcessEnv = {}) {
  return finish(
    startProgram(
      process.execPath,
      [
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
      ],
      env,
    ),
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
    // The close bound cut from 30 s to 1 s (ORGCHAT_CLOSE_GRACE): the same stall, reported sooner.
    const result = await stalledJoin("close", { ORGCHAT_CLOSE_GRACE: "1" });
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

  it("ORGCHAT_CLOSE_GRACE bounds the close: seconds above 0 and up to an hour, 30 s when unset", () => {
    expect(defaultCloseGraceMs).toBe(30_000);
    expect(closeGraceMs({})).toBe(defaultCloseGraceMs);
    expect(closeGraceMs({ ORGCHAT_CLOSE_GRACE: "" })).toBe(defaultCloseGraceMs);
    expect(closeGraceMs({ ORGCHAT_CLOSE_GRACE: "3" })).toBe(3000);
    expect(closeGraceMs({ ORGCHAT_CLOSE_GRACE: "0.5" })).toBe(500);
    expect(closeGraceMs({ ORGCHAT_CLOSE_GRACE: "3600" })).toBe(3_600_000);
    for (const bad of ["0", "-1", "3601", "soon", "Infinity", "NaN"]) {
      expect(() => closeGraceMs({ ORGCHAT_CLOSE_GRACE: bad })).toThrow(
        /^ORGCHAT_CLOSE_GRACE needs a number of seconds above 0 and at most 3600, got .*: fix it, or unset it for the default \(30 s\)$/,
      );
    }
  });

  it("a bad ORGCHAT_CLOSE_GRACE is a usage error that says what to do, before any work", async () => {
    const result = await stalledJoin("ready", { ORGCHAT_CLOSE_GRACE: "soon" });
    expect(result.code).toBe(exitCodes.usage);
    expect(result.stderr.trim().split("\n").at(-1)).toBe(
      'orgchat: ORGCHAT_CLOSE_GRACE needs a number of seconds above 0 and at most 3600, got "soon": fix it, or unset it for the default (30 s)',
    );
  });
});
