/**
 * A delegate commits a joiner it accepted when its state lists it again (`joiner-recommits.ts`,
 * issue #17; owner seed 1, script 32 of fork-convergence.test.ts, without the owner): alice's add
 * step of bob lost to the owner's commit, whose description, made before the owner read alice's
 * acceptance, dropped bob from alice's state, so her re-commit found nothing. The owner, back,
 * folded the acceptance (its next description lists bob again), left bob's add to alice for
 * `delegateCommitGraceMs`, and went away for good before the grace ended. Alice adds bob.
 *
 * And an equal delegate's acceptance whose add step has not come when the grace ends: the other
 * admin adds the joiner too, and the two add steps (a fork) converge on one chain.
 */
import { toHex } from "@orgchat/base";
import type { Roster } from "@orgchat/crypto";
import type { OrgState } from "@orgchat/state";
import { afterEach, describe, expect, it } from "vitest";
import { fromHex } from "../src/encoding.js";
import { storedGroups } from "../src/inspect.js";
import { joinerRecommitLimits, joinersToAdd } from "../src/joiner-recommits.js";
import { delegateCommitGraceMs } from "../src/owner-follow.js";
import { adminWithOwnerAway, asks, holdKeysTopic, type Peer, received, World } from "./helpers.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const holds = async (peer: Peer, orgId: string, id: string): Promise<boolean> => {
  const group = (await storedGroups(peer.store, orgId, "member")).get("");
  return (
    group?.roster.some((leaf) => leaf !== undefined && toHex(leaf.identityKey) === id) ?? false
  );
};

describe("a joiner a delegate's state lists again", () => {
  it("is added by the delegate that accepted it, with the owner away", async () => {
    const w = new World();
    world = w;
    const { owner, members, orgId } = await adminWithOwnerAway(w, ["alice", "dave"]);
    const [alice, dave] = members as [Peer, Peer];
    const { bob, requestId } = await asks(w, orgId, "bob");
    await alice.client.acceptRequest(orgId, requestId);
    await w.settle();
    const bobId = bob.client.memberId;
    expect(await holds(alice, orgId, bobId)).toBe(true);
    // The owner comes back live only: it never reads alice's acceptance. Its events take clocks
    // past it, and its removal of dave (a commit on the parent of alice's add step: it wins there)
    // comes with a description that covers the acceptance's clock and does not list bob.
    const withHistory = owner.transport;
    owner.transport = w.network.transport({ name: "owner-live", history: false });
    w.peers.push(owner);
    await w.resume(owner);
    for (let i = 0; i < 6; i++) await owner.client.setTags(orgId, [`t${i}`]);
    await owner.client.removeMember(orgId, dave.client.memberId);
    await w.settle();
    expect(alice.client.getOrganization(orgId).members.has(bobId)).toBe(false);
    expect(await holds(alice, orgId, bobId)).toBe(false);
    // Back with its history: it folds alice's acceptance (its description lists bob again) and
    // leaves bob's add to alice; then it goes away for good, before the grace ends.
    await w.stop(owner);
    owner.transport = withHistory;
    await w.resume(owner);
    expect(alice.client.getOrganization(orgId).members.has(bobId)).toBe(true);
    await w.stop(owner);
    w.peers.splice(w.peers.indexOf(owner), 1);
    await w.advance(120_000);
    expect(await holds(alice, orgId, bobId)).toBe(true);
    await alice.client.sendMessage(orgId, "general", "hello bob");
    await w.settle();
    expect(received(bob, orgId)).toContain("hello bob");
  });

  it("an equal delegate's: added at the grace's end, the two add steps converge", async () => {
    const w = new World();
    world = w;
    const { owner, members, orgId } = await adminWithOwnerAway(w, ["alice", "carol", "dave"]);
    const [alice, carol, dave] = members as [Peer, Peer, Peer];
    // The owner makes carol an admin too, then goes away for good.
    w.peers.push(owner);
    await w.resume(owner);
    await owner.client.setRoles(orgId, carol.client.memberId, ["all"]);
    await w.settle();
    await w.stop(owner);
    w.peers.splice(w.peers.indexOf(owner), 1);
    const { bob, requestId } = await asks(w, orgId, "bob");
    const bobId = bob.client.memberId;
    // Alice's add step (its roster and chunk) is held on its way; her acceptance is not.
    const hold = holdKeysTopic(alice, orgId);
    try {
      await alice.client.acceptRequest(orgId, requestId);
      await w.settle();
      expect(hold.held.length).toBeGreaterThan(0);
      expect(carol.client.getOrganization(orgId).members.has(bobId)).toBe(true);
      expect(await holds(carol, orgId, bobId)).toBe(false);
      await w.advance(delegateCommitGraceMs - 1_000);
      expect(await holds(carol, orgId, bobId)).toBe(false);
      await w.advance(1_000);
      // Carol's add step, on the parent of alice's.
      expect(await holds(carol, orgId, bobId)).toBe(true);
    } finally {
      await hold.release();
    }
    await w.advance(60_000);
    const epochOf = async (peer: Peer) =>
      toHex((await storedGroups(peer.store, orgId, "member")).get("")?.keyId ?? new Uint8Array());
    const one = await epochOf(alice);
    for (const peer of [carol, dave, bob]) expect(await epochOf(peer)).toBe(one);
    expect(await holds(alice, orgId, bobId)).toBe(true);
    await alice.client.sendMessage(orgId, "general", "from alice");
    await carol.client.sendMessage(orgId, "general", "from carol");
    await w.settle();
    expect(received(bob, orgId)).toEqual(expect.arrayContaining(["from alice", "from carol"]));
    expect(received(dave, orgId)).toEqual(expect.arrayContaining(["from alice", "from carol"]));
  });
});

