import type { MessageView, OrganizationView, RequestView } from "@orgchat/client";
import { describe, expect, it } from "vitest";
import { authorNames, messageLine } from "../src/format.js";

const base: MessageView = {
  id: "m1",
  organizationId: "o".repeat(64),
  channelId: "general",
  author: "a1b2c3d4".repeat(8),
  text: "hello",
  sentAt: Date.UTC(2026, 0, 1, 6, 50, 0),
  receivedAt: Date.UTC(2026, 11, 6, 10, 0, 0),
  shownAt: Date.UTC(2026, 11, 6, 10, 0, 0),
  clock: 5n,
  edited: false,
  deleted: false,
  pinned: false,
  own: false,
};

describe("messageLine", () => {
  it("shows the time the client trusts (shownAt), not a backdated claim (issue #13 row 9)", () => {
    expect(messageLine(base)).toBe(`[2026-12-06 10:00:00 m1] a1b2c3d4: hello`);
  });

  it("shows the author's time when it agrees with the arrival", () => {
    const agreed = { ...base, sentAt: base.receivedAt - 1_000, shownAt: base.receivedAt - 1_000 };
    expect(messageLine(agreed)).toBe(`[2026-12-06 09:59:59 m1] a1b2c3d4: hello`);
  });

  it("shows the message id prefix, the message answered, and the markers", () => {
    const reply = {
      ...base,
      id: "9f8e7d6c".repeat(8),
      replyTo: "1a2b3c4d".repeat(8),
      edited: true,
      pinned: true,
    };
    expect(messageLine(reply)).toBe(
      "[2026-12-06 10:00:00 9f8e7d6c] a1b2c3d4 (re 1a2b3c4d): hello (edited) (pinned)",
    );
    expect(messageLine({ ...base, own: true, deleted: true })).toBe(
      "[2026-12-06 10:00:00 m1] you: (deleted)",
    );
  });

  it("shows a time no Date holds as dashes instead of throwing", () => {
    expect(messageLine({ ...base, shownAt: 9e15 })).toBe(
      "[----------   --:--:-- m1] a1b2c3d4: hello",
    );
  });
});

describe("authorNames", () => {
  const owner = "0".repeat(64);
  const alice = "a".repeat(64);
  const bob = "b".repeat(64);
  const carol = "c".repeat(64);
  const org = {
    id: owner,
    members: new Map([
      [owner, []],
      [alice, []],
      [bob, []],
      [carol, []],
    ]),
    memberNames: new Map(),
  } as unknown as OrganizationView;
  const request = (
    requester: string,
    displayName: string,
    status: RequestView["status"] = "accepted",
  ) =>
    ({
      id: requester.slice(0, 4),
      requester,
      displayName,
      chatId: "",
      sentAt: 0,
      status,
    }) as RequestView;

  it("names members by their accepted request, adds the id prefix when names collide", () => {
    const names = authorNames(org, [
      request(alice, "Alice"),
      request(bob, "Sam"),
      request(carol, "Sam"),
      request("d".repeat(64), "Dave"),
      request(alice, "Mallory", "rejected"),
    ]);
    expect(names.get(owner)).toBe("owner");
    expect(names.get(alice)).toBe("Alice");
    expect(names.get(bob)).toBe("Sam (bbbbbbbb)");
    expect(names.get(carol)).toBe("Sam (cccccccc)");
    // Dave left (or was banned): what he wrote still shows his name.
    expect(names.get("d".repeat(64))).toBe("Dave");
  });

  it("knows only the owner without requests or member names", () => {
    expect([...authorNames(org)]).toEqual([[owner, "owner"]]);
  });

  it("names members by the organization's member names (every member has them), requests after", () => {
    const named = {
      ...org,
      memberNames: new Map([
        [alice, "Alice"],
        [bob, "Sam"],
      ]),
    } as OrganizationView;
    // Without requests (a member's view), and with an owner's requests: the description's name wins
    // for a current member; a departed one keeps its request's name; collisions get the id prefix.
    expect(authorNames(named).get(alice)).toBe("Alice");
    const names = authorNames(named, [
      request(alice, "Old name"),
      request(carol, "Sam"),
      request("d".repeat(64), "Dave"),
    ]);
    expect(names.get(alice)).toBe("Alice");
    expect(names.get(bob)).toBe("Sam (bbbbbbbb)");
    expect(names.get(carol)).toBe("Sam (cccccccc)");
    expect(names.get("d".repeat(64))).toBe("Dave");
  });
});
