/**
 * Issue #13, row 8: a group message claiming a far generation (999) with content that never
 * authenticates. Secure outcome (RULES R8): refused cheaply, without deriving or keeping 999
 * generations of keys, and repeatably so (fresh bytes each time). Work is counted as calls into
 * the receiver's crypto provider (deterministic), against the cost of one genuine message.
 */
import { channelTopic } from "@orgchat/wire";
import { describe, expect, it } from "vitest";
import {
  type Arena,
  type ArenaPeer,
  arenaOrg,
  eventsOf,
  keyOf,
} from "../../src/adversary/index.ts";
import { arenas } from "./hooks.ts";

const open = arenas();

/** Provider calls `peer` makes while `step` runs and the arena settles. */
async function callsDuring(
  arena: Arena,
  peer: ArenaPeer,
  step: () => Promise<void>,
): Promise<number> {
  await arena.settle();
  const before = peer.provider.totalCalls();
  await step();
  await arena.settle();
  return peer.provider.totalCalls() - before;
}

describe("row 8: forged far generations", () => {
  it("forged messages claiming generation 999: the chain is walked at most once, each later forgery costs about a genuine message", async () => {
    const arena = open({ seed: 80 });
    const { owner, members, orgId } = await arenaOrg(arena, ["alice", "bob"]);
    const [alice, bob] = members as [ArenaPeer, ArenaPeer];
    const topic = channelTopic(keyOf(orgId), "general");
    const attacker = (await arena.turn(alice, orgId)).hostile;
    const genuine = await callsDuring(arena, bob, async () => {
      await owner.client.sendMessage(orgId, "general", "genuine");
    });
    expect(eventsOf(bob, "message:received").map((e) => e.message.text)).toContain("genuine");

    const forged: number[] = [];
    for (let i = 0; i < 3; i++) {
      // A fresh copy of alice's state each time: each forgery claims a generation not walked yet.
      const group = (await arena.turn(alice, orgId)).group();
      const bytes = attacker.forgedGeneration(group, orgId, 999 - i);
      forged.push(await callsDuring(arena, bob, () => attacker.publish(topic, bytes)));
    }
    // A genuine message costs a handful of calls. The first forgery may make the receiver walk the
    // sender's chain once (one hash per generation claimed, none kept); every later one, with fresh
    // bytes, must cost about a genuine message. Before the fix each cost ~1,500 calls (the walk
    // and the 999 skipped keys derived and kept), every time.
    const [first = 0, ...later] = forged;
    expect(
      first,
      `provider calls for the first forgery (a genuine message: ${genuine})`,
    ).toBeLessThanOrEqual(999 + 4 * genuine + 64);
    for (const [i, calls] of later.entries()) {
      expect(
        calls,
        `provider calls for forgery ${i + 2} (a genuine message: ${genuine})`,
      ).toBeLessThanOrEqual(4 * genuine + 64);
    }
    // The member still receives genuine messages afterwards.
    await owner.client.sendMessage(orgId, "general", "after the forgeries");
    await arena.settle();
    expect(eventsOf(bob, "message:received").map((e) => e.message.text)).toContain(
      "after the forgeries",
    );
  });
});
