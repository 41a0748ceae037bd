/**
 * Messages as people use them (issue #15, "People, not hex"): names instead of hex in `read`,
 * message ids that `edit`, `delete`, `pin` and `--reply-to` take, dates, `send -` and `--file`,
 * empty messages refused, unread counts in `orgchat orgs`, and `chat --history 0`.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acmeSteps } from "./acme.ts";
import {
  finish,
  orgchat,
  orgchatJson,
  sharedServiceNode,
  start,
  tempDir,
  waitForOutput,
} from "./helpers.ts";

const servicePeer = sharedServiceNode();
const { profiles, createAcme, joinAccepted } = acmeSteps(servicePeer);

interface MessageJson {
  id: string;
  author: string;
  text: string;
  replyTo?: string;
  edited: boolean;
  deleted: boolean;
  pinned: boolean;
}

interface OrgsJson {
  organizations: Array<{
    name: string;
    channels: Array<{ id: string; unread: number; messages: number }>;
  }>;
}

describe("messages by id and by name", () => {
  it("read names members, shows ids and dates; edit, delete, pin, reply and unread counts work by id", async () => {
    const dir = profiles();
    await createAcme(dir);
    await joinAccepted(
      dir,
      (await orgchatJson<{ link: string }>(["org", "link", ...dir("owner")])).link,
      "alice",
      "Alice",
    );

    const hello = await orgchatJson<{ message: MessageJson }>([
      "send",
      "general",
      "hello from Alice",
      ...dir("alice"),
    ]);
    // stdin (`-`), as a pipe sends it: the trailing newline is not part of the message.
    const piped = start(["send", "general", "-", "--json", "--quiet", ...dir("alice")]);
    piped.child.stdin?.end("line one\nline two\n");
    const pipedResult = await finish(piped);
    expect(pipedResult.code, pipedResult.stderr).toBe(0);
    expect((JSON.parse(pipedResult.stdout) as { message: MessageJson }).message.text).toBe(
      "line one\nline two",
    );

    // The owner has read nothing yet: two unread in #general.
    const before = await orgchatJson<OrgsJson>(["orgs", ...dir("owner")]);
    expect(before.organizations[0]?.channels).toEqual([
      { id: "general", restricted: false, messages: 2, unread: 2 },
    ]);

    const read = await orgchat(["read", "general", ...dir("owner")]);
    expect(read.code, read.stderr).toBe(0);
    const firstLine = read.stdout.split("\n")[0] ?? "";
    expect(firstLine).toMatch(
      new RegExp(
        `^\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ${hello.message.id.slice(0, 8)}\\] Alice: hello from Alice$`,
      ),
    );
    const after = await orgchatJson<OrgsJson>(["orgs", ...dir("owner")]);
    expect(after.organizations[0]?.channels[0]?.unread).toBe(0);

    // A reply by id prefix; a file as the text.
    const file = join(tempDir(), "answer.txt");
    writeFileSync(file, "answer from a file\n");
    const reply = await orgchatJson<{ message: MessageJson }>([
      "send",
      "general",
      "--file",
      file,
      "--reply-to",
      hello.message.id.slice(0, 8),
      ...dir("owner"),
    ]);
    expect(reply.message).toMatchObject({ text: "answer from a file", replyTo: hello.message.id });

    // Alice edits and pins hers; she may not edit the owner's; the owner deletes hers.
    const edited = await orgchatJson<{ message: MessageJson }>([
      "edit",
      hello.message.id.slice(0, 6),
      "hello, edited",
      ...dir("alice"),
    ]);
    expect(edited.message).toMatchObject({
      id: hello.message.id,
      text: "hello, edited",
      edited: true,
    });
    const notHers = await orgchat([
      "edit",
      reply.message.id.slice(0, 8),
      "mine now",
      ...dir("alice"),
    ]);
    expect(notHers.code).toBe(1);
    expect(notHers.stderr).toContain("only its author can edit a message");
    // Members may not pin here (no moderator role, pinning by all members off): refused before
    // anything is sent. The owner pins.
    const notAllowed = await orgchat(["pin", hello.message.id, ...dir("alice")]);
    expect(notAllowed.code).toBe(1);
    expect(notAllowed.stderr).toContain(
      "only the owner and members with the admin or moderator role pin",
    );
    const pinned = await orgchatJson<{ message: MessageJson }>([
      "pin",
      hello.message.id,
      ...dir("owner"),
    ]);
    expect(pinned.message.pinned).toBe(true);
    const notDeleted = await orgchat(["delete", reply.message.id.slice(0, 8), ...dir("alice")]);
    expect(notDeleted.code).toBe(1);
    const deleted = await orgchatJson<{ message: MessageJson }>([
      "delete",
      hello.message.id.slice(0, 8),
      ...dir("owner"),
    ]);
    expect(deleted.message.deleted).toBe(true);

    const aliceRead = await orgchat(["read", "general", ...dir("alice")]);
    expect(aliceRead.stdout).toContain(`you: (deleted)\n`);
    expect(aliceRead.stdout).toContain(
      `owner (re ${hello.message.id.slice(0, 8)}): answer from a file`,
    );

    // Members see each other's names too (the owner's description carries them), in `read` and in
    // `org show`, and a member is found by name.
    await joinAccepted(
      dir,
      (await orgchatJson<{ link: string }>(["org", "link", ...dir("owner")])).link,
      "bob",
      "Bob",
    );
    await orgchatJson(["send", "general", "hi from Bob", ...dir("bob")]);
    const aliceSees = await orgchat(["read", "general", ...dir("alice")]);
    expect(aliceSees.stdout).toMatch(/\] Bob: hi from Bob\n/);
    const bobShows = await orgchat(["org", "show", ...dir("bob")]);
    expect(bobShows.stdout).toMatch(/members \(3\): .*Alice \([0-9a-f]{8}\)/);
    const shown = await orgchatJson<{ organization: { memberNames: Record<string, string> } }>([
      "org",
      "show",
      ...dir("alice"),
    ]);
    expect(Object.values(shown.organization.memberNames).sort()).toEqual(["Alice", "Bob"]);

    // Unknown and ambiguous references, bad prefixes: errors that say what to do.
    const unknown = await orgchat(["pin", "0000ffff", ...dir("owner")]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no message 0000ffff in Acme");
    const notHex = await orgchat(["pin", "xyz!", ...dir("owner")]);
    expect(notHex.code).toBe(2);
  });

  it("refuses empty messages and a text with --file; chat --history 0 prints no history", async () => {
    const dir = profiles();
    await createAcme(dir);
    for (const args of [
      ["send", "general", "   "],
      ["send", "general", "x", "--file", "/nonexistent"],
    ]) {
      const result = await orgchat([...args, ...dir("owner")]);
      expect(result.code, args.join(" ")).toBe(2);
    }
    const emptyPipe = start(["send", "general", "-", ...dir("owner")]);
    emptyPipe.child.stdin?.end("\n");
    const empty = await finish(emptyPipe);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("the message is empty");

    await orgchatJson(["send", "general", "history line", ...dir("owner")]);
    const chat = start(["chat", "general", "--history", "0", ...dir("owner")]);
    await waitForOutput(chat, "stdout", "-- #general of Acme");
    chat.child.stdin?.end();
    const ended = await finish(chat);
    expect(ended.code, ended.stderr).toBe(0);
    expect(ended.stdout).not.toContain("history line");
    const negative = await orgchat(["chat", "general", "--history", "-1", ...dir("owner")]);
    expect(negative.code).toBe(2);
  });

  it("the command a hint names runs as printed (join … --wait with the whole key)", async () => {
    const dir = profiles();
    await createAcme(dir);
    const { link } = await orgchatJson<{ link: string }>(["org", "link", ...dir("owner")]);
    const asked = await orgchat(["join", link, "--name", "Alice", ...dir("alice")]);
    expect(asked.code, asked.stderr).toBe(0);
    const hint = /`orgchat (join [0-9a-f]{64} --wait)`/.exec(asked.stdout)?.[1];
    expect(hint, asked.stdout).toBeDefined();
    const waiting = start([...(hint ?? "").split(" "), ...dir("alice")]);
    await waitForOutput(waiting, "stderr", "waiting for the owner");
    await orgchatJson(["accept", "Alice", ...dir("owner")]);
    const joined = await finish(waiting);
    expect(joined.code, joined.stderr).toBe(0);
  });

  it("a mistyped key leaves an observer organization that org forget removes", async () => {
    const dir = profiles();
    await createAcme(dir);
    const typo = `${"f".repeat(63)}e`;
    const joined = await orgchat(["join", typo, "--peer", servicePeer(), ...dir("owner")]);
    expect(joined.code).toBe(1);
    const listed = await orgchatJson<{ organizations: Array<{ id: string; role: string }> }>([
      "org",
      "show",
      ...dir("owner"),
    ]);
    expect(listed.organizations.map((org) => org.role).sort()).toEqual(["observer", "owner"]);
    // Two organizations now: commands without --org must ask which.
    expect((await orgchat(["send", "general", "hi", ...dir("owner")])).code).toBe(2);
    const forgot = await orgchat(["org", "forget", typo.slice(0, 8), ...dir("owner")]);
    expect(forgot.code, forgot.stderr).toBe(0);
    expect(forgot.stdout).toContain("nothing of it is kept");
    expect((await orgchat(["send", "general", "hi", ...dir("owner")])).code).toBe(0);
    // Its own organization is refused, with what to do.
    const own = await orgchat(["org", "forget", "Acme", ...dir("owner")]);
    expect(own.code).toBe(1);
    expect(own.stderr).toContain("an owner cannot forget its organization");
  });
});
