/**
 * Issue #13, row 1 (the clock bomb), rule R1: one clock limit (2^63 − 1), the bounded step judged
 * in the canonical fold, strangers' events that do not move clocks, and stamping that never
 * passes the limit. Unit examples, then fast-check properties over random histories with hostile
 * clocks.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ClockLimitError, clockLimits, isClockLimitError } from "../src/clock.js";
import type { MemberId, OrgEvent } from "../src/events.js";
import { OrgLog } from "../src/log.js";
import { reduce } from "../src/reduce.js";
import type { OrgState } from "../src/state.js";
import { isOrgEvent } from "../src/validate.js";
import { assertConvergence } from "./convergence.js";
import { historyArb, propertyConfig } from "./event-arbitraries.js";
import { alice, applyAll, dave, eve, fold, key, owner, Script } from "./event-fixtures.js";

const { maxClock, maxClockStep } = clockLimits;
/** What `@orgchat/store` accepts as a sort key (`storeLimits.maxSortKey`: SQLite's INTEGER). */
const storeMaxSortKey = 2n ** 63n - 1n;
const join = { chatId: "", ensName: "", displayName: "" };
const post = (text = "x") => ({ channelId: "general", text });

/** An organization on request, with a channel and a member (alice) who joined by invitation. */
function organization(): { s: Script; events: OrgEvent[] } {
  const s = new Script();
  const events: OrgEvent[] = [
    s.created(),
    s.channel("general"),
    s.next("invitation.issued", owner, { invitee: alice, chatId: "" }, { id: "inv" }),
    s.next("invitation.used", alice, { invitationId: "inv" }),
  ];
  return { s, events };
}

function logOf(events: readonly OrgEvent[], interval = 256): OrgLog {
  const log = new OrgLog({ organizationId: owner, checkpointInterval: interval });
  for (const e of events) log.add(e);
  return log;
}

describe("one clock limit: 2^63 − 1", () => {
  it("is the store's sort-key limit", () => {
    expect(maxClock).toBe(storeMaxSortKey);
    expect(maxClockStep).toBe(2n ** 24n);
  });

  it("an event above it is malformed, whoever signs it; at it, only the owner may jump there", () => {
    const { s, events } = organization();
    const state = applyAll(events).state;
    for (const clock of [maxClock + 1n, 2n ** 64n - 1n]) {
      const bomb = s.next("message.posted", owner, post(), { clock });
      expect(isOrgEvent(bomb)).toBe(false);
      expect(reduce(state, bomb).rejected?.reason).toBe("malformed");
      const log = logOf(events);
      expect(log.add(bomb).rejected?.reason).toBe("malformed");
      expect(log.has(bomb.id)).toBe(false);
    }
    const top = s.next("message.posted", owner, post(), { clock: maxClock });
    expect(reduce(state, top).state.clock).toBe(maxClock);
    const member = s.next("message.posted", alice, post(), { clock: maxClock });
    expect(reduce(state, member).rejected?.reason).toBe("clock-jump");
  });
});

describe("bounded step", () => {
  it("a member's event may go maxClockStep above the clocks before it, not one more", () => {
    const { s, events } = organization();
    const state = applyAll(events).state;
    const fine = s.next("message.posted", alice, post(), { clock: state.clock + maxClockStep });
    expect(reduce(state, fine).rejected).toBeUndefined();
    const far = s.next("message.posted", alice, post(), {
      clock: state.clock + maxClockStep + 1n,
    });
    expect(reduce(state, far)).toEqual({ state, rejected: { id: far.id, reason: "clock-jump" } });
  });

  it("owner events are authoritative: any clock up to the limit", () => {
    const { s, events } = organization();
    const state = applyAll(events).state;
    const jump = s.next(
      "category.created",
      owner,
      { categoryId: "c", name: "c" },
      {
        clock: 1n << 40n,
      },
    );
    expect(reduce(state, jump).state.clock).toBe(1n << 40n);
  });

  it("a refusal for the clock is held and re-judged: the events that fill the gap make it apply", () => {
    const { s, events } = organization();
    const log = logOf(events);
    const base = log.state.clock;
    // Alice saw two steps of events that have not reached this member yet.
    const first = s.next("message.posted", alice, post("1"), { clock: base + maxClockStep });
    const second = s.next("message.posted", alice, post("2"), { clock: base + 2n * maxClockStep });
    expect(log.add(second).rejected?.reason).toBe("clock-jump");
    expect(log.rejectionOf(second.id)).toBe("clock-jump");
    expect(log.nextClock()).toBe(base + 1n);
    const result = log.add(first);
    expect(result.rejected).toBeUndefined();
    expect(result.explained).toEqual([second.id]);
    expect(log.state.clock).toBe(base + 2n * maxClockStep);
  });

  it("clock-jump refusals are evicted before every refusal that is not final", () => {
    const { s, events } = organization();
    const log = new OrgLog({ organizationId: owner, maxBuffered: 2 });
    for (const e of events) log.add(e);
    // A stranger's post (unknown-member, may apply once it joins), and two clock bombs.
    const waiting = s.next("message.posted", dave, post(), { clock: log.state.clock + 1n });
    log.add(waiting);
    const bombs = [1n, 2n].map((k) =>
      s.next("message.posted", alice, post(`${k}`), { clock: maxClock - k }),
    );
    log.add(bombs[0] as OrgEvent);
    const result = log.add(bombs[1] as OrgEvent);
    expect(result.evicted?.map((e) => [e.event.id, e.reason])).toEqual([
      [bombs[1]?.id, "clock-jump"],
    ]);
    expect(log.rejectionOf(waiting.id)).toBe("unknown-member");
  });
});

