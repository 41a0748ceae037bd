/**
 * Issue #13, row 2: a banned or removed member keeps a copy of its group state and posts in an
 * epoch receivers still retain for late messages. Secure outcome (RULES R2): no such post is ever
 * shown or stored, in any channel or retained epoch, backdated or not, while an honest member's
 * in-flight post across the same re-key still arrives (the late-message guarantee stays).
 */
import { channelTopic } from "@orgchat/wire";
import { describe, expect, it } from "vitest";
import { type ArenaPeer, arenaJoin, arenaOrg, eventsOf, keyOf } from "../../src/adversary/index.ts";
import { arenas } from "./hooks.ts";

const open = arenas();

const hour = 3_600_000;

/** Every text `peer` was shown (received, in any channel) or holds in a channel's history. */
function seen(peer: ArenaPeer, orgId: string, channels: readonly string[]): string[] {
  const shown = eventsOf(peer, "message:received").map((e) => e.message.text);
  const held = channels.flatMap((c) => peer.client.history(orgId, c).map((m) => m.text));
  return [...shown, ...held];
}

describe("row 2: posts from a removed member's kept group state", () => {
  for (const how of ["banned", "removed"] as const) {
    it(`a ${how} member's posts in its retained epoch are never shown (at once, backdated, at 23 h, at 25 h, after 3 more epochs); an honest member's in-flight post still arrives`, async () => {
      const arena = open({ seed: 20 });
      const { owner, members, orgId } = await arenaOrg(arena, ["alice", "bob", "carol"]);
      const [alice, bob, carol] = members as [ArenaPeer, ArenaPeer, ArenaPeer];
      const topic = channelTopic(keyOf(orgId), "general");
      const turned = await arena.turn(alice, orgId);
      const attacker = turned.hostile;
      const kept = turned.group();
      // Bob's in-flight post: encrypted in the same epoch, delivered after the re-key.
      const bobTurned = await arena.turn(bob, orgId);
      const bobLate = bobTurned.hostile.groupPost(bobTurned.group(), orgId, {
        clock: 100n,
        text: "bob in flight",
      });

      if (how === "banned") await owner.client.banMember(orgId, alice.client.memberId);
      else await owner.client.removeMember(orgId, alice.client.memberId);
      await arena.settle();
      await bobTurned.hostile.publish(topic, bobLate);
      await arena.settle();
      for (const peer of [owner, carol]) {
        expect(
          seen(peer, orgId, ["general"]),
          `${peer.name}: the late-message guarantee`,
        ).toContain("bob in flight");
      }

      const post = async (text: string, sentAt?: number) => {
        await attacker.publish(
          topic,
          attacker.groupPost(kept, orgId, {
            clock: 50n,
            text,
            ...(sentAt === undefined ? {} : { sentAt }),
          }),
        );
        await arena.settle();
      };
      const bannedAt = arena.clock.now();
      await post("at once");
      await post("backdated", bannedAt - 2 * hour);
      await arena.advance(23 * hour, hour);
      await post("at 23 h");
      await arena.advance(2 * hour, hour);
      await post("at 25 h");
      for (const name of ["dave", "erin", "frank"]) await arenaJoin(arena, owner, orgId, name);
      await post("after 3 more epochs");

      for (const peer of [owner, bob, carol]) {
        const texts = seen(peer, orgId, ["general"]);
        for (const text of ["at once", "backdated", "at 23 h", "at 25 h", "after 3 more epochs"]) {
          expect(texts, `${peer.name} shows the ${how} member's post "${text}"`).not.toContain(
            text,
          );
        }
      }
    });
  }

  it("a banned member's post in a restricted channel's retained epoch is never shown", async () => {
    const arena = open({ seed: 21 });
    const { owner, members, orgId } = await arenaOrg(arena, ["alice", "bob"]);
    const [alice, bob] = members as [ArenaPeer, ArenaPeer];
    await owner.client.createChannel(orgId, {
      id: "board",
      name: "Board",
      access: "on-request",
      private: true,
    });
    await owner.client.setChannelMembers(orgId, "board", {
      [alice.client.memberId]: [],
      [bob.client.memberId]: [],
    });
    await arena.advance(60_000, 5_000);
    const turned = await arena.turn(alice, orgId);
    const attacker = turned.hostile;
    const kept = turned.group("board");
    await owner.client.banMember(orgId, alice.client.memberId);
    await arena.settle();
    await attacker.publish(
      channelTopic(keyOf(orgId), "board"),
      attacker.groupPost(kept, orgId, { channelId: "board", clock: 50n, text: "board after ban" }),
    );
    await arena.settle();
    for (const peer of [owner, bob]) {
      expect(seen(peer, orgId, ["board"])).not.toContain("board after ban");
    }
  });
});
