/**
 * `orgchat` as users run it: separate OS processes per identity, each with its own data directory,
 * against one `orgchat serve` process over ws on 127.0.0.1, checking the `--json` output of every
 * command. Every test sets up what it needs itself (its own data directories and organization), so
 * that each runs alone (`vitest run -t "<name>"`) and in any order; only the service node is shared,
 * and each test's organization is its own there.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseLink } from "../src/link.ts";
import { acmeSteps, type OrgJson } from "./acme.ts";
import {
  appDir,
  finish,
  orgchat,
  orgchatCommandLine,
  orgchatJson,
  sharedServiceNode,
  start,
  startProgram,
  waitForOutput,
} from "./helpers.ts";

/** The suite's one `orgchat serve` (started before the first test, stopped after the last). */
const servicePeer = sharedServiceNode();

const { profiles, createAcme, joinAccepted } = acmeSteps(servicePeer);

describe("orgchat, one process per command", () => {
  it("id create makes one identity per data directory", async () => {
    const dir = profiles();
    const names = ["owner", "alice", "bob", "carol"];
    const created = await Promise.all(
      names.map((name) =>
        orgchatJson<{ id: string; created: boolean }>(["id", "create", ...dir(name)]),
      ),
    );
    const ids: Record<string, string> = {};
    names.forEach((name, i) => {
      expect(created[i]?.id).toMatch(/^[0-9a-f]{64}$/);
      expect(created[i]?.created).toBe(true);
      ids[name] = created[i]?.id ?? "";
    });
    expect(new Set(Object.values(ids)).size).toBe(4);
    const again = await orgchatJson<{ id: string; created: boolean }>([
      "id",
      "show",
      ...dir("alice"),
    ]);
    expect(again.id).toBe(ids.alice);
  });

  it("org create publishes an encrypted organization; org link shares key and service node", async () => {
    const dir = profiles();
    const created = await createAcme(dir);
    expect(created.organization).toMatchObject({ name: "Acme", role: "owner", encrypted: true });
    expect(created.organization.channels.map((c) => c.id)).toEqual(["general"]);
    const orgId = created.organization.id;
    const shared = await orgchatJson<{ link: string; peers: string[] }>([
      "org",
      "link",
      ...dir("owner"),
    ]);
    expect(parseLink(shared.link)).toEqual({
      organizationId: orgId,
      name: "Acme",
      peers: [servicePeer()],
    });
  });

  it("join --wait in one process is answered by accept in the owner's process", async () => {
    const dir = profiles();
    const { link } = await createAcme(dir);
    const alice = await orgchatJson<{ id: string }>(["id", "create", ...dir("alice")]);
    const joining = start(["join", link, "--name", "Alice", "--wait", "--json", ...dir("alice")]);
    await waitForOutput(joining, "stderr", "waiting for the owner");
    const listed = await orgchatJson<{
      requests: Array<{ id: string; displayName: string; status: string }>;
    }>(["requests", ...dir("owner")]);
    const pending = listed.requests;
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ displayName: "Alice", status: "pending" });
    const accepted = await orgchatJson<{ ok: boolean; organization: OrgJson }>([
      "accept",
      pending[0]?.id.slice(0, 8) ?? "",
      ...dir("owner"),
    ]);
    expect(Object.keys(accepted.organization.members)).toContain(alice.id);
    const joined = await finish(joining);
    expect(joined.code).toBe(0);
    const answer = JSON.parse(joined.stdout) as {
      status: string;
      via: string;
      organization: OrgJson;
    };
    expect(answer.status).toBe("member");
    expect(answer.via).toBe("request");
    expect(answer.organization.epoch).toBeDefined();
  });

  it("send and read: messages cross processes through the service node", async () => {
    const dir = profiles();
    const { link } = await createAcme(dir);
    await joinAccepted(dir, link, "alice", "Alice");
    await orgchatJson(["send", "general", "hello", "from", "alice", ...dir("alice")]);
    await orgchatJson(["send", "#general", "welcome, Alice", ...dir("owner")]);
    const ownerView = await orgchatJson<{ messages: Array<{ text: string; own: boolean }> }>([
      "read",
      "general",
      ...dir("owner"),
    ]);
    expect(ownerView.messages.map((m) => [m.text, m.own])).toEqual([
      ["hello from alice", false],
      ["welcome, Alice", true],
    ]);
    const aliceView = await orgchatJson<{ messages: Array<{ text: string }> }>([
      "read",
      "general",
      ...dir("alice"),
    ]);
    expect(aliceView.messages.map((m) => m.text)).toEqual(["hello from alice", "welcome, Alice"]);
  });

  it("chat in a pseudo-terminal: live messages in, typed lines out", async () => {
    const dir = profiles();
    const { link } = await createAcme(dir);
    await joinAccepted(dir, link, "alice", "Alice");
    await orgchatJson(["send", "general", "hello from alice", ...dir("alice")]);
    await orgchatJson(["read", "general", ...dir("owner")]);
    const chat = startProgram("script", [
      "-qfec",
      orgchatCommandLine(["chat", "general", ...dir("owner")]),
      "/dev/null",
    ]);
    await waitForOutput(chat, "stdout", "/help for commands");
    expect(chat.stdout).toContain("hello from alice");
    await orgchatJson(["send", "general", "live from alice", ...dir("alice")]);
    await waitForOutput(chat, "stdout", "live from alice");
    chat.child.stdin?.write("typed in the owner's terminal\r");
    await waitForOutput(chat, "stdout", "you: typed in the owner's terminal");
    chat.child.stdin?.write("/quit\r");
    const ended = await finish(chat);
    expect(ended.code).toBe(0);
    expect(ended.stdout).toContain("bye (1 sent, 1 received)");
    const aliceView = await orgchatJson<{ messages: Array<{ text: string }> }>([
      "read",
      "general",
      ...dir("alice"),
    ]);
    expect(aliceView.messages.map((m) => m.text)).toContain("typed in the owner's terminal");
    // Ctrl-C in the terminal ends a chat cleanly too (exit 0, data directory closed).
    const second = startProgram("script", [
      "-qfec",
      orgchatCommandLine(["chat", "general", ...dir("alice")]),
      "/dev/null",
    ]);
    await waitForOutput(second, "stdout", "/help for commands");
    second.child.stdin?.write("\x03");
    const stopped = await finish(second);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain("bye (0 sent, 0 received)");
    await orgchatJson(["org", "show", "--offline", ...dir("alice")]);
  });

  it("reject with a reason: the requester's join --wait reports it", async () => {
    const dir = profiles();
    const { link } = await createAcme(dir);
    const joining = start(["join", link, "--name", "Bob", "--wait", "--json", ...dir("bob")]);
    await waitForOutput(joining, "stderr", "waiting for the owner");
    await orgchatJson(["reject", "Bob", "--reason", "staff only", ...dir("owner")]);
    const answer = await finish(joining);
    expect(answer.code).toBe(1);
    expect(JSON.parse(answer.stdout)).toMatchObject({ status: "rejected", reason: "staff only" });
    expect(answer.stderr).toContain("rejected your request: staff only");
    const all = await orgchatJson<{
      requests: Array<{ displayName: string; status: string; reason?: string }>;
    }>(["requests", "--all", ...dir("owner")]);
    expect(all.requests.find((r) => r.displayName === "Bob")).toMatchObject({
      status: "rejected",
      reason: "staff only",
    });
  });

  it("ban: re-keyed, and the banned member can no longer send; unban lifts it", async () => {
    const dir = profiles();
    const { link } = await createAcme(dir);
    const alice = await joinAccepted(dir, link, "alice", "Alice");
    const before = await orgchatJson<{ organization: OrgJson }>(["org", "show", ...dir("owner")]);
    const banned = await orgchatJson<{ organization: OrgJson; epoch: string }>([
      "ban",
      alice.slice(0, 10),
      ...dir("owner"),
    ]);
    expect(banned.organization.banned).toEqual([alice]);
    expect(BigInt(banned.epoch)).toBeGreaterThan(BigInt(before.organization.epoch ?? "0"));
    const refused = await orgchat(["send", "general", "still here?", ...dir("alice")]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split("\n").at(-1)).toMatch(/^orgchat: you are banned from Acme/);
    const view = await orgchatJson<{ organization: OrgJson }>(["org", "show", ...dir("alice")]);
    expect(view.organization.banned).toContain(alice);

    await orgchatJson(["unban", alice.slice(0, 10), ...dir("owner")]);
    const org = (await orgchatJson<{ organization: OrgJson }>(["org", "show", ...dir("owner")]))
      .organization;
    expect(org.banned).not.toContain(alice);
  });

  it("invite, restricted channel, leave", async () => {
    const dir = profiles();
    const { link } = await createAcme(dir);
    const dave = await orgchatJson<{ id: string }>(["id", "create", ...dir("dave")]);
    await orgchatJson(["invite", dave.id, ...dir("owner")]);
    const sent = await orgchatJson<{ status: string; via: string }>([
      "join",
      link,
      "--name",
      "Dave",
      ...dir("dave"),
    ]);
    expect(sent).toMatchObject({ status: "pending", via: "invitation" });
    // The owner's next command applies the invitation; then dave's wait ends at once.
    const owner = await orgchatJson<{ organization: OrgJson }>(["org", "show", ...dir("owner")]);
    expect(Object.keys(owner.organization.members)).toContain(dave.id);
    const joined = await orgchatJson<{ status: string }>(["join", link, "--wait", ...dir("dave")]);
    expect(joined.status).toBe("member");

    await orgchatJson([
      "channel",
      "create",
      "core",
      "--restricted",
      "--member",
      dave.id.slice(0, 8),
      ...dir("owner"),
    ]);
    const channels = await orgchatJson<{
      channels: Array<{ id: string; restricted: boolean; canPost: boolean }>;
    }>(["channel", "list", ...dir("dave")]);
    expect(channels.channels.find((c) => c.id === "core")).toMatchObject({
      restricted: true,
      canPost: true,
    });
    await orgchatJson(["send", "core", "for the core team", ...dir("dave")]);
    const core = await orgchatJson<{ messages: Array<{ text: string }> }>([
      "read",
      "core",
      ...dir("owner"),
    ]);
    expect(core.messages.map((m) => m.text)).toEqual(["for the core team"]);

    const epochBefore = BigInt(owner.organization.epoch ?? "0");
    await orgchatJson(["leave", ...dir("dave")]);
    const after = await orgchatJson<{ organization: OrgJson }>(["org", "show", ...dir("owner")]);
    expect(Object.keys(after.organization.members)).not.toContain(dave.id);
    expect(BigInt(after.organization.epoch ?? "0")).toBeGreaterThan(epochBefore);
  });

  it("cancel: the owner sees the request cancelled", async () => {
    const dir = profiles();
    const { link } = await createAcme(dir);
    await orgchatJson(["id", "create", ...dir("carol")]);
    const sent = await orgchatJson<{ status: string }>([
      "join",
      link,
      "--name",
      "Carol",
      ...dir("carol"),
    ]);
    expect(sent.status).toBe("pending");
    await orgchatJson(["cancel", ...dir("carol")]);
    const all = await orgchatJson<{ requests: Array<{ displayName: string; status: string }> }>([
      "requests",
      "--all",
      ...dir("owner"),
    ]);
    expect(all.requests.find((r) => r.displayName === "Carol")?.status).toBe("cancelled");
  });

  it("role and remove", async () => {
    const dir = profiles();
    const { link } = await createAcme(dir);
    const erin = await orgchatJson<{ id: string }>(["id", "create", ...dir("erin")]);
    await orgchatJson(["invite", erin.id, ...dir("owner")]);
    await orgchatJson(["join", link, "--name", "Erin", ...dir("erin")]);
    await orgchatJson(["org", "show", ...dir("owner")]); // the owner's next command applies it
    expect(
      (await orgchatJson<{ status: string }>(["join", link, "--wait", ...dir("erin")])).status,
    ).toBe("member");
    await orgchatJson(["role", erin.id.slice(0, 8), "moderator", ...dir("owner")]);
    let org = (await orgchatJson<{ organization: OrgJson }>(["org", "show", ...dir("owner")]))
      .organization;
    expect(JSON.stringify(org.members[erin.id])).toMatch(/moderat/i);
    await orgchatJson(["remove", erin.id.slice(0, 8), ...dir("owner")]);
    org = (await orgchatJson<{ organization: OrgJson }>(["org", "show", ...dir("owner")]))
      .organization;
    expect(Object.keys(org.members)).not.toContain(erin.id);
  });

  it("categories: create, edit, remove", async () => {
    const dir = profiles();
    await createAcme(dir);
    await orgchatJson(["category", "create", "eng", "Engineering", ...dir("owner")]);
    expect(JSON.stringify(await orgchatJson(["category", "list", ...dir("owner")]))).toContain(
      "Engineering",
    );
    await orgchatJson(["category", "edit", "eng", "R&D", ...dir("owner")]);
    expect(JSON.stringify(await orgchatJson(["category", "list", ...dir("owner")]))).toContain(
      "R&D",
    );
    await orgchatJson(["category", "remove", "eng", ...dir("owner")]);
    expect(JSON.stringify(await orgchatJson(["category", "list", ...dir("owner")]))).not.toContain(
      "R&D",
    );
  });

  it("errors are one line that says what to do, with a non-zero exit code", async () => {
    const dir = profiles();
    const badPeer = await orgchat([
      "read",
      "general",
      "--peer",
      "/ip4/127.0.0.1/tcp/notaport/ws",
      ...dir("carol"),
    ]);
    expect(badPeer.code).toBe(2);
    expect(badPeer.stderr.trim()).toMatch(/^orgchat: bad --peer address .*orgchat serve/);
    expect(badPeer.stderr.trim().split("\n")).toHaveLength(1);

    // A local error: nothing connects, so nothing is remembered (only service nodes that answered are).
    const unknown = await orgchat([
      "read",
      "general",
      "--org",
      "ffffffff",
      "--peer",
      servicePeer(),
      ...dir("carol"),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split("\n").at(-1)).toMatch(
      /^orgchat: (unknown organization ffffffff|this identity knows no organization)/,
    );

    const asJson = await orgchat([
      "read",
      "general",
      "--org",
      "ffffffff",
      "--json",
      ...dir("carol"),
    ]);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ ok: false, exitCode: 1 });

    const notFound = await orgchat([
      "join",
      "f".repeat(64),
      "--peer",
      servicePeer(),
      ...dir("carol"),
      "--quiet",
    ]);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr.trim()).toMatch(
      /^orgchat: organization ffffffffffff… was not found on the service node/,
    );

    const usage = await orgchat(["send", "general", "--bogus", "x", ...dir("carol")]);
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim()).toBe("orgchat: Unknown option '--bogus' (see orgchat send --help)");

    // Through the launcher users run (`bin/orgchat.js`: tsx and the source condition).
    const help = await finish(
      startProgram(process.execPath, [
        join(appDir, "bin", "orgchat.js"),
        "channel",
        "create",
        "--help",
      ]),
    );
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: orgchat channel create ID");
    expect(help.stdout).toContain("Example");
  });

  it("a data directory in use by another process is refused; Ctrl-C leaves it consistent", async () => {
    const dir = profiles();
    const { link } = await createAcme(dir);
    // carol asks to join and waits; the owner never answers.
    const waiting = start(["join", link, "--name", "Carol", "--wait", ...dir("carol")]);
    await waitForOutput(waiting, "stderr", "waiting for the owner");
    const locked = await orgchat(["org", "show", ...dir("carol")]);
    expect(locked.code).toBe(1);
    expect(locked.stderr.trim().split("\n").at(-1)).toMatch(
      /^orgchat: data directory .*carol is in use by another orgchat process/,
    );
    waiting.child.kill("SIGINT");
    const interrupted = await finish(waiting);
    expect(interrupted.code).toBe(130);
    // The directory is closed and intact: the pending request is still there.
    const view = await orgchatJson<{ organization: OrgJson & { request?: { status: string } } }>([
      "org",
      "show",
      "--org",
      "Acme",
      ...dir("carol"),
    ]);
    expect(view.organization.role).toBe("requester");
    expect(view.organization.request?.status).toBe("pending");
  });
});
