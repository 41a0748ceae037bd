import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/**
 * Checks that every known field of `bytes` (recursively, into nested messages and map entries) is
 * encoded with the wire type its declaration requires, and returns the first field that is not.
 *
 * protobuf-es reads a known scalar field by its declared type whatever wire type the tag says, so
 * `0x09` (field 1, 64-bit) followed by a varint decodes as if it were `0x08`. Two different byte
 * strings then carry the same message, which defeats byte-level deduplication (Waku message hashes)
 * and lets a mutated copy slip past checks that compare bytes. Unknown fields are skipped (a newer
 * peer's fields), as protobuf requires.
 *
 * @returns `undefined` when every wire type is right, else a description of the first wrong field
 * @throws whatever the reader throws on truncated input (the caller turns it into a DecodeError)
 */
export function findWireTypeMismatch(
  desc: DescMessage,
  bytes: Uint8Array,
  depth = 0,
): string | undefined {
  if (depth > 64) return "nesting deeper than 64 messages";
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    const field = desc.fields.find((f) => f.number === number);
    const data = reader.skip(wireType, number);
    if (field === undefined) continue;
    const problem = checkField(field, wireType, data, depth);
    if (problem !== undefined) return `${desc.name}.${field.localName}: ${problem}`;
  }
  return undefined;
}

function scalarWireType(scalar: ScalarType): WireType {
  switch (scalar) {
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.Bit64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WireType.Bit32;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WireType.LengthDelimited;
    default:
      return WireType.Varint;
  }
}

function lengthPrefixedBody(data: Uint8Array): Uint8Array {
  // `skip` returns the length prefix too; read it back to get the body.
  const reader = new BinaryReader(data);
  return reader.bytes();
}

/** A field's wire type against the one its descriptor wants: undefined when they agree. */
function wireTypeProblem(wireType: WireType, wanted: WireType): string | undefined {
  return wireType === wanted ? undefined : `wire type ${wireType}, expected ${wanted}`;
}

function checkField(
  field: DescField,
  wireType: WireType,
  data: Uint8Array,
  depth: number,
): string | undefined {
  switch (field.fieldKind) {
    case "scalar":
      return wireTypeProblem(wireType, scalarWireType(field.scalar));
    case "enum":
      return wireTypeProblem(wireType, WireType.Varint);
    case "message":
      return (
        wireTypeProblem(wireType, WireType.LengthDelimited) ??
        findWireTypeMismatch(field.message, lengthPrefixedBody(data), depth + 1)
      );
    case "list": {
      if (field.listKind === "message") {
        return (
          wireTypeProblem(wireType, WireType.LengthDelimited) ??
          findWireTypeMismatch(field.message, lengthPrefixedBody(data), depth + 1)
        );
      }
      const element = field.listKind === "enum" ? WireType.Varint : scalarWireType(field.scalar);
      // Repeated numeric fields may come packed (length-delimited) or one by one.
      if (element !== WireType.LengthDelimited && wireType === WireType.LengthDelimited)
        return undefined;
      return wireTypeProblem(wireType, element);
    }
    case "map": {
      const problem = wireTypeProblem(wireType, WireType.LengthDelimited);
      if (problem !== undefined) return problem;
      const entry = new BinaryReader(lengthPrefixedBody(data));
      while (entry.pos < entry.len) {
        const [number, entryWireType] = entry.tag();
        const value = entry.skip(entryWireType, number);
        if (number === 1 && entryWireType !== scalarWireType(field.mapKey))
          return "map key wire type";
        if (number === 2) {
          if (field.mapKind === "message") {
            if (entryWireType !== WireType.LengthDelimited) return "map value wire type";
            const nested = findWireTypeMismatch(
              field.message,
              lengthPrefixedBody(value),
              depth + 1,
            );
            if (nested !== undefined) return nested;
          } else {
            const wanted =
              field.mapKind === "enum" ? WireType.Varint : scalarWireType(field.scalar);
            if (entryWireType !== wanted) return "map value wire type";
          }
        }
      }
      return undefined;
    }
  }
}
