/**
 * The owner returns (docs/DELEGATION.md, "The owner returns"): an owner follows the commits its
 * delegates made to the organization's group — a delegate-signed add step (`OwnerGroup.followAdd`)
 * or KeyUpdate (`OwnerGroup.followKeyUpdate`, its own entry under the delegate salt) whose parent
 * is the owner's current epoch and that passes the checks members apply (`checkDelegateRoster`) —
 * live or from history at start, and goes on committing on top. It records the leaf secrets
 * delegates hand over (`leaf_handover`), gives a member whose handover never came a fresh leaf
 * secret by a resync Welcome before its own next KeyUpdate, and replaces delegate salts with its
 * own KeyUpdate `delegateSaltRefreshMs` after following a delegate's KeyUpdate.
 *
 * What a stranger or a plain member can make the owner do: decode an envelope and drop it (no
 * signature check: its signer is no delegate in the owner's state). A delegate's forged envelope
 * costs one signature check. Nothing is stored but what follows the group; chunks and early
 * handovers wait in bounded lists.
 *
 * @module
 */
import { equalBytes, fromHex, toHex } from "@orgchat/base";
import { type OwnerGroup, readKeyUpdateEnvelope, wipeOwnerForkPoint } from "@orgchat/crypto";
import type { TransportMessage } from "@orgchat/transport";
import {
  decodeSignedEnvelope,
  type KeyUpdate,
  type LeafHandover,
  MessageType,
} from "@orgchat/wire";
import type { ClientCore } from "./core.js";
import { delegateRosterOption } from "./delegate-commits.js";
import { isDelegate } from "./delegates.js";
import type { EpochRoster } from "./epoch-roster.js";
import { openEpochRoster } from "./epoch-roster.js";
import { newTxn, type OwnerOrg, type OwnerSide, type Txn } from "./org.js";
import {
  bestOf,
  type ForkBook,
  forkBookOf,
  keepForkPoint,
  lowestSiblingEpoch,
  noteOwnerRef,
  type Ref,
  switchedAt,
  winningSibling,
} from "./owner-forks.js";
import { orgSpace } from "./persistence.js";
import { pruneRosters, rosterRecordOps } from "./roster-records.js";

const component = "client/owner-follow";

/** Bounds of what the owner keeps while following delegates (every byte from the network is hostile). */
export const ownerFollowLimits = {
  /** KeyUpdate chunks of a delegate kept (memory) until the roster they need is here: the newest. */
  maxWaitingChunks: 64,
  /** Handovers kept (stored) that came before the add step they belong to: the newest. */
  maxEarlyHandovers: 64,
  /** Signers of delegate rosters remembered (memory), to match a handover to its add step. */
  maxCommitters: 256,
  /** Members a delegate's decision admitted or removed, remembered (memory) for the grace. */
  maxDecided: 1_024,
} as const;

/**
 * How long after following a delegate's KeyUpdate the owner makes its own (a refresh replacing
 * the delegate salts: docs/DELEGATION.md, "Removals by a delegate"). Not at once: a returning owner
 * reads a chain of delegate commits from history, and a refresh on the first would fork from the
 * rest. Carried by the owner's batched re-key timer (`rekeyDueAt`, persisted).
 */
export const delegateSaltRefreshMs = 30_000;

/**
 * How long the owner leaves a member a delegate admitted or removed to that delegate's commit
 * before it commits the change itself (docs/DELEGATION.md, `reconcileDelayMs`): an owner that did
 * it at once would fork from the delegate's commit on its way.
 */
export const delegateCommitGraceMs = 30_000;

/** A member a delegate added whose leaf secret the owner does not hold yet (stored). */
interface Awaiting {
  readonly channelId: string;
  readonly leaf: number;
  readonly member: string;
  readonly epoch: bigint;
  /** The delegate whose add step wrote the leaf (only its handover counts). */
  readonly committer: string;
}

/** A handover received before the owner followed its add step (stored, sealed). */
interface Early {
  readonly channelId: string;
  readonly leaf: number;
  readonly member: string;
  readonly epoch: bigint;
  readonly leafSecret: Uint8Array;
  readonly from: string;
}

/** The owner's follow records of one organization: the `handovers` record (sealed JSON). */
interface FollowBook {
  awaiting: Awaiting[];
  early: Early[];
  /** Groups whose current epoch came from a delegate's KeyUpdate: the owner refreshes them. */
  salted: string[];
}

