/** Requests that never get stuck (docs/PROTOCOL.md): expiry, cancel vs accept, cap, cool-down. */
import { describe, expect, it, vi } from "vitest";
import type { OrgEvent } from "../src/events.js";
import { OrgLog } from "../src/log.js";
import { reduce } from "../src/reduce.js";
import { requestRejectionReasons } from "../src/request-admission.js";
import {
  changedRequesters,
  hasPendingRequests,
  pendingRequestOf,
  pendingRequests,
  requestStatus,
} from "../src/requests.js";
import { defaultReducerConfig, type OrgState } from "../src/state.js";
import { TableMap } from "../src/table-map.js";
import {
  alice,
  applyAll,
  bob,
  carol,
  dave,
  day,
  eve,
  event,
  hour,
  owner,
  Script,
} from "./event-fixtures.js";

const join = { chatId: "", ensName: "", displayName: "x" };

describe("display names", () => {
  it("a member is named by the request that admitted it, or by the request that used its invitation", () => {
    const s = new Script();
    const named = (displayName: string) => ({ chatId: "", ensName: "", displayName });
    const state = applyAll([
      s.created(),
      s.next("request.sent", alice, named("Alice \u202e"), { id: "ra" }),
      s.next("request.accepted", owner, { requestId: "ra" }),
      s.next("request.sent", bob, named(""), { id: "rb" }),
      s.next("request.accepted", owner, { requestId: "rb" }),
      s.next("invitation.issued", owner, { invitee: carol, chatId: "" }, { id: "inv" }),
      s.next("invitation.used", carol, { invitationId: "inv", displayName: "Carol" }),
      s.next("invitation.issued", owner, { invitee: dave, chatId: "" }, { id: "inv2" }),
      s.next("invitation.used", dave, { invitationId: "inv2" }),
    ]).state;
    // Kept exactly (escaping is the reader's job); "" when the request named nobody.
    expect(state.members.get(alice)?.displayName).toBe("Alice \u202e");
    expect(state.members.get(bob)?.displayName).toBe("");
    expect(state.members.get(carol)?.displayName).toBe("Carol");
    expect(state.members.get(dave)?.displayName).toBe("");
    expect(state.members.get(owner)?.displayName).toBe("");
  });

  it("an open organization names the member by its request, and refuses an over-long name", () => {
    const s = new Script();
    const open = applyAll([
      s.created("no-membership"),
      s.next("request.sent", alice, { ...join, displayName: "Al" }),
    ]).state;
    expect(open.members.get(alice)?.displayName).toBe("Al");
    const long = reduce(
      open,
      s.next("request.sent", bob, { ...join, displayName: "x".repeat(257) }),
    );
    expect(long.rejected?.reason).toBe("malformed");
    expect(long.state.members.has(bob)).toBe(false);
    const usedLong = reduce(
      open,
      s.next("invitation.used", bob, { invitationId: "any", displayName: "x".repeat(257) }),
    );
    expect(usedLong.rejected?.reason).toBe("malformed");
  });
});

describe("expiry", () => {
  it("an accept after the expiry is refused, and the request shows as expired", () => {
    const s = new Script();
    const sent = applyAll([s.created(), s.at(1000).next("request.sent", alice, join, { id: "r" })]);
    const expiry = 1000 + defaultReducerConfig.requestExpiryMs;
    expect(requestStatus(sent.state, "r", expiry - 1)).toBe("pending");
    expect(requestStatus(sent.state, "r", expiry)).toBe("expired");
    expect(pendingRequests(sent.state, expiry - 1).map((r) => r.id)).toEqual(["r"]);
    expect(pendingRequests(sent.state, expiry)).toEqual([]);
    expect(requestStatus(sent.state, "unknown", 0)).toBeUndefined();

    const late = reduce(
      sent.state,
      s.at(expiry).next("request.accepted", owner, { requestId: "r" }),
    );
    expect(late.rejected?.reason).toBe("expired");
    expect(late.state.members.has(alice)).toBe(false);
    // One millisecond earlier the same decision is in time.
    const inTime = reduce(
      sent.state,
      s.at(expiry - 1).next("request.accepted", owner, { requestId: "r" }),
    );
    expect(inTime.rejected).toBeUndefined();
    expect(inTime.state.members.has(alice)).toBe(true);
  });

  it("rejections and cancels after the expiry are refused too; the requester may then ask again", () => {
    const s = new Script();
    const config = { requestExpiryMs: 100 };
    const result = applyAll(
      [
        s.created(),
        s.at(0).next("request.sent", alice, join, { id: "r1" }),
        s.at(100).next("request.rejected", owner, { requestId: "r1", reason: "late" }),
        s.at(100).next("request.cancelled", alice, { requestId: "r1" }),
        s.at(100).next("request.sent", alice, join, { id: "r2" }),
      ],
      config,
    );
    expect(Object.fromEntries(result.rejections)).toEqual({ e3: "expired", e4: "expired" });
    expect(requestStatus(result.state, "r1", 100, config)).toBe("expired");
    expect(requestStatus(result.state, "r2", 100, config)).toBe("pending");
  });
});

