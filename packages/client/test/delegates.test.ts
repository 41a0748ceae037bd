import { defaultProvider, signMemberKeys } from "@orgchat/crypto";
import { type OrgEvent, OrgLog, type OrgState, type Role } from "@orgchat/state";
import { emptyIdentity } from "@orgchat/state/wire";
import {
  decodeSignedEnvelope,
  descriptionTopic,
  MessageType,
  RosterChangeKind,
  type EpochRoster as WireEpochRoster,
} from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import {
  checkDelegateRoster,
  delegateRosterAllows,
  delegateWritesOnlyEmpty,
} from "../src/delegate-commits.js";
import { delegateRecipients, maxDelegateRecipients } from "../src/delegates.js";
import { fromHex, toHex } from "../src/encoding.js";
import { decodeMemberKeys, encodeMemberKeys, ownerKeyLimits } from "../src/owner-keys.js";
import {
  adminWithOwnerAway,
  asks,
  names,
  orgWithMembers,
  type Peer,
  publishFullDescription,
  received,
  World,
} from "./helpers.js";
import { publishedPrekeyBundle, Stranger } from "./stranger.js";

// Delegated management, the requests' side (docs/DELEGATION.md, "Requests reach the delegates").

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Owner, alice made admin, carol a plain member; then the owner's client is closed. */
async function ownerAway(roles: ["all"] | ["manage-users"] = ["all"]) {
  const w = new World();
  world = w;
  const { owner, members, orgId } = await adminWithOwnerAway(w, ["alice", "carol"], roles);
  const [alice, carol] = members as [Peer, Peer];
  return { w, owner, alice, carol, orgId };
}

/** An organization whose members are given the roles listed (by the owner, in order). */
function stateWith(
  owner: string,
  members: ReadonlyArray<readonly [string, readonly Role[]]>,
  banned: readonly string[] = [],
): OrgState {
  const log = new OrgLog({ organizationId: owner });
  let clock = 0n;
  const add = (type: OrgEvent["type"], body: unknown, author = owner): string => {
    clock++;
    const id = `e${clock}`;
    const event = { id, type, author, clock, sentAt: 1_000, body } as OrgEvent;
    expect(log.add(event).rejected).toBeUndefined();
    return id;
  };
  add("org.created", {
    identity: { ...emptyIdentity, displayName: "Acme" },
    permissions: { access: "on-request", ensOnly: false, private: false },
    pinMessageAllMembersEnabled: false,
    tags: [],
    encrypted: true,
  });
  for (const [member, roles] of members) {
    const requestId = add("request.sent", { chatId: "", ensName: "", displayName: "" }, member);
    add("request.accepted", { requestId });
    if (roles.length > 0) add("member.roles.changed", { member, roles: [...roles] });
  }
  for (const member of banned) add("member.banned", { member, deleteMessages: false });
  return log.state;
}

