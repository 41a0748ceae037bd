import type { MemberGroup, OwnerGroup } from "@orgchat/crypto";
import type { BatchOptions, LogEntry, StoreOp } from "@orgchat/store";
import type { ClientCore } from "./core.js";
import { delegateSessionOps } from "./delegates.js";
import { noteDepartures } from "./departures.js";
import { decodeStored, encodeJson, encodeStored } from "./encoding.js";
import { groupRecordOps, StoredGroupRecords } from "./group-records.js";
import { recommitJoiners } from "./joiner-recommits.js";
import { type MetaProbe, metaProbe, metaUnchanged } from "./meta-probe.js";
import {
  isDeskOrg,
  type MemberOrg,
  newTxn,
  type Org,
  type OrgKeys,
  type StoredDescription,
  type Txn,
} from "./org.js";
import { type LoadOrgOptions, loadOrg } from "./org-load.js";
import {
  descriptionKey,
  eventsLog,
  heldLog,
  messagesLog,
  type OrgMeta,
  type OrgSecrets,
  orgSpace,
  outboxLog,
  pendingLog,
  provenLog,
  seenLog,
} from "./org-records.js";
import { ownerKeyOps } from "./owner-keys.js";
import { legacyRosterPrefix, rosterRecordPrefix } from "./roster-records.js";
import { StateSnapshots } from "./state-snapshots.js";

export { openIdentity } from "./identity-record.js";
export { type MetaProbe, metaProbe, metaUnchanged } from "./meta-probe.js";

export {
  eventsLog,
  heldLog,
  messagesLog,
  orgSpace,
  outboxLog,
  pendingLog,
  provenLog,
  seenLog,
} from "./org-records.js";

/**
 * Receives after which a group's head is written with the commit even though the decryptions only
 * moved receive chains (docs/CLIENT.md, "Crash rules", Receive): between two such writes, at most
 * this many receives of the group are held in memory only. A crash then leaves a head that many
 * chain steps behind at most (well inside `groupLimits.maxForwardJump`, 1,000), from which the same
 * keys are derived again; the messages they opened are committed with their seen marks and are
 * not processed twice.
 */
export const receiveHeadInterval = 64;

/** A seen mark's value: empty (no element to change; the store copies what it keeps anyway). */
const noValue = new Uint8Array(0);

/** What {@link Persistence.changedMetaOps} returns when neither record changed. */
const nothingToWrite: { ops: StoreOp[]; done: () => void } = Object.freeze({
  ops: Object.freeze([]) as unknown as StoreOp[],
  done: () => {},
});

/** The batch options of a commit, by whether it erases keys and whether it must be durable. */
const commitOptions = Object.freeze({
  plain: Object.freeze({}),
  durable: Object.freeze({ durable: true }),
  checkpoint: Object.freeze({ checkpoint: true }),
  both: Object.freeze({ checkpoint: true, durable: true }),
});

/** No channel past a commit's first (its posts' messages appends, `#commitBatch`). */
const noChannels: ReadonlyMap<string, LogEntry[]> = new Map();

/** A commit's batch ({@link Persistence} `#commitBatch`), and what its outcome updates. */
interface CommitBatch {
  readonly ops: StoreOp[];
  readonly options: BatchOptions;
  /** Whether roster records a failed commit left in memory are in `ops` (written first). */
  readonly unstored: boolean;
  readonly storedGroups: StoredGroupRecords;
  /** The groups whose records are in `ops`. */
  readonly groups: ReadonlySet<string>;
  /** The outbox entries whose deletes are in `ops` (kept for the next commit if this one fails). */
  readonly published: string[] | undefined;
  readonly meta: { done(): void };
  readonly ownerKeys: { done(): void } | undefined;
}

/**
 * Persistence: the key layout, loading an organization, and the unit of work — `commit` writes a
 * `Txn` in one atomic batch (persist before send), then publishes its outbox, then tells the app
 * (commit before acknowledge). Owns: the store and the outbox logs.
 */
