import { describe, expect, it } from "vitest";
import type { OrgEvent } from "../src/events.js";
import { initialState } from "../src/initial-state.js";
import { OrgLog } from "../src/log.js";
import { compareEvents } from "../src/order.js";
import {
  alice,
  bob,
  canonicalState,
  event,
  fold,
  owner,
  Script,
  sortedRejections,
} from "./event-fixtures.js";

const join = { chatId: "", ensName: "", displayName: "x" };

/** A short history: creation, a channel, two members, a few messages, an edit and a delete. */
function history(): OrgEvent[] {
  const s = new Script();
  return [
    s.created(),
    s.channel("general"),
    s.next("request.sent", alice, join, { id: "ra" }),
    s.next("request.accepted", owner, { requestId: "ra" }),
    s.next("request.sent", bob, join, { id: "rb" }),
    s.next("request.accepted", owner, { requestId: "rb" }),
    s.next("message.posted", alice, { channelId: "general", text: "1" }, { id: "m1" }),
    s.next("message.posted", bob, { channelId: "general", text: "2" }, { id: "m2" }),
    s.next("message.edited", alice, { messageId: "m1", text: "1'" }),
    s.next("message.deleted", bob, { messageId: "m2" }),
    s.next("message.posted", alice, { channelId: "general", text: "3" }, { id: "m3" }),
  ];
}