describe("delegates receive requests", () => {
  it("a request reaches an admin with the owner offline; the admin lists it; the ids agree", async () => {
    const { w, alice, orgId } = await ownerAway();
    const { bob, requestId } = await asks(w, orgId, "bob");
    expect(names(alice.events, ["request:received"])).toEqual(["request:received"]);
    const pending = alice.client.listRequests(orgId).filter((r) => r.status === "pending");
    expect(pending.map((r) => [r.id, r.requester, r.displayName])).toEqual([
      [requestId, bob.client.memberId, "bob"],
    ]);
  });

  it("a manager receives it too; a plain member does not (its client refuses to list)", async () => {
    const { w, alice, carol, orgId } = await ownerAway(["manage-users"]);
    await asks(w, orgId, "bob");
    expect(names(alice.events, ["request:received"])).toEqual(["request:received"]);
    expect(names(carol.events, ["request:received"])).toEqual([]);
    expect(() => carol.client.listRequests(orgId)).toThrow(/owner/i);
  });

  it("a delegate's rejection reaches the requester with the owner offline", async () => {
    const { w, alice, orgId } = await ownerAway();
    const { bob, requestId } = await asks(w, orgId, "bob");
    await alice.client.rejectRequest(orgId, requestId, "not now");
    await w.settle();
    const rejected = bob.events.find(([name]) => name === "request:rejected");
    expect(rejected?.[1]).toMatchObject({ requestId, reason: "not now" });
    expect(bob.client.getOrganization(orgId).role).toBe("observer");
  });

  it("a delegate whose prekey rotates (its replay log full) publishes its new bundle at once", async () => {
    const { w, alice, orgId } = await ownerAway();
    const bundles = async () => {
      const page = await alice.transport.queryHistory({
        contentTopics: [descriptionTopic(fromHex(orgId))],
        direction: "backward",
        pageSize: 100,
      });
      return page.messages.filter(
        (m) => decodeSignedEnvelope(m.payload).type === MessageType.DELEGATE_BUNDLE,
      ).length;
    };
    const before = await bundles();
    const limits = ownerKeyLimits as { maxAcceptedPerPrekey: number };
    const saved = limits.maxAcceptedPerPrekey;
    limits.maxAcceptedPerPrekey = 1;
    try {
      await asks(w, orgId, "bob");
    } finally {
      limits.maxAcceptedPerPrekey = saved;
    }
    expect(await bundles()).toBe(before + 1);
    // The requester that holds the newest bundle reaches the delegate.
    await asks(w, orgId, "dave");
    expect(names(alice.events, ["request:received"])).toHaveLength(2);
  });

  it("a newcomer reads past the newest description for delegates' bundles (a bounded few pages)", async () => {
    // Delegates republish their bundle every republishIntervalMs: here not again after the first.
    const w = new World({ republishIntervalMs: 3_600_000 });
    world = w;
    const { owner, members, orgId } = await orgWithMembers(w, ["alice"]);
    const [alice] = members as [Peer];
    await owner.client.setRoles(orgId, alice.client.memberId, ["all"]);
    await w.settle();
    // More than a page of owner traffic after alice's bundle, then a full description.
    for (let i = 0; i < 60; i++) await owner.client.setTags(orgId, [`t${i}`]);
    await w.settle();
    await publishFullDescription(w, owner, orgId, "later");
    await w.stop(owner);
    w.peers.splice(w.peers.indexOf(owner), 1);
    await asks(w, orgId, "bob");
    expect(names(alice.events, ["request:received"])).toEqual(["request:received"]);
  });

  it("a cancel reaches the delegate too", async () => {
    const { w, alice, orgId } = await ownerAway();
    const { bob, requestId } = await asks(w, orgId, "bob");
    await bob.client.cancelRequest(orgId);
    await w.settle();
    expect(alice.client.listRequests(orgId).find((r) => r.id === requestId)?.status).toBe(
      "cancelled",
    );
  });

  it("the delegate's desk survives a restart (its sessions and prekeys are stored)", async () => {
    const { w, alice, orgId } = await ownerAway();
    const { bob, requestId } = await asks(w, orgId, "bob");
    await w.restart(alice);
    await w.restart(bob);
    await alice.client.rejectRequest(orgId, requestId, "full");
    await w.settle();
    expect(bob.events.filter(([name]) => name === "request:rejected")).toHaveLength(1);
  });
});

describe("a delegate's accept completes with the owner offline", () => {
  it("bob asks, alice (admin) accepts: bob gets the keys and reads alice's next message; carol reads bob's", async () => {
    const { w, alice, carol, orgId } = await ownerAway();
    const { bob, requestId } = await asks(w, orgId, "bob");
    await alice.client.acceptRequest(orgId, requestId);
    await w.settle();
    expect(names(bob.events, ["request:accepted", "epoch:changed"])).toEqual([
      "request:accepted",
      "epoch:changed",
    ]);
    expect(bob.client.getOrganization(orgId).role).toBe("member");
    await alice.client.sendMessage(orgId, "general", "welcome bob");
    await w.settle();
    expect(received(bob, orgId)).toEqual(["welcome bob"]);
    expect(received(carol, orgId)).toContain("welcome bob");
    await bob.client.sendMessage(orgId, "general", "hi all");
    await w.settle();
    expect(received(carol, orgId)).toContain("hi all");
    expect(received(alice, orgId)).toContain("hi all");
  });
});

