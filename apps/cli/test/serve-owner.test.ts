/**
 * `orgchat serve --owner` end to end over real Waku on 127.0.0.1 (docs/CLI.md, "An owner that is
 * always on"): one process runs the service node and the owner's client; nobody types for the owner,
 * yet requests are answered by its policy, open organizations admit at once, the owner profile's
 * commands run through the process, and a restart keeps everything. Tests wait for exits and output
 * lines, never for time.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  finish,
  orgchat,
  orgchatJson,
  processesPerTest,
  type Run,
  serve,
  start,
  tempDir,
  waitForOutput,
} from "./helpers.ts";

processesPerTest();

/** What `serve --owner --json` prints first (one line). */
interface ServeOwnerInfo {
  multiaddrs: string[];
  owner: {
    dataDir: string;
    memberId: string;
    policy: { admit: string };
    organizations: Array<{
      id: string;
      name: string;
      access: string;
      members: number;
      admit: string;
    }>;
  };
}

/** Starts `serve --json --owner-data …`; resolves once it printed its start-up document. */
async function serveOwner(
  args: readonly string[],
): Promise<{ run: Run; peer: string; info: ServeOwnerInfo }> {
  const run = start(["serve", "--json", ...args]);
  await waitForOutput(run, "stdout", "\n");
  const info = JSON.parse(run.stdout.slice(0, run.stdout.indexOf("\n"))) as ServeOwnerInfo;
  const peer = info.multiaddrs.find((a) => a.includes("/ws/")) ?? "";
  return { run, peer, info };
}

/** `join LINK --name NAME --wait --json --peer PEER` for one profile. */
function joinWait(link: string, name: string, peer: string, dir: readonly string[]): string[] {
  return ["join", link, "--name", name, "--wait", "--json", "--peer", peer, ...dir];
}

/** Stops a process with SIGTERM (as a service manager does) and returns its exit code. */
async function stop(run: Run): Promise<number | null> {
  run.child.kill("SIGTERM");
  return run.exited;
}

/**
 * The owner (`<home>/alice`) creates Acme with #general through a plain `serve` on `<home>/node`,
 * which then stops: from here on no owner process runs but `serve --owner`.
 */
async function aliceCreates(access: "request" | "open") {
  const home = tempDir();
  const dir = (name: string) => ["--data", join(home, name)];
  const plain = await serve(join(home, "node"));
  await orgchatJson([
    "org",
    "create",
    "Acme",
    "--access",
    access,
    "--channel",
    "general",
    "--peer",
    plain.peer,
    ...dir("alice"),
  ]);
  expect(await stop(plain.run)).toBe(0);
  return { home, dir };
}