/** Memory of an owner side: the book (read once), waiting chunks, delegate rosters' signers. */
interface FollowMemory {
  book?: FollowBook;
  /** A description is due once the catch-up ends (`describeSoon`). */
  describeLater?: boolean;
  readonly chunks: Array<{ readonly id: string; readonly chunk: KeyUpdate }>;
  readonly committers: Map<string, string>;
  /**
   * Key id → the winner order's reference of a delegate roster opened (its envelope's signer and
   * clock), noted in the fork book when the roster is learned: a delta that waited for its base
   * is learned with a later roster's receipt (at most `ownerFollowLimits.maxCommitters`).
   */
  readonly refs: Map<string, Ref>;
  /** Member → when a delegate's decision on it was folded (`noteDelegateDecision`). */
  readonly decided: Map<string, number>;
}

const memories = new WeakMap<OwnerSide, FollowMemory>();
const bookKey = "handovers";

function memoryOf(org: OwnerOrg): FollowMemory {
  let memory = memories.get(org.owner);
  if (memory === undefined) {
    memory = { chunks: [], committers: new Map(), refs: new Map(), decided: new Map() };
    memories.set(org.owner, memory);
  }
  return memory;
}

/** The follow records of `org` (read from the store once). */
async function bookOf(c: ClientCore, org: OwnerOrg): Promise<FollowBook> {
  const memory = memoryOf(org);
  if (memory.book !== undefined) return memory.book;
  const space = orgSpace(org.hex);
  const bytes = await c.p.store.get(space, bookKey);
  const read =
    bytes === undefined
      ? undefined
      : c.p.vault.openJson<Partial<FollowBook>>(space, bookKey, bytes);
  // (A racing caller may have read it meanwhile: the first one read wins.)
  memory.book ??= {
    awaiting: read?.awaiting ?? [],
    early: read?.early ?? [],
    salted: read?.salted ?? [],
  };
  return memory.book;
}

/** Writes the follow records in the unit of work. */
function persistBook(c: ClientCore, org: OwnerOrg, txn: Txn, book: FollowBook): void {
  const space = orgSpace(org.hex);
  if (book.awaiting.length === 0 && book.early.length === 0 && book.salted.length === 0) {
    txn.ops.push({ type: "delete", space, key: bookKey });
    return;
  }
  txn.ops.push({
    type: "put",
    space,
    key: bookKey,
    value: c.p.vault.sealJson(space, bookKey, book),
  });
}

/**
 * A message on the organization group's keys topic, at the owner: its own (dropped), a delegate's
 * roster or KeyUpdate (followed when it continues the owner's epoch), anything else dropped after
 * decoding only.
 *
 * @param c - the client's core
 * @param org - an organization this client owns
 * @param message - the message
 * @param id - its id
 */
export async function receiveOwnerKeys(
  c: ClientCore,
  org: OwnerOrg,
  message: TransportMessage,
  id: string,
): Promise<void> {
  const topic = message.contentTopic;
  let type: MessageType;
  let signer: Uint8Array;
  try {
    ({ type, signer } = decodeSignedEnvelope(message.payload));
  } catch (error) {
    c.sync.seen.add(id);
    c.report({ component, reason: "undecodable", topic, error });
    return;
  }
  // Its own epochs: it holds them. A key the state does not rank admin or manager commits nothing:
  // dropped before any signature check (a flood of them costs a decode each).
  if (equalBytes(signer, org.id)) {
    c.sync.seen.add(id);
    return;
  }
  if (!isDelegate(org.log.state, toHex(signer))) {
    c.sync.seen.add(id);
    c.report({ component, reason: "not-a-committer", topic });
    return;
  }
  if (type === MessageType.EPOCH_ROSTER) await onRoster(c, org, message, id);
  else if (type === MessageType.KEY_UPDATE) await onKeyUpdate(c, org, message, id);
  else c.sync.seen.add(id);
}

