/**
 * Issue #13, row 3: an outsider publishes group messages under key ids nobody holds. Secure outcome
 * (RULES R3): such messages cost a bounded buffer, are never announced as waiting and trigger no
 * recovery; genuine waiting messages are not evicted by them.
 */

import { channelTopic } from "@orgchat/wire";
import { describe, expect, it } from "vitest";
import { type ArenaPeer, arenaOrg, eventsOf, keyOf, total } from "../../src/adversary/index.ts";
import { arenas } from "./hooks.ts";

const open = arenas();

const minute = 60_000;
const hour = 60 * minute;

/** Resync requests a member sent (it emits `resync:requested` for each). */
const resyncs = (peer: ArenaPeer) => eventsOf(peer, "resync:requested").length;
/** History queries a peer made on any topic. */
const queries = (peer: ArenaPeer) => total(peer.transport.counts.historyQueries);

describe("row 3: group messages with unknown key ids", () => {
  it("30 junk messages: at most 2 resync requests per member, none announced as waiting, the owner sends no Welcome for them", async () => {
    const arena = open({ seed: 3 });
    const { owner, members, orgId } = await arenaOrg(arena, ["alice", "bob"]);
    const attacker = await arena.hostile("mallory");
    const topic = channelTopic(keyOf(orgId), "general");
    await arena.advance(hour, minute);
    const before = new Map(
      members.map((m) => [m.name, { resyncs: resyncs(m), queries: queries(m) }]),
    );
    const ownerPublishedBefore = total(owner.transport.counts.published);

    for (let i = 0; i < 30; i++) await attacker.publish(topic, attacker.junkGroupMessage(i, 400));
    await arena.settle();
    // Every back-off a recovery could wait for, in one-minute steps.
    await arena.advance(2 * hour, minute);

    for (const member of members) {
      const was = before.get(member.name);
      expect(
        resyncs(member) - (was?.resyncs ?? 0),
        `${member.name}'s resync requests`,
      ).toBeLessThanOrEqual(2);
      expect(eventsOf(member, "message:waiting-for-key"), `${member.name} announced junk`).toEqual(
        [],
      );
    }
    expect(eventsOf(owner, "resync:requested")).toEqual([]);
    // Welcomes and roster snapshots answer resyncs: the owner publishes nothing because of junk.
    expect(total(owner.transport.counts.published) - ownerPublishedBefore).toBe(0);

    // The organization still works: a genuine message reaches every member.
    await owner.client.sendMessage(orgId, "general", "still here");
    await arena.settle();
    for (const member of members) {
      expect(eventsOf(member, "message:received").map((e) => e.message.text)).toContain(
        "still here",
      );
    }
  });

  it("1,100 junk messages of 140 KiB: at most 10 MB persisted per member", async () => {
    const arena = open({ seed: 31 });
    const { members, orgId } = await arenaOrg(arena, ["alice", "bob"]);
    const attacker = await arena.hostile("mallory");
    const topic = channelTopic(keyOf(orgId), "general");
    const before = new Map<string, number>();
    for (const member of members) before.set(member.name, await member.store.persistedBytes());

    for (let i = 0; i < 1_100; i++) {
      await attacker.publish(topic, attacker.junkGroupMessage(i, 140 * 1024));
      if (i % 100 === 99) await arena.settle();
    }
    await arena.settle();
    await arena.advance(hour, 5 * minute);

    for (const member of members) {
      const grown = (await member.store.persistedBytes()) - (before.get(member.name) ?? 0);
      expect(grown, `bytes ${member.name} persisted for 154 MB of junk`).toBeLessThanOrEqual(
        10_000_000,
      );
    }
  }, 300_000);

  it("a genuine message waiting for its key still arrives under 1,100 junk messages, and no junk is announced (waiting or buffer-full)", async () => {
    const arena = open({ seed: 32 });
    const { owner, members, orgId } = await arenaOrg(arena, ["alice", "bob", "carol"]);
    const [alice, bob, carol] = members as [ArenaPeer, ArenaPeer, ArenaPeer];
    const attacker = await arena.hostile("mallory");
    const topic = channelTopic(keyOf(orgId), "general");
    // Bob misses a re-key (carol removed), then gets the next epoch's message live: it waits.
    arena.network.partition([
      [owner.memory, alice.memory, carol.memory, attacker.transport],
      [bob.memory],
    ]);
    await owner.client.removeMember(orgId, carol.client.memberId);
    await arena.settle();
    arena.network.heal();
    await owner.client.sendMessage(orgId, "general", "genuine, waiting");
    await arena.settle();
    expect(eventsOf(alice, "message:received").map((e) => e.message.text)).toContain(
      "genuine, waiting",
    );

    for (let i = 0; i < 1_100; i++) {
      await attacker.publish(topic, attacker.junkGroupMessage(10_000 + i, 400));
      if (i % 100 === 99) await arena.settle();
    }
    await arena.settle();
    // The sweeps and recoveries that fall due meanwhile bring bob the new epoch.
    await arena.advance(hour, minute);
    expect(eventsOf(bob, "message:received").map((e) => e.message.text)).toContain(
      "genuine, waiting",
    );
    expect(eventsOf(bob, "message:undecryptable"), "messages bob declared lost").toEqual([]);
    expect(
      eventsOf(bob, "message:waiting-for-key").length,
      "messages bob announced as waiting (the genuine one at most)",
    ).toBeLessThanOrEqual(1);
  }, 300_000);
});
