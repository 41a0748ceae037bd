/**
 * Newest-first catch-up of a keys topic (docs/CLIENT.md, "Epoch rosters"; `KeySync.catchUp`): an
 * owner that publishes a delta per epoch and a snapshot once the deltas since the last one weigh as
 * much as one (`snapshotDue`), and a newcomer that reads the topic from its newest message back
 * until it holds the roster it needs. What it reads depends on the distance to the newest snapshot,
 * not on the length of history; the deltas read before their snapshot wait in a bounded buffer.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import {
  defaultProvider,
  ed25519EnvelopeSigner,
  ed25519EnvelopeVerifier,
  type RosterLeaf,
  rosterHash,
} from "@orgchat/crypto";
import type { EpochRoster as WireEpochRoster } from "@orgchat/wire";
import { describe, expect, it } from "vitest";
import { hashId, toHex } from "../src/encoding.js";
import {
  type EpochRoster,
  openEpochRoster,
  rosterDeltaMessage,
  rosterSnapshotMessages,
  sealEpochRosters,
} from "../src/epoch-roster.js";
import { RosterBook, rosterBookLimits } from "../src/roster-book.js";
import { RosterCadence, snapshotDue, snapshotWireBytes } from "../src/roster-policy.js";
import { seededRandom } from "./helpers.js";
import { nextEpoch } from "./roster-fixtures.js";

const provider = defaultProvider();
const verify = ed25519EnvelopeVerifier(provider);
const ownerSecret = sha256(new TextEncoder().encode("catch-up owner"));
const orgKey = provider.ed25519PublicKey(ownerSecret);
const signer = ed25519EnvelopeSigner(provider, ownerSecret);

interface Published {
  readonly topic: string;
  readonly bytes: Uint8Array;
}

/**
 * An owner's keys topic: a genesis of `start` members, then `epochs` epochs of one joiner each,
 * a delta per epoch and a snapshot when `snapshotDue` says so.
 */
async function ownerHistory(
  start: number,
  epochs: number,
): Promise<{ topic: Published[]; last: EpochRoster; snapshots: number; snapshotBytes: number }> {
  const random = seededRandom(start + epochs);
  const cadence = new RosterCadence();
  const topic: Published[] = [];
  let snapshots = 0;
  let snapshotBytes = 0;
  let roster: Array<RosterLeaf | undefined> = [];
  let previous: EpochRoster | undefined;
  const seal = (messages: Parameters<typeof sealEpochRosters>[0]["messages"]) =>
    sealEpochRosters({ organizationId: orgKey, signer, clock: 1n, messages });
  for (let epoch = 0; epoch <= epochs; epoch++) {
    roster = [...roster];
    const joiners = epoch === 0 ? start : 1;
    for (let i = 0; i < joiners; i++) {
      roster.push({ identityKey: random(32), signingKey: random(32), prekey: random(32) });
    }
    const record = nextEpoch(previous, roster, random(8));
    const delta = previous === undefined ? undefined : rosterDeltaMessage(record, previous.roster);
    let deltaBytes = 0;
    if (delta !== undefined) {
      const [sealed] = await seal([delta]);
      if (sealed === undefined) throw new Error("not sealed");
      topic.push(sealed);
      deltaBytes = sealed.bytes.length;
    }
    const due = snapshotDue({
      change: record.change,
      deltaFits: delta !== undefined,
      deltaBytesSinceSnapshot: cadence.since("o", ""),
      deltaBytes,
      snapshotBytes: snapshotWireBytes(roster),
    });
    if (due) {
      const pages = await seal(rosterSnapshotMessages(record));
      topic.push(...pages);
      cadence.noteSnapshot("o", "");
      snapshots++;
      snapshotBytes = pages.reduce((sum, page) => sum + page.bytes.length, 0);
    } else {
      cadence.noteDelta("o", "", deltaBytes);
    }
    previous = record;
  }
  if (previous === undefined) throw new Error("no epoch");
  return { topic, last: previous, snapshots, snapshotBytes };
}