async function onRoster(
  c: ClientCore,
  org: OwnerOrg,
  message: TransportMessage,
  id: string,
): Promise<void> {
  const topic = message.contentTopic;
  let error: unknown;
  let signer: Uint8Array | undefined;
  const opened = await openEpochRoster(message.payload, {
    organizationId: org.id,
    contentTopic: topic,
    verify: c.verify,
    onError: (cause) => {
      error = cause;
    },
    // Judged at the roster's own clock, as members judge it: an add whose joiner a later event
    // banned is still followed, and so is the ban's re-key after it.
    delegates: delegateRosterOption(c, org, (key) => {
      signer = key;
    }),
  });
  c.sync.seen.add(id);
  if (opened === undefined || signer === undefined || opened.channelId !== "") {
    c.report(
      error === undefined
        ? { component, reason: "roster-refused", topic }
        : { component, reason: "roster-refused", topic, error },
    );
    return;
  }
  const memory = memoryOf(org);
  const { clock } = decodeSignedEnvelope(message.payload);
  memory.committers.set(toHex(opened.keyId), toHex(signer));
  memory.refs.set(toHex(opened.keyId), { signer: toHex(signer), clock, epoch: opened.epoch });
  while (memory.committers.size > ownerFollowLimits.maxCommitters) {
    memory.committers.delete(memory.committers.keys().next().value as string);
  }
  while (memory.refs.size > ownerFollowLimits.maxCommitters) {
    memory.refs.delete(memory.refs.keys().next().value as string);
  }
  const group = org.owner.groups.get("");
  await forkBookOf(c, org);
  // Above the current epoch, or above a kept fork point (a sibling, or a commit on one).
  const lowest = lowestSiblingEpoch(org);
  const receipt = org.rosters.receive(opened, id, (_keyIdHex, channelId, epoch) => {
    if (channelId !== "" || group === undefined) return false;
    return epoch > group.epoch || (lowest !== undefined && epoch >= lowest);
  });
  // A delta waiting for its base is read again from history after a restart: not marked seen.
  if (receipt.status !== "learned") {
    if (receipt.status === "refused") c.report({ component, reason: receipt.reason, topic });
    return;
  }
  const txn = newTxn(org);
  // Every roster learned, a delta that waited for this one's base included (its reference noted
  // when it came): else the winner order ranks it last, as an unknown commit (owner seed 5, strict
  // script 3).
  const learned = new Set([toHex(opened.keyId), ...receipt.rosters.map((r) => toHex(r.keyId))]);
  for (const keyIdHex of learned) {
    const ref = memory.refs.get(keyIdHex);
    if (ref !== undefined) await noteOwnerRef(c, org, txn, keyIdHex, ref);
  }
  for (const seen of receipt.ids) c.sync.markSeen(org, txn, seen);
  const space = orgSpace(org.hex);
  for (const roster of receipt.rosters)
    txn.ops.push(...rosterRecordOps(org.rosters, space, roster));
  await advance(c, org, txn);
  pruneRosters(org, txn, space, c.p.now());
  await c.persistence.commit(org, txn);
}

async function onKeyUpdate(
  c: ClientCore,
  org: OwnerOrg,
  message: TransportMessage,
  id: string,
): Promise<void> {
  const topic = message.contentTopic;
  const group = org.owner.groups.get("");
  let chunk: KeyUpdate;
  try {
    const read = await readKeyUpdateEnvelope({
      provider: c.p.provider,
      group: { organizationId: org.id, channelId: "" },
      bytes: message.payload,
      committers: (key) => isDelegate(org.log.state, toHex(key)),
    });
    chunk = read.chunk;
    // Of no use (an epoch the owner passed, not above a fork point it keeps): dropped before its
    // signature is checked.
    await forkBookOf(c, org);
    const lowest = lowestSiblingEpoch(org);
    const sibling = lowest !== undefined && chunk.epoch >= lowest;
    if (group === undefined || (chunk.epoch <= group.epoch && !sibling)) {
      c.sync.seen.add(id);
      return;
    }
    if (!read.verify()) throw new RangeError("the KeyUpdate's signature does not hold");
  } catch (error) {
    c.sync.seen.add(id);
    c.report({ component, reason: "key-update-refused", topic, error });
    return;
  }
  c.sync.seen.add(id);
  const memory = memoryOf(org);
  if (!memory.chunks.some((held) => held.id === id)) memory.chunks.push({ id, chunk });
  if (memory.chunks.length > ownerFollowLimits.maxWaitingChunks) memory.chunks.shift();
  const txn = newTxn(org);
  await advance(c, org, txn);
  if (txn.ops.length > 0 || txn.seen.length > 0) await c.persistence.commit(org, txn);
}

/** Of the delegate rosters of the epoch after the owner's current one, the winner's, if any. */
function nextRoster(org: OwnerOrg, group: OwnerGroup, book: ForkBook): EpochRoster | undefined {
  const keyId = group.keyId;
  const children = [...org.rosters.values()].filter(
    (roster) =>
      roster.channelId === "" &&
      roster.epoch === group.epoch + 1n &&
      roster.change !== "genesis" &&
      equalBytes(roster.previousKeyId, keyId),
  );
  return bestOf(org, book, children);
}

