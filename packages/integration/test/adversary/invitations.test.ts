/**
 * Issue #13, row 7: invitation spam. Secure outcome (RULES R7): an invitation is shown
 * (`invitation:received`) and kept pending (bounded); nothing is adopted, stored as an organization
 * or subscribed to until the user accepts it.
 */
import { descriptionTopic } from "@orgchat/wire";
import { describe, expect, it } from "vitest";
import { eventsOf, keyOf } from "../../src/adversary/index.ts";
import { arenas } from "./hooks.ts";

const open = arenas();

describe("row 7: invitation spam", () => {
  it("150 throwaway organizations invite one key: shown, none adopted or subscribed to", async () => {
    const arena = open({ seed: 70 });
    const victim = await arena.peer("victim");
    const spammer = await arena.peer("spammer");
    const orgs: string[] = [];
    for (let i = 0; i < 150; i++) {
      const orgId = await spammer.client.createOrganization({
        name: `Free stuff ${i}`,
        access: "invitation-only",
      });
      await spammer.client.invite(orgId, victim.client.memberId);
      orgs.push(orgId);
      if (i % 25 === 24) await arena.settle();
    }
    await arena.settle();

    expect(eventsOf(victim, "invitation:received").length, "invitations shown").toBeGreaterThan(0);
    const adopted = victim.client.listOrganizations().filter((o) => orgs.includes(o.id));
    expect(adopted, "organizations adopted without the user's accept").toEqual([]);
    const subscribed = orgs.filter((orgId) =>
      victim.transport.counts.subscribed.has(descriptionTopic(keyOf(orgId))),
    );
    expect(subscribed, "throwaway organizations subscribed to").toEqual([]);
    // Across a restart too.
    await arena.restart(victim);
    expect(victim.client.listOrganizations().filter((o) => orgs.includes(o.id))).toEqual([]);
  });
});
