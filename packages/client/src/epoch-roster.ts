import { equalBytes } from "@orgchat/base";
import type { Roster, RosterLeaf } from "@orgchat/crypto";
import {
  decodeSignedEnvelope,
  type EnvelopeSigner,
  type EnvelopeVerifier,
  keysTopic,
  MessageType,
  openEnvelope,
  RosterChangeKind,
  type RosterDelta,
  type RosterPage,
  sealEnvelope,
  type EpochRoster as WireEpochRoster,
  wireLimits,
} from "@orgchat/wire";
import { decodeJson } from "./encoding.js";

// -------------------------------------------------------------------------------------------------
// Epoch rosters (docs/CLIENT.md, "Epoch rosters"; docs/PROTOCOL.md, "Epoch rosters")
// -------------------------------------------------------------------------------------------------

/** How a group entered an epoch: the key-schedule step that derives it. */
export type RosterChange = "genesis" | "add" | "rekey";

/**
 * The owner-signed roster of one epoch of one group, as the client keeps it (the `roster/<key id>`
 * record, JSON through `encodeJson`): rebuilt from a delta or from snapshot pages, and only kept
 * once it hashes to `rosterHash`.
 */
export interface EpochRoster {
  readonly change: RosterChange;
  /** "" for the organization's group, else a restricted channel's id. */
  readonly channelId: string;
  readonly epoch: bigint;
  readonly keyId: Uint8Array;
  /** The epoch before (empty at genesis). */
  readonly previousKeyId: Uint8Array;
  /** `rosterHash()` of `roster`. */
  readonly rosterHash: Uint8Array;
  /** `rosterHash()` of the previous epoch's roster (empty at genesis). */
  readonly previousRosterHash: Uint8Array;
  readonly roster: Roster;
}

/** One leaf as the wire lists it. */
interface WireLeafInit {
  readonly index: number;
  readonly identityKey: Uint8Array;
  readonly signingKey: Uint8Array;
  readonly prekey: Uint8Array;
}

/** A delta, as `EpochRoster.delta` takes it. */
export interface RosterDeltaInit {
  readonly removedLeaves: number[];
  readonly leaves: WireLeafInit[];
  readonly leafCount: number;
}

/** A snapshot page, as `EpochRoster.page` takes it. */
export interface RosterPageInit {
  readonly pageIndex: number;
  readonly pageCount: number;
  readonly leafCount: number;
  readonly firstLeaf: number;
  readonly leaves: WireLeafInit[];
}

/** An `EpochRoster` message to seal (what `encodeEpochRoster` takes). */
export interface EpochRosterInit {
  readonly version: number;
  readonly channelId: string;
  readonly epoch: bigint;
  readonly keyId: Uint8Array;
  readonly previousKeyId: Uint8Array;
  readonly rosterHash: Uint8Array;
  readonly previousRosterHash: Uint8Array;
  readonly change: RosterChangeKind;
  readonly body:
    | { readonly case: "delta"; readonly value: RosterDeltaInit }
    | { readonly case: "page"; readonly value: RosterPageInit };
}

const changeToWire: Record<RosterChange, RosterChangeKind> = {
  genesis: RosterChangeKind.GENESIS,
  add: RosterChangeKind.ADD,
  rekey: RosterChangeKind.REKEY,
};

/** The roster change of a wire `RosterChangeKind` (undefined for an unknown kind). */
export function changeFromWire(kind: RosterChangeKind): RosterChange | undefined {
  switch (kind) {
    case RosterChangeKind.GENESIS:
      return "genesis";
    case RosterChangeKind.ADD:
      return "add";
    case RosterChangeKind.REKEY:
      return "rekey";
    default:
      return undefined;
  }
}

function sameLeaf(a: RosterLeaf | undefined, b: RosterLeaf | undefined): boolean {
  // Rosters of consecutive epochs share their unchanged leaf objects: no bytes to compare.
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return (
    equalBytes(a.identityKey, b.identityKey) &&
    equalBytes(a.signingKey, b.signingKey) &&
    equalBytes(a.prekey, b.prekey)
  );
}