describe("strangers do not move clocks", () => {
  it("a pending request is applied but not counted; the decision is stamped after it", () => {
    const { s, events } = organization();
    const log = logOf(events);
    const before = log.state.clock;
    const request = s.next("request.sent", eve, join, { clock: before + maxClockStep });
    expect(log.add(request).rejected).toBeUndefined();
    expect(log.state.requests.get(request.id)?.status).toBe("pending");
    expect(log.state.clock).toBe(before);
    expect(log.nextClock()).toBe(before + 1n);
    // A request past the step is refused like any other event.
    const far = s.next("request.sent", dave, join, { clock: before + maxClockStep + 1n });
    expect(log.add(far).rejected?.reason).toBe("clock-jump");
    // The decision sorts after the request it decides, so it finds it pending.
    const clock = log.nextClock(request.clock);
    expect(clock).toBe(request.clock + 1n);
    const accept = s.next("request.accepted", owner, { requestId: request.id }, { clock });
    expect(log.add(accept).rejected).toBeUndefined();
    expect(log.state.members.has(eve)).toBe(true);
    expect(log.state.clock).toBe(clock);
  });

  it("a cancel does not count either; a request that makes a member (open organization) does", () => {
    const { s, events } = organization();
    const state = applyAll(events).state;
    const request = s.next("request.sent", eve, join, { clock: state.clock + 5n });
    const pending = reduce(state, request).state;
    const cancel = s.next("request.cancelled", eve, { requestId: request.id });
    const cancelled = reduce(pending, cancel);
    expect(cancelled.rejected).toBeUndefined();
    expect(cancelled.state.clock).toBe(state.clock);

    const open = new Script("o");
    const openEvents = [open.created("no-membership"), open.channel("general")];
    const openState = applyAll(openEvents).state;
    const joined = reduce(
      openState,
      open.next("request.sent", eve, join, { clock: openState.clock + 5n }),
    );
    expect(joined.state.members.has(eve)).toBe(true);
    expect(joined.state.clock).toBe(openState.clock + 5n);
  });
});

describe("stamping never passes the limit", () => {
  it("nextClock throws ClockLimitError at the limit, and checks `after`", () => {
    const { s, events } = organization();
    const log = logOf(events);
    expect(log.nextClock(maxClock - 1n)).toBe(maxClock);
    expect(() => log.nextClock(maxClock)).toThrow(ClockLimitError);
    for (const bad of [-1n, maxClock + 1n, 5 as unknown as bigint]) {
      expect(() => log.nextClock(bad)).toThrow(RangeError);
    }
    log.add(s.next("message.posted", owner, post(), { clock: maxClock }));
    let caught: unknown;
    try {
      log.nextClock();
    } catch (error) {
      caught = error;
    }
    expect(isClockLimitError(caught)).toBe(true);
    expect((caught as ClockLimitError).clock).toBe(maxClock + 1n);
  });

  it("a description above the limit is ignored by rebase", () => {
    const { events } = organization();
    const log = logOf(events);
    const before = log.state;
    const result = log.rebase({ ...before, clock: maxClock + 1n } as OrgState);
    expect(result.rebased).toBe(false);
    expect(log.state).toBe(before);
    expect(log.nextClock()).toBe(before.clock + 1n);
  });
});

