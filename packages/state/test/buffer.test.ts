/**
 * The buffer of rejected events (docs/PROTOCOL.md, "Buffered events"): events from a member,
 * channel or request not known yet wait in `OrgLog`, bounded by count and age, and apply when the
 * event or the description that explains them arrives. Fast-check properties with fixed seeds; time
 * only through `sentAt` and the `now` given to `prune`.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  defaultBufferLimits,
  type EvictedEvent,
  isFinalRejection,
  isOutsideAgeWindow,
} from "../src/buffer.js";
import { describeOrganization, stateFromDescription } from "../src/description/index.js";
import { descriptionCoveredTypes } from "../src/event-types.js";
import type { MemberId, OrgEvent, RejectionReason } from "../src/events.js";
import { OrgLog, type OrgLogInit } from "../src/log.js";
import { compareEvents } from "../src/order.js";
import { applyWellFormed, resolveConfig } from "../src/reduce.js";
import type { OrgState, ReducerConfig } from "../src/state.js";
import { historyArb, permutationArb, propertyConfig } from "./event-arbitraries.js";
import {
  alice,
  bob,
  canonicalState,
  day,
  event,
  type Fold,
  fold,
  key,
  owner,
  Script,
  sortedRejections,
} from "./event-fixtures.js";

const runs = (numRuns: number, seed: number) => ({ numRuns, seed });
const join = { chatId: "", ensName: "", displayName: "x" };

function post(id: string, author: MemberId, clock: number, sentAt = 0): OrgEvent {
  return event("message.posted", { id, author, clock, sentAt }, { channelId: "general", text: id });
}

/** Creation (clock 1) and an open channel `general` (clock 2), in an on-request organization. */
function setup(s = new Script()): OrgEvent[] {
  return [s.created(), s.channel("general")];
}

function logWith(events: readonly OrgEvent[], init: Partial<OrgLogInit> = {}): OrgLog {
  const log = new OrgLog({ organizationId: owner, ...init });
  for (const e of events) log.add(e);
  return log;
}

/** The state of a description of `state`, stamped with `clock` (what `rebase` is given). */
function describedBase(state: OrgState, clock: bigint): OrgState {
  return stateFromDescription({ ...describeOrganization(state), clock }, owner);
}

const ids = (evicted: readonly EvictedEvent[] | undefined) =>
  (evicted ?? []).map((e) => e.event.id);

describe("buffering until the explaining event arrives", () => {
  it("a message from a member not known yet is buffered, and applies when the join (earlier clock) arrives", () => {
    const s = new Script();
    const base = setup(s);
    const request = s.next("request.sent", alice, join, { id: "ra" });
    const accept = s.next("request.accepted", owner, { requestId: "ra" });
    const message = post("m", alice, 10);
    const log = logWith([...base, message]);

    expect(log.rejectionOf("m")).toBe("unknown-member");
    expect(log.bufferedCount).toBe(1);
    expect(log.buffered()).toEqual([message]);
    expect(log.state.messages.has("m")).toBe(false);

    expect(log.add(request).explained).toBeUndefined();
    const result = log.add(accept);
    expect(result.rejected).toBeUndefined();
    expect(result.explained).toEqual(["m"]);
    expect(log.bufferedCount).toBe(0);
    expect(log.state.messages.get("m")?.author).toBe(alice);
    expect(canonicalState(log.state)).toBe(
      canonicalState(fold([...base, request, accept, message]).state),
    );
  });

  it("a message in a channel not known yet applies when the channel arrives", () => {
    const s = new Script();
    const [created] = setup(s);
    const channel = s.channel("later");
    const message = event(
      "message.posted",
      { id: "m", author: owner, clock: 9 },
      { channelId: "later", text: "hi" },
    );
    const log = logWith([created as OrgEvent, message]);
    expect(log.rejectionOf("m")).toBe("unknown-target");
    expect(log.add(channel).explained).toEqual(["m"]);
    expect(log.state.messages.has("m")).toBe(true);
  });
});

