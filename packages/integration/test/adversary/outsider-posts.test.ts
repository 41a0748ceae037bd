/**
 * Issue #13, row 5: an outsider floods a public organization with signed posts from fresh keys.
 * Secure outcome (RULES R5): none is shown, and refused events from non-members are not persisted
 * beyond a small bounded quota: 500 × 100 KB → at most 5 MB persisted per member, and a restart does
 * not re-process the flood.
 */
import { channelTopic } from "@orgchat/wire";
import { describe, expect, it } from "vitest";
import { arenaOrg, eventsOf, keyOf } from "../../src/adversary/index.ts";
import { arenas } from "./hooks.ts";

const open = arenas();

describe("row 5: outsider posts in a public organization", () => {
  it("500 posts of 100 KB from fresh keys: none shown, at most 5 MB persisted per member, nothing shown after a restart", async () => {
    const arena = open({ seed: 50 });
    const { owner, members, orgId } = await arenaOrg(arena, ["alice", "bob"], { encrypted: false });
    const victims = [owner, ...members];
    const before = new Map<string, number>();
    for (const peer of victims) before.set(peer.name, await peer.store.persistedBytes());
    const topic = channelTopic(keyOf(orgId), "general");
    const text = "x".repeat(100 * 1024);

    for (let i = 0; i < 500; i++) {
      const stranger = await arena.hostile(`stranger ${i}`);
      await stranger.publish(
        topic,
        await stranger.publicPost(orgId, { text, clock: 10n + BigInt(i) }),
      );
      if (i % 50 === 49) await arena.settle();
    }
    await arena.settle();

    for (const peer of victims) {
      expect(
        eventsOf(peer, "message:received").filter((e) => e.message.text === text),
        `${peer.name} shows an outsider's post`,
      ).toEqual([]);
      const grown = (await peer.store.persistedBytes()) - (before.get(peer.name) ?? 0);
      expect(grown, `bytes ${peer.name} persisted for 50 MB of outsider posts`).toBeLessThanOrEqual(
        5_000_000,
      );
    }

    const alice = members[0];
    if (alice === undefined) throw new Error("no member");
    // The flood is in alice's history (store node); a restart reads it again: still nothing shown.
    await arena.restart(alice);
    expect(eventsOf(alice, "message:received").filter((e) => e.message.text === text)).toEqual([]);
  }, 300_000);
});
