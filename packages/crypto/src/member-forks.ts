/**
 * A member's fork points (docs/DELEGATION.md, "Concurrent commits converge"): when two committers
 * commit on the same parent epoch, a member that entered one child must still be able to enter the
 * other (the winner, to switch to it; a loser, to read what was sent on it). So, for the retention
 * window, a member keeps of each epoch it left what a child commit of that epoch needs: its
 * `init_secret` (an ADD child), its `rekey_secret` and the leaf secret `L_m` as it was (a REKEY
 * child, by a delegate or the owner). Wiped when the window ends, at most {@link maxForkPoints}.
 *
 * Internal: `MemberGroup` calls these with its state; deliberately not exported from the package
 * (`common.ts`), except the bounds.
 *
 * @module
 */
import { toHex } from "@orgchat/base";
import { constantTimeEqual } from "./constant-time.js";
import { type EpochLimits, enterEpoch } from "./epoch-entry.js";
import { epochRetention } from "./epoch-window.js";
import { NoForkPointError } from "./errors.js";
import { checkNow } from "./group-checks.js";
import type { EpochKeys } from "./group-message.js";
import type { MemberGroupState } from "./group-state-encoding.js";
import {
  addStepEpochSecret,
  evolveLeafSecret,
  type GroupId,
  type Roster,
  rosterHash,
} from "./key-schedule.js";
import { type KeyUpdateChunk, type OpenKeyUpdateInit, openKeyUpdate } from "./key-update.js";
import { type ApplyKeyUpdateOptions, deriveRekeySecret, memberSalts } from "./leaf-salts.js";
import type { MemberTransition } from "./member-group-types.js";
import type { CryptoProvider } from "./provider.js";
import { rosterHashOf } from "./roster-hashes.js";
import { wipe } from "./secret.js";
import type { StateReader, StateWriter } from "./state-bytes.js";

/**
 * The bounds of fork points: at most `maxPoints` (the newest), each for `windowMs` after the member
 * left its epoch (the retention window of epochs: `epochRetention.windowMs`, 24 h). 16 points are
 * about 2.6 KB of head; a member going through more than 16 epochs before a sibling arrives cannot
 * enter that sibling (its messages are lost like any message older than the retention).
 */
export const forkPointLimits = {
  maxPoints: 16,
  windowMs: epochRetention.windowMs,
} as const;

/** What a member keeps of an epoch it left, to enter a child commit of it it did not follow. */
export interface ForkPoint {
  readonly epoch: bigint;
  readonly keyId: Uint8Array;
  /** `init_secret[e]`: an add step on this epoch derives from it. */
  readonly initSecret: Uint8Array;
  /** `rekey_secret[e]`: a delegate's KeyUpdate on this epoch is salted from it (absent: format-2 head). */
  readonly rekeySecret: Uint8Array | undefined;
  /** `L_m` as it was in this epoch, and the epoch it was set at: an owner KeyUpdate on it uses it. */
  readonly leafSecret: Uint8Array;
  readonly leafEpoch: bigint;
  /** When the member left this epoch (ms): the retention window counts from here. */
  readonly leftAt: number;
}

/**
 * Keeps the member's current epoch as a fork point (copies of its secrets) before it moves on,
 * then drops the expired and the oldest beyond the bound.
 *
 * @param state - the member's state, still in the epoch it is leaving
 * @param now - current time in milliseconds
 */
export function keepForkPoint(state: MemberGroupState, now: number): void {
  if (state.removed || state.initSecret === undefined) return;
  if (findForkPoint(state, state.keyId) === undefined) {
    state.forkPoints.push({
      epoch: state.epoch,
      keyId: state.keyId.slice(),
      initSecret: state.initSecret.slice(),
      rekeySecret: state.rekeySecret?.slice(),
      leafSecret: state.leafSecret.slice(),
      leafEpoch: state.leafEpoch,
      leftAt: now,
    });
  }
  pruneForkPoints(state, now);
}

/**
 * Drops (and wipes) fork points whose window ended, and the oldest beyond the bound.
 *
 * @param state - the member's state
 * @param now - current time in milliseconds
 */
