/**
 * A delegate's commits (docs/DELEGATION.md): the add step a member holding `init_secret[e]` builds
 * for the joiners its state admitted, and the KeyUpdate with delegate salts it builds for the
 * members its state says departed. `MemberGroup.commitAdd` / `commitRemove` call these with the
 * member's state; whether the delegate may commit (its rank, the state's decisions) is the
 * caller's to check, and every receiver checks it again.
 *
 * Internal: deliberately not exported from the package (`common.ts`).
 *
 * @module
 */
import { type EpochLimits, enterEpoch } from "./epoch-entry.js";
import { checkNow } from "./group-checks.js";
import type { EpochKeys } from "./group-message.js";
import type { MemberGroupState } from "./group-state-encoding.js";
import {
  addStepEpochSecret,
  type GroupId,
  type Roster,
  type RosterLeaf,
  rosterHash,
} from "./key-schedule.js";
import type { KeyUpdateChunk, KeyUpdateRecipient } from "./key-update.js";
import { delegateSalt, deriveRekeySecret } from "./leaf-salts.js";
import { type SignedMemberKeys, verifyMemberKeys } from "./member-keys.js";
import { buildKeyUpdateOrWipe, placeJoiners, rosterIdentities } from "./owner-members.js";
import type { CryptoProvider } from "./provider.js";
import { rosterHashOf } from "./roster-hashes.js";
import { wipe } from "./secret.js";
import { makeWelcome, type WelcomeInit } from "./welcome.js";

/** One joiner of a delegate's add step, as {@link MemberGroup.commitAdd} returns it. */
export interface DelegateJoiner {
  /** The leaf the joiner got in the new roster. */
  readonly leaf: number;
  /** Its keys and signature: write them (with `keysSignature`) into the roster delta's leaf. */
  readonly keys: SignedMemberKeys;
  /** Its Welcome of the new epoch: encrypt it at once over the pairwise session, then drop it. */
  readonly welcome: WelcomeInit;
  /**
   * The fresh random leaf secret `L_m` in the Welcome: hand it to the owner (`LeafHandover`) in the
   * same store commit as the roster, and wipe it once that commit is durable.
   */
  readonly leafSecret: Uint8Array;
}

/** The epoch a delegate's commit starts, as its `EpochRoster` announces it. */
export interface DelegateCommit {
  readonly epoch: bigint;
  readonly keyId: Uint8Array;
  readonly previousKeyId: Uint8Array;
  readonly previousRosterHash: Uint8Array;
  readonly rosterHash: Uint8Array;
  /**
   * The roster of the new epoch: publish its delta signed by the delegate (`change` ADD, with the
   * joiners' keys signatures; or REKEY, removed leaves empty).
   */
  readonly roster: Roster;
}

/** What a delegate publishes after its add step (docs/DELEGATION.md, "Keys to the newcomer"). */
export interface DelegateAdd extends DelegateCommit {
  readonly joiners: readonly DelegateJoiner[];
}

/** What a delegate publishes after its removal (docs/DELEGATION.md, "Removals by a delegate"). */
export interface DelegateKeyUpdate extends DelegateCommit {
  /**
   * The chunks, entries salted with delegate salts: seal them with `sealKeyUpdate({ delegate:
   * true })` (empty when nobody else is left).
   */
  readonly chunks: readonly KeyUpdateChunk[];
}

/** The member's state and how to enter a new epoch: what a commit needs of `MemberGroup`. */
export interface Committer {
  readonly provider: CryptoProvider;
  readonly group: GroupId;
  readonly state: MemberGroupState;
  readonly limits: EpochLimits | undefined;
  /** Makes `keys` the current epoch (the member's `L_m` unchanged). */
  enter(keys: EpochKeys, initSecret: Uint8Array, rekeySecret: Uint8Array, now: number): void;
}

function checkActive(state: MemberGroupState): void {
  if (state.removed)
    throw new RangeError("this member was removed from the group: it commits nothing");
}

/**
 * The add step by a delegate (see {@link MemberGroup.commitAdd}).
 *
 * @throws {RangeError} / {TypeError} naming the argument: no joiners, removed, no `init_secret`,
 *   a joiner already in the roster or listed twice, malformed keys
 * @throws {@link InvalidPublicKeyError} for a joiner whose keys signature does not verify for this
 *   group, or whose prekey is of small order — before anything changes
 */
