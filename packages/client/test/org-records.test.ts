import { describe, expect, it } from "vitest";
import {
  cachedNameLimit,
  eventsLog,
  messagesLog,
  orgSpace,
  outboxLog,
  seenLog,
} from "../src/org-records.ts";

describe("record names", () => {
  it("are the documented layout, the same with the cache full as before", () => {
    const check = (org: string) => {
      expect(orgSpace(org)).toBe(`org/${org}`);
      expect(eventsLog(org)).toBe(`events/${org}`);
      expect(outboxLog(org)).toBe(`outbox/${org}`);
      expect(seenLog(org)).toBe(`seen/${org}`);
      expect(messagesLog(org, "general")).toBe(`messages/${org}/general`);
      expect(messagesLog(org, "other")).toBe(`messages/${org}/other`);
    };
    check("aa");
    check("aa");
    // Fill the cache past its bound: every name is still right, and the cache stops growing.
    for (let i = 0; i <= cachedNameLimit; i++) check(`org-${i}`);
    check("bb");
    check("bb");
    check("aa");
  });
});
