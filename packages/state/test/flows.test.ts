/** One example per flow of spec 55 ("Organization Management") and per group of events. */
import { describe, expect, it } from "vitest";
import { canPost, rankOf } from "../src/authorization.js";
import type { OrgEvent } from "../src/events.js";
import { initialState } from "../src/initial-state.js";
import { reduce } from "../src/reduce.js";
import { pendingRequests, requestStatus } from "../src/requests.js";
import {
  alice,
  applyAll,
  bob,
  carol,
  day,
  identity,
  owner,
  permissions,
  Script,
} from "./event-fixtures.js";

/** Applies the events in order and fails on any rejection. */
function accepted(events: Parameters<typeof applyAll>[0], config?: Parameters<typeof applyAll>[1]) {
  const result = applyAll(events, config);
  expect(Object.fromEntries(result.rejections)).toEqual({});
  return result.state;
}

/** An on-request organization where `members` joined by accepted requests. */
function withMembers(s: Script, ...members: string[]) {
  const events: OrgEvent[] = [s.created()];
  for (const member of members) {
    const request = s.next("request.sent", member, { chatId: "", ensName: "", displayName: "m" });
    events.push(request, s.next("request.accepted", owner, { requestId: request.id }));
  }
  return events;
}

describe("organization creation", () => {
  it("org.created sets identity, permissions, settings and tags, and makes the owner a member", () => {
    const s = new Script();
    const state = accepted([
      s.created("on-request", { tags: ["rust", "waku"], pinMessageAllMembersEnabled: true }),
    ]);
    expect(state.created).toBe(true);
    expect(state.identity.displayName).toBe("Acme");
    expect(state.permissions.access).toBe("on-request");
    expect(state.tags.toArray()).toEqual(["rust", "waku"]);
    expect(state.pinMessageAllMembersEnabled).toBe(true);
    expect(state.members.has(owner)).toBe(true);
    expect(rankOf(state, owner)).toBe("owner");
    expect(state.clock).toBe(1n);
    expect(initialState(owner).created).toBe(false);
  });

  it("the owner changes identity, permissions, admin settings and tags", () => {
    const s = new Script();
    const state = accepted([
      s.created(),
      s.next("org.identity.changed", owner, { identity: identity("Acme 2") }),
      s.next("org.permissions.changed", owner, {
        permissions: permissions("invitation-only", { ensOnly: true }),
      }),
      s.next("org.admin-settings.changed", owner, { pinMessageAllMembersEnabled: true }),
      s.next("org.tags.changed", owner, { tags: ["a"] }),
    ]);
    expect(state.identity.displayName).toBe("Acme 2");
    expect(state.permissions).toEqual(permissions("invitation-only", { ensOnly: true }));
    expect(state.pinMessageAllMembersEnabled).toBe(true);
    expect(state.tags.toArray()).toEqual(["a"]);
  });
});

