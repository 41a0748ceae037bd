/**
 * The message archive behind Store v3: Waku messages kept in SQLite (Node's built-in `node:sqlite`,
 * no native build), keyed by their deterministic hash (14/WAKU2-MESSAGE) and ordered by
 * `(timestamp, hash)` as WAKU2-STORE v3 requires.
 *
 * Storage choices and why:
 * - WAL journal with `synchronous = NORMAL`: readers never block the writer, and a commit does not
 *   fsync (a power cut may lose the last commits, never corrupt the file; Waku messages are
 *   re-deliverable, so durability of the last second is not worth an fsync per message).
 * - The message is kept as its protobuf bytes, so every field (meta, version, rate-limit proof) comes
 *   back exactly as received; the columns beside it exist only to filter and sort.
 * - A rowid table (not `WITHOUT ROWID`): rows carry payloads up to the 150 KiB message limit, and
 *   SQLite advises rowid tables for rows that large.
 * - `user_version` holds the schema version; {@link MessageArchive.open} migrates older files step
 *   by step and refuses newer ones ({@link ArchiveSchemaVersionError}).
 */
import {
  DatabaseSync,
  type SQLInputValue,
  type SQLOutputValue,
  type StatementSync,
} from "node:sqlite";
import type { DiagnosticSink } from "@orgchat/base";
import { reportDiagnostic, toHex } from "@orgchat/base";
import { WakuMessage } from "@waku/proto";
import {
  defaultMaxTimestampSkewMs,
  defaultPeerQuota,
  type PeerQuota,
  resolveAdmissionLimits,
} from "./archive-limits.js";
import {
  type ArchiveRetention,
  type PruneResult,
  Retention,
  resolveRetention,
} from "./archive-retention.js";
import { closeQuietly, hashLength, migrate } from "./archive-schema.js";
import { ArchiveClosedError, ArchiveOpenError, CursorNotFoundError } from "./errors.js";

/** Options of {@link MessageArchive.open}. */
export interface ArchiveInit {
  /**
   * The SQLite file, or `":memory:"` for an archive that lives as long as the process. The directory
   * must exist: the archive does not create it (the node owns its data directory).
   */
  readonly path: string;
  /** @default {@link defaultArchiveRetention} */
  readonly retention?: ArchiveRetention;
  /**
   * The clock, in milliseconds since the epoch: stamps messages that carry no timestamp and sets the
   * age cutoff of retention. Injected so that tests control time. @default Date.now
   */
  readonly now?: () => number;
  /**
   * Told about failures the archive swallows because another error is already being thrown (closing
   * a database that failed to open or migrate).
   */
  readonly onDiagnostic?: DiagnosticSink;
  /**
   * {@link MessageArchive.admit} refuses a message whose timestamp is further than this from `now()`
   * (ms, either way). @default {@link defaultMaxTimestampSkewMs} (20 s, nwaku's rule)
   */
  readonly maxTimestampSkewMs?: number;
  /** What {@link MessageArchive.admit} lets one peer hold. @default {@link defaultPeerQuota} */
  readonly peerQuota?: PeerQuota;
  /**
   * Peers {@link MessageArchive.admit} does not hold to the quota (a node exempts the relay peers
   * its operator configured). @default none
   */
  readonly isQuotaExempt?: (peer: string) => boolean;
  /**
   * {@link MessageArchive.admit} commits at the end of the event-loop turn: a turn's admissions (a
   * relayed burst) share one transaction (with a file, ~14 µs CPU and ~20 µs wall per message
   * instead of ~36 and ~185). Reads see them at once; `commit()` (call it before acknowledging),
   * `close()`, `insertMany()` and `prune()` commit now. A crash loses at most one turn's admissions.
   * @default false (each admission commits on its own) */
  readonly commitPerTurn?: boolean;
}

/**
 * What {@link MessageArchive.admit} did with a message: stored it, or why not (already stored,
 * ephemeral, timestamp too far from the node's clock, the delivering peer over its quota).
 */
export type ArchiveAdmission =
  | "stored"
  | "duplicate"
  | "ephemeral"
  | "timestamp-out-of-range"
  | "peer-over-quota";

/** Messages and bytes one peer has in the archive ({@link MessageArchive.peerUsage}). */
export interface PeerUsage {
  readonly messages: number;
  readonly bytes: number;
}

