/**
 * `FilterTurns`: light mode's SDK filter calls run one at a time per pubsub topic, in call order
 * (`@waku/sdk` 0.0.36 orphaned all but one of the subscriptions made at the same moment on a topic).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { FilterTurns } from "../src/light-filter.js";

interface Gate {
  readonly promise: Promise<string>;
  open(value: string): void;
  fail(error: Error): void;
}

function gate(): Gate {
  let open!: (value: string) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<string>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

/** Lets every queued promise reaction run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

afterEach(() => {
  vi.useRealTimers();
});

describe("FilterTurns", () => {
  it("runs the calls on one pubsub topic one at a time, in call order", async () => {
    const turns = new FilterTurns();
    const started: string[] = [];
    const gates = [gate(), gate(), gate()];
    const results = gates.map((g, i) =>
      turns.run("/waku/2/rs/55/0", 60_000, () => {
        started.push(`call ${i}`);
        return g.promise;
      }),
    );
    await settle();
    expect(started).toEqual(["call 0"]);
    gates[0]?.open("a");
    await settle();
    expect(started).toEqual(["call 0", "call 1"]);
    gates[1]?.open("b");
    gates[2]?.open("c");
    expect(await Promise.all(results)).toEqual(["a", "b", "c"]);
  });

  it("does not make another pubsub topic wait", async () => {
    const turns = new FilterTurns();
    const blocked = gate();
    void turns.run("/waku/2/rs/55/0", 60_000, () => blocked.promise);
    const other = await turns.run("/waku/2/rs/55/1", 60_000, async () => "other shard");
    expect(other).toBe("other shard");
    blocked.open("done");
  });

  it("passes on the turn after a call that failed, and hands the caller its error", async () => {
    const turns = new FilterTurns();
    const failing = gate();
    const first = turns.run("/waku/2/rs/55/0", 60_000, () => failing.promise);
    const second = turns.run("/waku/2/rs/55/0", 60_000, async () => "second");
    failing.fail(new Error("no stream"));
    await expect(first).rejects.toThrow("no stream");
    expect(await second).toBe("second");
  });

  it("passes on the turn after holdMs when a call never settles", async () => {
    vi.useFakeTimers();
    const turns = new FilterTurns();
    void turns.run("/waku/2/rs/55/0", 5_000, () => new Promise<string>(() => {}));
    let ran = false;
    const next = turns.run("/waku/2/rs/55/0", 5_000, async () => {
      ran = true;
      return "next";
    });
    await vi.advanceTimersByTimeAsync(4_999);
    expect(ran).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await next).toBe("next");
  });
});