describe("joinersToAdd", () => {
  const id = (n: number) => n.toString(16).padStart(64, "0");
  const [owner, me, peer, manager] = [id(1), id(2), id(3), id(4)];
  /** A state whose members `joiners` were accepted by `decider(i)` (requests, or invitations). */
  const stateOf = (joiners: readonly string[], decider: (i: number) => string): OrgState => {
    const members = new Map<string, { roles: string[] }>([
      [me, { roles: ["all"] }],
      [peer, { roles: ["all"] }],
      [manager, { roles: ["manage-users"] }],
    ]);
    for (const joiner of joiners) members.set(joiner, { roles: [] });
    const requests = joiners.map((requester, i) => ({
      requester,
      status: "accepted",
      decidedBy: decider(i),
      decidedAt: BigInt(10 + i),
    }));
    return {
      organizationId: owner,
      members,
      requests: new Map(requests.map((r, i) => [`r${i}`, r])),
      invitations: new Map(),
    } as unknown as OrgState;
  };
  const leafOf = (member: string) => ({
    identityKey: fromHex(member),
    signingKey: new Uint8Array(32),
    prekey: new Uint8Array(32),
  });

  it("its own at once, an equal delegate's later, a lower rank's never, the roster's none", () => {
    const joiners = [id(10), id(11), id(12), id(13), id(14)];
    const deciders = [me, peer, manager, me, owner];
    const state = stateOf(joiners, (i) => deciders[i] as string);
    const roster: Roster = [leafOf(owner), leafOf(me), leafOf(id(13))];
    const picked = joinersToAdd(state, [...joiners, me, owner], me, roster);
    expect(picked).toEqual({ now: [id(10)], later: [id(11)], unknown: [] });
    // An acceptance the state does not record (a description's state): the desk decides.
    expect(
      joinersToAdd(
        stateOf([], () => me),
        [id(20)],
        me,
        roster,
      ).unknown,
    ).toEqual([id(20)]);
  });

  it("looks at most maxPerOrg members of one unit of work", () => {
    const joiners = Array.from({ length: joinerRecommitLimits.maxPerOrg + 50 }, (_, i) =>
      id(100 + i),
    );
    const picked = joinersToAdd(
      stateOf(joiners, () => me),
      joiners,
      me,
      [],
    );
    expect(picked.now).toHaveLength(joinerRecommitLimits.maxPerOrg);
  });
});