describe("cancel vs accept: canonical order decides", () => {
  it("a cancel earlier than the accept wins, even when it arrives later; the accept is a conflict", () => {
    const request = event("request.sent", { id: "r", author: alice, clock: 2 }, join);
    const cancel = event(
      "request.cancelled",
      { id: "c", author: alice, clock: 3 },
      { requestId: "r" },
    );
    const accept = event(
      "request.accepted",
      { id: "a", author: owner, clock: 4 },
      { requestId: "r" },
    );
    const log = new OrgLog({ organizationId: owner });
    log.add(new Script().created());
    log.add(request);
    expect(log.add(accept).rejected).toBeUndefined();
    expect(log.state.members.has(alice)).toBe(true);
    // The cancel arrives last but sorts first: the log re-folds and the accept loses.
    expect(log.add(cancel).rejected).toBeUndefined();
    expect(log.state.members.has(alice)).toBe(false);
    expect(log.rejectionOf("a")).toBe("conflict");
    expect(requestStatus(log.state, "r", 0)).toBe("cancelled");
  });

  it("a cancel later than the accept loses: the requester stays a member and can leave", () => {
    const request = event("request.sent", { id: "r", author: alice, clock: 2 }, join);
    const accept = event(
      "request.accepted",
      { id: "a", author: owner, clock: 3 },
      { requestId: "r" },
    );
    const cancel = event(
      "request.cancelled",
      { id: "c", author: alice, clock: 4 },
      { requestId: "r" },
    );
    const leave = event("leave.requested", { id: "l", author: alice, clock: 5 }, {});
    const resolved = event(
      "leave.resolved",
      { id: "lr", author: owner, clock: 6 },
      { requestId: "l", accepted: true },
    );
    const log = new OrgLog({ organizationId: owner });
    for (const e of [new Script().created(), cancel, request, accept]) log.add(e);
    expect(log.rejectionOf("c")).toBe("conflict");
    expect(log.state.members.has(alice)).toBe(true);
    expect(requestStatus(log.state, "r", 0)).toBe("accepted");
    log.add(resolved);
    log.add(leave);
    expect(log.state.members.has(alice)).toBe(false);
  });

  it("at an equal clock the author decides (then the id): the same verdict everywhere", () => {
    // owner (0x01…) sorts before alice (0x02…) at clock 3, so the accept comes first.
    const request = event("request.sent", { id: "r", author: alice, clock: 2 }, join);
    const accept = event(
      "request.accepted",
      { id: "a", author: owner, clock: 3 },
      { requestId: "r" },
    );
    const cancel = event(
      "request.cancelled",
      { id: "c", author: alice, clock: 3 },
      { requestId: "r" },
    );
    for (const order of [
      [request, accept, cancel],
      [cancel, accept, request],
      [accept, cancel, request],
    ]) {
      const log = new OrgLog({ organizationId: owner });
      log.add(new Script().created());
      for (const e of order) log.add(e);
      expect(log.state.members.has(alice)).toBe(true);
      expect(log.rejectionOf("c")).toBe("conflict");
    }
  });
});

/**
 * Requests at a cap of 2 (expiry 1000): ra pushed out by rc, rb rejected, alice asking again (ra2)
 * pushes rc out, rd expires at 1040 and frees its slot for re.
 */
function pushedOut() {
  const config = { maxPendingRequests: 2, requestExpiryMs: 1000 };
  const s = new Script();
  const result = applyAll(
    [
      s.created(),
      s.at(0).next("request.sent", alice, join, { id: "ra" }),
      s.at(10).next("request.sent", bob, join, { id: "rb" }),
      // Full: ra (the oldest) makes room.
      s.at(20).next("request.sent", carol, join, { id: "rc" }),
      s.at(30).next("request.rejected", owner, { requestId: "rb", reason: "no" }),
      // A slot is free: nobody is pushed out.
      s.at(40).next("request.sent", dave, join, { id: "rd" }),
      // Pushed out, alice may ask again at once; full again, rc makes room.
      s.at(50).next("request.sent", alice, join, { id: "ra2" }),
      // rd expired at 1040: its slot is free then, so nobody is pushed out.
      s.at(1040).next("request.sent", eve, join, { id: "re" }),
    ],
    config,
  );
  return { config, result };
}