describe("join by request (on-request organization)", () => {
  it("accept: the request is pending, then the requester is a member", () => {
    const s = new Script();
    const pending = accepted([
      s.created(),
      s.next(
        "request.sent",
        alice,
        { chatId: "", ensName: "", displayName: "Alice" },
        { id: "r1" },
      ),
    ]);
    expect(requestStatus(pending, "r1", 0)).toBe("pending");
    expect(pendingRequests(pending, 0).map((r) => r.id)).toEqual(["r1"]);
    expect(pending.members.has(alice)).toBe(false);
    const state = reduce(pending, s.next("request.accepted", owner, { requestId: "r1" })).state;
    expect(state.members.has(alice)).toBe(true);
    expect(state.requests.get("r1")).toMatchObject({ status: "accepted", decidedBy: owner });
    expect(pendingRequests(state, 0)).toEqual([]);
  });

  it("reject: the requester stays out and sees the reason", () => {
    const s = new Script();
    const state = accepted([
      s.created(),
      s.next("request.sent", alice, { chatId: "", ensName: "", displayName: "A" }, { id: "r1" }),
      s.next("request.rejected", owner, { requestId: "r1", reason: "not now" }),
    ]);
    expect(state.members.has(alice)).toBe(false);
    expect(requestStatus(state, "r1", 0)).toBe("rejected");
    expect(state.requests.get("r1")?.rejectionReason).toBe("not now");
  });

  it("cancel: the requester withdraws while pending", () => {
    const s = new Script();
    const state = accepted([
      s.created(),
      s.next("request.sent", alice, { chatId: "", ensName: "", displayName: "A" }, { id: "r1" }),
      s.next("request.cancelled", alice, { requestId: "r1" }),
    ]);
    expect(requestStatus(state, "r1", 0)).toBe("cancelled");
    expect(state.members.has(alice)).toBe(false);
  });

  it("a channel request accepted by the owner comes with a grant for the channel", () => {
    const s = new Script();
    const state = accepted([
      s.created(),
      s.channel("staff", "on-request", { private: true }),
      s.next(
        "request.sent",
        alice,
        { chatId: "staff", ensName: "", displayName: "A" },
        { id: "r1" },
      ),
      s.next("request.accepted", owner, { requestId: "r1" }),
    ]);
    expect(state.grants.has(`${alice}/staff`)).toBe(true);
    expect(canPost(state, alice, "staff")).toBe(true);
  });

  it("ens_only: the injected verifier decides", () => {
    const s = new Script();
    const verifyEns = (name: string, member: string) => name === "alice.eth" && member === alice;
    const result = applyAll(
      [
        s.next("org.created", owner, {
          identity: identity("Acme"),
          permissions: permissions("on-request", { ensOnly: true }),
          pinMessageAllMembersEnabled: false,
          tags: [],
          encrypted: false,
        }),
        s.next("request.sent", alice, { chatId: "", ensName: "alice.eth", displayName: "A" }),
        s.next("request.sent", bob, { chatId: "", ensName: "alice.eth", displayName: "B" }),
        s.next("request.sent", carol, { chatId: "", ensName: "", displayName: "C" }),
      ],
      { verifyEns },
    );
    expect(Object.fromEntries(result.rejections)).toEqual({
      e3: "unauthorized",
      e4: "unauthorized",
    });
    expect(result.state.requests.get("e2")?.status).toBe("pending");
  });
});

describe("join by invitation", () => {
  it("an invitation issued by a manager is used by its invitee", () => {
    const s = new Script();
    const state = accepted([
      ...withMembers(s, alice),
      s.next("member.roles.changed", owner, { member: alice, roles: ["manage-users"] }),
      s.next("org.permissions.changed", owner, { permissions: permissions("invitation-only") }),
      s.next("invitation.issued", alice, { invitee: bob, chatId: "" }, { id: "inv" }),
      s.next("invitation.used", bob, { invitationId: "inv" }),
    ]);
    expect(state.members.has(bob)).toBe(true);
    expect(state.invitations.get("inv")).toMatchObject({ used: true, issuedBy: alice });
  });

  it("an owner's channel invitation grants the channel", () => {
    const s = new Script();
    const state = accepted([
      s.created("invitation-only"),
      s.channel("staff", "invitation-only", { private: true }),
      s.next("invitation.issued", owner, { invitee: bob, chatId: "staff" }, { id: "inv" }),
      s.next("invitation.used", bob, { invitationId: "inv" }),
    ]);
    expect(canPost(state, bob, "staff")).toBe(true);
  });
});

describe("open organization (no-membership)", () => {
  it("a valid request makes the requester a member at once", () => {
    const s = new Script();
    const state = accepted([
      s.created("no-membership"),
      s.next("request.sent", alice, { chatId: "", ensName: "", displayName: "A" }, { id: "r1" }),
    ]);
    expect(state.members.has(alice)).toBe(true);
    expect(requestStatus(state, "r1", 10 * day)).toBe("accepted");
    expect(state.requests.get("r1")?.decidedBy).toBeUndefined();
  });
});