describe("re-basing on a description", () => {
  /** An organization where alice and bob joined; its description at clock 10. */
  function described() {
    const s = new Script();
    const events = [
      ...setup(s),
      s.next("request.sent", alice, join, { id: "ra" }),
      s.next("request.accepted", owner, { requestId: "ra" }),
      s.next("request.sent", bob, join, { id: "rb" }),
      s.next("request.accepted", owner, { requestId: "rb" }),
      s.next("member.roles.changed", owner, { member: alice, roles: ["moderate-content"] }),
    ];
    return { events, base: describedBase(fold(events).state, 10n) };
  }

  it("a newcomer's buffered messages apply when the description that lists their authors arrives", () => {
    const { base } = described();
    const early = post("early", alice, 4);
    const live = post("live", bob, 12);
    const stranger = post("stranger", key(0x09), 13);
    const log = logWith([early, live, stranger]);
    expect(log.bufferedCount).toBe(3);
    expect(log.state.created).toBe(false);

    const result = log.rebase(base);
    expect(result.rebased).toBe(true);
    expect(result.covered).toEqual([]);
    expect([...result.explained].sort()).toEqual(["early", "live"]);
    expect(result.evicted).toEqual([]);
    expect(log.baseClock).toBe(10n);
    expect(log.state.messages.has("early")).toBe(true);
    expect(log.state.messages.has("live")).toBe(true);
    expect(log.rejectionOf("stranger")).toBe("unknown-member");
    expect(log.buffered()).toEqual([stranger]);
    // The description's members, roles and channels are the state's.
    const { messages, applied } = base;
    expect(canonicalState({ ...log.state, clock: base.clock, messages, applied })).toBe(
      canonicalState(base),
    );
    // The stranger's refused clock does not count.
    expect(log.nextClock()).toBe(13n);
  });

  it("drops the events the description covers, refuses them later, and keeps the rest", () => {
    const { events, base } = described();
    const log = logWith(events);
    const result = log.rebase(base);
    const coveredTypes: ReadonlySet<string> = new Set(descriptionCoveredTypes);
    const expectedCovered = events.filter((e) => coveredTypes.has(e.type)).map((e) => e.id);
    expect(result.covered).toEqual(expectedCovered);
    // Requests are not in a description: their events stay and are re-applied on it (they are
    // conflicts now: the requesters are members already).
    expect(log.events().map((e) => e.type)).toEqual([
      "request.sent",
      "request.accepted",
      "request.sent",
      "request.accepted",
    ]);
    expect(log.rejectionOf("ra")).toBe("conflict");
    expect(log.state.members.has(alice)).toBe(true);

    // A covered event arriving after the re-base is refused and not kept; a later one applies.
    const lateRoles = event(
      "member.roles.changed",
      { id: "late-roles", author: owner, clock: 9 },
      { member: bob, roles: ["all"] },
    );
    expect(log.add(lateRoles)).toEqual({
      state: log.state,
      rejected: { id: "late-roles", reason: "conflict" },
    });
    expect(log.has("late-roles")).toBe(false);
    const newRoles = event(
      "member.roles.changed",
      { id: "new-roles", author: owner, clock: 11 },
      { member: bob, roles: ["all"] },
    );
    expect(log.add(newRoles).rejected).toBeUndefined();
    expect(log.state.members.get(bob)?.roles.toArray()).toEqual(["all"]);
  });

  it("the description is authoritative at its clock: a replayed join of a since-removed member does not bring it back", () => {
    const s = new Script();
    const events = [
      ...setup(s),
      s.next("request.sent", alice, { ...join, chatId: "" }, { id: "ra" }),
      s.next("request.accepted", owner, { requestId: "ra" }),
      s.next("grant.issued", owner, { member: alice, chatId: "general" }),
      s.next("message.posted", alice, { channelId: "general", text: "hi" }, { id: "m1" }),
      s.next("member.removed", owner, { member: alice }),
    ];
    const truth = fold(events).state;
    expect(truth.members.has(alice)).toBe(false);
    const base = describedBase(truth, s.clock);
    const log = logWith(events, { checkpointInterval: 2 });
    log.rebase(base);
    // The removal is covered (dropped); the request, accept, grant and message are re-applied on
    // the description, then the description's members are laid over them again.
    expect(log.has("e7")).toBe(false);
    expect(log.state.members.has(alice)).toBe(false);
    expect(log.state.grants.size).toBe(0);
    expect(log.state.messages.has("m1")).toBe(true);
    expect(log.state.requests.get("ra")?.status).toBe("accepted");
    // After the description, alice is a stranger again.
    expect(log.add(post("after", alice, 20)).rejected?.reason).toBe("unknown-member");
  });

  it("re-basing before or after the events arrive gives the same state", () => {
    const { base } = described();
    const s = new Script("x");
    s.clock = 10n;
    const later = [
      post("a1", alice, 3),
      post("b1", bob, 11),
      s.next("member.removed", alice, { member: bob }),
      s.next("member.removed", owner, { member: bob }),
      post("b2", bob, 30),
      s.next("message.deleted", alice, { messageId: "b1" }),
    ];
    const first = new OrgLog({ organizationId: owner });
    first.rebase(base);
    for (const e of later) first.add(e);
    const second = logWith([...later].reverse(), { checkpointInterval: 1 });
    second.rebase(base);
    expect(canonicalState(second.state)).toBe(canonicalState(first.state));
    expect(sortedRejections(second.rejections())).toEqual(sortedRejections(first.rejections()));
    expect(first.rejectionOf("x1")).toBe("unauthorized");
    expect(first.rejectionOf("b2")).toBe("unknown-member");
    expect(first.state.messages.get("b1")?.deleted).toBe(true);
  });

  it("ignores an older base; a newer one replaces it", () => {
    const { events, base } = described();
    const log = logWith(events);
    log.rebase(base);
    const state = log.state;
    const older = describedBase(fold(events.slice(0, 2)).state, 5n);
    expect(log.rebase(older)).toEqual({
      state,
      rebased: false,
      covered: [],
      explained: [],
      evicted: [],
    });
    const newer = describedBase(fold(events.slice(0, 4)).state, 20n);
    expect(log.rebase(newer).rebased).toBe(true);
    expect(log.baseClock).toBe(20n);
    expect(log.state.members.has(bob)).toBe(false);
  });

  it("refuses a base that is not a created state of this organization", () => {
    const log = new OrgLog({ organizationId: owner });
    const { base } = described();
    expect(() => log.rebase({ ...base, organizationId: alice })).toThrow(RangeError);
    expect(() => log.rebase({ ...base, created: false })).toThrow(RangeError);
    expect(() => log.rebase(null as unknown as OrgState)).toThrow(RangeError);
  });
});

