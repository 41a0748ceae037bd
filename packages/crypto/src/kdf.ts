import type { CryptoProvider } from "./provider.js";

/** The protocol label prefix of every labelled derivation (docs/PROTOCOL.md, "Key derivation"). */
export const labelPrefix = "orgchat v1 ";

const encoder = new TextEncoder();
const labelCache = new Map<string, Uint8Array>();

function labelBytes(label: string): Uint8Array {
  let bytes = labelCache.get(label);
  if (bytes === undefined) {
    bytes = encoder.encode(labelPrefix + label);
    if (bytes.length > 255) throw new RangeError(`label: "${label}" is longer than 255 bytes`);
    labelCache.set(label, bytes);
  }
  return bytes;
}

/**
 * The HKDF `info` of a labelled expansion, MLS style (RFC 9420 §8) with our prefix:
 *
 * ```
 * u16 length ‖ u8 len(prefix+label) ‖ "orgchat v1 " label ‖ u32 len(context) ‖ context
 * ```
 */
export function labelInfo(label: string, context: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) {
    throw new RangeError(`length: must be 1..8160, got ${length}`);
  }
  const name = labelBytes(label);
  const info = new Uint8Array(2 + 1 + name.length + 4 + context.length);
  const view = new DataView(info.buffer);
  view.setUint16(0, length);
  info[2] = name.length;
  info.set(name, 3);
  view.setUint32(3 + name.length, context.length);
  info.set(context, 7 + name.length);
  return info;
}

/**
 * `ExpandWithLabel(secret, label, context, length) = HKDF-Expand(secret, labelInfo(...), length)`.
 * `secret` must be a pseudorandom key (an HKDF-Extract output or an earlier expansion).
 */
export function expandWithLabel(
  provider: CryptoProvider,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  return provider.hkdfExpand(secret, labelInfo(label, context, length), length);
}

const empty = new Uint8Array(0);

/** `DeriveSecret(secret, label) = ExpandWithLabel(secret, label, "", 32)`. */
export function deriveSecret(
  provider: CryptoProvider,
  secret: Uint8Array,
  label: string,
): Uint8Array {
  return expandWithLabel(provider, secret, label, empty, 32);
}

/** Big-endian encodings used as derivation contexts. */
export function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

export function u64(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value);
  return out;
}
