/**
 * The winner order of concurrent commits (docs/DELEGATION.md, "Concurrent commits converge"): among
 * the commits on one parent epoch that pass the checks, every member picks the first by this
 * order, so every member that holds the same commits follows the same chain.
 *
 * @module
 */

/** What the winner order reads of a commit (an `EpochRoster` or `KeyUpdate` envelope). */
export interface CommitRef {
  /** The envelope's signer: the organization key, or a delegate's identity key. */
  readonly signer: Uint8Array;
  /** The envelope's Lamport clock. */
  readonly clock: bigint;
  /** The new epoch's key_id. */
  readonly keyId: Uint8Array;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(a, b) === 0;
}

/**
 * Compares two commits on the same parent epoch by the winner order: an owner-signed commit first
 * (the owner can always end a dispute), then the lower clock, then the lower signer key (bytes,
 * shorter first on a common prefix), then the lower `key_id`. Total: two commits compare equal only
 * when signer, clock and key_id are all equal (the same commit).
 *
 * @param a - a commit
 * @param b - another commit on the same parent
 * @param organizationId - the organization key (the owner's signer)
 * @returns a negative number when `a` wins, positive when `b` wins, 0 for the same commit
 * @example
 * ```ts
 * const winner = siblings.reduce((best, c) => (compareCommits(c, best, orgId) < 0 ? c : best));
 * ```
 */
export function compareCommits(a: CommitRef, b: CommitRef, organizationId: Uint8Array): number {
  const ownerA = equalBytes(a.signer, organizationId);
  const ownerB = equalBytes(b.signer, organizationId);
  if (ownerA !== ownerB) return ownerA ? -1 : 1;
  if (a.clock !== b.clock) return a.clock < b.clock ? -1 : 1;
  return compareBytes(a.signer, b.signer) || compareBytes(a.keyId, b.keyId);
}
