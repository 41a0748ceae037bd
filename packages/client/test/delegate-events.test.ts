import { defaultProvider, ed25519EnvelopeSigner } from "@orgchat/crypto";
import { type OrgEvent, OrgLog } from "@orgchat/state";
import { emptyIdentity } from "@orgchat/state/wire";
import { descriptionTopic, encodeDelegateEvent, sealEnvelope } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import {
  checkDelegateEvent,
  decisionEventOf,
  eventContentId,
  invitationEventOf,
  requestEventOf,
} from "../src/delegate-events.js";
import { decodeJson, decodeStored, encodeJson, fromHex, toHex } from "../src/encoding.js";
import { eventsLog } from "../src/persistence.js";
import { adminWithOwnerAway, asks, orgWithMembers, type Peer, World } from "./helpers.js";

// Delegates' decisions reach everyone (docs/DELEGATION.md, "Decisions reach everyone"), a
// delegate's invitation and its use among them ("Invitations by a delegate").

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Owner, alice made admin, carol and erin plain members; then the owner's client is stopped. */
async function ownerAway() {
  const w = new World();
  world = w;
  const { owner, members, orgId } = await adminWithOwnerAway(w, ["alice", "carol", "erin"]);
  const [alice, carol, erin] = members as [Peer, Peer, Peer];
  return { w, owner, alice, carol, erin, orgId };
}

const provider = defaultProvider();

/** The events a peer's store holds for the organization (its log as persisted). */
async function storedEvents(peer: Peer, orgId: string): Promise<OrgEvent[]> {
  const entries = await peer.store.range(eventsLog(orgId));
  return entries.map((entry) => decodeStored<OrgEvent>(entry.value).value);
}

/** The invitation events a peer's store holds, as `type author body` lines. */
async function storedInvitations(peer: Peer, orgId: string): Promise<string[]> {
  return (await storedEvents(peer, orgId))
    .filter((e) => e.type === "invitation.issued" || e.type === "invitation.used")
    .map((e) => `${e.type} ${e.author} ${JSON.stringify(e.body)}`);
}

/** A member's identity secret key, read back from its store (no passphrase: not sealed). */
async function identitySecret(peer: Peer): Promise<Uint8Array> {
  const record = decodeJson<{ secrets: Uint8Array }>(
    await peer.store.getOrThrow("identity", "self"),
  );
  return decodeJson<{ identity: Uint8Array }>(record.secrets).identity;
}

/** An invitation by `author` (its id made of its content) and its use by `invitee`, a clock later. */
function invitationAndUse(author: string, invitee: string, clock: bigint, sentAt: number) {
  const draft = {
    type: "invitation.issued" as const,
    author,
    clock,
    sentAt,
    body: { invitee, chatId: "" },
  };
  const issued = { id: eventContentId({ id: "", ...draft }), ...draft };
  const used = {
    id: "ab".repeat(32),
    type: "invitation.used" as const,
    author: invitee,
    clock: clock + 1n,
    sentAt,
    body: { invitationId: issued.id, displayName: "dave" },
  };
  return { issued, used };
}

/**
 * A `delegate-event` envelope on the organization's description topic, signed by `secret`, naming
 * the signer its author, at `clock`: `event` and, when given, the event it carries (`request`).
 */
async function sealDelegateEvent(
  orgId: string,
  secret: Uint8Array,
  clock: bigint,
  event: unknown,
  request?: unknown,
): Promise<Uint8Array> {
  const org = fromHex(orgId);
  return sealEnvelope(
    {
      type: "delegate-event",
      organizationId: org,
      clock,
      contentTopic: descriptionTopic(org),
      message: {
        organizationId: org,
        author: provider.ed25519PublicKey(secret),
        clock,
        event: encodeJson(event),
        ...(request === undefined ? {} : { request: encodeJson(request) }),
      },
    },
    ed25519EnvelopeSigner(provider, secret),
  );
}

/**
 * A `delegate-event` signed by `secret`: an `invitation.issued` to `invitee` in its own name,
 * carrying the invitee's `invitation.used` of it (forged: the invitee signed nothing).
 */
async function invitationEnvelope(
  w: World,
  orgId: string,
  secret: Uint8Array,
  invitee: string,
  clock: bigint,
): Promise<Uint8Array> {
  const author = toHex(provider.ed25519PublicKey(secret));
  const { issued, used } = invitationAndUse(author, invitee, clock, w.time.now());
  return sealDelegateEvent(orgId, secret, clock, issued, used);
}

