/**
 * A store restored from a backup (docs/RESTORE.md): a member's copy sends nothing in an epoch the
 * device it was copied from may have sent in; an owner's copy keeps its organizations inactive.
 */
import { copyMemoryStore } from "@orgchat/store";
import { afterEach, describe, expect, it } from "vitest";
import { isFreshKeysPendingError, isOwnerRestoredError } from "../src/errors.ts";
import { restoreRefreshIntervalMs } from "../src/owner-requests.ts";
import { markRestored, readRestoreMarker } from "../src/restore-marker.ts";
import { names, orgWithMembers, type Peer, received, World } from "./helpers.ts";

describe("restore from a backup", () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("a restored member sends only from an epoch the owner made after it asked, on a new session", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = members as [Peer, Peer];
    await alice.client.sendMessage(orgId, "general", "before the backup");
    await world.settle();

    // The backup, then the original goes on sending in the same epoch, then is lost.
    const backup = copyMemoryStore(alice.store);
    await alice.client.sendMessage(orgId, "general", "after the backup 1");
    await alice.client.sendMessage(orgId, "general", "after the backup 2");
    await bob.client.sendMessage(orgId, "general", "from bob meanwhile");
    await world.settle();
    const lastOriginalEpoch = alice.client.getOrganization(orgId).epoch ?? 0n;
    await alice.client.close();

    // Restored while the owner is away: nothing can be sent yet, the history still reads.
    await owner.client.close();
    await markRestored(backup, { backupCreatedAt: world.time.now(), restoredAt: world.time.now() });
    const restored = await world.peer("alice-restored", { store: backup });
    expect(restored.client.memberId).toBe(alice.client.memberId);
    expect(await readRestoreMarker(backup)).toBeUndefined();
    await expect(restored.client.sendMessage(orgId, "general", "too early")).rejects.toSatisfy(
      isFreshKeysPendingError,
    );
    expect(await restored.store.keys(`org/${orgId}`, { prefix: "restore" })).toEqual(["restore"]);
    // (Its own sends after the backup are not readable here: a member's own chain is for sending.)
    expect(restored.client.history(orgId, "general").map((m) => m.text)).toContain(
      "from bob meanwhile",
    );

    // The owner comes back, reads the request from history, answers with a fresh epoch.
    await world.restart(owner);
    await world.settle();
    const epoch = restored.client.getOrganization(orgId).epoch ?? 0n;
    expect(epoch).toBeGreaterThan(lastOriginalEpoch);
    expect(owner.client.getOrganization(orgId).epoch).toBe(epoch);
    await restored.client.sendMessage(orgId, "general", "from the restored device");
    await world.settle();
    expect(received(bob)).toEqual([
      "before the backup",
      "after the backup 1",
      "after the backup 2",
      "from the restored device",
    ]);
    expect(received(owner)).toContain("from the restored device");
    // The owner's answers reach the restored device and the others keep reading each other.
    await owner.client.sendMessage(orgId, "general", "welcome back");
    await bob.client.sendMessage(orgId, "general", "hi again");
    await world.settle();
    expect(received(restored).slice(-2)).toEqual(["welcome back", "hi again"]);

    // The restore is over once the fresh epoch is reached: its record is gone.
    expect(await restored.store.keys(`org/${orgId}`, { prefix: "restore" })).toEqual([]);
    // A restart (the mark is gone: no second re-key) changes nothing.
    const epochs = owner.client.getOrganization(orgId).epoch;
    await world.restart(restored);
    await restored.client.sendMessage(orgId, "general", "after a restart");
    await world.settle();
    expect(owner.client.getOrganization(orgId).epoch).toBe(epochs);
    expect(received(bob).at(-1)).toBe("after a restart");
    // The session made after the restore was saved: the owner's answers still open after a restart.
    const entered = names(restored.events, ["epoch:changed"]).length;
    await world.advance(2 * 60 * 1000); // past the owner's one answer per member per minute
    await restored.client.resync(orgId);
    await world.settle();
    expect(names(restored.events, ["epoch:changed"]).length).toBe(entered + 1);
    await restored.client.sendMessage(orgId, "general", "after a resync");
    await world.settle();
    expect(received(bob).at(-1)).toBe("after a resync");
  });

  it("the owner makes at most one fresh epoch per group per interval for restored members", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = members as [Peer, Peer];
    const backupA = copyMemoryStore(alice.store);
    const backupB = copyMemoryStore(bob.store);
    await alice.client.close();
    await bob.client.close();
    const before = owner.client.getOrganization(orgId).epoch ?? 0n;
    for (const backup of [backupA, backupB]) {
      await markRestored(backup, { backupCreatedAt: 0, restoredAt: world.time.now() });
    }
    const a = await world.peer("alice-restored", { store: backupA });
    const b = await world.peer("bob-restored", { store: backupB });
    await world.settle();
    // Alice's request made one fresh epoch; Bob's, inside the interval, made none: he waits.
    expect(owner.client.getOrganization(orgId).epoch).toBe(before + 1n);
    await a.client.sendMessage(orgId, "general", "alice is back");
    await expect(b.client.sendMessage(orgId, "general", "too early")).rejects.toSatisfy(
      isFreshKeysPendingError,
    );
    // His device asks again on its back-off; past the interval the owner makes one more.
    await world.advance(restoreRefreshIntervalMs / 2);
    expect(owner.client.getOrganization(orgId).epoch).toBe(before + 1n);
    await world.advance(restoreRefreshIntervalMs);
    expect(owner.client.getOrganization(orgId).epoch).toBe(before + 2n);
    await b.client.sendMessage(orgId, "general", "bob is back");
    await world.settle();
    expect(received(a).at(-1)).toBe("bob is back");
  });

  it("an owner's restored store keeps its organizations inactive, and says so at every start", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, ["alice"]);
    const backup = copyMemoryStore(owner.store);
    await owner.client.close();
    await markRestored(backup, { backupCreatedAt: 0, restoredAt: world.time.now() });
    const restored = await world.peer("owner-restored", { store: backup });
    expect(restored.client.listOrganizations()).toEqual([]);
    expect(restored.client.listInactiveOrganizations()).toEqual([
      { organizationId: orgId, reason: "owner-restored" },
    ]);
    await expect(restored.client.discover(orgId)).rejects.toSatisfy(isOwnerRestoredError);
    await world.restart(restored);
    expect(await readRestoreMarker(backup)).toBeDefined();
    expect(restored.client.listInactiveOrganizations()).toHaveLength(1);
    // Its records are still there for a later take-over: the original store opens as before.
  });
});

