import { inspect } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expandWithLabel } from "../src/kdf.js";
import type { CryptoProvider } from "../src/provider.js";
import { nobleProvider } from "../src/providers/noble.js";
import { nodeProvider } from "../src/providers/node.js";
import { SecretTree } from "../src/secret-tree.js";
import { hex } from "./fixtures.js";

const noble = nobleProvider();
const encoder = new TextEncoder();
const rootSecret = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 ^ i);

/**
 * Reference leaf secret, independent of the array index arithmetic: halve the leaf range of the full
 * (power-of-two) tree from the root down, taking "left" or "right" each time.
 */
function referenceLeafSecret(
  provider: CryptoProvider,
  root: Uint8Array,
  leafCount: number,
  leaf: number,
) {
  let size = 1;
  while (size < leafCount) size *= 2;
  let low = 0;
  let secret = root;
  while (size > 1) {
    size /= 2;
    const left = leaf < low + size;
    secret = expandWithLabel(provider, secret, "tree", encoder.encode(left ? "left" : "right"), 32);
    if (!left) low += size;
  }
  return secret;
}

/** A provider that records every HKDF-Expand output, to check later that consumed nodes were wiped. */
function recording(provider: CryptoProvider): { provider: CryptoProvider; outputs: Uint8Array[] } {
  const outputs: Uint8Array[] = [];
  return {
    outputs,
    provider: {
      ...provider,
      hkdfExpand(prk, info, length) {
        const out = provider.hkdfExpand(prk, info, length);
        outputs.push(out);
        return out;
      },
    },
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe.each([noble, nodeProvider()])("SecretTree ($name)", (provider) => {
  it.each([1, 2, 3, 5, 100])(
    "N = %i: every leaf matches the reference, in any order, and the tree empties",
    (n) => {
      const forward = SecretTree.create(provider, rootSecret.slice(), n);
      const backward = SecretTree.create(provider, rootSecret.slice(), n);
      const a = range(n).map((leaf) => forward.takeLeafSecret(leaf));
      const b = range(n)
        .reverse()
        .map((leaf) => backward.takeLeafSecret(leaf))
        .reverse();
      expect(a.map(hex)).toEqual(b.map(hex));
      expect(a.map(hex)).toEqual(
        range(n).map((leaf) => hex(referenceLeafSecret(provider, rootSecret, n, leaf))),
      );
      expect(new Set(a.map(hex)).size).toBe(n);
      expect(forward.heldNodeCount).toBe(0);
      expect(backward.heldNodeCount).toBe(0);
    },
  );

  it("N = 1: the root is leaf 0, so the leaf secret is enc_secret", () => {
    const tree = SecretTree.create(provider, rootSecret.slice(), 1);
    expect(tree.holdsNode(0)).toBe(true);
    expect(tree.takeLeafSecret(0)).toEqual(rootSecret);
    expect(tree.heldNodeCount).toBe(0);
  });

  it("N = 10,000 (sampled leaves): lazy, two instances agree with each other and the reference", () => {
    const n = 10_000;
    const fixed = [0, 1, 2, 4095, 4096, 8191, 8192, 9998, 9999];
    const sampled = fc.sample(fc.integer({ min: 0, max: n - 1 }), { numRuns: 40, seed: 0x5ec7e7 });
    const leaves = [...new Set([...fixed, ...sampled])];

    const counted = recording(provider);
    const first = SecretTree.create(counted.provider, rootSecret.slice(), n);
    expect(counted.outputs).toHaveLength(0); // construction derives nothing
    const second = SecretTree.create(provider, rootSecret.slice(), n);
    const a = new Map(leaves.map((leaf) => [leaf, hex(first.takeLeafSecret(leaf))]));
    const b = new Map(
      [...leaves].reverse().map((leaf) => [leaf, hex(second.takeLeafSecret(leaf))]),
    );
    for (const leaf of leaves) {
      expect(a.get(leaf)).toBe(b.get(leaf));
      expect(a.get(leaf)).toBe(hex(referenceLeafSecret(provider, rootSecret, n, leaf)));
    }
    // 2^14 leaves: at most 14 levels × 2 children per leaf taken.
    expect(counted.outputs.length).toBeLessThanOrEqual(leaves.length * 28);
    expect(first.heldNodeCount).toBeLessThanOrEqual(leaves.length * 14);
  });

  it("deletes a parent once its children are derived and wipes every consumed node", () => {
    const { provider: recorder, outputs } = recording(provider);
    const root = rootSecret.slice();
    const tree = SecretTree.create(recorder, root, 5); // full tree of 8 leaves, root node 7
    expect(tree.heldNodes().map(([node]) => node)).toEqual([7]);
    const leaf0 = tree.takeLeafSecret(0);
    // Path 7 → 3 → 1 → 0: each parent gone, the siblings 11, 5 and 2 kept; node 13 (leaves 6-7, not
    // in the roster) never derived.
    expect(tree.heldNodes().map(([node]) => node)).toEqual([2, 5, 11]);
    expect(root.every((byte) => byte === 0)).toBe(true);
    const rest = [4, 1, 3, 2].map((leaf) => tree.takeLeafSecret(leaf));
    expect(tree.heldNodeCount).toBe(0);
    const handedOut = new Set([leaf0, ...rest]);
    const parents = outputs.filter((out) => !handedOut.has(out));
    expect(parents.length).toBeGreaterThan(0);
    for (const parent of parents) expect(parent.every((byte) => byte === 0)).toBe(true);
    for (const leaf of handedOut) expect(leaf.some((byte) => byte !== 0)).toBe(true);
  });

  it("peekLeafSecret derives the same secret without changing the tree", () => {
    const tree = SecretTree.create(provider, rootSecret.slice(), 100);
    tree.takeLeafSecret(10);
    const before = tree.heldNodes().map(([node, secret]) => [node, hex(secret)]);
    const peeked = tree.peekLeafSecret(77);
    expect(tree.heldNodes().map(([node, secret]) => [node, hex(secret)])).toEqual(before);
    expect(tree.takeLeafSecret(77)).toEqual(peeked);
  });

  it("refuses a leaf taken twice or out of range, and bad construction", () => {
    const tree = SecretTree.create(provider, rootSecret.slice(), 3);
    tree.takeLeafSecret(1);
    expect(tree.hasLeaf(1)).toBe(false);
    expect(tree.hasLeaf(2)).toBe(true);
    expect(() => tree.takeLeafSecret(1)).toThrowError(RangeError);
    expect(() => tree.peekLeafSecret(1)).toThrowError(RangeError);
    expect(() => tree.takeLeafSecret(3)).toThrowError(RangeError);
    expect(() => tree.takeLeafSecret(-1)).toThrowError(RangeError);
    expect(() => tree.takeLeafSecret(0.5)).toThrowError(RangeError);
    expect(() => SecretTree.create(provider, rootSecret.slice(), 0)).toThrowError(RangeError);
    expect(() => SecretTree.create(provider, new Uint8Array(31), 2)).toThrowError(RangeError);
  });

  it("restores from its held nodes and refuses inconsistent node sets", () => {
    const tree = SecretTree.create(provider, rootSecret.slice(), 5);
    tree.takeLeafSecret(0);
    const restored = SecretTree.restore(
      provider,
      5,
      tree.heldNodes().map(([node, secret]) => [node, secret.slice()] as const),
    );
    for (const leaf of [1, 2, 3, 4])
      expect(restored.takeLeafSecret(leaf)).toEqual(tree.takeLeafSecret(leaf));
    const secret = new Uint8Array(32).fill(1);
    expect(() => SecretTree.restore(provider, 5, [[15, secret]])).toThrowError(RangeError); // outside
    expect(() => SecretTree.restore(provider, 5, [[13, secret]])).toThrowError(RangeError); // no roster leaf
    expect(() =>
      SecretTree.restore(provider, 5, [
        [7, secret],
        [3, secret.slice()],
      ]),
    ).toThrowError(RangeError); // below a held node
    expect(() => SecretTree.restore(provider, 5, [[3, new Uint8Array(16)]])).toThrowError(
      RangeError,
    );
  });

  it("never prints its secrets", () => {
    const tree = SecretTree.create(provider, rootSecret.slice(), 4);
    const leafHex = hex(referenceLeafSecret(provider, rootSecret, 4, 3));
    tree.peekLeafSecret(3);
    for (const text of [
      String(tree),
      JSON.stringify(tree),
      inspect(tree, { showHidden: true, depth: 8 }),
    ]) {
      expect(text).toContain("[redacted secret]");
      expect(text).not.toContain(hex(rootSecret));
      expect(text).not.toContain(leafHex);
    }
  });
});