function wireLeaf(index: number, leaf: RosterLeaf): WireLeafInit {
  return {
    index,
    identityKey: leaf.identityKey,
    signingKey: leaf.signingKey,
    prekey: leaf.prekey,
  };
}

/**
 * The change from one roster to the next: the leaves emptied, the leaves filled or changed (a
 * rotated prekey), and the new length. `applyRosterDelta(previous, rosterDelta(previous, next))`
 * gives `next` back.
 *
 * @param previous - the previous epoch's roster
 * @param next - the new epoch's roster
 */
export function rosterDelta(previous: Roster, next: Roster): RosterDeltaInit {
  const removedLeaves: number[] = [];
  const leaves: WireLeafInit[] = [];
  for (let index = 0; index < next.length; index++) {
    const before = previous[index] ?? undefined;
    const after = next[index] ?? undefined;
    if (sameLeaf(before, after)) continue;
    if (after === undefined) removedLeaves.push(index);
    else leaves.push(wireLeaf(index, after));
  }
  return { removedLeaves, leaves, leafCount: next.length };
}

/**
 * The roster a delta yields from the previous epoch's roster (docs/PROTOCOL.md, "Epoch rosters"):
 * resize to `leaf_count`, empty the removed leaves, write the listed ones. The caller checks the
 * result's hash.
 *
 * @param previous - the roster whose hash is the message's `previous_roster_hash`
 * @param delta - a decoded (so validated) delta
 */
export function applyRosterDelta(previous: Roster, delta: RosterDelta | RosterDeltaInit): Roster {
  return applyRosterDeltaInPlace(previous.slice(0, delta.leafCount), delta);
}

/**
 * {@link applyRosterDelta} writing into `roster` itself (no copy): for a chain of deltas whose
 * intermediate rosters are not kept. Unchanged leaves stay the same objects.
 *
 * @param roster - the previous roster, modified in place
 * @param delta - a decoded (so validated) delta
 * @returns `roster`
 */
export function applyRosterDeltaInPlace(
  roster: Array<RosterLeaf | undefined>,
  delta: RosterDelta | RosterDeltaInit,
): Array<RosterLeaf | undefined> {
  if (roster.length > delta.leafCount) roster.length = delta.leafCount;
  while (roster.length < delta.leafCount) roster.push(undefined);
  for (const index of delta.removedLeaves) roster[index] = undefined;
  for (const leaf of delta.leaves) {
    roster[leaf.index] = {
      identityKey: leaf.identityKey,
      signingKey: leaf.signingKey,
      prekey: leaf.prekey,
    };
  }
  return roster;
}

/**
 * A full roster as snapshot pages: the non-empty leaves, `leavesPerPage` per page, each page
 * covering the leaf indexes from its first leaf (0 for page 0) to the next page's.
 *
 * @param roster - the full roster
 * @param leavesPerPage - at most `wireLimits.maxRosterLeavesPerPage` (what the owner uses)
 */
export function rosterPages(
  roster: Roster,
  leavesPerPage: number = wireLimits.maxRosterLeavesPerPage,
): RosterPageInit[] {
  const present: number[] = [];
  roster.forEach((leaf, index) => {
    if (leaf != null) present.push(index);
  });
  const pageCount = Math.max(1, Math.ceil(present.length / leavesPerPage));
  const pages: RosterPageInit[] = [];
  for (let pageIndex = 0; pageIndex < pageCount; pageIndex++) {
    const indexes = present.slice(pageIndex * leavesPerPage, (pageIndex + 1) * leavesPerPage);
    pages.push({
      pageIndex,
      pageCount,
      leafCount: roster.length,
      firstLeaf: pageIndex === 0 ? 0 : (indexes[0] as number),
      leaves: indexes.map((index) => wireLeaf(index, roster[index] as RosterLeaf)),
    });
  }
  return pages;
}

/**
 * The roster of a complete set of snapshot pages (one per index, any order). The caller checks the
 * result's hash.
 *
 * @param pages - decoded (so individually validated) pages of one snapshot
 * @returns the roster, or `undefined` when they do not tile it: a page missing or repeated, ranges
 *   out of order, a leaf outside its page's range, counts that differ
 */