describe("a delegate's removal re-keys with the owner offline", () => {
  for (const how of ["ban", "remove"] as const) {
    it(`alice (admin) ${how}s bob: bob's keys open nothing sent after; carol reads on`, async () => {
      const { w, alice, carol, orgId } = await ownerAway();
      const { bob, requestId } = await asks(w, orgId, "bob");
      await alice.client.acceptRequest(orgId, requestId);
      await w.settle();
      await alice.client.sendMessage(orgId, "general", "before");
      await w.settle();
      expect(received(bob, orgId)).toEqual(["before"]);
      if (how === "ban") await alice.client.banMember(orgId, bob.client.memberId);
      else await alice.client.removeMember(orgId, bob.client.memberId);
      await w.settle();
      await alice.client.sendMessage(orgId, "general", "after");
      await carol.client.sendMessage(orgId, "general", "carol after");
      await w.settle();
      expect(received(bob, orgId)).toEqual(["before"]);
      expect(received(carol, orgId)).toEqual(expect.arrayContaining(["before", "after"]));
      expect(received(alice, orgId)).toContain("carol after");
    });
  }

  it("carol, away while alice accepts bob and then bans him, follows both commits when back (the ban does not refuse the earlier add)", async () => {
    const { w, alice, carol, orgId } = await ownerAway();
    await w.stop(carol);
    const { bob, requestId } = await asks(w, orgId, "bob");
    await alice.client.acceptRequest(orgId, requestId);
    await w.settle();
    await alice.client.banMember(orgId, bob.client.memberId);
    await w.settle();
    await alice.client.sendMessage(orgId, "general", "while carol was away");
    await w.settle();
    await w.resume(carol);
    await w.settle();
    expect(received(carol, orgId)).toContain("while carol was away");
    expect(received(bob, orgId)).not.toContain("while carol was away");
  });

  it("a delegate cannot remove the owner or an equal (the state refuses it)", async () => {
    const { owner, alice, orgId } = await ownerAway();
    await expect(alice.client.removeMember(orgId, owner.client.memberId)).rejects.toThrow();
    await expect(alice.client.banMember(orgId, alice.client.memberId)).rejects.toThrow();
  });
});

