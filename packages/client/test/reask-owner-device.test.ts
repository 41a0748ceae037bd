/**
 * A request asked again after the owner's device changed (docs/RESTORE.md, "Two owner devices at
 * once"; docs/PROTOCOL.md, "Asked again"): carol asked while the owner was cut off; the owner then
 * resumed on a new device id (`resumeOwner`: every session dropped, the prekey carol's request was
 * sealed to retired). Carol's client sees the new device in the owner's bundle, makes a new session
 * with it (`Restore.ownerDeviceChanged`), and her re-ask (`Membership.askAgain`) carries the same
 * request (same id) over that session: the owner lists it and accepts it, and carol reads its next
 * message.
 */
import { afterEach, describe, expect, it } from "vitest";
import { orgWithMembers, type Peer, received, World } from "./helpers.js";

const periodMs = 10 * 60 * 1000;

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("a request asked again after the owner's device changed", () => {
  it("made to the retired prekey, it reaches the resumed owner over a new session and is accepted", async () => {
    const w = new World({ syncIntervalMs: 30_000, republishIntervalMs: periodMs });
    world = w;
    const { owner, members, orgId } = await orgWithMembers(w, ["alice"]);
    const [alice] = members as [Peer];
    // The owner is cut off: carol's request (to the owner's prekey of now) never reaches it.
    const others = w.peers.filter((p) => p !== owner).map((p) => p.transport);
    const carol = await w.peer("carol");
    w.network.partition([[owner.transport], [...others, carol.transport]]);
    await carol.client.discover(orgId);
    const requestId = await carol.client.requestToJoin(orgId, { displayName: "carol" });
    await w.settle();
    const before = owner.client.ownerDevice(orgId).device;
    const resumed = await owner.client.resumeOwner(orgId);
    await w.settle();
    expect(resumed.device).not.toBe(before);
    const ids = () => owner.client.listRequests(orgId).map((r) => r.id);
    expect(ids()).not.toContain(requestId);
    w.network.heal();

    // The owner's next republish shows its new device; carol's re-ask follows on its back-off.
    for (let i = 0; i < 4; i++) await w.advance(periodMs);
    expect(ids()).toContain(requestId);
    await owner.client.acceptRequest(orgId, requestId);
    await w.settle();
    await owner.client.sendMessage(orgId, "general", "welcome carol");
    await w.settle();
    expect(carol.client.getOrganization(orgId).role).toBe("member");
    expect(received(carol, orgId)).toContain("welcome carol");
    expect(received(alice, orgId)).toContain("welcome carol");
  });
});