type Outcome = ReturnType<OwnerGroup["followAdd"]>;

/**
 * Follows every delegate commit known that continues the owner's epoch, in order, keeping a fork
 * point of each epoch it leaves so; first moves to a sibling that wins on a kept fork point
 * (`owner-forks.ts`), then re-commits what the state wants and the winning branch lacks.
 */
async function advance(c: ClientCore, org: OwnerOrg, txn: Txn): Promise<void> {
  const memory = memoryOf(org);
  const book = await forkBookOf(c, org);
  let switched = false;
  for (;;) {
    const group = org.owner.groups.get("");
    if (group === undefined) break;
    const sibling = winningSibling(org, book);
    const next = sibling?.roster ?? nextRoster(org, group, book);
    if (next === undefined) break;
    const now = c.p.now();
    const point = sibling === undefined ? group.forkPoint(now) : undefined;
    let outcome: Outcome | undefined;
    let used: string | undefined;
    const enter = (chunk?: KeyUpdate): Outcome => {
      const init = { roster: next.roster, rosterHash: next.rosterHash };
      const prekeySecret = org.keys.prekeySecret;
      if (sibling !== undefined) {
        const entry =
          chunk === undefined
            ? { kind: "add" as const, init: { ...init, ...commitPlace(next) } }
            : { kind: "key-update" as const, chunk, init: { ...init, prekeySecret } };
        return group.enterSibling(sibling.kept.point, entry, now);
      }
      return chunk === undefined
        ? group.followAdd({ ...init, ...commitPlace(next) }, now)
        : group.followKeyUpdate(chunk, { ...init, prekeySecret }, now);
    };
    try {
      if (next.change === "add") {
        outcome = enter();
      } else {
        for (const held of memory.chunks) {
          if (!equalBytes(held.chunk.keyId, next.keyId)) continue;
          outcome = enter(held.chunk);
          if (outcome.status === "applied") {
            used = held.id;
            break;
          }
        }
      }
    } catch (error) {
      c.report({ component, reason: "follow-refused", topic: orgSpace(org.hex), error });
    }
    if (outcome?.status !== "applied") {
      if (point !== undefined) wipeOwnerForkPoint(point);
      break;
    }
    const keyIdHex = toHex(next.keyId);
    if (point !== undefined) keepForkPoint(c, org, txn, book, point, keyIdHex);
    if (sibling !== undefined) {
      switchedAt(c, org, txn, book, sibling.kept, keyIdHex);
      switched = true;
    }
    await followed(c, org, txn, group, next, outcome.awaitingLeafSecret);
    if (used !== undefined) {
      c.sync.markSeen(org, txn, used);
      for (let i = memory.chunks.length - 1; i >= 0; i--) {
        const held = memory.chunks[i];
        if (held !== undefined && toHex(held.chunk.keyId) === keyIdHex) memory.chunks.splice(i, 1);
      }
    }
  }
  // Its own commits of the branch left: what the state wants and the winning branch lacks. During
  // the start's catch-up the full reconcile after it does that (one now would commit before the
  // delegates' commits still in history, and add members whose add step is on its way).
  if (switched && !c.sync.catchingUp.has(org.hex)) await c.epochs.reconcile(org, txn);
}

const commitPlace = (roster: EpochRoster) => ({
  epoch: roster.epoch,
  previousKeyId: roster.previousKeyId,
  keyId: roster.keyId,
});

/** A delegate's epoch entered: recorded as the owner records its own, the handovers matched. */
async function followed(
  c: ClientCore,
  org: OwnerOrg,
  txn: Txn,
  group: OwnerGroup,
  roster: EpochRoster,
  awaitingLeaves: readonly number[],
): Promise<void> {
  const book = await bookOf(c, org);
  const committer = memoryOf(org).committers.get(toHex(roster.keyId)) ?? "";
  // Leaves gone from the roster need nothing any more.
  book.awaiting = book.awaiting.filter((entry) => {
    const leaf = group.roster[entry.leaf];
    return leaf !== undefined && toHex(leaf.identityKey) === entry.member;
  });
  for (const leaf of awaitingLeaves) {
    const entry = roster.roster[leaf];
    if (entry === undefined) continue;
    const member = toHex(entry.identityKey);
    book.awaiting.push({ channelId: "", leaf, member, epoch: roster.epoch, committer });
  }
  for (const early of [...book.early]) matchHandover(group, book, early);
  if (roster.change === "rekey") {
    if (!book.salted.includes("")) book.salted.push("");
    armSaltRefresh(c, org, txn);
  }
  persistBook(c, org, txn, book);
  txn.groups.add("");
  c.epochs.epochEvent(org, txn, "", group);
  // The event's fresh clock republishes the description: decisions folded late ride on it.
  describeSoon(c, org, txn);
}

