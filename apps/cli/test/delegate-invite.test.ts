/**
 * A delegate invites with the CLI, the owner offline (issue #17, item 1, over real Waku): the owner
 * makes alice an admin and no owner process runs after that; alice runs `orgchat invite` for dave;
 * dave joins with the invitation; alice's next command admits him (her client answers and makes the
 * add step); dave's `join --wait` gets the keys and he reads the message alice sends next.
 */
import { renameSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { acmeSteps, type OrgJson } from "./acme.ts";
import * as cli from "./helpers.ts";

const { profiles, createAcme, joinAccepted } = acmeSteps(cli.sharedServiceNode());

describe("a delegate invites with the CLI, the owner offline", () => {
  it("alice (admin) invites dave; her next command admits him; dave reads her next message", async () => {
    const dir = profiles();
    const { link } = await createAcme(dir);
    await joinAccepted(dir, link, "alice", "Alice");
    await cli.orgchatJson(["role", "Alice", "admin", ...dir("owner")]);
    const ownerData = dir("owner")[1] ?? "";
    renameSync(ownerData, `${ownerData}-gone`);
    // Alice learns her rank online.
    await cli.orgchatJson(["org", "show", ...dir("alice")]);

    const dave = await cli.orgchatJson<{ id: string }>(["id", "create", ...dir("dave")]);
    const invited = await cli.orgchatJson<{ invitationId: string }>([
      "invite",
      dave.id,
      ...dir("alice"),
    ]);
    expect(invited.invitationId).toMatch(/^[0-9a-f]{64}$/);
    const sent = await cli.orgchatJson<{ status: string; via: string }>([
      "join",
      link,
      "--name",
      "Dave",
      ...dir("dave"),
    ]);
    expect(sent).toMatchObject({ status: "pending", via: "invitation" });
    // Alice's next command reads dave's request from her inbox: the invitation admits him.
    const shown = await cli.orgchatJson<{ organization: OrgJson }>([
      "org",
      "show",
      ...dir("alice"),
    ]);
    expect(Object.keys(shown.organization.members)).toContain(dave.id);
    const joined = await cli.orgchatJson<{ status: string }>([
      "join",
      link,
      "--wait",
      ...dir("dave"),
    ]);
    expect(joined.status).toBe("member");
    await cli.orgchatJson(["send", "general", "welcome, Dave", ...dir("alice")]);
    const reads = await cli.orgchatJson<{ messages: Array<{ text: string }> }>([
      "read",
      "general",
      ...dir("dave"),
    ]);
    expect(reads.messages.map((m) => m.text)).toEqual(["welcome, Dave"]);
  });
});