/** Counts every write `peer`'s store takes from now on. */
function countWrites(peer: Peer): { readonly count: number } {
  const counter = { count: 0 };
  const store = peer.store as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ["batch", "put", "append"]) {
    const original = store[name]?.bind(peer.store) as (...args: unknown[]) => unknown;
    store[name] = (...args: unknown[]) => {
      counter.count++;
      return original(...args);
    };
  }
  return counter;
}

describe("a delegate's decisions reach the members and the returning owner", () => {
  it("alice (admin) accepts bob and bans carol with the owner offline: erin's state follows; the owner's too on its return", async () => {
    const { w, owner, alice, carol, erin, orgId } = await ownerAway();
    const { bob, requestId } = await asks(w, orgId, "bob");
    await alice.client.acceptRequest(orgId, requestId);
    // Later in time (Store keeps them in that order, as a real one does).
    await w.advance(1_000);
    const bobId = bob.client.memberId;
    const carolId = carol.client.memberId;
    expect(erin.client.getOrganization(orgId).members.has(bobId)).toBe(true);
    expect(carol.client.getOrganization(orgId).members.has(bobId)).toBe(true);
    await alice.client.banMember(orgId, carolId);
    await w.settle();
    const erinView = erin.client.getOrganization(orgId);
    expect(erinView.members.has(carolId)).toBe(false);
    expect(erinView.banned).toContain(carolId);
    // Carol's own client follows: no longer a member, its send refused.
    expect(carol.client.getOrganization(orgId).role).toBe("observer");
    await expect(carol.client.sendMessage(orgId, "general", "still here?")).rejects.toThrow();
    // The owner comes back: it reads the decisions from history and its state holds them.
    w.peers.push(owner);
    await w.resume(owner);
    await w.settle();
    const ownerView = owner.client.getOrganization(orgId);
    expect(ownerView.members.get(bobId)).toEqual([]);
    expect(ownerView.members.has(carolId)).toBe(false);
    expect(ownerView.banned).toContain(carolId);
    // Its next description covers them: a member that restarts from it keeps the same view.
    await w.restart(erin);
    const after = erin.client.getOrganization(orgId);
    expect(after.members.has(bobId)).toBe(true);
    expect(after.banned).toContain(carolId);
  });

  it("a stranger's envelope carrying a decision in an admin's name changes nobody's state", async () => {
    const { w, alice, carol, erin, orgId } = await ownerAway();
    const erinId = erin.client.memberId;
    const org = fromHex(orgId);
    const mallory = provider.ed25519KeyPair();
    const draft = {
      type: "member.removed" as const,
      author: alice.client.memberId,
      clock: 1_000n,
      sentAt: w.time.now(),
      body: { member: erinId },
    };
    const event = { id: eventContentId({ id: "", ...draft }), ...draft };
    const topic = descriptionTopic(org);
    const bytes = await sealDelegateEvent(orgId, mallory.secretKey, draft.clock, event);
    const reasons: string[] = [];
    erin.client.on("diagnostic", (d) => reasons.push(d.reason));
    await carol.transport.publish(topic, bytes);
    await w.settle();
    expect(reasons).toContain("delegate-event-not-its-author");
    expect(erin.client.getOrganization(orgId).members.has(erinId)).toBe(true);
    expect(carol.client.getOrganization(orgId).members.has(erinId)).toBe(true);
  });
});

describe("a stranger's own decisions", () => {
  it("cost their verification only: nothing held, stored or changed", async () => {
    const { w, carol, erin, orgId } = await ownerAway();
    const erinId = erin.client.memberId;
    const org = fromHex(orgId);
    const topic = descriptionTopic(org);
    const reasons: string[] = [];
    erin.client.on("diagnostic", (d) => reasons.push(d.reason));
    await w.settle();
    const writes = countWrites(erin);
    for (let i = 0; i < 20; i++) {
      const mallory = provider.ed25519KeyPair();
      const draft = {
        type: "member.banned" as const,
        author: Buffer.from(mallory.publicKey).toString("hex"),
        clock: 1_000n + BigInt(i),
        sentAt: w.time.now(),
        body: { member: erinId, deleteMessages: true },
      };
      const event = { id: eventContentId({ id: "", ...draft }), ...draft };
      const bytes = await sealDelegateEvent(orgId, mallory.secretKey, draft.clock, event);
      await carol.transport.publish(topic, bytes);
    }
    await w.settle();
    expect(writes.count).toBe(0);
    expect(reasons.filter((r) => r === "delegate-event-not-a-member")).toHaveLength(20);
    expect(erin.client.getOrganization(orgId).members.has(erinId)).toBe(true);
  });
});