export function assembleRosterPages(pages: readonly RosterPage[]): Roster | undefined {
  const sorted = [...pages].sort((a, b) => a.pageIndex - b.pageIndex);
  const first = sorted[0];
  if (first === undefined || sorted.length !== first.pageCount) return undefined;
  const roster: Array<RosterLeaf | undefined> = new Array(first.leafCount).fill(undefined);
  for (const [position, page] of sorted.entries()) {
    const end = sorted[position + 1]?.firstLeaf ?? first.leafCount;
    if (
      page.pageIndex !== position ||
      page.pageCount !== first.pageCount ||
      page.leafCount !== first.leafCount ||
      page.firstLeaf >= end
    ) {
      return undefined;
    }
    for (const leaf of page.leaves) {
      if (leaf.index >= end) return undefined;
      roster[leaf.index] = {
        identityKey: leaf.identityKey,
        signingKey: leaf.signingKey,
        prekey: leaf.prekey,
      };
    }
  }
  return roster;
}

function header(record: EpochRoster): Omit<EpochRosterInit, "body"> {
  return {
    version: 1,
    channelId: record.channelId,
    epoch: record.epoch,
    keyId: record.keyId,
    previousKeyId: record.previousKeyId,
    rosterHash: record.rosterHash,
    previousRosterHash: record.previousRosterHash,
    change: changeToWire[record.change],
  };
}

/**
 * The message announcing an epoch's roster as a delta from the previous epoch's.
 *
 * @param record - the new epoch (not a genesis: there is nothing to apply a delta to)
 * @param previous - the previous epoch's roster
 * @returns the message, or `undefined` for a genesis or a change too large for one delta
 *   (`wireLimits.maxRosterLeavesPerPage` leaves written, `maxRosterRemovedLeaves` removed): announce
 *   a snapshot then
 */
export function rosterDeltaMessage(
  record: EpochRoster,
  previous: Roster,
): EpochRosterInit | undefined {
  if (record.change === "genesis") return undefined;
  const delta = rosterDelta(previous, record.roster);
  if (
    delta.leaves.length > wireLimits.maxRosterLeavesPerPage ||
    delta.removedLeaves.length > wireLimits.maxRosterRemovedLeaves
  ) {
    return undefined;
  }
  return { ...header(record), body: { case: "delta", value: delta } };
}

/**
 * The messages of a full snapshot of an epoch's roster, one per page (see {@link rosterPages}).
 *
 * @param record - the epoch
 * @param leavesPerPage - leaves listed per page @default wireLimits.maxRosterLeavesPerPage
 */
export function rosterSnapshotMessages(
  record: EpochRoster,
  leavesPerPage?: number,
): EpochRosterInit[] {
  return rosterPages(record.roster, leavesPerPage).map((page) => ({
    ...header(record),
    body: { case: "page", value: page },
  }));
}

/** What {@link sealEpochRosters} seals. */
export interface SealEpochRostersInit {
  readonly organizationId: Uint8Array;
  /** The organization key. */
  readonly signer: EnvelopeSigner;
  readonly clock: bigint;
  readonly messages: readonly EpochRosterInit[];
}

/**
 * Seals roster messages in envelopes of type `epoch-roster` for their group's keys topic.
 * @param init - the organization, its key, the envelope clock and the messages
 * @returns the topic and the envelopes, in the order of `init.messages`
 * @throws {RangeError} from `sealEnvelope` when a message breaks a rule (a caller's mistake)
 */
export async function sealEpochRosters(
  init: SealEpochRostersInit,
): Promise<Array<{ topic: string; bytes: Uint8Array }>> {
  const out: Array<{ topic: string; bytes: Uint8Array }> = [];
  for (const message of init.messages) {
    const channelId = message.channelId ?? "";
    const topic = keysTopic(init.organizationId, channelId === "" ? undefined : channelId);
    const bytes = await sealEnvelope(
      {
        type: "epoch-roster",
        organizationId: init.organizationId,
        clock: init.clock,
        contentTopic: topic,
        message,
      },
      init.signer,
    );
    out.push({ topic, bytes });
  }
  return out;
}