/**
 * Has the owner's description published with this unit of work, or, while the start's catch-up
 * reads history, once it ended: history read oldest first may bring a delegate's decision after a
 * later one (same time, another order), and a description of the later one's clock published in
 * between would tell members that the earlier one never was (they rebase on it).
 *
 * @param c - the client's core
 * @param org - an organization this client owns
 * @param txn - the unit of work that changed the state
 */
export function describeSoon(c: ClientCore, org: OwnerOrg, txn: Txn): void {
  if (c.sync.catchingUp.has(org.hex)) memoryOf(org).describeLater = true;
  else txn.description = true;
}

/** After the start's catch-up of `org`: the description it deferred (`describeSoon`), if any. */
export async function describeAfterCatchUp(c: ClientCore, org: OwnerOrg): Promise<void> {
  const memory = memoryOf(org);
  if (memory.describeLater !== true) return;
  memory.describeLater = false;
  const txn = newTxn(org);
  txn.description = true;
  await c.persistence.commit(org, txn);
}

/**
 * Records a handover when the owner awaits it from that delegate for that leaf and epoch (then it
 * leaves `book.early`); anything else stays early or is dropped by the caller.
 * @returns whether it was recorded
 */
function matchHandover(group: OwnerGroup, book: FollowBook, handover: Early): boolean {
  const at = book.awaiting.findIndex(
    (entry) =>
      entry.channelId === handover.channelId &&
      entry.leaf === handover.leaf &&
      entry.member === handover.member &&
      entry.epoch === handover.epoch &&
      entry.committer === handover.from,
  );
  if (at < 0) return false;
  try {
    group.recordLeafSecret({
      leaf: handover.leaf,
      member: fromHex(handover.member),
      epoch: handover.epoch,
      leafSecret: handover.leafSecret,
    });
  } catch {
    return false;
  }
  book.awaiting.splice(at, 1);
  book.early = book.early.filter((early) => early !== handover);
  // (The group keeps its own copy.)
  handover.leafSecret.fill(0);
  return true;
}

/**
 * A `leaf_handover` a member sent the owner over its pairwise session: recorded when that member is
 * the delegate whose followed add step wrote the leaf; kept (stored, the newest
 * `maxEarlyHandovers`) when the owner has not followed that step yet; dropped otherwise.
 *
 * @param c - the client's core
 * @param org - an organization this client owns
 * @param txn - the pairwise message's unit of work
 * @param from - the sender (the session's member)
 * @param handover - the handover
 */
export async function receiveHandover(
  c: ClientCore,
  org: OwnerOrg,
  txn: Txn,
  from: string,
  handover: LeafHandover,
): Promise<void> {
  const group = org.owner.groups.get(handover.channelId);
  const topic = orgSpace(org.hex);
  if (group === undefined || handover.channelId !== "" || !isDelegate(org.log.state, from)) {
    c.report({ component, reason: "handover-refused", topic });
    return;
  }
  const book = await bookOf(c, org);
  const entry: Early = {
    channelId: handover.channelId,
    leaf: handover.leaf,
    member: toHex(handover.member),
    epoch: handover.epoch,
    leafSecret: handover.leafSecret.slice(),
    from,
  };
  if (matchHandover(group, book, entry)) {
    txn.groups.add(handover.channelId);
    persistBook(c, org, txn, book);
    return;
  }
  if (handover.epoch <= group.epoch) {
    // For a step the owner followed and no longer awaits (re-keyed, or resynced since): stale.
    c.report({ component, reason: "handover-stale", topic });
    return;
  }
  book.early.push(entry);
  while (book.early.length > ownerFollowLimits.maxEarlyHandovers)
    book.early.shift()?.leafSecret.fill(0);
  persistBook(c, org, txn, book);
}

