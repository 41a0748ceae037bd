/**
 * `ownerHeadEpoch`: the epoch a saved owner head is in, read without restoring the group (a client
 * shows it before its owner groups are restored, after the first view).
 */
import { describe, expect, it } from "vitest";
import type { GroupId } from "../src/key-schedule.js";
import { ownerHeadEpoch } from "../src/owner-head-epoch.js";
import { nodeProvider } from "../src/providers/node.js";
import { createOwner, errorNamed, joiner, person as newPerson, type Person } from "./fixtures.js";
import { seeded, seededBytes } from "./seeded-provider.js";

const provider = seeded(nodeProvider(), "owner head epoch");
const random = seededBytes("owner head epoch fixtures");
const person = (): Person => newPerson(provider, () => random(32));
const corrupted = errorNamed("StateCorruptedError");

describe("ownerHeadEpoch", () => {
  it("reads the epoch of every head the owner saves, through adds, removals and a welcome history", () => {
    for (const historyPolicy of ["joined", "shared"] as const) {
      for (const channelId of ["", "a-channel-with-a-longer-id"]) {
        const group: GroupId = { organizationId: provider.ed25519KeyPair().publicKey, channelId };
        const owner = createOwner(person(), { provider, group, now: 0, historyPolicy });
        const seen: bigint[] = [];
        for (let step = 0; step < 6; step++) {
          const parts = owner.takeParts({ all: true });
          expect(ownerHeadEpoch(parts.head)).toBe(owner.epoch);
          seen.push(owner.epoch);
          if (step % 3 === 2) owner.remove([1], step + 1);
          else owner.add([joiner(person())], step + 1);
        }
        // Epochs move on (the peek is not a constant).
        expect(new Set(seen).size).toBe(seen.length);
      }
    }
  });

  it("undefined for the whole state an older client saved; StateCorruptedError for a head cut short", () => {
    const group: GroupId = { organizationId: provider.ed25519KeyPair().publicKey, channelId: "" };
    const owner = createOwner(person(), { provider, group, now: 0 });
    owner.add([joiner(person())], 1);
    expect(ownerHeadEpoch(owner.serialize())).toBeUndefined();
    const head = owner.takeParts({ all: true }).head;
    for (const cut of [40, head.length >> 1]) {
      expect(() => ownerHeadEpoch(head.subarray(0, cut))).toThrow(corrupted);
    }
    const other = head.slice();
    other[0] = (other[0] as number) ^ 1;
    expect(() => ownerHeadEpoch(other)).toThrow(corrupted);
  });
});
