/**
 * Issue #13, row 4: join requests from fresh keys. Secure outcome (RULES R4): a request dated ahead
 * of the owner's clock is refused; a full queue answers a newcomer with an explicit rejection, never
 * silence; strangers' sessions and keys are kept only while their request is pending.
 */
import { describe, expect, it } from "vitest";
import {
  type Arena,
  type ArenaPeer,
  arenaOrg,
  arenaView,
  eventsOf,
} from "../../src/adversary/index.ts";
import { arenas } from "./hooks.ts";

const open = arenas();

const hour = 3_600_000;
const day = 24 * hour;
const year = 365 * day;

/** Pairwise sessions and member keys the owner stores, one record each. */
async function strangerRecords(owner: ArenaPeer, orgId: string): Promise<number> {
  const space = `org/${orgId}`;
  const sessions = await owner.store.keys(space, { prefix: "pairwise/" });
  const keys = await owner.store.keys(space, { prefix: "memberkeys/" });
  return Math.max(sessions.length, keys.length);
}

/**
 * A newcomer asks to join; the owner must either hold its request (pending, so it can accept it) or
 * have told it no (`request:rejected`): never silence.
 */
async function newcomerIsAnswered(arena: Arena, owner: ArenaPeer, orgId: string): Promise<void> {
  const newcomer = await arena.peer("newcomer");
  await newcomer.client.discover(orgId);
  const requestId = await newcomer.client.requestToJoin(orgId, { displayName: "newcomer" });
  await arena.advance(10 * 60_000, 60_000);
  const held = owner.client
    .listRequests(orgId)
    .some((r) => r.id === requestId && r.status === "pending");
  const rejected = eventsOf(newcomer, "request:rejected").some((e) => e.requestId === requestId);
  expect(
    held || rejected,
    "the newcomer's request is held by the owner or explicitly rejected",
  ).toBe(true);
  if (held) {
    await owner.client.acceptRequest(orgId, requestId);
    await arena.advance(60_000, 5_000);
    expect(arenaView(newcomer, orgId)?.role).toBe("member");
  }
}

describe("row 4: join requests from fresh keys", () => {
  it("100 requests dated 10 years ahead are refused; a genuine newcomer 8 days later is answered", async () => {
    const arena = open({ seed: 40 });
    const { owner, members, orgId } = await arenaOrg(arena, ["bob"]);
    const clock = () => arena.clock.now() + 10 * year;
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const stranger = await arena.hostile(`stranger ${i}`, { now: clock });
      const at = owner.client.getOrganization(orgId).clock + 1n;
      ids.push(await stranger.requestToJoin(orgId, { clock: at }));
    }
    await arena.settle();
    const pending = owner.client.listRequests(orgId).filter((r) => r.status === "pending");
    expect(
      pending.filter((r) => ids.includes(r.id)),
      "future-dated requests held",
    ).toEqual([]);
    expect(await strangerRecords(owner, orgId)).toBeLessThanOrEqual(
      members.length + pending.length,
    );

    await arena.advance(8 * day, 12 * hour);
    await newcomerIsAnswered(arena, owner, orgId);
  });

  it("150 honest-looking requests from fresh keys: the newcomer is still answered, and strangers' sessions stay bounded by the pending requests", async () => {
    const arena = open({ seed: 41 });
    const { owner, members, orgId } = await arenaOrg(arena, ["bob"]);
    for (let i = 0; i < 150; i++) {
      const stranger = await arena.hostile(`stranger ${i}`);
      const at = owner.client.getOrganization(orgId).clock + 1n;
      await stranger.requestToJoin(orgId, { clock: at });
    }
    await arena.settle();
    const pending = owner.client.listRequests(orgId).filter((r) => r.status === "pending");
    expect(await strangerRecords(owner, orgId)).toBeLessThanOrEqual(
      members.length + pending.length,
    );
    await newcomerIsAnswered(arena, owner, orgId);
    const after = owner.client.listRequests(orgId).filter((r) => r.status === "pending");
    expect(await strangerRecords(owner, orgId)).toBeLessThanOrEqual(
      members.length + 1 + after.length,
    );
  });
});
