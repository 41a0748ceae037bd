import type { MessageView } from "@orgchat/client";
import { describe, expect, it } from "vitest";
import { messageLine } from "../src/format.js";

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
    expect(messageLine(base)).toBe(`[10:00:00] a1b2c3d4: hello`);
  });

  it("shows the author's time when it agrees with the arrival", () => {
    const agreed = { ...base, sentAt: base.receivedAt - 1_000, shownAt: base.receivedAt - 1_000 };
    expect(messageLine(agreed)).toBe(`[09:59:59] a1b2c3d4: hello`);
  });
});