describe("OrgLog", () => {
  it("in order: each add reduces directly and the state equals the fold", () => {
    const events = history();
    const log = new OrgLog({ organizationId: owner });
    for (const e of events) expect(log.add(e).rejected).toBeUndefined();
    expect(canonicalState(log.state)).toBe(canonicalState(fold(events).state));
    expect(log.size).toBe(events.length);
    expect(log.events()).toEqual(events);
    expect(log.nextClock()).toBe(12n);
    expect(log.has("m1")).toBe(true);
    expect(log.has("nope")).toBe(false);
  });

  it("out of order (every reversal, every checkpoint interval): the state matches the fold", () => {
    const events = history();
    const expected = canonicalState(fold(events).state);
    for (const interval of [1, 2, 3, 5, 256]) {
      const log = new OrgLog({ organizationId: owner, checkpointInterval: interval });
      for (const e of [...events].reverse()) log.add(e);
      expect(canonicalState(log.state)).toBe(expected);
      expect(log.events()).toEqual([...events].sort(compareEvents));
      expect(log.rejections().size).toBe(0);
    }
  });

  it("a late event recomputes the verdicts of the events after it", () => {
    const events = history();
    const log = new OrgLog({ organizationId: owner, checkpointInterval: 2 });
    // Without the accept, alice's messages are refused.
    for (const e of events) if (e.id !== "e4") log.add(e);
    expect(log.rejectionOf("m1")).toBe("unknown-member");
    expect(log.state.messages.has("m1")).toBe(false);
    const late = events[3] as OrgEvent;
    expect(late.type).toBe("request.accepted");
    const result = log.add(late);
    expect(result.rejected).toBeUndefined();
    expect(log.rejectionOf("m1")).toBeUndefined();
    expect(log.rejections().size).toBe(0);
    expect(result.state.messages.get("m1")?.text).toBe("1'");
  });

  it("reports the late event's own rejection in its place", () => {
    const events = history();
    const log = new OrgLog({ organizationId: owner });
    for (const e of events) log.add(e);
    // A post by a stranger with an early clock is refused where it sorts.
    const stray = event(
      "message.posted",
      { id: "stray", author: "09".repeat(32), clock: 3 },
      {
        channelId: "general",
        text: "x",
      },
    );
    expect(log.add(stray).rejected).toEqual({ id: "stray", reason: "unknown-member" });
    expect(log.rejections()).toEqual(new Map([["stray", "unknown-member"]]));
    expect(log.events().map((e) => e.id)).toContain("stray");
  });

  it("duplicates change nothing; malformed events are refused and not kept", () => {
    const events = history();
    const log = new OrgLog({ organizationId: owner });
    for (const e of events) log.add(e);
    const before = log.state;
    expect(log.add(events[2] as OrgEvent)).toEqual({
      state: before,
      rejected: { id: "ra", reason: "duplicate" },
    });
    expect(log.add({ ...(events[2] as OrgEvent), id: "bad id" }).rejected?.reason).toBe(
      "malformed",
    );
    expect(log.add(null as unknown as OrgEvent).rejected).toEqual({ id: "", reason: "malformed" });
    expect(log.state).toBe(before);
    expect(log.size).toBe(events.length);
  });

  it("the same events in any arrival order give the same state and rejections", () => {
    const s = new Script();
    const events = [
      s.created(),
      s.channel("general"),
      s.next("message.posted", alice, { channelId: "general", text: "early" }, { id: "early" }),
      s.next("request.sent", alice, join, { id: "r" }),
      s.next("request.accepted", owner, { requestId: "r" }),
      s.next("message.posted", alice, { channelId: "general", text: "late" }, { id: "late" }),
    ];
    const reference = fold(events);
    const orders = [
      events,
      [...events].reverse(),
      [events[5], events[0], events[3], events[1], events[4], events[2]],
    ];
    for (const order of orders) {
      const log = new OrgLog({ organizationId: owner, checkpointInterval: 2 });
      for (const e of order) log.add(e as OrgEvent);
      expect(canonicalState(log.state)).toBe(canonicalState(reference.state));
      expect(sortedRejections(log.rejections())).toEqual(sortedRejections(reference.rejections));
    }
    expect(reference.rejections).toEqual(new Map([["early", "unknown-member"]]));
  });

  it("refuses bad options", () => {
    expect(() => new OrgLog({ organizationId: "nope" })).toThrow(RangeError);
    expect(() => new OrgLog({ organizationId: owner, checkpointInterval: 0 })).toThrow(RangeError);
    expect(() => new OrgLog({ organizationId: owner, checkpointInterval: 1.5 })).toThrow(
      RangeError,
    );
    for (const maxBuffered of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new OrgLog({ organizationId: owner, maxBuffered })).toThrow(RangeError);
    }
    for (const maxBufferedAgeMs of [-1, 0.5, Number.NaN]) {
      expect(() => new OrgLog({ organizationId: owner, maxBufferedAgeMs })).toThrow(RangeError);
    }
  });

  it("buffer bounds: defaults, and explicit values kept", () => {
    const log = new OrgLog({ organizationId: owner });
    expect([log.maxBuffered, log.maxBufferedAgeMs]).toEqual([1_000, 7 * 24 * 60 * 60 * 1000]);
    const custom = new OrgLog({
      organizationId: owner,
      maxBuffered: 0,
      maxBufferedAgeMs: Number.POSITIVE_INFINITY,
    });
    expect([custom.maxBuffered, custom.maxBufferedAgeMs]).toEqual([0, Number.POSITIVE_INFINITY]);
    expect([custom.bufferedCount, custom.evictedCount, custom.baseClock]).toEqual([
      0,
      0,
      undefined,
    ]);
  });

  it("reports the buffered events a late event explains, and keeps none with maxBuffered 0", () => {
    const events = history();
    const accept = events[3] as OrgEvent;
    const log = new OrgLog({ organizationId: owner, checkpointInterval: 3 });
    for (const e of events) if (e !== accept) log.add(e);
    expect(log.buffered().map((e) => e.id)).toEqual(["m1", "e9", "m3"]);
    expect(log.add(accept).explained).toEqual(["m1", "e9", "m3"]);
    expect(log.bufferedCount).toBe(0);

    const strict = new OrgLog({ organizationId: owner, maxBuffered: 0 });
    for (const e of events) if (e !== accept) strict.add(e);
    expect(strict.bufferedCount).toBe(0);
    expect(strict.evictedCount).toBe(3);
    // Alice's messages are forgotten: the accept alone does not bring them back.
    strict.add(accept);
    expect(strict.state.messages.has("m1")).toBe(false);
    expect(strict.size).toBe(events.length - 3);
  });

  it("after a re-base, size and events() count only events (not the description's place)", () => {
    const events = history();
    const log = new OrgLog({ organizationId: owner, checkpointInterval: 2 });
    for (const e of events) log.add(e);
    // A description-like base after creation and the channel: no applied ids, no requests.
    const none = initialState(owner).applied;
    const base = { ...fold(events.slice(0, 2)).state, applied: none };
    const { covered } = log.rebase(base);
    expect(covered).toEqual(["e1", "e2"]);
    expect(log.size).toBe(events.length - 2);
    expect(log.events()).toEqual(events.slice(2));
    expect(log.baseClock).toBe(2n);
    expect(canonicalState({ ...log.state, applied: none })).toBe(
      canonicalState({ ...fold(events).state, applied: none }),
    );
  });
});
