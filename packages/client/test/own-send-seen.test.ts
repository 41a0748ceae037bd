/**
 * A message this client sends gets no durable seen mark (docs/CLIENT.md, "Persistence"): its event
 * in the events log (its id applied in the state) is what proves it processed, so a restart that
 * reads it again from history drops it before decrypting it, as a received message with a mark.
 */
import { OwnerGroup } from "@orgchat/crypto";
import { afterEach, describe, expect, it } from "vitest";
import { orgWithMembers, type Peer, World } from "./helpers.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("an own send", () => {
  for (const encrypted of [true, false]) {
    it(`writes no seen mark, and is not processed again when a restart reads it from history (${encrypted ? "encrypted" : "public"})`, async () => {
      world = new World();
      const w = world;
      const { owner, members, orgId } = await orgWithMembers(w, ["alice"], { encrypted });
      const [alice] = members as [Peer];
      const mine = await owner.client.sendMessage(orgId, "general", "mine");
      await alice.client.sendMessage(orgId, "general", "theirs");
      await w.settle();
      const seenLog = `seen/${orgId}`;
      expect(await owner.store.getEntry(seenLog, mine.id)).toBeUndefined();
      expect(await owner.store.getEntry(`events/${orgId}`, mine.id)).toBeDefined();

      // Across the restart: what the owner decrypts, and any seen mark it writes for its own send.
      const decrypt = OwnerGroup.prototype.decrypt;
      let decrypted = 0;
      OwnerGroup.prototype.decrypt = function (this: OwnerGroup, ...args) {
        decrypted++;
        return decrypt.apply(this, args);
      };
      const marked: string[] = [];
      const batch = owner.store.batch.bind(owner.store);
      Object.assign(owner.store, {
        batch: (ops: Parameters<typeof batch>[0], options?: Parameters<typeof batch>[1]) => {
          for (const op of ops) {
            if (op.type === "append" && op.log === seenLog) {
              for (const entry of op.entries) marked.push(entry.id);
            }
          }
          return batch(ops, options);
        },
      });
      const reports: string[] = [];
      try {
        await w.restart(owner);
        owner.client.on("diagnostic", (report) => {
          reports.push(report.reason);
        });
        await w.settle();
      } finally {
        OwnerGroup.prototype.decrypt = decrypt;
      }
      // Both messages came again from history: neither was decrypted nor judged again.
      expect(decrypted).toBe(0);
      expect(marked).not.toContain(mine.id);
      expect(reports).toEqual([]);
      expect(owner.client.history(orgId, "general").map((m) => m.text)).toEqual(["mine", "theirs"]);
    });
  }
});