// -------------------------------------------------------------------------------------------------
// Properties: random histories where non-owner authors pick hostile clocks.

const hostileClockArb = fc.oneof(
  fc.constantFrom(
    2n ** 64n - 1n,
    2n ** 64n - 2n,
    2n ** 63n,
    2n ** 63n - 1n,
    2n ** 63n - 2n,
    maxClockStep,
    maxClockStep + 1n,
    maxClockStep + 31n,
  ),
  fc.bigInt(0n, 2n ** 64n - 1n),
  fc.bigInt(0n, 3n * maxClockStep),
);

const strangers: readonly MemberId[] = [key(0x07), key(0x08), key(0x09)];

/**
 * A random history, where some events not authored by the owner get a hostile clock, plus hostile
 * extra events (members' posts, strangers' requests and posts).
 */
const hostileHistoryArb = historyArb().chain((events) =>
  fc
    .tuple(
      fc.array(fc.tuple(fc.nat(events.length * 4), hostileClockArb), { maxLength: 8 }),
      fc.array(
        fc.record({
          kind: fc.constantFrom("post", "request", "stranger-post"),
          who: fc.nat(2),
          clock: hostileClockArb,
          sentAt: fc.nat(2500),
        }),
        { maxLength: 6 },
      ),
    )
    .map(([mutations, extras]) => {
      const out = [...events];
      for (const [index, clock] of mutations) {
        const target = out[index % out.length] as OrgEvent;
        if (target.author === owner) continue;
        out[index % out.length] = { ...target, clock } as OrgEvent;
      }
      extras.forEach((extra, i) => {
        const id = `h${i}`;
        const sentAt = extra.sentAt;
        if (extra.kind === "request") {
          out.push({
            id,
            type: "request.sent",
            author: strangers[extra.who] as MemberId,
            clock: extra.clock,
            sentAt,
            body: join,
          });
        } else {
          const author =
            extra.kind === "post"
              ? ([alice, dave, eve][extra.who] as MemberId)
              : (strangers[extra.who] as MemberId);
          out.push({
            id,
            type: "message.posted",
            author,
            clock: extra.clock,
            sentAt,
            body: post(id),
          });
        }
      });
      return out;
    }),
);

const runs = (numRuns: number, seed: number) => ({ numRuns, seed });

describe("properties with hostile clocks", () => {
  it("the histories exercise the rules (refused for the clock, malformed, strangers applied)", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(hostileHistoryArb, (events) => {
        for (const e of events) if (!isOrgEvent(e)) seen.add("malformed");
        fold(events, propertyConfig, (_, e, after, rejected) => {
          if (rejected === "clock-jump") seen.add("clock-jump");
          if (rejected === undefined && !after.members.has(e.author)) seen.add("stranger");
          if (rejected === undefined && e.author !== owner && e.clock > 1000n) seen.add("high");
        });
      }),
      runs(300, 0x5eed12),
    );
    expect([...seen].sort()).toEqual(["clock-jump", "high", "malformed", "stranger"]);
  });

  it("every member's fold is identical, whatever the arrival order and checkpoints", () => {
    assertConvergence(hostileHistoryArb, runs(300, 0x5eed13));
  });

  it("the clock stays within the previous-step bound, and the owner's next clock fits the store", () => {
    fc.assert(
      fc.property(hostileHistoryArb, (events) => {
        const { state } = fold(events, propertyConfig, (before, e, after, rejected) => {
          expect(after.clock <= maxClock).toBe(true);
          if (rejected !== undefined) {
            expect(after).toBe(before);
            return;
          }
          if (e.author !== owner) {
            // A non-owner event moves the clock at most one step.
            expect(after.clock - before.clock <= maxClockStep).toBe(true);
          }
          if (!after.members.has(e.author)) {
            // A stranger's event does not move it at all.
            expect(after.clock).toBe(before.clock);
          }
        });
        const log = new OrgLog({ organizationId: owner, config: propertyConfig });
        for (const e of events) log.add(e);
        // Owner clocks in these histories stay small: whatever the others sent, it can stamp.
        const next = log.nextClock();
        expect(next).toBe(state.clock + 1n);
        expect(next <= storeMaxSortKey).toBe(true);
        // Nothing above the limit is held.
        for (const e of log.events()) expect(e.clock <= maxClock).toBe(true);
      }),
      runs(300, 0x5eed14),
    );
  });
});
