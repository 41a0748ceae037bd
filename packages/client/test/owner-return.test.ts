import { defaultProvider, ed25519EnvelopeSigner, signMemberKeys } from "@orgchat/crypto";
import type { BatchOptions, Store, StoreOp } from "@orgchat/store";
import type { MemoryTransport } from "@orgchat/transport";
import {
  inboxTopic,
  keysTopic,
  publicKeyFromMemberId,
  RosterChangeKind,
  requestsTopic,
} from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { decodeJson, fromHex } from "../src/encoding.js";
import { sealEpochRosters } from "../src/epoch-roster.js";
import { ownerFollowLimits } from "../src/owner-follow.js";
import { faulty } from "./faulty-store.js";
import { asks, type Peer, received, seededRandom, World } from "./helpers.js";
import { publishedPrekeyBundle, Stranger } from "./stranger.js";

// The owner returns after delegates acted (docs/DELEGATION.md, "The owner returns").

const provider = defaultProvider();

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/**
 * Owner (on `ownerStore` when given), alice made admin, carol and dave plain members.
 * @param away - whether the owner's client is stopped after that
 */
async function org(init: { away: boolean; ownerStore?: Store }) {
  const w = new World();
  world = w;
  const owner = await w.peer(
    "owner",
    init.ownerStore === undefined ? {} : { store: init.ownerStore },
  );
  const orgId = await owner.client.createOrganization({
    name: "Acme",
    access: "on-request",
    encrypted: true,
  });
  await owner.client.createChannel(orgId, { id: "general", name: "General" });
  await w.settle();
  const members: Peer[] = [];
  for (const name of ["alice", "carol", "dave"]) {
    const peer = await w.peer(name);
    await peer.client.discover(orgId);
    const requestId = await peer.client.requestToJoin(orgId, { displayName: name });
    await w.settle();
    await owner.client.acceptRequest(orgId, requestId);
    await w.settle();
    members.push(peer);
  }
  const [alice, carol, dave] = members as [Peer, Peer, Peer];
  await owner.client.setRoles(orgId, alice.client.memberId, ["all"]);
  await w.settle();
  if (init.away) {
    await w.stop(owner);
    w.peers.splice(w.peers.indexOf(owner), 1);
  }
  return { w, owner, alice, carol, dave, orgId };
}

/** Brings a stopped owner back (a new client on its store) and lets it catch up. */
async function ownerBack(w: World, owner: Peer): Promise<void> {
  w.peers.push(owner);
  await w.resume(owner);
}

/** Alice accepts bob and bans carol (the owner away or not). */
async function delegatesAct(w: World, alice: Peer, carol: Peer, orgId: string) {
  const { bob, requestId } = await asks(w, orgId, "bob");
  await alice.client.acceptRequest(orgId, requestId);
  await w.settle();
  await alice.client.banMember(orgId, carol.client.memberId);
  await w.settle();
  return bob;
}

/** The organization group's epoch as a peer holds it. */
function epochOf(peer: Peer, orgId: string): bigint | undefined {
  return peer.client.getOrganization(orgId).epoch;
}

/** Drops what `transport` publishes on `topic` while `run` runs (a message lost on its way). */
async function dropping(
  transport: MemoryTransport,
  topic: string,
  run: () => Promise<void>,
): Promise<number> {
  const publish = transport.publish.bind(transport);
  let dropped = 0;
  transport.publish = async (contentTopic, payload, options) => {
    if (contentTopic === topic) {
      dropped++;
      return publish(`/dropped/1/${dropped}/proto`, payload, options);
    }
    return publish(contentTopic, payload, options);
  };
  try {
    await run();
  } finally {
    transport.publish = publish;
  }
  return dropped;
}

/** The reasons of the diagnostics a peer's client reports from now on (the harness records none). */
function diagnostics(peer: Peer): string[] {
  const reasons: string[] = [];
  peer.client.on("diagnostic", (diagnostic) => {
    reasons.push(diagnostic.reason);
  });
  return reasons;
}

/**
 * Two owner events that `peer` does not hear (nothing is delivered to it meanwhile): its next
 * decision takes a clock the owner's state holds already (a late decision).
 */
async function ownerAheadOf(w: World, owner: Peer, peer: Peer, orgId: string): Promise<void> {
  const impl = peer.transport as unknown as { receive(message: unknown): void };
  const receive = impl.receive.bind(impl);
  impl.receive = () => undefined;
  try {
    await owner.client.setTags(orgId, ["concurrent"]);
    await owner.client.setTags(orgId, ["concurrent", "again"]);
    await w.settle();
  } finally {
    impl.receive = receive;
  }
}

