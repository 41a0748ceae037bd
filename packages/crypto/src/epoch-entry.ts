/**
 * Entering an epoch, as both sides of a group do it (docs/PROTOCOL.md, "Epochs and the key
 * schedule"): the epoch's keys from its epoch secret, and a member's leaf secret `L_m` stepped up to
 * the epoch it is used in.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */
import type { GroupLimits } from "./group-limits.js";
import { EpochKeys } from "./group-message.js";
import { EpochSecrets, evolveLeafSecret, type GroupId, type Roster } from "./key-schedule.js";
import type { CryptoProvider } from "./provider.js";
import { noteRosterHash } from "./roster-hashes.js";
import { wipe } from "./secret.js";

/** Overrides of the per-epoch message-protection limits (`groupLimits`), as `EpochKeys.create` takes them. */
export type EpochLimits = Partial<GroupLimits>;

/** What {@link enterEpoch} needs. */
export interface EnterEpochInit {
  readonly provider: CryptoProvider;
  readonly group: GroupId;
  readonly epoch: bigint;
  /** The epoch secret: wiped by {@link enterEpoch}. */
  readonly epochSecret: Uint8Array;
  readonly roster: Roster;
  /** The roster's hash when the caller computed it: remembered for `heldEpochs` and the head. */
  readonly rosterHash?: Uint8Array;
  readonly limits: EpochLimits | undefined;
}

/**
 * Derives an epoch's keys.
 *
 * @param init - the epoch, its secret (wiped) and roster
 * @returns the epoch's keys and a copy of its `init_secret` (the caller owns and wipes it)
 */
export function enterEpoch(init: EnterEpochInit): { keys: EpochKeys; initSecret: Uint8Array } {
  const secrets = EpochSecrets.derive(init.provider, init.group, init.epoch, init.epochSecret);
  const initSecret = (secrets.initSecret as Uint8Array).slice();
  const keys = EpochKeys.create({
    provider: init.provider,
    group: init.group,
    secrets,
    roster: init.roster,
    wipeInput: true,
    ...(init.limits === undefined ? {} : { limits: init.limits }),
  });
  wipe(secrets.initSecret);
  secrets.initSecret = undefined;
  if (init.rosterHash !== undefined) noteRosterHash(keys.roster, init.rosterHash);
  return { keys, initSecret };
}

/**
 * `L_m[to]` from `L_m[from]`: one `evolve` step per epoch (forward secrecy of the KeyUpdates a
 * member could open).
 *
 * @param provider - the crypto provider
 * @param secret - `L_m[from]` (kept: the caller wipes it)
 * @param from - the epoch `secret` belongs to
 * @param to - the epoch to step to (`to <= from` returns a copy)
 * @returns a new array holding `L_m[to]`
 */
export function evolveTo(
  provider: CryptoProvider,
  secret: Uint8Array,
  from: bigint,
  to: bigint,
): Uint8Array {
  let current: Uint8Array = secret.slice();
  for (let epoch = from + 1n; epoch <= to; epoch++) {
    const next = evolveLeafSecret(provider, current, epoch);
    wipe(current);
    current = next;
  }
  return current;
}
