/**
 * The archive's retention (what {@link MessageArchive.prune} removes): by age, by count and by
 * total bytes, oldest first by `(timestamp, hash)`, the order Store v3 pages in.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { defaultPeerQuota } from "./archive-limits.js";

/**
 * How long and how much the archive keeps. `MessageArchive.prune` applies it; the node calls
 * `prune()` on a timer. `Number.POSITIVE_INFINITY` disables a bound.
 */
export interface ArchiveRetention {
  /** Messages whose timestamp is older than `now - maxAgeMs` are removed. @default 30 days */
  readonly maxAgeMs?: number;
  /** When more are stored, the oldest by `(timestamp, hash)` are removed. @default 1_000_000 */
  readonly maxMessages?: number;
  /**
   * When the stored messages (their encoded bytes) take more than this, the oldest by
   * `(timestamp, hash)` are removed until they fit. @default 10 GiB
   */
  readonly maxBytes?: number;
}

/**
 * The retention applied when `ArchiveInit.retention` leaves a bound out.
 *
 * `maxBytes` (10 GiB) is ten times the default per-peer byte quota (1 GiB), as `maxMessages` is ten
 * times the per-peer message quota: one peer id fills at most a tenth of the archive, and what
 * bounds the disk whatever the number of peer ids (anyone can make new ones) is this total. At the
 * 150 KiB message cap the count bound alone allowed about 146 GiB; honest traffic (a few KiB a
 * message) reaches the count bound first. Past it the oldest go first, as with the count bound: a
 * flood pushes old messages out sooner, it never makes the node keep more, and a client that needs
 * older messages finds them at another store or hears them again (docs/SECURITY.md).
 */
export const defaultArchiveRetention: Required<ArchiveRetention> = {
  maxAgeMs: 30 * 24 * 60 * 60 * 1000,
  maxMessages: 1_000_000,
  maxBytes: 10 * defaultPeerQuota.maxBytes,
};

/** What one {@link MessageArchive.prune} removed, by the bound that removed it. */
export interface PruneResult {
  readonly removedByAge: number;
  readonly removedByCount: number;
  /** Removed to bring the archive under `retention.maxBytes`. */
  readonly removedByBytes: number;
}

/**
 * Applies the defaults of a retention and checks it.
 * @param retention - the bounds given (each optional)
 * @returns every bound
 * @throws {RangeError} a bound is not a positive number (an integer for counts and bytes) or
 *   `Number.POSITIVE_INFINITY`
 */
export function resolveRetention(
  retention: ArchiveRetention | undefined,
): Required<ArchiveRetention> {
  const maxAgeMs = retention?.maxAgeMs ?? defaultArchiveRetention.maxAgeMs;
  const maxMessages = retention?.maxMessages ?? defaultArchiveRetention.maxMessages;
  const maxBytes = retention?.maxBytes ?? defaultArchiveRetention.maxBytes;
  if (!(maxAgeMs > 0)) {
    throw new RangeError(`retention.maxAgeMs must be a positive number, got ${maxAgeMs}`);
  }
  for (const [name, value] of [
    ["maxMessages", maxMessages],
    ["maxBytes", maxBytes],
  ] as const) {
    if (!(value > 0) || (Number.isFinite(value) && !Number.isInteger(value))) {
      throw new RangeError(`retention.${name} must be a positive integer, got ${value}`);
    }
  }
  return { maxAgeMs, maxMessages, maxBytes };
}

const nanosPerMilli = 1_000_000n;
const sqlIntegerMax = 2n ** 63n - 1n;

/** Clamps to SQLite's 64-bit integers (a huge retention would not bind otherwise). */
export function toSqlInteger(value: bigint): bigint {
  if (value > sqlIntegerMax) return sqlIntegerMax;
  return value < -sqlIntegerMax ? -sqlIntegerMax : value;
}

/** Rows read per step of the byte retention (their sizes only, oldest first). */
const byteScanRows = 512;

/**
 * The retention's statements over one archive database. `apply` runs inside the caller's
 * transaction.
 */
export class Retention {
  readonly #bounds: Required<ArchiveRetention>;
  readonly #byAge: StatementSync;
  readonly #oldest: StatementSync;
  readonly #count: StatementSync;
  readonly #bytes: StatementSync;
  readonly #oldestSizes: StatementSync;

  /**
   * @param db - the archive's database, at `archiveSchemaVersion` (it has `archive_usage`)
   * @param bounds - the resolved retention
   */
  constructor(db: DatabaseSync, bounds: Required<ArchiveRetention>) {
    this.#bounds = bounds;
    this.#byAge = db.prepare("DELETE FROM message WHERE timestamp < ? OR timestamp > ?");
    this.#oldest = db.prepare(
      "DELETE FROM message WHERE rowid IN (SELECT rowid FROM message ORDER BY timestamp, hash LIMIT ?)",
    );
    this.#count = db.prepare("SELECT count(*) AS n FROM message");
    this.#bytes = db.prepare("SELECT bytes FROM archive_usage WHERE id = 0");
    this.#oldestSizes = db.prepare(
      "SELECT length(message) AS size FROM message ORDER BY timestamp, hash LIMIT ?",
    );
    this.#oldestSizes.setReturnArrays(true);
  }

  /** @returns how many messages are stored (a count of the rows). */
  count(): number {
    return Number(this.#count.get()?.n ?? 0);
  }

  /** @returns the encoded bytes of the stored messages (the `archive_usage` total). */
  bytes(): number {
    return Number(this.#bytes.get()?.bytes ?? 0);
  }

  /**
   * Removes messages dated more than `maxAgeMs` from `nowMs` either way, then the oldest while more
   * than `maxMessages` remain, then the oldest while they take more than `maxBytes`. The byte bound
   * reads the sizes of the oldest rows, `byteScanRows` at a time, only as far as the excess goes.
   * @param nowMs - the node's clock
   * @returns how many each bound removed
   */
  apply(nowMs: number): PruneResult {
    const { maxAgeMs, maxMessages, maxBytes } = this.#bounds;
    let removedByAge = 0;
    if (Number.isFinite(maxAgeMs)) {
      const now = Math.trunc(nowMs);
      const cutoff = toSqlInteger(BigInt(now - Math.trunc(maxAgeMs)) * nanosPerMilli);
      const horizon = toSqlInteger(BigInt(now + Math.trunc(maxAgeMs)) * nanosPerMilli);
      removedByAge = Number(this.#byAge.run(cutoff, horizon).changes);
    }
    let removedByCount = 0;
    if (Number.isFinite(maxMessages)) {
      const excess = this.count() - maxMessages;
      if (excess > 0) removedByCount = Number(this.#oldest.run(excess).changes);
    }
    let removedByBytes = 0;
    if (Number.isFinite(maxBytes)) {
      let excess = this.bytes() - maxBytes;
      while (excess > 0) {
        const sizes = this.#oldestSizes.all(byteScanRows) as unknown as [number][];
        let rows = 0;
        for (const [size] of sizes) {
          if (excess <= 0) break;
          excess -= size;
          rows++;
        }
        if (rows === 0) break;
        removedByBytes += Number(this.#oldest.run(rows).changes);
      }
    }
    return { removedByAge, removedByCount, removedByBytes };
  }
}