/** The owner sends; who reads it. */
async function ownerSays(w: World, owner: Peer, orgId: string, text: string) {
  await owner.client.sendMessage(orgId, "general", text);
  await w.settle();
}

describe("the owner follows delegates' commits", () => {
  it("owner back after alice accepted bob and banned carol: it holds their epoch, reads bob and alice, and its message reaches bob and alice, not carol", async () => {
    const { w, owner, alice, carol, orgId } = await org({ away: true });
    const bob = await delegatesAct(w, alice, carol, orgId);
    await bob.client.sendMessage(orgId, "general", "bob while away");
    await alice.client.sendMessage(orgId, "general", "alice while away");
    await w.settle();
    await ownerBack(w, owner);
    expect(epochOf(owner, orgId)).toBe(epochOf(alice, orgId));
    expect(received(owner, orgId)).toEqual(
      expect.arrayContaining(["bob while away", "alice while away"]),
    );
    await ownerSays(w, owner, orgId, "owner is back");
    expect(received(bob, orgId)).toContain("owner is back");
    expect(received(alice, orgId)).toContain("owner is back");
    expect(received(carol, orgId)).not.toContain("owner is back");
    expect(bob.client.getOrganization(orgId).role).toBe("member");
  });

  it("owner back after alice accepted bob and then banned him: it follows the add (judged at its own clock, before the ban) and the ban's re-key", async () => {
    const { w, owner, alice, carol, orgId } = await org({ away: true });
    const { bob, requestId } = await asks(w, orgId, "bob");
    await alice.client.acceptRequest(orgId, requestId);
    await w.settle();
    await alice.client.banMember(orgId, bob.client.memberId);
    await w.settle();
    await alice.client.sendMessage(orgId, "general", "after bob's ban");
    await w.settle();
    await ownerBack(w, owner);
    expect(epochOf(owner, orgId)).toBe(epochOf(alice, orgId));
    expect(received(owner, orgId)).toContain("after bob's ban");
    await ownerSays(w, owner, orgId, "owner after the ban");
    expect(received(alice, orgId)).toContain("owner after the ban");
    expect(received(carol, orgId)).toContain("owner after the ban");
    expect(received(bob, orgId)).not.toContain("owner after the ban");
  });

  it("then the owner removes dave: bob, admitted by alice, follows the owner's KeyUpdate with the leaf secret alice handed over (no Welcome from the owner reaches him)", async () => {
    const { w, owner, alice, carol, dave, orgId } = await org({ away: true });
    const bob = await delegatesAct(w, alice, carol, orgId);
    await ownerBack(w, owner);
    const bobInbox = inboxTopic(publicKeyFromMemberId(bob.client.memberId));
    const dropped = await dropping(owner.transport, bobInbox, async () => {
      await owner.client.removeMember(orgId, dave.client.memberId);
      await w.settle();
    });
    expect(dropped).toBe(0);
    expect(epochOf(bob, orgId)).toBe(epochOf(owner, orgId));
    await ownerSays(w, owner, orgId, "without dave");
    expect(received(bob, orgId)).toContain("without dave");
    expect(received(alice, orgId)).toContain("without dave");
    expect(received(dave, orgId)).not.toContain("without dave");
  });

  it("the handover lost on its way: the owner gives bob a fresh leaf secret in a Welcome before its KeyUpdate, and bob follows it", async () => {
    const { w, owner, alice, carol, dave, orgId } = await org({ away: true });
    const { bob, requestId } = await asks(w, orgId, "bob");
    const lost = await dropping(alice.transport, requestsTopic(fromHex(orgId)), async () => {
      await alice.client.acceptRequest(orgId, requestId);
      await w.settle();
    });
    expect(lost).toBe(1);
    await alice.client.banMember(orgId, carol.client.memberId);
    await w.settle();
    await ownerBack(w, owner);
    await owner.client.removeMember(orgId, dave.client.memberId);
    await w.settle();
    expect(epochOf(bob, orgId)).toBe(epochOf(owner, orgId));
    await ownerSays(w, owner, orgId, "without dave");
    expect(received(bob, orgId)).toContain("without dave");
    expect(received(dave, orgId)).not.toContain("without dave");
  });

  it("live: the owner online while alice accepts bob and bans carol follows both commits at once", async () => {
    const { w, owner, alice, carol, orgId } = await org({ away: false });
    const before = epochOf(owner, orgId) as bigint;
    const bob = await delegatesAct(w, alice, carol, orgId);
    expect(epochOf(alice, orgId)).toBe(before + 2n);
    expect(epochOf(owner, orgId)).toBe(before + 2n);
    await ownerSays(w, owner, orgId, "welcome bob");
    expect(received(bob, orgId)).toContain("welcome bob");
    expect(received(alice, orgId)).toContain("welcome bob");
    expect(received(carol, orgId)).not.toContain("welcome bob");
  });

  it("30 s after following a delegate's KeyUpdate the owner refreshes (delegate salts replaced); every member follows", async () => {
    const { w, owner, alice, carol, dave, orgId } = await org({ away: false });
    const bob = await delegatesAct(w, alice, carol, orgId);
    const followed = epochOf(owner, orgId) as bigint;
    await w.advance(29_000);
    expect(epochOf(owner, orgId)).toBe(followed);
    await w.advance(1_000);
    expect(epochOf(owner, orgId)).toBe(followed + 1n);
    for (const peer of [alice, bob, dave]) expect(epochOf(peer, orgId)).toBe(followed + 1n);
    await ownerSays(w, owner, orgId, "refreshed");
    expect(received(bob, orgId)).toContain("refreshed");
    expect(received(dave, orgId)).toContain("refreshed");
    expect(received(carol, orgId)).not.toContain("refreshed");
  });

  it("a crash between receiving a delegate's commit and persisting it: the restarted owner follows it from history, no fork", async () => {
    const disk = faulty();
    // The owner dies in the commit that would store its first followed epoch (armed below).
    let armed = false;
    let crashed = false;
    const store = new Proxy(disk.store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name !== "batch") return value;
        return (ops: StoreOp[], options?: BatchOptions) => {
          if (armed && !crashed && ops.some((op) => "key" in op && op.key === "group/")) {
            crashed = true;
            disk.crash();
          }
          return disk.store.batch(ops, options);
        };
      },
    });
    const { w, owner, alice, carol, orgId } = await org({ away: true, ownerStore: store });
    const bob = await delegatesAct(w, alice, carol, orgId);
    armed = true;
    w.peers.push(owner);
    await w.resume(owner).catch(() => undefined);
    expect(crashed).toBe(true);
    await owner.client.close().catch(() => undefined);
    w.peers.splice(w.peers.indexOf(owner), 1);
    (owner as { store: Store }).store = disk.inner;
    await ownerBack(w, owner);
    expect(epochOf(owner, orgId)).toBe(epochOf(alice, orgId));
    await ownerSays(w, owner, orgId, "after the crash");
    expect(received(bob, orgId)).toContain("after the crash");
    expect(received(alice, orgId)).toContain("after the crash");
    expect(received(carol, orgId)).not.toContain("after the crash");
  });
});

