/**
 * A desk's answer to a request it decided, asked again (`answerAgain`, resync-answers.ts): only
 * the desk that decided answers, and at most once per requester per `resyncAnswerIntervalMs` (a
 * requester's copies are network input: bounded). Run on a plain organization record: `answerAgain`
 * reads only its state (the decision too: its log may have folded it into a snapshot), the kept
 * Welcomes and the core's pairwise sender.
 */
import { defaultProvider } from "@orgchat/crypto";
import { type OrgEvent, OrgLog } from "@orgchat/state";
import { emptyIdentity, requestToJoinToWire } from "@orgchat/state/wire";
import { memoryStore } from "@orgchat/store";
import { encodePairwiseContent } from "@orgchat/wire";
import { describe, expect, it } from "vitest";
import type { ClientCore } from "../src/core.js";
import { eventContentId } from "../src/delegate-events.js";
import { toHex } from "../src/encoding.js";
import { KeptWelcomes, keptWelcomeLimits, keptWelcomesOf } from "../src/kept-welcomes.js";
import { Membership } from "../src/membership.js";
import type { DelegateOrg, DeskOrg, MemberOrg } from "../src/org.js";
import { requestIdOf } from "../src/pairwise.js";
import { answerAgain, answerAgainBudgetOf } from "../src/resync-answers.js";

const orgHex = "ab".repeat(32);
const requester = "cd".repeat(32);
const requestId = "ef".repeat(32);

const self = "99".repeat(32);

/**
 * A desk that decided (or not) bob's request: the owner's, or with `delegate`, a delegate's (its
 * member id `self`) holding bob's sealed Welcome (`kept-welcomes.ts`). `asker` asks.
 */
function world(decidedBy: string, desk: { delegate?: boolean; asker?: string } = {}) {
  let now = 1_000;
  const sent: string[] = [];
  const outbox: Array<{ id: string }> = [];
  const reports: string[] = [];
  const org = {
    ...(desk.delegate
      ? { role: "member", member: { delegate: {} } }
      : { role: "owner", owner: {} }),
    hex: orgHex,
    log: {
      state: {
        requests: new Map([
          [
            requestId,
            { requester, decidedBy, decidedAt: 7n, decidedSentAt: 0, status: "accepted" },
          ],
        ]),
        members: new Map([[requester, {}]]),
      },
      // Folded into a snapshot: the decision is read from the state (`decisionEventOf`).
      events: () => [],
    },
  } as unknown as DeskOrg;
  const core = {
    memberId: self,
    now: () => now,
    p: { config: { resyncAnswerIntervalMs: 60_000 }, store: memoryStore() },
    pairwise: {
      toMember: async (_org: unknown, _txn: unknown, member: string) => {
        sent.push(member);
        return true;
      },
    },
    report: ({ reason }: { reason: string }) => reports.push(reason),
  } as unknown as ClientCore;
  const member = desk.asker ?? requester;
  const kept = () => keptWelcomesOf(core, org as DelegateOrg);
  const sealed = { id: "welcome", topic: "inbox", bytes: new Uint8Array(300) };
  const ready = desk.delegate ? kept().then((k) => k.keep(requester, sealed, now)) : undefined;
  const ask = async () => {
    await ready;
    await answerAgain(core, org, { ops: [], outbox } as never, { member, requestId, topic: "t" });
  };
  return { org, sent, outbox, reports, ask, kept, advance: (ms: number) => (now += ms) };
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

  it("a delegate that added the requester sends its sealed Welcome again, on the same budget", async () => {
    const w = world(self, { delegate: true });
    for (let i = 0; i < 5; i++) await w.ask();
    expect(w.sent).toEqual([requester]);
    expect(w.outbox.map((entry) => entry.id)).toEqual(["welcome"]);
    w.advance(60_000);
    await w.ask();
    expect(w.outbox.map((entry) => entry.id)).toEqual(["welcome", "welcome"]);
  });

  it("a stranger's re-asks cost the delegate nothing: no answer, no bucket, no copy", async () => {
    const w = world(self, { delegate: true, asker: "77".repeat(32) });
    const budget = answerAgainBudgetOf((w.org as DelegateOrg).member.delegate, 60_000);
    for (let i = 0; i < 1_000; i++) {
      await w.ask();
      w.advance(60_000);
    }
    expect(w.sent).toEqual([]);
    expect(w.outbox).toEqual([]);
    expect(budget.size).toBe(0);
    expect((await w.kept()).size).toBe(1);
  });
});