export function pruneForkPoints(state: MemberGroupState, now: number): void {
  const kept = state.forkPoints.filter((point) => now - point.leftAt < forkPointLimits.windowMs);
  const dropped = state.forkPoints.filter((point) => !kept.includes(point));
  dropped.push(...kept.splice(0, Math.max(0, kept.length - forkPointLimits.maxPoints)));
  for (const point of dropped) wipeForkPoint(point);
  state.forkPoints = kept;
}

/** Wipes every secret of every fork point (a Welcome replaced the state, or the head is dropped). */
export function wipeForkPoints(points: readonly ForkPoint[]): void {
  for (const point of points) wipeForkPoint(point);
}

function wipeForkPoint(point: ForkPoint): void {
  wipe(point.initSecret, point.leafSecret, point.rekeySecret);
}

/** The fork point of epoch `keyId`, if kept. */
export function findForkPoint(state: MemberGroupState, keyId: Uint8Array): ForkPoint | undefined {
  return state.forkPoints.find((point) => constantTimeEqual(point.keyId, keyId));
}

/** What {@link enterChildAdd} and {@link enterChildKeyUpdate} need of `MemberGroup`. */
export interface ForkHost {
  readonly provider: CryptoProvider;
  readonly group: GroupId;
  readonly state: MemberGroupState;
  readonly limits: EpochLimits | undefined;
}

/** How a child commit of a fork point is entered. */
export interface EnterChildOptions {
  /**
   * `true`: the child becomes the current epoch (the winner: we send in it from now on; the epoch
   * we were in stays readable as a retained epoch). `false`: it is kept as a retained epoch only (a
   * loser: its messages stay readable). Which is the caller's decision (`compareCommits`).
   */
  readonly makeCurrent: boolean;
}

/** An add step on a kept parent (what `MemberGroup.applyAdd` takes, `epoch` and `previousKeyId` required). */
export interface ChildAddInit {
  readonly roster: Roster;
  readonly rosterHash?: Uint8Array;
  readonly epoch: bigint;
  readonly previousKeyId: Uint8Array;
  readonly keyId?: Uint8Array;
  readonly now: number;
}

/** Why a commit cannot be entered as a child of a fork point, or `undefined` with the point. */
function parentOf(
  state: MemberGroupState,
  epoch: bigint,
  previousKeyId: Uint8Array,
  keyId: Uint8Array | undefined,
): ForkPoint | MemberTransition {
  if (keyId !== undefined && holdsEpoch(state, keyId)) return { status: "stale", epoch };
  const point = findForkPoint(state, previousKeyId);
  if (point === undefined || epoch !== point.epoch + 1n) {
    return { status: "gap", epoch, currentEpoch: state.epoch };
  }
  return point;
}

/** Whether the state holds epoch `keyId` (current, retained or as a fork point). */
export function holdsEpoch(state: MemberGroupState, keyId: Uint8Array): boolean {
  return (
    state.window.find(keyId) !== undefined ||
    (!state.removed && constantTimeEqual(state.keyId, keyId)) ||
    findForkPoint(state, keyId) !== undefined
  );
}

/**
 * Enters an add step whose parent is a fork point (a sibling of a commit we followed).
 *
 * @returns `applied`; `stale` (an epoch we hold), `gap` (its parent is no fork point of ours, or
 *   the epoch does not follow it), `roster-mismatch` (our leaf is not in its roster),
 *   `key-mismatch` (the derived key_id is not the announced one). Nothing changes but on `applied`.
 */
export function enterChildAdd(
  host: ForkHost,
  init: ChildAddInit,
  options: EnterChildOptions,
): MemberTransition {
  const { provider, state } = host;
  checkNow(init.now);
  const epoch = init.epoch;
  const parent = parentOf(state, epoch, init.previousKeyId, init.keyId);
  if (!("initSecret" in parent)) return parent;
  if (!holdsOwnLeaf(state, init.roster)) return { status: "roster-mismatch", epoch };
  const hash = init.rosterHash?.slice() ?? rosterHash(provider, init.roster);
  const epochSecret = addStepEpochSecret(provider, parent.initSecret, hash, epoch);
  const leaf = { secret: parent.leafSecret.slice(), epoch: parent.leafEpoch };
  return enterChild(host, { epoch, epochSecret, roster: init.roster, hash, leaf }, init, options);
}

