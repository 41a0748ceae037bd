/**
 * Issue #13 row 4, the state's half: requests to join from hostile strangers. The owner admits a
 * request only after `judgeRequestTime` (future-dated refused, judged from min(sentAt, received))
 * and `RequestAdmission` (global rate); the reducer pushes the oldest request out of a full queue.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { MemberId, OrgEvent } from "../src/events.js";
import { OrgLog } from "../src/log.js";
import {
  defaultRequestAdmissionLimits,
  judgeRequestTime,
  RequestAdmission,
  requestRejectionReasons,
} from "../src/request-admission.js";
import { pendingRequests, requestStatus } from "../src/requests.js";
import { defaultReducerConfig } from "../src/state.js";
import { canonicalState, day, event, owner, Script } from "./event-fixtures.js";

const join = { chatId: "", ensName: "", displayName: "x" };
const year = 365 * day;
const start = 1_700_000_000_000;

/** A fresh key per index (what a stranger mints for free). */
function fresh(index: number): MemberId {
  return (0x1_0000 + index).toString(16).padStart(64, "7");
}

/** The owner's admission point, as the client runs it: time check, then the log. */
function admit(log: OrgLog, request: OrgEvent, receivedAt: number): boolean {
  const verdict = judgeRequestTime(request.sentAt, receivedAt);
  if (!verdict.ok) return false;
  return log.add({ ...request, sentAt: verdict.sentAt }).rejected === undefined;
}

function newLog(): { log: OrgLog; script: Script } {
  const log = new OrgLog({ organizationId: owner });
  const script = new Script();
  log.add(script.at(start).created());
  return { log, script };
}

describe("future-dated requests", () => {
  it("100 requests signed 10 years ahead are refused; the queue stays empty for a newcomer", () => {
    const { log, script } = newLog();
    let admitted = 0;
    for (let i = 0; i < 100; i++) {
      const request = script.next("request.sent", fresh(i), join, {
        sentAt: start + 10 * year,
        id: `bomb${i}`,
      });
      if (admit(log, request, start)) admitted++;
    }
    expect(admitted).toBe(0);
    expect(pendingRequests(log.state, start)).toEqual([]);
    const later = start + 8 * day;
    const newcomer = script.next("request.sent", fresh(1000), join, { sentAt: later, id: "n" });
    expect(admit(log, newcomer, later)).toBe(true);
    expect(pendingRequests(log.state, later).map((r) => r.id)).toEqual(["n"]);
  });

  it("refuses more than maxRequestSkewMs ahead, accepts up to it, and judges from the arrival", () => {
    const skew = defaultRequestAdmissionLimits.maxRequestSkewMs;
    expect(skew).toBe(2 * 60 * 1000);
    expect(judgeRequestTime(start + skew + 1, start)).toEqual({ ok: false, reason: "clock-ahead" });
    expect(judgeRequestTime(start + skew, start)).toEqual({ ok: true, sentAt: start });
    expect(judgeRequestTime(start - day, start)).toEqual({ ok: true, sentAt: start - day });
    expect(() => judgeRequestTime(Number.NaN, start)).toThrow(RangeError);
    expect(() => judgeRequestTime(start, start, -1)).toThrow(RangeError);
  });

  it("a request dated inside the skew expires requestExpiryMs after it arrived, not after its date", () => {
    const { log, script } = newLog();
    const ahead = start + defaultRequestAdmissionLimits.maxRequestSkewMs;
    const request = script.next("request.sent", fresh(1), join, { sentAt: ahead, id: "r" });
    expect(admit(log, request, start)).toBe(true);
    const expiry = start + defaultReducerConfig.requestExpiryMs;
    expect(requestStatus(log.state, "r", expiry - 1)).toBe("pending");
    expect(requestStatus(log.state, "r", expiry)).toBe("expired");
  });
});

