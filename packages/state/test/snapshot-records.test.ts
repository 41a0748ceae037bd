/**
 * The encoded bytes of unchanged posts re-used between snapshots (`snapshot-records.ts`): a
 * snapshot written with them is byte for byte the one written without (records copied afresh,
 * which nothing remembers), across edits, deletions, pins, bans and channel removals between two
 * encodes, and after a decode; bytes read non-canonically are never re-used; a buffer is dropped
 * once a later snapshot superseded it. Plus the writer's string paths and the CRC against simple
 * references.
 */
import fc from "fast-check";
import { Map as ImmutableMap } from "immutable";
import { describe, expect, it } from "vitest";
import type { OrgEvent } from "../src/events.js";
import { compareEvents } from "../src/order.js";
import { decodeSnapshot, encodeSnapshot } from "../src/snapshot.js";
import { AppliedIds, type AppliedIdsView } from "../src/snapshot-applied.js";
import { crc32, SnapshotWriter } from "../src/snapshot-codec.js";
import { RecordPlaces } from "../src/snapshot-records.js";
import type { MessageRecord, OrgState } from "../src/state.js";
import { TableMap } from "../src/table-map.js";
import { historyArb, propertyConfig } from "./event-arbitraries.js";
import { alice, applyAll, canonicalState, fold, owner, Script } from "./event-fixtures.js";

const toHex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** A created organization with a member, a channel and a post. */
function vectorState(): OrgState {
  const s = new Script("r");
  const events: OrgEvent[] = [
    s.at(1_000).created("on-request"),
    s.channel("general"),
    s.next("request.sent", alice, { chatId: "", ensName: "", displayName: "Alice" }),
  ];
  events.push(s.next("request.accepted", owner, { requestId: events[2]?.id ?? "" }));
  events.push(s.next("message.posted", alice, { channelId: "general", text: "héllo" }));
  return fold(events).state;
}

/**
 * `state` with every post and join request a new object (nothing remembered for any of them),
 * and its applied ids
 * as a plain list of their entries in order (encoded entry by entry, as any `AppliedIdsView`).
 */
function afresh(state: OrgState): OrgState {
  const messages = state.messages.map((message) => ({ ...message }));
  expect([...messages.keys()]).toEqual([...state.messages.keys()]);
  const requests = TableMap.of([...state.requests].map(([id, request]) => [id, { ...request }]));
  expect([...requests.keys()]).toEqual([...state.requests.keys()]);
  return { ...state, messages, requests, applied: listed(state.applied) };
}

/** The entries of `applied`, as a view that only iterates them (all an encoding needs). */
function listed(applied: AppliedIdsView): AppliedIdsView {
  const entries = [...applied.entries()];
  return {
    size: entries.length,
    entries: () => entries[Symbol.iterator](),
    [Symbol.iterator]: () => entries[Symbol.iterator](),
  } as Partial<AppliedIdsView> as AppliedIdsView;
}

/** Whether the bytes of `record` are remembered (re-used by the next encode). */
function remembered(record: MessageRecord): boolean {
  return new RecordPlaces().reuse(record, new SnapshotWriter());
}

