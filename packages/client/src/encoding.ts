import { sha256 } from "@noble/hashes/sha2.js";
import { fromHex, toHex } from "@orgchat/base";

export { fromHex, toHex };

/** Hex SHA-256: the id of everything the client publishes or receives (docs/CLIENT.md). */
export const hashId = (bytes: Uint8Array): string => toHex(sha256(bytes));

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

export const encodeText = (text: string): Uint8Array => utf8.encode(text);
export const decodeText = (bytes: Uint8Array): string => utf8Decoder.decode(bytes);

/** JSON with bigints (`{"$n":"…"}`) and byte arrays (`{"$b":"hex"}`), for records and log entries. */
export function encodeJson(value: unknown): Uint8Array {
  return utf8.encode(
    // A function (not arrow) replacer: `this[key]` is the raw value. JSON.stringify calls a
    // Buffer's toJSON() before the replacer sees it, so `v` would be {type:"Buffer",data:[…]} and
    // reload as an object instead of bytes (libp2p hands out Buffers).
    JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
      const raw = key === "" ? v : this[key];
      if (typeof raw === "bigint") return { $n: raw.toString() };
      if (raw instanceof Uint8Array) return { $b: toHex(raw) };
      return v;
    }),
  );
}

/** The inverse of {@link encodeJson}. @throws SyntaxError on bytes that are not such JSON */
export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(decodeText(bytes), (_key, v: unknown) => {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      const record = v as Record<string, unknown>;
      const keys = Object.keys(record);
      if (keys.length === 1 && typeof record.$n === "string") return BigInt(record.$n);
      if (keys.length === 1 && typeof record.$b === "string") return fromHex(record.$b);
    }
    return v;
  }) as T;
}

/**
 * The stored form of an epoch roster (`roster/<key id>` records, written with {@link encodeJson};
 * read them with `decodeStoredRoster`).
 */
export type { EpochRoster } from "./epoch-roster.js";