describe("a flood of fresh keys", () => {
  it("a full queue admits a newcomer 8 days later: it pushes out the oldest, never refused", () => {
    const cap = defaultReducerConfig.maxPendingRequests;
    const { log, script } = newLog();
    for (let i = 0; i < cap; i++) {
      const at = start + i;
      expect(admit(log, script.next("request.sent", fresh(i), join, { sentAt: at }), at)).toBe(
        true,
      );
    }
    // The flood keeps the queue full (fresh requests all the time, none expired).
    const later = start + 8 * day;
    for (let i = cap; i < 2 * cap; i++) {
      const at = later - 10 * cap + i;
      expect(admit(log, script.next("request.sent", fresh(i), join, { sentAt: at }), at)).toBe(
        true,
      );
    }
    expect(pendingRequests(log.state, later)).toHaveLength(cap);
    const newcomer = script.next("request.sent", fresh(5000), join, { sentAt: later, id: "n" });
    expect(admit(log, newcomer, later)).toBe(true);
    const pending = pendingRequests(log.state, later);
    expect(pending).toHaveLength(cap);
    expect(pending.some((r) => r.id === "n")).toBe(true);
  });

  it("the request pushed out is rejected 'full, try later' by nobody, and its key may ask again at once", () => {
    const config = { maxPendingRequests: 2 };
    const log = new OrgLog({ organizationId: owner, config });
    const script = new Script();
    log.add(script.at(0).created());
    log.add(script.at(1).next("request.sent", fresh(1), join, { id: "a" }));
    log.add(script.at(2).next("request.sent", fresh(2), join, { id: "b" }));
    expect(log.add(script.at(3).next("request.sent", fresh(3), join, { id: "c" })).rejected).toBe(
      undefined,
    );
    const pushed = log.state.requests.get("a");
    expect(pushed?.status).toBe("rejected");
    expect(pushed?.rejectionReason).toBe(requestRejectionReasons.queueFull);
    expect(pushed?.decidedBy).toBeUndefined();
    // No cool-down after being pushed out: the same key asks again and pushes out b.
    expect(log.add(script.at(4).next("request.sent", fresh(1), join, { id: "a2" })).rejected).toBe(
      undefined,
    );
    expect(pendingRequests(log.state, 4, config).map((r) => r.id)).toEqual(["c", "a2"]);
  });

  it("property: fresh keys are never refused; at most the cap pending; the same whatever the order", () => {
    const cap = 3;
    const config = { maxPendingRequests: cap, requestExpiryMs: 50 };
    const requestsArb = fc.array(
      fc.record({ key: fc.nat(7), sentAt: fc.nat(200), clock: fc.integer({ min: 2, max: 12 }) }),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(requestsArb, fc.infiniteStream(fc.nat()), (drafts, shuffle) => {
        const events: OrgEvent[] = drafts.map((d, i) =>
          event(
            "request.sent",
            { id: `q${i}`, author: fresh(i * 8 + d.key), clock: BigInt(d.clock), sentAt: d.sentAt },
            join,
          ),
        );
        const created = new Script().created();
        const inOrder = new OrgLog({ organizationId: owner, config });
        inOrder.add(created);
        for (const e of events) inOrder.add(e);
        // Every key is fresh: nothing refuses them (a full queue pushes out, never refuses).
        expect(inOrder.rejections().size).toBe(0);
        // Live at t: sent by t and not expired at t (a request dated later is not live yet).
        const stored = [...inOrder.state.requests.values()].filter((r) => r.status === "pending");
        for (const t of stored.map((r) => r.sentAt)) {
          const live = stored.filter((r) => r.sentAt <= t && t < r.sentAt + config.requestExpiryMs);
          expect(live.length).toBeLessThanOrEqual(cap);
        }
        const shuffled = [...events];
        const it = shuffle[Symbol.iterator]();
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (it.next().value as number) % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j] as OrgEvent, shuffled[i] as OrgEvent];
        }
        const other = new OrgLog({ organizationId: owner, config });
        for (const e of shuffled) other.add(e);
        other.add(created);
        expect(canonicalState(other.state)).toBe(canonicalState(inOrder.state));
      }),
      { numRuns: 300, seed: 0x5eed13 },
    );
  });
});

describe("RequestAdmission (global admission rate)", () => {
  it("admits a burst, then one per interval, whatever the key", () => {
    const { admissionBurst, admissionIntervalMs } = defaultRequestAdmissionLimits;
    const admission = new RequestAdmission();
    let admitted = 0;
    for (let i = 0; i < 2000; i++) if (admission.take(start)) admitted++;
    expect(admitted).toBe(admissionBurst);
    expect(admission.take(start + admissionIntervalMs - 1)).toBe(false);
    expect(admission.take(start + admissionIntervalMs)).toBe(true);
    expect(admission.take(start + admissionIntervalMs)).toBe(false);
    // A day of flood admits at most the burst plus one per interval.
    let day1 = 0;
    for (let t = 0; t < day; t += 1000) if (admission.take(start + admissionIntervalMs + t)) day1++;
    expect(day1).toBeLessThanOrEqual(Math.ceil(day / admissionIntervalMs));
    // A clock that goes back refills nothing.
    expect(admission.take(start)).toBe(false);
  });

  it("refuses nonsense limits", () => {
    expect(() => new RequestAdmission({ admissionBurst: 0 })).toThrow(RangeError);
    expect(() => new RequestAdmission({ admissionIntervalMs: 0 })).toThrow(RangeError);
  });
});