describe("re-used record bytes", () => {
  it("a snapshot is the same bytes with them as without, across changes and decodes", () => {
    const arb = historyArb(60).chain((events) =>
      fc.tuple(
        fc.constant(events.slice().sort(compareEvents)),
        fc.integer({ min: 0, max: events.length }),
        fc.integer({ min: 0, max: events.length }),
      ),
    );
    fc.assert(
      fc.property(arb, ([events, a, b]) => {
        const [first, second] = [Math.min(a, b), Math.max(a, b)];
        const parts = [events.slice(0, first), events.slice(first, second), events.slice(second)];
        // Two lineages: the fold, and the fold restarted from its first snapshot (whose maps may
        // iterate in another order after later changes: each is compared with itself afresh).
        let state = applyAll(parts[0] as OrgEvent[], propertyConfig).state;
        let restarted = decodeSnapshot(encodeSnapshot(state), owner);
        for (const part of parts.slice(1)) {
          state = applyAll(part, propertyConfig, state).state;
          restarted = applyAll(part, propertyConfig, restarted).state;
          for (const lineage of [state, restarted]) {
            const bytes = encodeSnapshot(lineage);
            expect(toHex(bytes)).toBe(toHex(encodeSnapshot(afresh(lineage))));
            const again = decodeSnapshot(bytes, owner);
            expect(canonicalState(again)).toBe(canonicalState(lineage));
            expect(toHex(encodeSnapshot(again))).toBe(toHex(bytes));
          }
          expect(canonicalState(restarted)).toBe(canonicalState(state));
        }
      }),
      { numRuns: 200, seed: 0x5a0101 },
    );
  });

  it("posts dropped, added or in another order than last time: the same bytes as afresh", () => {
    const state = vectorState();
    const [first] = [...state.messages.values()] as [MessageRecord];
    const posts = Array.from({ length: 12 }, (_, i) => ({
      ...first,
      id: `${i}`.padStart(64, "c"),
      text: `post ${i}`,
    }));
    const order = (indexes: number[]) => ({
      ...state,
      messages: ImmutableMap(
        indexes.map((i) => [posts[i]?.id, posts[i]] as [string, MessageRecord]),
      ),
    });
    // Small maps iterate in insertion order: each encode below re-uses the previous one's bytes.
    const orders = [
      [0, 1, 2, 3, 4, 5],
      [0, 2, 3, 5],
      [5, 0, 2, 3, 6],
      [6, 5, 3, 2, 0, 1, 7],
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
      [11, 1, 10, 2, 9, 3],
    ];
    for (const indexes of orders) {
      const next = order(indexes);
      expect(toHex(encodeSnapshot(next))).toBe(toHex(encodeSnapshot(afresh(next))));
      expect(indexes.every((i) => remembered(posts[i] as MessageRecord))).toBe(true);
    }
  });

  it("applied ids: a snapshot's table and the ids applied since encode as their entries", () => {
    const state = vectorState();
    const hexId = (i: number) => (i * 7919).toString(16).padStart(64, "0");
    const table = ImmutableMap<string, bigint>(
      Array.from({ length: 40 }, (_, i) => [hexId(3 * i + 1), BigInt(i)] as const),
    );
    const decoded = decodeSnapshot(encodeSnapshot({ ...state, applied: table }), owner).applied;
    const one = hexId(4);
    const added: Array<[string, bigint]> = [
      [one, 99n], // shadows a table id with another clock
      [hexId(7), 7n], // the same clock: unchanged
      [hexId(5), 5n],
      [hexId(200), 1n],
      [one.slice(0, 63), 2n], // a prefix of a table id: just before it
      [`${one}0`, 3n], // a table id and more: just after it
      [one.slice(0, 10), 4n],
      ["", 5n],
      ["zz", 6n],
      ["ABC", 7n],
      [`${"f".repeat(64)}`, 8n],
    ];
    let applied = decoded;
    for (const [id, clock] of added) applied = applied.set(id, clock);
    for (const view of [decoded, applied, AppliedIds.of(added)]) {
      const bytes = encodeSnapshot({ ...state, applied: view });
      expect(toHex(bytes)).toBe(toHex(encodeSnapshot({ ...state, applied: listed(view) })));
      const sorted = [...view.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      expect([...view.entries()]).toEqual(sorted);
      expect([...decodeSnapshot(bytes, owner).applied.entries()]).toEqual(sorted);
    }
  });

  it("are checked against the map key: a remembered record under another key throws", () => {
    const state = vectorState();
    encodeSnapshot(state);
    const [message] = [...state.messages.values()];
    expect(message !== undefined && remembered(message)).toBe(true);
    const moved = ImmutableMap([[`${message?.id}0`, message as MessageRecord]]);
    expect(() => encodeSnapshot({ ...state, messages: moved })).toThrow(RangeError);
  });

  it("bytes decoded are re-used when canonical, never when not (they decode, but differ)", () => {
    const state = vectorState();
    const [message] = [...state.messages.values()] as [MessageRecord];
    const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
    /** The snapshot of `state` with its post written by `entry`. */
    const withPost = (entry: (w: SnapshotWriter) => void) => {
      const bytes = encodeSnapshot(afresh(state));
      const w = new SnapshotWriter();
      const canonical = encodeSnapshot(afresh({ ...state, messages: ImmutableMap() }));
      // The snapshot without posts ends with a zero count of posts, then the applied ids.
      const tail = encodeTail(state);
      const head = canonical.length - 4 - tail.length - 1;
      w.copy(canonical, 0, head);
      w.uint(1);
      entry(w);
      w.copy(tail, 0, tail.length);
      return { bytes, altered: w.finish() };
    };
    /** The post's fields, its author and clock written by the given functions. */
    const fields = (
      w: SnapshotWriter,
      author = () => w.str(message.author),
      clock = () => w.big(message.clock),
    ) => {
      w.str(message.id);
      w.str(message.channelId);
      author();
      clock();
      w.str(message.text);
      w.bool(false);
      w.bool(message.deleted);
      w.bool(false);
      w.bool(message.pinned);
    };
    const plain = withPost((w) => fields(w));
    expect(toHex(plain.altered)).toBe(toHex(plain.bytes));
    const decoded = decodeSnapshot(plain.altered, owner);
    expect(remembered(decoded.messages.get(message.id) as MessageRecord)).toBe(true);
    expect(toHex(encodeSnapshot(decoded))).toBe(toHex(plain.bytes));
    expect(message.clock).toBeLessThan(0x80n);
    const variants = [
      // The clock with a needless zero byte.
      withPost((w) =>
        fields(w, undefined, () => {
          w.byte(0x80 | Number(message.clock));
          w.byte(0);
        }),
      ),
      // The 64-hex author as UTF-8.
      withPost((w) =>
        fields(w, () => {
          w.uint(2 * message.author.length);
          w.copy(ascii(message.author), 0, message.author.length);
        }),
      ),
    ];
    for (const { bytes, altered } of variants) {
      expect(toHex(altered)).not.toBe(toHex(bytes));
      const read = decodeSnapshot(altered, owner);
      expect(canonicalState(read)).toBe(canonicalState(state));
      expect(remembered(read.messages.get(message.id) as MessageRecord)).toBe(false);
      expect(toHex(encodeSnapshot(read))).toBe(toHex(bytes));
    }
  });

  it("a buffer is dropped once a later snapshot re-used bytes from it", () => {
    const state = vectorState();
    encodeSnapshot(state);
    const [message] = [...state.messages.values()] as [MessageRecord];
    const kept = { ...message, id: "a later post", text: "kept" };
    const later = {
      ...state,
      messages: ImmutableMap([
        [message.id, message],
        [kept.id, kept],
      ]),
    };
    encodeSnapshot(later);
    expect(remembered(message) && remembered(kept)).toBe(true);
    // The post leaves the snapshot (history retention) but stays in memory: its bytes go.
    encodeSnapshot({ ...later, messages: ImmutableMap([[kept.id, kept]]) });
    expect(remembered(kept)).toBe(true);
    expect(remembered(message)).toBe(false);
  });

  it("a text starting with U+FEFF keeps it through a snapshot", () => {
    const state = vectorState();
    const messages = state.messages.map((m) => ({ ...m, text: "\uFEFFbom" }));
    const decoded = decodeSnapshot(encodeSnapshot({ ...state, messages }), owner);
    expect([...decoded.messages.values()].map((m) => m.text)).toEqual(["\uFEFFbom"]);
  });
});

/** The applied ids' section of `state`'s snapshot (what follows the posts), CRC excluded. */
function encodeTail(state: OrgState): Uint8Array {
  const w = new SnapshotWriter();
  w.uint(state.applied.size);
  for (const [id, clock] of state.applied) {
    w.str(id);
    w.big(clock);
  }
  w.finish();
  return w.buffer.slice(0, w.position);
}

/** The string encoding of the writer before it wrote in place (the format's definition). */
function referenceStr(value: string): number[] {
  const varint = (n: number) => {
    const out: number[] = [];
    for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80);
    out.push(n);
    return out;
  };
  if (/^(?:[0-9a-f]{2}){1,255}$/.test(value)) {
    const bytes = value.match(/../g)?.map((pair) => Number.parseInt(pair, 16)) ?? [];
    return [...varint(2 * bytes.length + 1), ...bytes];
  }
  const utf8 = new TextEncoder().encode(value);
  return [...varint(2 * utf8.length), ...utf8];
}