describe("the count bound", () => {
  it("evicts final rejections first, then the oldest in canonical order, and reports them", () => {
    const log = logWith(setup(), { maxBuffered: 2 });
    expect(log.add(post("m5", alice, 5)).evicted).toBeUndefined();
    expect(log.add(post("m9", alice, 9)).evicted).toBeUndefined();
    // An owner-only event by another key can never apply: it goes first, although it sorts last.
    const forged = event(
      "channel.created",
      { id: "forged", author: alice, clock: 20 },
      {
        channelId: "x",
        identity: { displayName: "x", description: "", ensName: "", images: {} },
        permissions: { access: "no-membership", ensOnly: false, private: false },
        categoryId: "",
      },
    );
    const first = log.add(forged);
    expect(first.rejected).toEqual({ id: "forged", reason: "unauthorized" });
    expect(first.evicted).toEqual([{ event: forged, reason: "unauthorized", cause: "capacity" }]);
    expect(log.has("forged")).toBe(false);
    // Then the oldest in canonical order: m5, and an older arrival evicts itself.
    expect(ids(log.add(post("m7", alice, 7)).evicted)).toEqual(["m5"]);
    expect(ids(log.add(post("m3", alice, 3)).evicted)).toEqual(["m3"]);
    expect(log.buffered().map((e) => e.id)).toEqual(["m7", "m9"]);
    expect(log.evictedCount).toBe(3);
    // An evicted event is forgotten: delivered again, it is judged anew.
    expect(log.add(post("m5", alice, 5)).rejected?.reason).toBe("unknown-member");
  });

  it("a late event that rejects many applied events keeps only the bound, and the state stays the fold of what is held", () => {
    const s = new Script();
    const events = [
      ...setup(s),
      s.next("request.sent", alice, join, { id: "ra" }),
      s.next("request.accepted", owner, { requestId: "ra" }),
    ];
    for (let i = 0; i < 40; i++) events.push(post(`p${i}`, alice, 10 + i));
    const log = logWith(events, { maxBuffered: 3, checkpointInterval: 4 });
    expect(log.bufferedCount).toBe(0);
    // A ban at clock 5 arrives late: the 40 messages after it are now refused.
    const ban = event(
      "member.banned",
      { id: "ban", author: owner, clock: 5 },
      { member: alice, deleteMessages: false },
    );
    const result = log.add(ban);
    expect(ids(result.evicted)).toEqual(Array.from({ length: 37 }, (_, i) => `p${i}`));
    expect(result.evicted?.every((e) => e.reason === "banned")).toBe(true);
    expect(log.buffered().map((e) => e.id)).toEqual(["p37", "p38", "p39"]);
    // An unban between them explains the three kept; the evicted ones are gone.
    const unban = event(
      "member.unbanned",
      { id: "unban", author: owner, clock: 6 },
      { member: alice },
    );
    log.add(unban);
    expect(log.bufferedCount).toBe(3); // unbanned is not a member: now unknown-member
    expect(log.rejectionOf("p39")).toBe("unknown-member");
    const rejoin = [
      event("request.sent", { id: "ra2", author: alice, clock: 7 }, join),
      event("request.accepted", { id: "ok2", author: owner, clock: 8 }, { requestId: "ra2" }),
    ];
    for (const e of rejoin) log.add(e);
    expect(log.bufferedCount).toBe(0);
    expect([...log.state.messages.keys()].sort()).toEqual(["p37", "p38", "p39"]);
    expect(canonicalState(log.state)).toBe(canonicalState(fold(log.events()).state));
  });

  /** Random histories with strangers' posts mixed in, in random arrival orders. */
  const streamArb = historyArb(40).chain((history) =>
    fc
      .array(
        fc.record({
          author: fc.integer({ min: 0x20, max: 0x24 }),
          clock: fc.bigInt(0n, 40n),
          sentAt: fc.nat(2500),
        }),
        { maxLength: 25 },
      )
      .chain((strays) => {
        const events = [
          ...history,
          ...strays.map((stray, i) =>
            post(`s${i}`, key(stray.author), Number(stray.clock), stray.sentAt),
          ),
        ];
        return fc.tuple(
          fc.constant(events),
          permutationArb(events),
          fc.integer({ min: 0, max: 12 }),
          fc.integer({ min: 1, max: 6 }),
        );
      }),
  );

  it("never holds more than maxBuffered, reports every event it drops, and its state is the fold of what it holds", () => {
    let evictions = 0;
    fc.assert(
      fc.property(streamArb, ([events, order, maxBuffered, checkpointInterval]) => {
        const log = new OrgLog({
          organizationId: owner,
          config: propertyConfig,
          maxBuffered,
          checkpointInterval,
        });
        const dropped = new Set<string>();
        for (const e of order) {
          const result = log.add(e);
          expect(log.bufferedCount).toBeLessThanOrEqual(maxBuffered);
          for (const evicted of result.evicted ?? []) {
            expect(evicted.cause).toBe("capacity");
            expect(log.has(evicted.event.id)).toBe(false);
            dropped.add(evicted.event.id);
          }
        }
        evictions += dropped.size;
        expect(log.evictedCount).toBe(dropped.size);
        // Every event is held or was dropped (ids are unique, so nothing is a duplicate).
        const held = log.events();
        expect(held.length + dropped.size).toBe(events.length);
        for (const e of held) expect(dropped.has(e.id)).toBe(false);
        expect(held).toEqual([...held].sort(compareEvents));
        // Dropping rejected events never changes the state or the other verdicts.
        const reference = fold(held, propertyConfig);
        expect(canonicalState(log.state)).toBe(canonicalState(reference.state));
        expect(sortedRejections(log.rejections())).toEqual(sortedRejections(reference.rejections));
      }),
      runs(300, 0xb0f01),
    );
    expect(evictions).toBeGreaterThan(0);
  });

  it("eviction is deterministic: two logs given the same inputs evict the same events", () => {
    fc.assert(
      fc.property(streamArb, ([, order, maxBuffered, interval]) => {
        const trace = (checkpointInterval: number) => {
          const log = new OrgLog({
            organizationId: owner,
            config: propertyConfig,
            maxBuffered,
            checkpointInterval,
          });
          return order.map((e) => ids(log.add(e).evicted));
        };
        // The checkpoint interval is a cost knob: it must not change what is evicted either.
        expect(trace(interval)).toEqual(trace(interval));
        expect(trace(interval)).toEqual(trace(7));
      }),
      runs(100, 0xb0f02),
    );
  });

  it("events that stay refused whatever the order: the canonically latest maxBuffered are kept, whatever the arrival order", () => {
    const arb = fc
      .uniqueArray(fc.bigInt(3n, 200n), { minLength: 1, maxLength: 30 })
      .chain((clocks) => {
        const events = [
          ...setup(),
          ...clocks.map((clock, i) => post(`s${i}`, key(0x20 + (i % 3)), Number(clock))),
        ];
        return fc.tuple(
          fc.constant(events),
          permutationArb(events),
          fc.integer({ min: 0, max: 10 }),
        );
      });
    fc.assert(
      fc.property(arb, ([events, order, maxBuffered]) => {
        const log = logWith(order, { maxBuffered });
        const strays = events.slice(2).sort(compareEvents);
        const kept = strays.slice(Math.max(0, strays.length - maxBuffered));
        expect(log.buffered()).toEqual(kept);
      }),
      runs(200, 0xb0f03),
    );
  });
});