describe("cap on pending requests", () => {
  // Issue #13 row 4: refusing newcomers at the cap let one stranger with fresh keys hold every slot
  // until the expiry; at the cap the oldest pending request is now pushed out instead.
  it("at the cap the oldest request is pushed out (full, try later: no cool-down); a decision or an expiry frees a slot", () => {
    const { config, result } = pushedOut();
    expect(Object.fromEntries(result.rejections)).toEqual({});
    const status = (id: string) => {
      const r = result.state.requests.get(id);
      return [r?.status, r?.rejectionReason, r?.decidedBy];
    };
    expect(status("ra")).toEqual(["rejected", requestRejectionReasons.queueFull, undefined]);
    expect(status("rb")).toEqual(["rejected", "no", owner]);
    expect(status("rc")).toEqual(["rejected", requestRejectionReasons.queueFull, undefined]);
    expect(requestStatus(result.state, "rd", 1040, config)).toBe("expired");
    expect(pendingRequests(result.state, 1040, config).map((r) => r.id)).toEqual(["ra2", "re"]);
  });

  it("the default cap is 1,000 (issue #14: a burst of 200 fits): the 1,001st request pushes out the oldest", () => {
    const cap = defaultReducerConfig.maxPendingRequests;
    expect(cap).toBe(1_000);
    const s = new Script();
    const events: OrgEvent[] = [s.created()];
    for (let i = 0; i <= cap; i++) {
      const requester = (i + 0x1000).toString(16).padStart(64, "a");
      events.push(s.at(i).next("request.sent", requester, join, { id: `r${i}` }));
    }
    const result = applyAll(events);
    expect(Object.fromEntries(result.rejections)).toEqual({});
    expect(pendingRequests(result.state, cap)).toHaveLength(cap);
    expect(result.state.requests.get("r0")?.rejectionReason).toBe(
      requestRejectionReasons.queueFull,
    );
    expect(requestStatus(result.state, "r1", cap)).toBe("pending");
    // One short of the cap, nothing was pushed out.
    const below = applyAll(events.slice(0, cap + 1));
    expect(pendingRequests(below.state, cap)).toHaveLength(cap);
    expect(below.state.requests.get("r0")?.status).toBe("pending");
  });
});

describe("hasPendingRequests and pendingRequestOf (the cap and one key, without the list)", () => {
  it("answer what pendingRequests lists, at every time (expired, decided, pushed out, re-asked)", () => {
    const { config, result } = pushedOut();
    expect(Object.fromEntries(result.rejections)).toEqual({});
    const state = result.state;
    let compared = 0;
    for (let now = 0; now <= 2100; now += 10) {
      const listed = pendingRequests(state, now, config);
      for (let count = -1; count <= 5; count++) {
        expect(hasPendingRequests(state, count, now, config), `${count} at ${now}`).toBe(
          listed.length >= count,
        );
      }
      for (const key of [alice, bob, carol, dave, eve, owner]) {
        const own = listed.filter((r) => r.requester === key).at(-1);
        expect(pendingRequestOf(state, key, now, config)?.id, `${key} at ${now}`).toBe(own?.id);
        if (own !== undefined) compared++;
      }
    }
    // The times cover live, expired and decided requests of several keys.
    expect(compared).toBeGreaterThan(100);
    expect(pendingRequestOf(state, alice, 60, config)?.id).toBe("ra2");
    expect(pendingRequestOf(state, carol, 60, config)).toBeUndefined();
    expect(pendingRequestOf(state, dave, 1040, config)).toBeUndefined();
    expect(hasPendingRequests(state, 3, 1030, config)).toBe(true);
    expect(hasPendingRequests(state, 3, 1040, config)).toBe(false);
  });
});

