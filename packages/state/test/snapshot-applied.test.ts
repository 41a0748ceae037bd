/**
 * `AppliedIds` (`OrgState.applied`): a snapshot's sorted table of ids under an immutable map of the
 * ids applied since — the same answers as an immutable map of the same entries, persistent, and
 * iterated in ascending id order whatever the order of application; decoded from a snapshot
 * without a map entry per id, whatever order an older snapshot wrote them in.
 */
import fc from "fast-check";
import { Map as ImmutableMap } from "immutable";
import { describe, expect, it } from "vitest";
import { initialState } from "../src/initial-state.js";
import { decodeSnapshot, encodeSnapshot } from "../src/snapshot.js";
import { AppliedIds } from "../src/snapshot-applied.js";
import { crc32 } from "../src/snapshot-codec.js";
import { owner } from "./event-fixtures.js";

const hexId = (i: number) => i.toString(16).padStart(64, "0");
const ascending = (entries: Iterable<[string, bigint]>) =>
  [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** `entries` through a snapshot: the table path when every id is 64-hex. */
function decoded(entries: ReadonlyArray<readonly [string, bigint]>): AppliedIds {
  const applied = ImmutableMap<string, bigint>(entries as Array<[string, bigint]>);
  const state = { ...initialState(owner), applied };
  return decodeSnapshot(encodeSnapshot(state), owner).applied as AppliedIds;
}

describe("AppliedIds", () => {
  it("answers as an immutable map of the same ids, from a table, on top of it, or both", () => {
    const idArb = fc.oneof(
      fc.integer({ min: 0, max: 60 }).map(hexId),
      fc.constantFrom("not-hex", hexId(7).toUpperCase(), ""),
    );
    const entriesArb = fc.array(fc.tuple(idArb, fc.bigInt({ min: 0n, max: 1000n })), {
      maxLength: 40,
    });
    fc.assert(
      fc.property(entriesArb, entriesArb, (first, later) => {
        const hexOnly = first.filter(([id]) => /^[0-9a-f]{64}$/.test(id));
        let model = ImmutableMap<string, bigint>(hexOnly as Array<[string, bigint]>);
        let ids: AppliedIds = decoded(hexOnly);
        const before = [...ids.entries()];
        const kept = ids;
        for (const [id, clock] of later) {
          model = model.set(id, clock);
          ids = ids.set(id, clock);
        }
        // Persistent: the first value is unchanged.
        expect([...kept.entries()]).toEqual(before);
        expect(ids.size).toBe(model.size);
        expect([...ids.entries()]).toEqual(ascending(model.entries()));
        expect([...ids.keys()]).toEqual(ascending(model.entries()).map(([id]) => id));
        for (let i = 0; i <= 61; i++) {
          expect(ids.has(hexId(i))).toBe(model.has(hexId(i)));
          expect(ids.get(hexId(i))).toBe(model.get(hexId(i)));
        }
        for (const id of ["not-hex", hexId(7).toUpperCase(), "", "z".repeat(64)]) {
          expect(ids.has(id)).toBe(model.has(id));
        }
        // Equal content, equal encoding: however it was built.
        const rebuilt = AppliedIds.of(model.entries());
        expect(ids).toEqual(rebuilt);
        const state = initialState(owner);
        expect(encodeSnapshot({ ...state, applied: ids })).toEqual(
          encodeSnapshot({ ...state, applied: rebuilt }),
        );
      }),
      { numRuns: 200, seed: 0x5a0002 },
    );
  });

  it("answers each table for itself when the same id is asked of several in turn", () => {
    // Lookups repeat the last one's answer for the same table and id: never another table's.
    const a = decoded([
      [hexId(1), 10n],
      [hexId(2), 20n],
    ]);
    const b = decoded([
      [hexId(2), 30n],
      [hexId(3), 40n],
    ]);
    const order = [hexId(1), hexId(2), hexId(3), hexId(2), hexId(1)];
    for (const id of order) {
      for (const [ids, model] of [
        [a, { [hexId(1)]: 10n, [hexId(2)]: 20n }],
        [b, { [hexId(2)]: 30n, [hexId(3)]: 40n }],
      ] as const) {
        expect(ids.has(id)).toBe(id in model);
        expect(ids.get(id)).toBe((model as Record<string, bigint>)[id]);
        // An id of the same content in another string object: the same answer.
        const copy = id.split("").join("");
        expect(ids.get(copy)).toBe((model as Record<string, bigint>)[id]);
      }
    }
    // `set` after lookups: a table entry shadowed, another table untouched.
    expect(a.set(hexId(2), 21n).get(hexId(2))).toBe(21n);
    expect(b.get(hexId(2))).toBe(30n);
    expect(a.get(hexId(2))).toBe(20n);
  });

  it("a snapshot's ids in any order decode sorted; an id twice is refused", () => {
    // An immutable map iterates in hash order: written as is, as snapshots were before.
    const entries = Array.from(
      { length: 300 },
      (_, i) => [hexId((i * 7919) % 1009), BigInt(i)] as const,
    );
    const ids = decoded(entries);
    expect([...ids.entries()]).toEqual(ascending(entries as Array<[string, bigint]>));
    // Two ids with the same first four bytes (a run the prefix sort leaves to the insertion pass).
    const close = [
      [`${"ab".repeat(4)}${"0".repeat(55)}2`, 2n],
      [`${"ab".repeat(4)}${"0".repeat(55)}1`, 1n],
      [hexId(5), 5n],
      [`${"ab".repeat(4)}${"0".repeat(55)}3`, 3n],
    ] as const;
    expect([...decoded(close).keys()]).toEqual(ascending(close as never).map(([id]) => id));
    // The same id twice, written by hand in a table (an immutable map cannot hold it twice).
    const twice = ImmutableMap<string, bigint>([
      [hexId(9), 1n],
      [hexId(3), 2n],
      [hexId(4), 3n],
    ]);
    const bytes = encodeSnapshot({ ...initialState(owner), applied: twice });
    const text = Buffer.from(bytes).toString("hex");
    const at = text.indexOf(hexId(4)) / 2;
    bytes.set(Buffer.from(hexId(9), "hex"), at);
    new DataView(bytes.buffer).setUint32(bytes.length - 4, crc32(bytes, bytes.length - 4));
    expect(() => decodeSnapshot(bytes, owner)).toThrowError(
      expect.objectContaining({
        name: "SnapshotFormatError",
        message: expect.stringMatching(/a key twice/),
      }),
    );
  });

  it("an id twice next to itself in an ascending table is refused", () => {
    // A decoded table is written in ascending order: the decoder checks it, no sort.
    const applied = decoded([
      [hexId(3), 1n],
      [hexId(4), 2n],
      [hexId(9), 3n],
    ]);
    const bytes = encodeSnapshot({ ...initialState(owner), applied });
    const text = Buffer.from(bytes).toString("hex");
    expect(text.indexOf(hexId(3))).toBeLessThan(text.indexOf(hexId(4)));
    bytes.set(Buffer.from(hexId(3), "hex"), text.indexOf(hexId(4)) / 2);
    new DataView(bytes.buffer).setUint32(bytes.length - 4, crc32(bytes, bytes.length - 4));
    expect(() => decodeSnapshot(bytes, owner)).toThrowError(
      expect.objectContaining({
        name: "SnapshotFormatError",
        message: expect.stringMatching(/twice/),
      }),
    );
  });

  it("a snapshot's clocks decode exact in the table, every size of varint; one above the limit is refused", () => {
    const edges = [
      0n,
      1n,
      127n,
      128n,
      2n ** 31n,
      2n ** 32n - 1n,
      2n ** 32n,
      2n ** 32n + 1n,
      2n ** 48n + 12_345n,
      2n ** 49n - 1n,
      2n ** 49n,
      2n ** 53n + 1n,
      2n ** 63n - 1n,
    ];
    const entries = edges.map((clock, i) => [hexId(i + 1), clock] as const);
    expect([...decoded(entries).entries()]).toEqual(entries);
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), { maxLength: 40 }),
        (clocks) => {
          const random = clocks.map((clock, i) => [hexId(i + 1), clock] as const);
          expect([...decoded(random).entries()]).toEqual(random);
        },
      ),
      { numRuns: 200, seed: 4242 },
    );
    // 2^63 − 1 (nine varint bytes, ff × 8 then 7f) made 2^63 (80 × 9 then 01): above the limit.
    const top = ImmutableMap<string, bigint>([[hexId(1), 2n ** 63n - 1n]]);
    const bytes = encodeSnapshot({ ...initialState(owner), applied: top });
    const text = Buffer.from(bytes).toString("hex");
    const at = text.indexOf(`${hexId(1)}ffffffffffffffff7f`) / 2 + 32;
    expect(at).toBeGreaterThan(32);
    const above = new Uint8Array(bytes.length + 1);
    above.set(bytes.subarray(0, at));
    above.set([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], at);
    above.set(bytes.subarray(at + 9), at + 10);
    new DataView(above.buffer).setUint32(above.length - 4, crc32(above, above.length - 4));
    expect(() => decodeSnapshot(above, owner)).toThrowError(
      expect.objectContaining({
        name: "SnapshotFormatError",
        message: expect.stringMatching(/clock/),
      }),
    );
  });
});