describe("receivers check a delegate's roster (docs/DELEGATION.md)", () => {
  const provider = defaultProvider();
  const key = (byte: number) => byte.toString(16).padStart(2, "0").repeat(32);
  const orgId = key(1);
  const org = fromHex(orgId);
  const pair = () => provider.ed25519KeyPair();
  const [admin, manager, plain, joiner] = [pair(), pair(), pair(), pair()];
  const hex = (k: { publicKey: Uint8Array }) => toHex(k.publicKey);
  const state = () =>
    stateWith(orgId, [
      [hex(admin), ["all"]],
      [hex(manager), ["manage-users"]],
      [hex(plain), []],
    ]);
  const signedLeaf = (index: number, who = joiner) => {
    const keys = signMemberKeys(provider, {
      group: { organizationId: org, channelId: "" },
      identitySecretKey: who.secretKey,
      signingKey: provider.ed25519KeyPair().publicKey,
      prekey: provider.x25519KeyPair().publicKey,
      prekeyVersion: 0n,
    });
    return { index, ...keys };
  };
  const message = (
    leaves: ReturnType<typeof signedLeaf>[],
    init: { removedLeaves?: number[]; change?: RosterChangeKind; channelId?: string } = {},
  ) =>
    ({
      version: 1,
      channelId: init.channelId ?? "",
      change: init.change ?? RosterChangeKind.ADD,
      epoch: 2n,
      keyId: new Uint8Array(8),
      previousKeyId: new Uint8Array(8),
      rosterHash: new Uint8Array(32),
      previousRosterHash: new Uint8Array(32),
      body: {
        case: "delta",
        value: { removedLeaves: init.removedLeaves ?? [], leaves, leafCount: 4 },
      },
    }) as unknown as WireEpochRoster;
  const check = (signer: { publicKey: Uint8Array }, m: WireEpochRoster) =>
    checkDelegateRoster(provider, state(), org, signer.publicKey, m);

  it("a REKEY removes only leaves below the signer's rank, never the owner's nor the signer's", () => {
    const rekey = message([], { change: RosterChangeKind.REKEY, removedLeaves: [1] });
    const leaf = (who: { publicKey: Uint8Array }) => ({
      identityKey: who.publicKey,
      signingKey: new Uint8Array(32),
      prekey: new Uint8Array(32),
    });
    const owner = { identityKey: org, signingKey: new Uint8Array(32), prekey: new Uint8Array(32) };
    expect(check(manager, rekey)).toBe(true);
    expect(delegateRosterAllows(rekey, [owner, leaf(plain)])).toBe(true);
    expect(delegateRosterAllows(rekey, [leaf(plain), owner])).toBe(false);
    expect(delegateRosterAllows(rekey, [leaf(plain), leaf(manager)])).toBe(false);
    expect(delegateRosterAllows(rekey, [leaf(plain), leaf(admin)])).toBe(false);
    expect(delegateRosterAllows(rekey, [leaf(plain), undefined])).toBe(false);
    expect(check(plain, message([], { change: RosterChangeKind.REKEY, removedLeaves: [1] }))).toBe(
      false,
    );
    expect(
      check(
        admin,
        message([signedLeaf(3)], { change: RosterChangeKind.REKEY, removedLeaves: [1] }),
      ),
    ).toBe(false);
  });

  it("a REKEY may empty the leaf of a member the receiver's state has banned already (the decision came first)", () => {
    const banned = stateWith(orgId, [[hex(admin), ["all"]]], [hex(plain)]);
    const rekey = message([], { change: RosterChangeKind.REKEY, removedLeaves: [1] });
    const owner = { identityKey: org, signingKey: new Uint8Array(32), prekey: new Uint8Array(32) };
    const leaf = {
      identityKey: plain.publicKey,
      signingKey: owner.signingKey,
      prekey: owner.prekey,
    };
    expect(checkDelegateRoster(provider, banned, org, admin.publicKey, rekey)).toBe(true);
    expect(delegateRosterAllows(rekey, [owner, leaf])).toBe(true);
  });

  it("an admin's or a manager's ADD of a joiner that signed its keys is taken", () => {
    expect(check(admin, message([signedLeaf(3)]))).toBe(true);
    expect(check(manager, message([signedLeaf(3)]))).toBe(true);
  });

  it("refused: a plain member or a stranger signs; a REKEY; removals; a restricted channel", () => {
    expect(check(plain, message([signedLeaf(3)]))).toBe(false);
    expect(check(joiner, message([signedLeaf(3)]))).toBe(false);
    expect(check(admin, message([signedLeaf(3)], { change: RosterChangeKind.REKEY }))).toBe(false);
    expect(check(admin, message([signedLeaf(3)], { removedLeaves: [1] }))).toBe(false);
    expect(check(admin, message([signedLeaf(3)], { channelId: "board" }))).toBe(false);
  });

  it("refused: a key the receiver's state has banned", () => {
    const state = stateWith(
      orgId,
      [
        [hex(admin), ["all"]],
        [hex(plain), []],
      ],
      [hex(joiner)],
    );
    expect(state.banned.has(hex(joiner))).toBe(true);
    expect(
      checkDelegateRoster(provider, state, org, admin.publicKey, message([signedLeaf(3)])),
    ).toBe(false);
    expect(check(admin, message([signedLeaf(3)]))).toBe(true);
  });

  it("refused: keys the joiner did not sign; the signer's own leaf; an admin written by a manager", () => {
    const forged = { ...signedLeaf(3), prekey: provider.x25519KeyPair().publicKey };
    expect(check(admin, message([forged]))).toBe(false);
    expect(check(admin, message([signedLeaf(3, admin)]))).toBe(false);
    expect(check(manager, message([signedLeaf(3, admin)]))).toBe(false);
  });

  it("a delegate's delta writes only empty leaves, of keys not on the roster yet", () => {
    const leaf = (who: { publicKey: Uint8Array }) => ({
      identityKey: who.publicKey,
      signingKey: new Uint8Array(32),
      prekey: new Uint8Array(32),
    });
    const previous = [leaf(admin), undefined, leaf(plain)];
    const write = (index: number, who = joiner) => ({ index, identityKey: who.publicKey });
    expect(delegateWritesOnlyEmpty(previous, { removedLeaves: [], leaves: [write(1)] })).toBe(true);
    expect(delegateWritesOnlyEmpty(previous, { removedLeaves: [], leaves: [write(3)] })).toBe(true);
    expect(delegateWritesOnlyEmpty(previous, { removedLeaves: [], leaves: [write(2)] })).toBe(
      false,
    );
    expect(delegateWritesOnlyEmpty(previous, { removedLeaves: [2], leaves: [write(1)] })).toBe(
      false,
    );
    expect(
      delegateWritesOnlyEmpty(previous, { removedLeaves: [], leaves: [write(1, plain)] }),
    ).toBe(false);
  });
});