describe("the owner's questions per request do not grow with the pending requests (issue #14)", () => {
  const keyOf = (i: number) => `b${i.toString(16).padStart(63, "0")}`;
  /** A state with `count` requests pending, the cap `count`, none expired at `count`. */
  function full(count: number) {
    const s = new Script();
    const events: OrgEvent[] = [s.created()];
    for (let i = 0; i < count; i++) {
      const key = keyOf(i);
      events.push(s.at(i).next("request.sent", key, join, { id: `r${i}` }));
    }
    const config = { maxPendingRequests: count, requestExpiryMs: 10 * count };
    const result = applyAll(events, config);
    expect(Object.fromEntries(result.rejections)).toEqual({});
    return { state: result.state, config, s };
  }

  it("hasPendingRequests at the cap reads no request while none expired (10 or 400 pending)", () => {
    const reads = (count: number) => {
      const { state, config } = full(count);
      // The first answer may read them once (a bound made exact); the next ones read none.
      expect(hasPendingRequests(state, count, count, config)).toBe(true);
      const get = vi.spyOn(TableMap.prototype, "get");
      try {
        for (let now = count; now < 10 * count; now += count) {
          expect(hasPendingRequests(state, count, now, config)).toBe(true);
          expect(hasPendingRequests(state, count + 1, now, config)).toBe(false);
        }
        return get.mock.calls.length;
      } finally {
        get.mockRestore();
      }
    };
    expect(reads(10)).toBe(0);
    expect(reads(400)).toBe(0);
    // Once the oldest expired, they are read again (and counted right).
    const { state, config } = full(10);
    expect(hasPendingRequests(state, 10, 100, config)).toBe(false);
    expect(hasPendingRequests(state, 9, 100, config)).toBe(true);
  });

  it("changedRequesters names exactly the keys whose stored pending requests changed, reading as many index entries for 10 or 400 pending", () => {
    const pendingByKey = (state: OrgState) => {
      const map = new Map<string, string[]>();
      for (const request of state.requests.values()) {
        if (request.status !== "pending") continue;
        map.set(request.requester, [...(map.get(request.requester) ?? []), request.id].sort());
      }
      return map;
    };
    const expected = (before: OrgState, after: OrgState) => {
      const a = pendingByKey(before);
      const b = pendingByKey(after);
      const keys = new Set([...a.keys(), ...b.keys()]);
      return [...keys].filter((k) => String(a.get(k)) !== String(b.get(k))).sort();
    };
    const changed = (before: OrgState, after: OrgState) => {
      const found: string[] = [];
      changedRequesters(before, after, (key) => found.push(key));
      return found.sort();
    };
    const counts: number[] = [];
    for (const count of [10, 400]) {
      const { state, config, s } = full(count);
      const newcomers = ["c", "d", "e"].map((c) => c.repeat(64));
      // A decision, a cancel, three newcomers: the third pushes the oldest out.
      const after = applyAll(
        [
          s.at(count).next("request.accepted", owner, { requestId: "r1" }),
          s.at(count).next("request.cancelled", keyOf(2), { requestId: "r2" }),
          ...newcomers.map((key, i) =>
            s.at(count).next("request.sent", key, join, { id: `new${i}` }),
          ),
        ],
        config,
        state,
      );
      expect(Object.fromEntries(after.rejections)).toEqual({});
      expect(changed(state, after.state)).toEqual(expected(state, after.state));
      expect(changed(state, after.state)).toEqual(
        [keyOf(0), keyOf(1), keyOf(2), ...newcomers].sort(),
      );
      expect(changed(state, state)).toEqual([]);
      const get = vi.spyOn(TableMap.prototype, "get");
      const entries = vi.spyOn(TableMap.prototype, "entries");
      try {
        changed(state, after.state);
        counts.push(get.mock.calls.length + entries.mock.calls.length);
      } finally {
        get.mockRestore();
        entries.mockRestore();
      }
    }
    expect(counts[0]).toBe(counts[1]);
  });
});

describe("re-requests", () => {
  it("inside the cool-down after a rejection: rate-limited; from its end on: accepted", () => {
    const s = new Script();
    const result = applyAll([
      s.created(),
      s.at(0).next("request.sent", alice, join, { id: "r1" }),
      s.at(hour).next("request.rejected", owner, { requestId: "r1", reason: "come back tomorrow" }),
      s.at(hour + day - 1).next("request.sent", alice, join, { id: "r2" }),
      s.at(hour + day).next("request.sent", alice, join, { id: "r3" }),
      s.at(hour + day + 1).next("request.accepted", owner, { requestId: "r3" }),
    ]);
    expect(Object.fromEntries(result.rejections)).toEqual({ r2: "rate-limited" });
    expect(result.state.members.has(alice)).toBe(true);
  });

  it("a pending request of the same key makes a new one a conflict", () => {
    const s = new Script();
    const result = applyAll([
      s.created(),
      s.next("request.sent", alice, join, { id: "r1" }),
      s.next("request.sent", alice, join, { id: "r2" }),
    ]);
    expect(Object.fromEntries(result.rejections)).toEqual({ r2: "conflict" });
  });

  it("after a cancel the key may ask again at once (no cool-down)", () => {
    const s = new Script();
    const result = applyAll([
      s.created(),
      s.next("request.sent", alice, join, { id: "r1" }),
      s.next("request.cancelled", alice, { requestId: "r1" }),
      s.next("request.sent", alice, join, { id: "r2" }),
    ]);
    expect(result.rejections.size).toBe(0);
  });
});

describe("rejections are delivered", () => {
  it("the requester's own log shows the rejection, who decided and why", () => {
    const s = new Script();
    const log = new OrgLog({ organizationId: owner });
    log.add(s.created());
    log.add(s.at(5).next("request.sent", alice, join, { id: "r" }));
    log.add(s.at(6).next("request.rejected", owner, { requestId: "r", reason: "members only" }));
    expect(log.state.requests.get("r")).toMatchObject({
      status: "rejected",
      decidedBy: owner,
      rejectionReason: "members only",
      decidedSentAt: 6,
    });
    expect(requestStatus(log.state, "r", 10 * day)).toBe("rejected");
  });
});
