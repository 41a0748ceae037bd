import { defaultProvider, ed25519EnvelopeSigner } from "@orgchat/crypto";
import { descriptionTopic, encodeDelegateEvent, sealEnvelope } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { checkDelegateEvent, eventContentId } from "../src/delegate-events.js";
import { encodeJson, fromHex, toHex } from "../src/encoding.js";
import { asks, orgWithMembers, type Peer, World } from "./helpers.js";

// Delegates' decisions reach everyone (docs/DELEGATION.md, "Decisions reach everyone").

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Owner, alice made admin, carol and erin plain members; then the owner's client is stopped. */
async function ownerAway() {
  const w = new World();
  world = w;
  const { owner, members, orgId } = await orgWithMembers(w, ["alice", "carol", "erin"]);
  const [alice, carol, erin] = members as [Peer, Peer, Peer];
  await owner.client.setRoles(orgId, alice.client.memberId, ["all"]);
  await w.settle();
  await w.stop(owner);
  w.peers.splice(w.peers.indexOf(owner), 1);
  return { w, owner, alice, carol, erin, orgId };
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
    const provider = defaultProvider();
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
    const bytes = await sealEnvelope(
      {
        type: "delegate-event",
        organizationId: org,
        clock: draft.clock,
        contentTopic: topic,
        message: {
          organizationId: org,
          author: mallory.publicKey,
          clock: draft.clock,
          event: encodeJson(event),
        },
      },
      ed25519EnvelopeSigner(provider, mallory.secretKey),
    );
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
    const provider = defaultProvider();
    const topic = descriptionTopic(org);
    const reasons: string[] = [];
    erin.client.on("diagnostic", (d) => reasons.push(d.reason));
    await w.settle();
    // Every write erin's store takes from here on.
    let writes = 0;
    const store = erin.store as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const name of ["batch", "put", "append"]) {
      const original = store[name]?.bind(erin.store) as (...args: unknown[]) => unknown;
      store[name] = (...args: unknown[]) => {
        writes++;
        return original(...args);
      };
    }
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
      const bytes = await sealEnvelope(
        {
          type: "delegate-event",
          organizationId: org,
          clock: draft.clock,
          contentTopic: topic,
          message: {
            organizationId: org,
            author: mallory.publicKey,
            clock: draft.clock,
            event: encodeJson(event),
          },
        },
        ed25519EnvelopeSigner(provider, mallory.secretKey),
      );
      await carol.transport.publish(topic, bytes);
    }
    await w.settle();
    expect(writes).toBe(0);
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