describe("newest-first catch-up of a keys topic", () => {
  it("a newcomer with 500 epochs of history reads about two snapshots' worth, and keeps two rosters", async () => {
    const { topic, last, snapshots, snapshotBytes } = await ownerHistory(1_000, 500);
    // History holds several snapshots (1,000 leaves ~ 105 KB; a delta ~ 300 B).
    expect(snapshots).toBeGreaterThanOrEqual(2);
    const target = toHex(last.keyId);
    const book = new RosterBook(provider);
    const caughtUp = () => {
      const newest = book.newest("");
      return (
        newest !== undefined && (book.highestEpoch("") ?? 0n) <= newest.epoch && book.has(target)
      );
    };
    let read = 0;
    let bytes = 0;
    let largest = 0;
    // Pages of 100, newest first, as `Sync.readNewestFirst` reads them.
    for (let end = topic.length; end > 0 && !caughtUp(); end -= 100) {
      for (const published of topic.slice(Math.max(0, end - 100), end).reverse()) {
        read++;
        bytes += published.bytes.length;
        largest = Math.max(largest, published.bytes.length);
        const message = await openEpochRoster(published.bytes, {
          organizationId: orgKey,
          contentTopic: published.topic,
          verify,
        });
        if (message === undefined) throw new Error("unopenable");
        book.receive(message, hashId(published.bytes), (keyIdHex) => keyIdHex === target);
      }
    }
    expect(caughtUp()).toBe(true);
    const all = topic.reduce((sum, published) => sum + published.bytes.length, 0);
    // Two snapshots' worth (the deltas since the newest snapshot weigh less than one), and the
    // rest of the page the snapshot ended in.
    expect(bytes).toBeLessThanOrEqual(2 * snapshotBytes + 100 * 400);
    expect(bytes).toBeLessThan(all / 2);
    expect(read).toBeLessThan(topic.length / 2);
    // The roster the newcomer needs, verified; the deltas between were applied in passing.
    expect(toHex(rosterHash(provider, book.get(target)?.roster ?? []))).toBe(
      toHex(last.rosterHash),
    );
    expect([...book.keys()].length).toBeLessThanOrEqual(3);
    // What waits is older than the snapshot (read in the same page): it never blocks anything.
    expect(book.highestEpoch("")).toBe(last.epoch);
  });

  it("the waiting deltas are bounded by count and by bytes, the oldest dropped", () => {
    const random = seededRandom(5);
    const delta = (index: number, leaves: number): WireEpochRoster =>
      ({
        version: 1,
        channelId: "",
        epoch: BigInt(index + 1),
        keyId: random(8),
        previousKeyId: random(8),
        rosterHash: random(32),
        previousRosterHash: random(32),
        change: 2,
        body: {
          case: "delta",
          value: {
            removedLeaves: [],
            leafCount: leaves,
            leaves: Array.from({ length: leaves }, (_, i) => ({
              index: i,
              identityKey: new Uint8Array(32),
              signingKey: new Uint8Array(32),
              prekey: new Uint8Array(32),
            })),
          },
        },
      }) as unknown as WireEpochRoster;
    const byCount = new RosterBook(provider);
    const first = delta(0, 1);
    byCount.receive(first, "first");
    for (let i = 1; i <= rosterBookLimits.maxWaitingDeltas; i++)
      byCount.receive(delta(i, 1), `d${i}`);
    expect(byCount.waiting.deltas).toBe(rosterBookLimits.maxWaitingDeltas);
    expect(byCount.named(toHex(first.keyId))).toBeUndefined();
    expect(byCount.highestEpoch("")).toBe(BigInt(rosterBookLimits.maxWaitingDeltas + 1));

    const byBytes = new RosterBook(provider);
    for (let i = 0; i < 60; i++) byBytes.receive(delta(i, 1_000), `b${i}`);
    expect(byBytes.waitingBytes).toBeLessThanOrEqual(rosterBookLimits.maxWaitingDeltaBytes);
    expect(byBytes.waiting.deltas).toBe(
      Math.floor(rosterBookLimits.maxWaitingDeltaBytes / (128 + 96_000)),
    );
  });
});