/** A hand-driven member (a Stranger the owner accepted), made admin when `admin`. */
async function handMember(w: World, owner: Peer, orgId: string, admin: boolean) {
  const name = admin ? "hand-admin" : "hand-plain";
  const via = w.network.transport({ name, history: true });
  await via.start();
  const bundle = await publishedPrekeyBundle(via, orgId);
  const hand = new Stranger(via, orgId, bundle, seededRandom(admin ? 71 : 72));
  // Above the organization's clock: at clock 1 the request could sort before `org.created` (same
  // clock, ids compared), where the state refuses it as malformed.
  const clock = owner.client.getOrganization(orgId).clock + 1n;
  await hand.request({ clock, sentAt: w.time.now() });
  await w.settle();
  const request = owner.client
    .listRequests(orgId)
    .find((r) => r.requester === hand.id && r.status === "pending");
  await owner.client.acceptRequest(orgId, request?.id as string);
  if (admin) await owner.client.setRoles(orgId, hand.id, ["all"]);
  await w.settle();
  return { hand, via };
}

describe("the owner refuses forged commits", () => {
  /** An ADD delta signed by `hand` writing one leaf, signed or not by the joiner. */
  async function forgedAdd(orgId: string, hand: Stranger, signed: boolean) {
    const org = fromHex(orgId);
    const joiner = provider.ed25519KeyPair();
    const keys = signMemberKeys(provider, {
      group: { organizationId: org, channelId: "" },
      identitySecretKey: joiner.secretKey,
      signingKey: provider.ed25519KeyPair().publicKey,
      prekey: provider.x25519KeyPair().publicKey,
      prekeyVersion: 0n,
    });
    const leaf = signed ? keys : { ...keys, keysSignature: new Uint8Array(0) };
    const [sealed] = await sealEpochRosters({
      organizationId: org,
      signer: ed25519EnvelopeSigner(provider, hand.identity.secretKey),
      clock: 50n,
      messages: [
        {
          version: 1,
          channelId: "",
          change: RosterChangeKind.ADD,
          epoch: 9n,
          keyId: new Uint8Array(8).fill(9),
          previousKeyId: new Uint8Array(8).fill(8),
          rosterHash: new Uint8Array(32).fill(9),
          previousRosterHash: new Uint8Array(32).fill(8),
          body: {
            case: "delta",
            value: { removedLeaves: [], leaves: [{ index: 7, ...leaf }], leafCount: 8 },
          },
        },
      ],
    });
    return sealed as { topic: string; bytes: Uint8Array };
  }

  it("signed by a plain member: dropped before any signature check; a delegate's leaf without the joiner's keys signature: refused", async () => {
    const { w, owner, orgId } = await org({ away: false });
    const plain = await handMember(w, owner, orgId, false);
    const admin = await handMember(w, owner, orgId, true);
    const epoch = epochOf(owner, orgId);
    const reasons = diagnostics(owner);
    const byPlain = await forgedAdd(orgId, plain.hand, true);
    await plain.via.publish(byPlain.topic, byPlain.bytes);
    await w.settle();
    expect(reasons).toEqual(["not-a-committer"]);
    reasons.length = 0;
    const unsigned = await forgedAdd(orgId, admin.hand, false);
    expect(unsigned.topic).toBe(keysTopic(fromHex(orgId)));
    await admin.via.publish(unsigned.topic, unsigned.bytes);
    await w.settle();
    expect(reasons).toEqual(["roster-refused"]);
    expect(epochOf(owner, orgId)).toBe(epoch);
    await plain.via.stop();
    await admin.via.stop();
  });
});

