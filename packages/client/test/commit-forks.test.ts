/**
 * Forks (docs/DELEGATION.md, "Concurrent commits converge"): two delegates commit on the same
 * parent epoch with the owner offline. Every member ends on the winner's chain, a message sent on
 * the losing branch is read by everyone, and the losing delegate re-commits its change on the
 * winner. Deterministic: seeded keys, the World's injected clock, a partition to make the fork.
 */
import { toHex } from "@orgchat/base";
import { afterEach, describe, expect, it } from "vitest";
import { storedGroups } from "../src/inspect.js";
import { asks, orgWithMembers, type Peer, received, World } from "./helpers.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/**
 * Owner, admins alice and carol, members dave, erin, frank and gina; the owner's client is then
 * closed.
 */
async function twoAdmins() {
  const w = new World();
  world = w;
  const { owner, members, orgId } = await orgWithMembers(w, [
    "alice",
    "carol",
    "dave",
    "erin",
    "frank",
    "gina",
  ]);
  const [alice, carol, dave, erin, frank, gina] = members as [Peer, Peer, Peer, Peer, Peer, Peer];
  await owner.client.setRoles(orgId, alice.client.memberId, ["all"]);
  await owner.client.setRoles(orgId, carol.client.memberId, ["all"]);
  await w.settle();
  await w.stop(owner);
  w.peers.splice(w.peers.indexOf(owner), 1);
  return { w, alice, carol, dave, erin, frank, gina, orgId };
}

/** A peer's organization group as stored: epoch, key id, members (hex ids). */
async function groupOf(peer: Peer, orgId: string) {
  const group = (await storedGroups(peer.store, orgId, "member")).get("");
  if (group === undefined) throw new Error(`${peer.name} holds no group`);
  const members = group.roster.flatMap((leaf) =>
    leaf === undefined ? [] : [toHex(leaf.identityKey)],
  );
  return { epoch: group.epoch, keyId: toHex(group.keyId), status: group.status, members };
}

type World2 = Awaited<ReturnType<typeof twoAdmins>>;

/**
 * Splits the network in two sides, runs each side's actions (neither sees the other's commit),
 * and checks that a fork was made: the two delegates are on different epochs of the same number.
 */
async function fork(
  t: World2,
  sides: readonly [readonly Peer[], readonly Peer[]],
  actions: readonly [() => Promise<unknown>, () => Promise<unknown>],
): Promise<bigint> {
  const { w, alice, carol, orgId } = t;
  const parent = await groupOf(alice, orgId);
  w.network.partition(sides.map((side) => side.map((peer) => peer.transport)));
  await actions[0]();
  await actions[1]();
  await w.settle();
  const [a, c] = [await groupOf(alice, orgId), await groupOf(carol, orgId)];
  expect([a.epoch, c.epoch]).toEqual([parent.epoch + 1n, parent.epoch + 1n]);
  expect(a.keyId).not.toBe(c.keyId);
  return parent.epoch;
}

/** Heals the partition and runs the clock past the sweeps that read the other side's history. */
async function heal(w: World): Promise<void> {
  w.network.heal();
  await w.advance(120_000);
  await w.advance(120_000);
}

/** Every peer listed is on one epoch (same key id); returns it. */
async function oneChain(orgId: string, peers: readonly Peer[]) {
  const groups = await Promise.all(peers.map((p) => groupOf(p, orgId)));
  const [first] = groups as [Awaited<ReturnType<typeof groupOf>>];
  for (const [index, g] of groups.entries()) {
    expect({ peer: peers[index]?.name, keyId: g.keyId, status: g.status }).toEqual({
      peer: peers[index]?.name,
      keyId: first.keyId,
      status: "member",
    });
  }
  return first;
}

