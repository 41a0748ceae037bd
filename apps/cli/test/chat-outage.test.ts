/**
 * `chat` when the service node goes away and comes back (issue #15, "Honest under outages"): it says
 * so, a line typed meanwhile is shown as queued at once, and counted as sent only once a service node
 * took it; then another member reads it. `read` without the node shows local history with a note.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  finish,
  orgchat,
  orgchatJson,
  type Run,
  serve,
  start,
  tempDir,
  waitForOutput,
} from "./helpers.ts";

/** Starts `orgchat serve` on a fixed address (its data directory keeps its peer id). */
async function serveAt(dataDir: string, listen: string): Promise<Run> {
  const run = start(["serve", "--json", "--data", dataDir, "--listen", listen]);
  await waitForOutput(run, "stdout", "\n");
  return run;
}

describe("chat through an outage of the service node", () => {
  it("shows the loss and the return, queues what is typed meanwhile, sends it once the node is back", async () => {
    const home = tempDir();
    const nodeDir = join(home, "node");
    const first = await serve(nodeDir);
    const listen = first.peer.slice(0, first.peer.indexOf("/p2p/"));
    const dir = (name: string) => ["--data", join(home, name)];
    const created = await orgchatJson<{ link: string }>([
      "org",
      "create",
      "Acme",
      "--channel",
      "general",
      "--peer",
      first.peer,
      ...dir("owner"),
    ]);
    const joining = start(["join", created.link, "--name", "Bob", "--wait", ...dir("bob")]);
    await waitForOutput(joining, "stderr", "waiting for the owner");
    await orgchatJson(["accept", "Bob", ...dir("owner")]);
    expect((await finish(joining)).code).toBe(0);

    const chat = start(["chat", "general", ...dir("owner")]);
    await waitForOutput(chat, "stdout", "-- #general of Acme");

    chat.child.stdin?.write("before the outage\n");
    await waitForOutput(chat, "stdout", "you: before the outage");
    expect((await orgchat(["read", "general", ...dir("bob")])).stdout).toContain(
      "owner: before the outage",
    );

    first.run.child.kill("SIGTERM");
    await first.run.exited;
    // `read` without a service node: local history, with a note (not an error).
    const local = await orgchat(["read", "general", "--timeout", "2", ...dir("bob")]);
    expect(local.code, local.stderr).toBe(0);
    expect(local.stdout).toContain("owner: before the outage");
    expect(local.stderr).toContain("no answer from the service node within 2 s");
    expect(local.stderr).toContain("showing the messages this profile already holds");
    await waitForOutput(chat, "stdout", "* lost the service node");
    chat.child.stdin?.write("typed while away\n");
    await waitForOutput(chat, "stdout", "… queued: typed while away");

    const second = await serveAt(nodeDir, listen);
    await waitForOutput(chat, "stdout", "* connected again");
    await waitForOutput(chat, "stdout", "you: typed while away  (sent: a service node took it)");
    chat.child.stdin?.end();
    const ended = await finish(chat);
    expect(ended.code, ended.stderr).toBe(0);
    expect(ended.stdout).toContain("bye (2 sent, 0 received)");

    // The other member finds it on the node.
    const read = await orgchat(["read", "general", ...dir("bob")]);
    expect(read.stdout).toContain("owner: typed while away");
    second.child.kill("SIGTERM");
    await second.exited;
  });
});
