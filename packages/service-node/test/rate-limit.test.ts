/** The per-peer token bucket, with an injected clock. */
import { describe, expect, it } from "vitest";
import { RequestRateLimiter } from "../src/rate-limit.ts";

describe("RequestRateLimiter", () => {
  it("allows a burst of `requests`, then refills continuously over the period", () => {
    let now = 0;
    const limiter = new RequestRateLimiter({ requests: 3, periodMs: 3_000 }, () => now);
    expect([1, 2, 3, 4].map(() => limiter.allow("alice"))).toEqual([true, true, true, false]);
    expect(limiter.allow("bob")).toBe(true);
    now += 999;
    expect(limiter.allow("alice")).toBe(false);
    now += 1;
    expect(limiter.allow("alice")).toBe(true);
    expect(limiter.allow("alice")).toBe(false);
  });

  it("allows everything without a limit", () => {
    const limiter = new RequestRateLimiter(undefined, () => 0);
    for (let i = 0; i < 10_000; i++) expect(limiter.allow("alice")).toBe(true);
    expect(limiter.size).toBe(0);
  });

  it("forgets peers whose budget refilled", () => {
    let now = 0;
    const limiter = new RequestRateLimiter({ requests: 2, periodMs: 1_000 }, () => now);
    limiter.allow("alice");
    limiter.allow("bob");
    now += 500;
    limiter.allow("bob");
    now += 600;
    limiter.prune();
    expect(limiter.size).toBe(1);
  });

  it("rejects nonsensical limits", () => {
    expect(() => new RequestRateLimiter({ requests: 0, periodMs: 1 }, () => 0)).toThrow(RangeError);
    expect(() => new RequestRateLimiter({ requests: 1, periodMs: 0 }, () => 0)).toThrow(RangeError);
  });
});