describe("leave", () => {
  it("accepted: the member is removed, with its grants and channel roles", () => {
    const s = new Script();
    const state = accepted([
      ...withMembers(s, alice),
      s.channel("staff", "invitation-only", { private: true }),
      s.next("grant.issued", owner, { member: alice, chatId: "staff" }),
      s.next("channel.members.changed", owner, { channelId: "staff", members: { [alice]: [] } }),
      s.next("leave.requested", alice, {}, { id: "l1" }),
      s.next("leave.resolved", owner, { requestId: "l1", accepted: true }),
    ]);
    expect(state.members.has(alice)).toBe(false);
    expect(state.grants.size).toBe(0);
    expect(state.channels.get("staff")?.members.size).toBe(0);
    expect(state.leaveRequests.get("l1")).toMatchObject({ status: "accepted", decidedBy: owner });
  });

  it("rejected: the member stays", () => {
    const s = new Script();
    const state = accepted([
      ...withMembers(s, alice),
      s.next("leave.requested", alice, {}, { id: "l1" }),
      s.next("leave.resolved", owner, { requestId: "l1", accepted: false }),
    ]);
    expect(state.members.has(alice)).toBe(true);
    expect(state.leaveRequests.get("l1")?.status).toBe("rejected");
  });
});

describe("ban and unban", () => {
  it("a ban removes the member, revokes grants, deletes messages on request; unban lifts it", () => {
    const s = new Script();
    const banned = accepted([
      ...withMembers(s, alice, bob),
      s.channel("general"),
      s.next("grant.issued", owner, { member: alice, chatId: "" }),
      s.next("message.posted", alice, { channelId: "general", text: "hi" }, { id: "m1" }),
      s.next("message.posted", bob, { channelId: "general", text: "yo" }, { id: "m2" }),
      s.next("member.banned", owner, { member: alice, deleteMessages: true }),
    ]);
    expect(banned.members.has(alice)).toBe(false);
    expect(banned.banned.get(alice)?.deleteMessages).toBe(true);
    expect(banned.grants.size).toBe(0);
    expect(banned.messages.get("m1")).toMatchObject({ deleted: true, deletedBy: owner, text: "" });
    expect(banned.messages.get("m2")?.deleted).toBe(false);
    expect(canPost(banned, alice, "general")).toBe(false);

    const later = reduce(
      banned,
      s.next("message.posted", alice, { channelId: "general", text: "still here" }),
    );
    expect(later.rejected?.reason).toBe("banned");
    const again = reduce(
      banned,
      s.next("request.sent", alice, { chatId: "", ensName: "", displayName: "A" }),
    );
    expect(again.rejected?.reason).toBe("banned");

    const unbanned = accepted([
      ...withMembers(new Script("u"), alice),
      s.next("member.banned", owner, { member: alice, deleteMessages: false }),
      s.next("member.unbanned", owner, { member: alice }),
    ]);
    expect(unbanned.banned.has(alice)).toBe(false);
    // Lifting the ban does not make it a member again: it must request or be invited.
    expect(unbanned.members.has(alice)).toBe(false);
  });

  it("a manager bans a plain member; a non-member key can be banned before it ever joins", () => {
    const s = new Script();
    const state = accepted([
      ...withMembers(s, alice, bob),
      s.next("member.roles.changed", owner, { member: alice, roles: ["manage-users"] }),
      s.next("member.banned", alice, { member: bob, deleteMessages: false }),
      s.next("member.banned", alice, { member: carol, deleteMessages: false }),
    ]);
    expect(state.banned.keySeq().sort().toArray()).toEqual([bob, carol].sort());
  });

  it("a ban rejects the key's pending request and voids its invitations", () => {
    const s = new Script();
    const state = accepted([
      s.created(),
      s.next("request.sent", alice, { chatId: "", ensName: "", displayName: "A" }, { id: "r1" }),
      s.next("invitation.issued", owner, { invitee: alice, chatId: "" }, { id: "inv" }),
      s.next("member.banned", owner, { member: alice, deleteMessages: false }),
      s.next("member.unbanned", owner, { member: alice }),
    ]);
    expect(state.requests.get("r1")).toMatchObject({
      status: "rejected",
      rejectionReason: "banned",
    });
    const used = reduce(state, s.next("invitation.used", alice, { invitationId: "inv" }));
    expect(used.rejected?.reason).toBe("conflict");
  });
});

