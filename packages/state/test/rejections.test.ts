/** One example per rejection reason, and the negative side of the authorization matrix. */
import { describe, expect, it } from "vitest";
import { clockLimits } from "../src/clock.js";
import { type OrgEvent, type RejectionReason, rejectionReasons } from "../src/events.js";
import { initialState } from "../src/initial-state.js";
import { OrgLog } from "../src/log.js";
import { reduce } from "../src/reduce.js";
import type { OrgState } from "../src/state.js";
import {
  alice,
  applyAll,
  bob,
  carol,
  dave,
  eve,
  identity,
  owner,
  Script,
} from "./event-fixtures.js";

/**
 * An organization with: alice admin, bob manager, carol moderator, dave plain member; channels
 * "general" (open) and "staff" (restricted); message "m-dave" by dave and "m-owner" by the owner.
 */
function organization(): { state: OrgState; s: Script } {
  const s = new Script("setup");
  const events: OrgEvent[] = [s.created(), s.channel("general")];
  events.push(s.channel("staff", "invitation-only", { private: true }));
  for (const member of [alice, bob, carol, dave]) {
    const request = s.next("request.sent", member, { chatId: "", ensName: "", displayName: "m" });
    events.push(request, s.next("request.accepted", owner, { requestId: request.id }));
  }
  events.push(
    s.next("member.roles.changed", owner, { member: alice, roles: ["all"] }),
    s.next("member.roles.changed", owner, { member: bob, roles: ["manage-users"] }),
    s.next("member.roles.changed", owner, { member: carol, roles: ["moderate-content"] }),
    s.next("message.posted", dave, { channelId: "general", text: "d" }, { id: "m-dave" }),
    s.next("message.posted", owner, { channelId: "general", text: "o" }, { id: "m-owner" }),
    s.next("message.posted", alice, { channelId: "general", text: "a" }, { id: "m-alice" }),
  );
  const result = applyAll(events);
  expect(Object.fromEntries(result.rejections)).toEqual({});
  const next = new Script();
  next.clock = s.clock;
  return { state: result.state, s: next };
}

function verdict(state: OrgState, event: OrgEvent): RejectionReason | undefined {
  const result = reduce(state, event);
  if (result.rejected !== undefined) {
    const id = (event as { id?: unknown } | null)?.id;
    expect(result.rejected.id).toBe(typeof id === "string" ? id : "");
    expect(result.state).toBe(state);
  }
  return result.rejected?.reason;
}

