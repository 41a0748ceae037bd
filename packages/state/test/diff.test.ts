/**
 * `diffMap`: the structural diff equals the naive one (fast-check, fixed seeds) for random maps and
 * random edit sequences, collisions and small maps included, and the fast path is the one taken
 * with the Immutable version the repository pins.
 */
import fc from "fast-check";
import { Map as ImmutableMap, isOrderedMap, List, OrderedMap } from "immutable";
import { describe, expect, it } from "vitest";
import { diffMap } from "../src/diff.js";

type Change = readonly [kind: "added" | "removed" | "changed", key: string, ...values: unknown[]];

/** A key as a sortable string (keys may be Immutable lists). */
function show(key: unknown): string {
  return List.isList(key) ? `list:${key.join(",")}` : `${typeof key}:${String(key)}`;
}

function structural(before: ImmutableMap<unknown, unknown>, after: ImmutableMap<unknown, unknown>) {
  const out: Change[] = [];
  const stats = diffMap(before, after, {
    added: (key, value) => out.push(["added", show(key), value]),
    removed: (key, value) => out.push(["removed", show(key), value]),
    changed: (key, was, value) => out.push(["changed", show(key), was, value]),
  });
  return { changes: sorted(out), stats };
}

/** The naive diff: every key of both maps through the public API. */
function naive(before: ImmutableMap<unknown, unknown>, after: ImmutableMap<unknown, unknown>) {
  const out: Change[] = [];
  for (const [key, value] of after) {
    if (!before.has(key)) out.push(["added", show(key), value]);
    else if (!Object.is(before.get(key), value)) {
      out.push(["changed", show(key), before.get(key), value]);
    }
  }
  for (const [key, value] of before) if (!after.has(key)) out.push(["removed", show(key), value]);
  return sorted(out);
}

function sorted(changes: Change[]): Change[] {
  return changes.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : 1));
}

// "Aa" and "BB" have the same string hash in Immutable (31·h + c): any concatenation of those
// blocks collides with every other of the same length.
const collidingKeys = ["AaAa", "AaBB", "BBAa", "BBBB", "AaAaAa", "BBBBBB", "AaBBAa"];
const keyArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 400 }).map((n) => `k${n}`) },
  { weight: 2, arbitrary: fc.constantFrom(...collidingKeys) },
  { weight: 2, arbitrary: fc.integer({ min: -50, max: 50 }) },
  // Value-equal keys built apart: the map finds them with `is`, so must the diff.
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 5 }).map((n) => List([n, "x"])) },
);
const values = [{ v: 1 }, { v: 2 }, "s", 7, null];
const valueArb = fc.constantFrom(...values);

type Edit =
  | { readonly op: "set"; readonly key: unknown; readonly value: unknown }
  | { readonly op: "delete"; readonly key: unknown }
  | { readonly op: "same"; readonly key: unknown }
  | { readonly op: "copy"; readonly key: unknown };
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant("set" as const), key: keyArb, value: valueArb }),
  fc.record({ op: fc.constant("delete" as const), key: keyArb }),
  // Set the value it already has (Immutable keeps the node), or an equal copy (a new object).
  fc.record({ op: fc.constant("same" as const), key: keyArb }),
  fc.record({ op: fc.constant("copy" as const), key: keyArb }),
);

function applyEdit(
  map: ImmutableMap<unknown, unknown>,
  edit: Edit,
): ImmutableMap<unknown, unknown> {
  switch (edit.op) {
    case "set":
      return map.set(edit.key, edit.value);
    case "delete":
      return map.delete(edit.key);
    case "same":
      return map.has(edit.key) ? map.set(edit.key, map.get(edit.key)) : map;
    case "copy": {
      const value = map.get(edit.key);
      return typeof value === "object" && value !== null ? map.set(edit.key, { ...value }) : map;
    }
  }
}

const entriesArb = (max: number) => fc.array(fc.tuple(keyArb, valueArb), { maxLength: max });
const runs = (numRuns: number, seed: number) => ({ numRuns, seed });

