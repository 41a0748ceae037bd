/**
 * The protobuf wire format without a schema, for the receive-path fuzzer: parse any message into its
 * fields (number, wire type, raw value) and write fields back, so that a mutation can edit one field
 * of a decoded message — or of a message nested in a bytes field — and re-encode the rest exactly.
 *
 * @module
 */

/** One field as it appears on the wire. */
export interface ProtoField {
  readonly number: number;
  /** 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
  readonly wireType: 0 | 1 | 2 | 5;
  /** A varint's value, or the raw bytes of the other wire types. */
  readonly value: bigint | Uint8Array;
}

const maxU64 = (1n << 64n) - 1n;

/** Reads a varint at `at`: `[value, next offset]`, or undefined when malformed. */
function readVarint(bytes: Uint8Array, at: number): [bigint, number] | undefined {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    const byte = bytes[at + i];
    if (byte === undefined) return undefined;
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return value > maxU64 ? undefined : [value, at + i + 1];
  }
  return undefined;
}

function writeVarint(out: number[], value: bigint): void {
  let v = value & maxU64;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

/**
 * Parses `bytes` as a protobuf message: every byte must belong to a well-formed field.
 *
 * @returns the fields in wire order, or undefined when the bytes are not a message (which is what
 *   a bytes or string field usually is)
 */
export function parseProto(bytes: Uint8Array): ProtoField[] | undefined {
  const fields: ProtoField[] = [];
  let at = 0;
  while (at < bytes.length) {
    const tag = readVarint(bytes, at);
    if (tag === undefined || tag[0] > 0xffff_ffffn) return undefined;
    at = tag[1];
    const number = Number(tag[0] >> 3n);
    const wireType = Number(tag[0] & 7n);
    if (number === 0) return undefined;
    switch (wireType) {
      case 0: {
        const value = readVarint(bytes, at);
        if (value === undefined) return undefined;
        fields.push({ number, wireType, value: value[0] });
        at = value[1];
        break;
      }
      case 1:
      case 5: {
        const size = wireType === 1 ? 8 : 4;
        if (at + size > bytes.length) return undefined;
        fields.push({ number, wireType, value: bytes.slice(at, at + size) });
        at += size;
        break;
      }
      case 2: {
        const length = readVarint(bytes, at);
        if (length === undefined) return undefined;
        at = length[1];
        const end = at + Number(length[0]);
        if (length[0] > BigInt(bytes.length) || end > bytes.length) return undefined;
        fields.push({ number, wireType, value: bytes.slice(at, end) });
        at = end;
        break;
      }
      default:
        return undefined;
    }
  }
  return fields;
}

/** Writes fields in the given order (what {@link parseProto} read comes back byte for byte). */
export function encodeProto(fields: readonly ProtoField[]): Uint8Array {
  const out: number[] = [];
  for (const field of fields) {
    writeVarint(out, (BigInt(field.number) << 3n) | BigInt(field.wireType));
    if (field.wireType === 0) {
      writeVarint(out, field.value as bigint);
    } else {
      const value = field.value as Uint8Array;
      if (field.wireType === 2) writeVarint(out, BigInt(value.length));
      for (const byte of value) out.push(byte);
    }
  }
  return Uint8Array.from(out);
}
