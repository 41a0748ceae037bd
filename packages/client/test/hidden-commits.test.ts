/**
 * A commit hidden by a partition, older than the sweep's overlap (`hidden-commits.ts`): a member
 * that placed a commit (its reference, from a roster that opened, and its KeyUpdate roster here),
 * needs it (it wins at its parent, or follows the member's epoch) and holds no chunk of it reads
 * the keys topic back to the roster's time, once per commit, after a wait and a back-off; when that
 * brings no chunk (a copy of the roster published later than the commit), newest first until the
 * chunk is held (owner seed 1, script 26). Runs on
 * `CommitForks` with a plain organization record, virtual timers, and a `sync` that records the
 * reads asked of history (what the transport would be asked: the topic and the time read from).
 */
import { toHex } from "@orgchat/base";
import type { MemberGroup } from "@orgchat/crypto";
import { keysTopic } from "@orgchat/wire";
import { describe, expect, it } from "vitest";
import { CommitForks } from "../src/commit-forks.js";
import type { ClientCore } from "../src/core.js";
import type { EpochRoster } from "../src/epoch-roster.js";
import { hiddenCommitLimits } from "../src/hidden-commits.js";
import { type MemberOrg, newTxn } from "../src/org.js";
import { sweepOverlapMs } from "../src/sync.js";

const orgId = new Uint8Array(32).fill(0xab);
const admin = new Uint8Array(32).fill(0x02);
const keyId = (n: number) => Uint8Array.from([0, 0, 0, 0, 0, 0, n >> 8, n & 0xff]);
const hex = (n: number) => toHex(keyId(n));
const initialBackoffMs = 5_000;
/** Where commit `n` hangs: on epoch `parent`'s key id, epoch 2, the organization's group. */
const place = (n: number, parent: number) => ({
  keyId: keyId(n),
  previousKeyId: keyId(parent),
  epoch: 2n,
  channelId: "",
});

/** A client core with only what fork handling and the hidden-commit reads use. */
function world() {
  let now = 1_000_000;
  const timers: Array<{ at: number; task: () => void }> = [];
  const background: Array<Promise<void>> = [];
  const reads: Array<{ topic: string; from: number | undefined }> = [];
  /** Newest-first reads: the topic and how many pages they took (`onPage` may bring a chunk). */
  const newest: Array<{ topic: string; pages: number }> = [];
  const pages: { onPage?: (page: number) => void; onForward?: () => void } = {};
  const core = {
    now: () => now,
    p: {
      now: () => now,
      config: { resyncInitialBackoffMs: initialBackoffMs, resyncMaxBackoffMs: 600_000 },
      timers: {
        setTimeout: (task: () => void, delay: number) => timers.push({ at: now + delay, task }),
        clearTimeout: () => undefined,
      },
    },
    runtime: {
      closed: false,
      background: (_: string, task: () => Promise<void>) => background.push(task()),
    },
    sync: {
      backfill: async (_org: unknown, topics: readonly string[], from?: number) => {
        for (const topic of topics) reads.push({ topic, from });
        pages.onForward?.();
        return { fresh: 0, complete: true };
      },
      // History of 10 pages, read newest first until `enough` after a page.
      readNewestFirst: async (_org: unknown, topic: string, enough: () => boolean) => {
        let page = 0;
        while (page < 10) {
          page++;
          pages.onPage?.(page);
          if (enough()) break;
        }
        newest.push({ topic, pages: page });
        return { fresh: 0, ended: page === 10, oldest: undefined };
      },
    },
  };
  const forks = new CommitForks(core as unknown as ClientCore, {
    entered: () => undefined,
    followRosters: () => undefined,
    retryNamed: () => undefined,
    applyWaiting: () => undefined,
  });
  /** Virtual time passes: the timers due run, then what they started in the background. */
  const advance = async (ms: number) => {
    now += ms;
    for (const timer of timers.filter((t) => t.at <= now)) {
      timers.splice(timers.indexOf(timer), 1);
      timer.task();
    }
    await Promise.all(background.splice(0));
  };
  return { forks, reads, newest, pages, advance, now: () => now };
}

/**
 * The member is on epoch 2 (an admin's KeyUpdate on epoch 1). `rosters` holds the KeyUpdate rosters
 * given; `waitingChunks` the chunks kept for a roster.
 */
