/**
 * Issue #15, item 1, end to end: hostile names, descriptions, reasons and message texts go through
 * every command that shows remote text (`org create`, `join`, `requests`, `accept`, `reject`, `read`,
 * `chat` through a pipe and in a pty, `org show`, `channel list`, `category list`, `invitations`,
 * `id show`, errors quoting an organization's name), each a real `orgchat` process against one
 * `orgchat serve`. No byte of a control sequence, bidi control or foreign line break reaches stdout
 * or stderr; `--json` gives the exact strings back. One organization carries every string, so the
 * whole story costs ~25 processes. NUL and lone surrogates cannot be passed on a command line: the
 * unit tests cover them.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { continuationPrefix } from "../src/terminal-text.ts";
import {
  finish,
  orgchat,
  orgchatCommandLine,
  orgchatJson,
  type Result,
  sharedServiceNode,
  start,
  startProgram,
  tempDir,
  waitForOutput,
} from "./helpers.ts";
import { hostileStrings } from "./hostile-strings.ts";

const servicePeer = sharedServiceNode();

/** Every hostile string a command line can carry (no NUL, no lone surrogate). */
const passable = hostileStrings
  .map((h) => h.text)
  .filter((text) => !text.includes("\0") && !/\p{Cs}/u.test(text));
/** All of them in one text (a description, a reason, a message: under the wire's 4096 bytes). */
const everything = passable.join(" ~ ");
const forged = "hi\n[06:50:00] owner: please send me your passphrase";
const orgName = "\x1b[1;31m\u202eAcme\x1b]2;x\x07\r\n#general> ";
const aliceName = "Al\u200bi\x1b]0;pwned\x07ce\n[06:50:00] owner: hi";
const malloryName = "\u009b2J\u2066Mallory\u2028\x08\x08\x08";
const channelName = "lounge\x1b[8m\u202e";
const categoryName = "eng\r\x1b[2K\u2029";

/** Any raw control, format character, separator or surrogate (the joiners and emoji flags aside). */
const raw = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0]/u;
const allowed = /\u{1F3F4}[\u{E0020}-\u{E007E}]{1,7}\u{E007F}|[\u200C\u200D]/gu;

/** What the user saw of one command: both streams, with nothing raw but `\n`. */
function expectClean(what: string, result: Pick<Result, "stdout" | "stderr">): void {
  for (const [stream, text] of [
    ["stdout", result.stdout],
    ["stderr", result.stderr],
  ] as const) {
    const found = text.replace(allowed, "").replaceAll("\n", "").match(raw);
    expect(
      found,
      `${what} ${stream} has U+${found?.[0]?.codePointAt(0)?.toString(16)}: ${JSON.stringify(text)}`,
    ).toBeNull();
    // No line of anyone else's can pass for a message line of ours.
    expect(text.split("\n").filter((line) => line.startsWith("[06:50:00]"))).toEqual([]);
  }
}

/** Runs a human command, expects `code`, checks both streams. */
async function shown(args: readonly string[], code = 0): Promise<Result> {
  const result = await orgchat(args);
  expect(result.code, `orgchat ${args.join(" ")}: ${result.stderr}`).toBe(code);
  expectClean(`orgchat ${args.slice(0, 2).join(" ")}`, result);
  return result;
}

/** Runs a command with `--json`, checks both streams too, parses the document. */
async function exact<T>(args: readonly string[]): Promise<T> {
  const result = await orgchat([...args, "--json"]);
  expect(result.code, `orgchat ${args.join(" ")}: ${result.stderr}`).toBe(0);
  expectClean(`orgchat ${args.slice(0, 2).join(" ")} --json`, result);
  return JSON.parse(result.stdout) as T;
}

interface RequestJson {
  id: string;
  displayName: string;
  reason?: string;
}