describe("one example per rejection reason", () => {
  const covered = new Set<RejectionReason>();
  const check = (reason: RejectionReason, state: OrgState, event: OrgEvent) => {
    expect(verdict(state, event)).toBe(reason);
    covered.add(reason);
  };

  it("unauthorized: a plain member removes another member", () => {
    const { state, s } = organization();
    check("unauthorized", state, s.next("member.removed", dave, { member: carol }));
  });

  it("unknown-member: a stranger posts a message", () => {
    const { state, s } = organization();
    check(
      "unknown-member",
      state,
      s.next("message.posted", eve, { channelId: "general", text: "x" }),
    );
  });

  it("banned: a banned key requests to join again", () => {
    const { state, s } = organization();
    const banned = reduce(
      state,
      s.next("member.banned", owner, { member: eve, deleteMessages: false }),
    );
    check(
      "banned",
      banned.state,
      s.next("request.sent", eve, { chatId: "", ensName: "", displayName: "E" }),
    );
  });

  it("malformed: bad ids, clocks, strings, roles, access modes, and events before or after creation", () => {
    const { state, s } = organization();
    const good = s.next("message.posted", dave, { channelId: "general", text: "x" });
    const bad: unknown[] = [
      { ...good, id: "" },
      { ...good, id: "has space" },
      { ...good, id: "x".repeat(129) },
      { ...good, author: `0x${alice.slice(2)}` },
      { ...good, author: "AB".repeat(32) },
      { ...good, clock: -1n },
      { ...good, clock: 1n << 64n },
      { ...good, clock: 5 },
      { ...good, sentAt: -1 },
      { ...good, sentAt: 1.5 },
      { ...good, sentAt: Number.NaN },
      { ...good, type: "message.exploded" },
      { ...good, body: null },
      { ...good, body: { channelId: "general", text: "\ud800" } },
      { ...good, body: { channelId: "general", text: "x".repeat(150 * 1024 + 1) } },
      { ...good, body: { channelId: "bad id", text: "x" } },
      s.next("member.roles.changed", owner, { member: dave, roles: ["god" as "all"] }),
      s.next("member.roles.changed", owner, {
        member: dave,
        roles: Array(9).fill("moderate-content"),
      }),
      s.next("org.permissions.changed", owner, {
        permissions: { access: "members-only" as "on-request", ensOnly: false, private: false },
      }),
      s.next("org.identity.changed", owner, { identity: identity("x".repeat(257)) }),
      s.next("org.tags.changed", owner, { tags: Array(33).fill("t") }),
      s.next("epoch.changed", owner, { channelId: "", epoch: 1n, keyId: "XYZ" }),
      s.next("channel.edited", owner, { channelId: "general" }),
      s.next("org.created", owner, {
        identity: identity("again"),
        permissions: state.permissions,
        pinMessageAllMembersEnabled: false,
        tags: [],
        encrypted: false,
      }),
      null,
      42,
      "event",
    ];
    for (const [index, event] of bad.entries()) {
      expect([index, verdict(state, event as OrgEvent)]).toEqual([index, "malformed"]);
    }
    covered.add("malformed");
    // Before `org.created`, every other event is malformed.
    check("malformed", initialState(owner), good);
  });

  it("unknown-target: accept a request that does not exist", () => {
    const { state, s } = organization();
    check("unknown-target", state, s.next("request.accepted", owner, { requestId: "nope" }));
  });

  it("conflict: a second channel with the same id", () => {
    const { state, s } = organization();
    check("conflict", state, s.channel("general"));
  });

  it("expired: an invitation used after its expiry", () => {
    const { state, s } = organization();
    const issued = reduce(
      state,
      s.at(0).next("invitation.issued", owner, { invitee: eve, chatId: "" }, { id: "inv" }),
    );
    check(
      "expired",
      issued.state,
      s.at(7 * 24 * 60 * 60 * 1000).next("invitation.used", eve, { invitationId: "inv" }),
    );
  });

  it("rate-limited: a second request inside the cool-down after a rejection", () => {
    const { state, s } = organization();
    const config = { reRequestCooldownMs: 1000 };
    const rejected = applyAll(
      [
        s
          .at(0)
          .next("request.sent", eve, { chatId: "", ensName: "", displayName: "E" }, { id: "r" }),
        s.at(10).next("request.rejected", owner, { requestId: "r", reason: "no" }),
      ],
      config,
      state,
    ).state;
    const again = s
      .at(500)
      .next("request.sent", eve, { chatId: "", ensName: "", displayName: "E" });
    expect(reduce(rejected, again, config).rejected?.reason).toBe("rate-limited");
    covered.add("rate-limited");
  });

  it("duplicate: the same event id twice (reduce and OrgLog)", () => {
    const { state, s } = organization();
    const post = s.next("message.posted", dave, { channelId: "general", text: "x" });
    const once = reduce(state, post).state;
    check("duplicate", once, post);
    const log = new OrgLog({ organizationId: owner });
    log.add(new Script("x").created());
    const first = log.add(post);
    const second = log.add(post);
    expect(second).toEqual({ state: first.state, rejected: { id: post.id, reason: "duplicate" } });
    expect(second.state).toBe(first.state);
  });

  it("clock-jump: a member's post more than maxClockStep above the clocks before it", () => {
    const { state, s } = organization();
    const clock = state.clock + clockLimits.maxClockStep + 1n;
    check(
      "clock-jump",
      state,
      s.next("message.posted", dave, { channelId: "general", text: "x" }, { clock }),
    );
  });

  it("covers every reason", () => {
    expect([...covered].sort()).toEqual([...rejectionReasons].sort());
  });
});

