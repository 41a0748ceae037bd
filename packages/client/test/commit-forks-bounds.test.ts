/**
 * The bounds of the commit references a member keeps for forks (`commitForkLimits`): every roster
 * envelope from the network adds one, so they are bounded (the newest epochs), and a dropped one
 * is deleted from the store in the same unit of work. Also what a losing delegate re-commits
 * (`recommitPlan`), and the departures a delegate keeps (bounded, read back after a restart). `note` and `recommitPlan` use nothing of the client but the organization
 * given, so they run here on a plain organization record.
 */

import { toHex } from "@orgchat/base";
import type { MemberGroup } from "@orgchat/crypto";
import { memoryStore } from "@orgchat/store";
import { describe, expect, it } from "vitest";
import { CommitForks, commitForkLimits, recommitPlan } from "../src/commit-forks.js";
import type { ClientCore } from "../src/core.js";
import { decodeJson, encodeJson } from "../src/encoding.js";
import type { EpochRoster } from "../src/epoch-roster.js";
import { type MemberOrg, newTxn, type Txn } from "../src/org.js";

const orgHex = "ab".repeat(32);
const keyId = (n: number) =>
  new Uint8Array(8).fill(0).map((_, i) => (i === 7 ? n % 256 : i === 6 ? n >> 8 : 0));

/** An organization record with only what `note` and `recommitPlan` read: id, members, rosters. */
function plainOrg(
  members: ReadonlyMap<string, unknown> = new Map(),
  rosters: ReadonlyMap<string, unknown> = new Map(),
): MemberOrg {
  return { hex: orgHex, log: { state: { members } }, rosters } as unknown as MemberOrg;
}

function txn(): Txn {
  return { ops: [] } as unknown as Txn;
}

describe("commit references (fork-ref records)", () => {
  it(`keeps at most ${commitForkLimits.maxRefs}, the newest epochs; the dropped are deleted`, () => {
    // The core is not used by `note` (nor by `refs`): nothing of a client runs here.
    const forks = new CommitForks({} as ClientCore, {
      entered: () => undefined,
      followRosters: () => undefined,
      retryNamed: () => undefined,
      applyWaiting: () => undefined,
    });
    const org = plainOrg();
    const work = txn();
    const signer = new Uint8Array(32).fill(1);
    const total = commitForkLimits.maxRefs + 44;
    for (let n = 1; n <= total; n++) {
      const place = {
        keyId: keyId(n),
        previousKeyId: keyId(n - 1),
        epoch: BigInt(n),
        channelId: "",
      };
      forks.note(org, work, place, signer, BigInt(n));
    }
    const refs = forks.refs(org);
    expect(refs.size).toBe(commitForkLimits.maxRefs);
    const epochs = [...refs.values()].map((ref) => ref.epoch);
    expect([...epochs].sort((a, b) => (a < b ? -1 : 1))[0]).toBe(
      BigInt(total - commitForkLimits.maxRefs + 1),
    );
    const deletes = work.ops.filter((op) => op.type === "delete");
    expect(deletes).toHaveLength(44);
    // A genesis (no parent) has no sibling: not kept.
    forks.note(
      org,
      work,
      { keyId: keyId(999), previousKeyId: new Uint8Array(0), epoch: 0n, channelId: "" },
      signer,
      1n,
    );
    expect(refs.size).toBe(commitForkLimits.maxRefs);
  });
});

