import { describe, expect, it } from "vitest";
import { relayColocationWhitelist, relayScoreParams } from "../src/relay-score.js";

describe("relayScoreParams", () => {
  it("whitelists loopback against the IP colocation penalty, keeping the caller's entries and other parameters", () => {
    expect(relayColocationWhitelist).toEqual(["127.0.0.1", "::1"]);
    expect([...(relayScoreParams().IPColocationFactorWhitelist ?? [])]).toEqual([
      "127.0.0.1",
      "::1",
    ]);
    const params = relayScoreParams({
      IPColocationFactorWhitelist: new Set(["10.0.0.1"]),
      IPColocationFactorThreshold: 3,
    });
    expect(params.IPColocationFactorThreshold).toBe(3);
    expect([...(params.IPColocationFactorWhitelist ?? [])]).toEqual([
      "127.0.0.1",
      "::1",
      "10.0.0.1",
    ]);
  });
});
