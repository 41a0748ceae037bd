import type { RosterLeaf } from "@orgchat/crypto";
import { describe, expect, it } from "vitest";
import type { EpochRoster } from "../src/epoch-roster.js";
import {
  chunkDecision,
  groupsBehind,
  mayBeOurs,
  nextAddStep,
  resyncStep,
} from "../src/member-controller.js";

const bytes = (byte: number) => new Uint8Array(32).fill(byte);
const me = bytes(7);
const mySigningKey = bytes(8);
const leaf = (identity: Uint8Array, signing = bytes(0)): RosterLeaf => ({
  identityKey: identity,
  signingKey: signing,
  prekey: bytes(0),
});

function roster(
  init: Partial<Omit<EpochRoster, "keyId">> & { epoch: bigint; keyId: number },
): EpochRoster {
  return {
    change: "add",
    channelId: "",
    previousKeyId: bytes(0),
    rosterHash: bytes(0),
    previousRosterHash: bytes(0),
    roster: [],
    ...init,
    keyId: bytes(init.keyId),
  };
}

describe("member controller (pure: what it knows in, decisions out)", () => {
  it("the add step that follows a group is the next epoch's, chained to the group's key id", () => {
    const group = { epoch: 3n, keyId: bytes(3), status: "member" as const };
    const next = roster({ epoch: 4n, keyId: 4, previousKeyId: bytes(3) });
    const rosters = [
      roster({ epoch: 4n, keyId: 40, previousKeyId: bytes(99) }), // another chain
      roster({ epoch: 4n, keyId: 41, previousKeyId: bytes(3), change: "rekey" }),
      roster({ epoch: 4n, keyId: 42, previousKeyId: bytes(3), channelId: "board" }),
      roster({ epoch: 5n, keyId: 5, previousKeyId: bytes(4) }),
      next,
    ];
    expect(nextAddStep(rosters, "", group)).toBe(next);
    expect(nextAddStep(rosters, "", { ...group, epoch: 9n })).toBeUndefined();
  });

  it("a chunk waits for its group and roster, looks for skipped add steps once, then applies", () => {
    const group = { epoch: 3n, keyId: bytes(3), status: "member" as const };
    const base = { group, rosterKnown: true, chunkEpoch: 4n, gapChecked: undefined };
    expect(chunkDecision({ ...base, group: undefined })).toEqual({ action: "wait" });
    expect(chunkDecision({ ...base, rosterKnown: false })).toEqual({ action: "wait" });
    expect(chunkDecision(base)).toEqual({ action: "apply" });
    expect(chunkDecision({ ...base, chunkEpoch: 6n })).toEqual({
      action: "check-gap",
      search: true,
    });
    expect(chunkDecision({ ...base, chunkEpoch: 6n, gapChecked: false })).toEqual({
      action: "check-gap",
      search: false,
    });
    expect(chunkDecision({ ...base, chunkEpoch: 6n, gapChecked: true })).toEqual({
      action: "apply",
    });
    // A removed member bridges nothing: it applies (and learns it is out, or finds its leaf).
    expect(
      chunkDecision({ ...base, chunkEpoch: 6n, group: { ...group, status: "removed" } }),
    ).toEqual({ action: "apply" });
  });

  it("an epoch may be ours while its roster is unknown, or when it lists us", () => {
    expect(mayBeOurs(undefined, me)).toBe(true);
    expect(mayBeOurs([leaf(bytes(1)), undefined, leaf(me)], me)).toBe(true);
    expect(mayBeOurs([leaf(bytes(1))], me)).toBe(false);
  });

  it("mayBeOurs: answers per identity and roster, the same on every call (remembered, not rescanned)", () => {
    const other = bytes(9);
    const shared = [leaf(bytes(1)), leaf(me)];
    for (let i = 0; i < 3; i++) {
      expect(mayBeOurs(shared, me)).toBe(true);
      expect(mayBeOurs(shared, other)).toBe(false);
    }
    // A roster for the next epoch is a new array with its own answer.
    const next = [leaf(bytes(1)), undefined];
    expect(mayBeOurs(next, me)).toBe(false);
    expect(mayBeOurs(shared, me)).toBe(true);
  });

  it("behind: a newer roster lists us (same signing key) while our group is older or missing", () => {
    const listed = [leaf(bytes(1)), leaf(me, mySigningKey)];
    const rosters = [
      roster({ epoch: 2n, keyId: 2, roster: listed }),
      roster({ epoch: 5n, keyId: 5, roster: listed }),
      roster({ epoch: 9n, keyId: 9, channelId: "board", roster: listed }),
      roster({ epoch: 9n, keyId: 19, channelId: "old-key", roster: [leaf(me, bytes(1))] }),
      roster({ epoch: 3n, keyId: 3, channelId: "waiting", roster: listed }),
    ];
    const behind = groupsBehind({
      rosters,
      groups: new Map([
        ["", { epoch: 4n }],
        ["board", { epoch: 9n }],
      ]),
      waitingWelcomes: new Set(["03".repeat(32)]),
      identityKey: me,
      signingKey: mySigningKey,
    });
    expect([...behind]).toEqual([""]);
  });

  it("resync back-off: ask, then wait it out; the delay doubles (jittered) up to the maximum", () => {
    const config = { initialBackoffMs: 5_000, maxBackoffMs: 12_000 };
    let draws = 0;
    const jitterByte = () => {
      draws++;
      return 255;
    };
    const first = resyncStep({ ...config, backoff: undefined, now: 100, jitterByte });
    expect(first).toEqual({
      action: "ask",
      retryIn: 6_250,
      backoff: { delay: 10_000, nextAt: 6_350 },
    });
    if (first.action !== "ask") throw new Error("unreachable");
    const early = resyncStep({ ...config, backoff: first.backoff, now: 6_000, jitterByte });
    expect(early).toEqual({ action: "wait", retryIn: 350 });
    // No random byte is drawn while waiting (the RNG sequence of a client is part of its replay).
    expect(draws).toBe(1);
    const second = resyncStep({
      ...config,
      backoff: first.backoff,
      now: 6_350,
      jitterByte: () => 0,
    });
    expect(second).toEqual({
      action: "ask",
      retryIn: 10_000,
      backoff: { delay: 12_000, nextAt: 16_350 },
    });
  });
});
