import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { WakuMessage } from "@waku/proto";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ArchivedMessage,
  type ArchiveInit,
  type ArchiveQuery,
  archiveSchemaVersion,
  defaultArchiveRetention,
  defaultPeerQuota,
  MessageArchive,
} from "../src/archive.ts";
import {
  ArchiveSchemaVersionError,
  isArchiveClosedError,
  isArchiveOpenError,
  isArchiveSchemaVersionError,
  isCursorNotFoundError,
} from "../src/errors.ts";
import {
  archived,
  baseTimeNs,
  contentTopic,
  hex,
  nsPerMs,
  otherContentTopic,
  otherPubsubTopic,
  pubsubTopic,
  series,
  storeOrder,
} from "./store-fixtures.ts";

const open: MessageArchive[] = [];
const tempDirs: string[] = [];

function openArchive(init: Partial<ArchiveInit> = {}): MessageArchive {
  const archive = MessageArchive.open({ path: ":memory:", ...init });
  open.push(archive);
  return archive;
}

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orgchat-archive-"));
  tempDirs.push(dir);
  return dir;
}

function userVersion(file: string): number {
  const db = new DatabaseSync(file);
  try {
    return Number(db.prepare("PRAGMA user_version").get()?.user_version);
  } finally {
    db.close();
  }
}