/**
 * Enters a KeyUpdate chunk whose parent is a fork point: the entry opens with the parent's salt
 * (the delegate salt of its `rekey_secret`, or `L_m` as it was there).
 *
 * @returns `applied`; `stale`, `gap` as {@link enterChildAdd}; `not-in-chunk` (no entry of ours in
 *   this chunk: another chunk, or a commit that removed us — its roster says which);
 *   `roster-mismatch`. Nothing changes but on `applied`.
 */
export function enterChildKeyUpdate(
  host: ForkHost,
  chunk: KeyUpdateChunk,
  now: number,
  options: EnterChildOptions & Pick<ApplyKeyUpdateOptions, "roster" | "rosterHash" | "salt">,
): MemberTransition {
  const { provider, group, state } = host;
  checkNow(now);
  if (chunk.channelId !== group.channelId) throw new RangeError("chunk.channelId: another group");
  const epoch = chunk.epoch;
  const parent = parentOf(state, epoch, chunk.previousKeyId, chunk.keyId);
  if (!("initSecret" in parent)) return parent;
  const source = {
    leaf: state.leaf,
    leafSecret: parent.leafSecret,
    leafEpoch: parent.leafEpoch,
    epoch: parent.epoch,
    rekeySecret: parent.rekeySecret,
    prekeys: state.prekeys,
  };
  const found = findEntry(provider, group, source, chunk, options, openKeyUpdate);
  if (found === undefined) return { status: "not-in-chunk", epoch, missingChunks: [] };
  const { leafSecret, found: epochSecret } = found;
  const roster = options.roster ?? state.roster;
  const hash = options.rosterHash ?? rosterHash(provider, roster);
  if (!constantTimeEqual(hash, chunk.rosterHash) || !holdsOwnLeaf(state, roster)) {
    wipe(leafSecret, epochSecret);
    return { status: "roster-mismatch", epoch };
  }
  // An owner KeyUpdate moves L_m one step from the salt it used; a delegate's leaves it.
  const leaf =
    options.salt === "delegate"
      ? { secret: parent.leafSecret.slice(), epoch: parent.leafEpoch }
      : { secret: evolveLeafSecret(provider, leafSecret, epoch), epoch };
  wipe(leafSecret);
  return enterChild(host, { epoch, epochSecret, roster, hash, leaf }, { now }, options);
}

/** Derives the child's keys; makes them current or keeps them retained (with a fork point). */
function enterChild(
  host: ForkHost,
  child: {
    readonly epoch: bigint;
    readonly epochSecret: Uint8Array;
    readonly roster: Roster;
    readonly hash: Uint8Array;
    readonly leaf: { readonly secret: Uint8Array; readonly epoch: bigint };
  },
  init: { readonly keyId?: Uint8Array; readonly now: number },
  options: EnterChildOptions,
): MemberTransition {
  const { provider, group, state, limits } = host;
  const { epoch, roster, hash, leaf } = child;
  const rekeySecret = deriveRekeySecret(provider, child.epochSecret);
  const entered = enterEpoch({
    provider,
    group,
    epoch,
    epochSecret: child.epochSecret,
    roster,
    rosterHash: hash,
    limits,
  });
  const keyId = entered.keys.keyId.slice();
  if (init.keyId !== undefined && !constantTimeEqual(keyId, init.keyId)) {
    entered.keys.destroy();
    wipe(entered.initSecret, rekeySecret, leaf.secret);
    return { status: "key-mismatch", epoch };
  }
  if (options.makeCurrent) {
    switchTo(state, entered.keys, entered.initSecret, rekeySecret, leaf, init.now);
  } else {
    // A loser: readable, and a fork point of its own (a commit made on top of it before its
    // committer saw the winner is entered the same way).
    state.window.addHistory(entered.keys, init.now);
    state.forkPoints.push({
      epoch,
      keyId: keyId.slice(),
      initSecret: entered.initSecret,
      rekeySecret,
      leafSecret: leaf.secret,
      leafEpoch: leaf.epoch,
      leftAt: init.now,
    });
    pruneForkPoints(state, init.now);
  }
  return { status: "applied", epoch, keyId };
}

/**
 * Makes `keys` the current epoch; the one we were in is kept (retained, and as a fork point). The
 * secrets given become the state's (not copied).
 */
