/**
 * When a command touches the network, and what it keeps: local errors come before any connection,
 * `--timeout` ends the wait with exit code 3, only service nodes that answered are remembered, every
 * file of a data directory is private, `orgchat help` and `--version --json` work, and a broken
 * `config.json` is an error that says what to do.
 */
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  orgchat,
  orgchatJson,
  serve,
  sharedServiceNode,
  start,
  tempDir,
  waitForOutput,
} from "./helpers.ts";

const peer = sharedServiceNode();

/** An address where nobody listens: a command that connects waits for it until `--timeout`. */
const nobody = "/ip4/127.0.0.1/tcp/1/ws";
/** `orgchat args…` against {@link nobody}, waiting at most `timeout` seconds for it. */
function againstNobody(args: readonly string[], data: string, timeout: number) {
  return orgchat([
    ...args,
    "--peer",
    nobody,
    "--data",
    data,
    "--timeout",
    String(timeout),
    "--quiet",
  ]);
}

function files(dir: string): Array<{ name: string; mode: number }> {
  return readdirSync(dir).map((name) => ({ name, mode: statSync(join(dir, name)).mode & 0o777 }));
}

describe("the network, opened only when needed", () => {
  it("errors known from the profile come before any connection (no --timeout wait)", async () => {
    const data = join(tempDir(), "fresh");
    // --timeout 60: had it connected, the command would fail with exit code 3 after 60 s instead.
    const send = await againstNobody(["send", "general", "hi"], data, 60);
    expect(send.code).toBe(1);
    expect(send.stderr).toMatch(/^orgchat: this identity knows no organization yet/m);
    const show = await againstNobody(["org", "show", "--org", "nope"], data, 60);
    expect(show.code).toBe(1);
    expect(show.stderr).toMatch(/^orgchat: unknown organization nope/m);
    // The address never answered: it is not remembered.
    expect(readdirSync(data)).not.toContain("config.json");
  });

  it("owner-only commands are refused from the profile, before any connection", async () => {
    const dir = tempDir();
    const { link } = await orgchatJson<{ link: string }>([
      "org",
      "create",
      "Acme",
      "--peer",
      peer(),
      "--data",
      join(dir, "owner"),
    ]);
    await orgchat(["join", link, "--name", "Carol", "--data", join(dir, "carol")]);
    // `requests` is the delegates' too: a role may arrive while catching up, so it connects first.
    const unban = await againstNobody(
      ["unban", "00000000", "--org", "Acme"],
      join(dir, "carol"),
      60,
    );
    expect(unban.code).toBe(1);
    expect(unban.stderr.trim()).toBe(
      "orgchat: only the owner of Acme can run `orgchat unban` (this identity is its requester)",
    );
  });

  it("--timeout bounds the wait for a service node: exit code 3", async () => {
    const data = join(tempDir(), "waiting");
    const result = await againstNobody(["org", "show"], data, 2);
    expect(result.code).toBe(3);
    expect(result.stderr.trim()).toMatch(
      /^orgchat: no answer from the service node within 2 s \(--timeout; --peer \/ip4\/127\.0\.0\.1\/tcp\/1\/ws\)/,
    );
  });

  it("a --peer that did not answer does not replace the remembered one; files are private", async () => {
    const dir = tempDir();
    const owner = join(dir, "owner");
    await orgchatJson(["org", "create", "Acme", "--peer", peer(), "--data", owner]);
    const config = readFileSync(join(owner, "config.json"), "utf8");
    expect(JSON.parse(config)).toEqual({ peers: [peer()] });
    const wrong = await againstNobody(["org", "show"], owner, 3);
    expect(wrong.code).toBe(3);
    expect(readFileSync(join(owner, "config.json"), "utf8")).toBe(config);
    // Still reachable through the remembered node.
    const shown = await orgchatJson<{ organization: { name: string } }>([
      "org",
      "show",
      "--data",
      owner,
    ]);
    expect(shown.organization.name).toBe("Acme");
    for (const file of files(owner)) expect(file).toEqual({ name: file.name, mode: 0o600 });
    expect(statSync(owner).mode & 0o777).toBe(0o700);
  });

  it("a service node's files are private too (messages.sqlite and its journal)", async () => {
    const node = join(tempDir(), "node");
    const { peer: address } = await serve(node);
    await orgchatJson([
      "org",
      "create",
      "Acme",
      "--peer",
      address,
      "--data",
      join(node, "..", "owner"),
    ]);
    const names = files(node).map((file) => file.name);
    expect(names).toContain("messages.sqlite");
    for (const file of files(node)) expect(file).toEqual({ name: file.name, mode: 0o600 });
  });

  it("a node answering at the --peer address under another peer id is refused, and the error says so", async () => {
    const other = "12D3KooWGC6TvWhfapngX6wvJHMYvKpDMXPb3ZnCZ6dMoaMtimQ5";
    const impostor = peer().replace(/\/p2p\/.*$/, `/p2p/${other}`);
    const data = join(tempDir(), "pinned");
    const result = await orgchat([
      "org",
      "create",
      "Acme",
      "--peer",
      impostor,
      "--data",
      data,
      "--quiet",
    ]);
    // At once, not after --timeout (the helpers give every command 600 s).
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^orgchat: refused the service node: the node at this address is /,
    );
    expect(result.stderr).toContain(`not ${other}`);
    expect(result.stderr).toContain("someone else listens there");
    expect(readdirSync(data)).not.toContain("config.json");
  });

  it("serve: one node per data directory (a lock), --profile names the directory", async () => {
    const home = tempDir();
    const node = join(home, "relay");
    const first = start(
      ["serve", "--json", "--profile", "relay", "--listen", "/ip4/127.0.0.1/tcp/0/ws"],
      {
        ORGCHAT_HOME: home,
      },
    );
    await waitForOutput(first, "stdout", "\n");
    expect(JSON.parse(first.stdout.split("\n")[0] ?? "")).toMatchObject({ dataDir: node });
    expect(readFileSync(join(node, "serve.lock"), "utf8").trim()).toMatch(/^\d+$/);
    const second = await orgchat(["serve", "--data", node, "--listen", "/ip4/127.0.0.1/tcp/0/ws"]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another orgchat serve \(pid \d+\) uses /);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(readdirSync(node)).not.toContain("serve.lock");
    // A lock left by a process that is gone is taken over.
    writeFileSync(join(node, "serve.lock"), "999999999\n");
    const third = start(["serve", "--json", "--data", node, "--listen", "/ip4/127.0.0.1/tcp/0/ws"]);
    await waitForOutput(third, "stdout", "\n");
    third.child.kill("SIGTERM");
    expect(await third.exited).toBe(0);
  });

  it("an older data directory's readable files are made private when it is opened", async () => {
    const data = join(tempDir(), "old");
    await orgchat(["id", "create", "--data", data]);
    // config.json as an older version left it (the store fixes its own files).
    writeFileSync(join(data, "config.json"), `{"peers": []}\n`);
    chmodSync(join(data, "config.json"), 0o644);
    chmodSync(data, 0o755);
    await orgchat(["id", "show", "--data", data]);
    expect(statSync(join(data, "config.json")).mode & 0o777).toBe(0o600);
    expect(statSync(data).mode & 0o777).toBe(0o700);
  });

  it("a broken config.json is an error that says what to do", async () => {
    for (const text of ["{", '{"peers": "x"}', "[]", '{"peers": [1]}']) {
      const data = tempDir();
      writeFileSync(join(data, "config.json"), text);
      const result = await orgchat(["send", "general", "hi", "--data", data, "--quiet"]);
      expect(result.code, text).toBe(1);
      expect(result.stderr.trim(), text).toMatch(
        /config\.json is not (valid JSON|an orgchat profile configuration).*: fix it, or delete it and pass --peer again$/,
      );
    }
  });

  it("orgchat help [command] and --version --json", async () => {
    const main = await orgchat(["help"]);
    expect(main.code).toBe(0);
    expect(main.stdout).toContain("Usage: orgchat <command>");
    expect(main.stdout).toContain("Exit codes");
    const send = await orgchat(["help", "send"]);
    expect(send.code).toBe(0);
    expect(send.stdout).toContain("Usage: orgchat send CHANNEL");
    const group = await orgchat(["help", "org"]);
    expect(group.code).toBe(0);
    expect(group.stdout).toContain("orgchat org create");
    const unknown = await orgchat(["help", "nope"]);
    expect(unknown.code).toBe(2);
    const version = await orgchat(["--version", "--json"]);
    expect(version.code).toBe(0);
    expect(JSON.parse(version.stdout)).toEqual({
      name: "orgchat",
      version: "0.0.0",
      node: process.versions.node,
    });
  });
});
