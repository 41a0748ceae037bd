/**
 * The snapshot's join requests read at first use (docs/SCALE.md, "State snapshot"): a decode checks
 * every entry but reads whole only the pending and rejected ones; the others are read when first
 * looked up or walked, once, equal to what an eager read gave.
 */
import { describe, expect, it, vi } from "vitest";
import type { OrgEvent } from "../src/events.js";
import { hasPendingRequests, pendingRequests } from "../src/requests.js";
import { decodeSnapshot, encodeSnapshot } from "../src/snapshot.js";
import { crc32, isSnapshotFormatError, SnapshotReader } from "../src/snapshot-codec.js";
import type { OrgState } from "../src/state.js";
import { applyAll, owner, Script } from "./event-fixtures.js";

const keyOf = (i: number) => `b${i.toString(16).padStart(63, "0")}`;
/** Event ids as 64-hex (the applied ids then take their table path: no string per id either). */
const idOf = (tag: string, i: number) => `${tag}${i.toString(16).padStart(63, "0")}`;

/** `count` strangers' requests cancelled (decided, not members), one pending, one rejected. */
function withRequests(count: number, displayName = "stranger"): OrgState {
  const s = new Script();
  const join = { chatId: "", ensName: "", displayName };
  const events: OrgEvent[] = [{ ...s.created(), id: idOf("0", 0) }];
  for (let i = 0; i < count; i++) {
    events.push(s.next("request.sent", keyOf(i), join, { id: idOf("c", i) }));
    events.push(
      s.next("request.cancelled", keyOf(i), { requestId: idOf("c", i) }, { id: idOf("d", i) }),
    );
  }
  events.push(s.next("request.sent", keyOf(count), join, { id: idOf("e", 0) }));
  events.push(s.next("request.sent", keyOf(count + 1), join, { id: idOf("e", 1) }));
  events.push(
    s.next(
      "request.rejected",
      owner,
      { requestId: idOf("e", 1), reason: "no" },
      { id: idOf("e", 2) },
    ),
  );
  const result = applyAll(events);
  expect(Object.fromEntries(result.rejections)).toEqual({});
  return result.state;
}

function expectFormatError(bytes: Uint8Array): void {
  let caught: unknown;
  try {
    decodeSnapshot(bytes, owner);
  } catch (error) {
    caught = error;
  }
  expect(isSnapshotFormatError(caught)).toBe(true);
}

/** `bytes` with their checksum made right again (a change the checksum does not catch). */
function resealed(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(
    bytes.length - 4,
    crc32(bytes, bytes.length - 4),
  );
  return bytes;
}

/** Where `run` starts in `bytes`, or -1. */
function indexOfRun(bytes: Uint8Array, run: Uint8Array): number {
  outer: for (let i = 0; i + run.length <= bytes.length; i++) {
    for (let j = 0; j < run.length; j++) if (bytes[i + j] !== run[j]) continue outer;
    return i;
  }
  return -1;
}

