/**
 * The client's stored epoch rosters (docs/CLIENT.md, "Epoch rosters"): binary records, a full
 * roster (snapshot) or a delta from the previous epoch's record, and the pruning policy that keeps
 * only what some group, Welcome, KeyUpdate or waiting message still needs. A roster of N leaves
 * costs ~100 N bytes as a snapshot and ~100 bytes per changed leaf as a delta; a snapshot is written
 * at least every time the deltas since the last one would weigh more than half of it, so the
 * records of a group weigh at most 1.5 snapshots plus the rosters kept: O(N), not O(N × epochs).
 */
import { toHex } from "@orgchat/base";
import type { Roster, RosterLeaf } from "@orgchat/crypto";
import { rosterHashOnce } from "@orgchat/crypto";
import { readEntries, type Store, type StoreOp } from "@orgchat/store";
import { encodeJson } from "./encoding.js";
import {
  applyRosterDeltaInPlace,
  decodeStoredRoster,
  type EpochRoster,
  type RosterChange,
  type RosterDeltaInit,
  rosterDelta,
} from "./epoch-roster.js";
import { StoreCorruptedError } from "./errors.js";
import type { DeferredRosterChecks, KeptRosters } from "./kept-rosters.js";
import type { Org, Txn } from "./org.js";
import type { RosterBook, StoredRosterInfo } from "./roster-book.js";

/** Key prefix of the binary roster records (`rr/<key id hex>`). */
export const rosterRecordPrefix = "rr/";
/** Key prefix of the JSON records of the earlier format (read, and deleted once pruned). */
export const legacyRosterPrefix = "roster/";

/** The storage policy's numbers. */
export const rosterRecordPolicy = {
  /**
   * A delta is stored while the deltas since the last stored snapshot, it included, weigh at most
   * this share of a snapshot of the new roster; else a snapshot. Loading an epoch then reads at
   * most 1.5 snapshots' worth of records.
   */
  maxDeltaShare: 0.5,
  /**
   * The newest epochs of every group whose rosters are kept whatever holds them: a Welcome that
   * arrives after a few later epochs' rosters (a member added, then others at once) still finds
   * its roster — the roster messages were marked seen, history would not give it back. A Welcome
   * later than that waits for a resync answer (a new Welcome and a snapshot).
   */
  recentEpochsKept: 4,
} as const;

const formatVersion = 1;
const kindSnapshot = 1;
const kindDelta = 2;
/** Flag: the roster is read back into memory at load (else the record is only a delta base). */
const flagKept = 1;
const leafBytes = 4 + 3 * 32;
const changes: readonly RosterChange[] = ["genesis", "add", "rekey"];

/** A decoded `rr/` record. */
export interface RosterRecord {
  readonly header: Omit<EpochRoster, "roster">;
  readonly kept: boolean;
  readonly body:
    | { readonly kind: "snapshot"; readonly roster: Roster }
    | { readonly kind: "delta"; readonly delta: RosterDeltaInit };
}

class Writer {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  offset = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.#view = new DataView(this.bytes.buffer);
  }
  u8(value: number): void {
    this.#view.setUint8(this.offset, value);
    this.offset += 1;
  }
  u32(value: number): void {
    this.#view.setUint32(this.offset, value);
    this.offset += 4;
  }
  u64(value: bigint): void {
    this.#view.setBigUint64(this.offset, value);
    this.offset += 8;
  }
  raw(value: Uint8Array): void {
    this.bytes.set(value, this.offset);
    this.offset += value.length;
  }
  short(value: Uint8Array): void {
    this.u8(value.length);
    this.raw(value);
  }
  leaf(index: number, leaf: RosterLeaf): void {
    this.u32(index);
    this.raw(leaf.identityKey);
    this.raw(leaf.signingKey);
    this.raw(leaf.prekey);
  }
}

