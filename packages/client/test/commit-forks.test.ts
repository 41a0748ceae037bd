/**
 * Forks (docs/DELEGATION.md, "Concurrent commits converge"): two delegates commit on the same
 * parent epoch with the owner offline. Every member ends on the winner's chain, a message sent on
 * the losing branch is read by everyone, and the losing delegate re-commits its change on the
 * winner. Deterministic: seeded keys, the World's injected clock, a partition to make the fork.
 */
import { toHex } from "@orgchat/base";
import { afterEach, describe, expect, it } from "vitest";
import { storedGroups } from "../src/inspect.js";
import { orgWithMembers, type Peer, received, World } from "./helpers.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Owner, admins alice and carol, members dave, erin, frank; the owner's client is then closed. */
async function twoAdmins() {
  const w = new World();
  world = w;
  const { owner, members, orgId } = await orgWithMembers(w, [
    "alice",
    "carol",
    "dave",
    "erin",
    "frank",
  ]);
  const [alice, carol, dave, erin, frank] = members as [Peer, Peer, Peer, Peer, Peer];
  await owner.client.setRoles(orgId, alice.client.memberId, ["all"]);
  await owner.client.setRoles(orgId, carol.client.memberId, ["all"]);
  await w.settle();
  await w.stop(owner);
  w.peers.splice(w.peers.indexOf(owner), 1);
  return { w, alice, carol, dave, erin, frank, orgId };
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

describe("two delegates commit on the same parent (owner offline)", () => {
  it("alice removes dave while carol removes erin: one chain, both out, everyone reads on", async () => {
    const { w, alice, carol, dave, erin, frank, orgId } = await twoAdmins();
    const before = await groupOf(frank, orgId);
    // Both at once: neither has seen the other's commit.
    w.network.partition([
      [alice.transport, frank.transport, dave.transport],
      [carol.transport, erin.transport],
    ]);
    await alice.client.removeMember(orgId, dave.client.memberId);
    await carol.client.removeMember(orgId, erin.client.memberId);
    await w.settle();
    const [a, c] = [await groupOf(alice, orgId), await groupOf(carol, orgId)];
    expect(a.epoch).toBe(before.epoch + 1n);
    expect(c.epoch).toBe(before.epoch + 1n);
    expect(a.keyId).not.toBe(c.keyId);
    await alice.client.sendMessage(orgId, "general", "from alice's branch");
    await carol.client.sendMessage(orgId, "general", "from carol's branch");
    await w.settle();
    w.network.heal();
    await w.advance(120_000);
    await w.advance(120_000);
    const groups = await Promise.all([alice, carol, frank].map((p) => groupOf(p, orgId)));
    const [first] = groups;
    for (const g of groups) {
      expect(g.keyId).toBe(first?.keyId);
      expect(g.members).not.toContain(dave.client.memberId);
      expect(g.members).not.toContain(erin.client.memberId);
    }
    // Both branches' messages were read by everyone on either side.
    expect(received(frank, orgId)).toEqual(
      expect.arrayContaining(["from alice's branch", "from carol's branch"]),
    );
    expect(received(alice, orgId)).toContain("from carol's branch");
    expect(received(carol, orgId)).toContain("from alice's branch");
    await frank.client.sendMessage(orgId, "general", "after the fork");
    await w.settle();
    expect(received(alice, orgId)).toContain("after the fork");
    expect(received(carol, orgId)).toContain("after the fork");
    expect(received(dave, orgId)).not.toContain("after the fork");
    expect(received(erin, orgId)).not.toContain("after the fork");
  });
});