describe("departures a delegate decided", () => {
  const id = (n: number) => n.toString(16).padStart(64, "0");
  const identityKey = (hex: string) => Uint8Array.from(Buffer.from(hex, "hex"));
  /** Fork handling whose background tasks (the removals committed again) are only collected. */
  const delegateForks = () => {
    const background: Array<() => Promise<void>> = [];
    const core = {
      runtime: { background: (_: string, task: () => Promise<void>) => background.push(task) },
    };
    const forks = new CommitForks(core as unknown as ClientCore, {
      entered: () => undefined,
      followRosters: () => undefined,
      retryNamed: () => undefined,
      applyWaiting: () => undefined,
    });
    return { forks, background };
  };

  it(`keeps at most ${commitForkLimits.maxDepartures}, the newest; commits again those an epoch holds`, () => {
    const { forks, background } = delegateForks();
    const total = commitForkLimits.maxDepartures + 10;
    const back = id(total + 1);
    // `back` is listed again, and accepted again (its request decided at 6, after the departures).
    const accepted = { requester: back, status: "accepted", decidedAt: 6n };
    const org = {
      hex: orgHex,
      log: {
        state: {
          clock: 5n,
          members: new Map([[back, {}]]),
          requests: new Map([["r", accepted]]),
          invitations: new Map(),
        },
      },
      member: { delegate: {}, groups: new Map() },
    } as unknown as MemberOrg;
    const txn = newTxn({ log: { state: {} } } as unknown as MemberOrg);
    for (let n = 1; n <= total; n++) forks.noteDeparture(org, txn, id(n));
    forks.noteDeparture(org, txn, back);
    const kept = [...forks.departures(org).keys()];
    expect(kept).toHaveLength(commitForkLimits.maxDepartures);
    expect(kept[0]).toBe(id(12));
    // The record written holds what is kept, no more, each with the state's clock then.
    const written = txn.ops.at(-1);
    expect(written?.type === "put" && decodeJson<unknown>(written.value)).toEqual(
      kept.map((member) => [member, 5n]),
    );
    // An epoch whose roster holds the oldest kept and the one the state lists again.
    org.member.groups.set("", {
      status: "member",
      roster: [{ identityKey: identityKey(id(12)) }, undefined, { identityKey: identityKey(back) }],
    } as unknown as MemberGroup);
    forks.reconcileDepartures(org, txn);
    expect(background).toHaveLength(1);
    // Committed, and kept: an add step decided before may bring it back once more.
    expect(forks.departures(org).has(id(12))).toBe(true);
    expect(forks.departures(org).has(back)).toBe(false);
    expect(forks.departures(org).size).toBe(commitForkLimits.maxDepartures - 1);
  });

  it("are read back after a restart, bounded, junk skipped", async () => {
    const store = memoryStore();
    const core = { p: { store }, runtime: { background: () => undefined } };
    const steps = {
      entered: () => undefined,
      followRosters: () => undefined,
      retryNamed: () => undefined,
      applyWaiting: () => undefined,
    };
    const org = { hex: orgHex, log: { state: { clock: 9n } } } as unknown as MemberOrg;
    const before = new CommitForks(core as unknown as ClientCore, steps);
    const txn = newTxn({ log: { state: {} } } as unknown as MemberOrg);
    for (let n = 1; n <= 3; n++) before.noteDeparture(org, txn, id(n));
    await store.batch(txn.ops);
    // A restart: a new client reads the record back, then notes one more (the newest).
    const after = new CommitForks(core as unknown as ClientCore, steps);
    after.noteDeparture(org, undefined, id(2));
    await after.load(org);
    expect([...after.departures(org)]).toEqual([
      [id(1), 9n],
      [id(3), 9n],
      [id(2), 9n],
    ]);
    // A forged record: too many, and junk among them.
    const many = Array.from({ length: commitForkLimits.maxDepartures + 5 }, (_, n) => id(n + 100));
    await store.batch([
      {
        type: "put",
        space: `org/${orgHex}`,
        key: "fork-departures",
        value: encodeJson(["junk", 7, ...many]),
      },
    ]);
    const forged = new CommitForks(core as unknown as ClientCore, steps);
    await forged.load(org);
    expect([...forged.departures(org).keys()]).toEqual(many.slice(-commitForkLimits.maxDepartures));
    // A record of the session-15 form (bare ids) reads with the state's clock at the read; pairs
    // keep their own; malformed pairs (a negative clock, a short id, a number) are skipped.
    await store.batch([
      {
        type: "put",
        space: `org/${orgHex}`,
        key: "fork-departures",
        value: encodeJson([id(1), [id(2), 3n], [id(3), -1n], ["ab", 4n], [id(4), 4], [id(5)]]),
      },
    ]);
    const mixed = new CommitForks(core as unknown as ClientCore, steps);
    await mixed.load(org);
    expect([...mixed.departures(org)]).toEqual([
      [id(1), 9n],
      [id(2), 3n],
    ]);
  });

  it("a member listed again is kept until an acceptance after the departure (owner seed 2, script 6)", () => {
    const { forks, background } = delegateForks();
    const n1 = id(1);
    // The removal is the state's event at clock 24; n1 joined at 20 (its request accepted then).
    const state = {
      clock: 24n,
      members: new Map(),
      requests: new Map([["first", { requester: n1, status: "accepted", decidedAt: 20n }]]),
      invitations: new Map(),
    };
    const org = {
      hex: orgHex,
      log: { state },
      member: { delegate: {}, groups: new Map() },
    } as unknown as MemberOrg;
    const txn = newTxn({ log: { state: {} } } as unknown as MemberOrg);
    forks.noteDeparture(org, txn, n1);
    expect(forks.departures(org).get(n1)).toBe(24n);
    org.member.groups.set("", {
      status: "member",
      roster: [{ identityKey: identityKey(n1) }],
    } as unknown as MemberGroup);
    // The owner's description at clock 25, made before it read the removal, lists n1 (its
    // `joinedAt` reads 25): kept, and nothing committed while the state lists it.
    state.clock = 25n;
    state.members = new Map([[n1, { id: n1, joinedAt: 25n }]]);
    forks.reconcileDepartures(org, txn);
    expect(forks.departures(org).get(n1)).toBe(24n);
    expect(background).toHaveLength(0);
    // The owner's next description drops n1 again: an epoch holding it gets a removal.
    state.members = new Map();
    forks.reconcileDepartures(org, txn);
    expect(background).toHaveLength(1);
    expect(forks.departures(org).has(n1)).toBe(true);
    // Accepted again before the departure (an invitation used at 24, read late): still kept.
    state.members = new Map([[n1, { id: n1, joinedAt: 24n }]]);
    state.invitations = new Map([["i", { invitee: n1, used: true, usedAt: 24n }]]);
    forks.reconcileDepartures(org, txn);
    expect(forks.departures(org).has(n1)).toBe(true);
    // Accepted again after it (an invitation used at 26): forgotten, and the record says so.
    state.invitations = new Map([["i", { invitee: n1, used: true, usedAt: 26n }]]);
    forks.reconcileDepartures(org, txn);
    expect(forks.departures(org).has(n1)).toBe(false);
    const written = txn.ops.at(-1);
    expect(written?.type === "put" && decodeJson<unknown>(written.value)).toEqual([]);
    // Removed again at 28: a request accepted after that forgets it too; a rejected one does not.
    state.clock = 28n;
    forks.noteDeparture(org, txn, n1);
    expect(forks.departures(org).get(n1)).toBe(28n);
    state.requests = new Map([["again", { requester: n1, status: "rejected", decidedAt: 30n }]]);
    forks.reconcileDepartures(org, txn);
    expect(forks.departures(org).has(n1)).toBe(true);
    state.requests = new Map([["again", { requester: n1, status: "accepted", decidedAt: 30n }]]);
    forks.reconcileDepartures(org, txn);
    expect(forks.departures(org).has(n1)).toBe(false);
  });
});

