/**
 * A desk's answer to a request it decided, asked again (`answerAgain`, resync-answers.ts): only
 * the desk that decided answers, and at most once per requester per `resyncAnswerIntervalMs` (a
 * requester's copies are network input: bounded). Run on a plain organization record: `answerAgain`
 * reads only its state, its log's events and the core's pairwise sender.
 */
import { defaultProvider } from "@orgchat/crypto";
import { type OrgEvent, OrgLog } from "@orgchat/state";
import { emptyIdentity, requestToJoinToWire } from "@orgchat/state/wire";
import { encodePairwiseContent } from "@orgchat/wire";
import { describe, expect, it } from "vitest";
import type { ClientCore } from "../src/core.js";
import { eventContentId } from "../src/delegate-events.js";
import { toHex } from "../src/encoding.js";
import { Membership } from "../src/membership.js";
import type { DeskOrg, MemberOrg } from "../src/org.js";
import { requestIdOf } from "../src/pairwise.js";
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

describe("a request asked again after the log folded it into a snapshot", () => {
  // `Membership.askAgain` makes its copy from the state's request (`requestEventOf`): a log scan
  // finds nothing once the request's event is folded into a snapshot.
  it("the requester still sends the same request bytes (same id) to the owner", async () => {
    const provider = defaultProvider();
    const identity = provider.ed25519KeyPair();
    const self = toHex(identity.publicKey);
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
        permissions: { access: "on-request", ensOnly: false, private: false },
        pinMessageAllMembersEnabled: false,
        tags: [],
        encrypted: true,
      },
    } as OrgEvent;
    expect(log.add({ ...created, id: eventContentId(created) }).rejected).toBeUndefined();
    const draft = {
      id: "",
      type: "request.sent" as const,
      author: self,
      clock: 2n,
      sentAt: 2_000,
      body: { chatId: "", ensName: "", displayName: "bob" },
    };
    const content = encodePairwiseContent({
      content: { case: "requestToJoin", value: requestToJoinToWire(draft, org) },
    });
    const requestId = requestIdOf(identity.publicKey, content);
    expect(log.add({ ...draft, id: requestId }).rejected).toBeUndefined();
    // Restored from the snapshot: the state holds the request, the log not its event.
    const folded = new OrgLog({ organizationId: org });
    folded.restore(log.state);
    expect(folded.events().some((e) => e.id === requestId)).toBe(false);

    let now = 10_000;
    const sent: Uint8Array[] = [];
    const signing = provider.ed25519KeyPair();
    const prekey = provider.x25519KeyPair();
    const member = {
      id: orgKey,
      hex: org,
      role: "requester",
      log: folded,
      keys: { signingKey: signing.publicKey, prekey: prekey.publicKey },
      member: { request: { id: requestId, status: "pending" }, delegateSessions: new Map() },
    } as unknown as MemberOrg;
    const core = {
      memberId: self,
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
    expect(sent).toHaveLength(1);
    expect(requestIdOf(identity.publicKey, sent[0] as Uint8Array)).toBe(requestId);
  });
});
