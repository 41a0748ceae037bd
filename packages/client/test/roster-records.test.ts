/**
 * Stored epoch rosters (`roster-records.ts`, docs/CLIENT.md "Epoch rosters"): binary snapshot and
 * delta records, a snapshot once the deltas would weigh more than half of one, pruning that keeps
 * the delta chains under kept rosters, a start that reads O(N) bytes whatever the number of epochs;
 * and the owner's snapshot publication policy (`roster-policy.ts`).
 */
import { defaultProvider, type Roster, type RosterLeaf, rosterHash } from "@orgchat/crypto";
import { memoryStore, type Store, type StoreOp } from "@orgchat/store";
import { describe, expect, it } from "vitest";
import { encodeJson, toHex } from "../src/encoding.js";
import type { EpochRoster } from "../src/epoch-roster.js";
import { RosterBook } from "../src/roster-book.js";
import { RosterCadence, snapshotDue, snapshotWireBytes } from "../src/roster-policy.js";
import {
  decodeRosterRecord,
  encodeRosterRecord,
  loadRosterRecords,
  newestEpochsKept,
  pruneRosterOps,
  rosterRecordOps,
  rosterRecordPolicy,
  snapshotRecordBytes,
} from "../src/roster-records.js";
import { seededRandom } from "./helpers.js";
import { nextEpoch, seededLeaves } from "./roster-fixtures.js";

const provider = defaultProvider();
const space = "org/test";

/** An owner's history: a genesis of `start` leaves, then one epoch per joiner (or removal). */
function history(start: number, epochs: number, channelId = ""): EpochRoster[] {
  const random = seededRandom(start * 7 + epochs);
  const out: EpochRoster[] = [];
  let roster: Array<RosterLeaf | undefined> = seededLeaves(start, start);
  const extra = seededLeaves(epochs, start + 1);
  let previous: EpochRoster | undefined;
  for (let epoch = 0; epoch <= epochs; epoch++) {
    if (epoch > 0) {
      roster = [...roster];
      // Every tenth epoch a removal, else a joiner.
      if (epoch % 10 === 0) roster[epoch % roster.length] = undefined;
      else roster.push(extra[epoch - 1]);
    }
    const change = epoch === 0 ? "genesis" : epoch % 10 === 0 ? "rekey" : "add";
    const record = nextEpoch(previous, roster, random(8), change, channelId);
    out.push(record);
    previous = record;
  }
  return out;
}

/** Records every epoch, without pruning. */
async function writeAll(
  store: Store,
  epochs: readonly EpochRoster[],
  format?: "json" | "binary",
): Promise<RosterBook> {
  const book = new RosterBook(provider);
  for (const epoch of epochs) {
    book.add(epoch);
    await store.batch(rosterRecordOps(book, space, epoch, format));
  }
  return book;
}

