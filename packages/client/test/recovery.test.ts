import { afterEach, describe, expect, it } from "vitest";
import { isFreshKeysPendingError } from "../src/errors.ts";
import {
  names,
  orgWithMembers,
  type Peer,
  publishFullDescription,
  received,
  World,
} from "./helpers.js";

let world: World;
afterEach(async () => {
  await world.close();
});

const recoveryEvents = [
  "message:waiting-for-key",
  "resync:requested",
  "epoch:changed",
  "message:received",
  "message:undecryptable",
] as const;

describe("no missing keys", () => {
  it("a member that missed a KeyUpdate recovers it from history; the message waits, then arrives once", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob", "carol"]);
    const [alice, , carol] = members as [Peer, Peer, Peer];
    carol.events.length = 0;
    // Carol is cut off while the owner removes alice: the roster and KeyUpdate reach history only.
    world.network.partition([[carol.transport]]);
    await owner.client.removeMember(orgId, alice.client.memberId);
    await world.settle();
    world.network.heal();
    await owner.client.sendMessage(orgId, "general", "new epoch");
    await world.settle();
    expect(received(carol)).toEqual(["new epoch"]);
    expect(names(carol.events, recoveryEvents)).toEqual([
      "message:waiting-for-key",
      "epoch:changed",
      "message:received",
    ]);
  });

  it("when history lacks it, the member asks the owner for a resync over the pairwise channel", async () => {
    world = new World({ republishIntervalMs: 60_000 });
    const { owner, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    // Carol's transport has no store: what she misses live is gone for her.
    const carol = await world.peer("carol", { history: false });
    await carol.client.discover(orgId).catch(() => undefined);
    // Without history she cannot discover: let the owner's next description reach her live.
    await publishFullDescription(world, owner, orgId, "republish");
    const requestId = await carol.client.requestToJoin(orgId);
    await world.settle();
    await owner.client.acceptRequest(orgId, requestId);
    await world.settle();
    expect(carol.client.getOrganization(orgId).role).toBe("member");
    carol.events.length = 0;
    const alice = world.peers.find((p) => p.name === "alice") as Peer;
    world.network.partition([[carol.transport]]);
    await owner.client.removeMember(orgId, alice.client.memberId);
    await world.settle();
    world.network.heal();
    await owner.client.sendMessage(orgId, "general", "after the gap");
    await world.settle();
    // Nothing owner-signed that carol holds names the message's epoch (she missed its roster and
    // has no history): it waits silently, and asks nobody for anything (docs/SECURITY.md, "Unknown
    // key ids"), until the owner's periodic republish of its rosters shows her the newer epoch.
    expect(names(carol.events, recoveryEvents)).toEqual([]);
    await world.advance(60_000);
    expect(received(carol)).toEqual(["after the gap"]);
    expect(names(carol.events, recoveryEvents)).toEqual([
      "message:waiting-for-key",
      "resync:requested",
      "epoch:changed",
      "message:received",
    ]);
    expect(names(owner.events, ["resync:requested"])).toEqual(["resync:requested"]);
    // Back to normal afterwards.
    await owner.client.sendMessage(orgId, "general", "steady");
    await world.settle();
    expect(received(carol)).toEqual(["after the gap", "steady"]);
  });

  it("a batch of three removals inside the window is one epoch change", async () => {
    world = new World({ rekeyWindowMs: 1_000 });
    const { owner, members, orgId } = await orgWithMembers(world, ["a", "b", "c", "d"]);
    const [a, b, c, d] = members as [Peer, Peer, Peer, Peer];
    const epochBefore = owner.client.getOrganization(orgId).epoch as bigint;
    owner.events.length = 0;
    d.events.length = 0;
    await owner.client.removeMember(orgId, a.client.memberId);
    await owner.client.banMember(orgId, b.client.memberId);
    await owner.client.removeMember(orgId, c.client.memberId);
    await world.settle();
    expect(owner.client.getOrganization(orgId).epoch).toBe(epochBefore);
    await world.advance(1_000);
    expect(owner.client.getOrganization(orgId).epoch).toBe(epochBefore + 1n);
    expect(names(owner.events, ["epoch:changed"])).toEqual(["epoch:changed"]);
    expect(names(d.events, ["epoch:changed"])).toEqual(["epoch:changed"]);
    await owner.client.sendMessage(orgId, "general", "only d");
    await world.settle();
    expect(received(d)).toEqual(["only d"]);
    for (const gone of [a, b, c]) expect(received(gone)).toEqual([]);
  });

  it("the owner sending inside the window re-keys first: nothing it writes after a ban is in the old epoch", async () => {
    world = new World({ rekeyWindowMs: 1_000 });
    const { owner, members, orgId } = await orgWithMembers(world, ["a", "b"]);
    const [a, b] = members as [Peer, Peer];
    const epochBefore = owner.client.getOrganization(orgId).epoch as bigint;
    await owner.client.banMember(orgId, b.client.memberId);
    expect(owner.client.getOrganization(orgId).epoch).toBe(epochBefore);
    // No time passes: the send runs the pending re-key, its KeyUpdate goes out before the message.
    await owner.client.sendMessage(orgId, "general", "after the ban");
    expect(owner.client.getOrganization(orgId).epoch).toBe(epochBefore + 1n);
    await world.settle();
    expect(received(a)).toEqual(["after the ban"]);
    expect(received(b)).toEqual([]);
    // The window's timer finds nothing left to do: one epoch change in all.
    await world.advance(1_000);
    expect(owner.client.getOrganization(orgId).epoch).toBe(epochBefore + 1n);
  });

  it("a member sends nothing in an epoch whose roster still holds a banned member (until the re-key)", async () => {
    world = new World({ rekeyWindowMs: 1_000 });
    const { owner, members, orgId } = await orgWithMembers(world, ["a", "b"]);
    const [a, b] = members as [Peer, Peer];
    const epochBefore = a.client.getOrganization(orgId).epoch as bigint;
    await owner.client.banMember(orgId, b.client.memberId);
    await world.settle();
    // A knows of the ban (the description), the KeyUpdate waits for the window.
    expect(a.client.getOrganization(orgId).banned).toContain(b.client.memberId);
    expect(a.client.getOrganization(orgId).epoch).toBe(epochBefore);
    const refused = await a.client.sendMessage(orgId, "general", "too early").catch((e) => e);
    expect(isFreshKeysPendingError(refused)).toBe(true);
    expect((refused as { reason: string }).reason).toBe("removal");
    await world.advance(1_000);
    expect(a.client.getOrganization(orgId).epoch).toBe(epochBefore + 1n);
    await a.client.sendMessage(orgId, "general", "after the re-key");
    await world.settle();
    expect(received(owner)).toContain("after the re-key");
    expect(received(b)).toEqual([]);
  });

  it("the owner sending inside the add window adds first: a member just put on a channel's roster reads it", async () => {
    world = new World({ addWindowMs: 1_000 });
    const { owner, members, orgId } = await orgWithMembers(world, ["a", "b"]);
    const [a, b] = members as [Peer, Peer];
    await owner.client.createChannel(orgId, {
      id: "core",
      name: "core",
      access: "invitation-only",
    });
    await world.settle();
    await owner.client.setChannelMembers(orgId, "core", { [a.client.memberId]: [] });
    // No time passes: the send flushes the pending add, a's Welcome goes out before the message.
    await owner.client.sendMessage(orgId, "core", "right after the roster");
    await world.settle();
    expect(received(a)).toEqual(["right after the roster"]);
    expect(received(b)).toEqual([]);
  });

  it("a channel learnt while catching up is read from history at once: a member back from offline reads what was posted in it", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["a"]);
    const [a] = members as [Peer];
    await world.stop(a);
    await owner.client.createChannel(orgId, { id: "news", name: "news" });
    await owner.client.sendMessage(orgId, "news", "while a was away");
    await world.settle();
    // No sweep runs (no time passes): the catch-up that learns #news reads its history too.
    await world.resume(a);
    expect(received(a)).toEqual(["while a was away"]);
  });
});