describe("SnapshotWriter.str and crc32", () => {
  const units = (max: number) =>
    fc
      .array(
        fc.oneof(
          fc.constantFrom(..."0123456789abcdefABC"),
          fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
          fc.constantFrom("é", "€", "😀", "\uFEFF"),
        ),
        { maxLength: max },
      )
      .map((parts) => parts.join(""));

  it("writes every string as the format defines it (hex, ASCII, UTF-8, lone surrogates)", () => {
    const strings = fc.oneof(
      units(40),
      units(700),
      fc.integer({ min: 0, max: 300 }).map((n) => "ab".repeat(n)),
      fc.integer({ min: 0, max: 300 }).map((n) => `${"0".repeat(2 * n)}A`),
      fc.integer({ min: 20, max: 80 }).map((n) => "€".repeat(n)),
    );
    fc.assert(
      fc.property(fc.array(strings, { maxLength: 4 }), (values) => {
        const w = new SnapshotWriter();
        for (const value of values) w.str(value);
        const written = w.finish();
        const expected = values.flatMap(referenceStr);
        expect(toHex(written.subarray(0, written.length - 4))).toBe(
          toHex(Uint8Array.from(expected)),
        );
      }),
      { numRuns: 500, seed: 0x5a0102 },
    );
    // The edges: 255 bytes of hex (a two-byte header) and one more (UTF-8).
    for (const value of ["ab".repeat(255), "ab".repeat(256), "ab".repeat(63), "ab".repeat(64)]) {
      const w = new SnapshotWriter();
      w.str(value);
      expect(toHex(w.finish().subarray(0, -4))).toBe(toHex(Uint8Array.from(referenceStr(value))));
    }
  });

  it("hexBytes writes what str writes for the hex of the bytes (1 to 255 of them)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 255 }), (bytes) => {
        const source = Uint8Array.of(7, ...bytes, 9);
        const w = new SnapshotWriter();
        w.hexBytes(source, 1, 1 + bytes.length);
        expect(toHex(w.finish().subarray(0, -4))).toBe(
          toHex(Uint8Array.from(referenceStr(toHex(bytes)))),
        );
      }),
      { numRuns: 200, seed: 0x5a0104 },
    );
    expect(() => new SnapshotWriter().hexBytes(new Uint8Array(256), 0, 256)).toThrow(RangeError);
    expect(() => new SnapshotWriter().hexBytes(new Uint8Array(2), 1, 1)).toThrow(RangeError);
  });

  it("crc32 is the bitwise CRC-32 at every alignment and length", () => {
    const reference = (bytes: Uint8Array) => {
      let c = 0xffffffff;
      for (const b of bytes) {
        c ^= b;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      }
      return (c ^ 0xffffffff) >>> 0;
    };
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: 0, max: 7 }),
        (data, offset) => {
          const buffer = new Uint8Array(data.length + offset);
          buffer.set(data, offset);
          const view = buffer.subarray(offset);
          expect(crc32(view)).toBe(reference(data));
          const end = Math.floor(data.length / 2);
          expect(crc32(view, end)).toBe(reference(data.subarray(0, end)));
        },
      ),
      { numRuns: 500, seed: 0x5a0103 },
    );
  });
});