describe("a resync Welcome of the epoch a member is in", () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("goes on with the member's own chain past what it sent (receivers take its next messages)", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice", "bob"]);
    const [alice, bob] = members as [Peer, Peer];
    await alice.client.sendMessage(orgId, "general", "m1");
    await alice.client.sendMessage(orgId, "general", "m2");
    await world.settle();
    const epoch = alice.client.getOrganization(orgId).epoch;
    await alice.client.resync(orgId);
    await world.settle();
    // The owner answered with a Welcome of the same epoch: the group was entered again.
    expect(names(alice.events, ["resync:requested"])).toHaveLength(1);
    expect(alice.client.getOrganization(orgId).epoch).toBe(epoch);
    expect(owner.client.getOrganization(orgId).epoch).toBe(epoch);
    // Starting over would reuse generations 0 and 1 (same key and nonce): Bob would drop m3 as a
    // replay. It goes on past them, also after a restart.
    await alice.client.sendMessage(orgId, "general", "m3");
    await world.settle();
    await world.restart(alice);
    await alice.client.sendMessage(orgId, "general", "m4");
    await world.settle();
    expect(received(bob)).toEqual(["m1", "m2", "m3", "m4"]);
    expect(received(owner)).toEqual(["m1", "m2", "m3", "m4"]);
  });
});