describe("a delegate's commits survive restarts", () => {
  it("after a manager's accept and removal, everyone restarts and reads on", async () => {
    const { w, alice, carol, orgId } = await ownerAway(["manage-users"]);
    const { bob, requestId } = await asks(w, orgId, "bob");
    await alice.client.acceptRequest(orgId, requestId);
    await w.settle();
    for (const peer of [alice, bob, carol]) await w.restart(peer);
    await bob.client.sendMessage(orgId, "general", "bob here");
    await alice.client.sendMessage(orgId, "general", "alice here");
    await w.settle();
    expect(received(carol, orgId)).toEqual(expect.arrayContaining(["bob here", "alice here"]));
    expect(received(bob, orgId)).toContain("alice here");
    await alice.client.removeMember(orgId, bob.client.memberId);
    await w.settle();
    for (const peer of [alice, bob, carol]) await w.restart(peer);
    await alice.client.sendMessage(orgId, "general", "bob gone");
    await w.settle();
    expect(received(carol, orgId)).toContain("bob gone");
    expect(received(bob, orgId)).not.toContain("bob gone");
  });
});

describe("member keys signatures (docs/DELEGATION.md)", () => {
  it("keys whose signature does not hold are refused on arrival; the owner keeps signed ones in its 65-byte record", async () => {
    const w = new World();
    world = w;
    const owner = await w.peer("owner");
    const orgId = await owner.client.createOrganization({ name: "Acme", encrypted: true });
    await w.settle();
    const diagnostics: string[] = [];
    owner.client.on("diagnostic", (d) => diagnostics.push(d.reason));
    const bundle = await publishedPrekeyBundle(owner.transport, orgId);
    const org = fromHex(orgId);
    const mallory = new Stranger(owner.transport, orgId, bundle);
    const dh = defaultProvider().x25519KeyPair().publicKey;
    const signed = signMemberKeys(defaultProvider(), {
      group: { organizationId: org, channelId: "" },
      identitySecretKey: mallory.identity.secretKey,
      signingKey: mallory.identity.publicKey,
      prekey: dh,
      prekeyVersion: 0n,
    });
    // Another prekey under the same signature: the signature does not cover it.
    await mallory.send(
      { case: "memberKeys", value: { ...signed, prekey: mallory.identityDh.publicKey } },
      1n,
    );
    await w.settle();
    expect(diagnostics).toContain("member-keys-forged");
    expect(await owner.store.get(`org/${orgId}`, `memberkeys/${mallory.id}`)).toBeUndefined();
    await mallory.send({ case: "memberKeys", value: signed }, 2n);
    await w.settle();
    const record = await owner.store.get(`org/${orgId}`, `memberkeys/${mallory.id}`);
    // A delegate keeps the signature (its add step needs it: the accept test above); the owner not.
    expect(record === undefined ? undefined : decodeMemberKeys(record)).toEqual({
      signingKey: signed.signingKey,
      prekey: signed.prekey,
    });
  });

  it("the memberkeys record reads both versions back", () => {
    const keys = { signingKey: new Uint8Array(32).fill(1), prekey: new Uint8Array(32).fill(2) };
    expect(decodeMemberKeys(encodeMemberKeys(keys))).toEqual(keys);
    const signed = {
      ...keys,
      signed: { prekeyVersion: 7n, keysSignature: new Uint8Array(64).fill(3) },
    };
    expect(encodeMemberKeys(signed)).toHaveLength(137);
    expect(decodeMemberKeys(encodeMemberKeys(signed))).toEqual(signed);
  });
});

describe("delegateRecipients", () => {
  const key = (byte: number) => byte.toString(16).padStart(2, "0").repeat(32);
  it("admins first, then managers, each by id; never a plain member, a stranger or the requester", () => {
    const [a, b, c, d] = [key(5), key(4), key(3), key(2)];
    const state = stateWith(key(1), [
      [a, ["manage-users"]],
      [b, ["all"]],
      [c, []],
      [d, ["all"]],
    ]);
    expect(delegateRecipients(state, [a, b, c, d, key(9)], key(8))).toEqual([d, b, a]);
    expect(delegateRecipients(state, [a, b, c, d], d)).toEqual([b, a]);
  });

  it("at most maxDelegateRecipients", () => {
    const many = Array.from({ length: 12 }, (_, i) => key(16 + i));
    const state = stateWith(
      key(1),
      many.map((m) => [m, ["all"]]),
    );
    expect(delegateRecipients(state, many, key(9))).toEqual(many.slice(0, maxDelegateRecipients));
    expect(maxDelegateRecipients).toBe(8);
  });
});
