/**
 * An owner restored from a backup carries its organization on (docs/RESTORE.md, "Owner continuity:
 * built"): it reads Store back past the backup, starts every group again above every epoch seen,
 * and members (including one accepted after the backup) follow its new device; a member removed
 * after the backup stays out; a stranger's forged history changes nothing.
 */
import { defaultProvider, ed25519EnvelopeSigner, rosterHash } from "@orgchat/crypto";
import { copyMemoryStore } from "@orgchat/store";
import { descriptionTopic, keysTopic } from "@orgchat/wire";
import { afterEach, describe, expect, it } from "vitest";
import { fromHex, toHex } from "../src/encoding.ts";
import { rosterSnapshotMessages, sealEpochRosters } from "../src/epoch-roster.ts";
import { isOwnerHistoryGapError } from "../src/errors.ts";
import type { OwnerRestoreStep } from "../src/owner-restore.ts";
import { markRestored, readRestoreMarker } from "../src/restore-marker.ts";
import { RosterBook } from "../src/roster-book.ts";
import { loadRosterRecords } from "../src/roster-records.ts";
import { asks, orgWithMembers, type Peer, received, World } from "./helpers.ts";

const provider = defaultProvider();

/** A roster of epoch 1,000 for the organization's group, signed by a key that is not the owner's. */
async function forgedRoster(orgId: string): Promise<{ topic: string; bytes: Uint8Array }> {
  const org = fromHex(orgId);
  const stranger = provider.ed25519KeyPair();
  const leaf = {
    identityKey: stranger.publicKey,
    signingKey: provider.ed25519KeyPair().publicKey,
    prekey: provider.x25519KeyPair().publicKey,
  };
  const roster = [leaf];
  const [sealed] = await sealEpochRosters({
    organizationId: org,
    signer: ed25519EnvelopeSigner(provider, stranger.secretKey),
    clock: 1_000_000n,
    messages: rosterSnapshotMessages({
      change: "rekey",
      channelId: "",
      epoch: 1_000n,
      keyId: provider.randomBytes(8),
      previousKeyId: provider.randomBytes(8),
      rosterHash: rosterHash(provider, roster),
      previousRosterHash: provider.randomBytes(32),
      roster,
    }),
  });
  if (sealed === undefined) throw new Error("nothing sealed");
  return { topic: keysTopic(org), bytes: sealed.bytes };
}

