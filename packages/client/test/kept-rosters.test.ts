/**
 * `KeptRosters`: a start builds each group's newest kept roster only; an older kept one (an owner's
 * retained epoch) is built from its stored records when first read, is the roster that was stored,
 * and a corrupted record of it is refused then (`StoreCorruptedError`), not at start.
 */
import { toHex } from "@orgchat/base";
import { defaultProvider, type Roster, type RosterLeaf, rosterHashOnce } from "@orgchat/crypto";
import { memoryStore } from "@orgchat/store";
import { describe, expect, it } from "vitest";
import type { EpochRoster } from "../src/epoch-roster.js";
import { StoreCorruptedError } from "../src/errors.js";
import { KeptRosters } from "../src/kept-rosters.js";
import { RosterBook } from "../src/roster-book.js";
import { loadRosterRecords, rosterRecordOps } from "../src/roster-records.js";
import { seededRandom } from "./helpers.js";
import { nextEpoch, seededLeaves } from "./roster-fixtures.js";

const provider = defaultProvider();
const space = "org/test";

/** Eight epochs of one group, each adding a leaf: stored as a snapshot and deltas, all kept. */
async function storedChain() {
  const store = memoryStore();
  const random = seededRandom(11);
  const book = new RosterBook(provider);
  const epochs: EpochRoster[] = [];
  let leaves: Array<RosterLeaf | undefined> = seededLeaves(40, 1);
  let previous: EpochRoster | undefined;
  for (let i = 0; i < 8; i++) {
    if (i > 0) leaves = [...leaves, ...seededLeaves(1, 100 + i)];
    const epoch = nextEpoch(previous, Object.freeze(leaves.slice()), random(8));
    book.add(epoch);
    await store.batch(rosterRecordOps(book, space, epoch));
    epochs.push(epoch);
    previous = epoch;
  }
  return { store, epochs };
}

async function load(store: ReturnType<typeof memoryStore>) {
  const book = new RosterBook(provider);
  const kept = new KeptRosters(provider, space, (keyIdHex) => book.get(keyIdHex)?.roster);
  await loadRosterRecords(store, space, book, new Map(), kept);
  return { book, kept };
}

const plain = (roster: Roster | undefined) =>
  roster?.map((leaf) => (leaf === undefined ? undefined : toHex(leaf.identityKey)));

describe("kept rosters built at first use", () => {
  it("only the newest is built at start; an older one is built when read, equal to the stored one, once", async () => {
    const { store, epochs } = await storedChain();
    const kinds = new Set(
      [...(await load(store)).book.records.values()].map((record) => record.kind),
    );
    expect(kinds).toEqual(new Set(["snapshot", "delta"]));
    const { book, kept } = await load(store);
    expect(kept.built).toBe(0);
    for (const epoch of epochs) expect(book.get(toHex(epoch.keyId))).toBeDefined();
    const newest = epochs.at(-1) as EpochRoster;
    expect(plain(book.get(toHex(newest.keyId))?.roster)).toEqual(plain(newest.roster));
    expect(kept.built).toBe(0);
    const older = epochs[3] as EpochRoster;
    const built = book.get(toHex(older.keyId))?.roster;
    expect(kept.built).toBe(1);
    expect(Object.isFrozen(built)).toBe(true);
    expect(plain(built)).toEqual(plain(older.roster));
    expect(book.get(toHex(older.keyId))?.roster).toBe(built);
    // Checked once when built: the group's own check at the epoch's first use (the crypto
    // package's, through the same memo) hashes nothing more.
    let hashed = 0;
    const counting = {
      ...provider,
      sha256: (data: Uint8Array) => {
        hashed += data.length;
        return provider.sha256(data);
      },
    };
    expect(rosterHashOnce(counting, built as Roster)).toEqual(older.rosterHash);
    expect(hashed).toBe(0);
    for (const epoch of epochs) {
      expect(plain(book.get(toHex(epoch.keyId))?.roster)).toEqual(plain(epoch.roster));
    }
  });

  it("a corrupted record of an older kept roster: the start succeeds, reading that roster is StoreCorruptedError", async () => {
    const { store, epochs } = await storedChain();
    const older = epochs[2] as EpochRoster;
    const key = `rr/${toHex(older.keyId)}`;
    const bytes = (await store.get(space, key)) as Uint8Array;
    const damaged = bytes.slice();
    damaged[damaged.length - 1] = (damaged[damaged.length - 1] as number) ^ 1;
    await store.put(space, key, damaged);
    const { book, kept } = await load(store);
    expect(kept.built).toBe(0);
    const read = () => book.get(toHex(older.keyId))?.roster;
    expect(read).toThrow(StoreCorruptedError);
    expect(read).toThrow(key);
    // An earlier roster, not built from that record, is still read.
    const first = epochs[1] as EpochRoster;
    expect(plain(book.get(toHex(first.keyId))?.roster)).toEqual(plain(first.roster));
  });
});