/**
 * Whether received bytes are an envelope of type `epoch-roster`, before any signature check: routes
 * keys-topic traffic between rosters and KeyUpdates. Never throws.
 */
export function isEpochRosterEnvelope(bytes: Uint8Array): boolean {
  try {
    return decodeSignedEnvelope(bytes).type === MessageType.EPOCH_ROSTER;
  } catch {
    return false;
  }
}

/**
 * Opens an epoch roster received on `contentTopic`: an `epoch-roster` envelope for this
 * organization and topic, signed by the organization key, whose group's keys topic is that topic.
 * Never throws.
 *
 * @param bytes - the received payload
 * @param options - the organization, the topic it arrived on, the signature check
 * @returns the message, or `undefined` for anything else
 */
export async function openEpochRoster(
  bytes: Uint8Array,
  options: {
    readonly organizationId: Uint8Array;
    readonly contentTopic: string;
    readonly verify: EnvelopeVerifier;
    /** Told why the envelope did not open (decode, signature or binding error), for diagnostics. */
    readonly onError?: (error: unknown) => void;
    /**
     * A delegate's commits (docs/DELEGATION.md): which keys besides the organization key may sign
     * (asked before the signature is checked), and the check of what such a roster may change
     * (`delegate-commits.ts`). Without it, the organization key only.
     */
    readonly delegates?: {
      readonly committers: (signer: Uint8Array) => boolean;
      /** `clock`: the envelope's, the commit's place in the canonical order. */
      readonly check: (signer: Uint8Array, message: WireEpochRoster, clock: bigint) => boolean;
    };
  },
): Promise<WireEpochRoster | undefined> {
  try {
    const delegates = options.delegates;
    const opened = await openEnvelope(bytes, {
      contentTopic: options.contentTopic,
      organizationId: options.organizationId,
      accept: ["epoch-roster"],
      verify: options.verify,
      ...(delegates === undefined ? {} : { committers: delegates.committers }),
    });
    if (opened.type !== "epoch-roster") return undefined;
    if (
      delegates !== undefined &&
      !equalBytes(opened.signer, options.organizationId) &&
      !delegates.check(opened.signer, opened.message, opened.clock)
    ) {
      return undefined;
    }
    const { channelId } = opened.message;
    // A roster replayed onto another group's topic would be opened for the wrong group.
    const topic = keysTopic(options.organizationId, channelId === "" ? undefined : channelId);
    return topic === options.contentTopic ? opened.message : undefined;
  } catch (error) {
    options.onError?.(error);
    return undefined;
  }
}

/**
 * A stored `roster/<key id>` record, or `undefined` when it is not one. JSON writes an empty leaf
 * as `null`: it is read back as `undefined`, which is what `Roster` and the group code expect.
 *
 * @param bytes - the record's value
 * @throws {SyntaxError} from `decodeJson` for bytes that are not JSON
 */
export function decodeStoredRoster(bytes: Uint8Array): EpochRoster | undefined {
  const value = decodeJson<Partial<EpochRoster> & { roster?: Array<RosterLeaf | null> }>(bytes);
  const change = value.change;
  if (
    (change !== "genesis" && change !== "add" && change !== "rekey") ||
    typeof value.channelId !== "string" ||
    typeof value.epoch !== "bigint" ||
    !(value.keyId instanceof Uint8Array) ||
    !(value.rosterHash instanceof Uint8Array) ||
    !Array.isArray(value.roster)
  ) {
    return undefined;
  }
  // Records of the provisional format (before `@orgchat/wire` registered the message) named no
  // previous roster hash, and 8 zero bytes as a genesis' previous key id.
  const genesis = change === "genesis";
  return {
    change,
    channelId: value.channelId,
    epoch: value.epoch,
    keyId: value.keyId,
    previousKeyId: genesis ? new Uint8Array(0) : (value.previousKeyId ?? new Uint8Array(0)),
    rosterHash: value.rosterHash,
    previousRosterHash: genesis
      ? new Uint8Array(0)
      : (value.previousRosterHash ?? new Uint8Array(0)),
    roster: value.roster.map((leaf) => leaf ?? undefined),
  };
}
