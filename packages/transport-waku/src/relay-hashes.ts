/**
 * The relay's per-message hashing. {@link sha256} (gossipsub's message id, the Waku message hash):
 * the platform's native one-shot hash where there is one (Node's `crypto.hash`, about 1 µs for a
 * 400-byte message), else `@noble/hashes` (about 7 µs in JavaScript; browsers). Both give the same
 * digest; which one is used is decided once, at load. {@link messageIdKey}: the local key of a
 * message id in gossipsub's caches.
 *
 * @packageDocumentation
 */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { toHex } from "@orgchat/base";
import { nativeHash } from "@orgchat/transport/implement";

const native = nativeHash;

/**
 * SHA-256 of `data`.
 * @param data - the bytes to hash
 * @returns the 32-byte digest, a plain `Uint8Array` (on Node a view of the `Buffer` it returned:
 *   no copy, and no `Buffer` behaviour such as its `toJSON` leaks out)
 */
export const sha256: (data: Uint8Array) => Uint8Array =
  native === undefined
    ? (data) => nobleSha256(data)
    : (data) => {
        const digest = native("sha256", data, "buffer");
        return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
      };

/** Whether {@link sha256} is the runtime's native hash (for tests and benchmarks). */
export const sha256IsNative: boolean = native !== undefined;

/**
 * Message ids up to this many bytes get {@link messageIdKey}'s one-character-per-byte key (at most
 * this many characters); longer ones (only a hostile peer's IHAVE or IWANT sends those: ours are 32
 * bytes) get their hex (over twice as many characters), so the two kinds of key never collide and
 * a long id never builds a string one call argument per byte.
 */
export const messageIdKeyMaxBytes = 64;

/**
 * Gossipsub's `msgIdToStrFn` for the relay: the string under which its seen cache, message cache
 * and score records keep a message id, local to this node (never sent). One character per byte
 * (code 0–255) instead of gossipsub's base64 through `uint8arrays`, which was about a fifth of
 * gossipsub's own work per received message.
 * @param id - a message id (sha256 of the data: 32 bytes; any length from the network)
 * @returns a key that is equal for equal ids and different for different ids
 */
export function messageIdKey(id: Uint8Array): string {
  if (id.length > messageIdKeyMaxBytes) return toHex(id);
  let key = "";
  for (const byte of id) key += String.fromCharCode(byte);
  return key;
}
