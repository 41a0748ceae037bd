/**
 * The receive-path fuzzer's short profile (issue #13, item 3): a few thousand mutated valid messages
 * on every topic the clients subscribe to (see src/fuzz/receive-fuzzer.ts), then no uncaught error,
 * no client error event, the owner still sends, edits and bans, the members still send and read,
 * and the heap and persisted bytes stay bounded. The long profile (≥ 100,000 inputs) is
 * `pnpm --filter @orgchat/integration fuzz:long`.
 */
import { describe, expect, it } from "vitest";
import { fuzzFailures, fuzzReceivePath } from "../src/fuzz/receive-fuzzer.ts";

/** Inputs of the CI profile. */
const shortProfileInputs = 5_000;

describe("receive-path fuzzer (short profile)", () => {
  it(`${shortProfileInputs} mutated messages: nothing thrown, everyone can still act, growth bounded`, async () => {
    const report = await fuzzReceivePath({ inputs: shortProfileInputs, seed: 13 });
    expect(report.corpus).toBeGreaterThan(20);
    expect(report.checks.length).toBeGreaterThanOrEqual(6);
    expect(fuzzFailures(report)).toEqual([]);
  }, 600_000);
});