afterEach(() => {
  for (const archive of open.splice(0)) archive.close();
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const page = (overrides: Partial<ArchiveQuery> = {}): ArchiveQuery => ({
  forward: true,
  pageSize: 100,
  includeData: true,
  ...overrides,
});

/** Encoded bytes of an entry, as the archive counts them. */
const sizeOf = (entry: ArchivedMessage) => WakuMessage.encode(entry.message).length;

const hashesOf = (entries: readonly { hash: Uint8Array }[]) => entries.map((e) => hex(e.hash));

/** Follows cursors to the end, checking each page's order and cursor rules; returns all hashes. */
function pageThrough(archive: MessageArchive, query: ArchiveQuery): string[][] {
  const pages: string[][] = [];
  let cursor: Uint8Array | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const result = archive.query({ ...query, ...(cursor === undefined ? {} : { cursor }) });
    expect(result.entries.length).toBeLessThanOrEqual(query.pageSize);
    pages.push(hashesOf(result.entries));
    if (result.cursor === undefined) return pages;
    if (query.maxBytes === undefined) expect(result.entries.length).toBe(query.pageSize);
    // The cursor is the last entry in traversal order: newest when forward, oldest when backward.
    const boundary = query.forward ? result.entries.at(-1) : result.entries[0];
    expect(hex(result.cursor)).toBe(hex(boundary?.hash ?? new Uint8Array()));
    cursor = result.cursor;
  }
  throw new Error("paging did not end");
}

describe("MessageArchive: storing", () => {
  it("returns a stored message field for field", () => {
    const archive = openArchive();
    const entry = archived({ index: 1, meta: new Uint8Array([9, 8, 7]), payloadBytes: 256 });
    expect(archive.insert(entry)).toBe(true);
    const result = archive.query(page());
    expect(result.cursor).toBeUndefined();
    expect(result.entries).toHaveLength(1);
    const [stored] = result.entries;
    expect(hex(stored?.hash ?? new Uint8Array())).toBe(hex(entry.hash));
    expect(stored?.pubsubTopic).toBe(pubsubTopic);
    expect(stored?.message?.contentTopic).toBe(entry.message.contentTopic);
    expect(stored?.message?.timestamp).toBe(entry.message.timestamp);
    expect(stored?.message?.version).toBe(0);
    expect(Array.from(stored?.message?.payload ?? [])).toEqual(Array.from(entry.message.payload));
    expect(Array.from(stored?.message?.meta ?? [])).toEqual([9, 8, 7]);
  });

  it("is idempotent by hash", () => {
    const archive = openArchive();
    const a = archived({ index: 1 });
    const b = archived({ index: 2 });
    expect(archive.insert(a)).toBe(true);
    expect(archive.insert(a)).toBe(false);
    expect(archive.insertMany([a, b, b])).toBe(1);
    expect(archive.count()).toBe(2);
  });

  it("inserts a batch in one transaction, all or nothing", () => {
    const archive = openArchive();
    const good = archived({ index: 1 });
    const broken = { ...archived({ index: 2 }), hash: new Uint8Array(31) };
    expect(() => archive.insertMany([good, broken])).toThrow(RangeError);
    expect(archive.count()).toBe(0);
    expect(archive.insertMany(series())).toBe(57);
  });

  it("does not store ephemeral messages", () => {
    const archive = openArchive();
    expect(archive.insert(archived({ index: 1, ephemeral: true }))).toBe(false);
    expect(archive.count()).toBe(0);
  });

  it("files a message without timestamp under its receive time, bytes unchanged", () => {
    const nowMs = 1_760_000_000_000;
    const archive = openArchive({ now: () => nowMs });
    const entry = archived({ index: 1, timestamp: null });
    const older = archived({ index: 2, timestamp: BigInt(nowMs - 1) * nsPerMs });
    archive.insertMany([entry, older]);
    const result = archive.query(page({ timeStart: BigInt(nowMs) * nsPerMs }));
    expect(hashesOf(result.entries)).toEqual([hex(entry.hash)]);
    expect(result.entries[0]?.message?.timestamp).toBeUndefined();
  });

  it("rejects a hash that is not 32 bytes", () => {
    const archive = openArchive();
    expect(() => archive.insert({ ...archived({ index: 1 }), hash: new Uint8Array(33) })).toThrow(
      RangeError,
    );
  });
});

describe("MessageArchive: queries", () => {
  it("bounds time ranges inclusively at both ends (ns)", () => {
    const archive = openArchive();
    const entries = Array.from({ length: 10 }, (_, index) => archived({ index }));
    archive.insertMany(entries);
    const t = (i: number) => baseTimeNs + BigInt(i) * nsPerMs;
    const result = archive.query(page({ timeStart: t(2), timeEnd: t(5) }));
    expect(hashesOf(result.entries)).toEqual(entries.slice(2, 6).map((e) => hex(e.hash)));
    expect(archive.query(page({ timeStart: t(3), timeEnd: t(3) })).entries).toHaveLength(1);
    expect(archive.query(page({ timeStart: t(3) + 1n, timeEnd: t(4) - 1n })).entries).toHaveLength(
      0,
    );
    expect(archive.query(page({ timeEnd: t(0) })).entries).toHaveLength(1);
  });

  it("filters by content topic and by pubsub topic", () => {
    const archive = openArchive();
    const a = archived({ index: 1 });
    const b = archived({ index: 2, contentTopic: otherContentTopic });
    const c = archived({ index: 3, pubsubTopic: otherPubsubTopic });
    const d = archived({ index: 4, contentTopic: "/orgchat/1/third/proto" });
    archive.insertMany([a, b, c, d]);
    const only = (q: Partial<ArchiveQuery>) => hashesOf(archive.query(page(q)).entries);
    expect(only({ pubsubTopic, contentTopics: [contentTopic] })).toEqual([hex(a.hash)]);
    expect(only({ pubsubTopic, contentTopics: [contentTopic, otherContentTopic] })).toEqual([
      hex(a.hash),
      hex(b.hash),
    ]);
    expect(only({ pubsubTopic })).toEqual([a, b, d].map((e) => hex(e.hash)));
    expect(only({ pubsubTopic: otherPubsubTopic })).toEqual([hex(c.hash)]);
    expect(only({ pubsubTopic: otherPubsubTopic, contentTopics: [otherContentTopic] })).toEqual([]);
    expect(only({})).toHaveLength(4);
  });

  it.each([true, false])(
    "pages 57 messages by 10 (forward: %s) with no gap or duplicate",
    (forward) => {
      const archive = openArchive();
      const entries = series();
      archive.insertMany(entries);
      const expected = storeOrder(entries).map((e) => hex(e.hash));
      const pages = pageThrough(
        archive,
        page({ forward, pageSize: 10, pubsubTopic, contentTopics: [contentTopic] }),
      );
      expect(pages.map((p) => p.length)).toEqual([10, 10, 10, 10, 10, 7]);
      // Each page is ascending, whatever the direction.
      for (const p of pages) {
        expect(p).toEqual(expected.filter((h) => p.includes(h)));
      }
      const all = (forward ? pages : [...pages].reverse()).flat();
      expect(all).toEqual(expected);
    },
  );

  it("pages backward like the js-waku client: cursor = first entry, stop on an empty page", () => {
    const archive = openArchive();
    const entries = series();
    archive.insertMany(entries);
    const seen: string[] = [];
    let cursor: Uint8Array | undefined;
    let pages = 0;
    for (;;) {
      const result = archive.query(
        page({ forward: false, pageSize: 10, ...(cursor === undefined ? {} : { cursor }) }),
      );
      if (result.entries.length === 0) break;
      pages++;
      seen.unshift(...hashesOf(result.entries));
      cursor = result.entries[0]?.hash;
    }
    expect(pages).toBe(6);
    expect(seen).toEqual(storeOrder(entries).map((e) => hex(e.hash)));
  });

  it("pages within a time range in both directions", () => {
    const archive = openArchive();
    const entries = series();
    archive.insertMany(entries);
    // Milliseconds 3..15 hold messages 9..47: 39 messages.
    const timeStart = baseTimeNs + 3n * nsPerMs;
    const timeEnd = baseTimeNs + 15n * nsPerMs;
    const expected = storeOrder(entries)
      .filter(
        (e) => (e.message.timestamp ?? 0n) >= timeStart && (e.message.timestamp ?? 0n) <= timeEnd,
      )
      .map((e) => hex(e.hash));
    expect(expected).toHaveLength(39);
    const forward = pageThrough(archive, page({ forward: true, pageSize: 7, timeStart, timeEnd }));
    expect(forward.flat()).toEqual(expected);
    const backward = pageThrough(
      archive,
      page({ forward: false, pageSize: 7, timeStart, timeEnd }),
    );
    expect([...backward].reverse().flat()).toEqual(expected);
  });

  it("accepts a cursor outside the time range (the tighter bound wins)", () => {
    const archive = openArchive();
    const entries = series();
    archive.insertMany(entries);
    const sorted = storeOrder(entries);
    const timeStart = baseTimeNs + 10n * nsPerMs;
    const early = sorted[0]?.hash as Uint8Array;
    const late = sorted.at(-1)?.hash as Uint8Array;
    const forward = archive.query(page({ timeStart, cursor: early, pageSize: 100 }));
    expect(forward.entries).toHaveLength(57 - 30);
    const backward = archive.query(
      page({ forward: false, timeEnd: baseTimeNs + 2n * nsPerMs, cursor: late }),
    );
    expect(backward.entries).toHaveLength(9);
  });

  it("looks up by hash, with or without data", () => {
    const archive = openArchive();
    const entries = series();
    archive.insertMany(entries);
    const wanted = [entries[40], entries[3], entries[17]] as ArchivedMessage[];
    const unknown = new Uint8Array(32).fill(7);
    const hashes = [...wanted.map((e) => e.hash), unknown];
    const withData = archive.query(page({ messageHashes: hashes }));
    expect(hashesOf(withData.entries)).toEqual(storeOrder(wanted).map((e) => hex(e.hash)));
    expect(
      withData.entries.every((e) => e.message !== undefined && e.pubsubTopic === pubsubTopic),
    ).toBe(true);
    const keysOnly = archive.query(page({ messageHashes: hashes, includeData: false }));
    expect(hashesOf(keysOnly.entries)).toEqual(hashesOf(withData.entries));
    expect(
      keysOnly.entries.every((e) => e.message === undefined && e.pubsubTopic === undefined),
    ).toBe(true);
    const paged = pageThrough(
      archive,
      page({ messageHashes: hashes, pageSize: 2, forward: false }),
    );
    expect([...paged].reverse().flat()).toEqual(hashesOf(withData.entries));
    expect(
      archive.query(page({ messageHashes: hashes, pubsubTopic: otherPubsubTopic })).entries,
    ).toEqual([]);
  });

  it("stops a page at maxBytes (at least one entry) and sets the cursor", () => {
    const archive = openArchive();
    const entries = Array.from({ length: 6 }, (_, index) =>
      archived({ index, payloadBytes: 1000 }),
    );
    archive.insertMany(entries);
    const expected = entries.map((e) => hex(e.hash));
    const pages = pageThrough(archive, page({ pageSize: 100, maxBytes: 2500 }));
    expect(pages.map((p) => p.length)).toEqual([2, 2, 2]);
    expect(pages.flat()).toEqual(expected);
    const backward = pageThrough(archive, page({ forward: false, pageSize: 100, maxBytes: 2500 }));
    expect(backward).toEqual([expected.slice(4), expected.slice(2, 4), expected.slice(0, 2)]);
    expect(archive.query(page({ maxBytes: 1 })).entries).toHaveLength(1);
    expect(
      archive.query(page({ maxBytes: 1, includeData: false, pageSize: 3 })).entries,
    ).toHaveLength(1);
  });

  it("refuses an unknown cursor with CursorNotFoundError", () => {
    const archive = openArchive();
    archive.insertMany(series());
    let caught: unknown;
    try {
      archive.query(page({ cursor: new Uint8Array(32).fill(1) }));
    } catch (error) {
      caught = error;
    }
    expect(isCursorNotFoundError(caught)).toBe(true);
    expect(() => archive.query(page({ cursor: new Uint8Array(5) }))).toThrow(RangeError);
    expect(() => archive.query(page({ pageSize: 0 }))).toThrow(RangeError);
  });
});

describe("MessageArchive: retention", () => {
  it("removes messages older than maxAgeMs", () => {
    const dayMs = 86_400_000;
    let nowMs = Number(baseTimeNs / nsPerMs);
    const archive = openArchive({ now: () => nowMs, retention: { maxAgeMs: dayMs } });
    const entries = Array.from({ length: 10 }, (_, index) =>
      archived({ index, timestamp: baseTimeNs + BigInt(index) * 3_600_000n * nsPerMs }),
    );
    archive.insertMany(entries);
    expect(archive.prune()).toEqual({ removedByAge: 0, removedByCount: 0, removedByBytes: 0 });
    // A day after message 4 (4 h after the first), messages 0..3 are older than a day.
    nowMs += 4 * 3_600_000 + dayMs;
    expect(archive.prune()).toEqual({ removedByAge: 4, removedByCount: 0, removedByBytes: 0 });
    expect(archive.count()).toBe(6);
    expect(hashesOf(archive.query(page()).entries)).toEqual(
      entries.slice(4).map((e) => hex(e.hash)),
    );
  });

  it("removes the oldest beyond maxMessages", () => {
    const archive = openArchive({
      now: () => Number(baseTimeNs / nsPerMs),
      retention: { maxMessages: 20 },
    });
    const entries = series();
    archive.insertMany(entries);
    expect(archive.prune()).toEqual({ removedByAge: 0, removedByCount: 37, removedByBytes: 0 });
    expect(hashesOf(archive.query(page()).entries)).toEqual(
      storeOrder(entries)
        .slice(37)
        .map((e) => hex(e.hash)),
    );
    expect(archive.prune()).toEqual({ removedByAge: 0, removedByCount: 0, removedByBytes: 0 });
  });

  it("removes the oldest while the messages take more than maxBytes, from many peers", () => {
    // 40 messages of about 1 KiB from 40 peer ids (each far under its quota): only the total binds.
    const entries = Array.from({ length: 40 }, (_, index) =>
      archived({ index, payloadBytes: 1000 + index, peer: `peer-${index}` }),
    );
    const total = entries.reduce((sum, e) => sum + sizeOf(e), 0);
    const newest = entries.slice(-25);
    const maxBytes = newest.reduce((sum, e) => sum + sizeOf(e), 0);
    const archive = openArchive({
      now: () => Number(baseTimeNs / nsPerMs),
      retention: { maxBytes },
    });
    for (const entry of entries) expect(archive.admit(entry)).toBe("stored");
    expect(total).toBeGreaterThan(maxBytes);
    expect(archive.prune()).toEqual({ removedByAge: 0, removedByCount: 0, removedByBytes: 15 });
    expect(hashesOf(archive.query(page()).entries)).toEqual(newest.map((e) => hex(e.hash)));
    expect(archive.prune()).toEqual({ removedByAge: 0, removedByCount: 0, removedByBytes: 0 });
    // One byte over: the oldest goes, whatever its size.
    const late = archived({ index: 99, payloadBytes: 1 });
    archive.insert(late);
    expect(archive.prune()).toEqual({ removedByAge: 0, removedByCount: 0, removedByBytes: 1 });
    expect(archive.count()).toBe(25);
    // Retention frees the peers' quotas as it removes their messages.
    expect(archive.peerUsage("peer-0")).toEqual({ messages: 0, bytes: 0 });
  });

  it("removes past maxBytes in more than one scan step (over 512 rows)", () => {
    const entries = Array.from({ length: 1300 }, (_, index) => archived({ index }));
    const archive = openArchive({
      now: () => Number(baseTimeNs / nsPerMs),
      retention: { maxBytes: entries.slice(-100).reduce((sum, e) => sum + sizeOf(e), 0) },
    });
    archive.insertMany(entries);
    expect(archive.prune().removedByBytes).toBe(1200);
    expect(hashesOf(archive.query(page()).entries)).toEqual(
      entries.slice(-100).map((e) => hex(e.hash)),
    );
  });

  it("bounds the total at ten peer quotas by default", () => {
    expect(defaultArchiveRetention.maxBytes).toBe(10 * defaultPeerQuota.maxBytes);
    expect(defaultArchiveRetention.maxBytes).toBe(10 * 1024 ** 3);
  });

  it("refuses invalid retention bounds", () => {
    expect(() => openArchive({ retention: { maxAgeMs: 0 } })).toThrow(RangeError);
    expect(() => openArchive({ retention: { maxMessages: 1.5 } })).toThrow(RangeError);
    expect(() => openArchive({ retention: { maxBytes: 0 } })).toThrow(RangeError);
    expect(() => openArchive({ retention: { maxBytes: 2.5 } })).toThrow(RangeError);
    const unbounded = openArchive({
      retention: {
        maxAgeMs: Number.POSITIVE_INFINITY,
        maxMessages: Number.POSITIVE_INFINITY,
        maxBytes: Number.POSITIVE_INFINITY,
      },
    });
    unbounded.insertMany(series());
    expect(unbounded.prune()).toEqual({ removedByAge: 0, removedByCount: 0, removedByBytes: 0 });
  });
});

describe("MessageArchive: file, schema and lifecycle", () => {
  it("keeps messages across close and reopen (WAL file)", () => {
    const file = path.join(tempDir(), "messages.sqlite");
    const first = MessageArchive.open({ path: file });
    first.insertMany(series());
    first.close();
    first.close();
    const db = new DatabaseSync(file);
    expect(db.prepare("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
    db.close();
    const second = openArchive({ path: file });
    expect(second.count()).toBe(57);
    expect(second.insert(series()[0] as ArchivedMessage)).toBe(false);
  });

  it("migrates an empty file to the current schema version", () => {
    const file = path.join(tempDir(), "empty.sqlite");
    fs.writeFileSync(file, "");
    openArchive({ path: file }).close();
    expect(archiveSchemaVersion).toBe(3);
    expect(userVersion(file)).toBe(archiveSchemaVersion);
  });

  it("migrates a version 2 file: its messages' bytes are counted once, then kept by triggers", () => {
    const file = path.join(tempDir(), "v2.sqlite");
    const entries = series();
    const first = MessageArchive.open({ path: file });
    first.insertMany(entries);
    first.close();
    // Back to version 2 as a file of that version was: no totals table, no triggers.
    const db = new DatabaseSync(file);
    db.exec(`
      DROP TRIGGER message_usage_added;
      DROP TRIGGER message_usage_removed;
      DROP TABLE archive_usage;
      PRAGMA user_version = 2;
    `);
    db.close();
    const total = entries.reduce((sum, e) => sum + sizeOf(e), 0);
    const newest = storeOrder(entries).slice(-10);
    const maxBytes = newest.reduce((sum, e) => sum + sizeOf(e), 0);
    const second = openArchive({
      path: file,
      now: () => Number(baseTimeNs / nsPerMs),
      retention: { maxBytes },
    });
    expect(userVersion(file)).toBe(3);
    const counted = new DatabaseSync(file);
    expect(counted.prepare("SELECT messages, bytes FROM archive_usage").get()).toEqual({
      messages: entries.length,
      bytes: total,
    });
    counted.close();
    expect(second.prune().removedByBytes).toBe(entries.length - 10);
    expect(hashesOf(second.query(page()).entries)).toEqual(newest.map((e) => hex(e.hash)));
  });

  it("refuses a file from a newer version and leaves it untouched", () => {
    const file = path.join(tempDir(), "future.sqlite");
    const db = new DatabaseSync(file);
    db.exec("PRAGMA user_version = 99");
    db.close();
    let caught: unknown;
    try {
      MessageArchive.open({ path: file });
    } catch (error) {
      caught = error;
    }
    expect(isArchiveSchemaVersionError(caught)).toBe(true);
    expect(caught).toMatchObject({
      name: ArchiveSchemaVersionError.errorName,
      found: 99,
      supported: archiveSchemaVersion,
    });
    expect((caught as Error).message).toMatch(/Upgrade the service node/);
    expect(userVersion(file)).toBe(99);
  });

  it("reports a file that is not a database, or a missing directory, as ArchiveOpenError", () => {
    const dir = tempDir();
    const file = path.join(dir, "not-a-database.sqlite");
    fs.writeFileSync(
      file,
      "this is not an SQLite database, just some text that is long enough".repeat(20),
    );
    for (const target of [file, path.join(dir, "missing", "messages.sqlite")]) {
      let caught: unknown;
      try {
        MessageArchive.open({ path: target });
      } catch (error) {
        caught = error;
      }
      expect(isArchiveOpenError(caught)).toBe(true);
    }
    expect(fs.existsSync(path.join(dir, "missing"))).toBe(false);
  });

  it("throws ArchiveClosedError after close", () => {
    const archive = MessageArchive.open({ path: ":memory:" });
    archive.close();
    for (const call of [
      () => archive.insert(archived({ index: 1 })),
      () => archive.insertMany([]),
      () => archive.query(page()),
      () => archive.prune(),
      () => archive.count(),
    ]) {
      let caught: unknown;
      try {
        call();
      } catch (error) {
        caught = error;
      }
      expect(isArchiveClosedError(caught)).toBe(true);
    }
  });
});

describe("commitPerTurn", () => {
  const rowsSeenByAnotherConnection = (file: string) => {
    const db = new DatabaseSync(file);
    try {
      return Number(db.prepare("SELECT count(*) AS n FROM message").get()?.n);
    } finally {
      db.close();
    }
  };
  const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const now = () => Number(baseTimeNs / nsPerMs);

  it("commits a turn's admissions together at its end; reads see them at once", async () => {
    const file = path.join(tempDir(), "turn.sqlite");
    const archive = openArchive({ path: file, now, commitPerTurn: true });
    const burst = series(20);
    for (const entry of burst) expect(archive.admit(entry)).toBe("stored");
    expect(archive.admit(burst[0] as ArchivedMessage)).toBe("duplicate");
    expect(archive.count()).toBe(20);
    expect(rowsSeenByAnotherConnection(file)).toBe(0);
    await endOfTurn();
    expect(rowsSeenByAnotherConnection(file)).toBe(20);
  });

  it("commits now on commit(), insertMany(), prune() and close()", async () => {
    const file = path.join(tempDir(), "turn.sqlite");
    const archive = openArchive({ path: file, now, commitPerTurn: true });
    const entries = series(8);
    archive.admit(entries[0] as ArchivedMessage);
    archive.commit();
    expect(rowsSeenByAnotherConnection(file)).toBe(1);
    archive.admit(entries[1] as ArchivedMessage);
    archive.insertMany([entries[2] as ArchivedMessage]);
    expect(rowsSeenByAnotherConnection(file)).toBe(3);
    archive.admit(entries[3] as ArchivedMessage);
    archive.prune();
    expect(rowsSeenByAnotherConnection(file)).toBe(4);
    archive.admit(entries[4] as ArchivedMessage);
    archive.close();
    expect(rowsSeenByAnotherConnection(file)).toBe(5);
    // The turn's scheduled commit finds the archive closed and does nothing.
    await endOfTurn();
  });

  it("without it, every admission is committed on its own", () => {
    const file = path.join(tempDir(), "plain.sqlite");
    const archive = openArchive({ path: file, now });
    archive.admit(archived({ index: 1 }));
    expect(rowsSeenByAnotherConnection(file)).toBe(1);
    archive.commit();
  });
});