describe("orgchat serve --owner", () => {
  it("--admit all admits bob with no other owner process; a restart keeps everything; --admit none leaves carol to `accept` through it; a second one is refused", async () => {
    const { home, dir } = await aliceCreates("request");
    const node = ["--data", join(home, "node"), "--listen", "/ip4/127.0.0.1/tcp/0/ws"];
    const first = await serveOwner([
      "--owner-data",
      join(home, "alice"),
      "--admit",
      "all",
      ...node,
    ]);
    expect(first.info.owner.organizations).toMatchObject([
      { name: "Acme", access: "on-request", admit: "all", members: 1 },
    ]);
    const { link } = await orgchatJson<{ link: string }>(["org", "link", ...dir("alice")]);

    // The profile is served: a second `serve --owner` (on another node directory) is refused.
    const second = await orgchat([
      "serve",
      "--owner-data",
      join(home, "alice"),
      "--data",
      join(home, "node2"),
      "--listen",
      "/ip4/127.0.0.1/tcp/0/ws",
    ]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain("is already served by another orgchat process");

    const joined = await orgchat(joinWait(link, "Bob", first.peer, dir("bob")));
    expect(joined.code, joined.stderr).toBe(0);
    expect(JSON.parse(joined.stdout)).toMatchObject({ status: "member" });
    await waitForOutput(first.run, "stdout", '"event":"accepted"');

    // Alice's profile reads Bob's message through the serve process.
    const events = start(["events", ...dir("alice")]);
    await waitForOutput(events, "stderr", "orgchat events: streaming");
    await orgchatJson(["send", "general", "hello from Bob", ...dir("bob")]);
    await waitForOutput(events, "stdout", "hello from Bob");
    const read = await orgchat(["read", "general", ...dir("alice")]);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).toContain("Bob: hello from Bob");
    events.child.kill("SIGINT");
    await events.exited;

    // Restart on the same address (Bob remembers it), now leaving requests to a human.
    const port = /\/tcp\/(\d+)\/ws/.exec(first.peer)?.[1] ?? "";
    expect(await stop(first.run)).toBe(0);
    expect(existsSync(join(home, "alice", "daemon.json"))).toBe(false);
    const again = await serveOwner([
      "--owner-data",
      join(home, "alice"),
      "--admit",
      "none",
      "--data",
      join(home, "node"),
      "--listen",
      `/ip4/127.0.0.1/tcp/${port}/ws`,
    ]);
    expect(again.info.owner.organizations).toMatchObject([{ admit: "none", members: 2 }]);
    expect(JSON.parse(readFileSync(join(home, "alice", "owner-service.json"), "utf8"))).toEqual({
      admit: "none",
      admitByOrg: {},
    });
    await orgchatJson(["send", "general", "after the restart", ...dir("alice")]);
    const bobReads = await orgchat(["read", "general", ...dir("bob")]);
    expect(bobReads.code, bobReads.stderr).toBe(0);
    expect(bobReads.stdout).toContain("after the restart");
    expect(bobReads.stdout).toContain("you: hello from Bob");

    const carol = start(joinWait(link, "Carol", again.peer, dir("carol")));
    await waitForOutput(carol, "stderr", "waiting for the owner");
    await waitForOutput(again.run, "stdout", '"event":"request"');
    const pending = await orgchatJson<{ requests: Array<{ displayName: string; status: string }> }>(
      ["requests", ...dir("alice")],
    );
    expect(pending.requests).toMatchObject([{ displayName: "Carol", status: "pending" }]);
    const accepted = await orgchat(["accept", "Carol", ...dir("alice")]);
    expect(accepted.code, accepted.stderr).toBe(0);
    const carolJoined = await finish(carol);
    expect(carolJoined.code, carolJoined.stderr).toBe(0);
    expect(JSON.parse(carolJoined.stdout)).toMatchObject({ status: "member" });
    expect(await stop(again.run)).toBe(0);
  });

  it("an open organization admits at once with nobody typing: the newcomer gets the keys and reads the owner", async () => {
    const { home, dir } = await aliceCreates("open");
    const served = await serveOwner([
      "--owner-data",
      join(home, "alice"),
      "--data",
      join(home, "node"),
      "--listen",
      "/ip4/127.0.0.1/tcp/0/ws",
    ]);
    expect(served.info.owner.organizations).toMatchObject([
      { access: "no-membership", admit: "open" },
    ]);
    const { link } = await orgchatJson<{ link: string }>(["org", "link", ...dir("alice")]);
    const joined = await orgchat(joinWait(link, "Dave", served.peer, dir("dave")));
    expect(joined.code, joined.stderr).toBe(0);
    expect(JSON.parse(joined.stdout)).toMatchObject({ status: "member" });
    await waitForOutput(served.run, "stdout", '"event":"joined"');
    await orgchatJson(["send", "general", "welcome Dave", ...dir("alice")]);
    const read = await orgchat(["read", "general", ...dir("dave")]);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).toContain("welcome Dave");
    expect(await stop(served.run)).toBe(0);
  });

  it("says what to do when the owner profile does not exist, owns nothing or is sealed without its passphrase", async () => {
    const home = tempDir();
    const args = ["--data", join(home, "node"), "--listen", "/ip4/127.0.0.1/tcp/0/ws"];
    const none = await orgchat(["serve", "--owner-data", join(home, "nobody"), ...args]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`no orgchat profile in ${join(home, "nobody")}`);
    expect((await orgchat(["id", "create", "--data", join(home, "bob")])).code).toBe(0);
    const owns = await orgchat(["serve", "--owner-data", join(home, "bob"), ...args]);
    expect(owns.code).toBe(2);
    expect(owns.stderr).toContain("owns no organization");
    // A profile sealed with a passphrase: given in ORGCHAT_PASSPHRASE, as for every command.
    const sealed = { ORGCHAT_PASSPHRASE: "correct horse" };
    expect((await orgchat(["id", "create", "--data", join(home, "sealed")], sealed)).code).toBe(0);
    const noPassphrase = await orgchat(["serve", "--owner-data", join(home, "sealed"), ...args]);
    expect(noPassphrase.code).toBe(1);
    expect(noPassphrase.stderr).toContain(`owner profile ${join(home, "sealed")}:`);
    expect(noPassphrase.stderr).toContain("set ORGCHAT_PASSPHRASE");
    const withPassphrase = await orgchat(
      ["serve", "--owner-data", join(home, "sealed"), ...args],
      sealed,
    );
    expect(withPassphrase.code).toBe(2);
    expect(withPassphrase.stderr).toContain("owns no organization");
    const admitAlone = await orgchat(["serve", "--admit", "all", ...args]);
    expect(admitAlone.code).toBe(2);
    expect(admitAlone.stderr).toContain("--admit needs --owner PROFILE");
    const sameDir = await orgchat(["serve", "--owner-data", join(home, "node"), ...args]);
    expect(sameDir.code).toBe(2);
    expect(sameDir.stderr).toContain("need data directories of their own");
  });
});