describe("what a losing delegate re-commits", () => {
  const leaf = (id: string) => ({
    identityKey: Uint8Array.from(Buffer.from(id, "hex")),
    signingKey: new Uint8Array(32),
    prekey: new Uint8Array(32),
  });
  const roster = (ids: readonly string[]): EpochRoster =>
    ({ roster: ids.map(leaf), keyId: keyId(1), previousKeyId: keyId(0) }) as unknown as EpochRoster;
  const [alice, bob, carol, dave] = ["01", "02", "03", "04"].map((b) => b.repeat(32)) as [
    string,
    string,
    string,
    string,
  ];

  it("joiners its lost roster held that the state lists; departures the active roster holds that the state does not", () => {
    // The state lists alice and bob (bob admitted by the lost commit); carol departed.
    const org = plainOrg(
      new Map([
        [alice, {}],
        [bob, {}],
      ]),
    );
    // The lost commit: alice, bob (joined), carol removed. The winner: alice, carol (no bob).
    const plan = recommitPlan(org, roster([orgHex, alice, carol]), [roster([orgHex, alice, bob])]);
    expect(plan).toEqual({ joiners: [bob], departures: [carol] });
    // Nothing when the winner already did it all; never the owner.
    const none = recommitPlan(org, roster([orgHex, alice, bob]), [
      roster([orgHex, alice, bob, dave]),
    ]);
    expect(none).toEqual({ joiners: [], departures: [] });
    // The winner added someone the lost commit did not know (the state lists it): not a departure.
    const withDave = plainOrg(new Map([alice, bob, dave].map((id) => [id, {}])));
    const added = recommitPlan(withDave, roster([orgHex, alice, bob, dave]), [
      roster([orgHex, alice, bob]),
    ]);
    expect(added).toEqual({ joiners: [], departures: [] });
  });

  it("departures only among the lost commit's parent: not a joiner the winning branch added since", () => {
    // The winning branch added dave after the fork point; his acceptance has not reached this
    // delegate yet (the state does not list him). Carol was in the parent and departed.
    const parent = roster([orgHex, alice, carol]);
    const org = plainOrg(new Map([[alice, {}]]), new Map([[toHex(keyId(0)), parent]]));
    const plan = recommitPlan(org, roster([orgHex, alice, carol, dave]), [roster([orgHex, alice])]);
    expect(plan).toEqual({ joiners: [], departures: [carol] });
    // The parent's roster not here: every member the active roster holds and the state does not.
    const unknown = plainOrg(new Map([[alice, {}]]));
    const all = recommitPlan(unknown, roster([orgHex, alice, carol, dave]), [
      roster([orgHex, alice]),
    ]);
    expect(all.departures.sort()).toEqual([carol, dave].sort());
  });
});
