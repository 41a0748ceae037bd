/**
 * State snapshots (docs/SCALE.md, "State snapshot"): the binary encoding round-trips every state a
 * fold reaches; a log compacted, saved, decoded and restored, then fed the rest of the events, holds
 * the state of the fold of everything; the decoder refuses every truncation, flipped byte, foreign
 * organization and unknown version (committed vectors in test/vectors/snapshot.json).
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { Map as ImmutableMap, List } from "immutable";
import { describe, expect, it } from "vitest";
import type { OrgEvent, Role } from "../src/events.js";
import { OrgLog } from "../src/log.js";
import { compareEvents } from "../src/order.js";
import { decodeSnapshot, encodeSnapshot } from "../src/snapshot.js";
import {
  crc32,
  isSnapshotFormatError,
  SnapshotFormatError,
  SnapshotWriter,
} from "../src/snapshot-codec.js";
import type { Member } from "../src/state.js";
import { historyArb, propertyConfig } from "./event-arbitraries.js";
import {
  alice,
  canonicalState,
  fold,
  identity,
  owner,
  Script,
  sortedRejections,
} from "./event-fixtures.js";

const runs = (numRuns: number, seed: number) => ({ numRuns, seed });

const fromHex = (hex: string) =>
  Uint8Array.from(hex.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
const toHex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** The state of the committed vector: a created organization with a member, a channel and a post. */
export function vectorState() {
  const s = new Script("v");
  const events: OrgEvent[] = [
    s.at(1_000).created("on-request", {
      identity: {
        ...identity("Acme"),
        images: {
          thumbnail: {
            payload: Uint8Array.of(1, 2, 3),
            sourceType: "raw-payload",
            imageType: "png",
            encrypted: false,
            encryptionKeys: [],
          },
        },
      },
      tags: ["ops"],
    }),
    s.channel("general"),
    s.next("request.sent", alice, { chatId: "", ensName: "", displayName: "Alice" }),
  ];
  events.push(s.next("request.accepted", owner, { requestId: events[2]?.id ?? "" }));
  events.push(s.next("message.posted", alice, { channelId: "general", text: "héllo" }));
  return fold(events).state;
}

function expectFormatError(bytes: Uint8Array, org = owner): void {
  let caught: unknown;
  try {
    decodeSnapshot(bytes, org);
  } catch (error) {
    caught = error;
  }
  expect(isSnapshotFormatError(caught)).toBe(true);
}

