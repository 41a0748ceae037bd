/**
 * The owner on a losing sibling (docs/PROTOCOL.md, "The owner's return"; docs/DELEGATION.md,
 * "Concurrent commits converge"): the owner follows the first delegate commit it reads on its
 * epoch; when a sibling of it that wins at that parent (the winner order, `compareCommits`) comes
 * later, the owner moves to it as members do, and its own commits on the losing branch are made
 * again on the winner (the full reconcile after the switch: what the state wants and the roster
 * lacks).
 *
 * What it keeps, per organization: a fork point of each epoch it left by following a delegate's
 * commit (`OwnerGroup.forkPoint`, with the child it took there), stored sealed as
 * `owner-fork/<parent key id>`, at most `ownerForkPointLimits.maxPoints` for its window; and the
 * signer and clock of the delegate commits it read (`owner-fork-refs`, the newest
 * {@link ownerForkLimits}.maxRefs), read from their verified `EpochRoster` envelopes.
 *
 * @module
 */
import { fromHex, toHex } from "@orgchat/base";
import {
  compareCommits,
  type OwnerForkPoint,
  ownerForkPointLimits,
  pruneOwnerForkPoints,
  readOwnerForkPoint,
  wipeOwnerForkPoint,
  writeOwnerForkPoint,
} from "@orgchat/crypto";
import type { ClientCore } from "./core.js";
import type { EpochRoster } from "./epoch-roster.js";
import type { OwnerOrg, OwnerSide, Txn } from "./org.js";
import { orgSpace } from "./persistence.js";

/** Bounds (every byte from the network is hostile): commit references kept (the newest epochs). */
export const ownerForkLimits = {
  maxRefs: 256,
  maxPoints: ownerForkPointLimits.maxPoints,
} as const;

/** What the winner order reads of a commit. */
export interface Ref {
  readonly signer: string;
  readonly clock: bigint;
  readonly epoch: bigint;
}

/** A kept fork point, and the child the owner took there. */
export interface Kept {
  readonly point: OwnerForkPoint;
  child: string;
}

export interface ForkBook {
  /** By parent key id, oldest first. */
  readonly points: Map<string, Kept>;
  readonly refs: Map<string, Ref>;
}

const books = new WeakMap<OwnerSide, ForkBook>();
const refsKey = "owner-fork-refs";
const pointPrefix = "owner-fork/";

/** The fork book of `org` (read from the store once). */
export async function forkBookOf(c: ClientCore, org: OwnerOrg): Promise<ForkBook> {
  const known = books.get(org.owner);
  if (known !== undefined) return known;
  const book: ForkBook = { points: new Map(), refs: new Map() };
  const space = orgSpace(org.hex);
  const { store, vault } = c.p;
  const stored = await store.get(space, refsKey);
  if (stored !== undefined) {
    const list = vault.openJson<Array<[string, string, string, string]>>(space, refsKey, stored);
    for (const [keyId, signer, clock, epoch] of list.slice(-ownerForkLimits.maxRefs)) {
      book.refs.set(keyId, { signer, clock: BigInt(clock), epoch: BigInt(epoch) });
    }
  }
  const points: Kept[] = [];
  for (const key of await store.keys(space, { prefix: pointPrefix })) {
    const bytes = await store.get(space, key);
    if (bytes === undefined) continue;
    const { point, child } = vault.openJson<{ point: string; child: string }>(space, key, bytes);
    points.push({ point: readOwnerForkPoint(fromHex(point)), child });
  }
  points.sort((a, b) => a.point.leftAt - b.point.leftAt);
  for (const kept of points) book.points.set(toHex(kept.point.keyId), kept);
  // A racing caller may have read it meanwhile: the first one read wins.
  const raced = books.get(org.owner);
  if (raced !== undefined) return raced;
  books.set(org.owner, book);
  return book;
}

/**
 * Notes a delegate commit's signer and clock (of its verified roster envelope) in `txn`.
 *
 * @param keyIdHex - the commit's key id
 */
export async function noteOwnerRef(
  c: ClientCore,
  org: OwnerOrg,
  txn: Txn,
  keyIdHex: string,
  ref: Ref,
): Promise<void> {
  const book = await forkBookOf(c, org);
  if (book.refs.has(keyIdHex)) return;
  book.refs.set(keyIdHex, ref);
  pruneOwnerRefs(book.refs);
  writeRefs(c, org, txn, book);
}

/**
 * Keeps the commit references of the newest epochs, at most {@link ownerForkLimits}.maxRefs.
 *
 * @param refs - the references by key id (changed in place)
 */
export function pruneOwnerRefs(refs: Map<string, Ref>): void {
  if (refs.size <= ownerForkLimits.maxRefs) return;
  const oldest = [...refs].sort((a, b) => (a[1].epoch < b[1].epoch ? -1 : 1));
  for (const [old] of oldest.slice(0, refs.size - ownerForkLimits.maxRefs)) refs.delete(old);
}

function writeRefs(c: ClientCore, org: OwnerOrg, txn: Txn, book: ForkBook): void {
  const space = orgSpace(org.hex);
  const list = [...book.refs].map(([k, r]) => [k, r.signer, String(r.clock), String(r.epoch)]);
  txn.ops.push({
    type: "put",
    space,
    key: refsKey,
    value: c.p.vault.sealJson(space, refsKey, list),
  });
}

