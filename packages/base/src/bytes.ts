/**
 * Bytes, hex and UTF-8 helpers shared by every package. None of them is constant-time: compare
 * secrets with the crypto package's constant-time equality, never with {@link equalBytes}.
 */

/** True when `a` and `b` hold the same bytes (public values only: stops at the first difference). */
export function equalBytes(a: Uint8Array, b: Uint8Array | undefined): boolean {
  if (b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const hexDigits = "0123456789abcdef";
/** `hexPairs[b]` is the two lower-case hex digits of byte `b`. */
const hexPairs: readonly string[] = Array.from(
  { length: 256 },
  (_, b) => (hexDigits[b >> 4] as string) + (hexDigits[b & 15] as string),
);
/** Bytes per joined chunk in {@link toHex} (bounds the temporary array). */
const hexChunk = 8192;

/** The value of one hex digit's char code (the caller has checked it is one). */
function nibble(code: number): number {
  // 0-9: 48-57; A-F: 65-70; a-f: 97-102.
  return code <= 57 ? code - 48 : (code | 32) - 87;
}

/** Char codes of the lower-case hex digits, by value. */
const hexCodes: readonly number[] = Array.from(hexDigits, (c) => c.charCodeAt(0));
/**
 * Inputs up to this many bytes are spelled by one `String.fromCharCode` call on their digits' codes
 * (a flat string, no string per byte): a 32-byte id in ~0.5 instead of ~2 µs — a 10,000-member
 * owner's start spells every roster leaf's identity key. Longer inputs take the chunked joins.
 */
const codesMaxBytes = 256;

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  const length = bytes.length;
  if (length <= codesMaxBytes) {
    const codes = new Array<number>(2 * length);
    for (let i = 0; i < length; i++) {
      const b = bytes[i] as number;
      codes[2 * i] = hexCodes[b >> 4] as number;
      codes[2 * i + 1] = hexCodes[b & 15] as number;
    }
    return String.fromCharCode.apply(null, codes);
  }
  // One table lookup per byte, joined in chunks: a string built by `+=` per byte costs ~20 ms for
  // 140 KiB (a whole hostile message), the chunks ~1 ms.
  const chunks: string[] = [];
  for (let start = 0; start < bytes.length; start += hexChunk) {
    const end = Math.min(bytes.length, start + hexChunk);
    const pairs = new Array<string>(end - start);
    for (let i = start; i < end; i++) pairs[i - start] = hexPairs[bytes[i] as number] as string;
    chunks.push(pairs.join(""));
  }
  return chunks.join("");
}

/** True when `text` is non-empty-or-empty, even-length hex (either case). */
export function isHex(text: string): boolean {
  return text.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(text);
}

/**
 * The bytes of a hex string (either case).
 *
 * @throws {TypeError} when `hex` has an odd length or a character that is not a hex digit
 */
export function fromHex(hex: string): Uint8Array {
  if (!isHex(hex)) {
    throw new TypeError(
      `fromHex: expected an even number of hex digits, got ${JSON.stringify(hex.slice(0, 80))}`,
    );
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));
  }
  return out;
}

/** One array with the bytes of every part, in order. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Counts UTF-8 bytes of `text` up to just past `max`. A lone surrogate ends the count with `-1` when
 * `lone` is `"refuse"`, or counts as the 3 bytes of U+FFFD when it is `"replace"` (what an encoder does).
 */
function countUtf8(text: string, max: number, lone: "refuse" | "replace"): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else if (lone === "refuse") return -1;
      else bytes += 3;
    } else bytes += 3;
    if (bytes > max) return bytes;
  }
  return bytes;
}

/**
 * The UTF-8 length of `text` in bytes, without encoding it; `-1` when `text` holds a lone surrogate
 * (such a string has no UTF-8 form: an encoder would replace it, so it could not round-trip). Counting
 * stops once the length exceeds `max` (the result is then some value above `max`), so a limit check
 * on a huge string costs only the limit.
 */
export function utf8Length(text: string, max = Number.POSITIVE_INFINITY): number {
  return countUtf8(text, max, "refuse");
}

/**
 * The length in bytes of `text` once encoded by `TextEncoder` (a lone surrogate counts as the 3 bytes
 * of U+FFFD that replaces it): what protobuf writes for a string field.
 */
export function encodedUtf8Length(text: string): number {
  return countUtf8(text, Number.POSITIVE_INFINITY, "replace");
}
