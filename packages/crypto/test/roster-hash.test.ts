import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { type Roster, type RosterLeaf, rosterHash } from "../src/key-schedule.js";
import { nobleProvider } from "../src/providers/noble.js";
import { rosterHashOnce, rosterSupplier } from "../src/roster-hashes.js";

const provider = nobleProvider();

/** The hash as PROTOCOL.md writes it, one part after the other (the reference). */
function referenceHash(roster: Roster): Uint8Array {
  const label = new TextEncoder().encode("orgchat v1 roster");
  const bytes = new Uint8Array(label.length + roster.length * 100);
  bytes.set(label);
  const view = new DataView(bytes.buffer);
  roster.forEach((leaf, index) => {
    const at = label.length + index * 100;
    view.setUint32(at, index);
    if (leaf === undefined) return;
    bytes.set(leaf.identityKey, at + 4);
    bytes.set(leaf.signingKey, at + 36);
    bytes.set(leaf.prekey, at + 68);
  });
  return sha256(bytes);
}

function leaf(index: number): RosterLeaf {
  const key = (tag: number) => {
    const bytes = new Uint8Array(32);
    new DataView(bytes.buffer).setUint32(0, index);
    bytes[31] = tag;
    return bytes;
  };
  return { identityKey: key(1), signingKey: key(2), prekey: key(3) };
}

describe("rosterHash", () => {
  it("hashes a roster of 100,000 leaves (the wire's limit) without overflowing the stack", () => {
    const roster: Array<RosterLeaf | undefined> = [];
    for (let i = 0; i < 100_000; i++) roster.push(i % 7 === 3 ? undefined : leaf(i));
    expect(rosterHash(provider, roster)).toEqual(referenceHash(roster));
  });

  it("matches the reference on a small roster with empty leaves", () => {
    const roster = [leaf(0), undefined, leaf(2)];
    expect(rosterHash(provider, roster)).toEqual(referenceHash(roster));
  });

  it("refuses a leaf whose keys are not 32 bytes (RangeError naming the leaf)", () => {
    const bad = { ...leaf(0), prekey: new Uint8Array(31) };
    expect(() => rosterHash(provider, [leaf(0), bad])).toThrow(/roster\[1\]/);
  });
});

describe("rosterHashOnce", () => {
  /** The provider, counting the bytes it hashes. */
  function counting() {
    const counted = { bytes: 0 };
    const wrapped = {
      ...provider,
      sha256: (data: Uint8Array) => {
        counted.bytes += data.length;
        return provider.sha256(data);
      },
    };
    return { counted, wrapped };
  }

  it("hashes a frozen roster once, shared with a group's restore; an unfrozen one every time", () => {
    const { counted, wrapped } = counting();
    const roster = Object.freeze([leaf(0), undefined, leaf(2)]);
    const hash = rosterHashOnce(wrapped, roster);
    expect(hash).toEqual(referenceHash(roster));
    const once = counted.bytes;
    expect(once).toBeGreaterThan(0);
    hash.fill(0); // the caller's copy: changing it changes nothing remembered
    expect(rosterHashOnce(wrapped, roster)).toEqual(referenceHash(roster));
    // A restore handed the same roster checks it against the saved hash without hashing it.
    const supply = rosterSupplier(wrapped, () => roster);
    expect(supply(4n, new Uint8Array(16), 3, referenceHash(roster))).toBe(roster);
    expect(counted.bytes).toBe(once);
    const loose = [leaf(0), leaf(1)];
    rosterHashOnce(wrapped, loose);
    rosterHashOnce(wrapped, loose);
    // 17 label bytes and 100 per leaf, hashed on each call.
    expect(once).toBe(17 + 3 * 100);
    expect(counted.bytes).toBe(once + 2 * (17 + 2 * 100));
  });
});