/** The lowest epoch a sibling may have to be of use: one above the oldest kept point's. */
export function lowestSiblingEpoch(org: OwnerOrg): bigint | undefined {
  const book = books.get(org.owner);
  let lowest: bigint | undefined;
  for (const { point } of book?.points.values() ?? []) {
    if (lowest === undefined || point.epoch < lowest) lowest = point.epoch;
  }
  return lowest === undefined ? undefined : lowest + 1n;
}

/** Whether commit `a` comes before commit `b` in the winner order (known before unknown). */
function beats(org: OwnerOrg, book: ForkBook, a: string, b: string): boolean {
  const ra = book.refs.get(a);
  const rb = book.refs.get(b);
  if (ra === undefined || rb === undefined) return ra !== undefined;
  const ref = (r: Ref, keyId: string) => ({
    signer: fromHex(r.signer),
    clock: r.clock,
    keyId: fromHex(keyId),
  });
  return compareCommits(ref(ra, a), ref(rb, b), org.id) < 0;
}

/** Of the commits given, the first in the winner order. */
export function bestOf(
  org: OwnerOrg,
  book: ForkBook,
  rosters: readonly EpochRoster[],
): EpochRoster | undefined {
  let best: EpochRoster | undefined;
  for (const roster of rosters) {
    if (best === undefined || beats(org, book, toHex(roster.keyId), toHex(best.keyId))) {
      best = roster;
    }
  }
  return best;
}

/**
 * A sibling to move to: a delegate commit (its reference known) on a kept fork point that beats
 * the child the owner took there; on the oldest such point (moving there leaves the others), the
 * first in the winner order.
 */
export function winningSibling(
  org: OwnerOrg,
  book: ForkBook,
): { kept: Kept; roster: EpochRoster } | undefined {
  for (const kept of [...book.points.values()].sort((a, b) =>
    a.point.epoch < b.point.epoch ? -1 : 1,
  )) {
    const { point } = kept;
    const siblings = [...org.rosters.values()].filter(
      (r) =>
        r.channelId === "" &&
        r.change !== "genesis" &&
        r.epoch === point.epoch + 1n &&
        toHex(r.previousKeyId) === toHex(point.keyId) &&
        toHex(r.keyId) !== kept.child &&
        book.refs.has(toHex(r.keyId)) &&
        beats(org, book, toHex(r.keyId), kept.child),
    );
    const roster = bestOf(org, book, siblings);
    if (roster !== undefined) return { kept, roster };
  }
  return undefined;
}

/**
 * Keeps `point` (taken before following commit `child`) in `txn`, then drops the expired, the
 * oldest beyond the bound, and the points above `point` (a branch left by a switch).
 */
export function keepForkPoint(
  c: ClientCore,
  org: OwnerOrg,
  txn: Txn,
  book: ForkBook,
  point: OwnerForkPoint,
  child: string,
): void {
  const keyIdHex = toHex(point.keyId);
  const old = book.points.get(keyIdHex);
  if (old !== undefined && old.point !== point) wipeOwnerForkPoint(old.point);
  book.points.delete(keyIdHex);
  book.points.set(keyIdHex, { point, child });
  writePoint(c, org, txn, book.points.get(keyIdHex) as Kept);
  prune(org, txn, book, c.p.now());
}

/** After a switch at `kept`: it now leads to `child`; points of the branch left go. */
export function switchedAt(
  c: ClientCore,
  org: OwnerOrg,
  txn: Txn,
  book: ForkBook,
  kept: Kept,
  child: string,
): void {
  kept.child = child;
  writePoint(c, org, txn, kept);
  const space = orgSpace(org.hex);
  for (const [keyIdHex, other] of [...book.points]) {
    if (other.point.epoch <= kept.point.epoch) continue;
    book.points.delete(keyIdHex);
    wipeOwnerForkPoint(other.point);
    txn.ops.push({ type: "delete", space, key: `${pointPrefix}${keyIdHex}` });
  }
}

function prune(org: OwnerOrg, txn: Txn, book: ForkBook, now: number): void {
  const all = [...book.points.values()];
  const kept = new Set(
    pruneOwnerForkPoints(
      all.map((k) => k.point),
      now,
    ),
  );
  const space = orgSpace(org.hex);
  for (const [keyIdHex, entry] of [...book.points]) {
    if (kept.has(entry.point)) continue;
    book.points.delete(keyIdHex);
    txn.ops.push({ type: "delete", space, key: `${pointPrefix}${keyIdHex}` });
  }
}

function writePoint(c: ClientCore, org: OwnerOrg, txn: Txn, kept: Kept): void {
  const space = orgSpace(org.hex);
  const key = `${pointPrefix}${toHex(kept.point.keyId)}`;
  const bytes = writeOwnerForkPoint(kept.point);
  const value = c.p.vault.sealJson(space, key, { point: toHex(bytes), child: kept.child });
  bytes.fill(0);
  txn.ops.push({ type: "put", space, key, value });
}