export class Persistence {
  readonly #c: ClientCore;
  /**
   * Per organization, the outbox entries published since the last commit: their deletes ride in
   * the next commit's batch (one commit per send). A crash before it re-publishes them at start;
   * receivers dedupe by id. Bounded by what is sent between two commits (each send commits).
   */
  readonly #published = new Map<string, string[]>();
  /** Per organization, which group records the store holds (`group-records.ts`). */
  readonly #groupRecords = new Map<string, StoredGroupRecords>();
  /** Per organization, what the `meta` record last committed held (`lastSeen` left out), to skip rewrites. */
  readonly #writtenMeta = new Map<string, MetaProbe>();
  /** Per organization, the member's description last committed (by identity), to skip rewrites. */
  readonly #writtenDescription = new Map<string, StoredDescription | undefined>();
  /** Per organization in a {@link Persistence.batched} scope, the units of work deferred so far. */
  readonly #deferred = new Map<string, Txn[]>();
  /** When to compact each organization's events log into a state snapshot. */
  readonly #snapshots: StateSnapshots;
  /**
   * Per organization, the roster record operations of commits that failed: the epochs they record
   * are in memory (and the groups that use them are rewritten whole by the next commit), so the
   * next commit writes them first, in order. Without them a later delta record would build on a
   * record the store never got, and the next start could not read the organization. Bounded by
   * the epochs made while the store refuses to commit.
   */
  readonly #unstoredRosters = new Map<string, StoreOp[]>();
  /**
   * Per organization, the groups whose head a receive left unsaved (only receive chains moved), with
   * how many receives since their last write ({@link receiveHeadInterval}). Written by the next
   * commit that saves the group, and by {@link Persistence.settle} (at close, and at rest when
   * published outbox entries are settled anyway). Bounded by the organization's groups.
   */
  readonly #unsavedHeads = new Map<string, Map<string, number>>();

  constructor(core: ClientCore) {
    this.#c = core;
    this.#snapshots = new StateSnapshots(core);
  }

  newKeys(): OrgKeys {
    const signing = this.#c.p.provider.ed25519KeyPair();
    const prekey = this.#c.p.provider.x25519KeyPair();
    return {
      signingSecret: signing.secretKey,
      signingKey: signing.publicKey,
      prekeySecret: prekey.secretKey,
      prekey: prekey.publicKey,
    };
  }