describe("a snapshot's requests, read at first use", () => {
  it("a pending or rejected request's text written another way than the encoder's is read, and written the encoder's way again (its bytes not re-used)", () => {
    const plain = new TextEncoder().encode("z".repeat(64));
    const other = new TextEncoder().encode("a".repeat(64)); // 64-hex: the encoder packs it
    const bytes = encodeSnapshot(withRequests(0, "z".repeat(64)));
    let at = indexOfRun(bytes, plain);
    expect(at).toBeGreaterThanOrEqual(0);
    for (; at >= 0; at = indexOfRun(bytes, plain)) bytes.set(other, at);
    const decoded = decodeSnapshot(resealed(bytes), owner);
    const names = [...decoded.requests.values()].map((r) => r.displayName);
    expect(names).toEqual(["a".repeat(64), "a".repeat(64)]);
    const again = encodeSnapshot(decoded);
    expect(indexOfRun(again, other)).toBe(-1);
    expect(again).toEqual(encodeSnapshot(decodeSnapshot(again, owner)));
  });

  it("a decode makes as many strings with 10 or 300 decided requests; a look-up reads one, once, as the eager read did", () => {
    const strings = (count: number) => {
      const bytes = encodeSnapshot(withRequests(count));
      const str = vi.spyOn(SnapshotReader.prototype, "str");
      try {
        decodeSnapshot(bytes, owner);
        return str.mock.calls.length;
      } finally {
        str.mockRestore();
      }
    };
    expect(strings(300)).toBe(strings(10));

    const state = withRequests(50);
    const decoded = decodeSnapshot(encodeSnapshot(state), owner);
    // The index answers without reading the decided ones.
    expect(pendingRequests(decoded, 0).map((r) => r.id)).toEqual([idOf("e", 0)]);
    expect(hasPendingRequests(decoded, 1, 0)).toBe(true);
    const first = decoded.requests.get(idOf("c", 7));
    expect(first).toEqual(state.requests.get(idOf("c", 7)));
    expect(decoded.requests.get(idOf("c", 7))).toBe(first);
    expect(decoded.requests.has(idOf("c", 8))).toBe(true);
    expect(decoded.requests.get("nope")).toBeUndefined();
    expect(decoded.requests.has(keyOf(3))).toBe(false);
    // A walk reads the rest, in the order written, the read one as read.
    expect([...decoded.requests.entries()]).toEqual([...state.requests.entries()]);
    const at = [...state.requests.keys()].indexOf(idOf("c", 7));
    expect([...decoded.requests.values()][at]).toBe(first);
    expect(decoded.requests.size).toBe(state.requests.size);
    // Encoded again, the same bytes (the entries read later copy theirs too).
    expect(encodeSnapshot(decoded)).toEqual(encodeSnapshot(state));
  });

  it("64-hex keys that share their first bytes are each found; the same key twice is refused", () => {
    const s = new Script();
    const join = { chatId: "", ensName: "", displayName: "x" };
    const a = "a".repeat(62);
    const ids = [`${a}a1`, `${a}a2`, `${a}30`];
    const events: OrgEvent[] = [s.created()];
    ids.forEach((id, i) => {
      events.push(s.next("request.sent", keyOf(i), join, { id }));
      events.push(s.next("request.cancelled", keyOf(i), { requestId: id }));
    });
    const state = applyAll(events).state;
    const bytes = encodeSnapshot(state);
    const decoded = decodeSnapshot(bytes, owner);
    for (const id of ids) expect(decoded.requests.get(id)).toEqual(state.requests.get(id));
    expect(decoded.requests.get(`${"a".repeat(63)}3`)).toBeUndefined();
    // The second id made the first (its 32 bytes after the same one-byte header).
    const hex = Buffer.from(bytes).toString("hex");
    const second = hex.indexOf(`41${ids[1]}`) / 2;
    const twice = bytes.slice();
    twice[second + 32] = 0xa1;
    expectFormatError(resealed(twice));
  });

  it("refuses at decode what an eager read refused: a decided request's malformed UTF-8, a status out of range", () => {
    const bytes = encodeSnapshot(withRequests(3, "ZZZZ"));
    const hex = Buffer.from(bytes).toString("hex");
    // A decided request's display name (the first entry), made malformed UTF-8.
    const name = hex.indexOf(Buffer.from("ZZZZ").toString("hex")) / 2;
    const utf8 = bytes.slice();
    utf8[name] = 0xff;
    expectFormatError(resealed(utf8));
    // Its status ("cancelled"), made another word of the same length.
    const status = hex.indexOf(Buffer.from("cancelled").toString("hex")) / 2;
    const word = bytes.slice();
    word[status] = "x".charCodeAt(0);
    expectFormatError(resealed(word));
    // Unchanged, it decodes.
    expect(decodeSnapshot(bytes, owner).requests.size).toBe(5);
  });
});
