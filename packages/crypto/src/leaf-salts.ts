/**
 * The salts a member tries on a KeyUpdate (docs/PROTOCOL.md, "Re-keying"): its leaf secret `L_m`
 * moves one `evolve` step at each KeyUpdate it applies, never at add steps, so a member that missed
 * KeyUpdates steps over exactly those first: the ones the rosters name (`missedKeyUpdates`), and,
 * when some epochs of the gap are unknown, every combination of them (`possibleKeyUpdates`).
 *
 * @module
 */
import { deriveSecret, expandWithLabel, u32 } from "./kdf.js";
import { evolveLeafSecret, type Roster } from "./key-schedule.js";
import type { CryptoProvider } from "./provider.js";
import { wipe } from "./secret.js";

/** Options of `MemberGroup.applyKeyUpdate`. */
export interface ApplyKeyUpdateOptions {
  /**
   * The owner-signed roster of the new epoch. @default the current roster (right for a refresh; a
   * removal changes the roster, and without it the outcome is `roster-mismatch`)
   */
  readonly roster?: Roster;
  /**
   * `rosterHash(roster)`, when the caller already checked that `roster` hashes to it (a client keeps
   * an owner-signed roster only once it does): saves hashing the whole roster again, O(N) per
   * KeyUpdate. Trusted, not checked; ignored without `roster`. @default computed from the roster
   */
  readonly rosterHash?: Uint8Array;
  /**
   * Apply a KeyUpdate that does not follow our epoch (after missing control messages could not be
   * fetched): the skipped epochs stay unreadable. Our leaf secret moves only at KeyUpdates: when
   * the gap holds KeyUpdates we missed, pass their epochs in `missedKeyUpdates` (or the unknown
   * epochs in `possibleKeyUpdates`), else the chunk finds nothing for us (a resync brings us back).
   * @default false
   */
  readonly acceptGap?: boolean;
  /**
   * The epochs of the KeyUpdates of this group we missed before this one (from the owner-signed
   * rosters, `change` REKEY), strictly ascending; those not after our leaf secret's epoch, or not
   * before the KeyUpdate's, are ignored. At most {@link maxMissedKeyUpdates}: one HKDF each.
   * @default none
   */
  readonly missedKeyUpdates?: readonly bigint[];
  /**
   * Epochs of the gap whose change we do not know (their roster never reached us), strictly
   * ascending: each may have been a KeyUpdate. Every combination is tried (2^n salts, one unwrap
   * attempt each per prekey held), so at most {@link maxPossibleKeyUpdates}. @default none
   */
  readonly possibleKeyUpdates?: readonly bigint[];
  /**
   * Which salt the KeyUpdate's entries use (docs/DELEGATION.md), told by its envelope's signer:
   * `"leaf"`, the owner's (our `L_m`, which then moves one step), or `"delegate"`, a delegate's
   * (`delegateSalt` of the current epoch's `rekey_secret` and our leaf; `L_m` does not move). A
   * delegate KeyUpdate opens only from the epoch just before it, and only for a member whose state
   * holds that epoch's `rekey_secret` (not one restored from a head older than format 3); the
   * epochs of delegate KeyUpdates are never `missedKeyUpdates` (they did not move `L_m`).
   * @default "leaf"
   */
  readonly salt?: "leaf" | "delegate";
}

/**
 * `rekey_secret[e] = DeriveSecret(epoch_secret[e], "rekey")` (docs/DELEGATION.md): what every member
 * of epoch `e` shares to salt a delegate's KeyUpdate, kept for the current epoch only.
 *
 * @param provider - crypto provider
 * @param epochSecret - `epoch_secret[e]` (not changed)
 * @returns a new 32-byte array
 */
export function deriveRekeySecret(provider: CryptoProvider, epochSecret: Uint8Array): Uint8Array {
  return deriveSecret(provider, epochSecret, "rekey");
}

/**
 * `salt_m = ExpandWithLabel(rekey_secret[e], "delegate salt", u32 leaf, 32)`: the salt of leaf
 * `leaf`'s entry in a delegate's KeyUpdate from epoch `e`, in place of `L_m`.
 *
 * @param provider - crypto provider
 * @param rekeySecret - `rekey_secret[e]`
 * @param leaf - the recipient's leaf (u32)
 * @returns a new 32-byte array (the caller wipes it)
 */
export function delegateSalt(
  provider: CryptoProvider,
  rekeySecret: Uint8Array,
  leaf: number,
): Uint8Array {
  return expandWithLabel(provider, rekeySecret, "delegate salt", u32(leaf), 32);
}