describe("two delegates commit on the same parent (owner offline)", () => {
  it("alice removes dave while carol removes erin: one chain, both out, everyone reads on", async () => {
    const t = await twoAdmins();
    const { w, alice, carol, dave, erin, frank, gina, orgId } = t;
    // frank sees alice's commit first, gina carol's: both orders of arrival.
    const parent = await fork(
      t,
      [
        [alice, frank, dave],
        [carol, gina, erin],
      ],
      [
        () => alice.client.removeMember(orgId, dave.client.memberId),
        () => carol.client.removeMember(orgId, erin.client.memberId),
      ],
    );
    await alice.client.sendMessage(orgId, "general", "from alice's branch");
    await carol.client.sendMessage(orgId, "general", "from carol's branch");
    await w.settle();
    await heal(w);
    const chain = await oneChain(orgId, [alice, carol, frank, gina]);
    // The fork's parent + 1 (the winner) + 1 (the loser's removal, re-committed on it).
    expect(chain.epoch).toBe(parent + 2n);
    expect(chain.members).not.toContain(dave.client.memberId);
    expect(chain.members).not.toContain(erin.client.memberId);
    // Both branches' messages were read by everyone on either side.
    for (const peer of [frank, gina]) {
      expect(received(peer, orgId)).toEqual(
        expect.arrayContaining(["from alice's branch", "from carol's branch"]),
      );
    }
    expect(received(alice, orgId)).toContain("from carol's branch");
    expect(received(carol, orgId)).toContain("from alice's branch");
    await frank.client.sendMessage(orgId, "general", "after the fork");
    await w.settle();
    for (const peer of [alice, carol, gina])
      expect(received(peer, orgId)).toContain("after the fork");
    for (const peer of [dave, erin]) expect(received(peer, orgId)).not.toContain("after the fork");
  });

  for (const adder of ["alice", "carol"] as const) {
    it(`${adder} accepts bob while the other removes erin: bob ends on the chain and reads on`, async () => {
      const t = await twoAdmins();
      const { w, alice, carol, dave, erin, frank, gina, orgId } = t;
      const { bob, requestId } = await asks(w, orgId, "bob");
      const [accepting, removing] = adder === "alice" ? [alice, carol] : [carol, alice];
      const sides: [Peer[], Peer[]] =
        adder === "alice"
          ? [
              [alice, bob, frank, dave],
              [carol, gina, erin],
            ]
          : [
              [alice, frank, dave, erin],
              [carol, bob, gina],
            ];
      const parent = await fork(t, sides, [
        () => accepting.client.acceptRequest(orgId, requestId),
        () => removing.client.removeMember(orgId, erin.client.memberId),
      ]);
      await accepting.client.sendMessage(orgId, "general", "on the add");
      await removing.client.sendMessage(orgId, "general", "on the removal");
      await w.settle();
      await heal(w);
      const chain = await oneChain(orgId, [alice, carol, frank, gina, dave, bob]);
      expect(chain.epoch).toBe(parent + 2n);
      expect(chain.members).toContain(bob.client.memberId);
      expect(chain.members).not.toContain(erin.client.memberId);
      for (const peer of [frank, gina, dave]) {
        expect(received(peer, orgId)).toEqual(
          expect.arrayContaining(["on the add", "on the removal"]),
        );
      }
      await removing.client.sendMessage(orgId, "general", "welcome bob");
      await w.settle();
      expect(received(bob, orgId)).toContain("welcome bob");
      expect(received(erin, orgId)).not.toContain("welcome bob");
      await bob.client.sendMessage(orgId, "general", "hi from bob");
      await w.settle();
      for (const peer of [alice, carol, frank, gina]) {
        expect(received(peer, orgId)).toContain("hi from bob");
      }
    });
  }

  // An accept and a ban of one newcomer at once (docs/DELEGATION.md, "An add step found
  // invalid"): carol accepts bob while alice, across a partition, bans him. The ban's clock is
  // lower: alice's side refuses carol's add step; carol and gina entered it before the ban reached
  // them and go back to its parent once it does. One chain without bob.
  it("an accept and a ban of one newcomer at once, a restart between: one chain without him", async () => {
    const t = await twoAdmins();
    const { w, alice, carol, dave, frank, gina, orgId } = t;
    const { bob, requestId } = await asks(w, orgId, "bob");
    const parent = await groupOf(alice, orgId);
    w.network.partition([
      [alice, frank, dave].map((p) => p.transport),
      [carol, bob, gina].map((p) => p.transport),
    ]);
    await carol.client.acceptRequest(orgId, requestId);
    await alice.client.banMember(orgId, bob.client.memberId);
    await w.settle();
    await carol.client.sendMessage(orgId, "general", "on the add step");
    await w.settle();
    expect((await groupOf(gina, orgId)).epoch).toBe(parent.epoch + 1n);
    expect(received(bob, orgId)).toContain("on the add step");
    await w.restart(alice);
    await heal(w);
    await w.advance(120_000);
    const chain = await oneChain(orgId, [alice, carol, frank, gina, dave]);
    expect(chain.keyId).toBe(parent.keyId);
    expect(chain.members).not.toContain(bob.client.memberId);
    // What was sent on the add step stays readable to those who entered it.
    expect(received(gina, orgId)).toContain("on the add step");
    // The chain goes on without bob; a restart does not take anyone back to the add step.
    for (const peer of [carol, gina]) await w.restart(peer);
    await w.advance(120_000);
    await oneChain(orgId, [alice, carol, frank, gina, dave]);
    await gina.client.sendMessage(orgId, "general", "back on the parent");
    await alice.client.sendMessage(orgId, "general", "alice after the ban");
    await w.settle();
    for (const peer of [alice, carol, frank, dave]) {
      expect(received(peer, orgId)).toContain("back on the parent");
    }
    for (const peer of [carol, gina])
      expect(received(peer, orgId)).toContain("alice after the ban");
    for (const text of ["back on the parent", "alice after the ban"]) {
      expect(received(bob, orgId)).not.toContain(text);
    }
  });

  // The add step found invalid had a commit on top (carol accepted hank next): both are left, and
  // carol, their author, adds hank again on the parent; gina follows, hank reads on. Hank takes
  // carol's new Welcome (a lower epoch) once the ban refuses his branch, also when it came first.
  for (const hankAway of [false, true]) {
    it(`carol accepts bob then hank while alice bans bob${hankAway ? ", hank away at the heal" : ""}: hank is added again, bob is not`, async () => {
      const t = await twoAdmins();
      const { w, alice, carol, dave, frank, gina, orgId } = t;
      const { bob, requestId } = await asks(w, orgId, "bob");
      const { bob: hank, requestId: hankId } = await asks(w, orgId, "hank");
      const parent = await groupOf(alice, orgId);
      w.network.partition([
        [alice, frank, dave].map((p) => p.transport),
        [carol, bob, hank, gina].map((p) => p.transport),
      ]);
      await carol.client.acceptRequest(orgId, requestId);
      await carol.client.acceptRequest(orgId, hankId);
      await alice.client.banMember(orgId, bob.client.memberId);
      await w.settle();
      expect((await groupOf(gina, orgId)).epoch).toBe(parent.epoch + 2n);
      if (hankAway) {
        // Hank reads the history after the others healed: carol's new Welcome before the ban.
        await w.stop(hank);
        await heal(w);
        await w.resume(hank);
        await w.advance(120_000);
      }
      await heal(w);
      await w.advance(120_000);
      const chain = await oneChain(orgId, [alice, carol, frank, gina, dave, hank]);
      // The parent, then carol's new add step of hank on it.
      expect(chain.epoch).toBe(parent.epoch + 1n);
      expect(chain.keyId).not.toBe((await groupOf(bob, orgId)).keyId);
      expect(chain.members).toContain(hank.client.memberId);
      expect(chain.members).not.toContain(bob.client.memberId);
      await alice.client.sendMessage(orgId, "general", "welcome hank");
      await w.settle();
      for (const peer of [hank, carol, gina])
        expect(received(peer, orgId)).toContain("welcome hank");
      expect(received(bob, orgId)).not.toContain("welcome hank");
    });
  }

  it("a restart in between: the fork points and commit places survive; the chain is one", async () => {
    const t = await twoAdmins();
    const { w, alice, carol, dave, erin, frank, gina, orgId } = t;
    await fork(
      t,
      [
        [alice, frank, dave],
        [carol, gina, erin],
      ],
      [
        () => alice.client.removeMember(orgId, dave.client.memberId),
        () => carol.client.removeMember(orgId, erin.client.memberId),
      ],
    );
    await carol.client.sendMessage(orgId, "general", "before the restarts");
    await w.settle();
    for (const peer of [alice, carol, frank, gina]) await w.restart(peer);
    await heal(w);
    for (const peer of [alice, carol, frank, gina]) await w.restart(peer);
    await w.advance(120_000);
    await oneChain(orgId, [alice, carol, frank, gina]);
    expect(received(frank, orgId)).toContain("before the restarts");
    await gina.client.sendMessage(orgId, "general", "after the restarts");
    await w.settle();
    for (const peer of [alice, carol, frank]) {
      expect(received(peer, orgId)).toContain("after the restarts");
    }
  });
});