export function commitAdd(
  c: Committer,
  joiners: readonly SignedMemberKeys[],
  now: number,
): DelegateAdd {
  const { provider, group, state } = c;
  checkNow(now);
  checkActive(state);
  if (joiners.length === 0) throw new RangeError("joiners: expected at least one");
  const initSecret = state.initSecret;
  if (initSecret === undefined) {
    throw new RangeError("this member holds no init_secret of its epoch: it cannot add");
  }
  for (const keys of joiners) verifyMemberKeys(provider, group, keys);
  const previousRosterHash = rosterHashOf(provider, state.roster);
  const leafSecrets = joiners.map(() => provider.randomBytes(32));
  let placement: ReturnType<typeof placeJoiners>;
  try {
    placement = placeJoiners(
      provider,
      state.roster,
      joiners.map((keys, index) => ({
        leaf: { identityKey: keys.identityKey, signingKey: keys.signingKey, prekey: keys.prekey },
        leafSecret: leafSecrets[index] as Uint8Array,
      })),
      rosterIdentities(state.roster),
    );
  } catch (cause) {
    wipe(...leafSecrets);
    throw cause;
  }
  const { roster, placed } = placement;
  const epoch = state.epoch + 1n;
  const previousKeyId = state.keyId.slice();
  const hash = rosterHash(provider, roster);
  const epochSecret = addStepEpochSecret(provider, initSecret, hash, epoch);
  const welcomeSecret = epochSecret.slice();
  const keys = enterNext(c, epoch, epochSecret, roster, hash, now);
  const keyId = keys.keyId.slice();
  const out = placed.map(({ leaf, joiner }, index) => ({
    leaf,
    keys: joiners[index] as SignedMemberKeys,
    welcome: makeWelcome({
      group,
      epoch,
      epochSecret: welcomeSecret,
      rosterHash: hash,
      keyId,
      leafIndex: leaf,
      leafSecret: joiner.leafSecret,
      // A delegate holds no earlier epoch secret: a joiner gets none ("joined" history).
      history: [],
    }),
    leafSecret: joiner.leafSecret,
  }));
  wipe(welcomeSecret);
  return {
    epoch,
    keyId,
    previousKeyId,
    previousRosterHash,
    rosterHash: hash,
    roster: keys.roster,
    joiners: out,
  };
}

/**
 * The removal by a delegate (see {@link MemberGroup.commitRemove}).
 *
 * @throws {RangeError} naming the argument: no leaves, an empty leaf or one outside the roster,
 *   the owner's leaf (identity = organization id), our own leaf, a leaf listed twice; removed; no
 *   `rekey_secret` of the current epoch
 */
export function commitRemove(
  c: Committer,
  leaves: readonly number[],
  now: number,
  maxEntriesPerChunk?: number,
): DelegateKeyUpdate {
  const { provider, group, state } = c;
  checkNow(now);
  checkActive(state);
  if (leaves.length === 0) throw new RangeError("leaves: expected at least one");
  const rekeySecret = state.rekeySecret;
  if (rekeySecret === undefined) {
    throw new RangeError(
      "this member holds no rekey_secret of its epoch (restored from an older head): it can remove from its next epoch on",
    );
  }
  const roster: Array<RosterLeaf | undefined> = [...state.roster];
  const removed = new Set<number>();
  for (const [index, leaf] of leaves.entries()) {
    const entry = Number.isInteger(leaf) && leaf >= 0 ? roster[leaf] : undefined;
    const why = removed.has(leaf)
      ? "listed twice"
      : entry === undefined
        ? "an empty leaf or outside the roster"
        : leaf === state.leaf
          ? "our own leaf (a delegate leaves by request)"
          : isOwner(group, entry)
            ? "the owner's leaf"
            : undefined;
    if (why !== undefined) throw new RangeError(`leaves[${index}]: ${leaf} is ${why}`);
    removed.add(leaf);
    roster[leaf] = undefined;
  }
  const recipients: KeyUpdateRecipient[] = [];
  for (const [leaf, entry] of roster.entries()) {
    if (entry === undefined || leaf === state.leaf) continue;
    recipients.push({
      leaf,
      prekey: entry.prekey,
      leafSecret: delegateSalt(provider, rekeySecret, leaf),
    });
  }
  const epoch = state.epoch + 1n;
  const previousKeyId = state.keyId.slice();
  const previousRosterHash = rosterHashOf(provider, state.roster);
  const hash = rosterHash(provider, roster);
  const epochSecret = provider.randomBytes(32);
  const chunks = buildKeyUpdateOrWipe({
    provider,
    group,
    epoch,
    epochSecret,
    previousKeyId,
    rosterHash: hash,
    recipients,
    maxEntriesPerChunk,
  });
  wipe(...recipients.map((recipient) => recipient.leafSecret));
  const keys = enterNext(c, epoch, epochSecret, roster, hash, now);
  const { keyId } = keys;
  return {
    epoch,
    keyId,
    previousKeyId,
    previousRosterHash,
    rosterHash: hash,
    roster: keys.roster,
    chunks,
  };
}

/** Enters the committed epoch (wiping `epochSecret`), with its rekey secret: what both commits end with. */
function enterNext(
  c: Committer,
  epoch: bigint,
  epochSecret: Uint8Array,
  roster: Roster,
  hash: Uint8Array,
  now: number,
): EpochKeys {
  const { provider, group, limits } = c;
  const rekeySecret = deriveRekeySecret(provider, epochSecret);
  const entered = enterEpoch({
    provider,
    group,
    epoch,
    epochSecret,
    roster,
    rosterHash: hash,
    limits,
  });
  c.enter(entered.keys, entered.initSecret, rekeySecret, now);
  return entered.keys;
}

/** The owner's leaf holds the organization key as its identity (`OwnerGroup.create`). */
function isOwner(group: GroupId, leaf: RosterLeaf): boolean {
  const id = group.organizationId;
  if (leaf.identityKey.length !== id.length) return false;
  for (let i = 0; i < id.length; i++) if (leaf.identityKey[i] !== id[i]) return false;
  return true;
}
