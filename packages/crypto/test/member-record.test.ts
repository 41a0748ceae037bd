import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { memberRecordBytes, writeMemberRecord } from "../src/group-parts-encoding.js";
import { StateWriter } from "../src/state-bytes.js";

/** The layout docs/PROTOCOL.md ("Saved group state") gives, through the general writer. */
function reference(leaf: number, leafEpoch: bigint, leafSecret: Uint8Array, prekey: Uint8Array) {
  const writer = new StateWriter();
  writer.u8(1);
  writer.u32(leaf);
  writer.u64(leafEpoch);
  writer.fixed(leafSecret);
  writer.fixed(prekey);
  return writer.finish();
}

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe("writeMemberRecord (written in place, one per remaining member at a removal)", () => {
  it("writes the layout of the general writer, byte for byte", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
        bytes32,
        bytes32,
        (leaf, leafEpoch, leafSecret, prekey) => {
          const written = writeMemberRecord(leaf, { leafEpoch, leafSecret, prekey });
          expect(written.length).toBe(memberRecordBytes);
          expect(written).toEqual(reference(leaf, leafEpoch, leafSecret, prekey));
        },
      ),
      { seed: 18, numRuns: 500 },
    );
  });

  it("a fixed vector", () => {
    const record = {
      leafEpoch: 0x0102030405060708n,
      leafSecret: new Uint8Array(32).fill(0xaa),
      prekey: new Uint8Array(32).fill(0xbb),
    };
    const hex = Buffer.from(writeMemberRecord(0xfedcba98, record)).toString("hex");
    expect(hex).toBe(`01fedcba980102030405060708${"aa".repeat(32)}${"bb".repeat(32)}`);
  });

  it("refuses a key of the wrong length or a leaf or epoch out of range", () => {
    const ok = { leafEpoch: 1n, leafSecret: new Uint8Array(32), prekey: new Uint8Array(32) };
    expect(() => writeMemberRecord(1, { ...ok, leafSecret: new Uint8Array(31) })).toThrow(
      /leafSecret/,
    );
    expect(() => writeMemberRecord(1, { ...ok, prekey: new Uint8Array(33) })).toThrow(/prekey/);
    expect(() => writeMemberRecord(2 ** 32, ok)).toThrow(RangeError);
    expect(() => writeMemberRecord(1, { ...ok, leafEpoch: -1n })).toThrow(RangeError);
    expect(() => writeMemberRecord(1, { ...ok, leafEpoch: 2n ** 64n })).toThrow(RangeError);
  });
});