  /** @throws {StoreCorruptedError} when a record is missing or unreadable */
  async load(hex: string, options?: LoadOrgOptions): Promise<Org> {
    const storedGroups = new StoredGroupRecords();
    this.#groupRecords.set(hex, storedGroups);
    return loadOrg(this.#c, hex, storedGroups, this.#snapshots, options);
  }

  /**
   * The organization's `meta` record and, for a member, its `description` record, whole (for a
   * first write; a commit writes only what changed, see {@link Persistence.changedMetaOps}).
   * @returns the ops to put in a batch
   */
  metaOps(org: Org): StoreOp[] {
    return this.#metaOps(org, true).ops;
  }

  /**
   * The `meta` and `description` records that changed since the last commit that wrote them: none
   * on most commits (a received message changes neither; `lastSeen` alone does not count). The
   * description (700 KB at 10,000 members) is its own binary record, compared by identity.
   * @returns the ops, and `done` to call once the batch that carries them committed
   */
  changedMetaOps(org: Org): { ops: StoreOp[]; done: () => void } {
    return this.#metaOps(org, false);
  }

  #metaOps(org: Org, whole: boolean): { ops: StoreOp[]; done: () => void } {
    const owner = org.role === "owner" ? org.owner : undefined;
    const member = org.role === "owner" ? undefined : org.member;
    const hex = org.hex;
    const space = orgSpace(hex);
    const ops: StoreOp[] = [];
    const last = this.#writtenMeta.get(hex);
    const unchanged = !whole && last !== undefined && metaUnchanged(last, org);
    const probe = unchanged ? last : metaProbe(org);
    if (!unchanged) {
      const pendingRemovals: Record<string, string[]> = {};
      for (const [channelId, members] of owner?.pendingRemovals ?? []) {
        pendingRemovals[channelId] = [...members];
      }
      const meta: OrgMeta = {
        v: 1,
        role: org.role,
        lastSeen: org.lastSeen,
        pendingRemovals,
        discovered: org.discovered,
        marks: Object.fromEntries(org.marks),
        ...(member?.request === undefined ? {} : { request: member.request }),
        ...(member?.bundle === undefined ? {} : { bundle: member.bundle }),
        ...(owner?.rekeyDueAt === undefined ? {} : { rekeyDueAt: owner.rekeyDueAt }),
      };
      ops.push({ type: "put", space, key: "meta", value: encodeJson(meta) });
    }
    const description = member?.description;
    const described =
      member !== undefined &&
      (whole ||
        !this.#writtenDescription.has(hex) ||
        this.#writtenDescription.get(hex) !== description);
    if (described) {
      ops.push(
        description === undefined
          ? { type: "delete", space, key: descriptionKey }
          : { type: "put", space, key: descriptionKey, value: encodeStored(description) },
      );
    }
    // Nothing to write (most commits): nothing to note once it commits either.
    if (ops.length === 0) return nothingToWrite;
    const done = () => {
      this.#writtenMeta.set(hex, probe);
      if (member !== undefined) this.#writtenDescription.set(hex, description);
    };
    return { ops, done };
  }

  secretsOp(org: Org): StoreOp {
    const secrets: OrgSecrets = {
      signingSecret: org.keys.signingSecret,
      prekeySecret: org.keys.prekeySecret,
      ...(org.role === "owner" ? { orgSecret: org.owner.orgSecret } : {}),
    };
    const space = orgSpace(org.hex);
    return {
      type: "put",
      space,
      key: "secrets",
      value: this.#c.p.vault.sealJson(space, "secrets", secrets),
    };
  }

  /**
   * Deletes every record of an organization (`forgetOrganization`), in one batch erased from the
   * store's files: the index entry, its space (meta, description, snapshot, secrets, groups, sessions,
   * rosters…) and its logs (events, the messages of every channel its state knows, outbox, pending,
   * seen, proven, held). Messages logs of channels removed before are not named by anything left and
   * stay as unreachable bytes until the store is compacted.
   */
  async forget(org: Org): Promise<void> {
    const store = this.#c.p.store;
    const space = orgSpace(org.hex);
    const ops: StoreOp[] = [{ type: "delete", space: "orgs", key: org.hex }];
    for (const key of await store.keys(space)) ops.push({ type: "delete", space, key });
    const logs = [
      eventsLog(org.hex),
      outboxLog(org.hex),
      pendingLog(org.hex),
      seenLog(org.hex),
      provenLog(org.hex),
      heldLog(org.hex),
      ...[...org.log.state.channels.keys()].map((channelId) => messagesLog(org.hex, channelId)),
    ];
    for (const log of logs) {
      const ids = (await store.range(log)).map((entry) => entry.id);
      if (ids.length > 0) ops.push({ type: "deleteEntries", log, ids });
    }
    await store.batch(ops, commitOptions.checkpoint);
    this.#published.delete(org.hex);
    this.#unsavedHeads.delete(org.hex);
  }

  /** The first records of an organization this identity does not own (see `Membership.adopt`). */
  async create(org: MemberOrg): Promise<void> {
    await this.#c.p.store.batch([
      { type: "put", space: "orgs", key: org.hex, value: new Uint8Array([1]) },
      this.secretsOp(org),
      ...this.metaOps(org),
    ]);
  }

  /**
   * Runs `fn` (the processing of messages that arrived together: a live burst, a history page) with
   * its units of work committed as one: a received message's commit inside it is deferred, and all
   * of them are written in one batch when `fn` ends — before the app hears of any of them (commit
   * before acknowledge). A unit of work that publishes, changes epochs, keys or the description
   * first commits what was deferred, then itself, as usual. Nested calls join the outer one.
   * @param org - the organization the messages belong to
   * @param fn - the processing
   */
  async batched(org: Org, fn: () => Promise<void>): Promise<void> {
    if (this.#deferred.has(org.hex)) {
      await fn();
      return;
    }
    this.#deferred.set(org.hex, []);
    try {
      await fn();
    } finally {
      const txns = this.#deferred.get(org.hex) ?? [];
      this.#deferred.delete(org.hex);
      await this.#commitDeferred(org, txns);
    }
  }

  /** Commits the deferred units of work as one (`before` of the first, everything else joined). */
  async #commitDeferred(org: Org, txns: readonly Txn[]): Promise<void> {
    const [first] = txns;
    if (first === undefined) return;
    if (txns.length === 1) {
      await this.#commitNow(org, first);
      return;
    }
    const joined = newTxn(org);
    const merged: Txn = { ...joined, before: first.before };
    for (const txn of txns) {
      merged.ops.push(...txn.ops);
      merged.emits.push(...txn.emits);
      merged.events.push(...txn.events);
      merged.seen.push(...txn.seen);
      for (const channelId of txn.groups) merged.groups.add(channelId);
    }
    await this.#commitNow(org, merged);
  }

  /**
   * A message of group `groupId` was decrypted for `txn`: the group is saved with it when the
   * decryption did more than move receive chains (`receivedBeyondChains`: a retained epoch read or
   * expired) or every {@link receiveHeadInterval} receives; otherwise its head waits for the next
   * commit that saves the group (a send that moves its reservation, a new epoch, the 64th
   * receive), the outbox settling at rest, or close. The state in memory is ahead of the
   * saved head by chain positions only: the saved head derives the same keys (a crash loses none).
   */
  receivedIn(org: Org, txn: Txn, groupId: string, group: OwnerGroup | MemberGroup): void {
    if (group.receivedBeyondChains) {
      txn.groups.add(groupId);
      return;
    }
    let unsaved = this.#unsavedHeads.get(org.hex);
    if (unsaved === undefined) {
      unsaved = new Map();
      this.#unsavedHeads.set(org.hex, unsaved);
    }
    const receives = (unsaved.get(groupId) ?? 0) + 1;
    unsaved.set(groupId, receives);
    if (receives >= receiveHeadInterval) txn.groups.add(groupId);
  }

  /**
   * Commits a transaction: one atomic batch with every changed group and session, the events,
   * messages and outbox entries (persist before send); then publishes the outbox, then tells the
   * app (commit before acknowledge). Inside {@link Persistence.batched}, a received message's
   * unit of work is deferred to the end of the batch.
   */
  commit(org: Org, txn: Txn): Promise<void> {
    const deferred = this.#deferred.get(org.hex);
    // Outside a batch (every send): the commit itself, no async frame of its own around it.
    return deferred === undefined ? this.#commitNow(org, txn) : this.#commitIn(org, txn, deferred);
  }

  /** {@link Persistence.commit} inside {@link Persistence.batched}. */
  async #commitIn(org: Org, txn: Txn, deferred: Txn[]): Promise<void> {
    const plain =
      txn.outbox.length === 0 &&
      txn.sessions.size === 0 &&
      !txn.prekeys &&
      !txn.description &&
      !txn.epochChanged &&
      !txn.erasesKeys;
    if (plain) {
      deferred.push(txn);
      return;
    }
    // Everything deferred first, in order.
    this.#deferred.set(org.hex, []);
    await this.#commitDeferred(org, deferred);
    await this.#commitNow(org, txn);
  }

  /**
   * Commits a transaction now (see {@link Persistence.commit}). The batch is built by
   * {@link Persistence.#commitBatch}, synchronously: this async function keeps few locals across
   * its awaits (each send suspends it twice; V8 keeps an async function's registers in an array
   * made per call).
   */
  async #commitNow(org: Org, txn: Txn): Promise<void> {
    const c = this.#c;
    if (txn.description && org.role === "owner") await c.epochs.describe(org, txn);
    // A ban may refuse an add step of the chain: judged in the ban's own unit of work.
    if (org.role !== "owner") c.keySync.judge.judgeBans(org, txn);
    const batch = this.#commitBatch(org, txn);
    try {
      await c.p.store.batch(batch.ops, batch.options);
    } catch (error) {
      // Not applied: deleted at the next commit instead, groups rewritten whole.
      const { published, storedGroups, groups, ops } = batch;
      if (published !== undefined) this.#published.set(org.hex, published);
      storedGroups.forget(groups);
      const rosters = ops.filter(isRosterRecordOp);
      if (rosters.length > 0) this.#unstoredRosters.set(org.hex, rosters);
      throw error;
    }
    if (batch.unstored) this.#unstoredRosters.delete(org.hex);
    this.#headsSaved(org.hex, batch.groups);
    batch.meta.done();
    batch.ownerKeys?.done();
    for (const entry of txn.outbox) await this.#publish(org, entry);
    c.eventLog.emitDiff(org, txn);
    // A delegate adds a joiner its state lists again and the group lacks (`joiner-recommits.ts`).
    if (org.role !== "owner") recommitJoiners(c, org, txn.before.members);
    for (const entry of txn.emits) c.emitter.emitEntry(entry);
    if (txn.epochChanged) await c.sync.retryPending(org);
    if (txn.events.length > 0) {
      // A promise only when a compaction runs now (most commits: none to wait for).
      const compacting = this.#snapshots.appended(org, txn.events.length);
      if (compacting !== undefined) await compacting;
    }
  }

  /** The batch of a commit, and what to do once it is written or refused (no await: see above). */
  #commitBatch(org: Org, txn: Txn): CommitBatch {
    const c = this.#c;
    const vault = c.p.vault;
    const space = orgSpace(org.hex);
    const unstored = this.#unstoredRosters.get(org.hex);
    const ops: StoreOp[] =
      unstored !== undefined ? [...unstored, ...txn.ops] : txn.ops.length === 0 ? [] : [...txn.ops];
    // Each group's head when it changed and its changed member and epoch records; durable when a
    // head reserves a new stretch of the own sender chain (see the store-sqlite README).
    let storedGroups = this.#groupRecords.get(org.hex);
    if (storedGroups === undefined) {
      storedGroups = new StoredGroupRecords();
      this.#groupRecords.set(org.hex, storedGroups);
    }
    let durable = false;
    // The unit of work's groups, and any a failed commit left to rewrite whole: a send that did not
    // change its group's head does not name the group, and the rewrite must not wait for one that does.
    const rewriting = storedGroups.rewriting();
    const groups = rewriting.length === 0 ? txn.groups : new Set([...txn.groups, ...rewriting]);
    for (const channelId of groups) {
      const group =
        org.role === "owner" ? org.owner.groups.get(channelId) : org.member.groups.get(channelId);
      const saved = groupRecordOps(space, channelId, group, vault, storedGroups);
      ops.push(...saved.ops);
      if (saved.durable) durable = true;
    }
    // Owner: changed sessions, the prekeys and the ephemeral keys accepted (owner-keys.ts).
    const ownerKeys = isDeskOrg(org) ? ownerKeyOps(vault, org, txn) : undefined;
    if (ownerKeys !== undefined) ops.push(...ownerKeys.ops);
    const ownSession = org.role === "owner" ? undefined : org.member.ownerSession;
    if (ownSession !== undefined && txn.sessions.has("owner")) {
      const key = "pairwise/owner";
      ops.push({ type: "put", space, key, value: vault.seal(space, key, ownSession.serialize()) });
    }
    if (org.role !== "owner") ops.push(...delegateSessionOps(vault, org, txn));
    if (txn.events.length > 0) {
      // The records are made for this batch: handed over (the memory store keeps them, no copy).
      ops.push({
        type: "append",
        log: eventsLog(org.hex),
        entries: txn.events.map((event) => ({
          id: event.id,
          sortKey: event.clock,
          value: encodeStored(event, org.proven.has(event.id)),
        })),
        handOver: true,
      });
    }
    if (txn.seen.length > 0) {
      const sortKey = BigInt(c.now());
      ops.push({
        type: "append",
        log: seenLog(org.hex),
        entries: txn.seen.map((id) => ({ id, sortKey, value: noValue })),
      });
    }
    // Each channel's messages, one append per channel (a map only past the first channel: a send
    // posts in one).
    let firstChannel: string | undefined;
    const firstEntries: LogEntry[] = [];
    let byChannel: Map<string, LogEntry[]> | undefined;
    for (const event of txn.events) {
      if (event.type !== "message.posted") continue;
      const meta = org.messageMeta.get(event.id);
      const entry: LogEntry = {
        id: event.id,
        sortKey: event.clock,
        value: encodeStored(meta ?? { sentAt: event.sentAt }),
      };
      const channelId = event.body.channelId;
      if (firstChannel === undefined || firstChannel === channelId) {
        firstChannel = channelId;
        firstEntries.push(entry);
        continue;
      }
      byChannel ??= new Map();
      const entries = byChannel.get(channelId);
      if (entries === undefined) byChannel.set(channelId, [entry]);
      else entries.push(entry);
    }
    if (firstChannel !== undefined) {
      const log = messagesLog(org.hex, firstChannel);
      ops.push({ type: "append", log, entries: firstEntries, handOver: true });
    }
    for (const [channelId, entries] of byChannel ?? noChannels) {
      ops.push({ type: "append", log: messagesLog(org.hex, channelId), entries, handOver: true });
    }
    if (txn.outbox.length > 0) {
      const sortKey = BigInt(Math.max(0, Math.trunc(c.p.now())));
      ops.push({
        type: "append",
        log: outboxLog(org.hex),
        entries: txn.outbox.map((entry) => ({
          id: entry.id,
          sortKey,
          value: encodeStored({ topic: entry.topic, bytes: entry.bytes }),
        })),
        handOver: true,
      });
    }
    if (noteDepartures(org, txn.before)) {
      ops.push({ type: "put", space, key: "departed", value: encodeJson([...org.departed]) });
    }
    const published = this.#published.get(org.hex);
    if (published !== undefined) {
      ops.push({ type: "deleteEntries", log: outboxLog(org.hex), ids: published });
      this.#published.delete(org.hex);
    }
    const meta = this.changedMetaOps(org);
    ops.push(...meta.ops);
    return {
      ops,
      options: txn.erasesKeys
        ? durable
          ? commitOptions.both
          : commitOptions.checkpoint
        : durable
          ? commitOptions.durable
          : commitOptions.plain,
      unstored: unstored !== undefined,
      storedGroups,
      groups,
      published,
      meta,
      ownerKeys,
    };
  }

  /**
   * Publishes one outbox entry; a failure is an `error` event (the entry stays in the outbox). Not
   * an async function: its frame would be allocated per send.
   */
  #publish(org: Org, entry: { id: string; topic: string; bytes: Uint8Array }): Promise<void> {
    const c = this.#c;
    // Our own copy may come back (self-delivery): it is known already, by id and by its bytes.
    c.sync.seen.add(entry.id);
    c.sync.published(entry.bytes);
    let publishing: Promise<unknown>;
    try {
      publishing = c.p.transport.publish(entry.topic, entry.bytes);
    } catch (error) {
      publishing = Promise.reject(error);
    }
    return publishing.then(
      () => {
        // Deleted from the outbox by the next commit (one commit per send).
        const published = this.#published.get(org.hex);
        if (published === undefined) this.#published.set(org.hex, [entry.id]);
        else published.push(entry.id);
      },
      (error: unknown) => {
        // Kept in the outbox: re-published on the next tick or start.
        c.emitter.emit("error", { organizationId: org.hex, error });
      },
    );
  }

  /**
   * At close: compacts each organization's events log into a snapshot when more than the re-fold
   * window was appended since the last one (`snapshotPolicy`), so that the next start replays only
   * that window. Run inside the operation queue.
   */
  async compactAtClose(): Promise<void> {
    this.#snapshots.stopWaiting();
    for (const org of this.#c.orgs.values()) await this.#snapshots.compact(org, true);
  }

  /** Whether entries were published whose outbox deletes wait for the next commit. */
  hasPublished(): boolean {
    return this.#published.size > 0;
  }

  /**
   * Whether something waits for the next commit that {@link Persistence.settle} writes now: outbox
   * deletes of entries already published, group heads a receive left unsaved.
   */
  hasUnsettled(): boolean {
    return this.#published.size > 0 || this.#unsavedHeads.size > 0;
  }

  /** The groups of a commit that went through: their heads are saved. */
  #headsSaved(hex: string, groups: Iterable<string>): void {
    const unsaved = this.#unsavedHeads.get(hex);
    if (unsaved === undefined) return;
    for (const groupId of groups) unsaved.delete(groupId);
    if (unsaved.size === 0) this.#unsavedHeads.delete(hex);
  }

  /**
   * Commits what waits for the next commit (one batch, not synced): the outbox deletes of every
   * entry already published — what a client at rest or closing leaves in its outbox is then only
   * what no peer took — and the heads of groups a receive left unsaved. Run inside the operation
   * queue.
   */
  async settle(): Promise<void> {
    const ops: StoreOp[] = [];
    const taken = [...this.#published];
    for (const [hex, ids] of taken) ops.push({ type: "deleteEntries", log: outboxLog(hex), ids });
    this.#published.clear();
    const heads: Array<{ hex: string; groups: string[]; stored: StoredGroupRecords }> = [];
    for (const [hex, unsaved] of this.#unsavedHeads) {
      const org = this.#c.orgs.get(hex);
      const stored = this.#groupRecords.get(hex);
      if (org === undefined || stored === undefined) {
        this.#unsavedHeads.delete(hex);
        continue;
      }
      const space = orgSpace(hex);
      const groups: string[] = [];
      for (const groupId of unsaved.keys()) {
        const group =
          org.role === "owner" ? org.owner.groups.get(groupId) : org.member.groups.get(groupId);
        // A group gone since was deleted by the commit that dropped it.
        if (group === undefined) {
          unsaved.delete(groupId);
          continue;
        }
        ops.push(...groupRecordOps(space, groupId, group, this.#c.p.vault, stored).ops);
        groups.push(groupId);
      }
      heads.push({ hex, groups, stored });
    }
    if (ops.length === 0) {
      this.#unsavedHeads.clear();
      return;
    }
    try {
      await this.#c.p.store.batch(ops);
    } catch (error) {
      // Not applied: deleted at the next commit instead; the groups rewritten whole then.
      for (const [hex, ids] of taken) {
        const now = this.#published.get(hex);
        this.#published.set(hex, now === undefined ? ids : [...ids, ...now]);
      }
      for (const { stored, groups } of heads) stored.forget(groups);
      throw error;
    }
    for (const { hex, groups } of heads) this.#headsSaved(hex, groups);
  }

  /**
   * Publishes what a crash or a failed publish left in the outbox (entries published by this
   * process and waiting for the next commit to delete them are skipped). After a crash an entry
   * may have been published already: publishing it again is harmless, receivers dedupe by id.
   */
  async flushOutbox(org: Org): Promise<void> {
    const published = new Set(this.#published.get(org.hex));
    for (const entry of await this.#c.p.store.range(outboxLog(org.hex))) {
      if (published.has(entry.id)) continue;
      const { value } = decodeStored<{ topic: string; bytes: Uint8Array }>(entry.value);
      await this.#publish(org, { id: entry.id, topic: value.topic, bytes: value.bytes });
    }
  }
}

/** A put or delete of a roster record (binary or of the earlier JSON format). */
function isRosterRecordOp(op: StoreOp): boolean {
  return (
    (op.type === "put" || op.type === "delete") &&
    (op.key.startsWith(rosterRecordPrefix) || op.key.startsWith(legacyRosterPrefix))
  );
}