/**
 * Before the owner's own KeyUpdate of a group: each member a delegate added whose handover never
 * came gets a fresh leaf secret in a resync Welcome of the current epoch (over the owner's session
 * with it), so that the KeyUpdate's entry, salted with it, reaches the member.
 *
 * @param c - the client's core
 * @param org - an organization this client owns
 * @param txn - the KeyUpdate's unit of work (the Welcomes go into its outbox first)
 * @param channelId - the group
 * @param removed - leaves the KeyUpdate removes (no Welcome for them)
 */
export async function resyncAwaiting(
  c: ClientCore,
  org: OwnerOrg,
  txn: Txn,
  channelId: string,
  removed: readonly number[] = [],
): Promise<void> {
  const group = org.owner.groups.get(channelId);
  if (group === undefined) return;
  const book = await bookOf(c, org);
  const mine = book.awaiting.filter((entry) => entry.channelId === channelId);
  const salted = book.salted.includes(channelId);
  if (mine.length === 0 && !salted) return;
  for (const entry of mine) {
    const leaf = group.roster[entry.leaf];
    if (leaf === undefined || toHex(leaf.identityKey) !== entry.member) continue;
    if (removed.includes(entry.leaf)) continue;
    let welcome: ReturnType<OwnerGroup["resync"]>;
    try {
      welcome = group.resync(entry.leaf, { leafSecret: c.p.random(32) });
    } catch (error) {
      c.report({ component, reason: "resync-impossible", topic: orgSpace(org.hex), error });
      continue;
    }
    const sent = await c.pairwise.toMember(org, txn, entry.member, {
      case: "welcome",
      value: welcome,
    });
    // Without a session the member asks for a resync itself once the KeyUpdate does not open.
    if (!sent) c.report({ component, reason: "resync-no-session", topic: orgSpace(org.hex) });
  }
  book.awaiting = book.awaiting.filter((entry) => entry.channelId !== channelId);
  for (const entry of book.early) if (entry.channelId === channelId) entry.leafSecret.fill(0);
  book.early = book.early.filter((entry) => entry.channelId !== channelId);
  // The KeyUpdate that follows salts every entry with the owner's own leaf secrets.
  book.salted = book.salted.filter((id) => id !== channelId);
  txn.groups.add(channelId);
  persistBook(c, org, txn, book);
}

/**
 * The groups whose epoch came from a delegate's KeyUpdate (delegate salts): the owner's batched
 * re-key refreshes them.
 */
export async function saltedGroups(c: ClientCore, org: OwnerOrg): Promise<string[]> {
  return [...(await bookOf(c, org)).salted];
}

/** Arms the owner's batched re-key timer for the refresh that replaces delegate salts. */
function armSaltRefresh(c: ClientCore, org: OwnerOrg, txn: Txn): void {
  const owner = org.owner;
  const dueAt = c.now() + delegateSaltRefreshMs;
  if (owner.rekeyDueAt !== undefined && owner.rekeyDueAt <= dueAt) return;
  if (owner.rekeyTimer !== undefined) {
    c.p.timers.clearTimeout(owner.rekeyTimer);
    owner.rekeyTimer = undefined;
  }
  owner.rekeyDueAt = dueAt;
  txn.meta = true;
  c.epochs.scheduleRekey(org, dueAt);
}

/**
 * Notes that a delegate's decision, just folded, admitted or removed `member`: its add step or
 * KeyUpdate is the delegate's to make, and on its way ({@link leftToDelegate}).
 *
 * @param org - an organization this client owns
 * @param member - the member admitted or removed
 * @param now - the owner's clock (ms)
 */
export function noteDelegateDecision(org: OwnerOrg, member: string, now: number): void {
  const decided = memoryOf(org).decided;
  decided.delete(member);
  decided.set(member, now);
  for (const [old, at] of decided) {
    if (decided.size <= ownerFollowLimits.maxDecided && now - at < delegateCommitGraceMs) break;
    decided.delete(old);
  }
}

/**
 * Whether the owner leaves `member`'s change in the organization's group (its add, its removal) to
 * a delegate: a delegate's decision on it was folded here less than `delegateCommitGraceMs` ago, so
 * its commit is on its way. Later (or after a restart, whose catch-up reads the delegate's commits
 * first) the owner makes the change itself.
 *
 * @param org - an organization this client owns
 * @param member - a joiner or leaver of the organization's group
 * @param now - the owner's clock (ms)
 */
export function leftToDelegate(org: OwnerOrg, member: string, now: number): boolean {
  const at = memoryOf(org).decided.get(member);
  return at !== undefined && now - at < delegateCommitGraceMs;
}
