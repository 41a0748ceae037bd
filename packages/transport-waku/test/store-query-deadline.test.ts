/**
 * A store query's deadline keeps its process alive until it ends the query: a store node that sends
 * the first bytes of an answer and then nothing, on a connection that holds no handle (`@libp2p/memory`,
 * no pings), fails the query with HistoryQueryFailedError at its deadline. With `AbortSignal.timeout`
 * (an unref'd timer) the process ran out of events first and Node ended it with exit code 13: what
 * `orgchat join --wait` did under load once its socket was gone.
 */
import { expect, it } from "vitest";
import { runChildScript } from "./child-script.js";

it("a store query that stalls mid-answer on a connection holding no handle ends at its deadline, in a process that waits for it", async () => {
  // Safety net only: the query's deadline is 1.5 s; the outcome is the child's exit and output.
  const { code, stdout, stderr } = await runChildScript("test/store-query-deadline-script.ts", {
    ms: 120_000,
    signal: "SIGKILL",
  });
  expect(stderr).not.toContain("unsettled top-level await");
  expect(code, stderr).toBe(0);
  const outcome = JSON.parse(stdout.trim()) as {
    error: string;
    message: string;
    elapsedMs: number;
  };
  expect(outcome.error).toBe("HistoryQueryFailedError");
  expect(outcome.message).toContain("no answer within 1500 ms");
  // It waited for the deadline (the timer's own lower bound), not less.
  expect(outcome.elapsedMs).toBeGreaterThanOrEqual(1499);
});