describe('late decisions are kept (docs/DELEGATION.md, "Decisions reach everyone")', () => {
  it("alice accepts bob at a clock the owner's own event took meanwhile: the owner ratifies it, and dave keeps bob after a restart", async () => {
    const { w, owner, alice, dave, orgId } = await org({ away: false });
    const { bob, requestId } = await asks(w, orgId, "bob");
    await ownerAheadOf(w, owner, alice, orgId);
    const ownerClock = owner.client.getOrganization(orgId).clock;
    await alice.client.acceptRequest(orgId, requestId);
    await w.settle();
    expect(owner.client.getOrganization(orgId).clock).toBeGreaterThan(ownerClock);
    await w.restart(dave);
    expect([...dave.client.getOrganization(orgId).members.keys()]).toContain(bob.client.memberId);
    expect(dave.client.getOrganization(orgId).clock).toBe(
      owner.client.getOrganization(orgId).clock,
    );
  });
});

describe("late decisions without a commit", () => {
  it("alice rejects bob at a clock the owner's own event took meanwhile: the owner ratifies it (a fresh clock), and dave (manager) still sees it rejected after a restart", async () => {
    const { w, owner, alice, dave, orgId } = await org({ away: false });
    await owner.client.setRoles(orgId, dave.client.memberId, ["manage-users"]);
    await w.settle();
    const { requestId } = await asks(w, orgId, "bob");
    await ownerAheadOf(w, owner, alice, orgId);
    const ownerClock = owner.client.getOrganization(orgId).clock;
    await alice.client.rejectRequest(orgId, requestId, "not now");
    await w.settle();
    expect(owner.client.getOrganization(orgId).clock).toBe(ownerClock + 1n);
    await w.restart(dave);
    const status = (peer: Peer) =>
      peer.client.listRequests(orgId).find((r) => r.id === requestId)?.status;
    expect(status(owner)).toBe("rejected");
    expect(status(dave)).toBe("rejected");
  });
});

describe("handovers: only a delegate's, bounded", () => {
  it("a plain member's handover is refused and stores nothing; a delegate's early ones are kept up to 64", async () => {
    const { w, owner, orgId } = await org({ away: false });
    const space = `org/${orgId}`;
    const plain = await handMember(w, owner, orgId, false);
    const admin = await handMember(w, owner, orgId, true);
    const reasons = diagnostics(owner);
    const handover = (epoch: bigint) => ({
      case: "leafHandover" as const,
      value: {
        channelId: "",
        epoch,
        keyId: new Uint8Array(8),
        leaf: 9,
        member: new Uint8Array(32).fill(1),
        leafSecret: new Uint8Array(32).fill(2),
      },
    });
    await plain.hand.send(handover(100n), 60n);
    await w.settle();
    expect(reasons).toEqual(["handover-refused"]);
    expect(await owner.store.get(space, "handovers")).toBeUndefined();
    for (let i = 0; i < ownerFollowLimits.maxEarlyHandovers + 6; i++) {
      await admin.hand.send(handover(100n + BigInt(i)), 60n);
    }
    await w.settle();
    const stored = await owner.store.get(space, "handovers");
    const book = decodeJson<{ early: unknown[] }>(stored as Uint8Array);
    expect(book.early).toHaveLength(ownerFollowLimits.maxEarlyHandovers);
  });
});