describe("authorization matrix: who may not", () => {
  const cases: [string, (s: Script, state: OrgState) => OrgEvent, RejectionReason][] = [
    [
      "org.created by another key",
      (s) =>
        s.next("org.created", alice, {
          identity: identity("x"),
          permissions: { access: "on-request", ensOnly: false, private: false },
          pinMessageAllMembersEnabled: false,
          tags: [],
          encrypted: false,
        }),
      "unauthorized",
    ],
    [
      "org.identity.changed by an admin",
      (s) => s.next("org.identity.changed", alice, { identity: identity("x") }),
      "unauthorized",
    ],
    [
      "org.encryption.changed by an admin",
      (s) => s.next("org.encryption.changed", alice, { encrypted: true }),
      "unauthorized",
    ],
    ["channel.created by an admin", (s) => ({ ...s.channel("x"), author: alice }), "unauthorized"],
    [
      "category.created by a manager",
      (s) => s.next("category.created", bob, { categoryId: "c", name: "c" }),
      "unauthorized",
    ],
    [
      "epoch.changed by an admin",
      (s) =>
        s.next("epoch.changed", alice, { channelId: "", epoch: 9n, keyId: "0011223344556677" }),
      "unauthorized",
    ],
    [
      "grant.issued by an admin",
      (s) => s.next("grant.issued", alice, { member: dave, chatId: "staff" }),
      "unauthorized",
    ],
    [
      "member.unbanned by an admin",
      (s) => s.next("member.unbanned", alice, { member: eve }),
      "unauthorized",
    ],
    [
      "member.roles.changed by a manager",
      (s) => s.next("member.roles.changed", bob, { member: dave, roles: ["moderate-content"] }),
      "unauthorized",
    ],
    [
      "member.roles.changed: an admin grants all",
      (s) => s.next("member.roles.changed", alice, { member: dave, roles: ["all"] }),
      "unauthorized",
    ],
    [
      "member.roles.changed: an admin on itself",
      (s) => s.next("member.roles.changed", alice, { member: alice, roles: [] }),
      "unauthorized",
    ],
    [
      "member.roles.changed on the owner",
      (s) => s.next("member.roles.changed", owner, { member: owner, roles: ["all"] }),
      "unauthorized",
    ],
    [
      "invitation.issued by a moderator",
      (s) => s.next("invitation.issued", carol, { invitee: eve, chatId: "" }),
      "unauthorized",
    ],
    [
      "invitation.issued for a channel by an admin",
      (s) => s.next("invitation.issued", alice, { invitee: eve, chatId: "staff" }),
      "unauthorized",
    ],
    [
      "member.removed of the owner",
      (s) => s.next("member.removed", alice, { member: owner }),
      "unauthorized",
    ],
    [
      "member.removed of an admin by a manager",
      (s) => s.next("member.removed", bob, { member: alice }),
      "unauthorized",
    ],
    [
      "member.removed of an admin by an admin (equal rank)",
      (s) => s.next("member.removed", alice, { member: alice }),
      "unauthorized",
    ],
    [
      "member.banned of the owner by the owner",
      (s) => s.next("member.banned", owner, { member: owner, deleteMessages: true }),
      "unauthorized",
    ],
    [
      "member.banned of a manager by a moderator",
      (s) => s.next("member.banned", carol, { member: bob, deleteMessages: false }),
      "unauthorized",
    ],
    ["leave.requested by the owner", (s) => s.next("leave.requested", owner, {}), "unauthorized"],
    [
      "message.posted in a restricted channel",
      (s) => s.next("message.posted", dave, { channelId: "staff", text: "x" }),
      "unauthorized",
    ],
    [
      "message.edited by another member",
      (s) => s.next("message.edited", carol, { messageId: "m-dave", text: "x" }),
      "unauthorized",
    ],
    [
      "message.deleted by a plain member",
      (s) => s.next("message.deleted", dave, { messageId: "m-alice" }),
      "unauthorized",
    ],
    [
      "message.deleted by a manager without moderate-content",
      (s) => s.next("message.deleted", bob, { messageId: "m-dave" }),
      "unauthorized",
    ],
    [
      "message.deleted of the owner's message by an admin",
      (s) => s.next("message.deleted", alice, { messageId: "m-owner" }),
      "unauthorized",
    ],
    [
      "message.deleted of an admin's message by a moderator",
      (s) => s.next("message.deleted", carol, { messageId: "m-alice" }),
      "unauthorized",
    ],
    [
      "message.pinned by a plain member (setting off)",
      (s) => s.next("message.pinned", dave, { messageId: "m-dave", pinned: true }),
      "unauthorized",
    ],
    [
      "request.accepted by a moderator",
      (s) => s.next("request.accepted", carol, { requestId: "nope" }),
      "unauthorized",
    ],
    [
      "leave.resolved by a stranger",
      (s) => s.next("leave.resolved", eve, { requestId: "nope", accepted: true }),
      "unknown-member",
    ],
    [
      "request.sent by a member",
      (s) => s.next("request.sent", dave, { chatId: "", ensName: "", displayName: "d" }),
      "conflict",
    ],
  ];
  it.each(cases)("%s", (_, make, reason) => {
    const { state, s } = organization();
    expect(verdict(state, make(s, state))).toBe(reason);
  });

  it("allowed counterparts: a moderator deletes a member's message, an admin removes a manager", () => {
    const { state, s } = organization();
    expect(
      verdict(state, s.next("message.deleted", carol, { messageId: "m-dave" })),
    ).toBeUndefined();
    expect(verdict(state, s.next("member.removed", alice, { member: bob }))).toBeUndefined();
    expect(verdict(state, s.next("member.removed", bob, { member: carol }))).toBeUndefined();
    expect(
      verdict(state, s.next("member.banned", bob, { member: dave, deleteMessages: true })),
    ).toBeUndefined();
    expect(
      verdict(state, s.next("message.deleted", owner, { messageId: "m-alice" })),
    ).toBeUndefined();
  });

  it("a leave request of an admin can be resolved by the owner only", () => {
    const { state, s } = organization();
    const asked = reduce(state, s.next("leave.requested", alice, {}, { id: "leave" })).state;
    expect(
      verdict(asked, s.next("leave.resolved", bob, { requestId: "leave", accepted: true })),
    ).toBe("unauthorized");
    expect(
      verdict(asked, s.next("leave.resolved", owner, { requestId: "leave", accepted: true })),
    ).toBeUndefined();
  });
});
