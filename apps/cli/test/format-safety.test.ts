/**
 * The human renderings of `format.ts` and the error lines of `errors.ts` with hostile names and texts
 * (`hostile-strings.ts`): no control sequence and no forged line reaches the output.
 */
import type { MessageView, OrganizationView, RequestView } from "@orgchat/client";
import { describe, expect, it } from "vitest";
import { CliError, explain } from "../src/errors.ts";
import {
  messageLine,
  orgHuman,
  orgLine,
  printResult,
  progressOn,
  requestLine,
  table,
} from "../src/format.ts";
import { continuationPrefix, nameWidth } from "../src/terminal-text.ts";
import { hostileStrings } from "./hostile-strings.ts";

/** Any raw control, format character (joiners and flag tags aside), separator or lone surrogate. */
const raw = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
const allowed = /\u{1F3F4}[\u{E0020}-\u{E007E}]{1,7}\u{E007F}|[\u200C\u200D]/gu;

/** Fails when `text` has anything raw besides its own `\n`. */
function expectPrintable(text: string): void {
  expect(text.replace(allowed, "").replaceAll("\n", "")).not.toMatch(raw);
}

const owner = "0".repeat(64);
const mallory = "a1b2c3d4".repeat(8);

function org(name: string, text: string): OrganizationView {
  return {
    id: owner,
    role: "requester",
    identity: { displayName: name, description: text, ensName: "", images: {} },
    access: "on-request",
    encrypted: true,
    tags: [],
    pinMessageAllMembersEnabled: false,
    members: new Map([
      [owner, []],
      [mallory, []],
    ]),
    memberNames: new Map([[mallory, name]]),
    banned: [],
    channels: [
      {
        id: name,
        name,
        description: text,
        categoryId: "",
        access: "no-membership",
        private: false,
        restricted: false,
        canPost: true,
        members: [],
      },
    ],
    categories: new Map([[name, name]]),
    clock: 1n,
    request: { id: "r1", status: "rejected", reason: text },
  } as OrganizationView;
}

/** 10:00:00 UTC: when every message and request here was sent, received and shown. */
const at = Date.UTC(2026, 11, 6, 10, 0, 0);

/** Mallory's message in #general. */
/** How {@link message}'s time and id show in a message line. */
const day = new Date(at).toISOString().slice(0, 10);
const idShown = "m1";

function message(text: string): MessageView {
  const flags = { edited: false, deleted: false, pinned: false, own: false };
  const times = { sentAt: at, receivedAt: at, shownAt: at };
  return {
    id: "m1",
    organizationId: owner,
    channelId: "general",
    author: mallory,
    text,
    ...times,
    clock: 5n,
    ...flags,
  };
}

function request(name: string, text: string): RequestView {
  return {
    id: "f".repeat(64),
    requester: mallory,
    displayName: name,
    chatId: "",
    sentAt: at,
    status: "rejected",
    reason: text,
  };
}

describe("human output of hostile names and texts", () => {
  it.each(hostileStrings)("$label: org show, org list line, request line, table", ({ text }) => {
    const shown = orgHuman(org(text, text), mallory);
    expectPrintable(shown);
    // Every line is ours: the header, the description, then our labelled fields (none of theirs).
    const lines = shown.split("\n");
    expect(lines).toHaveLength(6);
    expect(lines.slice(2).map((line) => line.split(":")[0])).toEqual([
      "  you are",
      "  access",
      "  channels",
      "  members (2)",
    ]);
    for (const line of [
      orgLine(org(text, text)),
      requestLine(request(text, text)),
      table(["name", "reason"], [[text, text]]),
    ]) {
      expectPrintable(line);
    }
    expect(orgLine(org(text, text))).not.toContain("\n");
    expect(requestLine(request(text, text))).not.toContain("\n");
    expect(table(["name", "reason"], [[text, text]]).split("\n")).toHaveLength(3);
  });

  it.each(hostileStrings)("$label: a message line and an author's name", ({ text }) => {
    const shown = messageLine(message(text), new Map([[mallory, text]]));
    expectPrintable(shown);
    const [first = "", ...rest] = shown.split("\n");
    expect(/^\[\d{4}-\d\d-\d\d 10:00:00 [0-9a-z]+\] /.test(first)).toBe(true);
    for (const line of rest) expect(line.startsWith(continuationPrefix)).toBe(true);
  });

  it("the issue's forged owner line stays inside Mallory's message, marked", () => {
    const shown = messageLine(message("hi\n[06:50:00] owner: please send me your passphrase"));
    expect(shown).toBe(
      `[${day} 10:00:00 ${idShown}] a1b2c3d4: hi\n  │ [06:50:00] owner: please send me your passphrase`,
    );
  });

  it("a name with a line break keeps the request list to one line per request", () => {
    const lines = [request("Eve\n0000  Alice  pending", "x"), request("Bob", "y")]
      .map(requestLine)
      .join("\n")
      .split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain("Eve\\n0000  Alice  pending");
  });

  it("a long name is cut in tables, list lines and message lines", () => {
    const long = "N".repeat(300);
    expect(table(["name"], [[long]]).split("\n")[2]).toBe(`${"N".repeat(nameWidth)}…`);
    expect(orgLine(org(long, ""))).toContain(`${"N".repeat(nameWidth - 1)}… `);
    expect(messageLine(message("x"), new Map([[mallory, long]]))).toBe(
      `[${day} 10:00:00 ${idShown}] ${"N".repeat(nameWidth - 1)}…: x`,
    );
  });

  it.each(hostileStrings)("$label: error lines and progress are one printable line", ({ text }) => {
    const { line } = explain(new CliError(`no request ${text} in ${text}: list them`));
    expectPrintable(line);
    expect(line).not.toContain("\n");
    const written: string[] = [];
    for (const stderrIsTTY of [true, false]) {
      const progress = progressOn(
        { stdout: () => {}, stderr: (t) => written.push(t), stderrIsTTY },
        true,
      );
      progress.update(`waiting for ${text}`);
      progress.done();
    }
    // Ours: `\r\e[K` to redraw on a terminal, one `\n` per line otherwise.
    const theirs = written.join("").replaceAll("\r\x1b[K", "").replace(/\n$/, "");
    expectPrintable(theirs);
    expect(theirs).not.toContain("\n");
  });

  it("printResult escapes what a field let through, and keeps JSON exact", () => {
    const out: string[] = [];
    const output = { stdout: (t: string) => out.push(t), stderr: () => {}, stderrIsTTY: false };
    const text = "\x1b]0;pwned\x07\u202e";
    printResult(output, { json: { text }, human: `two\nlines ${text}` }, false);
    printResult(output, { json: { text }, human: "" }, true);
    expect(out[0]).toBe("two\nlines \\e]0;pwned\\a\\u202e\n");
    expect(JSON.parse(out[1] ?? "")).toEqual({ text });
  });
});
