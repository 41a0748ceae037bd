/**
 * The scale bench's CI profile (bench/scale.ts `--quick`), run in-process: it checks the shape of
 * the result — every figure present and finite, every member admitted and re-keyed — never a
 * speed. Plus the bounds of what the lean members buffer from the network (src/scale/rosters.ts).
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serialize } from "node:v8";
import { defaultProvider, type Roster, rosterHash } from "@orgchat/crypto";
import {
  decodeEpochRoster,
  type EpochRoster,
  encodeEpochRoster,
  RosterChangeKind,
} from "@orgchat/wire";
import { describe, expect, it } from "vitest";
import {
  measureOwnerAloneFile,
  ownerAloneWarmRounds,
  readOwnerDump,
} from "../src/scale/owner-alone.js";
import { measureRemovalAlone } from "../src/scale/removal-alone.js";
import { keptRosterEpochs, maxWaitingAnnouncements, SharedRosters } from "../src/scale/rosters.js";
import { quickProfile, runScale } from "../src/scale/scenario.js";

/** Every number under `value` (path → number), bigints as numbers. */
function numbers(value: unknown, path = "", out = new Map<string, number>()): Map<string, number> {
  if (typeof value === "number") out.set(path, value);
  else if (typeof value === "bigint") out.set(path, Number(value));
  else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) numbers(item, `${path}[${i}]`, out);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) numbers(item, `${path}.${key}`, out);
  }
  return out;
}