function switchTo(
  state: MemberGroupState,
  keys: EpochKeys,
  initSecret: Uint8Array,
  rekeySecret: Uint8Array | undefined,
  leaf: { readonly secret: Uint8Array; readonly epoch: bigint },
  now: number,
): void {
  keepForkPoint(state, now);
  wipe(state.initSecret, state.rekeySecret, state.leafSecret);
  state.initSecret = initSecret;
  state.rekeySecret = rekeySecret;
  state.leafSecret = leaf.secret;
  state.leafEpoch = leaf.epoch;
  state.epoch = keys.epoch;
  state.keyId = keys.keyId.slice();
  state.roster = keys.roster;
  state.pending = undefined;
  // A member removed on the losing branch is a member again on the winning one.
  state.removed = false;
  state.window.advance(keys, now);
  // The epoch just entered is not a fork point of itself.
  const self = state.forkPoints.findIndex((point) => constantTimeEqual(point.keyId, keys.keyId));
  if (self >= 0) wipeForkPoint(state.forkPoints.splice(self, 1)[0] as ForkPoint);
}

/**
 * Goes back to epoch `keyId`, one this member left (docs/DELEGATION.md, "An add step found
 * invalid"): its retained keys become the current epoch again and its secrets (`init_secret`,
 * `rekey_secret`, `L_m` as it was) come back from its fork point; the epoch left is kept readable
 * and as a fork point. The own sender chain of `keyId` is the one it had: it goes on past every
 * generation sent in it (a restored retained epoch resumes at its saved send reservation, which is
 * past every generation that may have left), so none is used twice.
 *
 * @param roster - the roster of epoch `keyId` (must hash as that epoch's)
 * @returns `applied`; `stale` (it is the current epoch); `roster-mismatch` (`roster` is another
 *   epoch's, or does not hold our leaf). Nothing changes but on `applied`.
 * @throws {@link NoForkPointError} when no fork point or no retained keys of `keyId` are kept
 */
export function returnToEpoch(
  host: ForkHost,
  keyId: Uint8Array,
  roster: Roster,
  now: number,
): MemberTransition {
  const { provider, state } = host;
  checkNow(now);
  if (!state.removed && constantTimeEqual(state.keyId, keyId)) {
    return { status: "stale", epoch: state.epoch };
  }
  // What the retention window ended is gone first (wiped).
  pruneForkPoints(state, now);
  state.window.prune(now);
  const point = findForkPoint(state, keyId);
  const window = state.window;
  const keys = window.retained.find((entry) => constantTimeEqual(entry.keys.keyId, keyId))?.keys;
  if (point === undefined || keys === undefined) {
    const missing = point === undefined ? "no fork point of it is kept" : "its keys expired";
    throw new NoForkPointError(toHex(keyId), missing);
  }
  // A roster restored unchecked is checked before the epoch is current again.
  state.window.checkRoster(keys);
  const hash = rosterHashOf(provider, roster);
  if (
    !constantTimeEqual(hash, rosterHashOf(provider, keys.roster)) ||
    !holdsOwnLeaf(state, roster)
  ) {
    return { status: "roster-mismatch", epoch: point.epoch };
  }
  // The fork point's secrets are moved, not copied: it is dropped without wiping them (before
  // the epoch left is kept, whose pruning must not wipe them); the keys leave the retained list.
  state.forkPoints = state.forkPoints.filter((kept) => kept !== point);
  window.retained = window.retained.filter((entry) => entry.keys !== keys);
  window.touched.delete(keys);
  const leaf = { secret: point.leafSecret, epoch: point.leafEpoch };
  switchTo(state, keys, point.initSecret, point.rekeySecret, leaf, now);
  return { status: "applied", epoch: keys.epoch, keyId: keys.keyId.slice() };
}

/**
 * Enters the epoch of `keys`, the next one on our chain (`MemberGroup`'s add steps, KeyUpdates and
 * own commits); the epoch left is kept as a fork point.
 *
 * @param leafSecret - replaces ours (re-based to that epoch) when given
 */
