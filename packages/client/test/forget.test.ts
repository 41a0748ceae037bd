/**
 * `forgetOrganization` (issue #15: a mistyped key left an observer organization nobody could
 * remove): an organization this identity only knows is dropped from memory and from every record of
 * the store; one it owns, belongs to or asked to join is refused with the reason.
 */
import { memoryStore, type Store } from "@orgchat/store";
import { afterEach, describe, expect, it } from "vitest";
import {
  ForgetRefusedError,
  isForgetRefusedError,
  UnknownOrganizationError,
} from "../src/index.js";
import { eventsLog, messagesLog, orgSpace, outboxLog, seenLog } from "../src/persistence.js";
import { names, orgWithMembers, World } from "./helpers.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Every record of `org` in `store` (the index entry, its space, its logs). */
async function recordsOf(store: Store, org: string): Promise<number> {
  let count = (await store.keys("orgs")).filter((key) => key === org).length;
  count += (await store.keys(orgSpace(org))).length;
  for (const log of [eventsLog(org), outboxLog(org), seenLog(org), messagesLog(org, "general")]) {
    count += (await store.range(log)).length;
  }
  return count;
}

describe("forgetOrganization", () => {
  it("forgets what this identity only knows, from memory and store, for good", async () => {
    world = new World();
    const w = world;
    const { owner, orgId } = await orgWithMembers(w, [], { encrypted: false });
    await owner.client.sendMessage(orgId, "general", "before");
    await w.settle();
    const aliceStore = memoryStore();
    const alice = await w.peer("alice", { store: aliceStore });
    await alice.client.discover(orgId);
    await w.settle();
    expect(alice.client.history(orgId, "general").map((m) => m.text)).toEqual(["before"]);
    expect(await recordsOf(aliceStore, orgId)).toBeGreaterThan(3);

    await alice.client.forgetOrganization(orgId);
    expect(alice.client.listOrganizations()).toEqual([]);
    expect(await recordsOf(aliceStore, orgId)).toBe(0);
    expect(() => alice.client.getOrganization(orgId)).toThrow(UnknownOrganizationError);

    // Nothing of it is heard any more, and nothing fails.
    const before = alice.events.length;
    await owner.client.sendMessage(orgId, "general", "after");
    await w.settle();
    expect(names(alice.events.slice(before))).toEqual([]);
    expect(await recordsOf(aliceStore, orgId)).toBe(0);

    // Gone after a restart too; discovering it again starts from nothing.
    await w.restart(alice);
    expect(alice.client.listOrganizations()).toEqual([]);
    await alice.client.discover(orgId);
    await w.settle();
    expect(alice.client.getOrganization(orgId).role).toBe("observer");
  });

  it("refuses the owner, a member and a pending requester, saying what to do; a former member may", async () => {
    world = new World();
    const w = world;
    const { owner, orgId } = await orgWithMembers(w, []);
    const refused = async (client: typeof owner.client, role: string) => {
      const error = await client.forgetOrganization(orgId).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(isForgetRefusedError(error), String(error)).toBe(true);
      expect(error).toBeInstanceOf(ForgetRefusedError);
      expect((error as ForgetRefusedError).role).toBe(role);
    };
    await refused(owner.client, "owner");

    const alice = await w.peer("alice");
    await alice.client.discover(orgId);
    const requestId = await alice.client.requestToJoin(orgId, { displayName: "alice" });
    await w.settle();
    await refused(alice.client, "requester");
    await owner.client.acceptRequest(orgId, requestId);
    await w.settle();
    await refused(alice.client, "member");
    await alice.client.leave(orgId);
    await w.settle();
    await alice.client.forgetOrganization(orgId);
    expect(alice.client.listOrganizations()).toEqual([]);
  });
});
