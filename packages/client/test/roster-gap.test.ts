/**
 * `RosterBook.gapChanges`: what a member bridging a gap of epochs knows of them, so that its leaf
 * secret steps over the KeyUpdates it missed (docs/PROTOCOL.md, "Re-keying").
 */
import { defaultProvider } from "@orgchat/crypto";
import { describe, expect, it } from "vitest";
import type { EpochRoster, RosterChange } from "../src/epoch-roster.js";
import { RosterBook } from "../src/roster-book.js";
import { nextEpoch, seededLeaves } from "./roster-fixtures.js";

const provider = defaultProvider();
const limits = { rekeys: 1024, unknown: 4 };

/** Epochs 0..changes.length of one group, the roster of epoch i made by changes[i - 1]. */
function chain(changes: readonly RosterChange[], channelId = ""): EpochRoster[] {
  const leaves = seededLeaves(3, 7);
  const epochs: EpochRoster[] = [];
  let previous: EpochRoster | undefined;
  for (const [i, change] of ["genesis" as const, ...changes].entries()) {
    previous = nextEpoch(previous, leaves, new Uint8Array(8).fill(i + 1), change, channelId);
    epochs.push(previous);
  }
  return epochs;
}

describe("RosterBook.gapChanges", () => {
  it("names the KeyUpdates of the gap, and the epochs it holds nothing of", () => {
    const epochs = chain(["add", "rekey", "add", "rekey", "add", "rekey", "add"]);
    const book = new RosterBook(provider);
    // Held: 0, 2 (rekey), 3, 6 (rekey), 7. Missing: 1, 4 (a rekey), 5.
    for (const i of [0, 2, 3, 6, 7]) book.add(epochs[i] as EpochRoster);
    expect(book.gapChanges("", 0n, 7n, limits)).toEqual({
      rekeys: [2n, 6n],
      unknown: [1n, 4n, 5n],
    });
    // Only strictly inside the gap, and only this group.
    expect(book.gapChanges("", 2n, 6n, limits)).toEqual({ rekeys: [], unknown: [4n, 5n] });
    expect(book.gapChanges("other", 0n, 7n, limits)).toEqual({ rekeys: [], unknown: [] });
  });

  it("bounds both lists: the oldest KeyUpdates, and no unknown epochs when there are too many", () => {
    const epochs = chain(["rekey", "rekey", "rekey"]);
    const book = new RosterBook(provider);
    for (const epoch of epochs) book.add(epoch);
    expect(book.gapChanges("", 0n, 4n, { rekeys: 2, unknown: 4 }).rekeys).toEqual([1n, 2n]);
    // A gap of 2^20 epochs it knows nothing of: not enumerated.
    expect(book.gapChanges("", 3n, 3n + (1n << 20n), limits)).toEqual({ rekeys: [], unknown: [] });
    expect(book.gapChanges("", 3n, 9n, limits)).toEqual({ rekeys: [], unknown: [] });
    expect(book.gapChanges("", 3n, 8n, limits)).toEqual({ rekeys: [], unknown: [4n, 5n, 6n, 7n] });
  });
});
