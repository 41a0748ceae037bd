/**
 * Issue #13, row 3 (the owner's side): members asking for resyncs in a loop. Secure outcome (RULES
 * R3): the owner answers resyncs at a bounded rate per member and in total (each answer is a
 * Welcome, and may be a roster snapshot that grows with the organization), so that asking cannot
 * turn the owner into an amplifier. Bounds asserted (docs/SECURITY.md, the client's
 * `resyncAnswerIntervalMs` and its total budget): one answer per member per minute after the first;
 * at most 30 at once for all members together, then one per 2 s.
 */
import { requestsTopic } from "@orgchat/wire";
import { describe, expect, it } from "vitest";
import { type ArenaPeer, arenaOrg, keyOf, total } from "../../src/adversary/index.ts";
import { arenas } from "./hooks.ts";

const open = arenas();
const minute = 60_000;

const resyncRequest = {
  case: "resyncRequest" as const,
  value: {
    channelId: "",
    haveEpoch: 0n,
    haveKeyId: new Uint8Array(0),
    wantedKeyId: new Uint8Array(0),
    descriptionClock: 0n,
  },
};

/** Everything `owner` published so far. */
const published = (owner: ArenaPeer) => total(owner.transport.counts.published);

describe("row 3: resync requests in a loop", () => {
  it("one member asks 200 times over 10 minutes: the owner publishes at most 2 messages (a Welcome and a roster snapshot) per minute for it", async () => {
    const arena = open({ seed: 33 });
    const { owner, members, orgId } = await arenaOrg(arena, ["alice", "bob"]);
    const [alice] = members as [ArenaPeer];
    const turned = await arena.turn(alice, orgId);
    const session = turned.session;
    if (session === undefined) throw new Error("alice holds no session with the owner");
    const topic = requestsTopic(keyOf(orgId));
    const before = published(owner);
    for (let m = 0; m < 10; m++) {
      for (let i = 0; i < 20; i++) {
        await turned.hostile.publish(
          topic,
          await turned.hostile.toOwner(orgId, session, resyncRequest, 1_000n),
        );
      }
      await arena.advance(minute, minute);
    }
    expect(
      published(owner) - before,
      "owner publishes for 200 resync requests",
    ).toBeLessThanOrEqual(2 * (1 + 10));
  });

  it("40 members ask at once: the owner answers at most 30 of them before its budget refills", async () => {
    const arena = open({ seed: 34 });
    const names = Array.from({ length: 40 }, (_, i) => `m${i}`);
    const { owner, members, orgId } = await arenaOrg(arena, names);
    const topic = requestsTopic(keyOf(orgId));
    const turned = [];
    for (const member of members) turned.push(await arena.turn(member, orgId));
    const requests: Array<[(typeof turned)[number]["hostile"], Uint8Array]> = [];
    for (const { hostile, session } of turned) {
      if (session === undefined) throw new Error(`${hostile.name} holds no session`);
      requests.push([hostile, await hostile.toOwner(orgId, session, resyncRequest, 1_000n)]);
    }
    await arena.settle();
    const before = published(owner);
    for (const [hostile, bytes] of requests) await hostile.publish(topic, bytes);
    await arena.settle();
    // Welcomes go to each member's inbox; at most one roster snapshot per group goes with them.
    expect(
      published(owner) - before,
      "owner publishes for 40 simultaneous requests",
    ).toBeLessThanOrEqual(30 + 1);
  }, 120_000);
});
