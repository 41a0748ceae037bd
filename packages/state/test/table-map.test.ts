/**
 * `TableMap` (`OrgState.requests`): a snapshot's table under an immutable overlay of the changes
 * since — the same answers as an immutable map of the same entries under random sets and deletions,
 * persistent (an older map never sees a later change), equal by content; and a state snapshot
 * round-trips its requests through it.
 */
import fc from "fast-check";
import { Map as ImmutableMap } from "immutable";
import { describe, expect, it } from "vitest";
import { diffMap } from "../src/diff.js";
import { initialState } from "../src/initial-state.js";
import { decodeSnapshot, encodeSnapshot } from "../src/snapshot.js";
import type { JoinRequest } from "../src/state.js";
import { type MapView, TableMap } from "../src/table-map.js";
import { canonicalState, owner } from "./event-fixtures.js";

const member = "02".repeat(32);

const keyArb = fc.integer({ min: 0, max: 30 }).map((i) => `k${i}`);
type Op = { kind: "set"; key: string; value: number } | { kind: "delete"; key: string };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), key: keyArb, value: fc.integer({ max: 5 }) }),
  fc.record({ kind: fc.constant("delete" as const), key: keyArb }),
);

/** Every answer of `view` equals the model's. */
function same(view: MapView<number>, model: ImmutableMap<string, number>): void {
  expect(view.size).toBe(model.size);
  for (let i = 0; i < 31; i++) {
    const key = `k${i}`;
    expect(view.has(key)).toBe(model.has(key));
    expect(view.get(key)).toBe(model.get(key));
  }
  const sorted = <T>(entries: Iterable<[string, T]>) =>
    [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  expect(sorted(view.entries())).toEqual(sorted(model.entries()));
  expect(new Set(view.keys())).toEqual(new Set(model.keys()));
  expect([...view.values()].sort()).toEqual([...model.values()].sort());
  expect([...view].length).toBe(model.size);
  // Each key once.
  expect(new Set(view.keys()).size).toBe(view.size);
}

describe("TableMap", () => {
  it("answers as an immutable map under random sets and deletions on a table, and stays persistent", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(keyArb, fc.integer({ max: 5 })), { maxLength: 20 }),
        fc.array(opArb, { maxLength: 40 }),
        (table, ops) => {
          let model = ImmutableMap<string, number>(table);
          let view: MapView<number> = TableMap.fromTable(new Map(table));
          const history: Array<[MapView<number>, ImmutableMap<string, number>]> = [];
          same(view, model);
          for (const op of ops) {
            history.push([view, model]);
            if (op.kind === "set") {
              model = model.set(op.key, op.value);
              view = view.set(op.key, op.value);
            } else {
              model = model.delete(op.key);
              view = view.delete(op.key);
            }
            same(view, model);
          }
          for (const [older, olderModel] of history) same(older, olderModel);
          const keep = (value: number) => value % 2 === 0;
          same(view.filter(keep), model.filter(keep));
          same(view, model);
        },
      ),
      { seed: 14, numRuns: 300 },
    );
  });

  it("diffs two maps as their entries differ, through the overlays when they share a table", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(keyArb, fc.integer({ max: 5 })), { maxLength: 20 }),
        fc.array(opArb, { maxLength: 20 }),
        fc.array(opArb, { maxLength: 20 }),
        fc.boolean(),
        (table, first, second, rebuilt) => {
          const apply = (view: MapView<number>, ops: Op[]) =>
            ops.reduce(
              (map, op) => (op.kind === "set" ? map.set(op.key, op.value) : map.delete(op.key)),
              view,
            );
          const base = TableMap.fromTable(new Map(table));
          const before = apply(base, first);
          // Another table with the same entries: the full comparison gives the same answer.
          const after = apply(rebuilt ? TableMap.of(before) : before, second);
          const found: string[] = [];
          const stats = diffMap(before, after, {
            added: (key, value) => found.push(`+${key}=${value}`),
            removed: (key, value) => found.push(`-${key}=${value}`),
            changed: (key, was, value) => found.push(`~${key}=${was}>${value}`),
          });
          const expected: string[] = [];
          for (const [key, value] of after) {
            const was = before.get(key);
            if (was === undefined) expected.push(`+${key}=${value}`);
            else if (was !== value) expected.push(`~${key}=${was}>${value}`);
          }
          for (const [key, value] of before) if (!after.has(key)) expected.push(`-${key}=${value}`);
          expect(found.sort()).toEqual(expected.sort());
          expect(stats.fullComparison).toBe(rebuilt && before !== after);
        },
      ),
      { seed: 15, numRuns: 300 },
    );
  });

  it("is equal by content to another TableMap whatever the history, and unequal otherwise", () => {
    const a = TableMap.fromTable(new Map([["x", 1]])).set("y", 2);
    const b = TableMap.of<number>([["y", 2]]).set("x", 1);
    expect(a).toEqual(b);
    expect(a.delete("x")).not.toEqual(b);
    expect(a.set("x", 1)).toBe(a);
    expect(a.delete("absent")).toBe(a);
    expect(TableMap.empty<number>().size).toBe(0);
  });

  it("round-trips a state's requests through a snapshot, and keeps a decoded map unchanged by later sets", () => {
    const request = (id: string, status: JoinRequest["status"]): JoinRequest => ({
      id,
      requester: member,
      chatId: "",
      ensName: "",
      displayName: id,
      clock: 3n,
      sentAt: 1000,
      status,
    });
    const requests = TableMap.of<JoinRequest>(
      ["a", "b", "c"].map((id, i) => [id, request(id, i === 0 ? "pending" : "rejected")]),
    ).delete("b");
    const state = { ...initialState(owner), requests };
    const decoded = decodeSnapshot(encodeSnapshot(state), owner);
    expect(decoded.requests).toBeInstanceOf(TableMap);
    expect(canonicalState(decoded)).toBe(canonicalState(state));
    expect(decoded.requests).toEqual(requests);
    const later = decoded.requests.set("d", request("d", "pending")).delete("a");
    expect([...later.keys()].sort()).toEqual(["c", "d"]);
    expect([...decoded.requests.keys()].sort()).toEqual(["a", "c"]);
    expect(encodeSnapshot(decoded)).toEqual(encodeSnapshot(state));
  });
});
