import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { nobleProvider, nodeProvider } from "@orgchat/crypto";
import { describe, expect, it } from "vitest";
import {
  binaryRecordMark,
  decodeJson,
  decodeStored,
  encodeJson,
  encodeStored,
  flaggedBinaryRecordMark,
  hashId,
  payloadId,
} from "../src/encoding.js";

describe("payloadId", () => {
  it("is hashId by either provider: with sha256Hex (node) and through sha256 (noble)", () => {
    for (const length of [0, 1, 55, 64, 650, 4096]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff);
      const id = hashId(bytes);
      expect(id).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(payloadId(nodeProvider(), bytes)).toBe(id);
      expect(payloadId(nobleProvider(), bytes)).toBe(id);
    }
  });
});

describe("encodeJson / decodeJson", () => {
  it("round-trips bigints and bytes, including Node Buffers (libp2p hands them out)", () => {
    const value = {
      clock: 2n ** 64n - 1n,
      plain: new Uint8Array([1, 2, 3]),
      buffer: Buffer.from([4, 5, 6]),
      nested: [{ key: Buffer.from("hi") }],
    };
    const back = decodeJson<typeof value>(encodeJson(value));
    expect(back.clock).toBe(2n ** 64n - 1n);
    expect(back.plain).toEqual(new Uint8Array([1, 2, 3]));
    expect(back.buffer).toBeInstanceOf(Uint8Array);
    expect([...back.buffer]).toEqual([4, 5, 6]);
    expect([...(back.nested[0]?.key ?? [])]).toEqual([104, 105]);
  });
});

describe("encodeStored / decodeStored", () => {
  const value = {
    type: "message.posted",
    id: "ab".repeat(32),
    clock: 2n ** 63n - 1n,
    sentAt: 1_700_000_000_123,
    negative: -5,
    fraction: 0.5,
    text: "héllo 👋 ".repeat(40),
    short: "",
    bytes: Buffer.from([0, 1, 255]),
    list: [true, false, null, [1, 2], { nested: "x" }],
    dropped: undefined,
  };

  it("round-trips plain data, Buffers as bytes, and drops undefined fields like JSON", () => {
    const stored = encodeStored(value);
    expect(stored[0]).toBe(binaryRecordMark);
    const { value: back, flag } = decodeStored<typeof value>(stored);
    expect(flag).toBe(false);
    const { dropped: _, ...rest } = value;
    expect(back).toEqual({ ...rest, bytes: new Uint8Array([0, 1, 255]) });
    expect("dropped" in (back as object)).toBe(false);
    expect(back.bytes).toBeInstanceOf(Uint8Array);
  });

  it("carries the flag bit, and is smaller than the JSON form", () => {
    const flagged = encodeStored(value, true);
    expect(flagged[0]).toBe(flaggedBinaryRecordMark);
    expect(decodeStored(flagged).flag).toBe(true);
    expect(flagged.length).toBeLessThan(encodeJson(value).length);
  });

  it("reads records written as JSON by older clients", () => {
    expect(decodeStored(encodeJson({ a: 1n, b: new Uint8Array([2]) }))).toEqual({
      value: { a: 1n, b: new Uint8Array([2]) },
      flag: false,
    });
  });

  it("returns each record as its own bytes, whatever the size, even from a nested call", () => {
    const small = encodeStored(value);
    const copy = small.slice();
    const large = encodeStored({ text: "y".repeat(100_000) }); // beyond the kept scratch buffer
    const nested = {
      outer: "a",
      get inner() {
        return encodeStored({ text: "nested" });
      },
    };
    const withNested = encodeStored(nested);
    const after = encodeStored(value);
    expect(small).toEqual(copy);
    expect(after).toEqual(copy);
    expect(decodeStored<{ text: string }>(large).value.text).toBe("y".repeat(100_000));
    const back = decodeStored<{ outer: string; inner: Uint8Array }>(withNested).value;
    expect(back.outer).toBe("a");
    expect(decodeStored(back.inner).value).toEqual({ text: "nested" });
    // Its own bytes: writing into one record changes no other.
    after.fill(0xee);
    expect(small).toEqual(copy);
  });

  it("never changes a record once returned, however many records share a slab after it", () => {
    // Records of every size around the slab's bounds (on-heap ≤ 64 B, slab ≤ 2 KiB, own buffer
    // beyond), thousands of them: each keeps its bytes while later ones are written.
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    const kept: Array<{ record: Uint8Array; copy: Uint8Array }> = [];
    for (let i = 0; i < 3000; i++) {
      const size = next() % 2200;
      const record = encodeStored({ i, text: String.fromCharCode(97 + (i % 26)).repeat(size) });
      kept.push({ record, copy: record.slice() });
    }
    for (const { record, copy } of kept) expect(record).toEqual(copy);
    // Records cover disjoint bytes: writing every one leaves the others as they were.
    for (const { record } of kept) record.fill(0);
    for (const { record, copy } of kept) {
      record.set(copy);
    }
    for (const { record, copy } of kept) expect(record).toEqual(copy);
  });

  it("writes the same bytes as ever (a stored record is read back by older and newer clients)", () => {
    // Strings around the one-byte length prefix's edge, multi-byte text and a long one; then short
    // strings at every offset near the end of the scratch buffer.
    const record = {
      text: "héllo 👋 ".repeat(40),
      id: "ab".repeat(32),
      short: "k",
      edge: "x".repeat(42),
      edge2: "y".repeat(43),
      big: "z".repeat(5000),
    };
    const digest = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
    expect(digest(encodeStored(record))).toBe(
      "82745231c3ca72bae2bb9bc1e136b50f12cbd1918064c5d1fe2f5756c1fda864",
    );
    const reset = { text: "r".repeat(70_000) }; // beyond the kept size: the next call starts at 1 KiB
    for (let n = 300; n < 345; n++) {
      for (const pad of ["p".repeat(3 * n), "€".repeat(n)]) {
        encodeStored(reset);
        const value = { pad, k: "k", é: "é", e: "" };
        expect(decodeStored(encodeStored(value)).value).toEqual(value);
      }
    }
  });

  it("refuses damaged records with an error", () => {
    const stored = encodeStored(value);
    expect(() => decodeStored(stored.subarray(0, stored.length - 3))).toThrowError(RangeError);
    expect(() => decodeStored(Uint8Array.of(...stored, 0))).toThrowError(RangeError);
    expect(() => decodeStored(Uint8Array.of(binaryRecordMark, 99))).toThrowError(RangeError);
    const deep = Uint8Array.of(binaryRecordMark, ...new Array(100).fill([8, 1]).flat(), 1);
    expect(() => decodeStored(deep)).toThrowError(/too deep/);
  });
});