describe("scale bench, quick profile", () => {
  it("takes every figure at every size, all finite; keeps the owner dumps", {
    timeout: 600_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "orgchat-scale-test-"));
    try {
      await everyFigure(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  async function everyFigure(dir: string): Promise<void> {
    const dumpOwner = join(dir, "owner-{size}.dump");
    const result = await runScale({ ...quickProfile, safetyMs: 300_000, dumpOwner });
    expect(result.sizes.map((f) => f.members)).toEqual([...quickProfile.sizes]);
    expect(result.unopenable).toBe(0);
    for (const f of result.sizes) {
      expect(f.growth.rejected).toBe(0);
      expect(f.growth.admissions).toBeGreaterThan(0);
      expect(f.burst.rejected).toBe(0);
      expect(f.burst.epochs).toBeGreaterThanOrEqual(1);
      // The goal's span starts at the first request sent, inside the span from before they were built.
      expect(f.burst.allHoldKeysMs).toBeGreaterThan(0);
      expect(f.burst.allHoldKeysMs).toBeLessThanOrEqual(f.burst.allHoldKeysFromStartMs);
      expect(f.burst.membersCpuMs).toBeGreaterThan(0);
      expect(f.burst.membersCpuMs).toBeLessThanOrEqual(f.burst.cpuMs);
      // Stages in order: each request is received before it is accepted, the first Welcome opened
      // no later than the last (the add flush may come before the last accept: a second epoch).
      const stages = f.burst.phases;
      expect(stages.lastRequestSentMs).toBeGreaterThanOrEqual(0);
      expect(stages.ownerReceivedAllMs).toBeGreaterThanOrEqual(stages.lastRequestSentMs);
      expect(stages.ownerReceivedAllMs).toBeLessThanOrEqual(stages.ownerAcceptedAllMs);
      expect(stages.firstWelcomeMs).toBeLessThanOrEqual(f.burst.allHoldKeysMs);
      // Every burst member and the newcomer re-keyed after the removal.
      expect(f.removal.followers).toBe(quickProfile.burst + 1);
      expect(f.removal.memberCpuP50Ms).toBeGreaterThan(0);
      // The removal's split adds up: build then publish is the owner's operation, and the members'
      // apply after it ends when the last follower re-keyed (each figure rounded to 0.1 ms).
      expect(f.removal.ownerBuildMs).toBeGreaterThan(0);
      expect(f.removal.ownerPublishMs).toBeGreaterThanOrEqual(0);
      expect(
        Math.abs(f.removal.ownerBuildMs + f.removal.ownerPublishMs - f.removal.ownerOperationMs),
      ).toBeLessThanOrEqual(0.2);
      expect(
        Math.abs(f.removal.ownerOperationMs + f.removal.membersApplyMs - f.removal.allRekeyedMs),
      ).toBeLessThanOrEqual(0.2);
      expect(f.removal.membersCpuSumMs).toBeGreaterThanOrEqual(f.removal.memberCpuP50Ms);
      // Members alone (a child process): each applied the KeyUpdate, verifying one chunk.
      expect(f.removal.membersAlone).toBeGreaterThan(0);
      expect(f.removal.membersAloneApplied).toBe(f.removal.membersAlone);
      expect(f.removal.memberAloneVerifiedChunks).toBe(1);
      expect(f.removal.memberAloneCpuP50Ms).toBeGreaterThan(0);
      expect(f.owner.storeLiveBytes).toBeGreaterThan(0);
      expect(f.owner.restartMs).toBeGreaterThan(0);
      // The owner restarted alone (a child process on a copy of its store): cold, then warm.
      expect(f.owner.aloneRestartColdMs).toBeGreaterThan(0);
      expect(f.owner.aloneRestartColdCpuMs).toBeGreaterThan(0);
      expect(f.owner.aloneRestartWarmMs).toHaveLength(ownerAloneWarmRounds);
      expect(f.owner.aloneRestartWarmCpuMs).toHaveLength(ownerAloneWarmRounds);
      for (const ms of f.owner.aloneRestartWarmMs) expect(ms).toBeGreaterThan(0);
    }
    const figures = numbers(result);
    // The figures of one size, as the JSON names them: none missing at any size (but the maps by
    // store prefix, whose keys are whatever prefixes were largest or written at that size).
    const byPrefix = /\.(storeLiveTop|ownerStoreBytesWrittenPerAdmissionBy)\./;
    const names = [...figures.keys()]
      .filter((path) => path.startsWith(".sizes[0]") && !byPrefix.test(path))
      .map((path) => path.slice(".sizes[0]".length));
    expect(names.length).toBeGreaterThan(30);
    for (const name of names) expect(figures.has(`.sizes[1]${name}`), name).toBe(true);
    for (const [path, value] of figures) expect(Number.isFinite(value), path).toBe(true);
    expect(result.leanMemberBytes).toBeGreaterThan(0);
    // Each size's owner dump was kept; restarted again from the file, the owner loads it whole.
    for (const f of result.sizes) {
      const file = dumpOwner.replace("{size}", String(f.members));
      expect(readOwnerDump(file).records.length).toBeGreaterThan(0);
      const again = await measureOwnerAloneFile(file, { warmRounds: 1 });
      expect(again.members).toBeGreaterThan(f.members);
      expect(again.epoch).toBeGreaterThan(0n);
      expect(again.warmCpuMs).toHaveLength(1);
      // The removal alone on the same file (bench/removal.ts): one member less per removal, one
      // epoch more, the KeyUpdate published after the commit, the split within the removal's span.
      const removals = await measureRemovalAlone(file, { removals: 2 });
      expect(removals.removals).toHaveLength(2);
      for (const [i, r] of removals.removals.entries()) {
        expect(r.members).toBe(again.members - 1 - i);
        expect(r.epoch).toBe((again.epoch ?? 0n) + 1n + BigInt(i));
        expect(r.envelopes.length).toBeGreaterThan(0);
        expect(r.storeWrites).toBeGreaterThan(0);
        expect(r.untilFirstPublishMs).toBeGreaterThan(r.storeMs);
        expect(r.untilFirstPublishMs + r.publishMs).toBeLessThanOrEqual(r.wallMs + 0.2);
      }
    }
    // A file that is not an owner dump is refused, saying how to write one.
    const other = join(dir, "other.bin");
    writeFileSync(other, serialize({ records: [], logs: [] }));
    expect(() => readOwnerDump(other)).toThrow(/--dump-owner/);
  }
});

const provider = defaultProvider();
const leaf = (seed: number) => ({
  identityKey: new Uint8Array(32).fill(seed),
  signingKey: new Uint8Array(32).fill(seed + 1),
  prekey: new Uint8Array(32).fill(seed + 2),
});
const keyId = (epoch: number) => new Uint8Array(8).fill(epoch + 1);

/** The announcement of epoch `epoch` adding leaf `epoch` to `previous` (a delta). */
function delta(epoch: number, previous: Roster, hash?: Uint8Array): EpochRoster {
  const next = [...previous, leaf(epoch)];
  return decodeEpochRoster(
    encodeEpochRoster({
      version: 1,
      channelId: "",
      epoch: BigInt(epoch),
      keyId: keyId(epoch),
      previousKeyId: keyId(epoch - 1),
      rosterHash: hash ?? rosterHash(provider, next),
      previousRosterHash: rosterHash(provider, previous),
      change: RosterChangeKind.ADD,
      body: {
        case: "delta",
        value: {
          removedLeaves: [],
          leaves: [{ index: previous.length, ...leaf(epoch) }],
          leafCount: next.length,
        },
      },
    }),
  );
}

function genesis(): EpochRoster {
  const roster = [leaf(0)];
  return decodeEpochRoster(
    encodeEpochRoster({
      version: 1,
      channelId: "",
      epoch: 0n,
      keyId: keyId(0),
      previousKeyId: new Uint8Array(0),
      rosterHash: rosterHash(provider, roster),
      previousRosterHash: new Uint8Array(0),
      change: RosterChangeKind.GENESIS,
      body: {
        case: "page",
        value: {
          pageIndex: 0,
          pageCount: 1,
          leafCount: 1,
          firstLeaf: 0,
          leaves: [{ index: 0, ...leaf(0) }],
        },
      },
    }),
  );
}

const rosterOf = (epochs: number): Roster => Array.from({ length: epochs + 1 }, (_, i) => leaf(i));

describe("SharedRosters (what lean members buffer)", () => {
  it("rebuilds a chain of deltas from a snapshot and keeps the newest epochs only", () => {
    const rosters = new SharedRosters(provider);
    rosters.add(genesis());
    const epochs = keptRosterEpochs + 4;
    for (let epoch = 1; epoch <= epochs; epoch++) rosters.add(delta(epoch, rosterOf(epoch - 1)));
    expect(rosters.newest()?.epoch).toBe(BigInt(epochs));
    expect(rosters.newest()?.roster.length).toBe(epochs + 1);
    expect([...rosters.all()].length).toBe(keptRosterEpochs);
    expect(rosters.get(keyId(0))).toBeUndefined();
    expect(rosters.refused).toBe(0);
  });

  it("refuses a roster that does not hash to what its announcement says", () => {
    const rosters = new SharedRosters(provider);
    rosters.add(genesis());
    rosters.add(delta(1, rosterOf(0), new Uint8Array(32)));
    expect(rosters.get(keyId(1))).toBeUndefined();
    expect(rosters.refused).toBe(1);
  });

  it(`holds at most ${maxWaitingAnnouncements} deltas whose previous roster is unknown`, () => {
    const rosters = new SharedRosters(provider);
    // Deltas of epochs 2.. (epoch 1 never comes first): each waits for its previous roster.
    const count = maxWaitingAnnouncements + 10;
    for (let epoch = 2; epoch < 2 + count; epoch++) rosters.add(delta(epoch, rosterOf(epoch - 1)));
    rosters.add(genesis());
    rosters.add(delta(1, rosterOf(0)));
    // The first `maxWaitingAnnouncements` waiting deltas apply in a chain; the others were dropped.
    expect(rosters.newest()?.epoch).toBe(BigInt(1 + maxWaitingAnnouncements));
  });
});