describe("an owner restored from a backup", () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("carries on: members (one accepted after the backup) read it and are read, a member removed after stays out, a forgery changes nothing", async () => {
    // Removals are re-keyed a minute later (the batching window): erin's is still waiting when
    // the owner's device is lost.
    world = new World({ rekeyWindowMs: 60_000 });
    const { owner, members, orgId } = await orgWithMembers(world, [
      "alice",
      "bob",
      "carol",
      "erin",
    ]);
    const [alice, bob, carol, erin] = members as [Peer, Peer, Peer, Peer];
    await owner.client.sendMessage(orgId, "general", "before the backup");
    await world.settle();

    // The backup; then the owner goes on: accepts dave, removes carol, sends.
    const backup = copyMemoryStore(owner.store);
    const backupEpoch = owner.client.getOrganization(orgId).epoch ?? 0n;
    const { bob: dave, requestId } = await asks(world, orgId, "dave");
    await owner.client.acceptRequest(orgId, requestId);
    await world.settle();
    // A restricted channel made after the backup, for alice and dave (the copy holds no group of it).
    await owner.client.createChannel(orgId, {
      id: "board",
      name: "Board",
      access: "on-request",
      private: true,
    });
    await owner.client.setChannelMembers(orgId, "board", {
      [alice.client.memberId]: [],
      [dave.client.memberId]: [],
    });
    await world.settle();
    await owner.client.removeMember(orgId, carol.client.memberId);
    await world.advance(60_000);
    await owner.client.sendMessage(orgId, "general", "after the backup");
    await world.settle();
    expect(received(dave).at(-1)).toBe("after the backup");
    const lastEpoch = owner.client.getOrganization(orgId).epoch ?? 0n;
    // Erin is removed; the device is lost before the removal's re-key.
    await owner.client.removeMember(orgId, erin.client.memberId);
    await world.settle();
    expect(owner.client.getOrganization(orgId).epoch).toBe(lastEpoch);
    expect(lastEpoch).toBeGreaterThan(backupEpoch);

    // A stranger publishes a roster of a far epoch on the group's keys topic.
    const forged = await forgedRoster(orgId);
    await carol.transport.publish(forged.topic, forged.bytes);
    await world.settle();

    // The owner's device is destroyed; a new one is restored from the backup.
    await world.stop(owner);
    world.peers.splice(world.peers.indexOf(owner), 1);
    await markRestored(backup, { backupCreatedAt: world.time.now(), restoredAt: world.time.now() });
    const restored = await world.peer("owner-restored", { store: backup });
    expect(restored.client.listInactiveOrganizations()).toEqual([
      { organizationId: orgId, reason: "owner-restored" },
    ]);
    const steps: OwnerRestoreStep[] = [];
    const resumed = await restored.client.resumeOwner(orgId, {
      onStep: (step) => steps.push(step),
    });
    await world.settle();
    expect(restored.client.listInactiveOrganizations()).toEqual([]);
    expect(await readRestoreMarker(backup)).toBeUndefined();
    // One epoch above every one the original made (the forgery's 1,000 did not count).
    const epoch = restored.client.getOrganization(orgId).epoch;
    expect(epoch).toBe(lastEpoch + 1n);
    expect(steps).toContainEqual({ step: "regenesis", channelId: "", epoch: lastEpoch + 1n });
    expect(resumed.device).toMatch(/^[0-9a-f]{32}$/);
    // The state is Store's: dave is a member, carol is not.
    const view = restored.client.getOrganization(orgId);
    expect(view.members.has(dave.client.memberId)).toBe(true);
    expect(view.members.has(carol.client.memberId)).toBe(false);
    expect(view.members.has(erin.client.memberId)).toBe(false);
    for (const member of [alice, bob, dave]) {
      expect(member.client.getOrganization(orgId).epoch).toBe(epoch);
    }
    // The new epoch's roster: the newest one on Store minus carol, dave in it.
    const space = `org/${orgId}`;
    const book = new RosterBook(provider);
    await loadRosterRecords(restored.store, space, book);
    const current = book.newest("");
    expect(current?.epoch).toBe(epoch);
    const onRoster = (current?.roster ?? []).flatMap((leaf) =>
      leaf === undefined ? [] : [toHex(leaf.identityKey)],
    );
    expect(onRoster.sort()).toEqual(
      [orgId, alice, bob, dave].map((p) => (typeof p === "string" ? p : p.client.memberId)).sort(),
    );

    await restored.client.sendMessage(orgId, "general", "the restored owner speaks");
    await world.settle();
    for (const member of [alice, bob, dave]) {
      expect(received(member).at(-1)).toBe("the restored owner speaks");
    }
    for (const gone of [carol, erin]) {
      expect(received(gone)).not.toContain("the restored owner speaks");
    }
    // The restricted channel made after the backup goes on too, for its members only.
    expect(steps.filter((step) => step.step === "regenesis").map((step) => step.channelId)).toEqual(
      expect.arrayContaining(["", "board"]),
    );
    await restored.client.sendMessage(orgId, "board", "board news");
    await world.settle();
    // (The owner answers one resync request per member per minute: a member's second group comes
    // a minute after its first.)
    await world.advance(2 * 60 * 1000);
    expect(received(alice).at(-1)).toBe("board news");
    expect(received(dave).at(-1)).toBe("board news");
    expect(received(bob)).not.toContain("board news");
    await dave.client.sendMessage(orgId, "general", "dave answers");
    await alice.client.sendMessage(orgId, "general", "alice answers");
    await world.settle();
    expect(received(restored).slice(-2)).toEqual(["dave answers", "alice answers"]);
    expect(received(bob).slice(-2)).toEqual(["dave answers", "alice answers"]);
    expect(received(carol)).not.toContain("dave answers");
    expect(received(erin)).not.toContain("dave answers");

    // A restart keeps it active (its base is saved), and it goes on.
    await world.restart(restored);
    expect(restored.client.listInactiveOrganizations()).toEqual([]);
    expect(restored.client.getOrganization(orgId).members.has(dave.client.memberId)).toBe(true);
    await restored.client.sendMessage(orgId, "general", "after a restart");
    await world.settle();
    expect(received(dave).at(-1)).toBe("after a restart");
  });

  it("refuses in words, sending nothing, when Store does not reach the backup's clock", async () => {
    world = new World();
    const { owner, orgId } = await orgWithMembers(world, ["alice"]);
    const backup = copyMemoryStore(owner.store);
    await world.stop(owner);
    world.peers.splice(world.peers.indexOf(owner), 1);
    await markRestored(backup, { backupCreatedAt: 0, restoredAt: 0 });
    // A device on a network whose Store holds nothing of the organization.
    const empty = new World();
    try {
      const restored = await empty.peer("owner-restored", { store: backup });
      const topics = [descriptionTopic(fromHex(orgId)), keysTopic(fromHex(orgId))];
      const stored = async () =>
        (await restored.transport.queryHistory({ contentTopics: topics, pageSize: 100 })).messages
          .length;
      const error = await restored.client.resumeOwner(orgId).catch((e: unknown) => e);
      expect(isOwnerHistoryGapError(error)).toBe(true);
      expect((error as Error & { hint: string }).hint).toMatch(/Store/);
      expect(restored.client.listInactiveOrganizations()).toHaveLength(1);
      expect(await stored()).toBe(0);
    } finally {
      await empty.close();
    }
  });
  it("an organization resumed stays active across restarts while another owned one is still inactive", async () => {
    world = new World();
    const { owner, members, orgId } = await orgWithMembers(world, ["alice"]);
    const other = await owner.client.createOrganization({ name: "Other", encrypted: true });
    await world.settle();
    const backup = copyMemoryStore(owner.store);
    await world.stop(owner);
    world.peers.splice(world.peers.indexOf(owner), 1);
    await markRestored(backup, { backupCreatedAt: 0, restoredAt: 0 });
    const restored = await world.peer("owner-restored", { store: backup });
    await restored.client.resumeOwner(orgId);
    await world.settle();
    await world.restart(restored);
    expect(restored.client.listInactiveOrganizations()).toEqual([
      { organizationId: other, reason: "owner-restored" },
    ]);
    expect(await readRestoreMarker(backup)).toBeDefined();
    await restored.client.sendMessage(orgId, "general", "still here");
    await world.settle();
    expect(received(members[0] as Peer).at(-1)).toBe("still here");
  });
});