describe("checkDelegateEvent", () => {
  const author = new Uint8Array(32).fill(7);
  const authorId = toHex(author);
  const base = {
    type: "request.accepted" as const,
    author: authorId,
    clock: 5n,
    sentAt: 1_000,
    body: { requestId: "ab".repeat(32) },
  };
  const accepted = { id: eventContentId({ id: "", ...base }), ...base };
  const request = {
    id: "ab".repeat(32),
    type: "request.sent" as const,
    author: "cd".repeat(32),
    clock: 4n,
    sentAt: 900,
    body: { chatId: "", ensName: "", displayName: "bob" },
  };
  const none = new Uint8Array();

  it("takes a decision by its signer with the request it names", () => {
    expect(checkDelegateEvent(author, 5n, encodeJson(accepted), encodeJson(request))).toEqual({
      event: accepted,
      request,
    });
    expect(checkDelegateEvent(author, 5n, encodeJson(accepted), none)).toEqual({
      event: accepted,
    });
  });

  it("refuses: another author or clock, a changed id, a type no delegate authors, a request it does not name, junk", () => {
    const other = new Uint8Array(32).fill(8);
    expect(checkDelegateEvent(other, 5n, encodeJson(accepted), none)).toBe("not-its-author");
    expect(checkDelegateEvent(author, 6n, encodeJson(accepted), none)).toBe("not-its-author");
    const renamed = { ...accepted, sentAt: 1_001 };
    expect(checkDelegateEvent(author, 5n, encodeJson(renamed), none)).toBe("wrong-id");
    const post = {
      ...base,
      type: "message.posted",
      body: { channelId: "general", text: "x" },
    };
    expect(
      checkDelegateEvent(
        author,
        5n,
        encodeJson({ id: eventContentId(post as never), ...post }),
        none,
      ),
    ).toBe("wrong-type");
    const otherRequest = { ...request, id: "ef".repeat(32) };
    expect(checkDelegateEvent(author, 5n, encodeJson(accepted), encodeJson(otherRequest))).toBe(
      "request-mismatch",
    );
    expect(checkDelegateEvent(author, 5n, new Uint8Array([0x7b]), none)).toBe("malformed");
    expect(checkDelegateEvent(author, 5n, encodeJson({ ...accepted, clock: "5" }), none)).toBe(
      "malformed",
    );
    expect(encodeDelegateEvent).toBeTypeOf("function");
  });
});