describe("the age bound", () => {
  it("prune(now) drops buffered events dated maxBufferedAgeMs or more from now, either way", () => {
    const now = 10 * day;
    const age = defaultBufferLimits.maxBufferedAgeMs;
    expect(age).toBe(7 * day);
    const tooOld = post("old", alice, 3, now - age);
    const young = post("young", alice, 4, now - age + 1);
    const tooNew = post("future", alice, 5, now + age);
    const soon = post("soon", alice, 6, now + age - 1);
    const log = logWith([...setup(), tooOld, young, tooNew, soon]);
    expect(log.bufferedCount).toBe(4);

    const pruned = log.prune(now);
    expect(pruned).toEqual([
      { event: tooOld, reason: "unknown-member", cause: "age" },
      { event: tooNew, reason: "unknown-member", cause: "age" },
    ]);
    expect(log.buffered()).toEqual([young, soon]);
    expect(log.evictedCount).toBe(2);
    // Applied events are never pruned, however old (setup is dated 0).
    expect(log.size).toBe(4);
    expect(log.state.channels.has("general")).toBe(true);
    // Nothing more to prune at the same time; later, the rest goes.
    expect(log.prune(now)).toEqual([]);
    expect(ids(log.prune(now + 2 * age))).toEqual(["young", "soon"]);
    // A pruned event delivered again is judged anew.
    expect(log.add(tooOld).rejected?.reason).toBe("unknown-member");
  });

  it("a custom age bound, Infinity keeping events until the count bound", () => {
    const stray = post("s", alice, 3, 0);
    const short = logWith([...setup(), stray], { maxBufferedAgeMs: 1000 });
    expect(ids(short.prune(999))).toEqual([]);
    expect(ids(short.prune(1000))).toEqual(["s"]);
    const forever = logWith([...setup(), stray], { maxBufferedAgeMs: Number.POSITIVE_INFINITY });
    expect(forever.prune(Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(isOutsideAgeWindow(stray, 1000, 1000)).toBe(true);
  });

  it("refuses a time that is not a finite number", () => {
    const log = new OrgLog({ organizationId: owner });
    expect(() => log.prune(Number.NaN)).toThrow(RangeError);
    expect(() => log.prune(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => log.prune("1" as unknown as number)).toThrow(RangeError);
  });

  it("after pruning, the bounds hold and the state is the fold of what is held", () => {
    const arb = historyArb(40).chain((events) =>
      fc.tuple(fc.constant(events), permutationArb(events), fc.nat(3000)),
    );
    fc.assert(
      fc.property(arb, ([, order, now]) => {
        const log = new OrgLog({
          organizationId: owner,
          config: propertyConfig,
          maxBufferedAgeMs: 1000,
          checkpointInterval: 3,
        });
        for (const e of order) log.add(e);
        const before = log.bufferedCount;
        const pruned = log.prune(now);
        expect(log.bufferedCount).toBe(before - pruned.length);
        for (const e of log.buffered()) expect(Math.abs(now - e.sentAt)).toBeLessThan(1000);
        for (const e of pruned) expect(Math.abs(now - e.event.sentAt)).toBeGreaterThanOrEqual(1000);
        const reference = fold(log.events(), propertyConfig);
        expect(canonicalState(log.state)).toBe(canonicalState(reference.state));
      }),
      runs(150, 0xb0f04),
    );
  });
});

describe("final rejections", () => {
  it("a rejection called final never applies, whatever arrives later (the applied events staying)", () => {
    // A log only ever loses rejected events (eviction) or covered ones (re-base, which brings a
    // created base); what was applied when the verdict was given is kept, plus anything else.
    let finals = 0;
    const arb = historyArb(45).chain((events) =>
      fc.tuple(fc.subarray(events), fc.subarray(events)),
    );
    fc.assert(
      fc.property(arb, ([first, more]) => {
        const { rejections } = fold(first, propertyConfig);
        const final = first.filter((e) => {
          const reason = rejections.get(e.id);
          return reason !== undefined && isFinalRejection(e, reason, owner);
        });
        const later = [...first.filter((e) => !rejections.has(e.id)), ...final, ...more];
        const laterRejections = fold(later, propertyConfig).rejections;
        for (const e of final) {
          finals++;
          expect(laterRejections.has(e.id)).toBe(true);
        }
      }),
      runs(300, 0xb0f05),
    );
    expect(finals).toBeGreaterThan(0);
  });

  it("names the final cases", () => {
    const forged = event("org.tags.changed", { id: "t", author: alice, clock: 1 }, { tags: [] });
    const posted = post("p", alice, 1);
    const reasons: RejectionReason[] = ["unknown-member", "banned", "malformed", "conflict"];
    for (const reason of reasons) expect(isFinalRejection(forged, reason, owner)).toBe(true);
    expect(isFinalRejection(posted, "expired", owner)).toBe(true);
    for (const reason of ["unknown-member", "unauthorized", "banned", "rate-limited"] as const) {
      expect(isFinalRejection(posted, reason, owner)).toBe(false);
    }
    const owned = { ...forged, author: owner };
    expect(isFinalRejection(owned, "malformed", owner)).toBe(false);
    const again = new Script().created();
    expect(isFinalRejection(again, "malformed", owner)).toBe(true);
  });
});

// -------------------------------------------------------------------------------------------------
// Convergence within the bounds, with and without a description base.

const coveredTypes: ReadonlySet<string> = new Set(descriptionCoveredTypes);

/**
 * The reference of docs/PROTOCOL.md, "Buffered events", written from the rule: drop the covered
 * events, re-apply the others with a clock ≤ C on the base, lay the description over the state,
 * then the events with a later clock.
 */
function foldOnBase(base: OrgState, events: readonly OrgEvent[], config: ReducerConfig): Fold {
  const kept = events
    .filter((e) => !(e.clock <= base.clock && coveredTypes.has(e.type)))
    .sort(compareEvents);
  const overlay = (state: OrgState): OrgState => ({
    ...state,
    created: base.created,
    identity: base.identity,
    permissions: base.permissions,
    pinMessageAllMembersEnabled: base.pinMessageAllMembersEnabled,
    tags: base.tags,
    encrypted: base.encrypted,
    members: base.members,
    banned: base.banned,
    channels: base.channels,
    categories: base.categories,
    grants: state.grants.filter(
      (g) => base.members.has(g.member) && (g.chatId === "" || base.channels.has(g.chatId)),
    ),
  });
  let state = base;
  let overlaid = false;
  const rejections = new Map<string, RejectionReason>();
  for (const e of kept) {
    if (!overlaid && e.clock > base.clock) {
      state = overlay(state);
      overlaid = true;
    }
    const result = applyWellFormed(state, e, config);
    if (result.rejected) rejections.set(e.id, result.rejected.reason);
    state = result.state;
  }
  return { state: overlaid ? state : overlay(state), rejections };
}

describe("permutation convergence within the bounds", () => {
  it("with bounds the events fit in, any arrival order converges and nothing is evicted", () => {
    const arb = historyArb().chain((events) =>
      fc.tuple(fc.constant(events), permutationArb(events), fc.integer({ min: 1, max: 8 })),
    );
    fc.assert(
      fc.property(arb, ([events, order, interval]) => {
        const reference = fold(events, propertyConfig);
        const log = logWith(order, {
          config: propertyConfig,
          maxBuffered: events.length,
          checkpointInterval: interval,
        });
        expect(log.evictedCount).toBe(0);
        expect(canonicalState(log.state)).toBe(canonicalState(reference.state));
        expect(sortedRejections(log.rejections())).toEqual(sortedRejections(reference.rejections));
      }),
      runs(200, 0xb0f06),
    );
  });

  it("on a description base, any arrival order and any moment of the re-base converge to the rule's fold", () => {
    const arb = historyArb(40).chain((events) =>
      fc.tuple(
        fc.constant(events),
        fc.bigInt(0n, 30n),
        permutationArb(events),
        permutationArb(events),
        fc.nat(events.length),
        fc.nat(events.length),
        fc.integer({ min: 1, max: 6 }),
      ),
    );
    const config = resolveConfig(propertyConfig);
    let explained = 0;
    fc.assert(
      fc.property(arb, ([events, clock, first, second, at1, at2, interval]) => {
        // The owner's description at `clock`: the fold of what it had seen up to then.
        const truth = fold(
          events.filter((e) => e.clock <= clock),
          propertyConfig,
        ).state;
        if (!truth.created) return;
        const base = describedBase(truth, clock);
        const reference = foldOnBase(base, events, config);
        const expectedHeld = events
          .filter((e) => !(e.clock <= clock && coveredTypes.has(e.type)))
          .sort(compareEvents);
        for (const [order, at] of [
          [first, at1],
          [second, at2],
        ] as const) {
          const log = new OrgLog({
            organizationId: owner,
            config: propertyConfig,
            maxBuffered: events.length,
            checkpointInterval: interval,
          });
          order.forEach((e, i) => {
            if (i === at) explained += log.rebase(base).explained.length;
            log.add(e);
          });
          if (at >= order.length) explained += log.rebase(base).explained.length;
          expect(canonicalState(log.state)).toBe(canonicalState(reference.state));
          expect(sortedRejections(log.rejections())).toEqual(
            sortedRejections(reference.rejections),
          );
          expect(log.events()).toEqual(expectedHeld);
          expect(log.evictedCount).toBe(0);
        }
      }),
      runs(300, 0xb0f07),
    );
    expect(explained).toBeGreaterThan(0);
  });
});