describe("diffMap equals the naive diff", () => {
  it("after a random edit sequence of a random map (shared structure)", () => {
    fc.assert(
      fc.property(
        fc.oneof(entriesArb(8), entriesArb(40), entriesArb(600)),
        fc.array(editArb, { maxLength: 30 }),
        (entries, edits) => {
          const before = ImmutableMap<unknown, unknown>(entries);
          const after = edits.reduce(applyEdit, before);
          const { changes } = structural(before, after);
          expect(changes).toEqual(naive(before, after));
          expect(structural(after, before).changes).toEqual(naive(after, before));
        },
      ),
      runs(400, 0xd1ff01),
    );
  });

  it("between maps built independently (no shared structure)", () => {
    fc.assert(
      fc.property(
        fc.oneof(entriesArb(8), entriesArb(300)),
        fc.oneof(entriesArb(8), entriesArb(300)),
        (a, b) => {
          const before = ImmutableMap<unknown, unknown>(a);
          const after = ImmutableMap<unknown, unknown>(b);
          expect(structural(before, after).changes).toEqual(naive(before, after));
        },
      ),
      runs(300, 0xd1ff02),
    );
  });

  it("when edits go through withMutations, merge and deleteAll", () => {
    fc.assert(
      fc.property(
        entriesArb(200),
        entriesArb(20),
        fc.array(keyArb, { maxLength: 20 }),
        (a, b, gone) => {
          const before = ImmutableMap<unknown, unknown>(a);
          const after = before
            .withMutations((m) => {
              for (const [key, value] of b) m.set(key, value);
            })
            .merge(ImmutableMap(b.slice(0, 3)))
            .deleteAll(gone);
          expect(structural(before, after).changes).toEqual(naive(before, after));
        },
      ),
      runs(200, 0xd1ff03),
    );
  });
});

describe("diffMap paths", () => {
  const big = ImmutableMap<string, number>(
    Array.from({ length: 10_000 }, (_, i) => [`member-${i}`, i] as const),
  );

  it("walks only the changed path of a 10,000-entry map (the fast path of the pinned Immutable)", () => {
    const after = big.set("newcomer", 1).delete("member-7").set("member-9", -9);
    const seen: string[] = [];
    const stats = diffMap(big, after, {
      added: (key) => seen.push(`+${key}`),
      removed: (key) => seen.push(`-${key}`),
      changed: (key) => seen.push(`~${key}`),
    });
    expect(seen.sort()).toEqual(["+newcomer", "-member-7", "~member-9"]);
    expect(stats.fullComparison).toBe(false);
    // Three root-to-leaf paths of a 32-way trie of depth ~3, both sides: far fewer than 10,000.
    expect(stats.nodes).toBeLessThan(60);
  });

  it("identical maps cost nothing", () => {
    expect(diffMap(big, big, {})).toEqual({ fullComparison: false, nodes: 0 });
    expect(diffMap(big, big.set("member-1", 1), {}).nodes).toBe(0);
  });

  it("compares in full what it does not recognise: an OrderedMap, a map being mutated", () => {
    // Typed as the `Map` it is at run time: relating Immutable's `OrderedMap` type to `Map` costs the
    // compiler seconds (it compares the two interfaces member by member).
    const ordered = OrderedMap<string, number>([
      ["a", 1],
      ["b", 2],
    ]) as unknown as ImmutableMap<string, number>;
    expect(isOrderedMap(ordered)).toBe(true);
    const out: string[] = [];
    const stats = diffMap(ordered, ordered.set("c", 3).delete("a"), {
      added: (key) => out.push(`+${key}`),
      removed: (key) => out.push(`-${key}`),
    });
    expect(stats.fullComparison).toBe(true);
    expect(out.sort()).toEqual(["+c", "-a"]);

    big.withMutations((mutable) => {
      mutable.set("inside", 0);
      const inside: string[] = [];
      expect(diffMap(big, mutable, { added: (key) => inside.push(key) }).fullComparison).toBe(true);
      expect(inside).toEqual(["inside"]);
    });
  });

  it("falls back to a full comparison when a trie node is not of a known shape", () => {
    // A small map whose root node carries a field shape the walk does not know (entries of three
    // elements: what another Immutable version might hold); the public API still reads it.
    const real = ImmutableMap<string, number>([
      ["a", 1],
      ["b", 2],
    ]);
    const root = (real as unknown as { _root: { entries: unknown[][] } })._root;
    const odd = Object.assign(Object.create(Object.getPrototypeOf(root)), root, {
      entries: root.entries.map((entry) => [...entry, "extra"]),
    });
    const strange = Object.assign(Object.create(Object.getPrototypeOf(real)), real, {
      _root: odd,
    }) as ImmutableMap<string, number>;
    expect(strange.get("b")).toBe(2);
    const after = strange.set("c", 3);
    const out: string[] = [];
    const stats = diffMap(strange, after, { added: (key) => out.push(`+${key}`) });
    expect(stats.fullComparison).toBe(true);
    expect(out).toEqual(["+c"]);
  });
});