class Reader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  offset = 0;
  /**
   * @param bytes - a record; copied once, and every key read is a view into the copy (one backing
   *   buffer per record rather than three per leaf: a 10,000-leaf snapshot decodes ~3× faster and
   *   its leaves hold ~100 B each, not ~100 B plus three buffers' overhead)
   * @param owned - the caller hands `bytes` over (no one changes them afterwards: a store read's
   *   copy): read in place when they span their whole buffer (no copy; a view of a larger buffer
   *   is still copied, so that no key holds more than its record)
   */
  constructor(bytes: Uint8Array, owned = false) {
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    this.#bytes = owned && whole ? bytes : bytes.slice();
    this.#view = new DataView(this.#bytes.buffer);
  }
  #need(count: number): void {
    if (this.offset + count > this.#bytes.length) throw new RangeError("roster record: truncated");
  }
  u8(): number {
    this.#need(1);
    return this.#view.getUint8(this.offset++);
  }
  u32(): number {
    this.#need(4);
    const value = this.#view.getUint32(this.offset);
    this.offset += 4;
    return value;
  }
  u64(): bigint {
    this.#need(8);
    const value = this.#view.getBigUint64(this.offset);
    this.offset += 8;
    return value;
  }
  raw(count: number): Uint8Array {
    this.#need(count);
    const value = this.#bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return value;
  }
  short(): Uint8Array {
    return this.raw(this.u8());
  }
  /** A leaf's three keys (after its index, {@link u32}): views into the record's copy. */
  keys(): RosterLeaf {
    return { identityKey: this.raw(32), signingKey: this.raw(32), prekey: this.raw(32) };
  }
  get done(): boolean {
    return this.offset === this.#bytes.length;
  }
}

function headerBytes(record: Omit<EpochRoster, "roster">, channel: Uint8Array): number {
  return (
    4 +
    8 +
    4 +
    record.keyId.length +
    record.previousKeyId.length +
    record.rosterHash.length +
    record.previousRosterHash.length +
    2 +
    channel.length +
    4
  );
}

/**
 * Encodes a roster record: version, kind, flags, change, epoch, key ids and hashes (each prefixed
 * by its length), channel id (UTF-8, 16-bit length), leaf count, then a snapshot's present leaves
 * (index and three 32-byte keys each) or a delta's removed indexes and written leaves.
 *
 * @param header - the epoch (its `roster` is not read)
 * @param body - the full roster, or the delta from the previous epoch's
 * @param kept - whether the roster is read back into memory at load
 * @returns the record's bytes
 */
export function encodeRosterRecord(
  header: Omit<EpochRoster, "roster">,
  body:
    | { readonly kind: "snapshot"; readonly roster: Roster }
    | { readonly kind: "delta"; readonly delta: RosterDeltaInit },
  kept: boolean,
): Uint8Array {
  const channel = new TextEncoder().encode(header.channelId);
  let size = headerBytes(header, channel);
  let leafCount: number;
  if (body.kind === "snapshot") {
    leafCount = body.roster.length;
    let present = 0;
    for (const leaf of body.roster) if (leaf != null) present++;
    size += 4 + present * leafBytes;
  } else {
    leafCount = body.delta.leafCount;
    size += 8 + body.delta.removedLeaves.length * 4 + body.delta.leaves.length * leafBytes;
  }
  const w = new Writer(size);
  w.u8(formatVersion);
  w.u8(body.kind === "snapshot" ? kindSnapshot : kindDelta);
  w.u8(kept ? flagKept : 0);
  w.u8(changes.indexOf(header.change));
  w.u64(header.epoch);
  w.short(header.keyId);
  w.short(header.previousKeyId);
  w.short(header.rosterHash);
  w.short(header.previousRosterHash);
  w.u8(channel.length >> 8);
  w.u8(channel.length & 0xff);
  w.raw(channel);
  w.u32(leafCount);
  if (body.kind === "snapshot") {
    const start = w.offset;
    w.u32(0);
    let present = 0;
    body.roster.forEach((leaf, index) => {
      if (leaf == null) return;
      w.leaf(index, leaf);
      present++;
    });
    new DataView(w.bytes.buffer).setUint32(start, present);
  } else {
    w.u32(body.delta.removedLeaves.length);
    for (const index of body.delta.removedLeaves) w.u32(index);
    w.u32(body.delta.leaves.length);
    for (const leaf of body.delta.leaves) w.leaf(leaf.index, leaf);
  }
  return w.bytes;
}

