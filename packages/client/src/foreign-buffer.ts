/**
 * The foreign part of the pending buffer (docs/SECURITY.md, "Unknown key ids"): group messages
 * whose key id no owner-signed record names (`key-evidence.ts`), and restricted channels' messages
 * that are not ours (yet). Anyone can publish them, so they get a small, fixed share: bounded per
 * key id and in total, in messages and in bytes, the oldest evicted first. Genuine waiting messages
 * (announced `message:waiting-for-key`) never make room for them, and they are the first to go
 * when the whole buffer (`maxPendingMessages`) is full.
 */
import type { PendingMessage } from "./org.js";

/**
 * Limits of the foreign buffer, per organization. Bytes are payload bytes (a record stores its
 * payload raw in the binary record form, `encodeStored`, plus ~200 bytes of fields). With these,
 * an outsider's flood of unknown key ids costs a member at most ~1 MiB of records and 64 records,
 * whatever its size or rate (SQLite adds its write-ahead log: 6.4 MB on disk in all was measured
 * when records still spelled payloads in hex, twice the bytes); an honest message that merely
 * arrived before its roster is kept unless such a flood passes it (then the history sweep or a
 * restart's catch-up may read it again).
 */
export const foreignBufferLimits = {
  /** Messages kept in all. */
  maxMessages: 64,
  /** Payload bytes kept in all (1 MiB: 7 messages of the 140 KiB maximum, or 64 short posts). */
  maxBytes: 1024 * 1024,
  /** Messages kept under one key id: one key id cannot take the whole buffer. */
  maxMessagesPerKeyId: 16,
  /** Payload bytes kept under one key id (512 KiB). */
  maxBytesPerKeyId: 512 * 1024,
} as const;

/**
 * Which foreign messages to evict so that `incoming` fits (pure): the oldest of its own key id
 * while that key id is over its share, then the oldest of all while the buffer is over its total.
 * @param held - the pending buffer (genuine waiting messages are ignored: never evicted here)
 * @returns ids to evict (oldest first), or `undefined` when `incoming` alone exceeds a key id's
 *   share (it is not kept)
 */
export function foreignEvictions(
  held: Iterable<PendingMessage>,
  incoming: { readonly keyId: string; readonly bytes: number },
  limits: typeof foreignBufferLimits = foreignBufferLimits,
): string[] | undefined {
  if (incoming.bytes > limits.maxBytesPerKeyId) return undefined;
  const foreign = [...held]
    .filter((p) => p.foreign === true)
    .sort((a, b) => a.receivedAt - b.receivedAt);
  const evict = new Set<string>();
  const sameKey = foreign.filter((p) => p.keyId === incoming.keyId);
  evictOldest(sameKey, incoming.bytes, limits.maxMessagesPerKeyId, limits.maxBytesPerKeyId, evict);
  const rest = foreign.filter((p) => !evict.has(p.id));
  evictOldest(rest, incoming.bytes, limits.maxMessages, limits.maxBytes, evict);
  return [...evict];
}

/** Adds to `evict` the oldest of `held` (sorted oldest first) until they and `incoming` fit. */
function evictOldest(
  held: readonly PendingMessage[],
  incomingBytes: number,
  maxMessages: number,
  maxBytes: number,
  evict: Set<string>,
): void {
  let count = held.length + 1;
  let bytes = held.reduce((sum, p) => sum + p.payload.length, incomingBytes);
  for (const p of held) {
    if (count <= maxMessages && bytes <= maxBytes) return;
    evict.add(p.id);
    count--;
    bytes -= p.payload.length;
  }
}
