/**
 * Who may run the delegates' commands, and the refusals in words (`src/delegation.ts`,
 * `src/ranks.ts`), on organizations built as the client shows them; and how `org show` marks the
 * delegates.
 */
import type { OrganizationView } from "@orgchat/client";
import { describe, expect, it } from "vitest";
import { requireBelowRank, requireOwnerOrDelegate } from "../src/delegation.ts";
import { orgHuman, orgJson } from "../src/format.ts";
import { isDelegateOf, rankIn } from "../src/ranks.ts";

const owner = "00".repeat(32);
const admin = "aa".repeat(32);
const admin2 = "a2".repeat(32);
const manager = "bb".repeat(32);
const moderator = "cc".repeat(32);
const member = "dd".repeat(32);
const banned = "ee".repeat(32);
const stranger = "ff".repeat(32);

function acme(role: OrganizationView["role"] = "member"): OrganizationView {
  return {
    id: owner,
    role,
    identity: { displayName: "Acme", description: "" } as OrganizationView["identity"],
    access: "on-request",
    encrypted: true,
    tags: [],
    pinMessageAllMembersEnabled: false,
    members: new Map<string, Array<"all" | "manage-users" | "moderate-content">>([
      [owner, []],
      [admin, ["all"]],
      [admin2, ["moderate-content", "all"]],
      [manager, ["manage-users"]],
      [moderator, ["moderate-content"]],
      [member, []],
    ]),
    memberNames: new Map([
      [admin, "Alice"],
      [admin2, "Ann"],
      [manager, "Max"],
    ]),
    banned: [banned],
    channels: [],
    categories: new Map(),
    clock: 1n,
    epoch: 2n,
  };
}

describe("ranks", () => {
  it("the highest role counts; the owner is the organization key; banned keys and strangers are none", () => {
    const org = acme();
    expect(
      [owner, admin, admin2, manager, moderator, member, banned, stranger].map((id) =>
        rankIn(org, id),
      ),
    ).toEqual(["owner", "admin", "admin", "manager", "moderator", "member", "none", "none"]);
    expect([owner, admin, manager, moderator, member].map((id) => isDelegateOf(org, id))).toEqual([
      false,
      true,
      true,
      false,
      false,
    ]);
  });
});

describe("who may run requests, accept, reject, remove, ban", () => {
  it("the owner, an admin and a manager may; a moderator, a member and a requester are told who can", () => {
    expect(() => requireOwnerOrDelegate(acme("owner"), owner, "accept")).not.toThrow();
    expect(() => requireOwnerOrDelegate(acme(), admin, "accept")).not.toThrow();
    expect(() => requireOwnerOrDelegate(acme(), manager, "requests")).not.toThrow();
    expect(() => requireOwnerOrDelegate(acme(), moderator, "ban")).toThrow(
      "only the owner, admins and managers of Acme can run `orgchat ban` (this identity is a moderator of it): ask one of them, or ask the owner to make you a manager (`orgchat role <you> manager`)",
    );
    expect(() => requireOwnerOrDelegate(acme(), member, "accept")).toThrow(
      "(this identity is a member of it)",
    );
    expect(() => requireOwnerOrDelegate(acme("requester"), stranger, "requests")).toThrow(
      "(this identity is its requester)",
    );
    expect(() => requireOwnerOrDelegate(acme(), banned, "reject")).toThrow(
      "(this identity is banned from it)",
    );
  });

  it("a delegate acts only below its rank, never on the owner or itself; the owner on anyone else", () => {
    const org = acme();
    expect(() => requireBelowRank(org, admin, manager, "ban")).not.toThrow();
    expect(() => requireBelowRank(org, admin, member, "remove")).not.toThrow();
    expect(() => requireBelowRank(org, manager, moderator, "ban")).not.toThrow();
    expect(() => requireBelowRank(org, admin, admin2, "ban")).toThrow(
      `Ann (a2a2a2a2) is an admin of Acme and you are an admin: admins and managers ban only members below their own rank (an admin: managers, moderators and members; a manager: moderators and members); ask the owner`,
    );
    expect(() => requireBelowRank(org, manager, admin, "remove")).toThrow(
      "Alice (aaaaaaaa) is an admin of Acme and you are a manager: admins and managers remove only members below",
    );
    expect(() => requireBelowRank(org, manager, "b0".repeat(32), "ban")).not.toThrow();
    expect(() => requireBelowRank(org, admin, owner, "ban")).toThrow(
      "the owner of Acme cannot be banned",
    );
    expect(() => requireBelowRank(org, admin, admin, "remove")).toThrow(
      "you cannot remove yourself: to go, run `orgchat leave`",
    );
    const owned = acme("owner");
    expect(() => requireBelowRank(owned, owner, admin, "ban")).not.toThrow();
    expect(() => requireBelowRank(owned, owner, owner, "remove")).toThrow(
      "the owner of Acme cannot be removed",
    );
  });
});

describe("org show marks delegates", () => {
  it("JSON lists them with their rank; the human lines tag them and say what this identity may do", () => {
    const org = acme();
    expect(orgJson(org).delegates).toEqual({
      [admin]: "admin",
      [admin2]: "admin",
      [manager]: "manager",
    });
    const lines = orgHuman(org, manager).split("\n");
    expect(lines).toContain(
      "  you are: member (manager: you accept, reject, remove and ban below your rank)",
    );
    const members = lines.find((line) => line.startsWith("  members")) ?? "";
    expect(members).toContain("Alice (aaaaaaaa) (admin) [all]");
    expect(members).toContain("Max (bbbbbbbb) (manager) (you) [manage-users]");
    expect(members).toContain("cccccccc [moderate-content]");
    expect(orgHuman(org, member)).toContain("  you are: member\n");
  });
});
