/**
 * The owner's fork book (`owner-forks.ts`): the commit references it keeps are bounded (every byte
 * from the network is hostile: a delegate's rosters name them), the newest epochs kept. The
 * switch itself is tested end to end in `fork-convergence.test.ts` (owner replays) and in the
 * crypto package (`owner-forks.test.ts`).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ownerForkLimits, pruneOwnerRefs, type Ref } from "../src/owner-forks.js";

const ref = (epoch: number): Ref => ({ signer: "ab".repeat(32), clock: 1n, epoch: BigInt(epoch) });

describe("the owner's commit references", () => {
  it("keeps at most maxRefs, those of the newest epochs", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(10_000), { minLength: 200, maxLength: 600 }), (epochs) => {
        const refs = new Map<string, Ref>();
        for (const [i, epoch] of epochs.entries()) {
          refs.set(`k${i}`, ref(epoch));
          pruneOwnerRefs(refs);
        }
        expect(refs.size).toBe(Math.min(epochs.length, ownerForkLimits.maxRefs));
        if (refs.size < ownerForkLimits.maxRefs) return;
        // The newest epoch is never the one dropped.
        const kept = [...refs.values()].map((r) => r.epoch);
        const newest = [...epochs].sort((a, b) => b - a)[0] as number;
        expect(kept.some((e) => e === BigInt(newest))).toBe(true);
      }),
      { seed: 15, numRuns: 50 },
    );
  });
});