describe("a delegate's kept Welcomes", () => {
  const sealed = (id: string) => ({ id, topic: "inbox", bytes: new Uint8Array(300) });

  it("hold the newest maxPerDesk, each for windowMs", () => {
    const kept = new KeptWelcomes();
    const { maxPerDesk, windowMs } = keptWelcomeLimits;
    const dropped: string[] = [];
    for (let i = 0; i <= maxPerDesk; i++) {
      dropped.push(...kept.keep(`joiner-${i}`, sealed(`w${i}`), i));
    }
    expect(dropped).toEqual(["joiner-0"]);
    expect(kept.size).toBe(maxPerDesk);
    expect(kept.get("joiner-0", maxPerDesk)).toBeUndefined();
    expect(kept.get("joiner-1", maxPerDesk)?.id).toBe("w1");
    // Kept again: the newest copy, its window from now; every other one expired and dropped.
    const later = windowMs + maxPerDesk;
    expect(kept.keep("joiner-1", sealed("w1-again"), later)).toHaveLength(maxPerDesk - 1);
    expect(kept.get("joiner-2", later)).toBeUndefined();
    expect(kept.get("joiner-1", later)?.id).toBe("w1-again");
    expect(kept.size).toBe(1);
    expect(kept.get("joiner-1", later + windowMs)).toBeUndefined();
  });
});

/**
 * A requester's log of an organization with `access`, holding its own `request.sent` (the state
 * refuses it in an invitation-only organization: the log holds it buffered).
 */
function requesterLog(access: "on-request" | "invitation-only") {
  const provider = defaultProvider();
  const identity = provider.ed25519KeyPair();
  const orgKey = provider.ed25519KeyPair().publicKey;
  const org = toHex(orgKey);
  const log = new OrgLog({ organizationId: org });
  const created = {
    id: "",
    type: "org.created",
    author: org,
    clock: 1n,
    sentAt: 1_000,
    body: {
      identity: { ...emptyIdentity, displayName: "Acme" },
      permissions: { access, ensOnly: false, private: false },
      pinMessageAllMembersEnabled: false,
      tags: [],
      encrypted: true,
    },
  } as OrgEvent;
  expect(log.add({ ...created, id: eventContentId(created) }).rejected).toBeUndefined();
  const draft = {
    id: "",
    type: "request.sent" as const,
    author: toHex(identity.publicKey),
    clock: 2n,
    sentAt: 2_000,
    body: { chatId: "", ensName: "", displayName: "bob" },
  };
  const content = encodePairwiseContent({
    content: { case: "requestToJoin", value: requestToJoinToWire(draft, org) },
  });
  const requestId = requestIdOf(identity.publicKey, content);
  const added = log.add({ ...draft, id: requestId });
  expect(added.rejected?.reason).toBe(access === "on-request" ? undefined : "unauthorized");
  return { provider, identity, orgKey, log, requestId };
}

/**
 * Runs `Membership.askAgain` on the periodic back-off (armed, then due) for a requester whose log
 * is `log`. @returns the request copies sent to the owner
 */
async function askedAgain(init: ReturnType<typeof requesterLog>, log: OrgLog) {
  const { provider, identity, orgKey, requestId } = init;
  let now = 10_000;
  const sent: Uint8Array[] = [];
  const member = {
    id: orgKey,
    hex: toHex(orgKey),
    role: "requester",
    log,
    keys: {
      signingKey: provider.ed25519KeyPair().publicKey,
      prekey: provider.x25519KeyPair().publicKey,
    },
    member: { request: { id: requestId, status: "pending" }, delegateSessions: new Map() },
  } as unknown as MemberOrg;
  const core = {
    memberId: toHex(identity.publicKey),
    now: () => now,
    p: { provider, identity, config: { republishIntervalMs: 600_000 } },
    pairwise: {
      toOwner: async (_org: unknown, _txn: unknown, sealed: unknown) => {
        if (sealed instanceof Uint8Array) sent.push(sealed);
        return "id";
      },
    },
    persistence: { commit: async () => {} },
  } as unknown as ClientCore;
  const membership = new Membership(core);
  await membership.askAgain(member); // armed
  now += 600_000;
  await membership.askAgain(member);
  return sent.map((content) => requestIdOf(identity.publicKey, content));
}

describe("the copy a requester sends again", () => {
  // `Membership.askAgain` makes its copy from the state's request (`requestEventOf`): a log scan
  // finds nothing once the request's event is folded into a snapshot.
  it("after the log folded the request into a snapshot: the same request bytes (same id)", async () => {
    const init = requesterLog("on-request");
    // Restored from the snapshot: the state holds the request, the log not its event.
    const folded = new OrgLog({ organizationId: toHex(init.orgKey) });
    folded.restore(init.log.state);
    expect(folded.events().some((e) => e.id === init.requestId)).toBe(false);
    expect(await askedAgain(init, folded)).toEqual([init.requestId]);
  });

  it("an invitee's request, refused by its own state (invitation-only) and held buffered: sent again too", async () => {
    const init = requesterLog("invitation-only");
    expect(init.log.state.requests.has(init.requestId)).toBe(false);
    expect(await askedAgain(init, init.log)).toEqual([init.requestId]);
  });
});
