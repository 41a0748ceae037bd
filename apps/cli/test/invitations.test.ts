/**
 * `orgchat invitations` (issue #13, row 7): an invitation is listed and acted on only when the user
 * says so — `invitations accept ORG` joins with it, `invitations decline ORG` forgets it; until then
 * the invitee knows no organization. Separate OS processes per identity against one
 * `orgchat serve` on 127.0.0.1, as in `cli.test.ts`.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { orgchat, orgchatJson, sharedServiceNode, tempDir } from "./helpers.ts";

interface InvitationJson {
  organizationId: string;
  invitationId: string;
  chatId: string;
  name?: string;
}

const servicePeer = sharedServiceNode();

describe("orgchat invitations", () => {
  it("list, accept, decline: nothing is joined until the invitee accepts", async () => {
    const home = tempDir();
    const dir = (name: string) => ["--data", join(home, name)];
    const create = (owner: string, name: string) =>
      orgchatJson<{ organization: { id: string }; link: string }>([
        "org",
        "create",
        name,
        "--access",
        "invite",
        "--channel",
        "general",
        "--peer",
        servicePeer(),
        ...dir(owner),
      ]);
    const acme = await create("owner", "Acme");
    const beta = await create("other", "Beta");
    const dave = await orgchatJson<{ id: string }>(["id", "create", ...dir("dave")]);
    const none = await orgchatJson<{ invitations: InvitationJson[] }>([
      "invitations",
      "--peer",
      servicePeer(),
      ...dir("dave"),
    ]);
    expect(none.invitations).toEqual([]);
    await orgchatJson(["invite", dave.id, ...dir("owner")]);
    await orgchatJson(["invite", dave.id, ...dir("other")]);

    const listed = await orgchatJson<{ invitations: InvitationJson[] }>([
      "invitations",
      ...dir("dave"),
    ]);
    expect(listed.invitations.map((i) => i.organizationId).sort()).toEqual(
      [acme.organization.id, beta.organization.id].sort(),
    );
    // Listed, not adopted: dave knows no organization yet.
    const shown = await orgchatJson<{ organizations: unknown[] }>(["id", "show", ...dir("dave")]);
    expect(shown.organizations).toEqual([]);

    const unknown = await orgchat(["invitations", "accept", "ffffffff", ...dir("dave")]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no invitation from ffffffff: .*`orgchat invitations`/);

    const declined = await orgchatJson<{ invitationId: string }>([
      "invitations",
      "decline",
      beta.organization.id.slice(0, 8),
      "--offline",
      ...dir("dave"),
    ]);
    expect(declined.invitationId).toBe(
      listed.invitations.find((i) => i.organizationId === beta.organization.id)?.invitationId,
    );

    const accepted = await orgchatJson<{ requestId: string; organization: { name: string } }>([
      "invitations",
      "accept",
      acme.organization.id.slice(0, 8),
      "--name",
      "Dave",
      ...dir("dave"),
    ]);
    expect(accepted.organization.name).toBe("Acme");
    // Both answered: the list is empty, also after reading the inbox again.
    const after = await orgchatJson<{ invitations: InvitationJson[] }>([
      "invitations",
      ...dir("dave"),
    ]);
    expect(after.invitations).toEqual([]);

    await orgchatJson(["org", "show", ...dir("owner")]); // the owner's next command applies it
    const joined = await orgchatJson<{ status: string; via: string }>([
      "join",
      acme.link,
      "--wait",
      ...dir("dave"),
    ]);
    expect(joined.status).toBe("member");
    const orgs = await orgchatJson<{ organizations: Array<{ id: string }> }>([
      "id",
      "show",
      ...dir("dave"),
    ]);
    expect(orgs.organizations.map((o) => o.id)).toEqual([acme.organization.id]);
  });
});
