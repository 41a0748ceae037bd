/**
 * Issue #17's acceptance, black box over real Waku with the CLI: the owner grants alice `admin` and
 * no owner process runs after that (its data directory is even moved away); bob asks to join, alice
 * accepts him by name, bob's `join --wait` gets the keys, bob reads the message alice sends next;
 * alice bans carol, and carol's retained keys open nothing sent after it; then the owner comes back,
 * follows, and what it sends reaches bob and alice, not carol. Each step is timed and the
 * times are printed (they decide nothing: the outcome is decided by exits and output).
 */
import { renameSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { acmeSteps, type OrgJson } from "./acme.ts";
import * as cli from "./helpers.ts";

/** The suite's one `orgchat serve`; the owner, alice, carol and bob each have a data directory. */
const { profiles, createAcme, joinAccepted } = acmeSteps(cli.sharedServiceNode());

interface Shown {
  organization: OrgJson & { delegates: Record<string, string> };
}
interface Read {
  messages: Array<{ text: string }>;
}

/** Times steps (performance.now) and prints them as a table at the end. */
function stopwatch() {
  const rows: Array<[string, number]> = [];
  return {
    async step<T>(label: string, run: () => Promise<T>): Promise<T> {
      const t0 = performance.now();
      const value = await run();
      rows.push([label, performance.now() - t0]);
      return value;
    },
    print(title: string): void {
      const width = Math.max(...rows.map(([label]) => label.length));
      console.log(
        [
          title,
          ...rows.map(([label, ms]) => `  ${label.padEnd(width)}  ${ms.toFixed(0).padStart(6)} ms`),
        ].join("\n"),
      );
    },
  };
}

describe("delegates use the CLI with the owner offline (issue #17, acceptance)", () => {
  it("alice (admin) accepts bob, who reads her next message; she bans carol, whose retained keys open nothing after it; the owner comes back: it reads bob, and what it sends reaches bob and alice, not carol", async () => {
    const dir = profiles();
    const time = stopwatch();

    // The owner's part, before it goes away for good.
    const { link } = await time.step("owner: org create", () => createAcme(dir));
    const alice = await time.step("alice joins (owner accepts)", () =>
      joinAccepted(dir, link, "alice", "Alice"),
    );
    const carol = await time.step("carol joins (owner accepts)", () =>
      joinAccepted(dir, link, "carol", "Carol"),
    );
    await time.step("owner: role Alice admin", () =>
      cli.orgchatJson(["role", "Alice", "admin", ...dir("owner")]),
    );
    // No owner process from here on: its data directory (and key) is moved out of reach.
    const ownerData = dir("owner")[1] ?? "";
    renameSync(ownerData, `${ownerData}-gone`);

    // Alice learns her rank online; `org show` marks the delegates.
    const shown = await time.step("alice: org show", () =>
      cli.orgchatJson<Shown>(["org", "show", ...dir("alice")]),
    );
    expect(shown.organization.delegates).toEqual({ [alice]: "admin" });
    // A plain member is refused, with who can.
    const refused = await cli.orgchat(["requests", ...dir("carol")]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split("\n").at(-1)).toBe(
      "orgchat: only the owner, admins and managers of Acme can run `orgchat requests` (this identity is a member of it): ask one of them, or ask the owner to make you a manager (`orgchat role <you> manager`)",
    );

    // Bob asks; alice holds the request and accepts it by name; bob's join --wait gets the keys.
    const joining = cli.start(["join", link, "--name", "Bob", "--wait", "--json", ...dir("bob")]);
    await time.step("bob: join (request sent)", () =>
      cli.waitForOutput(joining, "stderr", "waiting for the owner"),
    );
    const listed = await time.step("alice: requests", () =>
      cli.orgchatJson<{ requests: Array<{ displayName: string; status: string }> }>([
        "requests",
        ...dir("alice"),
      ]),
    );
    expect(listed.requests.map((r) => [r.displayName, r.status])).toEqual([["Bob", "pending"]]);
    const joined = await time.step("alice: accept Bob → bob's join --wait exits", async () => {
      const accepted = await cli.orgchatJson<{
        organization: OrgJson;
        request: { requester: string };
      }>(["accept", "Bob", ...dir("alice")]);
      expect(Object.keys(accepted.organization.members)).toContain(accepted.request.requester);
      return cli.finish(joining);
    });
    expect(joined.code, joined.stderr).toBe(0);
    expect(JSON.parse(joined.stdout)).toMatchObject({ status: "member", via: "request" });

    await time.step("alice: send (welcome)", () =>
      cli.orgchatJson(["send", "general", "welcome, Bob", ...dir("alice")]),
    );
    const bobReads = await time.step("bob: read", () =>
      cli.orgchatJson<Read>(["read", "general", ...dir("bob")]),
    );
    expect(bobReads.messages.map((m) => m.text)).toEqual(["welcome, Bob"]);

    // Carol is in step, then alice posts once more before the ban (carol does not read it yet).
    const carolBefore = await time.step("carol: read", () =>
      cli.orgchatJson<Read>(["read", "general", ...dir("carol")]),
    );
    expect(carolBefore.messages.map((m) => m.text)).toEqual(["welcome, Bob"]);
    await cli.orgchatJson(["send", "general", "before the ban", ...dir("alice")]);
    const epochBefore = BigInt(
      (await cli.orgchatJson<Shown>(["org", "show", ...dir("carol")])).organization.epoch ?? "0",
    );
    const banned = await time.step("alice: ban Carol", () =>
      cli.orgchatJson<{ organization: OrgJson; epoch: string }>(["ban", "Carol", ...dir("alice")]),
    );
    expect(banned.organization.banned).toEqual([carol]);
    expect(BigInt(banned.epoch)).toBeGreaterThan(epochBefore);
    await time.step("bob: send (after the ban)", () =>
      cli.orgchatJson(["send", "general", "after the ban: from Bob", ...dir("bob")]),
    );
    await time.step("alice: send (after the ban)", () =>
      cli.orgchatJson(["send", "general", "after the ban: plan B", ...dir("alice")]),
    );
    const bobAfter = await time.step("bob: read (re-keyed)", () =>
      cli.orgchatJson<Read>(["read", "general", ...dir("bob")]),
    );
    expect(bobAfter.messages.map((m) => m.text)).toEqual([
      "welcome, Bob",
      "before the ban",
      "after the ban: from Bob",
      "after the ban: plan B",
    ]);
    // Carol, banned, reads what is on the service node with the keys she kept: the message sent in
    // her last epoch opens (first fetched now, after the ban: she does hold that epoch's keys), the
    // two sent after the re-key do not. Without the re-key (the delegate's KeyUpdate left out),
    // alice's client refuses to send, and bob's message, in the old epoch, shows here: checked.
    const carolAfter = await time.step("carol: read (banned)", () =>
      cli.orgchatJson<Shown & Read>(["read", "general", ...dir("carol")]),
    );
    expect(carolAfter.messages.map((m) => m.text)).toEqual(["welcome, Bob", "before the ban"]);
    const carolView = await cli.orgchatJson<Shown>(["org", "show", ...dir("carol")]);
    expect(BigInt(carolView.organization.epoch ?? "0")).toBe(epochBefore);
    // What stays with the owner is refused in words, before any connection; so is the owner as a target.
    const unban = await cli.orgchat(["unban", "Carol", ...dir("alice")]);
    expect([unban.code, unban.stderr.trim().split("\n").at(-1)]).toEqual([
      1,
      "orgchat: only the owner of Acme can run `orgchat unban` (this identity is its admin: admins and managers run requests, accept, reject, invite, remove and ban; the rest stays with the owner)",
    ]);
    const banOwner = await cli.orgchat(["ban", shown.organization.id, ...dir("alice")]);
    expect([banOwner.code, banOwner.stderr.trim().split("\n").at(-1)]).toEqual([
      1,
      "orgchat: the owner of Acme cannot be banned",
    ]);
    // A delegate's decisions reach the members' states (`delegate-event`s): carol and bob see the
    // ban, and carol's send is refused as a ban, not as keys still to come.
    expect(carolView.organization.banned).toEqual([carol]);
    const bobView = await cli.orgchatJson<Shown>(["org", "show", ...dir("bob")]);
    expect(bobView.organization.banned).toEqual([carol]);
    const carolSend = await cli.orgchat(["send", "general", "still here?", ...dir("carol")]);
    expect([carolSend.code, carolSend.stderr.trim().split("\n").at(-1)]).toEqual([
      1,
      "orgchat: you are banned from Acme: only its owner can lift the ban (`orgchat unban`)",
    ]);

    time.print("delegates over real Waku (127.0.0.1), owner offline after `role`:");

    // The owner comes back (its data directory where it was): it follows alice's add step and her
    // KeyUpdate, reads bob's message sent while it was away, and what it sends reaches bob and alice,
    // not carol. (Once a test of its own that made the same organization again: 14 more processes.)
    renameSync(`${ownerData}-gone`, ownerData);
    const back = stopwatch();
    const ownerReads = await back.step("owner: read (catches up, follows 2 epochs)", () =>
      cli.orgchatJson<Read>(["read", "general", ...dir("owner")]),
    );
    expect(ownerReads.messages.map((m) => m.text)).toContain("after the ban: from Bob");
    const epochs = async (name: string) =>
      (await cli.orgchatJson<Shown>(["org", "show", ...dir(name)])).organization.epoch;
    expect(await epochs("owner")).toBe(await epochs("alice"));
    await back.step("owner: send", () =>
      cli.orgchatJson(["send", "general", "the owner is back", ...dir("owner")]),
    );
    for (const [name, reads] of [
      ["bob", true],
      ["alice", true],
      ["carol", false],
    ] as const) {
      const read = await cli.orgchatJson<Read>(["read", "general", ...dir(name)]);
      expect(read.messages.map((m) => m.text).includes("the owner is back"), name).toBe(reads);
    }
    back.print("the owner's return over real Waku (127.0.0.1), after alice's accept and ban:");
  });

  it("a manager lists requests but may not ban an admin: the rank rule, in words", async () => {
    const dir = profiles();
    const { link } = await createAcme(dir);
    const alice = await joinAccepted(dir, link, "alice", "Alice");
    await joinAccepted(dir, link, "max", "Max");
    await cli.orgchatJson(["role", "Alice", "admin", ...dir("owner")]);
    await cli.orgchatJson(["role", "Max", "manager", ...dir("owner")]);
    const listed = await cli.orgchat(["requests", ...dir("max")]);
    expect([listed.code, listed.stdout.trim()]).toEqual([0, "no pending requests for Acme"]);
    const refused = await cli.orgchat(["ban", "Alice", ...dir("max")]);
    expect([refused.code, refused.stderr.trim().split("\n").at(-1)]).toEqual([
      1,
      `orgchat: Alice (${alice.slice(0, 8)}) is an admin of Acme and you are a manager: admins and managers ban only members below their own rank (an admin: managers, moderators and members; a manager: moderators and members); ask the owner`,
    ]);
    const view = await cli.orgchatJson<Shown>(["org", "show", ...dir("max")]);
    expect(view.organization.banned).toEqual([]);
  });
});
