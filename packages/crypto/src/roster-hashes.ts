/**
 * Roster hashes remembered per frozen roster array. A group refers to an epoch's roster by key id
 * and roster hash (`takeParts`, `heldEpochs`, `restore`): hashing a 10,000-leaf roster costs about
 * a millisecond, so each frozen roster is hashed at most once, and a hash computed when an epoch
 * was entered is noted instead of being recomputed.
 *
 * Only frozen arrays are remembered: this package freezes every roster it keeps (`EpochKeys`), and a
 * frozen array cannot change its leaves. Leaf objects and their keys are never modified by this
 * package; a caller that mutates key bytes in place after handing a roster over breaks more than
 * this cache.
 *
 * Internal: deliberately not exported from the package (`common.ts`), but for
 * {@link rosterHashOnce}.
 *
 * @module
 */
import { toHex } from "@orgchat/base";
import { constantTimeEqual } from "./constant-time.js";
import type { DeferredRoster, RosterSupplier } from "./epoch-keys-state-encoding.js";
import { StateCorruptedError } from "./errors.js";
import { type Roster, rosterHash } from "./key-schedule.js";
import type { CryptoProvider } from "./provider.js";

const remembered = new WeakMap<Roster, Uint8Array>();

/**
 * `rosterHash(roster)`, computed once per frozen roster array.
 *
 * @param provider - the crypto provider (SHA-256)
 * @param roster - the roster
 * @returns its roster hash (a copy the caller may keep)
 * @throws {RangeError} from `rosterHash` when a leaf's keys are not 32 bytes
 */
export function rosterHashOf(provider: CryptoProvider, roster: Roster): Uint8Array {
  const known = remembered.get(roster);
  if (known !== undefined) return known.slice();
  const hash = rosterHash(provider, roster);
  if (Object.isFrozen(roster)) remembered.set(roster, hash.slice());
  return hash;
}

/**
 * `rosterHash(roster)` for a caller outside this package, computed at most once per frozen roster
 * array and shared with this package's own checks: a roster the caller built, froze and hashed is
 * not hashed again when a group restores an epoch on it (`restore` with a roster supplier). An
 * array that is not frozen is hashed on every call. The caller must not change a leaf's key bytes
 * after the first call (a frozen array's leaves are not deep-frozen).
 *
 * @param provider - the crypto provider (SHA-256)
 * @param roster - the roster
 * @returns its roster hash (a copy the caller may keep)
 * @throws {RangeError} when a leaf's keys are not 32 bytes
 */
export function rosterHashOnce(provider: CryptoProvider, roster: Roster): Uint8Array {
  return rosterHashOf(provider, roster);
}

/**
 * Remembers `hash` as the roster hash of `roster` (computed by the caller, e.g. when it entered the
 * epoch); ignored for an array that is not frozen.
 *
 * @param roster - the roster
 * @param hash - its roster hash (copied)
 */
export function noteRosterHash(roster: Roster, hash: Uint8Array): void {
  if (Object.isFrozen(roster) && !remembered.has(roster)) remembered.set(roster, hash.slice());
}

/**
 * `roster`'s hash when it is known without hashing (computed or noted before), else `undefined`.
 *
 * @param roster - the roster
 * @returns a copy of its remembered hash, or `undefined`
 */
export function knownRosterHash(roster: Roster): Uint8Array | undefined {
  return remembered.get(roster)?.slice();
}

/**
 * Rosters a deferring supplier ({@link rosterSupplier} with `unchecked`) handed out without hashing
 * them: each with the hash its saved epoch names, to check at the epoch's first use.
 */
export type UncheckedRosters = Map<Roster | DeferredRoster, Uint8Array>;

/**
 * Looks up the rosters a saved state refers to by key id, and checks each against the length and
 * hash that were saved. Each roster is looked up and hashed once per call of `restore`, and an array
 * returned for several epochs is kept once (frozen; copied first when the caller's is not frozen):
 * epochs with the same roster share it in memory.
 *
 * With `unchecked`, nothing is looked up at restore: the supplier hands out a `DeferredRoster`
 * (one per key id) that goes into `unchecked` with the hash it must have. `EpochKeys` builds it at
 * the epoch's first use (looked up then: a missing roster is reported then, and its length checked),
 * and the caller checks its hash before that use (a retained epoch of an owner's group:
 * `EpochWindow.checkRoster`). Two epochs naming one key id with another length or hash are refused
 * at once.
 *
 * @param provider - the crypto provider (SHA-256)
 * @param lookup - the caller's rosters by key id (lower-case hex)
 * @param unchecked - when given, filled with the rosters handed out unchecked
 * @returns the supplier `readEpochKeysState` and the group heads call
 */
export function rosterSupplier(
  provider: CryptoProvider,
  lookup: (keyIdHex: string) => Roster | undefined,
  unchecked?: UncheckedRosters,
): RosterSupplier {
  const byKeyId = new Map<string, Roster>();
  const frozen = new Map<Roster, Roster>();
  const deferredByKeyId = new Map<string, DeferredRoster>();
  const find = (epoch: bigint, keyIdHex: string): Roster => {
    const found = byKeyId.get(keyIdHex) ?? lookup(keyIdHex);
    if (found === undefined) {
      throw new StateCorruptedError(
        `the roster of epoch ${epoch} (key id ${keyIdHex}) is missing: keep the rosters heldEpochs() names`,
      );
    }
    let roster = frozen.get(found);
    if (roster === undefined) {
      roster = Object.isFrozen(found) ? found : Object.freeze([...found]);
      frozen.set(found, roster);
    }
    return roster;
  };
  return (epoch, keyId, leafCount, hash) => {
    const keyIdHex = toHex(keyId);
    if (unchecked !== undefined) {
      // Deferred: looked up, built and checked at the epoch's first use (`EpochKeys.roster`, then
      // `EpochWindow.checkRoster`), so a start builds no retained epoch's roster.
      let deferred = deferredByKeyId.get(keyIdHex);
      if (deferred === undefined) {
        let built: Roster | undefined;
        deferred = Object.freeze({
          leafCount,
          build: () => {
            built ??= find(epoch, keyIdHex);
            return built;
          },
        });
        deferredByKeyId.set(keyIdHex, deferred);
      }
      const pending = unchecked.get(deferred);
      if (
        deferred.leafCount !== leafCount ||
        (pending !== undefined && !constantTimeEqual(pending, hash))
      ) {
        throw new StateCorruptedError(
          `the roster given for epoch ${epoch} (key id ${keyIdHex}) does not hash to the saved roster hash`,
        );
      }
      unchecked.set(deferred, hash.slice());
      return deferred;
    }
    const roster = find(epoch, keyIdHex);
    let matches = roster.length === leafCount;
    if (matches) {
      try {
        matches = constantTimeEqual(rosterHashOf(provider, roster), hash);
      } catch {
        matches = false; // keys of the wrong length
      }
    }
    if (!matches) {
      throw new StateCorruptedError(
        `the roster given for epoch ${epoch} (key id ${keyIdHex}) does not hash to the saved roster hash`,
      );
    }
    byKeyId.set(keyIdHex, roster);
    return roster;
  };
}
