/**
 * The snapshot reader's two ways through a string (`SnapshotReader.str` makes it, `skipStr` steps
 * over it, for the requests read at first use): they share their header checks, so they must
 * accept and refuse the same bytes and end at the same place (docs/SCALE.md, "State snapshot").
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isSnapshotFormatError, SnapshotReader, SnapshotWriter } from "../src/snapshot-codec.js";

/** What reading one string from `bytes` gives: where it ended, or the error's message. */
function outcome(bytes: Uint8Array, read: (r: SnapshotReader) => void): string {
  const r = SnapshotReader.checked(bytes, 0, bytes.length);
  try {
    read(r);
    return `ended at ${r.position}`;
  } catch (error) {
    if (!isSnapshotFormatError(error)) throw error;
    // "Not a valid state snapshot: <detail>. <hint>": the detail.
    return error.message.replace(/^Not a valid state snapshot: /, "").replace(/\. .*$/s, "");
  }
}

const both = (bytes: Uint8Array) => ({
  str: outcome(bytes, (r) => r.str()),
  skip: outcome(bytes, (r) => r.skipStr()),
});

/** A varint header then `body`. */
function withHeader(header: number, body: number[]): Uint8Array {
  const out: number[] = [];
  let rest = header;
  for (; rest >= 0x80; rest = Math.floor(rest / 0x80)) out.push((rest % 0x80) | 0x80);
  out.push(rest);
  return Uint8Array.from([...out, ...body]);
}

describe("SnapshotReader: str and skipStr", () => {
  it("refuse the same hostile headers with the same error", () => {
    // Hex of 256 bytes (header 2 · 256 + 1), all present: longer than the writer packs.
    const long = withHeader(2 * 256 + 1, new Array(256).fill(0xab));
    expect(both(long)).toEqual({ str: "hex string too long", skip: "hex string too long" });
    // Hex of 255 bytes: the longest the writer packs, read by both.
    const longest = withHeader(2 * 255 + 1, new Array(255).fill(0xab));
    expect(both(longest)).toEqual({ str: "ended at 257", skip: "ended at 257" });
    // A length beyond the bytes left, for hex and for UTF-8.
    for (const header of [2 * 10 + 1, 2 * 10]) {
      expect(both(withHeader(header, [1, 2, 3]))).toEqual({
        str: "string beyond the end",
        skip: "string beyond the end",
      });
    }
    // Malformed UTF-8.
    expect(both(withHeader(4, [0xff, 0xfe]))).toEqual({
      str: "invalid UTF-8",
      skip: "invalid UTF-8",
    });
  });

  it("agree on any bytes: both refuse, or both end at the same place (fast-check)", () => {
    const header = fc.oneof(
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 500, max: 530 }),
      fc.integer({ min: 0, max: 2 ** 20 }),
    );
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 300 }), (h, body) => {
        const bytes = withHeader(h, [...body]);
        const { str, skip } = both(bytes);
        expect(skip).toBe(str);
      }),
      { numRuns: 2000, seed: 1717 },
    );
  });

  it("step over every string the writer writes, as str reads it", () => {
    const values = ["", "a", "ab", "00ff", "é", "0".repeat(510), "0".repeat(512), "\u{1F600}x"];
    const w = new SnapshotWriter();
    for (const value of values) w.str(value);
    const bytes = w.finish();
    const read = SnapshotReader.checked(bytes, 0, bytes.length - 4);
    const skipped = SnapshotReader.checked(bytes, 0, bytes.length - 4);
    for (const value of values) {
      expect(read.str()).toBe(value);
      skipped.skipStr();
      expect(skipped.position).toBe(read.position);
    }
    read.done();
    skipped.done();
  });
});
