/**
 * The end of a delegate's grace (docs/DELEGATION.md, "No owner commit on a delegate's way"): the
 * owner leaves the add of a member a delegate accepted to that delegate for
 * `delegateCommitGraceMs`; when the delegate's add step never reaches it, the owner adds the member
 * itself once the grace ends (owner seed 1, script 32 of fork-convergence.test.ts). The grace's
 * end is armed when the owner folds the decision too, not only by a reconcile that leaves the
 * member to the delegate: an owner online when the decision comes runs no reconcile then.
 */
import { toHex } from "@orgchat/base";
import { keysTopic } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { fromHex } from "../src/encoding.js";
import { storedGroups } from "../src/inspect.js";
import { delegateCommitGraceMs } from "../src/owner-follow.js";
import { asks, orgWithMembers, received, World } from "./helpers.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

type Peer = World["peers"][number];

/** Alice accepts the request; her add step (its roster and chunk, on the keys topic) is lost. */
async function acceptLosingAddStep(
  w: World,
  alice: Peer,
  orgId: string,
  requestId: string,
): Promise<void> {
  const topic = keysTopic(fromHex(orgId));
  const transport = alice.transport;
  const publish = transport.publish.bind(transport);
  let dropped = 0;
  transport.publish = async (contentTopic, payload, options) => {
    if (contentTopic !== topic) return publish(contentTopic, payload, options);
    dropped++;
    return publish(`/dropped/1/${dropped}/proto`, payload, options);
  };
  try {
    await alice.client.acceptRequest(orgId, requestId);
    await w.settle();
  } finally {
    transport.publish = publish;
  }
  expect(dropped).toBeGreaterThan(0);
}

/**
 * The owner leaves bob to alice for the grace, then adds him itself at its end (virtual clock);
 * then everyone ends on one epoch: the owner's message reaches bob and alice.
 */
async function addedAtGraceEnd(w: World, owner: Peer, alice: Peer, bob: Peer, orgId: string) {
  const bobId = bob.client.memberId;
  expect(owner.client.getOrganization(orgId).members.has(bobId)).toBe(true);
  const holdsBob = async () => {
    const group = (await storedGroups(owner.store, orgId, "owner")).get("");
    return group?.roster.some((leaf) => leaf !== undefined && toHex(leaf.identityKey) === bobId);
  };
  expect(await holdsBob()).toBe(false);
  await w.advance(delegateCommitGraceMs - 1_000);
  expect(await holdsBob()).toBe(false);
  await w.advance(1_000);
  expect(await holdsBob()).toBe(true);
  // One chain: alice's lost add step and the owner's are siblings; everyone ends on one epoch.
  await w.advance(delegateCommitGraceMs);
  await owner.client.sendMessage(orgId, "general", "welcome bob");
  await w.settle();
  expect(received(bob, orgId)).toContain("welcome bob");
  expect(received(alice, orgId)).toContain("welcome bob");
}

describe("a delegate's add that never comes", () => {
  it("is the owner's at the grace's end, not before", async () => {
    const w = new World();
    world = w;
    const { owner, members, orgId } = await orgWithMembers(w, ["alice", "carol"]);
    const alice = members[0];
    if (alice === undefined) throw new Error("no alice");
    await owner.client.setRoles(orgId, alice.client.memberId, ["all"]);
    await w.settle();
    await w.stop(owner);
    w.peers.splice(w.peers.indexOf(owner), 1);
    const { bob, requestId } = await asks(w, orgId, "bob");
    await acceptLosingAddStep(w, alice, orgId, requestId);
    // Back: its catch-up folds alice's acceptance, and its full reconcile leaves bob to alice.
    w.peers.push(owner);
    await w.resume(owner);
    await addedAtGraceEnd(w, owner, alice, bob, orgId);
  });

  it("is the owner's at the grace's end when the owner was online all along", async () => {
    const w = new World();
    world = w;
    const { owner, members, orgId } = await orgWithMembers(w, ["alice", "carol"]);
    const alice = members[0];
    if (alice === undefined) throw new Error("no alice");
    await owner.client.setRoles(orgId, alice.client.memberId, ["all"]);
    await w.settle();
    const { bob, requestId } = await asks(w, orgId, "bob");
    // The owner, online, folds alice's acceptance as it comes, and leaves bob's add to alice: no
    // reconcile runs during the grace, so only the fold arms its end.
    await acceptLosingAddStep(w, alice, orgId, requestId);
    await addedAtGraceEnd(w, owner, alice, bob, orgId);
  });
});
