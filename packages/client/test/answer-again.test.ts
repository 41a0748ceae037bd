/**
 * A desk's answer to a request it decided, asked again (`answerAgain`, resync-answers.ts): only
 * the desk that decided answers, and at most once per requester per `resyncAnswerIntervalMs` (a
 * requester's copies are network input: bounded). Run on a plain organization record: `answerAgain`
 * reads only its state, its log's events and the core's pairwise sender.
 */
import { describe, expect, it } from "vitest";
import type { ClientCore } from "../src/core.js";
import type { DeskOrg } from "../src/org.js";
import { answerAgain } from "../src/resync-answers.js";

const orgHex = "ab".repeat(32);
const requester = "cd".repeat(32);
const requestId = "ef".repeat(32);

function world(decidedBy: string) {
  let now = 1_000;
  const sent: string[] = [];
  const reports: string[] = [];
  const decision = {
    id: "01".repeat(32),
    type: "request.accepted",
    author: decidedBy,
    clock: 7n,
    sentAt: 0,
    body: { requestId },
  };
  const org = {
    role: "owner",
    hex: orgHex,
    owner: {},
    log: {
      state: {
        requests: new Map([[requestId, { requester, decidedBy, status: "accepted" }]]),
        members: new Map([[requester, {}]]),
      },
      events: () => [decision],
    },
  } as unknown as DeskOrg;
  const core = {
    memberId: "99".repeat(32),
    now: () => now,
    p: { config: { resyncAnswerIntervalMs: 60_000 } },
    pairwise: {
      toMember: async (_org: unknown, _txn: unknown, member: string) => {
        sent.push(member);
        return true;
      },
    },
    report: ({ reason }: { reason: string }) => reports.push(reason),
  } as unknown as ClientCore;
  const ask = () =>
    answerAgain(core, org, { ops: [] } as never, { member: requester, requestId, topic: "t" });
  return { org, sent, reports, ask, advance: (ms: number) => (now += ms) };
}

describe("answers to a request asked again", () => {
  it("the deciding desk answers once per requester per resyncAnswerIntervalMs", async () => {
    const w = world(orgHex);
    await w.ask();
    await w.ask();
    w.advance(30_000);
    await w.ask();
    expect(w.sent).toEqual([requester]);
    expect(w.reports).toEqual(["answer-again-member-rate", "answer-again-member-rate"]);
    w.advance(30_000);
    await w.ask();
    expect(w.sent).toEqual([requester, requester]);
  });

  it("a desk that did not decide it stays silent", async () => {
    const w = world("12".repeat(32));
    await w.ask();
    expect(w.sent).toEqual([]);
  });
});