describe("channels and categories", () => {
  it("create, edit, set members, remove; removing a category uncategorises its channels", () => {
    const s = new Script();
    const state = accepted([
      ...withMembers(s, alice),
      s.next("category.created", owner, { categoryId: "cat", name: "Main" }),
      s.channel("general", "no-membership", {}, "cat"),
      s.channel("staff", "invitation-only", { private: true }, "cat"),
      s.next("category.edited", owner, { categoryId: "cat", name: "Main 2" }),
      s.next("channel.edited", owner, { channelId: "general", identity: identity("General") }),
      s.next("channel.members.changed", owner, {
        channelId: "staff",
        members: { [alice]: ["moderate-content", "moderate-content"] },
      }),
      s.next("category.removed", owner, { categoryId: "cat" }),
    ]);
    expect(state.categories.size).toBe(0);
    expect(state.channels.get("general")?.categoryId).toBe("");
    expect(state.channels.get("general")?.identity.displayName).toBe("General");
    expect(state.channels.get("staff")?.categoryId).toBe("");
    expect(state.channels.get("staff")?.members.get(alice)?.toArray()).toEqual([
      "moderate-content",
    ]);
    expect(canPost(state, alice, "staff")).toBe(true);

    const removed = accepted([
      ...withMembers(new Script(), alice),
      ...(() => {
        const t = new Script("t");
        t.clock = 10n;
        return [
          t.channel("general"),
          t.next("message.posted", alice, { channelId: "general", text: "hi" }, { id: "m1" }),
          t.next("epoch.changed", owner, {
            channelId: "general",
            epoch: 1n,
            keyId: "00".repeat(8),
          }),
          t.next("channel.removed", owner, { channelId: "general" }),
        ];
      })(),
    ]);
    expect(removed.channels.has("general")).toBe(false);
    expect(removed.messages.has("m1")).toBe(false);
    expect(removed.epochs.has("general")).toBe(false);
  });
});

describe("roles", () => {
  it("the owner makes an admin; the admin makes a manager and a moderator below it", () => {
    const s = new Script();
    const state = accepted([
      ...withMembers(s, alice, bob, carol),
      s.next("member.roles.changed", owner, { member: alice, roles: ["all"] }),
      s.next("member.roles.changed", alice, { member: bob, roles: ["manage-users"] }),
      s.next("member.roles.changed", alice, { member: carol, roles: ["moderate-content"] }),
    ]);
    expect(rankOf(state, alice)).toBe("admin");
    expect(rankOf(state, bob)).toBe("manager");
    expect(rankOf(state, carol)).toBe("moderator");
    expect(rankOf(state, "ff".repeat(32))).toBe("none");
    const demoted = reduce(
      state,
      s.next("member.roles.changed", alice, { member: bob, roles: [] }),
    ).state;
    expect(rankOf(demoted, bob)).toBe("member");
  });
});

describe("grants", () => {
  it("an owner grant opens a restricted channel; revoking closes it", () => {
    const s = new Script();
    const granted = accepted([
      ...withMembers(s, alice),
      s.channel("staff", "invitation-only"),
      s.next("grant.issued", owner, { member: alice, chatId: "staff" }),
    ]);
    expect(canPost(granted, alice, "staff")).toBe(true);
    const revoked = reduce(
      granted,
      s.next("grant.revoked", owner, { member: alice, chatId: "staff" }),
    ).state;
    expect(canPost(revoked, alice, "staff")).toBe(false);
  });
});