/** A memory store that counts the records and bytes read. */
function countingStore(): { store: Store; reads: { count: number; bytes: number } } {
  const inner = memoryStore();
  const reads = { count: 0, bytes: 0 };
  const get: Store["get"] = async (s, key, options) => {
    const value = await inner.get(s, key, options);
    reads.count++;
    reads.bytes += value?.length ?? 0;
    return value;
  };
  const store = new Proxy(inner, {
    get(target, property) {
      if (property === "get") return get;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store, reads };
}

function sameRoster(a: Roster, b: Roster): boolean {
  return a.length === b.length && toHex(rosterHash(provider, a)) === toHex(rosterHash(provider, b));
}

/** Records every epoch as the client does (add, write, prune to the newest `keepNewest`). */
async function record(
  store: Store,
  epochs: readonly EpochRoster[],
  keepNewest: number,
): Promise<{ book: RosterBook; written: number }> {
  const book = new RosterBook(provider);
  let written = 0;
  for (const [index, epoch] of epochs.entries()) {
    book.add(epoch);
    const ops: StoreOp[] = rosterRecordOps(book, space, epoch);
    const keep = new Set(
      epochs.slice(Math.max(0, index + 1 - keepNewest), index + 1).map((e) => toHex(e.keyId)),
    );
    ops.push(...pruneRosterOps(book, space, keep));
    for (const op of ops) if (op.type === "put") written += op.value.length;
    await store.batch(ops);
  }
  return { book, written };
}

describe("roster records", () => {
  it("encode and decode snapshots and deltas, and refuse what is not a record", () => {
    const [genesis, next] = history(20, 1);
    if (genesis === undefined || next === undefined) throw new Error("no history");
    const snapshot = encodeRosterRecord(
      genesis,
      { kind: "snapshot", roster: genesis.roster },
      true,
    );
    expect(snapshot.length).toBe(snapshotRecordBytes(genesis));
    const decoded = decodeRosterRecord(snapshot);
    expect(decoded?.body.kind).toBe("snapshot");
    expect(decoded?.kept).toBe(true);
    if (decoded?.body.kind !== "snapshot") return;
    expect(sameRoster(decoded.body.roster, genesis.roster)).toBe(true);
    expect(decoded.header.epoch).toBe(0n);
    // The keys are views into one copy of the record: the store's buffer may change afterwards.
    snapshot.fill(0xee, snapshot.length - 200);
    expect(sameRoster(decoded.body.roster, genesis.roster)).toBe(true);
    const decodedAgain = decodeRosterRecord(
      encodeRosterRecord(genesis, { kind: "snapshot", roster: genesis.roster }, true),
    );
    const leafBuffers = new Set(
      decodedAgain?.body.kind === "snapshot"
        ? decodedAgain.body.roster.map((leaf) => leaf?.identityKey.buffer)
        : [],
    );
    expect(leafBuffers.size).toBe(1);
    const delta = encodeRosterRecord(
      next,
      { kind: "delta", delta: { removedLeaves: [3], leaves: [], leafCount: 21 } },
      false,
    );
    expect(delta.length).toBeLessThan(200);
    const back = decodeRosterRecord(delta);
    expect(back?.kept).toBe(false);
    expect(back?.body.kind === "delta" && back.body.delta.removedLeaves).toEqual([3]);
    // Truncated, trailing bytes, another version, a leaf outside the roster.
    expect(decodeRosterRecord(snapshot.slice(0, -1))).toBeUndefined();
    expect(decodeRosterRecord(new Uint8Array([...delta, 0]))).toBeUndefined();
    const version = snapshot.slice();
    version[0] = 9;
    expect(decodeRosterRecord(version)).toBeUndefined();
    const outside = encodeRosterRecord(
      next,
      { kind: "delta", delta: { removedLeaves: [30], leaves: [], leafCount: 21 } },
      true,
    );
    expect(decodeRosterRecord(outside)).toBeUndefined();
    expect(decodeRosterRecord(encodeJson(genesis))).toBeUndefined();
  });

  it("a record handed over is read in place when it spans its buffer, else copied", () => {
    const [genesis] = history(20, 0);
    if (genesis === undefined) throw new Error("no history");
    const encode = () =>
      encodeRosterRecord(genesis, { kind: "snapshot", roster: genesis.roster }, true);
    const leafBuffers = (bytes: Uint8Array, owned: boolean) => {
      const decoded = decodeRosterRecord(bytes, owned);
      if (decoded?.body.kind !== "snapshot") throw new Error("not a snapshot");
      expect(sameRoster(decoded.body.roster, genesis.roster)).toBe(true);
      return new Set(decoded.body.roster.map((leaf) => leaf?.identityKey.buffer));
    };
    // Handed over, the whole buffer: the keys are views into it (no copy).
    const whole = encode();
    expect(whole.byteOffset === 0 && whole.byteLength === whole.buffer.byteLength).toBe(true);
    const inPlace = leafBuffers(whole, true);
    expect(inPlace.size).toBe(1);
    expect(inPlace.has(whole.buffer)).toBe(true);
    // Not handed over: one copy of it.
    const kept = leafBuffers(whole, false);
    expect(kept.size).toBe(1);
    expect(kept.has(whole.buffer)).toBe(false);
    // Handed over but a view of a larger buffer (the memory store lists a space's values as views
    // of one buffer): copied (no key holds more than its record).
    const record = encode();
    const larger = new Uint8Array(record.length + 64);
    larger.set(record, 32);
    const view = larger.subarray(32, 32 + record.length);
    const copied = leafBuffers(view, true);
    expect(copied.size).toBe(1);
    expect(copied.has(larger.buffer)).toBe(false);
  });

  it("writes deltas between snapshots, a snapshot before the deltas weigh half of one", async () => {
    const epochs = history(1_000, 300);
    const { store } = countingStore();
    const { book, written } = await record(store, epochs, 300);
    const kinds = [...book.records.values()].map((info) => info.kind);
    const snapshots = kinds.filter((kind) => kind === "snapshot").length;
    // One joiner per epoch: ~110-byte deltas against a ~100 KB snapshot.
    expect(snapshots).toBeGreaterThanOrEqual(1);
    expect(snapshots).toBeLessThanOrEqual(2);
    for (const info of book.records.values()) {
      const epoch = epochs[Number(info.epoch)] as EpochRoster;
      expect(info.chainBytes).toBeLessThanOrEqual(
        rosterRecordPolicy.maxDeltaShare * snapshotRecordBytes(epoch),
      );
    }
    // The JSON format wrote a full roster per epoch: ~300 × 130 KB.
    const json = epochs.length * encodeJson(epochs[0]).length; // (a lower bound: rosters grow)
    expect(written * 50).toBeLessThan(json);
  });

  it("a start reads O(N) bytes after 500 epochs, and the rosters kept come back verified", async () => {
    const epochs = history(1_000, 500);
    const { store, reads } = countingStore();
    const { book } = await record(store, epochs, 3);
    const restarted = new RosterBook(provider);
    await loadRosterRecords(store, space, restarted);
    const newest = epochs.at(-1) as EpochRoster;
    const snapshot = snapshotRecordBytes(newest);
    // At most the chain under the kept rosters: a snapshot and half a snapshot of deltas.
    expect(reads.bytes).toBeLessThanOrEqual(
      (1 + rosterRecordPolicy.maxDeltaShare) * snapshot + 3 * 1_000,
    );
    expect(reads.count).toBeLessThan(500);
    // The rosters kept, and the snapshot their chain starts from (dropped at the next prune).
    const bases = [...restarted.keys()].filter((k) => !book.has(k));
    expect(bases.map((k) => restarted.records.get(k)?.kind)).toEqual(["snapshot"]);
    expect([...restarted.keys()].filter((k) => book.has(k)).sort()).toEqual(
      [...book.keys()].sort(),
    );
    for (const epoch of epochs.slice(-3)) {
      expect(sameRoster(restarted.get(toHex(epoch.keyId))?.roster ?? [], epoch.roster)).toBe(true);
    }
    // Consecutive epochs share their leaves.
    const [a, b] = epochs.slice(-3).map((e) => restarted.get(toHex(e.keyId))?.roster);
    expect(a?.[5]).toBe(b?.[5]);
  });

  it("pruning keeps the delta chain under a kept roster, rewritten as not kept", async () => {
    const epochs = history(200, 12);
    const { store } = countingStore();
    const book = await writeAll(store, epochs);
    const keep = new Set([toHex((epochs.at(-1) as EpochRoster).keyId)]);
    await store.batch(pruneRosterOps(book, space, keep));
    expect([...book.keys()]).toEqual([...keep]);
    // Every record is a link of the chain from the genesis snapshot: kept on disk.
    expect(await store.keys(space, { prefix: "rr/" })).toHaveLength(epochs.length);
    const again = new RosterBook(provider);
    await loadRosterRecords(store, space, again);
    // The deltas between were rewritten as not kept: only the base snapshot and the kept roster.
    expect([...again.keys()]).toEqual([toHex((epochs[0] as EpochRoster).keyId), ...keep]);
    // The named epochs are still told apart from foreign ones.
    expect(book.named(toHex((epochs[3] as EpochRoster).keyId))).toEqual({
      channelId: "",
      epoch: 3n,
    });
  });

  it("refuses a kept roster that does not hash as recorded, and a delta without its base", async () => {
    const epochs = history(50, 2);
    const { store } = countingStore();
    await writeAll(store, epochs);
    const last = epochs.at(-1) as EpochRoster;
    const key = `rr/${toHex(last.keyId)}`;
    const bytes = (await store.get(space, key)) as Uint8Array;
    const damaged = bytes.slice();
    damaged[damaged.length - 1] = (damaged[damaged.length - 1] as number) ^ 1;
    await store.put(space, key, damaged);
    await expect(loadRosterRecords(store, space, new RosterBook(provider))).rejects.toThrow(/rr\//);
    await store.put(space, key, bytes);
    await store.delete(space, `rr/${toHex((epochs[1] as EpochRoster).keyId)}`);
    await expect(loadRosterRecords(store, space, new RosterBook(provider))).rejects.toThrow(/rr\//);
  });

  it("reads the JSON records of the earlier format, and prunes them", async () => {
    const epochs = history(10, 3);
    const { store } = countingStore();
    await writeAll(store, epochs, "json");
    const loaded = new RosterBook(provider);
    expect(await loadRosterRecords(store, space, loaded)).toBe(4);
    expect(
      sameRoster(
        loaded.get(toHex((epochs[2] as EpochRoster).keyId))?.roster ?? [],
        (epochs[2] as EpochRoster).roster,
      ),
    ).toBe(true);
    const newest = toHex((epochs[3] as EpochRoster).keyId);
    await store.batch(pruneRosterOps(loaded, space, new Set([newest])));
    expect(await store.keys(space, { prefix: "roster/" })).toEqual([`roster/${newest}`]);
    // The next epoch after a JSON one is a snapshot (the JSON record is no delta base).
    const next = history(10, 4).at(-1) as EpochRoster;
    const ops = rosterRecordOps(loaded, space, {
      ...next,
      previousKeyId: (epochs[3] as EpochRoster).keyId,
    });
    const put = ops[0];
    expect(put?.type === "put" && decodeRosterRecord(put.value)?.body.kind).toBe("snapshot");
  });
});

describe("roster snapshot publication (owner)", () => {
  it("snapshotDue: genesis, too large, unknown, and once the deltas reach a snapshot", () => {
    const base = {
      change: "add" as const,
      deltaFits: true,
      deltaBytes: 300,
      snapshotBytes: 100_000,
    };
    expect(snapshotDue({ ...base, change: "genesis", deltaBytesSinceSnapshot: 0 })).toBe(true);
    expect(snapshotDue({ ...base, deltaFits: false, deltaBytesSinceSnapshot: 0 })).toBe(true);
    expect(snapshotDue({ ...base, deltaBytesSinceSnapshot: undefined })).toBe(true);
    expect(snapshotDue({ ...base, deltaBytesSinceSnapshot: 90_000 })).toBe(false);
    expect(snapshotDue({ ...base, deltaBytesSinceSnapshot: 99_700 })).toBe(true);
    // A small group: not before a history page's worth of deltas.
    const small = { ...base, snapshotBytes: 1_000 };
    expect(snapshotDue({ ...small, deltaBytesSinceSnapshot: 2_000 })).toBe(false);
    expect(snapshotDue({ ...small, deltaBytesSinceSnapshot: 32 * 1024 })).toBe(true);
  });

  it("RosterCadence counts per group from the last snapshot", () => {
    const cadence = new RosterCadence();
    cadence.noteDelta("o", "", 100);
    expect(cadence.since("o", "")).toBeUndefined();
    cadence.noteSnapshot("o", "");
    cadence.noteDelta("o", "", 100);
    cadence.noteDelta("o", "", 50);
    cadence.noteDelta("o", "board", 50);
    expect(cadence.since("o", "")).toBe(150);
    expect(cadence.since("o", "board")).toBeUndefined();
    expect(snapshotWireBytes(seededLeaves(2_500, 1))).toBe(2_500 * 104 + 3 * 320);
  });
});

describe("newestEpochsKept", () => {
  it("keeps the newest epochs' rosters, a fork's siblings together, at most twice as many rosters", () => {
    // Strict fork script 118: e9, two at e8, two at e7 (the winner's Welcome of e7 came late).
    const fork: Array<[string, bigint]> = [
      ["e6a", 6n],
      ["e7a", 7n],
      ["e8a", 8n],
      ["e9", 9n],
      ["e7b", 7n],
      ["e6b", 6n],
      ["e8b", 8n],
    ];
    expect(newestEpochsKept(fork, 4).sort()).toEqual(
      ["e9", "e8a", "e8b", "e7a", "e7b", "e6a", "e6b"].sort(),
    );
    expect(newestEpochsKept(fork, 2).sort()).toEqual(["e9", "e8a", "e8b"].sort());
    // No fork: the newest four.
    const chain: Array<[string, bigint]> = [1n, 2n, 3n, 4n, 5n, 6n].map((e) => [`e${e}`, e]);
    expect(newestEpochsKept(chain, 4)).toEqual(["e6", "e5", "e4", "e3"]);
    // Many siblings of one epoch (signed forks): never more than twice the epochs.
    const wide: Array<[string, bigint]> = Array.from({ length: 20 }, (_, i) => [`s${i}`, 9n]);
    expect(newestEpochsKept(wide, 4)).toHaveLength(8);
  });
});
