/**
 * The winner order of concurrent commits (docs/DELEGATION.md, "Concurrent commits converge"):
 * fast-check properties that it is a total order with the owner's commits first.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CommitRef, compareCommits } from "../src/commit-order.js";

const organizationId = new Uint8Array(32).fill(7);
// Few distinct values, so that ties on clock and signer (and the owner key) come up often.
const key = fc.oneof(
  fc.constant(organizationId),
  fc.constantFrom(new Uint8Array(32).fill(1), new Uint8Array(32).fill(9)),
  fc.uint8Array({ minLength: 32, maxLength: 32 }),
);
const commit: fc.Arbitrary<CommitRef> = fc.record({
  signer: key,
  clock: fc.bigInt({ min: 0n, max: 3n }),
  keyId: fc.uint8Array({ minLength: 8, maxLength: 8, max: 2 }),
});
const sign = (n: number) => Math.sign(n);
const cmp = (a: CommitRef, b: CommitRef) => compareCommits(a, b, organizationId);
const same = (a: CommitRef, b: CommitRef) =>
  a.clock === b.clock &&
  Buffer.from(a.signer).equals(Buffer.from(b.signer)) &&
  Buffer.from(a.keyId).equals(Buffer.from(b.keyId));

describe("compareCommits()", () => {
  it("is total: two commits tie only when they are the same commit", () => {
    fc.assert(fc.property(commit, commit, (a, b) => (cmp(a, b) === 0) === same(a, b)));
  });

  it("is antisymmetric", () => {
    fc.assert(fc.property(commit, commit, (a, b) => sign(cmp(a, b)) === -sign(cmp(b, a))));
  });

  it("is transitive", () => {
    fc.assert(
      fc.property(commit, commit, commit, (a, b, c) => {
        if (cmp(a, b) <= 0 && cmp(b, c) <= 0) return cmp(a, c) <= 0;
        return true;
      }),
    );
  });

  it("puts an owner-signed commit before every delegate's, whatever the clocks", () => {
    fc.assert(
      fc.property(commit, commit, (a, b) => {
        fc.pre(!Buffer.from(b.signer).equals(Buffer.from(organizationId)));
        return cmp({ ...a, signer: organizationId }, b) < 0;
      }),
    );
  });

  it("then orders by clock, signer bytes and key id", () => {
    const d1 = new Uint8Array(32).fill(1);
    const d9 = new Uint8Array(32).fill(9);
    const id = (n: number) => new Uint8Array(8).fill(n);
    expect(
      cmp({ signer: d9, clock: 1n, keyId: id(9) }, { signer: d1, clock: 2n, keyId: id(1) }),
    ).toBeLessThan(0);
    expect(
      cmp({ signer: d1, clock: 2n, keyId: id(9) }, { signer: d9, clock: 2n, keyId: id(1) }),
    ).toBeLessThan(0);
    expect(
      cmp({ signer: d1, clock: 2n, keyId: id(1) }, { signer: d1, clock: 2n, keyId: id(2) }),
    ).toBeLessThan(0);
    const winner = [
      { signer: d9, clock: 1n, keyId: id(3) },
      { signer: organizationId, clock: 5n, keyId: id(4) },
      { signer: d1, clock: 1n, keyId: id(5) },
    ].sort(cmp);
    expect(winner.map((c) => c.keyId[0])).toEqual([4, 5, 3]);
  });
});
