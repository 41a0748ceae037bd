import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { partitionsLeaves } from "../src/epoch-keys-state-encoding.js";
import { nodeProvider } from "../src/providers/node.js";
import { SecretTree } from "../src/secret-tree.js";

// A restored epoch's tree and chains must partition its roster's leaves (each leaf started or still
// derivable, never both): checked per held node's run of leaves, it must agree with the
// leaf-by-leaf `hasLeaf` check on every tree, sound or not.

const provider = nodeProvider();

/** The leaf-by-leaf check (what a restore did before). */
function byLeaf(tree: SecretTree, chains: ReadonlyMap<number, unknown>, leafCount: number) {
  for (let leaf = 0; leaf < leafCount; leaf++) {
    if (chains.has(leaf) === tree.hasLeaf(leaf)) return false;
  }
  return true;
}

describe("partitionsLeaves", () => {
  it("agrees with the leaf-by-leaf check on sound and altered trees and chains", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.constantFrom("sound", "chain added", "chain dropped", "node dropped"),
        fc.nat(),
        (leafCount, takes, change, pick) => {
          const tree = SecretTree.create(provider, new Uint8Array(32).fill(7), leafCount);
          const chains = new Map<number, true>();
          for (const take of takes) {
            const leaf = take % leafCount;
            if (chains.has(leaf)) continue;
            tree.takeLeafSecret(leaf);
            chains.set(leaf, true);
          }
          let nodes = tree.heldNodes();
          if (change === "chain added") chains.set(pick % leafCount, true);
          if (change === "chain dropped" && chains.size > 0) {
            chains.delete([...chains.keys()][pick % chains.size] as number);
          }
          if (change === "node dropped" && nodes.length > 0) {
            nodes = nodes.filter((_, i) => i !== pick % nodes.length);
          }
          const restored = SecretTree.restore(provider, leafCount, nodes);
          const sorted = new Map([...chains].sort((a, b) => a[0] - b[0]));
          expect(partitionsLeaves(nodes, sorted, leafCount)).toBe(
            byLeaf(restored, sorted, leafCount),
          );
        },
      ),
      { seed: 0x1eaf, numRuns: 400 },
    );
  });

  it("refuses a leaf both started and derivable, and a leaf neither", () => {
    const tree = SecretTree.create(provider, new Uint8Array(32).fill(1), 10);
    tree.takeLeafSecret(3);
    const nodes = tree.heldNodes();
    expect(partitionsLeaves(nodes, chainsOn(3), 10)).toBe(true);
    expect(partitionsLeaves(nodes, chainsOn(3, 4), 10)).toBe(false);
    expect(partitionsLeaves(nodes, chainsOn(), 10)).toBe(false);
    // Leaf 0 taken from 16: held runs 1, 2-3, 4-7, 8-15; a chain on a run's first leaf (4).
    const wide = SecretTree.create(provider, new Uint8Array(32).fill(2), 16);
    wide.takeLeafSecret(0);
    const runs = wide.heldNodes();
    expect(partitionsLeaves(runs, chainsOn(0), 16)).toBe(true);
    expect(partitionsLeaves(runs, chainsOn(0, 4), 16)).toBe(false);
    expect(partitionsLeaves(runs, chainsOn(0, 15), 16)).toBe(false);
    // Leaves 0 and 1 taken; chains on 0 and 4: as many as the roster's leaves, but 4 is both and 1
    // neither.
    wide.takeLeafSecret(1);
    const after = wide.heldNodes();
    expect(partitionsLeaves(after, chainsOn(0, 1), 16)).toBe(true);
    expect(partitionsLeaves(after, chainsOn(0, 4), 16)).toBe(false);
  });
});

/** Started chains on `leaves` (ascending). */
function chainsOn(...leaves: number[]): Map<number, true> {
  return new Map(leaves.map((leaf) => [leaf, true]));
}