describe("hostile text through every command", () => {
  it("no control sequence reaches the terminal; --json keeps the exact strings", async () => {
    const home = tempDir();
    const dir = (name: string) => ["--data", join(home, name)];

    const created = await exact<{
      organization: { id: string; name: string; description: string };
      link: string;
    }>([
      "org",
      "create",
      orgName,
      "--description",
      everything,
      "--channel",
      "general",
      "--peer",
      servicePeer(),
      ...dir("owner"),
    ]);
    expect(created.organization).toMatchObject({ name: orgName, description: everything });
    const { link } = created;
    const orgId = created.organization.id;
    await shown([
      "channel",
      "create",
      "lounge",
      "--name",
      channelName,
      "--description",
      everything,
      ...dir("owner"),
    ]);
    const category = await shown(["category", "create", "eng", categoryName, ...dir("owner")]);
    expect(category.stdout).toContain("category eng created: done (\\e[1;31m\\u202eAcme");

    // Alice asks under a hostile name; the owner's request list stays one line per request.
    const asked = await shown(["join", link, "--name", aliceName, ...dir("alice")]);
    expect(asked.stdout).toContain("sent to the owner of \\e[1;31m\\u202eAcme\\e]2;x\\a\\r\\n");
    const listed = await shown(["requests", ...dir("owner")]);
    expect(listed.stdout.trim().split("\n")).toHaveLength(1);
    // Cut at 40 code points (escapes count as shown), with a visible ellipsis.
    expect(listed.stdout).toContain("  Al\\u200bi\\e]0;pwned\\ace\\n[06:50:00] own…  ");
    const requests = await exact<{ requests: RequestJson[] }>(["requests", ...dir("owner")]);
    expect(requests.requests.map((r) => r.displayName)).toEqual([aliceName]);
    const accepted = await shown(["accept", requests.requests[0]?.id ?? "", ...dir("owner")]);
    expect(accepted.stdout).toMatch(/^accepted Al\\u200bi\\e\]0;pwned\\ace\\n\[06:50:00\]/);
    await shown(["join", link, "--wait", ...dir("alice")]);
    await shown(["send", "general", everything, ...dir("alice")]);

    // The owner's chat: history, a live message, a request, /requests and /org.
    const chat = start(["chat", "general", ...dir("owner")]);
    await waitForOutput(chat, "stdout", "/help for commands");
    await shown(["join", link, "--name", malloryName, ...dir("mallory")]);
    await waitForOutput(chat, "stdout", "* request to join from");
    await shown(["send", "general", forged, ...dir("alice")]);
    await waitForOutput(chat, "stdout", "please send me your passphrase");
    chat.child.stdin?.write("/requests\n/org\n/quit\n");
    const chatted = await finish(chat);
    expect(chatted.code, chatted.stderr).toBe(0);
    expectClean("orgchat chat", chatted);
    expect(chatted.stdout).toContain(`hi\n${continuationPrefix}[06:50:00] owner: please send me`);
    expect(chatted.stdout).toContain(
      "* request to join from \\u009b2J\\u2066Mallory\\u2028\\b\\b\\b",
    );
    const mallory = /\/reject ([0-9a-f]{8}) REASON/.exec(chatted.stdout)?.[1] ?? "";
    expect(mallory).not.toBe("");

    // In a terminal (a pty through `script`): readline draws the prompt with its own sequences, so
    // check that none of theirs comes through raw.
    const tty = startProgram("script", [
      "-qfec",
      orgchatCommandLine(["chat", "general", ...dir("alice")]),
      "/dev/null",
    ]);
    await waitForOutput(tty, "stdout", "/help for commands");
    tty.child.stdin?.write("/quit\r");
    const ttyChat = await finish(tty);
    expect(ttyChat.code, ttyChat.stderr).toBe(0);
    expect(ttyChat.stdout).toContain("\\e]0;pwned\\a");
    for (const payload of [
      "\x1b]",
      "\x1b[31m",
      "\x1b[1A",
      "\x1bP",
      "\x07",
      "\u009b",
      "\u202e",
      "\u2066",
      "\u2028",
    ]) {
      expect(ttyChat.stdout.includes(payload), JSON.stringify(payload)).toBe(false);
    }
    expect(ttyChat.stdout).not.toMatch(/(^|[\r\n])\[06:50:00\]/);

    const read = await shown(["read", "general", ...dir("owner")]);
    expect(read.stdout).toContain(`\n${continuationPrefix}[06:50:00] owner: please send me`);
    expect(read.stdout).toContain("\\e[31mred alert\\e[0m");
    const messages = await exact<{ messages: Array<{ text: string }> }>([
      "read",
      "general",
      ...dir("alice"),
    ]);
    expect(messages.messages.map((m) => m.text)).toEqual([everything, forged]);

    // The owner rejects Mallory with a hostile reason; Mallory's waiting join shows it, escaped.
    const waiting = start(["join", link, "--wait", ...dir("mallory")]);
    await waitForOutput(waiting, "stderr", "waiting for the owner");
    await shown(["reject", mallory, "--reason", everything, ...dir("owner")]);
    const rejected = await finish(waiting);
    expect(rejected.code, rejected.stderr).toBe(1);
    expectClean("orgchat join --wait (rejected)", rejected);
    expect(rejected.stderr).toContain("rejected your request: \\e[31mred alert");
    const all = await exact<{ requests: RequestJson[] }>(["requests", "--all", ...dir("owner")]);
    expect(all.requests.find((r) => r.displayName === malloryName)?.reason).toBe(everything);
    await shown(["requests", "--all", ...dir("owner")]);

    // Everything else that shows names: org show, channels, categories, id show.
    const org = await shown(["org", "show", ...dir("alice")]);
    expect(org.stdout.split("\n").slice(0, 2)).toEqual([
      `\\e[1;31m\\u202eAcme\\e]2;x\\a\\r\\n#general>   ${orgId}`,
      `  ${passable.map((text) => hostileStrings.find((h) => h.text === text)?.inline).join(" ~ ")}`,
    ]);
    const channels = await shown(["channel", "list", ...dir("alice")]);
    expect(channels.stdout).toContain("lounge\\e[8m\\u202e");
    const categories = await shown(["category", "list", ...dir("alice")]);
    expect(categories.stdout.trim()).toBe("eng  eng\\r\\e[2K\\u2029");
    await shown(["id", "show", ...dir("owner")]);
    const shownJson = await exact<{ organization: { name: string; categories: object } }>([
      "org",
      "show",
      "--offline",
      ...dir("alice"),
    ]);
    expect(shownJson.organization.name).toBe(orgName);
    expect(shownJson.organization.categories).toEqual({ eng: categoryName });
    // An error that quotes the organization's name.
    const missing = await shown(["read", "nosuch", ...dir("alice")], 1);
    expect(missing.stderr).toContain("no channel #nosuch in \\e[1;31m\\u202eAcme");

    // An invitation names its organization to someone who knows nothing of it yet.
    const dave = await orgchatJson<{ id: string }>(["id", "create", ...dir("dave")]);
    await shown(["invite", dave.id, ...dir("owner")]);
    const invitations = await shown(["invitations", "--peer", servicePeer(), ...dir("dave")]);
    expect(invitations.stdout).toContain(orgId.slice(0, 8));
  });
});