describe("encrypted switch and epochs", () => {
  it("the owner switches the organization to encrypted and back", () => {
    const s = new Script();
    const state = accepted([
      s.created(),
      s.next("org.encryption.changed", owner, { encrypted: true }),
    ]);
    expect(state.encrypted).toBe(true);
    expect(
      reduce(state, s.next("org.encryption.changed", owner, { encrypted: false })).state.encrypted,
    ).toBe(false);
  });

  it("epochs of the organization and of a channel only move forward", () => {
    const s = new Script();
    const state = accepted([
      s.created(),
      s.channel("staff", "invitation-only", { private: true }),
      s.next("epoch.changed", owner, { channelId: "", epoch: 1n, keyId: "0011223344556677" }),
      s.next("epoch.changed", owner, { channelId: "", epoch: 2n, keyId: "8899aabbccddeeff" }),
      s.next("epoch.changed", owner, { channelId: "staff", epoch: 1n, keyId: "0011223344556677" }),
    ]);
    expect(state.epochs.get("")).toEqual({ channelId: "", epoch: 2n, keyId: "8899aabbccddeeff" });
    expect(state.epochs.get("staff")?.epoch).toBe(1n);
    const stale = reduce(
      state,
      s.next("epoch.changed", owner, { channelId: "", epoch: 2n, keyId: "0011223344556677" }),
    );
    expect(stale.rejected?.reason).toBe("conflict");
  });
});

describe("messages", () => {
  it("post, edit by the author, pin by a moderator, delete by a moderator", () => {
    const s = new Script();
    const state = accepted([
      ...withMembers(s, alice, bob),
      s.next("member.roles.changed", owner, { member: bob, roles: ["moderate-content"] }),
      s.channel("general"),
      s.next("message.posted", alice, { channelId: "general", text: "hello" }, { id: "m1" }),
      s.next("message.edited", alice, { messageId: "m1", text: "hello!" }),
      s.next("message.pinned", bob, { messageId: "m1", pinned: true }),
    ]);
    expect(state.messages.get("m1")).toMatchObject({
      author: alice,
      text: "hello!",
      pinned: true,
      deleted: false,
    });
    expect(state.messages.get("m1")?.editedAt).toBe(state.clock - 1n);
    const deleted = reduce(state, s.next("message.deleted", bob, { messageId: "m1" })).state;
    expect(deleted.messages.get("m1")).toMatchObject({ deleted: true, deletedBy: bob, text: "" });
  });

  it("authors delete their own messages; any member pins when the setting allows it", () => {
    const s = new Script();
    const state = accepted([
      ...withMembers(s, alice),
      s.next("org.admin-settings.changed", owner, { pinMessageAllMembersEnabled: true }),
      s.channel("general"),
      s.next("message.posted", owner, { channelId: "general", text: "rules" }, { id: "m1" }),
      s.next("message.pinned", alice, { messageId: "m1", pinned: true }),
      s.next("message.posted", alice, { channelId: "general", text: "oops" }, { id: "m2" }),
      s.next("message.deleted", alice, { messageId: "m2" }),
    ]);
    expect(state.messages.get("m1")?.pinned).toBe(true);
    expect(state.messages.get("m2")?.deleted).toBe(true);
  });
});

describe("membership starts over on re-joining", () => {
  it("a leave request from an earlier membership cannot remove the member again", () => {
    const s = new Script();
    const result = applyAll([
      ...withMembers(s, alice),
      s.next("leave.requested", alice, {}, { id: "old-leave" }),
      s.next("member.removed", owner, { member: alice }),
      s.next("invitation.issued", owner, { invitee: alice, chatId: "" }, { id: "inv" }),
      s.next("invitation.used", alice, { invitationId: "inv" }),
      s.next("leave.resolved", owner, { requestId: "old-leave", accepted: true }, { id: "stale" }),
      s.next("leave.requested", alice, {}, { id: "new-leave" }),
    ]);
    expect(Object.fromEntries(result.rejections)).toEqual({ stale: "conflict" });
    expect(result.state.members.has(alice)).toBe(true);
    expect(result.state.leaveRequests.get("new-leave")?.status).toBe("pending");
  });
});