describe("a delegate's invitation and its use reach the members and the owner", () => {
  it("alice (admin) invites bob with the owner offline: erin holds the invitation, then its use (bob a member, named); the owner on its return, and its description lists bob", async () => {
    const { w, owner, alice, erin, orgId } = await ownerAway();
    const bob = await w.peer("bob");
    const bobId = bob.client.memberId;
    const aliceId = alice.client.memberId;
    const invitationId = await alice.client.invite(orgId, bobId);
    await w.settle();
    const issued = `invitation.issued ${aliceId} ${JSON.stringify({ invitee: bobId, chatId: "" })}`;
    expect(await storedInvitations(erin, orgId)).toEqual([issued]);
    expect(erin.client.getOrganization(orgId).members.has(bobId)).toBe(false);

    await bob.client.acceptInvitation(orgId, { displayName: "bob" });
    await w.settle();
    const used = `invitation.used ${bobId} ${JSON.stringify({ invitationId, displayName: "bob" })}`;
    expect(await storedInvitations(erin, orgId)).toEqual([issued, used]);
    const erinView = erin.client.getOrganization(orgId);
    expect(erinView.members.get(bobId)).toEqual([]);
    expect(erinView.memberNames.get(bobId)).toBe("bob");

    // The owner comes back: it reads both from history; its state and store hold them.
    w.peers.push(owner);
    await w.resume(owner);
    await w.settle();
    const ownerView = owner.client.getOrganization(orgId);
    expect(ownerView.members.get(bobId)).toEqual([]);
    expect(ownerView.memberNames.get(bobId)).toBe("bob");
    expect(await storedInvitations(owner, orgId)).toEqual([issued, used]);
    // Its description lists bob: a newcomer that reads it sees him a member.
    const dave = await w.peer("dave");
    await dave.client.discover(orgId);
    await w.settle();
    expect(dave.client.getOrganization(orgId).members.has(bobId)).toBe(true);
  });

  it("a member away meanwhile (carol) reads the invitation and its use from history on its return", async () => {
    const { w, alice, carol, orgId } = await ownerAway();
    await w.stop(carol);
    w.peers.splice(w.peers.indexOf(carol), 1);
    const bob = await w.peer("bob");
    const bobId = bob.client.memberId;
    await alice.client.invite(orgId, bobId);
    await w.settle();
    await bob.client.acceptInvitation(orgId, { displayName: "bob" });
    await w.settle();
    w.peers.push(carol);
    await w.resume(carol);
    await w.settle();
    const types = (await storedInvitations(carol, orgId)).map((line) => line.split(" ")[0]);
    expect(types).toEqual(["invitation.issued", "invitation.used"]);
    expect(carol.client.getOrganization(orgId).memberNames.get(bobId)).toBe("bob");
  });

  it("the owner online folds the invitation and its use live", async () => {
    const w = new World();
    world = w;
    const { owner, members, orgId } = await orgWithMembers(w, ["alice", "carol"]);
    const [alice, carol] = members as [Peer, Peer];
    await owner.client.setRoles(orgId, alice.client.memberId, ["all"]);
    await w.settle();
    const bob = await w.peer("bob");
    const bobId = bob.client.memberId;
    await alice.client.invite(orgId, bobId);
    await w.settle();
    expect((await storedInvitations(owner, orgId)).map((l) => l.split(" ")[0])).toEqual([
      "invitation.issued",
    ]);
    await bob.client.acceptInvitation(orgId, { displayName: "bob" });
    await w.settle();
    expect(bob.client.getOrganization(orgId).role).toBe("member");
    expect((await storedInvitations(owner, orgId)).map((l) => l.split(" ")[0])).toEqual([
      "invitation.issued",
      "invitation.used",
    ]);
    expect(owner.client.getOrganization(orgId).memberNames.get(bobId)).toBe("bob");
    expect(carol.client.getOrganization(orgId).memberNames.get(bobId)).toBe("bob");
  });
});

describe("an invitation in a delegate-event from anyone but a delegate", () => {
  it("a plain member's (carol's) invitation carrying a use changes nothing and stores nothing; a stranger's neither", async () => {
    const { w, carol, erin, orgId } = await ownerAway();
    const dave = await w.peer("dave");
    const daveId = dave.client.memberId;
    const reasons: string[] = [];
    erin.client.on("diagnostic", (d) => reasons.push(d.reason));
    await w.settle();
    const writes = countWrites(erin);
    const clock = erin.client.getOrganization(orgId).clock + 1n;
    const topic = descriptionTopic(fromHex(orgId));
    const byCarol = await invitationEnvelope(w, orgId, await identitySecret(carol), daveId, clock);
    await carol.transport.publish(topic, byCarol);
    const stranger = provider.ed25519KeyPair().secretKey;
    const byStranger = await invitationEnvelope(w, orgId, stranger, daveId, clock);
    await carol.transport.publish(topic, byStranger);
    await w.settle();
    expect(writes.count).toBe(0);
    expect(await storedInvitations(erin, orgId)).toEqual([]);
    expect(reasons).toContain("delegate-event-not-a-delegate");
    expect(reasons).toContain("delegate-event-not-a-member");
    expect(erin.client.getOrganization(orgId).members.has(daveId)).toBe(false);
  });
});