/**
 * Most missed KeyUpdates a member steps its leaf secret over in one `applyKeyUpdate` (one HKDF
 * each; the caller's input, bounded all the same).
 */
export const maxMissedKeyUpdates = 1024;

/**
 * Most epochs of unknown change a member tries as KeyUpdates in one `applyKeyUpdate`: 4 gives at
 * most 16 salts, so at most 16 unwrap attempts (one X25519 and two HKDF each) per prekey held.
 */
export const maxPossibleKeyUpdates = 4;

/**
 * The salts to try on a KeyUpdate of epoch `epoch`: `leafSecret` stepped over the missed KeyUpdates
 * and over each combination of the possible ones, the combination without any first. Each salt is a
 * new array the caller wipes.
 *
 * @param provider - crypto provider
 * @param leafSecret - the member's `L_m` (not changed)
 * @param leafEpoch - the epoch `leafSecret` was set at
 * @param epoch - the KeyUpdate's epoch
 * @param options - `missedKeyUpdates` and `possibleKeyUpdates`
 * @returns the salts, lazily
 * @throws {RangeError} when a list is not strictly ascending bigints or is over its bound (checked
 *   before the first salt)
 */
export function keyUpdateSalts(
  provider: CryptoProvider,
  leafSecret: Uint8Array,
  leafEpoch: bigint,
  epoch: bigint,
  options: Pick<ApplyKeyUpdateOptions, "missedKeyUpdates" | "possibleKeyUpdates">,
): Generator<Uint8Array> {
  const missed = ascending(options.missedKeyUpdates ?? [], "missedKeyUpdates", maxMissedKeyUpdates);
  const possible = ascending(
    options.possibleKeyUpdates ?? [],
    "possibleKeyUpdates",
    maxPossibleKeyUpdates,
  );
  return salts(provider, leafSecret, leafEpoch, epoch, missed, possible);
}

function* salts(
  provider: CryptoProvider,
  leafSecret: Uint8Array,
  leafEpoch: bigint,
  epoch: bigint,
  missed: readonly bigint[],
  possible: readonly bigint[],
): Generator<Uint8Array> {
  for (let mask = 0; mask < 2 ** possible.length; mask++) {
    const taken = possible.filter((_, i) => Math.floor(mask / 2 ** i) % 2 === 1);
    const rekeys = [...missed, ...taken].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let salt: Uint8Array = leafSecret.slice();
    let from = leafEpoch;
    for (const rekey of rekeys) {
      if (rekey <= from || rekey >= epoch) continue;
      const next = evolveLeafSecret(provider, salt, rekey);
      wipe(salt);
      salt = next;
      from = rekey;
    }
    yield salt;
  }
}

/**
 * The salts a member tries on a KeyUpdate of `epoch`: its `L_m` stepped over the missed KeyUpdates
 * ({@link keyUpdateSalts}), or, for a delegate's, the delegate salt of its leaf, only from the
 * epoch whose `rekey_secret` it holds (across a gap there is none to try).
 *
 * @param provider - crypto provider
 * @param state - the member's leaf, leaf secret, current epoch and rekey secret (not changed)
 * @param epoch - the KeyUpdate's epoch
 * @param options - the salt mode and the missed epochs
 * @returns the salts, each a new array the caller wipes
 */
export function memberSalts(
  provider: CryptoProvider,
  state: {
    readonly leaf: number;
    readonly leafSecret: Uint8Array;
    readonly leafEpoch: bigint;
    readonly epoch: bigint;
    readonly rekeySecret: Uint8Array | undefined;
  },
  epoch: bigint,
  options: ApplyKeyUpdateOptions,
): Iterable<Uint8Array> {
  if (options.salt !== "delegate") {
    return keyUpdateSalts(provider, state.leafSecret, state.leafEpoch, epoch, options);
  }
  const usable = state.rekeySecret !== undefined && epoch === state.epoch + 1n;
  return usable ? [delegateSalt(provider, state.rekeySecret as Uint8Array, state.leaf)] : [];
}

/** `epochs`, checked to be strictly ascending bigints and at most `max` (the caller's input). */
function ascending(epochs: readonly bigint[], name: string, max: number): readonly bigint[] {
  if (!Array.isArray(epochs) || epochs.length > max) {
    throw new RangeError(`options.${name}: expected at most ${max} epochs`);
  }
  for (const [index, epoch] of epochs.entries()) {
    if (typeof epoch !== "bigint" || (index > 0 && epoch <= (epochs[index - 1] as bigint))) {
      throw new RangeError(`options.${name}: expected strictly ascending bigint epochs`);
    }
  }
  return epochs;
}
