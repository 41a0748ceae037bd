/**
 * Issue #13, row 1 (clock bomb) and row 9 (author-chosen clock and `sentAt` on posts).
 *
 * Row 1, secure outcome (RULES R1): after any remote clock — a member's post in a public or an
 * encrypted organization, or an outsider's request to join, clocked near 2^63 − 1 or 2^64 − 1 —
 * the owner can still send, edit and ban the attacker, members can still send, also after a
 * restart.
 *
 * Row 9, secure outcome (R8): where a post's `sentAt` disagrees with the time it was received,
 * views show the received time (`shownAt`), and keep both (`sentAt`, `receivedAt`).
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

const maxInt63 = 2n ** 63n - 1n;
const maxUint64 = 2n ** 64n - 1n;
const minute = 60_000;

const texts = (peer: ArenaPeer) => eventsOf(peer, "message:received").map((e) => e.message.text);

/**
 * After the bomb: the owner sends, edits a message and the description, bans the attacker; the
 * honest member sends; both restart and do it again; each message reaches the other side.
 */
async function ownerAndMemberStillAct(
  arena: Arena,
  owner: ArenaPeer,
  member: ArenaPeer,
  orgId: string,
  attacker: string,
): Promise<void> {
  for (const round of ["before restart", "after restart"]) {
    if (round === "after restart") {
      await arena.restart(owner);
      await arena.restart(member);
    }
    const sent = await owner.client.sendMessage(orgId, "general", `owner ${round}`);
    await owner.client.editMessage(orgId, sent.id, `owner ${round} (edited)`);
    await owner.client.editIdentity(orgId, { description: `edited ${round}` });
    await member.client.sendMessage(orgId, "general", `member ${round}`);
    await arena.settle();
    expect(texts(member)).toContain(`owner ${round}`);
    expect(texts(owner)).toContain(`member ${round}`);
    expect(member.client.history(orgId, "general").find((m) => m.id === sent.id)?.text).toBe(
      `owner ${round} (edited)`,
    );
  }
  await owner.client.banMember(orgId, attacker);
  await arena.settle();
  expect(owner.client.getOrganization(orgId).banned).toContain(attacker);
  expect(member.client.getOrganization(orgId).banned).toContain(attacker);
  expect(owner.client.getOrganization(orgId).clock).toBeLessThanOrEqual(maxInt63);
}

describe("row 1: clock bomb", () => {
  for (const clock of [maxInt63, maxUint64]) {
    it(`a member's post in a public organization clocked ${clock}`, async () => {
      const arena = open({ seed: 11 });
      const { owner, members, orgId } = await arenaOrg(arena, ["alice", "bob"], {
        encrypted: false,
      });
      const [alice, bob] = members as [ArenaPeer, ArenaPeer];
      const { hostile: attacker } = await arena.turn(alice, orgId);
      await attacker.publish(
        channelTopic(keyOf(orgId), "general"),
        await attacker.publicPost(orgId, { clock, text: "bomb" }),
      );
      await arena.settle();
      await ownerAndMemberStillAct(arena, owner, bob, orgId, attacker.memberId);
    });
  }

  it("a member's post in an encrypted organization clocked 2^64 − 1", async () => {
    const arena = open({ seed: 12 });
    const { owner, members, orgId } = await arenaOrg(arena, ["alice", "bob"]);
    const [alice, bob] = members as [ArenaPeer, ArenaPeer];
    const turned = await arena.turn(alice, orgId);
    const attacker = turned.hostile;
    const group = turned.group();
    await attacker.publish(
      channelTopic(keyOf(orgId), "general"),
      attacker.groupPost(group, orgId, { clock: maxUint64, text: "bomb" }),
    );
    await arena.settle();
    await ownerAndMemberStillAct(arena, owner, bob, orgId, attacker.memberId);
  });

  for (const clock of [maxInt63, maxUint64]) {
    it(`an outsider's request to join clocked ${clock}`, async () => {
      const arena = open({ seed: 13 });
      const { owner, members, orgId } = await arenaOrg(arena, ["bob"]);
      const [bob] = members as [ArenaPeer];
      const attacker = await arena.hostile("mallory");
      await attacker.requestToJoin(orgId, { clock });
      await arena.settle();
      await ownerAndMemberStillAct(arena, owner, bob, orgId, attacker.memberId);
    });
  }
});

describe("row 9: author-chosen sentAt on posts", () => {
  const year = 365 * 24 * 60 * minute;
  for (const [what, offset] of [
    ["two years back", -2 * year],
    ["a year ahead", year],
  ] as const) {
    it(`a member's post dated ${what} is shown at the time it was received`, async () => {
      const arena = open({ seed: 90 });
      const { members, orgId } = await arenaOrg(arena, ["alice", "bob"]);
      const [alice, bob] = members as [ArenaPeer, ArenaPeer];
      const turned = await arena.turn(alice, orgId);
      const attacker = turned.hostile;
      const group = turned.group();
      const receivedAt = arena.clock.now();
      await attacker.publish(
        channelTopic(keyOf(orgId), "general"),
        attacker.groupPost(group, orgId, {
          clock: 1n,
          sentAt: receivedAt + offset,
          text: `dated ${what}`,
        }),
      );
      await arena.settle();
      // Shown at the time it arrived, never at the time it claims; the claim is kept.
      const shown = bob.client.history(orgId, "general").find((m) => m.text === `dated ${what}`);
      expect(shown, "a member's post is shown").toBeDefined();
      if (shown !== undefined) {
        expect(
          Math.abs(shown.shownAt - receivedAt),
          "time shown vs time received",
        ).toBeLessThanOrEqual(2 * minute);
        expect(Math.abs(shown.receivedAt - receivedAt)).toBeLessThanOrEqual(2 * minute);
        expect(shown.sentAt).toBe(receivedAt + offset);
      }
    });
  }
});
