/**
 * The profile daemon end to end (docs/CLI-DAEMON.md): started in the background, it runs the
 * profile's commands (one-shot and `chat`) concurrently over one connection and one store, streams
 * events for bots, refuses a second daemon and stops on request; commands then work alone again.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { acmeSteps } from "./acme.ts";
import {
  finish,
  orgchat,
  orgchatJson,
  sharedServiceNode,
  start,
  waitForOutput,
} from "./helpers.ts";

const servicePeer = sharedServiceNode();
const { profiles, createAcme, joinAccepted } = acmeSteps(servicePeer);

/** Daemons started by a test, killed if it ends without stopping them. */
const daemonDirs: string[] = [];
afterEach(() => {
  for (const dir of daemonDirs.splice(0)) {
    try {
      const { pid } = JSON.parse(readFileSync(join(dir, "daemon.json"), "utf8")) as { pid: number };
      process.kill(pid, "SIGKILL");
    } catch {
      // Stopped already (no record left).
    }
  }
});

describe("orgchat daemon", () => {
  it("runs the profile's commands while chat is open, streams events, stops on request", async () => {
    const dir = profiles();
    await createAcme(dir);
    const { link } = await orgchatJson<{ link: string }>(["org", "link", ...dir("owner")]);
    await joinAccepted(dir, link, "alice", "Alice");
    const ownerDir = dir("owner")[1] ?? "";
    daemonDirs.push(ownerDir);

    const started = await orgchat(["daemon", "start", "--background", ...dir("owner")]);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/^daemon started for .* \(pid \d+\)/);
    const status = await orgchatJson<{ running: boolean; pid: number; peers: string[] }>([
      "daemon",
      "status",
      ...dir("owner"),
    ]);
    expect(status).toMatchObject({ running: true, peers: [servicePeer()] });
    const second = await orgchat(["daemon", "start", "--background", ...dir("owner")]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain("a daemon already runs for");

    // A bot's stream and an interactive chat, both open while one-shot commands run.
    const events = start(["events", ...dir("owner")]);
    await waitForOutput(events, "stderr", "orgchat events: streaming");
    const chat = start(["chat", "general", ...dir("owner")]);
    await waitForOutput(chat, "stdout", "-- #general of Acme");

    const sends = await Promise.all(
      ["one", "two", "three"].map((text) =>
        orgchatJson<{ message: { id: string } }>(["send", "general", text, ...dir("owner")]),
      ),
    );
    expect(new Set(sends.map((sent) => sent.message.id)).size).toBe(3);
    const piped = start(["send", "general", "-", "--quiet", ...dir("owner")]);
    piped.child.stdin?.end("from a pipe\n");
    expect((await finish(piped)).code).toBe(0);
    const read = await orgchat(["read", "general", ...dir("owner")]);
    expect(read.code, read.stderr).toBe(0);
    for (const text of ["one", "two", "three", "from a pipe"])
      expect(read.stdout).toContain(`you: ${text}`);

    // Alice's message reaches the daemon's chat and its event stream.
    await orgchatJson(["send", "general", "hello from Alice", ...dir("alice")]);
    await waitForOutput(chat, "stdout", "Alice: hello from Alice");
    await waitForOutput(events, "stdout", "hello from Alice");
    const line = events.stdout.split("\n").find((l) => l.includes("hello from Alice")) ?? "";
    expect(JSON.parse(line)).toMatchObject({
      event: "message:received",
      message: { text: "hello from Alice", channelId: "general" },
    });
    chat.child.stdin?.write("typed in the daemon's chat\n");
    await waitForOutput(chat, "stdout", "you: typed in the daemon's chat");

    const stopped = await orgchat(["daemon", "stop", ...dir("owner")]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(/^daemon of .* stopping/);
    // What ran in it ends as on Ctrl-C.
    const chatEnd = await finish(chat);
    expect(chatEnd.code, chatEnd.stderr).toBe(0);
    expect(chatEnd.stdout).toContain("bye (1 sent, 1 received)");
    expect((await finish(events)).code).toBe(0);
    // What chat showed is read (its marks are written when it ends).
    const overview = await orgchatJson<{
      organizations: Array<{ channels: Array<{ id: string; unread: number }> }>;
    }>(["orgs", "--offline", ...dir("owner")]);
    expect(overview.organizations[0]?.channels).toMatchObject([{ id: "general", unread: 0 }]);

    const after = await orgchat(["daemon", "status", ...dir("owner")]);
    expect(after.code).toBe(1);
    expect(after.stdout).toContain("no daemon runs for");
    // Alone again: the store is free.
    const alone = await orgchat(["read", "general", ...dir("owner")]);
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stdout).toContain("you: typed in the daemon's chat");
  });

  it("refuses a --peer other than the daemon's", async () => {
    const dir = profiles();
    await createAcme(dir);
    daemonDirs.push(dir("owner")[1] ?? "");
    expect((await orgchat(["daemon", "start", "--background", ...dir("owner")])).code).toBe(0);
    const other = await orgchat([
      "read",
      "general",
      "--peer",
      "/ip4/127.0.0.1/tcp/1/ws",
      ...dir("owner"),
    ]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain("the daemon of this profile is connected to");
    expect((await orgchat(["daemon", "stop", ...dir("owner")])).code).toBe(0);
  });
});
