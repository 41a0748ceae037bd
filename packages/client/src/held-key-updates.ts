/**
 * A member's KeyUpdate chunks held before their signature is checked (docs/CLIENT.md, "KeyUpdate
 * chunks"): a chunk without our hint is decoded, not verified, and held until either our own chunk
 * applies (then it is of no use) or the held chunks cover every chunk of the update not yet seen
 * (then each is verified before it counts towards "removed"). Only verified chunks ever reach
 * `MemberGroup.applyKeyUpdate`.
 *
 * In memory only: a held chunk is not marked seen, so after a restart it is read again from history.
 *
 * @module
 */
import type { UnverifiedKeyUpdate } from "@orgchat/crypto";

/**
 * Bounds of {@link HeldKeyUpdates} (every byte from the network is hostile).
 *
 * - `maxChunks`: 16 chunks per organization. A sealed chunk is at most 120 KiB, held twice (the
 *   decoded entries and the signing input of its signature): ≤ ~4 MiB. 16 chunks are a whole
 *   KeyUpdate of 54,400 members (3,400 entries each); a 10,000-member one has 3. One more pushes the
 *   oldest out, and that one is verified (and applied) at once as before holding existed: the bound
 *   costs signatures, never correctness.
 */
export const heldKeyUpdateLimits = {
  /** Unverified chunks held per organization. */
  maxChunks: 16,
} as const;

/** A decoded, unverified KeyUpdate chunk and the id (payload hash) of the message that carried it. */
export interface HeldChunk {
  readonly id: string;
  readonly read: UnverifiedKeyUpdate;
  /** `keyId` of the chunk's new epoch, lower-case hex. */
  readonly keyIdHex: string;
  /** Signed by a delegate: its entries use delegate salts (docs/DELEGATION.md). */
  readonly delegate?: true;
}

/** The unverified chunks of one organization, oldest first, bounded by {@link heldKeyUpdateLimits}. */
export class HeldKeyUpdates {
  readonly #held = new Map<string, HeldChunk>();
  readonly #max: number;

  /** @param maxChunks - the bound (default `heldKeyUpdateLimits.maxChunks`) */
  constructor(maxChunks: number = heldKeyUpdateLimits.maxChunks) {
    if (!Number.isInteger(maxChunks) || maxChunks < 0) {
      throw new RangeError(`maxChunks: expected a non-negative integer, got ${maxChunks}`);
    }
    this.#max = maxChunks;
  }

  /** How many chunks are held. */
  get size(): number {
    return this.#held.size;
  }

  /** Whether the message `id` is held. */
  has(id: string): boolean {
    return this.#held.has(id);
  }

  /**
   * Holds a chunk (once per id).
   *
   * @param chunk - the chunk
   * @returns the chunks pushed out to stay within the bound, oldest first: the caller verifies them now
   */
  add(chunk: HeldChunk): HeldChunk[] {
    if (this.#held.has(chunk.id)) return [];
    this.#held.set(chunk.id, chunk);
    const out: HeldChunk[] = [];
    for (const [id, old] of this.#held) {
      if (this.#held.size <= this.#max) break;
      this.#held.delete(id);
      out.push(old);
    }
    return out;
  }

  /**
   * Whether the held chunks of the update `like` belongs to (same key id and chunk count) cover
   * every index in `missing`.
   *
   * @param like - a chunk of the update
   * @param missing - the chunk indexes not seen yet (`MemberGroup.missingKeyUpdateChunks`)
   */
  covers(like: HeldChunk, missing: readonly number[]): boolean {
    const indexes = new Set<number>();
    for (const held of this.#of(like)) indexes.add(held.read.chunk.chunkIndex);
    return missing.every((index) => indexes.has(index));
  }

  /**
   * Removes and returns the held chunks of the update `like` belongs to, oldest first.
   *
   * @param like - a chunk of the update
   */
  take(like: HeldChunk): HeldChunk[] {
    const out = [...this.#of(like)];
    for (const held of out) this.#held.delete(held.id);
    return out;
  }

  /**
   * Removes and returns the held chunks of group `channelId` for an epoch up to `epoch` (reached:
   * they are of no use any more).
   *
   * @param channelId - the group
   * @param epoch - the group's epoch now
   */
  dropReached(channelId: string, epoch: bigint): HeldChunk[] {
    const out: HeldChunk[] = [];
    for (const [id, held] of this.#held) {
      const chunk = held.read.chunk;
      if (chunk.channelId !== channelId || chunk.epoch > epoch) continue;
      this.#held.delete(id);
      out.push(held);
    }
    return out;
  }

  *#of(like: HeldChunk): Iterable<HeldChunk> {
    const count = like.read.chunk.chunkCount;
    for (const held of this.#held.values()) {
      if (held.keyIdHex === like.keyIdHex && held.read.chunk.chunkCount === count) yield held;
    }
  }
}