/** One message to archive: its Waku message hash, the pubsub topic it arrived on, and the message. */
export interface ArchivedMessage {
  /** The 32-byte deterministic message hash (14/WAKU2-MESSAGE), e.g. `messageHash()` of `@waku/core`. */
  readonly hash: Uint8Array;
  readonly pubsubTopic: string;
  readonly message: WakuMessage;
  /**
   * The libp2p peer id (text) that delivered it: the light push client, or the relay neighbour
   * gossipsub received it from. Counted against that peer's quota; absent: nobody's.
   */
  readonly peer?: string;
}

/**
 * A typed, already validated page request (the Store protocol validates what arrives on the wire and
 * builds this; see `handleStoreQuery`). Filters combine with AND, like nwaku's archive.
 */
export interface ArchiveQuery {
  /** Only messages that arrived on this pubsub topic. */
  readonly pubsubTopic?: string;
  /** Only messages with one of these content topics (none: any content topic). */
  readonly contentTopics?: readonly string[];
  /** Inclusive lower bound on the message timestamp, in nanoseconds. */
  readonly timeStart?: bigint;
  /** Inclusive upper bound on the message timestamp, in nanoseconds. */
  readonly timeEnd?: bigint;
  /** Only messages with one of these 32-byte hashes (a lookup query). */
  readonly messageHashes?: readonly Uint8Array[];
  /** Exclusive starting point: the hash of a stored message (the previous page's cursor). */
  readonly cursor?: Uint8Array;
  /** `true`: from the oldest onwards; `false`: from the newest backwards. */
  readonly forward: boolean;
  /** At most this many entries (a positive integer; the protocol layer clamps it). */
  readonly pageSize: number;
  /** Whether entries carry the pubsub topic and the message, or only the hash. */
  readonly includeData: boolean;
  /**
   * A size budget for the page, in bytes of its Store v3 encoding: entries stop (and the cursor is
   * set) before their encoded size would exceed it, but a page always has at least one entry. Each
   * entry counts its hash, pubsub topic and message bytes plus {@link entryFramingBytes} of protobuf
   * framing. @default no limit
   */
  readonly maxBytes?: number;
}

/**
 * Protobuf framing of one `WakuMessageKeyValue` inside a `StoreQueryResponse`, at most: the entry's
 * tag and length (2 + 3 bytes), and the tag and length of its hash (2), message (1 + 3) and pubsub
 * topic (1 + 2) fields, for messages under 2 MiB and topics under 16 KiB.
 */
export const entryFramingBytes = 16;

/** One entry of a page: the hash, plus the pubsub topic and message when data was requested. */
export interface ArchivePageEntry {
  readonly hash: Uint8Array;
  readonly pubsubTopic?: string;
  readonly message?: WakuMessage;
}

/** One page of a query. */
export interface ArchivePage {
  /**
   * Ascending by `(timestamp, hash)` whatever the direction: WAKU2-STORE v3 requires each page in
   * forward order, and the js-waku client relies on it (it takes the cursor of the next backward page
   * from the first entry).
   */
  readonly entries: readonly ArchivePageEntry[];
  /**
   * Set when more messages match: the hash of the last entry included in traversal order (the newest
   * entry when paging forward, the oldest when paging backward). Absent on the last page.
   */
  readonly cursor?: Uint8Array;
}

export { defaultMaxTimestampSkewMs, defaultPeerQuota, type PeerQuota } from "./archive-limits.js";
/** What {@link MessageArchive.prune} removed. */
export {
  type ArchiveRetention,
  defaultArchiveRetention,
  type PruneResult,
} from "./archive-retention.js";
export { archiveSchemaVersion } from "./archive-schema.js";

const nanosPerMilli = 1_000_000n;

/**
 * Waku messages persisted in SQLite for the Store v3 protocol: idempotent inserts by hash, cursor
 * pages in both directions, time ranges, lookups by hash, and retention by age and count.
 *
 * All calls are synchronous (`node:sqlite`'s `DatabaseSync`): each is a short indexed statement, and
 * a synchronous API keeps a page consistent without locking across awaits.
 *
 * @example
 * ```ts
 * import { messageHash } from "@waku/core";
 * const archive = MessageArchive.open({ path: "/var/lib/orgchat-node/messages.sqlite" });
 * archive.insert({ hash: messageHash(pubsubTopic, message), pubsubTopic, message });
 * const page = archive.query({ pubsubTopic, contentTopics: [contentTopic], forward: false, pageSize: 20, includeData: true });
 * archive.close();
 * ```
 */