export function enterNext(
  state: MemberGroupState,
  keys: EpochKeys,
  initSecret: Uint8Array,
  leafSecret: Uint8Array | undefined,
  rekeySecret: Uint8Array,
  now: number,
): void {
  keepForkPoint(state, now);
  wipe(state.initSecret, state.rekeySecret);
  state.initSecret = initSecret;
  state.rekeySecret = rekeySecret;
  if (leafSecret !== undefined) {
    wipe(state.leafSecret);
    state.leafSecret = leafSecret;
    state.leafEpoch = keys.epoch;
  }
  state.epoch = keys.epoch;
  state.keyId = keys.keyId.slice();
  state.roster = keys.roster;
  state.pending = undefined;
  state.window.advance(keys, now);
}

/** Whether `roster` holds our leaf with our identity key. */
export function holdsOwnLeaf(state: MemberGroupState, roster: Roster): boolean {
  const own = roster[state.leaf];
  return own !== undefined && constantTimeEqual(own.identityKey, state.identityKey);
}

/** Where a KeyUpdate's salts come from: the member's current epoch, or a fork point's. */
export interface SaltSource {
  readonly leaf: number;
  readonly leafSecret: Uint8Array;
  readonly leafEpoch: bigint;
  readonly epoch: bigint;
  readonly rekeySecret: Uint8Array | undefined;
  readonly prekeys: MemberGroupState["prekeys"];
}

/**
 * Tries `open` with every salt and prekey a KeyUpdate may use; on the first answer, returns it
 * with the salt it used (the caller wipes it) and the prekey's index.
 *
 * @param source - the leaf secret, epoch, rekey secret and prekeys to try
 * @returns the answer, or `undefined` (every salt tried was wiped)
 */
export function findEntry<T>(
  provider: CryptoProvider,
  group: GroupId,
  source: SaltSource,
  chunk: KeyUpdateChunk,
  options: ApplyKeyUpdateOptions,
  open: (init: OpenKeyUpdateInit) => T | undefined,
): { found: T; leafSecret: Uint8Array; used: number } | undefined {
  let leafSecret: Uint8Array = new Uint8Array(0);
  try {
    for (const salt of memberSalts(provider, source, chunk.epoch, options)) {
      wipe(leafSecret);
      leafSecret = salt;
      for (const [used, prekey] of source.prekeys.entries()) {
        const found = open({
          provider,
          group,
          chunk,
          prekeySecret: prekey.secretKey,
          prekey: prekey.publicKey,
          leafSecret,
        });
        if (found !== undefined) return { found, leafSecret, used };
      }
    }
  } catch (cause) {
    wipe(leafSecret);
    throw cause;
  }
  wipe(leafSecret);
  return undefined;
}

/**
 * `u8 count ‖ count × (u64 epoch ‖ key_id (8) ‖ f64 left at ‖ init_secret (32) ‖ u8 has rekey ‖
 * [rekey_secret (32)] ‖ u64 leaf epoch ‖ leaf secret (32))`: the end of a member head, format 4.
 */
export function writeForkPoints(writer: StateWriter, points: readonly ForkPoint[]): void {
  writer.u8(points.length);
  for (const point of points) {
    writer.u64(point.epoch);
    writer.fixed(point.keyId);
    writer.f64(point.leftAt);
    writer.fixed(point.initSecret);
    writer.u8(point.rekeySecret === undefined ? 0 : 1);
    if (point.rekeySecret !== undefined) writer.fixed(point.rekeySecret);
    writer.u64(point.leafEpoch);
    writer.fixed(point.leafSecret);
  }
}

/**
 * Reads what {@link writeForkPoints} wrote.
 *
 * @throws {RangeError} for more than {@link forkPointLimits}.maxPoints (the caller's `restoring`
 *   makes it a `StateCorruptedError`)
 */
export function readForkPoints(reader: StateReader, keyIdBytes: number): ForkPoint[] {
  const count = reader.u8();
  if (count > forkPointLimits.maxPoints) {
    throw new RangeError(`${count} fork points; at most ${forkPointLimits.maxPoints} are kept`);
  }
  const points: ForkPoint[] = [];
  for (let i = 0; i < count; i++) {
    const epoch = reader.u64();
    const keyId = reader.fixed(keyIdBytes);
    const leftAt = reader.f64();
    const initSecret = reader.fixed(32);
    const rekeySecret = reader.flag() ? reader.fixed(32) : undefined;
    const leafEpoch = reader.u64();
    const leafSecret = reader.fixed(32);
    points.push({ epoch, keyId, leftAt, initSecret, rekeySecret, leafEpoch, leafSecret });
  }
  return points;
}