describe("checkDelegateEvent: an invitation and its use", () => {
  const author = new Uint8Array(32).fill(7);
  const { issued, used } = invitationAndUse(toHex(author), "cd".repeat(32), 5n, 1_000);

  it("takes an invitation alone, or with the use of it by its invitee", () => {
    expect(checkDelegateEvent(author, 5n, encodeJson(issued), new Uint8Array())).toEqual({
      event: issued,
    });
    expect(checkDelegateEvent(author, 5n, encodeJson(issued), encodeJson(used))).toEqual({
      event: issued,
      request: used,
    });
  });

  it("refuses a use of another invitation, by another key, a request instead, a use with a decision", () => {
    const check = (event: unknown, carried: unknown) =>
      checkDelegateEvent(author, 5n, encodeJson(event), encodeJson(carried));
    expect(check(issued, { ...used, body: { invitationId: "ef".repeat(32) } })).toBe(
      "request-mismatch",
    );
    expect(check(issued, { ...used, author: toHex(author) })).toBe("request-mismatch");
    const request = {
      ...used,
      type: "request.sent",
      body: { chatId: "", ensName: "", displayName: "" },
    };
    expect(check(issued, request)).toBe("request-mismatch");
    const accepted = {
      type: "request.accepted" as const,
      author: toHex(author),
      clock: 5n,
      sentAt: 1_000,
      body: { requestId: used.id },
    };
    const decision = { id: eventContentId({ id: "", ...accepted }), ...accepted };
    expect(check(decision, used)).toBe("request-mismatch");
    expect(check({ ...issued, id: "ef".repeat(32) }, used)).toBe("wrong-id");
  });
});

describe("the events a delegate publishes, made from its state", () => {
  const owner = "11".repeat(32);
  const alice = "22".repeat(32);
  const bob = "33".repeat(32);
  /** A log where alice is an admin, bob asked to join and alice invited dave (then a snapshot). */
  function folded() {
    const log = new OrgLog({ organizationId: owner });
    let clock = 0n;
    const add = (type: OrgEvent["type"], body: unknown, author = owner, id = ""): OrgEvent => {
      clock++;
      const draft = { id, type, author, clock, sentAt: 1_000 + Number(clock), body } as OrgEvent;
      const event = id === "" ? { ...draft, id: eventContentId(draft) } : draft;
      expect(log.add(event).rejected).toBeUndefined();
      return event;
    };
    add("org.created", {
      identity: { ...emptyIdentity, displayName: "Acme" },
      permissions: { access: "on-request", ensOnly: false, private: false },
      pinMessageAllMembersEnabled: false,
      tags: [],
      encrypted: true,
    });
    const joined = add("request.sent", { chatId: "", ensName: "", displayName: "a" }, alice, "r1");
    const accepted = add("request.accepted", { requestId: joined.id });
    add("member.roles.changed", { member: alice, roles: ["all"] });
    const body = { chatId: "", ensName: "bob.eth", displayName: "Bob" };
    const request = add("request.sent", body, bob, "r2");
    const carolAsked = add("request.sent", { ...body, ensName: "" }, "66".repeat(32), "r3");
    const rejected = add("request.rejected", { requestId: carolAsked.id, reason: "no" }, alice);
    const invitation = add("invitation.issued", { invitee: "44".repeat(32), chatId: "" }, alice);
    const byOwner = add("invitation.issued", { invitee: "55".repeat(32), chatId: "" }, owner, "i9");
    // Folded into a snapshot: a log restored from it holds the state, not the events.
    const restored = new OrgLog({ organizationId: owner });
    restored.restore(log.state);
    return { restored, request, invitation, byOwner, accepted, rejected };
  }

  it("the request a decision carries, after the log folded into a snapshot (one lookup)", () => {
    const { restored, request } = folded();
    expect(restored.events().find((e) => e.id === request.id)).toBeUndefined();
    expect(requestEventOf(restored.state, request.id)).toEqual(request);
    expect(requestEventOf(restored.state, "nope")).toBeUndefined();
  });

  it("the decision on a request, after the log folded it into a snapshot; none for a pending one", () => {
    const { restored, request, accepted, rejected } = folded();
    expect(restored.events().some((e) => e.id === accepted.id)).toBe(false);
    expect(decisionEventOf(restored.state, "r1")).toEqual(accepted);
    expect(decisionEventOf(restored.state, "r3")).toEqual(rejected);
    expect(decisionEventOf(restored.state, request.id)).toBeUndefined();
    expect(decisionEventOf(restored.state, "nope")).toBeUndefined();
  });

  it("a delegate's invitation; none for one not named by its content (the owner's)", () => {
    const { restored, invitation, byOwner } = folded();
    const held = (id: string) => {
      const found = restored.state.invitations.get(id);
      if (found === undefined) throw new Error(`no invitation ${id}`);
      return found;
    };
    expect(invitationEventOf(held(invitation.id))).toEqual(invitation);
    expect(invitationEventOf(held(byOwner.id))).toBeUndefined();
  });
});