export class MessageArchive {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #retention: Retention;
  readonly #admission: Admission;
  readonly #insertStatement: StatementSync;
  readonly #usageStatement: StatementSync;
  readonly #cursorStatement: StatementSync;
  /** Query statements by SQL text: a bounded set of shapes (filters present or not, direction). */
  readonly #queryStatements = new Map<string, StatementSync>();
  readonly #commitPerTurn: boolean;
  readonly #onDiagnostic: DiagnosticSink | undefined;
  /** Admissions since the last commit are in an open transaction (`commitPerTurn`). */
  #turnOpen = false;
  #closed = false;

  private constructor(
    db: DatabaseSync,
    now: () => number,
    retention: Required<ArchiveRetention>,
    admission: Admission,
    init: Pick<ArchiveInit, "commitPerTurn" | "onDiagnostic">,
  ) {
    this.#commitPerTurn = init.commitPerTurn ?? false;
    this.#onDiagnostic = init.onDiagnostic;
    this.#db = db;
    this.#now = now;
    this.#retention = new Retention(db, retention);
    this.#admission = admission;
    this.#insertStatement = db.prepare(
      "INSERT INTO message (hash, pubsub_topic, content_topic, timestamp, message, peer) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING",
    );
    this.#usageStatement = db.prepare("SELECT messages, bytes FROM peer_usage WHERE peer = ?");
    this.#cursorStatement = db.prepare("SELECT timestamp FROM message WHERE hash = ?");
    // Nanosecond timestamps exceed 2^53: read them as bigint or neighbours would compare equal.
    this.#cursorStatement.setReadBigInts(true);
  }

  /**
   * Opens (or creates) the archive file and brings its schema up to date.
   *
   * @param init - the file, retention and clock.
   * @returns the open archive; call {@link MessageArchive.close} when done.
   * @throws {ArchiveOpenError} the file cannot be opened as an SQLite database (missing directory,
   *   permissions, not a database).
   * @throws {ArchiveSchemaVersionError} the file was written by a newer version (left untouched).
   * @throws {RangeError} a retention bound, the timestamp skew or a quota bound is not a positive
   *   number.
   * @example
   * ```ts
   * const archive = MessageArchive.open({ path: join(dataDir, "messages.sqlite"), retention: { maxAgeMs: 7 * 86_400_000 } });
   * ```
   */
  static open(init: ArchiveInit): MessageArchive {
    const retention = resolveRetention(init.retention);
    const admission = resolveAdmission(init);
    let db: DatabaseSync | undefined;
    try {
      // A busy file (another process mid-commit) waits up to 2 s instead of failing at once.
      db = new DatabaseSync(init.path, { timeout: 2000 });
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    } catch (cause) {
      closeQuietly(db, init.onDiagnostic);
      throw new ArchiveOpenError(init.path, { cause });
    }
    migrate(db, init.path, init.onDiagnostic);
    try {
      return new MessageArchive(db, init.now ?? Date.now, retention, admission, init);
    } catch (cause) {
      closeQuietly(db, init.onDiagnostic);
      throw new ArchiveOpenError(init.path, { cause });
    }
  }

  /**
   * Stores a message that just arrived from the network, if the archive's rules admit it: its
   * timestamp (when it has one) is within `maxTimestampSkewMs` of `now()` either way (nwaku's rule),
   * and its delivering peer (`entry.peer`) stays within its quota with it. Otherwise as
   * {@link MessageArchive.insert}. This is the node's one way in; `insert` is for trusted input.
   *
   * @param entry - the hash, pubsub topic, message and the peer that delivered it.
   * @returns what was done: `"stored"`, or why not.
   * @throws {RangeError} the hash is not 32 bytes.
   * @throws {ArchiveClosedError} after `close()`.
   * @example
   * ```ts
   * const outcome = archive.admit({ hash, pubsubTopic, message, peer: connection.remotePeer.toString() });
   * if (outcome !== "stored" && outcome !== "duplicate") console.warn("not archived:", outcome);
   * ```
   */
  admit(entry: ArchivedMessage): ArchiveAdmission {
    this.#assertOpen("admit()");
    checkHash(entry.hash, "hash");
    const { message, peer } = entry;
    if (message.ephemeral === true) return "ephemeral";
    const { maxSkewNs, quota, isExempt } = this.#admission;
    const timestamp = message.timestamp;
    // Zero (or absent) means "no timestamp" (filed under arrival); a negative one is judged like any
    // other, so it is out of range (as nwaku).
    if (timestamp !== undefined && timestamp !== 0n && maxSkewNs !== undefined) {
      const skew = timestamp - BigInt(Math.trunc(this.#now())) * nanosPerMilli;
      if (skew > maxSkewNs || skew < -maxSkewNs)
        return this.#refuse(entry, "timestamp-out-of-range");
    }
    const bytes = WakuMessage.encode(message);
    if (peer !== undefined && !isExempt(peer)) {
      const usage = this.peerUsage(peer);
      if (usage.messages + 1 > quota.maxMessages || usage.bytes + bytes.length > quota.maxBytes) {
        return this.#refuse(entry, "peer-over-quota");
      }
    }
    if (this.#commitPerTurn) this.#openTurn();
    return this.#insertEncoded(entry, bytes) ? "stored" : "duplicate";
  }

  /**
   * Commits the admissions pending with `commitPerTurn` (else a no-op): call it before acknowledging.
   * @throws {ArchiveClosedError} after `close()`; the database's error (pending ones rolled back)
   */
  commit(): void {
    this.#assertOpen("commit()");
    this.#commitTurn();
  }

  /** Opens the turn's transaction if none is open, and schedules its commit. */
  #openTurn(): void {
    if (this.#turnOpen) return;
    this.#db.exec("BEGIN IMMEDIATE");
    this.#turnOpen = true;
    setImmediate(() => this.#closed || this.#commitTurnOrReport());
  }

  /** Commits the turn; a failure is reported (live delivery went on; Store misses those messages). */
  #commitTurnOrReport(): void {
    try {
      this.#commitTurn();
    } catch (error) {
      reportDiagnostic(this.#onDiagnostic, {
        component: "service-node/archive",
        reason: "commit-failed",
        error,
      });
    }
  }

  #commitTurn(): void {
    if (!this.#turnOpen) return;
    this.#turnOpen = false;
    try {
      this.#db.exec("COMMIT");
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /**
   * `reason`, unless the message is already stored: a late copy of a stored message (an old one
   * relayed again, a peer's retry once over quota) stays a duplicate, which the node does not
   * deliver again.
   */
  #refuse(entry: ArchivedMessage, reason: ArchiveAdmission): ArchiveAdmission {
    return this.#cursorStatement.get(entry.hash) === undefined ? reason : "duplicate";
  }

  /**
   * Messages and bytes `peer` has in the archive now (what its quota is judged on).
   * @throws {ArchiveClosedError} after `close()`.
   */
  peerUsage(peer: string): PeerUsage {
    this.#assertOpen("peerUsage()");
    const row = this.#usageStatement.get(peer);
    return { messages: Number(row?.messages ?? 0), bytes: Number(row?.bytes ?? 0) };
  }

  /**
   * Stores one message as given, without the arrival rules of {@link MessageArchive.admit} (trusted
   * input: an import, tooling, tests). A message without a timestamp (absent or zero) is filed under
   * its receive time (`now()`), like nwaku did before it began rejecting such messages; its bytes,
   * and so its hash, stay as received. Ephemeral messages are not stored (WAKU2-STORE: a store node
   * SHOULD NOT store them). `entry.peer`, when given, is recorded and counted in its usage.
   *
   * @param entry - the hash, pubsub topic and message.
   * @returns `true` when stored; `false` when a message with this hash is already stored (inserts are
   *   idempotent) or the message is ephemeral.
   * @throws {RangeError} the hash is not 32 bytes.
   * @throws {ArchiveClosedError} after `close()`.
   */
  insert(entry: ArchivedMessage): boolean {
    this.#assertOpen("insert()");
    return this.#insertEntry(entry);
  }

  /**
   * Stores many messages in one transaction (one commit, much faster than one `insert` each).
   *
   * @param entries - the messages; duplicates and ephemeral messages are skipped as in `insert`.
   * @returns how many were stored.
   * @throws {RangeError} a hash is not 32 bytes (nothing is stored).
   * @throws {ArchiveClosedError} after `close()`.
   */
  insertMany(entries: readonly ArchivedMessage[]): number {
    this.#assertOpen("insertMany()");
    return this.#transaction(() => {
      let stored = 0;
      for (const entry of entries) if (this.#insertEntry(entry)) stored++;
      return stored;
    });
  }

  /**
   * Returns one page of the messages matching `q`, following WAKU2-STORE v3: filters combine with AND,
   * time bounds are inclusive at both ends (as nwaku; the spec text calls the end exclusive), the
   * cursor is exclusive, and the page is ascending whatever the direction.
   *
   * @param q - the validated query.
   * @returns the page and, when more messages match, the cursor of the next page.
   * @throws {CursorNotFoundError} `q.cursor` is not the hash of a stored message.
   * @throws {RangeError} `q.pageSize` is not a positive integer, or the cursor or a hash is not 32 bytes.
   * @throws {ArchiveClosedError} after `close()`.
   */
  query(q: ArchiveQuery): ArchivePage {
    this.#assertOpen("query()");
    if (!Number.isSafeInteger(q.pageSize) || q.pageSize < 1) {
      throw new RangeError(`pageSize must be a positive integer, got ${q.pageSize}`);
    }
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (q.pubsubTopic !== undefined) {
      where.push("pubsub_topic = ?");
      params.push(q.pubsubTopic);
    }
    const contentTopics = q.contentTopics ?? [];
    if (contentTopics.length === 1) {
      // Equality (not IN) so that SQLite walks message_by_topics in order and stops at the limit.
      where.push("content_topic = ?");
      params.push(contentTopics[0] as string);
    } else if (contentTopics.length > 1) {
      // One JSON parameter keeps the statement text (and so the cached statement) independent of
      // how many topics are asked for.
      where.push("content_topic IN (SELECT value FROM json_each(?))");
      params.push(JSON.stringify(contentTopics));
    }
    const hashes = q.messageHashes ?? [];
    if (hashes.length > 0) {
      for (const hash of hashes) checkHash(hash, "messageHashes[]");
      where.push("hash IN (SELECT unhex(value) FROM json_each(?))");
      params.push(JSON.stringify(hashes.map(toHex)));
    }
    let timeStart = q.timeStart;
    let timeEnd = q.timeEnd;
    let after: { timestamp: bigint; hash: Uint8Array } | undefined;
    if (q.cursor !== undefined) {
      checkHash(q.cursor, "cursor");
      const row = this.#cursorStatement.get(q.cursor);
      if (row === undefined) throw new CursorNotFoundError();
      const timestamp = row.timestamp as bigint;
      // The cursor and the time bound on the same side are one lower (forward) or upper (backward)
      // bound: keep only the tighter one, so that SQLite gets one range per side on the index and
      // does not walk (and discard) the rows of earlier pages again on every page.
      if (q.forward) {
        if (timeStart === undefined || timestamp >= timeStart) {
          after = { timestamp, hash: q.cursor };
          timeStart = undefined;
        }
      } else if (timeEnd === undefined || timestamp <= timeEnd) {
        after = { timestamp, hash: q.cursor };
        timeEnd = undefined;
      }
    }
    if (timeStart !== undefined) {
      where.push("timestamp >= ?");
      params.push(timeStart);
    }
    if (timeEnd !== undefined) {
      where.push("timestamp <= ?");
      params.push(timeEnd);
    }
    if (after !== undefined) {
      // A row-value comparison is exactly "after (timestamp, hash)" in the spec's sort order, and
      // SQLite uses it as an index range.
      where.push(q.forward ? "(timestamp, hash) > (?, ?)" : "(timestamp, hash) < (?, ?)");
      params.push(after.timestamp, after.hash);
    }
    const order = q.forward ? "ASC" : "DESC";
    const sql =
      `SELECT ${q.includeData ? "hash, pubsub_topic, message" : "hash"} FROM message` +
      (where.length > 0 ? ` WHERE ${where.join(" AND ")}` : "") +
      ` ORDER BY timestamp ${order}, hash ${order} LIMIT ?`;
    // One row more than the page tells whether another page follows, without a count.
    params.push(q.pageSize + 1);
    const maxBytes = q.maxBytes ?? Number.POSITIVE_INFINITY;
    const entries: ArchivePageEntry[] = [];
    let more = false;
    let bytes = 0;
    // Rows are read one at a time so that a byte budget stops before the rest is read and decoded.
    for (const record of this.#statement(sql).iterate(...params)) {
      // The statement returns arrays (see #statement): [hash] or [hash, pubsub_topic, message].
      const row = record as unknown as readonly SQLOutputValue[];
      if (entries.length === q.pageSize) {
        more = true;
        break;
      }
      const hash = row[0] as Uint8Array;
      if (!q.includeData) {
        bytes += hash.length + entryFramingBytes;
        if (bytes > maxBytes && entries.length > 0) {
          more = true;
          break;
        }
        entries.push({ hash });
        continue;
      }
      const pubsubTopic = row[1] as string;
      const stored = row[2] as Uint8Array;
      bytes += hash.length + Buffer.byteLength(pubsubTopic) + stored.length + entryFramingBytes;
      if (bytes > maxBytes && entries.length > 0) {
        more = true;
        break;
      }
      entries.push({ hash, pubsubTopic, message: WakuMessage.decode(stored) });
    }
    const last = entries[entries.length - 1];
    // Rows come in traversal order; pages go out ascending (see ArchivePage.entries).
    if (!q.forward) entries.reverse();
    return more && last !== undefined ? { entries, cursor: last.hash } : { entries };
  }

  /**
   * Applies the retention: removes messages whose timestamp is more than `maxAgeMs` from `now()`
   * either way (older ones, as nwaku's time retention, and ones dated that far ahead, which only an
   * archive filled before {@link MessageArchive.admit} judged timestamps, `insert`, or a clock set
   * back could hold), then the oldest by `(timestamp, hash)` while more than `maxMessages` remain,
   * then the oldest while the messages take more than `maxBytes`. One transaction. The node calls it
   * on a timer.
   *
   * @returns how many messages each bound removed.
   * @throws {ArchiveClosedError} after `close()`.
   */
  prune(): PruneResult {
    this.#assertOpen("prune()");
    return this.#transaction(() => this.#retention.apply(this.#now()));
  }

  /**
   * @returns how many messages are stored.
   * @throws {ArchiveClosedError} after `close()`.
   */
  count(): number {
    this.#assertOpen("count()");
    return this.#retention.count();
  }

  /** Closes the database (its WAL is checkpointed). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#commitTurnOrReport();
    this.#closed = true;
    this.#queryStatements.clear();
    this.#db.close();
  }

  #insertEntry(entry: ArchivedMessage): boolean {
    checkHash(entry.hash, "hash");
    if (entry.message.ephemeral === true) return false;
    return this.#insertEncoded(entry, WakuMessage.encode(entry.message));
  }

  #insertEncoded(entry: ArchivedMessage, bytes: Uint8Array): boolean {
    const message = entry.message;
    const timestamp =
      message.timestamp !== undefined && message.timestamp > 0n
        ? message.timestamp
        : BigInt(Math.trunc(this.#now())) * nanosPerMilli;
    const result = this.#insertStatement.run(
      entry.hash,
      entry.pubsubTopic,
      message.contentTopic,
      timestamp,
      bytes,
      entry.peer ?? null,
    );
    return Number(result.changes) > 0;
  }

  #statement(sql: string): StatementSync {
    let statement = this.#queryStatements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      // Rows as arrays: node:sqlite builds a fresh object per row otherwise, which costs more than
      // the query itself (measured ~4× on a page of 100).
      statement.setReturnArrays(true);
      this.#queryStatements.set(sql, statement);
    }
    return statement;
  }

  #transaction<T>(body: () => T): T {
    this.#commitTurn();
    // IMMEDIATE takes the write lock up front, so a concurrent writer fails at BEGIN (after the busy
    // timeout) rather than halfway through the batch.
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = body();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new ArchiveClosedError(operation);
  }
}

/** The arrival rules of {@link MessageArchive.admit}, resolved. */
interface Admission {
  /** Undefined: timestamps are not judged. */
  readonly maxSkewNs: bigint | undefined;
  readonly quota: Required<PeerQuota>;
  readonly isExempt: (peer: string) => boolean;
}

function resolveAdmission(init: ArchiveInit): Admission {
  const { maxTimestampSkewMs, peerQuota } = resolveAdmissionLimits(init);
  return {
    maxSkewNs: Number.isFinite(maxTimestampSkewMs)
      ? BigInt(maxTimestampSkewMs) * nanosPerMilli
      : undefined,
    quota: peerQuota,
    isExempt: init.isQuotaExempt ?? (() => false),
  };
}

function checkHash(hash: Uint8Array, name: string): void {
  if (!(hash instanceof Uint8Array) || hash.length !== hashLength) {
    throw new RangeError(`${name} must be a ${hashLength}-byte Waku message hash`);
  }
}