function memberOrg() {
  const rosters = new Map<string, EpochRoster>();
  const group = {
    status: "member",
    keyId: keyId(2),
    epoch: 2n,
    keepsParent: () => false,
  } as unknown as MemberGroup;
  const org = {
    hex: toHex(orgId),
    id: orgId,
    rosters,
    member: { groups: new Map([["", group]]), waitingChunks: new Map() },
    log: { state: { clock: 1n } },
  } as unknown as MemberOrg;
  // Epoch 1 (the parent of ours) is known: its roster is here.
  rosters.set(hex(1), { change: "genesis", channelId: "", keyId: keyId(1) } as never);
  const rekey = (n: number, parent: number) =>
    rosters.set(hex(n), {
      change: "rekey",
      channelId: "",
      keyId: keyId(n),
      previousKeyId: keyId(parent),
      epoch: 2n,
    } as unknown as EpochRoster);
  return { org, rekey };
}

describe("a commit hidden by a partition is read back from history", () => {
  it("the owner's winning sibling, placed without a chunk: one read back to its roster's time", async () => {
    const { forks, reads, newest, advance, now } = world();
    const { org, rekey } = memberOrg();
    const txn = newTxn(org);
    // Our epoch 2: the admin's KeyUpdate on epoch 1. The owner's KeyUpdate on epoch 1 (key 3),
    // made behind a partition 10 minutes ago, wins there; its roster came from history.
    forks.note(org, txn, place(2, 1), admin, 10n);
    forks.note(org, txn, place(3, 1), orgId, 12n);
    rekey(3, 1);
    const stamped = now() - 600_000;
    forks.hidden.noteTime(org, hex(3), stamped);
    forks.retry(org, txn, hex(3));
    // Not at once: a chunk on its way comes first.
    await advance(initialBackoffMs - 1);
    expect(reads).toEqual([]);
    await advance(1);
    expect(reads).toEqual([{ topic: keysTopic(orgId), from: stamped - sweepOverlapMs }]);
    expect(forks.hidden.asked(org)).toBe(1);
    // That read brought no chunk (its roster was a copy published later than the commit): the
    // topic is read newest first, all of it here (no chunk anywhere in this history).
    expect(newest).toEqual([{ topic: keysTopic(orgId), pages: 10 }]);
    // Once per commit: its roster learned again, time passing, no second read.
    forks.retry(org, txn, hex(3));
    await advance(3_600_000);
    expect(reads).toHaveLength(1);
    expect(newest).toHaveLength(1);
  });

  it("a roster that came later than its commit: newest first until the chunk is held", async () => {
    const { forks, reads, newest, pages, advance, now } = world();
    const { org, rekey } = memberOrg();
    const txn = newTxn(org);
    forks.note(org, txn, place(2, 1), admin, 10n);
    forks.note(org, txn, place(3, 1), orgId, 12n);
    rekey(3, 1);
    forks.hidden.noteTime(org, hex(3), now() - 600_000);
    // The chunk is 3 pages back from the newest message.
    pages.onPage = (page) => {
      if (page === 3) org.member.waitingChunks.set(hex(3), [{ id: "c", chunk: {} }] as never);
    };
    forks.retry(org, txn, hex(3));
    await advance(initialBackoffMs);
    expect(reads).toHaveLength(1);
    expect(newest).toEqual([{ topic: keysTopic(orgId), pages: 3 }]);
    // One the read back to its roster's time brings: no newest-first read.
    forks.note(org, txn, place(4, 2), orgId, 14n);
    rekey(4, 2);
    forks.hidden.noteTime(org, hex(4), now());
    pages.onForward = () => org.member.waitingChunks.set(hex(4), [{ id: "d", chunk: {} }] as never);
    forks.retry(org, txn, hex(4));
    await advance(3_600_000);
    expect(reads).toHaveLength(2);
    expect(newest).toHaveLength(1);
  });

  it("no read for a commit not placed, not needed, or whose chunk is here", async () => {
    const { forks, reads, advance } = world();
    const { org, rekey } = memberOrg();
    const txn = newTxn(org);
    forks.note(org, txn, place(2, 1), admin, 10n);
    // A roster with no reference (a forged or unsigned envelope opens nothing, notes nothing).
    rekey(4, 1);
    forks.hidden.noteTime(org, hex(4), 1);
    forks.retry(org, txn, hex(4));
    // A reference with no roster.
    forks.note(org, txn, place(5, 1), orgId, 12n);
    forks.hidden.noteTime(org, hex(5), 1);
    forks.retry(org, txn, hex(5));
    // A sibling that loses at its parent (another admin's, a higher clock): not needed.
    forks.note(org, txn, place(6, 1), new Uint8Array(32).fill(0x07), 30n);
    rekey(6, 1);
    forks.hidden.noteTime(org, hex(6), 1);
    forks.retry(org, txn, hex(6));
    // A winning one whose chunk waits here (kept for its roster, or for the switch).
    forks.note(org, txn, place(7, 1), orgId, 13n);
    rekey(7, 1);
    forks.hidden.noteTime(org, hex(7), 1);
    org.member.waitingChunks.set(hex(7), [{ id: "c", chunk: {} }] as never);
    forks.retry(org, txn, hex(7));
    // A winning one whose chunk comes during the wait: judged again at the read, nothing read.
    forks.note(org, txn, place(8, 2), orgId, 14n);
    rekey(8, 2);
    forks.hidden.noteTime(org, hex(8), 1);
    forks.retry(org, txn, hex(8));
    org.member.waitingChunks.set(hex(8), [{ id: "d", chunk: {} }] as never);
    await advance(3_600_000);
    expect(reads).toEqual([]);
    expect(forks.hidden.asked(org)).toBe(0);
  });

  it("a commit on a parent known nowhere (its commit hidden too): one read from the start", async () => {
    const { forks, reads, advance } = world();
    const { org } = memberOrg();
    const txn = newTxn(org);
    forks.note(org, txn, place(2, 1), admin, 10n);
    // The owner's epoch 10 (key 9) on its epoch 9 (key 8), which nothing here names: only the
    // later roster came. Noted from an envelope that opened: the whole keys topic is read, once.
    forks.note(org, txn, place(9, 8), orgId, 28n);
    forks.hidden.noteTime(org, hex(9), 1_700_000_000_000);
    forks.hidden.want(org, hex(9));
    await advance(initialBackoffMs);
    expect(reads).toEqual([{ topic: keysTopic(orgId), from: 0 }]);
    forks.hidden.want(org, hex(9));
    await advance(3_600_000);
    expect(reads).toHaveLength(1);
    // Its parent learned meanwhile: nothing to read for the next one on it.
    forks.note(org, txn, place(8, 2), orgId, 27n);
    forks.note(org, txn, place(10, 8), orgId, 29n);
    forks.hidden.noteTime(org, hex(10), 1);
    forks.hidden.want(org, hex(10));
    await advance(3_600_000);
    expect(reads).toHaveLength(1);
  });

  it("N commits cause at most N reads; those due in one back-off step share one", async () => {
    const { forks, reads, advance, now } = world();
    const { org, rekey } = memberOrg();
    const txn = newTxn(org);
    let n = 100;
    /** A commit on our epoch (it follows it) whose roster came `ago` ms ago, its chunk hidden. */
    const hidden = (ago: number) => {
      n++;
      forks.note(
        org,
        txn,
        { keyId: keyId(n), previousKeyId: keyId(2), epoch: 3n, channelId: "" },
        orgId,
        BigInt(n),
      );
      rekey(n, 2);
      forks.hidden.noteTime(org, hex(n), now() - ago);
      forks.retry(org, txn, hex(n));
    };
    // Three at once: one read, back to the oldest.
    hidden(1_000);
    hidden(90_000);
    hidden(5_000);
    await advance(initialBackoffMs);
    expect(reads).toEqual([{ topic: keysTopic(orgId), from: now() - 95_000 - sweepOverlapMs }]);
    // One more: its read after the wait (the back-off's first step, 5 s, has passed by then).
    hidden(0);
    await advance(initialBackoffMs);
    expect(reads).toHaveLength(2);
    // One more again: the back-off is 10 s now, so its read waits past the 5 s wait.
    hidden(0);
    await advance(initialBackoffMs);
    expect(reads).toHaveLength(2);
    await advance(initialBackoffMs);
    expect(reads).toHaveLength(3);
    // A flood of commits over 20 minutes: never more reads than commits; each read for once.
    for (let i = 0; i < 40; i++) {
      hidden(i * 1_000);
      await advance(30_000);
    }
    await advance(3_600_000);
    expect(forks.hidden.asked(org)).toBe(45);
    expect(reads.length).toBeLessThan(45); // the back-off (doubling to 10 min) merged some
    // Commits waiting for the timer are bounded too: the oldest go first.
    const before = reads.length;
    for (let i = 0; i < hiddenCommitLimits.maxDue + 10; i++) hidden(0);
    await advance(3_600_000);
    expect(reads.length - before).toBe(1);
    expect(forks.hidden.asked(org)).toBe(45 + hiddenCommitLimits.maxDue);
  });
});
