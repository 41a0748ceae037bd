/**
 * The receive limits of group messages and the padding block (docs/PROTOCOL.md, "Group messages",
 * limits table): the defaults, and the overrides an epoch may take.
 *
 * @module
 */

/**
 * The receive limits of group messages (docs/PROTOCOL.md, "Group messages", limits table) and the
 * padding block. Why these numbers (group-crypto research §7.7): a bogus future generation costs a
 * receiver at most 1,000 chain steps before the signature check rejects it (the first time that
 * stretch of a chain is walked; at most `lookaheadStride` = 32 steps for every later forgery on it,
 * and the keys skipped over are only derived once the message is authentic); 10,000 skipped keys
 * (about 440 KB) are what a 10,000-member epoch needs.
 */
export const groupLimits = {
  /** Generations one message may skip over in its sender's chain (`GenerationTooFarError` beyond). */
  maxForwardJump: 1000,
  /** Skipped keys kept per sender chain, oldest evicted. */
  maxSkippedPerChain: 256,
  /** Skipped keys kept per epoch across all sender chains, oldest evicted. */
  maxSkippedPerEpoch: 10_000,
  /** The plaintext is zero-padded to a multiple of this many bytes. */
  paddingBlock: 64,
} as const;

/** Limits of one {@link EpochKeys}; see {@link groupLimits} for the defaults. */
export interface GroupLimits {
  /** @default 1000 */
  maxForwardJump: number;
  /** @default 256 */
  maxSkippedPerChain: number;
  /** @default 10_000 */
  maxSkippedPerEpoch: number;
  /** A positive multiple of 64 (the protocol's block), so every message meets the wire minimum. @default 64 */
  paddingBlock: number;
}

/**
 * The limits of an epoch: {@link groupLimits} with `overrides` applied, checked.
 *
 * @param overrides - the limits to change (unset ones keep their default)
 * @returns a new limits object
 * @throws {RangeError} naming the limit when it is not an integer in 0..2^32-1, or `paddingBlock` is
 *   not a positive multiple of 64
 */
export function resolveLimits(overrides: Partial<GroupLimits> | undefined): GroupLimits {
  const limits: GroupLimits = { ...groupLimits };
  if (overrides !== undefined) {
    for (const name of Object.keys(groupLimits) as Array<keyof GroupLimits>) {
      const value = overrides[name];
      if (value !== undefined) limits[name] = value;
    }
  }
  for (const name of Object.keys(limits) as Array<keyof GroupLimits>) {
    const value = limits[name];
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
      throw new RangeError(`limits.${name}: must be an integer in 0..2^32-1, got ${value}`);
    }
  }
  if (limits.paddingBlock === 0 || limits.paddingBlock % 64 !== 0) {
    throw new RangeError(
      `limits.paddingBlock: must be a positive multiple of 64, got ${limits.paddingBlock}`,
    );
  }
  return limits;
}