describe("encodeSnapshot / decodeSnapshot", () => {
  it("round-trips every state a fold reaches (maps in the same iteration order)", () => {
    fc.assert(
      fc.property(historyArb(), (events) => {
        const { state } = fold(events, propertyConfig);
        const decoded = decodeSnapshot(encodeSnapshot(state), owner);
        expect(canonicalState(decoded)).toBe(canonicalState(state));
        expect([...decoded.members.keys()]).toEqual([...state.members.keys()]);
        expect([...decoded.applied.keys()]).toEqual([...state.applied.keys()]);
        // Encoding is a function of the state: the decoded state encodes to the same bytes.
        expect(toHex(encodeSnapshot(decoded))).toBe(toHex(encodeSnapshot(state)));
      }),
      runs(200, 0x5a0001),
    );
  });

  it("refuses every truncation, every flipped byte and trailing bytes", () => {
    const bytes = encodeSnapshot(vectorState());
    for (let length = 0; length < bytes.length; length++) {
      expectFormatError(bytes.subarray(0, length));
    }
    for (let at = 0; at < bytes.length; at++) {
      const flipped = bytes.slice();
      flipped[at] = (flipped[at] as number) ^ 0x40;
      expectFormatError(flipped);
    }
    expectFormatError(Uint8Array.from([...bytes, 0]));
  });

  it("refuses another organization's snapshot and an unknown version", () => {
    const bytes = encodeSnapshot(vectorState());
    expectFormatError(bytes, alice);
    const future = bytes.slice();
    future[4] = 3;
    expectFormatError(future);
  });

  it("refuses a count larger than the bytes left before allocating (checksum valid)", () => {
    const w = new SnapshotWriter();
    for (const b of [0x6f, 0x63, 0x73, 0x74, 1]) w.byte(b);
    w.str(owner);
    w.bool(true);
    w.big(0n);
    for (const text of ["", "", ""]) w.str(text);
    w.uint(0); // images
    w.str("on-request");
    w.bool(false);
    w.bool(false);
    w.bool(false); // pinMessageAllMembersEnabled
    w.uint(2 ** 32 - 1); // tags: far more than the bytes left
    const bytes = w.finish();
    expectFormatError(bytes);
  });

  it("refuses a key twice in a map (and takes the same bytes with two keys)", () => {
    const withMembers = (first: string, second: string) => {
      const w = new SnapshotWriter();
      for (const b of [0x6f, 0x63, 0x73, 0x74, 1]) w.byte(b);
      w.str(owner);
      w.bool(true);
      w.big(0n);
      for (const text of ["", "", ""]) w.str(text);
      w.uint(0); // images
      w.str("on-request");
      w.bool(false);
      w.bool(false);
      w.bool(false); // pinMessageAllMembersEnabled
      w.uint(0); // tags
      w.bool(false); // encrypted
      w.uint(2);
      for (const id of [first, second]) {
        w.str(id);
        w.uint(0); // roles
        w.big(1n);
      }
      for (let map = 0; map < 10; map++) w.uint(0);
      return w.finish();
    };
    expect(decodeSnapshot(withMembers(owner, alice), owner).members.size).toBe(2);
    expectFormatError(withMembers(alice, alice));
  });

  it("applied ids: 64-hex ids take the table path, any other key the general one, same result", () => {
    const state = vectorState();
    const hexId = (i: number) => i.toString(16).padStart(64, "0");
    const clocks = [0n, 127n, 2n ** 49n - 1n, 2n ** 49n, 2n ** 56n + 3n, 2n ** 63n - 1n];
    const allHex = ImmutableMap<string, bigint>(clocks.map((clock, i) => [hexId(i + 1), clock]));
    const mixed = allHex.set("not-hex", 5n).set(hexId(99), 7n);
    // Decoded, the ids iterate in ascending order (`AppliedIds`), whatever order they were written in.
    const ascending = (map: ImmutableMap<string, bigint>) =>
      [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const shuffled = ImmutableMap<string, bigint>(
      Array.from({ length: 40 }, (_, i) => [hexId((i * 17) % 41), BigInt(i)] as const),
    );
    for (const applied of [allHex, mixed, shuffled, ImmutableMap<string, bigint>()]) {
      const decoded = decodeSnapshot(encodeSnapshot({ ...state, applied }), owner).applied;
      expect([...decoded.entries()]).toEqual(ascending(applied));
      for (const [id, clock] of applied) expect(decoded.get(id)).toBe(clock);
      expect(decoded.has(hexId(1000))).toBe(false);
      expect(decoded.size).toBe(applied.size);
    }
    // A clock above 2^63 − 1 and an id twice are refused on the table path too.
    const bytes = (applied: ImmutableMap<string, bigint>) => encodeSnapshot({ ...state, applied });
    expectFormatError(bytes(allHex.set(hexId(1), 2n ** 63n)));
    const twice = bytes(
      ImmutableMap([
        [hexId(1), 1n],
        [hexId(2), 2n],
      ]),
    );
    const at = toHex(twice).indexOf(hexId(2)) / 2;
    twice.set(fromHex(hexId(1)), at);
    new DataView(twice.buffer).setUint32(twice.length - 4, crc32(twice, twice.length - 4));
    expectFormatError(twice);
  });

  it("members with the same roles share one decoded list (at most 3 roles); longer lists decode apart", () => {
    const state = vectorState();
    const [first] = [...state.members.values()];
    expect(first).toBeDefined();
    const member = (id: string, roles: Role[]) => ({ ...first, id, roles: List(roles) }) as Member;
    const long: Role[] = ["all", "all", "manage-users", "moderate-content"];
    const members = ImmutableMap<string, Member>([
      ["a", member("a", [])],
      ["b", member("b", [])],
      ["c", member("c", ["manage-users"])],
      ["d", member("d", ["manage-users"])],
      ["e", member("e", ["moderate-content", "manage-users"])],
      ["f", member("f", long)],
      ["g", member("g", long)],
    ]);
    const decoded = decodeSnapshot(encodeSnapshot({ ...state, members }), owner).members;
    const roles = (id: string) => decoded.get(id)?.roles;
    for (const [id, value] of members) expect(roles(id)?.toArray()).toEqual(value.roles.toArray());
    expect(roles("a")).toBe(roles("b"));
    expect(roles("c")).toBe(roles("d"));
    expect(roles("e")).not.toBe(roles("c"));
    expect(roles("f")).not.toBe(roles("g"));
  });

  it("matches the committed vectors (positive and negative)", () => {
    const vectors = JSON.parse(
      readFileSync(new URL("./vectors/snapshot.json", import.meta.url), "utf8"),
    ) as {
      organizationId: string;
      valid: { hex: string; canonical: string };
      validVersion1: { hex: string; canonical: string };
      invalid: { name: string; hex: string; error: string }[];
    };
    expect(toHex(encodeSnapshot(vectorState()))).toBe(vectors.valid.hex);
    const decoded = decodeSnapshot(fromHex(vectors.valid.hex), vectors.organizationId);
    expect(canonicalState(decoded)).toBe(vectors.valid.canonical);
    expect(decoded.members.get(alice)?.displayName).toBe("Alice");
    // A version-1 snapshot (written before display names) still reads, its members unnamed.
    const before = decodeSnapshot(fromHex(vectors.validVersion1.hex), vectors.organizationId);
    expect(canonicalState(before)).toBe(vectors.validVersion1.canonical);
    expect(before.members.get(alice)?.displayName).toBe("");
    expect(vectors.invalid.length).toBeGreaterThanOrEqual(4);
    for (const vector of vectors.invalid) {
      let caught: unknown;
      try {
        decodeSnapshot(fromHex(vector.hex), vectors.organizationId);
      } catch (error) {
        caught = error;
      }
      expect((caught as Error | undefined)?.name, vector.name).toBe(vector.error);
    }
    expect(SnapshotFormatError.errorName).toBe("SnapshotFormatError");
  });
});

describe("OrgLog.compact and OrgLog.restore", () => {
  it("compacted, saved, restored and fed the rest, a log holds the fold of every event", () => {
    const arb = historyArb(60).chain((events) => {
      const ordered = events.slice().sort(compareEvents);
      return fc.tuple(
        fc.constant(events),
        fc.integer({ min: 0, max: ordered.length }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer(),
      );
    });
    let compacted = 0;
    fc.assert(
      fc.property(arb, ([events, split, interval, keep, seed]) => {
        const ordered = events.slice().sort(compareEvents);
        const first = ordered.slice(0, split);
        const rest = ordered.slice(split);
        const reference = fold(events, propertyConfig);
        const init = {
          organizationId: owner,
          config: propertyConfig,
          checkpointInterval: interval,
        };
        const log = new OrgLog(init);
        for (const e of shuffle(first, seed)) log.add(e);
        const before = canonicalState(log.state);
        const compaction = log.compact(keep);
        // Compaction changes no state.
        expect(canonicalState(log.state)).toBe(before);
        const restored = new OrgLog(init);
        if (compaction !== undefined) {
          compacted++;
          expect(log.size).toBeGreaterThanOrEqual(keep);
          for (const id of compaction.covered) expect(log.has(id)).toBe(false);
          restored.restore(decodeSnapshot(encodeSnapshot(compaction.state), owner));
        }
        // What a store holds after the compaction: the events the log still holds.
        for (const e of shuffle(log.events(), seed + 1)) restored.add(e);
        expect(canonicalState(restored.state)).toBe(before);
        for (const e of shuffle(rest, seed + 2)) {
          log.add(e);
          restored.add(e);
        }
        const expected = canonicalState(reference.state);
        expect(canonicalState(log.state)).toBe(expected);
        expect(canonicalState(restored.state)).toBe(expected);
        const held = new Set(restored.events().map((e) => e.id));
        const expectedRejections = sortedRejections(reference.rejections).filter(([id]) =>
          held.has(id),
        );
        // The same events refused (a buffered event kept before the floor is judged on it: still
        // refused, perhaps for another reason).
        expect(sortedRejections(restored.rejections()).map(([id]) => id)).toEqual(
          expectedRejections.map(([id]) => id),
        );
        // An event the snapshot folded is a duplicate, not applied twice.
        for (const id of compaction?.covered ?? []) {
          const again = first.find((e) => e.id === id) as OrgEvent;
          expect(restored.add(again).rejected?.reason).toBe("duplicate");
        }
      }),
      runs(300, 0x5a0002),
    );
    expect(compacted).toBeGreaterThan(50);
  });

  it("a late event that sorts before the floor applies on it, in the first place held", () => {
    const s = new Script();
    const created = s.created("on-request");
    const events: OrgEvent[] = [created];
    for (let i = 0; i < 8; i++) events.push(s.channel(`c${i}`));
    const log = new OrgLog({
      organizationId: owner,
      config: propertyConfig,
      checkpointInterval: 2,
    });
    for (const e of events) log.add(e);
    const compaction = log.compact(1);
    expect(compaction?.covered.length).toBe(8);
    expect(log.size).toBe(1);
    const late = s.next("category.created", owner, { categoryId: "k", name: "K" }, { clock: 2n });
    expect(log.add(late).rejected).toBeUndefined();
    expect(log.state.categories.has("k")).toBe(true);
    expect(log.events().map((e) => e.id)).toEqual([late.id, events[8]?.id]);
  });

  it("a buffered event before the point stays held (and out of the covered ids); none: a plain fold", () => {
    const s = new Script();
    const events: OrgEvent[] = [s.created()];
    for (let i = 0; i < 4; i++) events.push(s.channel(`c${i}`));
    // Refused in its place (no channel "zz" yet) and buffered: it may apply once the channel comes.
    const early = s.next(
      "message.posted",
      owner,
      { channelId: "zz", text: "early" },
      { clock: 3n },
    );
    for (let i = 4; i < 8; i++) events.push(s.channel(`c${i}`));
    const init = { organizationId: owner, config: propertyConfig, checkpointInterval: 2 };
    const log = new OrgLog(init);
    for (const e of [...events, early]) log.add(e);
    expect(log.buffered().map((e) => e.id)).toEqual([early.id]);
    const compaction = log.compact(1);
    expect(compaction?.covered).not.toContain(early.id);
    expect(log.events().map((e) => e.id)).toContain(early.id);
    expect(log.has(early.id)).toBe(true);
    // Without it, the same events fold into the same floor, every applied one covered.
    const plain = new OrgLog(init);
    for (const e of events) plain.add(e);
    const folded = plain.compact(1);
    expect(folded?.covered).toEqual(compaction?.covered);
    expect(plain.events().map((e) => e.id)).toEqual([events[8]?.id]);
  });

  it("restore refuses a log that holds events, and a state of another organization", () => {
    const s = new Script();
    const log = new OrgLog({ organizationId: owner });
    log.add(s.created());
    expect(() => log.restore(fold([]).state)).toThrow(RangeError);
    const other = new OrgLog({ organizationId: alice });
    expect(() => other.restore(fold([]).state)).toThrow(RangeError);
    expect(() => new OrgLog({ organizationId: owner }).compact(-1)).toThrow(RangeError);
  });
});

/** A deterministic shuffle (seeded LCG). */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice();
  let x = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
