/**
 * A member's progress through a KeyUpdate sent in several chunks (docs/PROTOCOL.md, "Re-keying"):
 * which chunks of it were seen without an entry for us. Once every chunk was seen and none opened,
 * the member was removed.
 *
 * Internal: `MemberGroup` keeps the pending update in its saved state; not exported.
 *
 * @module
 */
import { constantTimeEqual } from "./constant-time.js";
import type { PendingUpdate } from "./group-state-encoding.js";
import type { KeyUpdateChunk } from "./key-update.js";

/**
 * The chunk indexes of `chunk`'s KeyUpdate not yet seen without an entry for us (every index when
 * `pending` is another update). Nothing changes.
 *
 * @param pending - the update seen so far, if any
 * @param chunk - any chunk of the KeyUpdate asked about (its epoch, key_id and chunk count)
 * @returns the indexes, ascending
 */
export function chunksNotSeen(
  pending: PendingUpdate | undefined,
  chunk: Pick<KeyUpdateChunk, "epoch" | "keyId" | "chunkCount">,
): number[] {
  const same =
    pending !== undefined &&
    pending.epoch === chunk.epoch &&
    pending.chunkCount === chunk.chunkCount &&
    constantTimeEqual(pending.keyId, chunk.keyId);
  const missing: number[] = [];
  for (let i = 0; i < chunk.chunkCount; i++) if (!same || !pending.seen.has(i)) missing.push(i);
  return missing;
}

/**
 * Records that `chunk` had no entry for us.
 *
 * @param pending - the update seen so far, if any (changed when it is the same update)
 * @param chunk - the chunk that did not open
 * @returns the update's progress (a new one when `chunk` belongs to another update), and the chunk
 *   indexes not seen yet (empty: every chunk was seen)
 */
export function noteChunkWithoutEntry(
  pending: PendingUpdate | undefined,
  chunk: KeyUpdateChunk,
): { pending: PendingUpdate; missingChunks: number[] } {
  let update = pending;
  if (
    update === undefined ||
    update.epoch !== chunk.epoch ||
    !constantTimeEqual(update.keyId, chunk.keyId) ||
    update.chunkCount !== chunk.chunkCount
  ) {
    update = {
      keyId: chunk.keyId.slice(),
      epoch: chunk.epoch,
      chunkCount: chunk.chunkCount,
      seen: new Set(),
    };
  }
  if (
    Number.isInteger(chunk.chunkIndex) &&
    chunk.chunkIndex >= 0 &&
    chunk.chunkIndex < chunk.chunkCount
  ) {
    update.seen.add(chunk.chunkIndex);
  }
  const missingChunks: number[] = [];
  for (let i = 0; i < update.chunkCount; i++) if (!update.seen.has(i)) missingChunks.push(i);
  return { pending: update, missingChunks };
}
