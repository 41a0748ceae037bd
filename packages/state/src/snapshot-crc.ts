/**
 * CRC-32 (IEEE 802.3, the zlib one) of the state snapshot's bytes: its last four bytes hold it
 * (`snapshot-codec.ts`). It detects corruption, not tampering.
 *
 * @module
 */

/**
 * The CRC-32 tables for slicing by 16: `tables[k][n]` is the CRC of byte `n` followed by `k` zero
 * bytes. Sixteen bytes per step, read as four 32-bit words: a 10,000-member owner's 2.3 MB
 * snapshot is checked at every start (and summed at every write) in about a sixth of the time of
 * a byte at a time (half that of slicing by 8 with byte reads: 0.65 ns instead of 1.25 ns a byte).
 */
const crcTables = (() => {
  const tables = Array.from({ length: 16 }, () => new Uint32Array(256));
  const first = tables[0] as Uint32Array;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    first[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = first[n] as number;
    for (let k = 1; k < 16; k++) {
      c = (first[c & 0xff] as number) ^ (c >>> 8);
      (tables[k] as Uint32Array)[n] = c >>> 0;
    }
  }
  return tables as unknown as CrcTables;
})();

type T = Uint32Array;
/** Sixteen tables of 256 entries. */
type CrcTables = readonly [T, T, T, T, T, T, T, T, T, T, T, T, T, T, T, T];

/**
 * Whether typed arrays are little-endian: else {@link crc32} reads bytes one by one, and
 * `hexIdTable` writes no 64-bit clock by its 32-bit halves.
 */
export const littleEndian = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * CRC-32 (IEEE 802.3) of `bytes[0, end)`: detects every error burst up to 32 bits (so any flipped
 * byte), not tampering (the store is not an adversary the snapshot defends against: the events log
 * beside it is not authenticated either).
 */
export function crc32(bytes: Uint8Array, end = bytes.length): number {
  const t = crcTables;
  const t0 = t[0];
  let c = 0xffffffff;
  let i = 0;
  // Byte by byte up to a 4-byte boundary of the buffer (typed-array views must be aligned).
  for (; i < end && ((bytes.byteOffset + i) & 3) !== 0; i++) {
    c = (t0[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  if (littleEndian && end - i >= 16) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, ((end - i) >>> 4) << 2);
    const [, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15] = t;
    const count = words.length;
    for (let k = 0; k < count; k += 4) {
      const a = c ^ (words[k] as number);
      const b = words[k + 1] as number;
      const d = words[k + 2] as number;
      const e = words[k + 3] as number;
      c =
        (t15[a & 0xff] as number) ^
        (t14[(a >>> 8) & 0xff] as number) ^
        (t13[(a >>> 16) & 0xff] as number) ^
        (t12[a >>> 24] as number) ^
        (t11[b & 0xff] as number) ^
        (t10[(b >>> 8) & 0xff] as number) ^
        (t9[(b >>> 16) & 0xff] as number) ^
        (t8[b >>> 24] as number) ^
        (t7[d & 0xff] as number) ^
        (t6[(d >>> 8) & 0xff] as number) ^
        (t5[(d >>> 16) & 0xff] as number) ^
        (t4[d >>> 24] as number) ^
        (t3[e & 0xff] as number) ^
        (t2[(e >>> 8) & 0xff] as number) ^
        (t1[(e >>> 16) & 0xff] as number) ^
        (t0[e >>> 24] as number);
    }
    i += 4 * count;
  }
  for (; i < end; i++) c = (t0[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