/**
 * Decodes a roster record ({@link encodeRosterRecord}).
 * @param bytes - the record's value
 * @param owned - the caller hands `bytes` over, never to be changed (a store read's copy): the
 *   record's keys may then be views into them rather than into a copy (a start reads ~1.2 MB of
 *   roster records at 10,000 members)
 * @returns the record, or `undefined` for bytes that are not one (truncated, unknown version or
 *   kind, trailing bytes, a leaf outside the roster)
 */
export function decodeRosterRecord(bytes: Uint8Array, owned = false): RosterRecord | undefined {
  try {
    const r = new Reader(bytes, owned);
    if (r.u8() !== formatVersion) return undefined;
    const kind = r.u8();
    const kept = (r.u8() & flagKept) !== 0;
    const change = changes[r.u8()];
    if (change === undefined) return undefined;
    const epoch = r.u64();
    const keyId = r.short();
    const previousKeyId = r.short();
    const hash = r.short();
    const previousRosterHash = r.short();
    const channelLength = (r.u8() << 8) | r.u8();
    const channelId = new TextDecoder("utf-8", { fatal: true }).decode(r.raw(channelLength));
    const leafCount = r.u32();
    const header = {
      change,
      channelId,
      epoch,
      keyId,
      previousKeyId,
      rosterHash: hash,
      previousRosterHash,
    };
    if (kind === kindSnapshot) {
      const count = r.u32();
      if (count > leafCount) return undefined;
      const roster: Array<RosterLeaf | undefined> = new Array(leafCount).fill(undefined);
      for (let i = 0; i < count; i++) {
        const index = r.u32();
        if (index >= leafCount) return undefined;
        roster[index] = r.keys();
      }
      return r.done ? { header, kept, body: { kind: "snapshot", roster } } : undefined;
    }
    if (kind !== kindDelta) return undefined;
    const removedLeaves: number[] = [];
    const removedCount = r.u32();
    if (removedCount > leafCount + 1_000_000) return undefined;
    for (let i = 0; i < removedCount; i++) {
      const index = r.u32();
      if (index >= leafCount) return undefined;
      removedLeaves.push(index);
    }
    const count = r.u32();
    const leaves: RosterDeltaInit["leaves"] = [];
    for (let i = 0; i < count; i++) {
      const index = r.u32();
      if (index >= leafCount) return undefined;
      leaves.push({
        index,
        identityKey: r.raw(32),
        signingKey: r.raw(32),
        prekey: r.raw(32),
      });
    }
    return r.done
      ? { header, kept, body: { kind: "delta", delta: { removedLeaves, leaves, leafCount } } }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The size of a snapshot record of `roster` (without writing it). */
export function snapshotRecordBytes(record: EpochRoster): number {
  let present = 0;
  for (const leaf of record.roster) if (leaf != null) present++;
  return headerBytes(record, new TextEncoder().encode(record.channelId)) + 4 + present * leafBytes;
}

function infoOf(
  record: Omit<EpochRoster, "roster">,
  fields: Pick<StoredRosterInfo, "kind" | "bytes" | "chainBytes" | "kept" | "value">,
): StoredRosterInfo {
  return {
    channelId: record.channelId,
    epoch: record.epoch,
    previousKeyIdHex: toHex(record.previousKeyId),
    ...fields,
  };
}

/**
 * The store operations that record a new epoch's roster, already added to `book` (replaces
 * `persistRoster`): a delta from the previous epoch's record when that one is stored and the
 * deltas since the last snapshot, this one included, stay within
 * {@link rosterRecordPolicy.maxDeltaShare} of a snapshot; else a snapshot.
 *
 * @param book - the organization's roster book (its `records` are updated)
 * @param space - the organization's store space
 * @param record - the new epoch's roster
 * @param format - "json": the `roster/` record of the earlier format (a full roster per epoch), for
 *   a start that does not read the binary ones yet
 * @returns the operations to commit with the unit of work
 */
export function rosterRecordOps(
  book: RosterBook,
  space: string,
  record: EpochRoster,
  format: "binary" | "json" = "binary",
): StoreOp[] {
  const keyIdHex = toHex(record.keyId);
  if (format === "json") {
    book.records.set(
      keyIdHex,
      infoOf(record, { kind: "legacy", bytes: 0, chainBytes: 0, kept: true }),
    );
    return [
      { type: "put", space, key: `${legacyRosterPrefix}${keyIdHex}`, value: encodeJson(record) },
    ];
  }
  const key = `${rosterRecordPrefix}${keyIdHex}`;
  const previousHex = toHex(record.previousKeyId);
  const previousInfo = record.change === "genesis" ? undefined : book.records.get(previousHex);
  const previous = previousInfo === undefined ? undefined : book.get(previousHex);
  if (
    previousInfo !== undefined &&
    previousInfo.kind !== "legacy" &&
    previous !== undefined &&
    previous.roster.length <= record.roster.length + 1_000_000
  ) {
    const delta = rosterDelta(previous.roster, record.roster);
    const value = encodeRosterRecord(record, { kind: "delta", delta }, true);
    const chainBytes = previousInfo.chainBytes + value.length;
    if (chainBytes <= rosterRecordPolicy.maxDeltaShare * snapshotRecordBytes(record)) {
      book.records.set(
        keyIdHex,
        infoOf(record, { kind: "delta", bytes: value.length, chainBytes, kept: true, value }),
      );
      return [{ type: "put", space, key, value }];
    }
  }
  const value = encodeRosterRecord(record, { kind: "snapshot", roster: record.roster }, true);
  book.records.set(
    keyIdHex,
    infoOf(record, { kind: "snapshot", bytes: value.length, chainBytes: 0, kept: true }),
  );
  return [{ type: "put", space, key, value }];
}

/**
 * Reads an organization's roster records into `book`: the binary ones (each group's records in
 * epoch order: a snapshot starts a roster, each delta applies to the one before in place; only the
 * records marked kept are copied out, frozen, and checked against their roster hash) and the JSON
 * ones of the earlier format. Cost: one pass over the records, one copy and one hash per roster
 * kept; with `deferred`, no hash: each kept roster is noted there instead, for
 * `checkDeferredRosters` (`kept-rosters.ts`) (a start hashes each roster once, when the group restore checks it,
 * instead of twice: about 1.7 ms per 10,000 leaves saved per roster).
 *
 * @param store - the client's store
 * @param space - the organization's store space
 * @param book - an empty roster book, filled here
 * @param deferred - when given, filled with the kept rosters whose hash is left to check
 * @param kept - when given, only each group's newest kept roster is built here; older kept ones go
 *   into the book to build (and check) at first read (`KeptRosters`)
 * @returns how many records were read
 * @throws {StoreCorruptedError} for a record that does not decode, a delta whose base is missing,
 *   or (without `deferred`) a roster that does not hash as recorded
 */
export async function loadRosterRecords(
  store: Store,
  space: string,
  book: RosterBook,
  deferred?: DeferredRosterChecks,
  kept?: KeptRosters,
): Promise<number> {
  const read = async (key: string): Promise<Uint8Array> => {
    const value = await store.get(space, key);
    if (value === undefined) throw new StoreCorruptedError(`${space}/${key}`);
    return value;
  };
  const legacyKeys = await store.keys(space, { prefix: legacyRosterPrefix });
  const legacy: EpochRoster[] = [];
  for (const key of legacyKeys) {
    const roster = decodeStoredRoster(await read(key));
    if (roster === undefined) throw new StoreCorruptedError(`${space}/${key}`);
    legacy.push(roster);
  }
  const byKeyId = new Map(legacy.map((roster) => [toHex(roster.keyId), roster]));
  for (const roster of legacy) {
    // A record of the provisional format lacks the previous roster's hash: its predecessor's.
    const previous = byKeyId.get(toHex(roster.previousKeyId));
    book.add(
      roster.change !== "genesis" && roster.previousRosterHash.length === 0 && previous
        ? { ...roster, previousRosterHash: previous.rosterHash }
        : roster,
    );
    book.records.set(
      toHex(roster.keyId),
      infoOf(roster, { kind: "legacy", bytes: 0, chainBytes: 0, kept: true }),
    );
  }
  const records: Array<{ key: string; record: RosterRecord; bytes: Uint8Array }> = [];
  for (const [key, bytes] of await readEntries(store, space, { prefix: rosterRecordPrefix })) {
    // A store read's copy, never changed (kept as `bytes` below): read in place when it is a buffer
    // of its own (a SQLite or IndexedDB read), copied when a view of a larger one (a memory listing).
    const record = decodeRosterRecord(bytes, true);
    if (record === undefined) throw new StoreCorruptedError(`${space}/${key}`);
    records.push({ key, record, bytes });
  }
  records.sort((a, b) => {
    const ha = a.record.header;
    const hb = b.record.header;
    if (ha.channelId !== hb.channelId) return ha.channelId < hb.channelId ? -1 : 1;
    return ha.epoch < hb.epoch ? -1 : ha.epoch > hb.epoch ? 1 : 0;
  });
  // The roster being walked, per group: the key id it is at and its (mutable) leaves.
  const walking = new Map<string, { keyIdHex: string; roster: Array<RosterLeaf | undefined> }>();
  const chainBytes = new Map<string, number>();
  // A fork (docs/DELEGATION.md): the walk goes depth first (`forkOrder`); an epoch with several
  // stored children keeps a copy of its roster (the walk moves on in place, then comes back).
  const children = new Map<string, number>();
  for (const { record } of records) {
    if (record.body.kind !== "delta") continue;
    const previousHex = toHex(record.header.previousKeyId);
    children.set(previousHex, (children.get(previousHex) ?? 0) + 1);
  }
  const forkBases = new Map<string, Array<RosterLeaf | undefined>>();
  const newest = new Map<string, bigint>(); // per group, the epoch of its newest kept roster
  for (const { record: r } of records) if (r.kept) newest.set(r.header.channelId, r.header.epoch);
  for (const { key, record, bytes } of forkOrder(records)) {
    const { header, body } = record;
    const keyIdHex = toHex(header.keyId);
    kept?.link(
      keyIdHex,
      key,
      bytes,
      body.kind === "delta" ? toHex(header.previousKeyId) : undefined,
    );
    let roster: Array<RosterLeaf | undefined>;
    let chain = 0;
    if (body.kind === "snapshot") {
      roster = body.roster as Array<RosterLeaf | undefined>;
    } else {
      const previousHex = toHex(header.previousKeyId);
      const at = walking.get(header.channelId);
      const base =
        at?.keyIdHex === previousHex
          ? at.roster
          : (forkBases.get(previousHex)?.slice() ??
            (book.get(previousHex)?.roster.slice() as Array<RosterLeaf | undefined> | undefined));
      if (base === undefined) throw new StoreCorruptedError(`${space}/${key}`);
      roster = applyRosterDeltaInPlace(base, body.delta);
      chain = (chainBytes.get(previousHex) ?? 0) + bytes.length;
    }
    chainBytes.set(keyIdHex, chain);
    if ((children.get(keyIdHex) ?? 0) > 1) forkBases.set(keyIdHex, roster.slice());
    walking.set(header.channelId, { keyIdHex, roster });
    book.records.set(
      keyIdHex,
      infoOf(header, {
        kind: body.kind,
        bytes: bytes.length,
        chainBytes: chain,
        kept: record.kept,
        ...(body.kind === "delta" ? { value: bytes } : {}),
      }),
    );
    if (!record.kept) continue;
    if (kept !== undefined && header.epoch !== newest.get(header.channelId)) {
      book.add(kept.entry(header));
      continue;
    }
    // A frozen copy: the walk goes on in place from `roster`, and a group restored from the book
    // shares the array (and the hash it computes for it).
    const copy = Object.freeze(roster.slice());
    if (deferred !== undefined) {
      deferred.set(keyIdHex, { key, hash: header.rosterHash });
    } else if (toHex(rosterHashOnce(book.provider, copy)) !== toHex(header.rosterHash)) {
      throw new StoreCorruptedError(`${space}/${key}`);
    }
    book.add({ ...header, roster: copy });
  }
  kept?.keepChainsOnly();
  return legacy.length + records.length;
}

/** What {@link rosterKeep} asks of a group (`heldEpochs` where `@orgchat/crypto` has it). */
interface HeldGroup {
  readonly epoch: bigint;
  readableEpochs(now: number): bigint[];
  readonly heldEpochs?: () => ReadonlyArray<{
    readonly keyId: Uint8Array;
    readonly rosterHash?: Uint8Array;
  }>;
}

/**
 * The key ids (hex) of the rosters `org` still needs (docs/CLIENT.md, "Epoch rosters", pruning):
 * - every epoch a group holds (current and retained for late messages: a late message's sender is
 *   looked up in its epoch's roster), the owner's and a member's groups and groups retired by a
 *   resync Welcome;
 * - the rosters of every group's newest epochs ({@link rosterRecordPolicy.recentEpochsKept}, the
 *   siblings of a fork together: {@link newestEpochsKept}; departed authors, a member behind, a
 *   Welcome that comes late);
 * - rosters of epochs after the one a member's group holds (add steps still to follow);
 * - the epochs Welcomes, KeyUpdate chunks and messages waiting here name.
 *
 * @param org - the organization
 * @param now - the current time (retention windows end)
 */
export function rosterKeep(org: Org, now: number): Set<string> {
  const keep = new Set<string>();
  const book = org.rosters;
  /** Per group, the epochs held (numbers) and the current one. */
  const held = new Map<string, { epochs: Set<bigint>; current: bigint | undefined }>();
  const hold = (channelId: string, group: HeldGroup, current: boolean) => {
    const entry = held.get(channelId) ?? { epochs: new Set<bigint>(), current: undefined };
    if (typeof group.heldEpochs === "function") {
      for (const epoch of group.heldEpochs()) keep.add(toHex(epoch.keyId));
    }
    for (const epoch of group.readableEpochs(now)) entry.epochs.add(epoch);
    if (current && (entry.current === undefined || group.epoch > entry.current)) {
      entry.current = group.epoch;
    }
    held.set(channelId, entry);
  };
  if (org.role === "owner") {
    for (const [channelId, group] of org.owner.groups) hold(channelId, group, true);
  } else {
    const member = org.member;
    for (const [channelId, group] of member.groups) hold(channelId, group, true);
    for (const retired of member.retiredGroups.values()) {
      hold(retired.channelId, retired.group, false);
    }
    for (const keyIdHex of member.waitingWelcomes.keys()) keep.add(keyIdHex);
    for (const keyIdHex of member.waitingChunks.keys()) keep.add(keyIdHex);
  }
  for (const pending of org.pending.values()) keep.add(pending.keyId);
  const recent = new Map<string, Array<[string, bigint]>>();
  for (const [keyIdHex, record] of book.entries()) {
    const list = recent.get(record.channelId) ?? [];
    list.push([keyIdHex, record.epoch]);
    recent.set(record.channelId, list);
    const group = held.get(record.channelId);
    if (group === undefined) continue;
    if (group.epochs.has(record.epoch)) keep.add(keyIdHex);
    else if (group.current !== undefined && record.epoch > group.current) keep.add(keyIdHex);
  }
  for (const list of recent.values()) {
    for (const keyIdHex of newestEpochsKept(list, rosterRecordPolicy.recentEpochsKept)) {
      keep.add(keyIdHex);
    }
  }
  return keep;
}

/**
 * The rosters of a group's `epochs` newest epochs, siblings of one epoch together (a fork's losing
 * rosters must not push the winner's out: a Welcome of it may come late), at most `2 × epochs`
 * rosters (a fork is signed by the owner or a delegate: nothing a stranger can add).
 *
 * @param rosters - the group's rosters as [key id, epoch] pairs (sorted here, newest first)
 * @param epochs - how many of the newest epochs to keep
 * @returns the key ids kept
 */
export function newestEpochsKept(rosters: Array<[string, bigint]>, epochs: number): string[] {
  rosters.sort((a, b) => (a[1] > b[1] ? -1 : a[1] < b[1] ? 1 : 0));
  const seen = new Set<bigint>();
  const kept: string[] = [];
  for (const [keyIdHex, epoch] of rosters.slice(0, 2 * epochs)) {
    seen.add(epoch);
    if (seen.size > epochs) break;
    kept.push(keyIdHex);
  }
  return kept;
}

/**
 * Prunes rosters `keep` does not name: from memory, and from the store unless a kept record's
 * delta chain runs through them (those stay, rewritten as not kept: a few bytes for a delta).
 *
 * @param book - the roster book (rosters dropped, `records` updated)
 * @param space - the organization's store space
 * @param keep - key ids (hex) to keep ({@link rosterKeep})
 * @returns the operations to commit
 */
export function pruneRosterOps(
  book: RosterBook,
  space: string,
  keep: ReadonlySet<string>,
): StoreOp[] {
  const ops: StoreOp[] = [];
  for (const keyIdHex of [...book.keys()]) {
    if (keep.has(keyIdHex) || !book.drop(keyIdHex)) continue;
    // Loaded by a start that does not fill `records`: a JSON record.
    if (!book.records.has(keyIdHex)) {
      ops.push({ type: "delete", space, key: `${legacyRosterPrefix}${keyIdHex}` });
    }
  }
  // What the store keeps: the records of rosters still held, and the delta chains under them.
  const needed = new Set<string>();
  for (const keyIdHex of book.keys()) {
    let at: string | undefined = keyIdHex;
    while (at !== undefined && !needed.has(at)) {
      const info = book.records.get(at);
      if (info === undefined) break;
      needed.add(at);
      at = info.kind === "delta" ? info.previousKeyIdHex : undefined;
    }
  }
  for (const [keyIdHex, info] of [...book.records]) {
    if (!needed.has(keyIdHex)) {
      book.records.delete(keyIdHex);
      const prefix = info.kind === "legacy" ? legacyRosterPrefix : rosterRecordPrefix;
      ops.push({ type: "delete", space, key: `${prefix}${keyIdHex}` });
      continue;
    }
    if (info.kept && !book.has(keyIdHex) && info.value !== undefined) {
      const value = info.value.slice();
      value[2] = (value[2] as number) & ~flagKept;
      book.records.set(keyIdHex, { ...info, kept: false, value });
      ops.push({ type: "put", space, key: `${rosterRecordPrefix}${keyIdHex}`, value });
    }
  }
  return ops;
}

/**
 * Prunes `org`'s rosters ({@link rosterKeep}, {@link pruneRosterOps}) into `txn`.
 * @param org - the organization
 * @param txn - the unit of work the deletions commit with
 * @param space - the organization's store space
 * @param now - the current time
 */
export function pruneRosters(org: Org, txn: Txn, space: string, now: number): void {
  txn.ops.push(...pruneRosterOps(org.rosters, space, rosterKeep(org, now)));
}

/**
 * Roster records in the order the start applies them: each chain depth first from its snapshot (or
 * from a base the book holds), children by epoch. Without a fork this is the epoch order.
 */
function forkOrder<T extends { readonly record: RosterRecord }>(records: readonly T[]): T[] {
  const stored = new Set(records.map(({ record }) => toHex(record.header.keyId)));
  const children = new Map<string, T[]>();
  const roots: T[] = [];
  for (const entry of records) {
    const { header, body } = entry.record;
    const previousHex = toHex(header.previousKeyId);
    if (body.kind === "snapshot" || !stored.has(previousHex)) {
      roots.push(entry);
      continue;
    }
    const list = children.get(previousHex) ?? [];
    list.push(entry);
    children.set(previousHex, list);
  }
  const out: T[] = [];
  const stack = [...roots].reverse();
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    out.push(next);
    const below = children.get(toHex(next.record.header.keyId)) ?? [];
    for (let i = below.length - 1; i >= 0; i--) stack.push(below[i] as T);
  }
  return out;
}
